// Real mpiexec tests of the MPI binding: every one runs under a launcher time limit.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { assertAborted, mpirun, noLauncher, root } from './helpers/mpirun.js';

const main = join(root, 'dist', 'main.js');
const script = (name) => join(root, 'test', 'mpi', name);
const lastJson = (out) =>
  JSON.parse(
    out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{') || l.startsWith('['))
      .pop(),
  );

test('mpiexec -n 4: ring send/recv (JSON and 1 MiB bytes into a reused buffer) and ANY_SOURCE gather', async () => {
  const r = await mpirun(4, [script('ring.js')], { timeoutS: 60 });
  assert.equal(r.code, 0, r.stderr);
  const all = lastJson(r.stdout);
  assert.equal(all.length, 4);
  for (const x of all) {
    const prev = (x.rank + 3) % 4;
    assert.equal(x.from, prev);
    assert.equal(x.value, prev * 10 + 1);
    assert.equal(x.tag, 1);
    assert.equal(x.patternOk, true, `rank ${x.rank} got a corrupted 1 MiB payload`);
  }
});

test('mpiexec -n 2: recvSync (bounded spin, no promise): empty, late arrival, every size class, call order', async () => {
  const r = await mpirun(2, [script('sync.js')], { timeoutS: 60 });
  assert.equal(r.code, 0, r.stderr);
  const c = lastJson(r.stdout);
  assert.deepEqual(c, {
    emptyIsNull: true,
    emptyNoSpinIsNull: true,
    lateCaught: true,
    sizes: [true, true, true, true, true, true, true, true],
    fresh: true,
    orderNull: true,
    orderPending: true,
    orderSecond: true,
  });
});

test('mpiexec -n 4: TAG_STOP shuts every worker down after the queue empties', async () => {
  const r = await mpirun(4, [script('stop.js'), '50'], { timeoutS: 60 });
  assert.equal(r.code, 0, r.stderr);
  const res = lastJson(r.stdout);
  let expected = 0;
  for (let i = 0; i < 50; i++) expected += i * i;
  assert.equal(res.sum, expected);
  assert.equal(
    Object.values(res.perWorker).reduce((a, b) => a + b, 0),
    50,
  );
});

test('mpiexec -n 4: an exception on rank 2 aborts the whole job (MPI_Abort, no hang), log flushed', async () => {
  const logDir = mkdtempSync(join(tmpdir(), 'hi-abort-'));
  const r = await mpirun(4, [script('throw-on-2.js'), logDir], { timeoutS: 60 });
  assertAborted(r, join(logDir, 'rank_2.log'));
  const rank2 = readFileSync(join(logDir, 'rank_2.log'), 'utf8');
  assert.match(rank2, /deliberate failure on rank two/);
  assert.match(rank2, /\[Rank 2\]/);
  const shared = readFileSync(join(logDir, 'run.log'), 'utf8');
  assert.equal((shared.match(/reached the barrier/g) ?? []).length, 4, 'every rank appended to the shared log');
});

test('mpiexec -n 4: hierimpute info lists 4 ranks with distinct pids', async () => {
  const r = await mpirun(4, [main, 'info', '--json'], { timeoutS: 60 });
  assert.equal(r.code, 0, r.stderr);
  const info = lastJson(r.stdout);
  assert.equal(info.size, 4);
  assert.deepEqual(
    info.ranks.map((x) => x.rank),
    [0, 1, 2, 3],
  );
  assert.equal(new Set(info.ranks.map((x) => x.pid)).size, 4);
  assert.notEqual(info.launchMode, 'single');
  assert.match(info.threadLevel, /^MPI_THREAD_/);
  assert.match(info.xgboost, /^\d+\.\d+\.\d+$/);
  assert.equal(info.mpiBuilt, true);
  assert.equal(info.mpiHowToBuild, undefined);
  assert.equal(r.stdout.trim().split('\n').length, 1, 'only rank 0 prints');
});

test('no launcher: single rank, libmpi never loaded, info works', async () => {
  const r = await noLauncher([script('libmpi-loaded.js')]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lastJson(r.stdout), { rank: 0, size: 1, isMpi: false, libmpi: false });
  const i = await noLauncher([main, 'info', '--json']);
  assert.equal(i.code, 0, i.stderr);
  const info = lastJson(i.stdout);
  assert.equal(info.launchMode, 'single');
  assert.equal(info.size, 1);
  assert.equal(info.ranks[0].pid > 0, true);
});

test('launcher says 4 tasks but MPI reports 1: fails loudly with the fix', async () => {
  const r = await noLauncher([main, 'info'], { env: { OMPI_COMM_WORLD_SIZE: '4', OMPI_COMM_WORLD_RANK: '0' }, hardTimeoutMs: 60_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /MPI launch mismatch/);
  assert.match(r.stderr, /rebuild for the MPI you launch with/);
});
