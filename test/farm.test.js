// The MPI task farm under real mpiexec: identical outputs on any rank count, kill-and-resume,
// and a failing worker aborting the job.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { bandEdges } from '../dist/engine/bands.js';
import { validateConfig } from '../dist/engine/config.js';
import { fileHash, nodeKey } from '../dist/engine/keys.js';
import { tryClaim } from '../dist/locks/index.js';
import { prefixNodeCount } from '../dist/engine/sweep.js';
import { mpiexecArgv, mpirun } from './helpers/mpirun.js';
import { cacheNodes, main, makeData, quickConfig, runCli, sequenceFiles, summary, tempDir, writeConfig } from './helpers/sweep.js';

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
  });
}

test('kill -9 the whole job mid-way, rerun: outputs equal the uninterrupted run, finished bands not recomputed', async () => {
  // Heavier than `quick` so that the kill lands mid-way.
  const cfg = quickConfig();
  cfg.params.xgboost.n_estimators = 400;
  const cfgDir = tempDir('hi-kcfg-');
  const cfgPath = writeConfig(cfgDir, cfg);
  const nodes = prefixNodeCount(validateConfig(cfg, 'test')) * 2;
  const ref = tempDir('hi-ref-');
  let r = await runCli(['run', '--config', cfgPath, '--data', data, '--out', ref, '--progress=false']);
  assert.equal(r.code, 0, r.stderr);

  const out = tempDir('hi-kill-');
  const { argv, env } = mpiexecArgv(4, [main, 'run', '--config', cfgPath, '--data', data, '--out', out, '--progress=false'], { timeoutS: 180 });
  const child = spawn(argv[0], argv.slice(1), { env, stdio: 'ignore', detached: true });
  const exited = new Promise((resolve) => child.on('close', resolve));
  const t0 = Date.now();
  while (cacheNodes(out) < 2 && Date.now() - t0 < 120_000) await new Promise((res) => setTimeout(res, 20));
  // Kill the whole job at once, as a scheduler does: mpiexec and every rank of this run.
  const pids = execFileSync('ps', ['-eo', 'pid=,args='])
    .toString()
    .split('\n')
    .filter((l) => l.includes(out))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
  for (const pid of [child.pid, ...pids]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  await exited;
  const deadline = Date.now() + 60_000;
  while (execFileSync('ps', ['-eo', 'args']).toString().includes(out) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
  const finished = cacheNodes(out);
  assert.ok(finished >= 2 && finished < nodes, `killed after ${finished} of ${nodes} nodes`);

  r = await mpirun(4, [main, 'run', '--config', cfgPath, '--data', data, '--out', out, '--progress=false'], { timeoutS: 180 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(summary(out).groups_computed + finished, nodes);
  const a = sequenceFiles(ref);
  const b = sequenceFiles(out);
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)), `${k} differs after kill + resume`);
});

test('a worker that throws makes the job exit non-zero within seconds, its error logged', async () => {
  const out = tempDir('hi-throw-out-');
  const r = await mpirun(4, [main, 'run', '--preset', 'quick', '--data', data, '--out', out, '--progress=false'], {
    timeoutS: 120,
    env: { HIERIMPUTE_FAULT_INJECT: 'worker:2' },
  });
  assert.notEqual(r.code, 0);
  assert.ok(r.ms < 30_000, `took ${r.ms} ms`);
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
  const raw = { bands: [{ width: 0.15, methods: ['xgboost'] }, { width: 0.85, methods: ['mean', 'median'] }], params: { xgboost: { n_estimators: 6000 } } };
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
  const timer = setTimeout(() => lock.release(), 4000);
  r = await mpirun(4, [main, 'run', '--config', cfgPath, '--data', data, '--out', out, '--progress=false'], { timeoutS: 60 });
  clearTimeout(timer);
  lock.release();
  assert.equal(r.code, 0, r.stderr);
  const s = summary(out);
  assert.ok(s.requeues_without_progress >= 1, 'the claimed node was met at least once');
  assert.equal(s.groups_computed, summary(ref).groups_computed);
  const a = sequenceFiles(ref);
  const b = sequenceFiles(out);
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)), `${k} differs`);
});
