// The sweep on several hosts: 3 hosts × 2 slots (6 ranks) made of network namespaces on this
// machine (test/helpers/hosts.js): separate host names and PID namespaces, ranks talking over TCP,
// one MPI daemon per host, a shared output folder. Losing a host is SIGKILLing every process in its
// namespace. Skipped, with the reason, where namespaces cannot be made (not root, no CAP_NET_ADMIN)
// or the addon was built without MPI.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { readOwner } from '../dist/locks/index.js';
import { generate } from '../scripts/gen-example-data.mjs';
import { buildInfo, countLines, waitFor } from './helpers/mpirun.js';
import { canUseNamespaces, createHosts } from './helpers/hosts.js';
import { cacheNodes, main, makeData, runCli, sequenceFiles, summary, tempDir } from './helpers/sweep.js';

/** Why these tests cannot run here (not root, no namespaces, an addon built without MPI), or undefined. */
const skip =
  canUseNamespaces() ??
  (buildInfo().mpi === false ? `the addon was built without MPI (${buildInfo().mpiNote || 'build-info.json: mpi false'})` : undefined);

const SLOTS = 2;
const RANKS = 3 * SLOTS;
const WORKERS = RANKS - 1;
/** Claim lease of the interrupted runs and their reruns (--lock-lease, seconds). */
const LEASE_S = 4;
/** mpiexec's own time limit on every launch: a hang fails the test instead of blocking CI. */
const LAUNCH_TIMEOUT_S = 150;
/** Safety bound (not an expectation) for the surviving hosts' processes to end once the launching host is lost. */
const ORPHAN_BOUND_MS = 90_000;
/** File timestamps come from the kernel's coarse clock (one tick behind the fine one at most). */
const MTIME_SLACK_MS = 50;
/** A complete log record: one line, starting with its timestamp and rank. */
const RECORD = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[Rank \d+\] [A-Z]+ /;

let hosts;
let data;
let single;
let fullCount;

before(async () => {
  if (skip) return;
  hosts = createHosts(3);
  // Three tables: with hold:1 each of the 5 workers computes one node and then holds its next
  // claim. Each table's prefix tree (quick preset: 1 + 2 + 2 + 4 nodes) offers two band-1 nodes
  // once its root is done, so 3 tables always have a free node for every worker; with 2 tables
  // the fifth worker would find every free node below a held one and never reach its hold.
  data = makeData();
  writeFileSync(join(data, 'gamma.csv'), generate({ rows: 120, cols: 7, seed: 9, name: 'g' }));
  single = tempDir('hi-mh-single-');
  const r = await runCli(['run', '--preset', 'quick', '--data', data, '--out', single, '--progress=false']);
  assert.equal(r.code, 0, r.stderr);
  fullCount = summary(single).groups_computed;
});

after(() => hosts?.teardown());

function runArgs(out, extra = []) {
  return [main, 'run', '--preset', 'quick', '--data', data, '--out', out, '--progress=false', ...extra];
}

function assertSameOutputs(out, what) {
  const a = sequenceFiles(single);
  const b = sequenceFiles(out);
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)), `${k} differs from the single-rank run (${what})`);
}

/** Every line of every OUT/logs/*.log is a complete record (timestamp first, newline last). */
function assertLogsIntact(out) {
  const dir = join(out, 'logs');
  const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
  assert.ok(files.length > 0, 'no log files');
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    if (text === '') continue;
    assert.ok(text.endsWith('\n'), `${f}: the last record is cut off: ${JSON.stringify(text.slice(-200))}`);
    for (const line of text.slice(0, -1).split('\n')) assert.match(line, RECORD, `${f}: not a complete record`);
  }
}

/** Every lock file of OUT/cache: {path, owner, mtimeMs}. */
function claims(out) {
  const base = join(out, 'cache');
  const list = [];
  for (const d of readdirSync(base)) {
    for (const f of readdirSync(join(base, d))) {
      if (!f.endsWith('.lock') || f.startsWith('.')) continue;
      const path = join(base, d, f);
      list.push({ path, dataset: d, band: Number(/^band(\d+)-/.exec(f)[1]), owner: readOwner(path), mtimeMs: statSync(path).mtimeMs });
    }
  }
  return list;
}

/**
 * From another host (its own name and PID namespace), with a lease no run could reach: these claims
 * are not stale. So the dead ranks' pids are never consulted; only the lease can free the claims.
 */
async function assertOnlyLeaseFrees(paths, fromHost) {
  const code = `import('${join(main, '..', 'locks', 'index.js')}').then((m) => console.log(JSON.stringify(process.argv.slice(1).map((p) => m.isStale(p, 1e12)))))`;
  const r = await hosts.exec(fromHost, [process.execPath, '-e', code, ...paths]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    JSON.parse(r.stdout),
    paths.map(() => false),
    "a dead host's claim looked stale without its lease expiring (a PID check across hosts?)",
  );
}

/**
 * The rerun took the dead host's claims over only after their lease: each lock is gone, its node's
 * output exists and was written no earlier than the claim's last heartbeat + the lease. So a rerun
 * that met such a claim while it was fresh waited for it: taking it at once would have written the
 * output too early. Whether the rerun got there before the lease ran out depends on how fast it
 * started, so the count of claims it met fresh (its "node claimed by another rank or job" lines) is
 * only reported, never asserted.
 */
function assertTakenOverAfterLease(dead, rerunLog) {
  let metFresh = 0;
  for (const c of dead) {
    assert.equal(existsSync(c.path), false, `${c.path}: the dead host's claim is still there after the rerun`);
    const arrow = c.path.replace(/\.lock$/, '.arrow');
    assert.ok(existsSync(arrow), `${arrow}: the dead host's node was not computed by the rerun`);
    const written = statSync(arrow).mtimeMs;
    assert.ok(
      written >= c.mtimeMs + LEASE_S * 1000 - MTIME_SLACK_MS,
      `${arrow} written ${(written - c.mtimeMs).toFixed(0)} ms after the claim's last heartbeat, before its ${LEASE_S} s lease expired`,
    );
    const met = `dataset ${c.dataset} band ${c.band} (`;
    if (rerunLog.split('\n').some((l) => l.includes(met) && l.includes('node claimed by another rank or job'))) metFresh++;
  }
  return metFresh;
}

test('3 hosts × 2 slots: every output byte-identical to one rank; ranks on 3 host names', { skip }, async () => {
  const out = tempDir('hi-mh-3h-');
  const t0 = Date.now();
  const r = await hosts.launch(1, runArgs(out), { on: [1, 2, 3], slots: SLOTS, timeoutS: LAUNCH_TIMEOUT_S });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  console.log(`# 3-host run: ${((Date.now() - t0) / 1000).toFixed(1)} s (mpiflavor ${buildInfo().mpiFlavor})`);
  assertSameOutputs(out, '3 hosts');
  const s = summary(out);
  assert.equal(s.ranks, RANKS);
  assert.equal(s.groups_computed, fullCount);
  // Each worker named its host (its hostname(), set by its host's UTS namespace) to rank 0.
  const where = `ranks by host: ${hosts.name(1)}: ranks 0, 1; ${hosts.name(2)}: ranks 2, 3; ${hosts.name(3)}: ranks 4, 5`;
  assert.equal(
    countLines(join(out, 'logs', 'rank_0.log'), new RegExp(where.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))),
    1,
    `rank 0 must log "${where}"`,
  );
  for (let k = 0; k < RANKS; k++) assert.ok(existsSync(join(out, 'logs', `rank_${k}.log`)), `rank_${k}.log`);
  assertLogsIntact(out);
});

/** Polls until no process of the job runs on these hosts; the bound only stops a hang. */
async function assertHostsEmpty(list, since) {
  await waitFor(() => Date.now() - since > ORPHAN_BOUND_MS || list.every((h) => hosts.pids(h).length === 0), 'the hosts are empty');
  for (const h of list) assert.deepEqual(hosts.pids(h), [], `processes still run on host ${h} ${ORPHAN_BOUND_MS} ms after the loss`);
}

/**
 * Starts the hold:1 job on 3 hosts from host 1 and waits (observed) until every worker holds a
 * claim: each has finished exactly one node, and the job stands still mid-sweep. Resolves with
 * {job}, the run() promise of the launch.
 */
async function startHeldJob(out) {
  const job = hosts.launch(1, runArgs(out, ['--lock-lease', String(LEASE_S)]), {
    on: [1, 2, 3],
    slots: SLOTS,
    timeoutS: LAUNCH_TIMEOUT_S,
    env: { HIERIMPUTE_FAULT_INJECT: 'hold:1' },
  });
  await waitFor(() => countLines(join(out, 'logs', 'run.log'), /holding the claim/) === WORKERS, 'every worker holds a claim', job);
  for (const h of [1, 2, 3]) assert.ok(hosts.pids(h).length > 0, `host ${h} runs no process before the kill`);
  // Wrapped: an async function returning the promise itself would resolve only when the job ends.
  return { job };
}

/** State left by the lost host: finished nodes, the held claims, the lost host's own claims. */
function leftBehind(out, lostHost, lostRanks) {
  assert.equal(cacheNodes(out), WORKERS, 'each worker finished exactly one node before the loss');
  const all = claims(out);
  assert.equal(all.length, WORKERS, 'every held claim is left behind');
  const dead = all.filter((c) => c.owner?.host === hosts.name(lostHost));
  assert.deepEqual(dead.map((c) => c.owner.rank).sort(), lostRanks, `the claims of host ${lostHost} (${hosts.name(lostHost)})`);
  return dead;
}

/** Reruns on the hosts left (same command, no fault): resumes, computes only what was missing. */
async function rerunAndCheck(out, from, on, dead) {
  const runLog = join(out, 'logs', 'run.log');
  const offset = readFileSync(runLog).length;
  const t0 = Date.now();
  const r = await hosts.launch(from, runArgs(out, ['--lock-lease', String(LEASE_S)]), { on, slots: SLOTS, timeoutS: LAUNCH_TIMEOUT_S });
  const seconds = (Date.now() - t0) / 1000;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const s = summary(out);
  assert.equal(s.ranks, on.length * SLOTS);
  assert.ok(s.groups_computed < fullCount, 'the rerun must not recompute everything');
  assert.equal(WORKERS + s.groups_computed, fullCount, 'nodes finished before the loss + nodes the rerun computed = every node, each once');
  assertSameOutputs(out, 'after the host loss and the rerun');
  const rerunLog = readFileSync(runLog).subarray(offset).toString();
  const metFresh = assertTakenOverAfterLease(dead, rerunLog);
  assertLogsIntact(out);
  console.log(
    `# rerun on hosts ${on.join(', ')}: ${seconds.toFixed(1)} s, ${s.groups_computed} nodes computed; ${metFresh} of the lost host's ${dead.length} claims were still fresh when the rerun first met them`,
  );
}

test(
  'a worker host is lost: the job ends on its own, rank 0 names the lost ranks and host; a rerun on the 2 hosts left resumes',
  { skip },
  async () => {
    const out = tempDir('hi-mh-lose2-');
    const { job } = await startHeldJob(out);
    const tKill = Date.now();
    const killed = hosts.killHost(2);
    const r = await job;
    const tExit = Date.now();
    console.log(
      `# host 2 lost (${killed} processes SIGKILLed): the job exited ${((tExit - tKill) / 1000).toFixed(2)} s after the kill, code ${r.code}`,
    );
    // Ended by itself: a non-zero exit of the launcher, which we did not kill (it runs on host 1),
    // not the launcher's time limit, not the test's hard kill.
    assert.notEqual(r.code, 0, 'the job must exit non-zero');
    assert.equal(r.signal, null, 'the launcher was killed by a signal');
    assert.equal(r.hardKilled, false, 'the job hung until the test killed it');
    assert.doesNotMatch(
      r.stdout + r.stderr,
      /time limit for job execution has been reached|APPLICATION TIMED OUT/i,
      'the job hung until the launcher time limit',
    );
    await assertHostsEmpty([1, 3], tKill);
    const rank0 = readFileSync(join(out, 'logs', 'rank_0.log'), 'utf8');
    assert.ok(rank0.includes(`ranks by host: ${hosts.name(1)}: ranks 0, 1; ${hosts.name(2)}: ranks 2, 3;`), 'rank 0 maps ranks to hosts at start');
    if (buildInfo().mpiFlavor === 'openmpi') {
      // Rank 0 sees no MPI error (no call involves the lost ranks). OpenMPI's mpiexec then sends it
      // SIGTERM and, a second later, SIGKILL: rank 0 uses that second to name what was in flight.
      assert.match(rank0, /rank 0: SIGTERM: the launcher is ending the job/);
      for (const rank of [2, 3])
        assert.match(rank0, new RegExp(`in flight: rank ${rank} on host ${hosts.name(2)}:`), `rank 0 must name lost rank ${rank} and its host`);
    } else {
      // MPICH's Hydra SIGKILLs every rank at once when a host's proxy is lost: rank 0 gets no notice
      // and cannot log anything then; its start-up line above is what maps ranks to the lost host.
      assert.doesNotMatch(rank0, /SIGTERM/);
    }
    assertLogsIntact(out);

    const dead = leftBehind(out, 2, [2, 3]);
    await assertOnlyLeaseFrees(
      dead.map((c) => c.path),
      3,
    );
    await rerunAndCheck(out, 1, [1, 3], dead);
  },
);

test(
  'the launching host (mpiexec, rank 0) is lost: the other hosts end their ranks; a rerun from host 2 on hosts 2 and 3 resumes',
  { skip },
  async () => {
    const out = tempDir('hi-mh-lose1-');
    const { job } = await startHeldJob(out);
    const tKill = Date.now();
    const killed = hosts.killHost(1);
    const r = await job;
    assert.equal(r.signal, 'SIGKILL', 'the launcher runs on host 1 and dies with it');
    // mpiexec is gone, so its time limit is gone too: the daemons on hosts 2 and 3 must notice the
    // loss and end their ranks by themselves.
    await assertHostsEmpty([2, 3], tKill);
    console.log(`# host 1 lost (${killed} processes SIGKILLed): hosts 2 and 3 empty ${((Date.now() - tKill) / 1000).toFixed(2)} s after the kill`);
    assertLogsIntact(out);

    const dead = leftBehind(out, 1, [1]);
    await assertOnlyLeaseFrees(
      dead.map((c) => c.path),
      2,
    );
    await rerunAndCheck(out, 2, [2, 3], dead);
  },
);
