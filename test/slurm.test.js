// slurm/*.sbatch under a real SLURM (munge + slurmctld + slurmd started by test/helpers/slurm.js):
// a 3-task job matches one rank byte for byte; a job whose time limit ends mid-run requeues itself
// on the warning signal and the requeued run finishes the sweep without recomputing finished nodes;
// HIERIMPUTE_MAX_RESTARTS=0 does not requeue. Skips (with the reason) where SLURM cannot run.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { validateConfig } from '../dist/engine/config.js';
import { prefixNodeCount } from '../dist/engine/sweep.js';
import { countLines } from './helpers/mpirun.js';
import { startSlurm } from './helpers/slurm.js';
import { cacheNodes, makeData, quickConfig, runCli, sequenceFiles, summary, tempDir } from './helpers/sweep.js';

/** Ranks of every job here: rank 0 dispatches, 2 workers. */
const TASKS = 3;
const WORKERS = TASKS - 1;
/** Hang guard for jobs expected to finish on their own: SLURM ends them at this limit (minutes). */
const JOB_TIME_LIMIT_MIN = 3;

// Time-limit jobs. slurmctld tests limits every 30 s and sends --signal=B:USR1@W at the first test
// where now + W + 30 s >= the end, i.e. between T-W-30 and T-W seconds into the run; the time limit
// itself ends the job at the first test past T. The first run stands still (fault injection) so it
// is mid-run whatever the timing; these values only decide how long the test takes.
//  - The requeued job: warned 30..60 s into its first run; its requeued run (a 3-second sweep on
//    this data) has at least 30 s before a warning of its own.
const REQUEUE_TIME_MIN = 2;
const REQUEUE_WARN_S = 60;
//  - The HIERIMPUTE_MAX_RESTARTS=0 job: warned 10..40 s in, ended by the limit 60..90 s in.
const NO_REQUEUE_TIME_MIN = 1;
const NO_REQUEUE_WARN_S = 20;
/** "Hosts" of the many-nodes job: network namespaces, one slurmd each, one task per host. */
const HOSTS = 3;
/** Nodes each worker computes in the first run before it holds its next claim. */
const HOLD_AFTER = 1;

const box = await startSlurm();
const skip = box.skip ?? false;
after(() => box.close?.());

let data;
let single;
/** Prefix-tree nodes of the quick preset over the two generated tables. */
let fullCount;

before(async () => {
  if (skip) return;
  data = makeData();
  single = tempDir('hi-slurm-single-');
  const r = await runCli(['run', '--preset', 'quick', '--data', data, '--out', single, '--progress=false']);
  assert.equal(r.code, 0, r.stderr);
  fullCount = prefixNodeCount(validateConfig(quickConfig(), 'test')) * 2;
  assert.equal(summary(single).groups_computed, fullCount);
});

function read(path) {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function assertSameOutputs(out, what) {
  const a = sequenceFiles(single);
  const b = sequenceFiles(out);
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)), `${k} differs between one rank and ${what}`);
}

/** sbatch argv for `slurm/one-node.sbatch run --preset quick` with command-line overrides. */
function oneNodeArgs(out, jobOutput, overrides) {
  return [
    `--ntasks-per-node=${TASKS}`,
    `--output=${jobOutput}`,
    ...overrides,
    'slurm/one-node.sbatch',
    'run',
    '--preset',
    'quick',
    '--data',
    data,
    '--out',
    out,
    '--progress=false',
  ];
}

test(`sbatch slurm/one-node.sbatch with ${TASKS} tasks (srun --mpi=pmix): completes, tables byte-identical to one rank`, { skip }, async () => {
  const out = tempDir('hi-slurm-one-');
  const jobOut = join(tempDir('hi-slurm-log-'), 'job-%j.out');
  const id = await box.sbatch(oneNodeArgs(out, jobOut, [`--time=${JOB_TIME_LIMIT_MIN}`]));
  const output = () => read(jobOut.replace('%j', id));
  try {
    const end = await box.waitEnd(id, { context: output });
    assert.equal(end.state, 'COMPLETED', `${end.line}\n${output()}`);
    assert.equal(end.exitCode, '0:0');
    assert.equal(end.restarts, 0);
    assert.match(output(), new RegExp(`sweep: .*, ${TASKS} rank\\(s\\)`));
    const s = summary(out);
    assert.equal(s.ranks, TASKS);
    assert.equal(s.groups_computed, fullCount);
    assertSameOutputs(out, `the ${TASKS}-task SLURM job`);
  } finally {
    await box.cancel(id);
  }
});

test(
  'time limit mid-run: the warning signal requeues the job, the requeued run resumes; HIERIMPUTE_MAX_RESTARTS=0 does not requeue',
  { skip },
  async (t) => {
    const logs = tempDir('hi-slurm-log-');
    // Both jobs' first runs (SLURM_RESTART_COUNT unset) stand still after HOLD_AFTER nodes per
    // worker until SLURM stops them; a requeued run computes normally.
    const env = { HIERIMPUTE_FAULT_INJECT: `hold:${HOLD_AFTER}:restart0` };
    const outR = tempDir('hi-slurm-requeue-');
    const jobOutR = join(logs, 'requeue-%j.out');
    const idR = await box.sbatch(oneNodeArgs(outR, jobOutR, [`--time=${REQUEUE_TIME_MIN}`, `--signal=B:USR1@${REQUEUE_WARN_S}`]), { env });
    const outM = tempDir('hi-slurm-norequeue-');
    const jobOutM = join(logs, 'norequeue-%j.out');
    const idM = await box.sbatch(oneNodeArgs(outM, jobOutM, [`--time=${NO_REQUEUE_TIME_MIN}`, `--signal=B:USR1@${NO_REQUEUE_WARN_S}`]), {
      env: { ...env, HIERIMPUTE_MAX_RESTARTS: '0' },
    });
    const outputR = () => read(jobOutR.replace('%j', idR));
    const outputM = () => read(jobOutM.replace('%j', idM));
    try {
      await t.test('the job requeues itself before its time limit and the requeued run finishes the sweep', async () => {
        const runLog = join(outR, 'logs', 'run.log');
        await box.waitJob(
          idR,
          (j) => {
            assert.equal(j.restarts, 0, `requeued before every worker held a claim:\n${outputR()}`);
            return countLines(runLog, /holding the claim/) === WORKERS;
          },
          'every worker of the first run holding a claim',
          { context: outputR },
        );
        // From here the first run computes nothing more: what is cached now is all it finished.
        const finishedBefore = cacheNodes(outR);
        assert.equal(finishedBefore, WORKERS * HOLD_AFTER);

        await box.waitJob(idR, (j) => j.restarts >= 1, 'a requeue', { context: outputR });
        const end = await box.waitEnd(idR, { context: outputR });
        const text = outputR();
        assert.equal(end.state, 'COMPLETED', `${end.line}\n${text}`);
        assert.equal(end.exitCode, '0:0');
        assert.equal(end.restarts, 1, `the requeued run must finish before a warning of its own:\n${text}`);
        // One output file (--open-mode=append): the first run, its requeue, then the requeued run.
        const first = text.indexOf('SLURM_RESTART_COUNT=0');
        const requeue = text.indexOf(`hierimpute: time limit near, requeueing job ${idR} (restart 1 of at most 10)`);
        const second = text.indexOf('SLURM_RESTART_COUNT=1');
        assert.ok(
          first >= 0 && requeue > first && second > requeue,
          `expected start (restart 0), requeue, start (restart 1) in that order:\n${text}`,
        );
        assert.match(text.slice(second), /done in .*: \d+ band groups computed/);
        assert.equal(countLines(runLog, /holding the claim/), WORKERS, 'only the first run holds claims');

        const s = summary(outR);
        assert.equal(s.ranks, TASKS);
        assert.equal(s.groups_computed + finishedBefore, fullCount, 'the requeued run computes exactly the nodes the first run did not finish');
        assertSameOutputs(outR, 'the requeued job');
      });

      await t.test('HIERIMPUTE_MAX_RESTARTS=0: the job says it does not requeue and ends at its time limit', async () => {
        await box.waitJob(idM, () => /HIERIMPUTE_MAX_RESTARTS=0 reached/.test(outputM()), 'the warning handler', { context: outputM });
        const end = await box.waitEnd(idM, { context: outputM });
        const text = outputM();
        assert.equal(end.state, 'TIMEOUT', `${end.line}\n${text}`);
        assert.equal(end.restarts, 0);
        assert.match(text, /time limit near and HIERIMPUTE_MAX_RESTARTS=0 reached \(SLURM_RESTART_COUNT=0\): not requeueing/);
        assert.doesNotMatch(text, /requeueing job/);
        assert.doesNotMatch(text, /SLURM_RESTART_COUNT=[1-9]/);
        assert.equal(existsSync(join(outM, 'run-summary.json')), false, 'the sweep never finished');
        assert.equal(cacheNodes(outM), WORKERS * HOLD_AFTER);
      });
    } finally {
      await box.cancel(idR, idM);
    }
  },
);

test(
  `sbatch slurm/many-nodes.sbatch across ${HOSTS} hosts (network namespaces, one slurmd each): one rank per host, tables byte-identical to one rank`,
  { skip },
  async (t) => {
    const cluster = await startSlurm({ hosts: HOSTS });
    if (cluster.skip) return t.skip(cluster.skip);
    const ids = [];
    try {
      const logs = tempDir('hi-slurm-log-');
      const perHost = [`--nodes=${HOSTS}`, '--ntasks-per-node=1', `--time=${JOB_TIME_LIMIT_MIN}`];
      // `info` lists every rank with its host name; `run` is the sweep.
      const infoOut = join(logs, 'info-%j.out');
      const infoId = await cluster.sbatch([...perHost, `--output=${infoOut}`, 'slurm/many-nodes.sbatch', 'info']);
      ids.push(infoId);
      const out = tempDir('hi-slurm-many-');
      const runOut = join(logs, 'run-%j.out');
      const runId = await cluster.sbatch([
        ...perHost,
        `--output=${runOut}`,
        'slurm/many-nodes.sbatch',
        'run',
        '--preset',
        'quick',
        '--data',
        data,
        '--out',
        out,
        '--progress=false',
      ]);
      ids.push(runId);
      const infoText = () => read(infoOut.replace('%j', infoId));
      const runText = () => read(runOut.replace('%j', runId));

      const info = await cluster.waitEnd(infoId, { context: infoText });
      assert.equal(info.state, 'COMPLETED', `${info.line}\n${infoText()}`);
      const hosts = [...infoText().matchAll(/^\s*rank (\d+)\s+host (\S+)/gm)].map((m) => [Number(m[1]), m[2]]);
      assert.deepEqual(hosts.map(([r]) => r).sort(), [...Array(HOSTS).keys()], infoText());
      assert.deepEqual(hosts.map(([, h]) => h).sort(), [...cluster.nodeNames].sort(), `one rank on each host:\n${infoText()}`);

      const end = await cluster.waitEnd(runId, { context: runText });
      assert.equal(end.state, 'COMPLETED', `${end.line}\n${runText()}`);
      assert.equal(end.exitCode, '0:0');
      assert.match(end.line, new RegExp(`NumNodes=${HOSTS} `));
      const s = summary(out);
      assert.equal(s.ranks, HOSTS);
      assert.equal(s.groups_computed, fullCount);
      assertSameOutputs(out, `the ${HOSTS}-host SLURM job`);
    } finally {
      await cluster.cancel(...ids);
      await cluster.close();
    }
  },
);
