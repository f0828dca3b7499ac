// The MPI task farm under real mpiexec: identical outputs on any rank count, kill-and-resume,
// and a failing worker aborting the job.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { bandEdges } from '../dist/engine/bands.js';
import { validateConfig } from '../dist/engine/config.js';
import { fileHash, nodeKey } from '../dist/engine/keys.js';
import { tryClaim } from '../dist/locks/index.js';
import { prefixNodeCount } from '../dist/engine/sweep.js';
import { assertAborted, countLines, mpirun, waitFor } from './helpers/mpirun.js';
import { cacheNodes, main, makeData, quickConfig, runCli, sequenceFiles, summary, tempDir, writeConfig } from './helpers/sweep.js';

/** SIGKILLs every process whose command line names `out` (mpiexec and its ranks), as a scheduler does. */
function killJob(out) {
  const pids = execFileSync('ps', ['-eo', 'pid=,args='])
    .toString()
    .split('\n')
    .filter((l) => l.includes(out))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

let data;
let single;

before(async () => {
  data = makeData();
  single = tempDir('hi-single-');
  const r = await runCli(['run', '--preset', 'quick', '--data', data, '--out', single, '--progress=false']);
  assert.equal(r.code, 0, r.stderr);
});

for (const n of [2, 4, 8]) {
  test(`mpiexec -n ${n}: every output byte-identical to the single-rank run, no requeue without progress`, async () => {
    const out = tempDir(`hi-n${n}-`);
    const r = await mpirun(n, [main, 'run', '--preset', 'quick', '--data', data, '--out', out, '--progress=false'], { timeoutS: 180 });
    assert.equal(r.code, 0, r.stderr);
    const a = sequenceFiles(single);
    const b = sequenceFiles(out);
    assert.deepEqual([...b.keys()], [...a.keys()]);
    for (const [k, v] of a) assert.ok(v.equals(b.get(k)), `${k} differs between 1 and ${n} ranks`);
    const s = summary(out);
    assert.equal(s.ranks, n);
    assert.equal(s.groups_computed, summary(single).groups_computed);
    assert.equal(s.requeues_without_progress, 0);
    // Rank 0's own cost per finished item and the workers' dataset loads are reported.
    assert.ok(Number.isFinite(s.rank0_ms_per_item) && s.rank0_ms_per_item >= 0, JSON.stringify(s));
    const workers = Object.keys(s.dataset_loads).map(Number);
    assert.ok(workers.length > 0 && workers.every((w) => w >= 1 && w < n), `dataset_loads names worker ranks: ${workers}`);
    const loads = Object.values(s.dataset_loads).reduce((a, b) => a + b, 0);
    const hits = Object.values(s.dataset_cache_hits).reduce((a, b) => a + b, 0);
    assert.ok(loads >= 2, 'each of the 2 tables was loaded');
    assert.ok(hits > 0, 'workers reused the tables they held');
  });
}

test('mpiexec -n 3, a changed input rerun into the same folder: its outputs are replaced, byte-identical to a fresh single-rank run', async () => {
  const d = makeData();
  const out = tempDir('hi-stale-');
  const args = (dir, o) => [main, 'run', '--preset', 'quick', '--data', dir, '--out', o, '--progress=false'];
  let r = await mpirun(3, args(d, out), { timeoutS: 180 });
  assert.equal(r.code, 0, r.stderr);
  // One observed cell of beta.csv changes: its manifest entries go stale and its outputs are rewritten.
  const p = join(d, 'beta.csv');
  const lines = readFileSync(p, 'utf8').split('\n');
  const cells = lines[1].split(',');
  const j = cells.findIndex((c) => c !== '');
  cells[j] = String(Number(cells[j]) + 1);
  lines[1] = cells.join(',');
  writeFileSync(p, lines.join('\n'));
  r = await mpirun(3, args(d, out), { timeoutS: 180 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(readFileSync(join(out, 'logs', 'run.log'), 'utf8'), /beta: input or configuration changed from band 0 on; outputs replaced/);
  const fresh = tempDir('hi-stale-ref-');
  r = await runCli(args(d, fresh).slice(1));
  assert.equal(r.code, 0, r.stderr);
  const a = sequenceFiles(fresh);
  const b = sequenceFiles(out);
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)), `${k} differs from a fresh run on the changed input`);
});

test('kill -9 the whole job mid-way, rerun: outputs equal the uninterrupted run, finished nodes not recomputed', async () => {
  const nodes = prefixNodeCount(validateConfig(quickConfig(), 'test')) * 2;
  const out = tempDir('hi-kill-');
  const args = [main, 'run', '--preset', 'quick', '--data', data, '--out', out, '--progress=false'];
  // Every worker computes one node, then claims its next one and holds it: the job stands mid-way
  // (3 nodes finished, 3 claimed) until it is killed, however fast this machine is.
  const job = mpirun(4, args, { timeoutS: 180, env: { HIERIMPUTE_FAULT_INJECT: 'hold:1' } });
  const runLog = join(out, 'logs', 'run.log');
  await waitFor(() => countLines(runLog, /holding the claim/) === 3, 'every worker holds a claim', job);
  // Kill the whole job at once, as a scheduler does: mpiexec and every rank of this run.
  killJob(out);
  const killed = await job;
  assert.notEqual(killed.code, 0);
  assert.equal(cacheNodes(out), 3, 'each of the 3 workers finished exactly one node before the kill');
  assert.equal(readdirSync(join(out, 'cache'), { recursive: true }).filter((f) => f.endsWith('.lock')).length, 3, 'the held claims are left behind');

  const r = await mpirun(4, args, { timeoutS: 180 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(summary(out).groups_computed + 3, nodes, 'the rerun computes exactly the nodes not finished before the kill');
  const a = sequenceFiles(single);
  const b = sequenceFiles(out);
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)), `${k} differs after kill + resume`);
});

test('a worker that throws aborts the whole job (MPI_Abort, no hang), its error logged', async () => {
  const out = tempDir('hi-throw-out-');
  const r = await mpirun(4, [main, 'run', '--preset', 'quick', '--data', data, '--out', out, '--progress=false'], {
    timeoutS: 120,
    env: { HIERIMPUTE_FAULT_INJECT: 'worker:2' },
  });
  assertAborted(r, join(out, 'logs', 'rank_2.log'));
  assert.match(r.stderr, /worker rank 2 failed/);
  assert.match(r.stderr, /injected fault on worker rank 2/);
  assert.match(readFileSync(join(out, 'logs', 'run.log'), 'utf8'), /injected fault on worker rank 2/);
  assert.match(readFileSync(join(out, 'logs', 'rank_2.log'), 'utf8'), /injected fault on worker rank 2/);
});

test('mpiexec -n 4: a table no method can impute (a column never observed) is dropped and named; the others complete', async () => {
  const d = makeData();
  const rows = ['x,y,z'];
  for (let i = 0; i < 40; i++) rows.push(`${i},${i % 2 ? '' : i * 2},`);
  writeFileSync(join(d, 'nothing-in-z.csv'), rows.join('\n') + '\n');
  const out = tempDir('hi-drop-out-');
  const r = await mpirun(4, [main, 'run', '--preset', 'quick', '--data', d, '--out', out, '--progress=false'], { timeoutS: 120 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /nothing-in-z\.csv, column 'z' \(#3\): no observed cell at all/);
  assert.deepEqual(Object.keys(summary(out).failed_datasets), ['nothing_in_z']);
  const a = sequenceFiles(single);
  const b = sequenceFiles(out);
  // Same tables (a fresh copy of the same generated data): same imputed outputs. Manifests name the input path.
  for (const [k, v] of a) if (!k.endsWith('methods_manifest.json')) assert.ok(v.equals(b.get(k)), `${k} differs from the run without the bad table`);
});

test('a node claimed by another job: the dispatcher retries it later, loses no reply, and the outputs are unchanged', async () => {
  // Band 0 is slow for alpha_one while another "job" holds beta's band-0 node: workers wait idle
  // and retry while a reply is due (the path where a reply could be lost).
  const raw = {
    bands: [
      { width: 0.15, methods: ['xgboost'] },
      { width: 0.85, methods: ['mean', 'median'] },
    ],
    params: { xgboost: { n_estimators: 6000 } },
  };
  const cfgPath = writeConfig(tempDir('hi-busy-cfg-'), raw);
  const ref = tempDir('hi-busy-ref-');
  let r = await runCli(['run', '--config', cfgPath, '--data', data, '--out', ref, '--progress=false']);
  assert.equal(r.code, 0, r.stderr);
  const out = tempDir('hi-busy-');
  const cfg = validateConfig(raw, 'test');
  const key = nodeKey(fileHash(join(data, 'beta.csv')), cfg, bandEdges([0.15, 0.85]), ['xgboost'], 0);
  mkdirSync(join(out, 'cache', 'beta'), { recursive: true });
  const lock = tryClaim(join(out, 'cache', 'beta', `band00-${key}.lock`), { leaseMs: 60_000 });
  assert.ok(lock);
  const job = mpirun(4, [main, 'run', '--config', cfgPath, '--data', data, '--out', out, '--progress=false'], { timeoutS: 120 });
  // Released only once a worker has met the claimed node (its log line), never after a guessed delay.
  await waitFor(
    () => countLines(join(out, 'logs', 'run.log'), /band 0 \(xgboost\): node claimed by another rank or job/) > 0,
    'a worker met the claimed node',
    job,
  ).finally(() => lock.release());
  r = await job;
  assert.equal(r.code, 0, r.stderr);
  const s = summary(out);
  assert.ok(s.requeues_without_progress >= 1, 'the claimed node was met at least once');
  assert.equal(s.groups_computed, summary(ref).groups_computed);
  const a = sequenceFiles(ref);
  const b = sequenceFiles(out);
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)), `${k} differs`);
});
