// Lock files: exclusive claims, token-checked release, stale takeover, native heartbeat.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import { isStale, readOwner, tryClaim } from '../dist/locks/index.js';

const CHILD = fileURLToPath(new URL('./helpers/lock-child.js', import.meta.url));
// Every test waits for observed events (a file appearing, a counter, a printed line, an exit), never
// for a guessed delay. This bound on each such wait is the only timing constant: it is reached only
// when something is broken, and turns a hang into a failure.
const SAFETY_MS = 60_000;
// Lease for claims and takers that must not turn stale by lease while a test runs, however slow the
// machine; locks meant to be stale by lease are aged by an hour, far beyond it.
const LONG_LEASE_MS = 600_000;
const root = mkdtempSync(join(tmpdir(), 'hierimpute-locks-'));
const children = new Set(); // still running; a failed test may leave some held at a gate
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
const freshDir = () => {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  return d;
};
const sleepBuf = new Int32Array(new SharedArrayBuffer(4));
const sleepSync = (ms) => Atomics.wait(sleepBuf, 0, 0, ms);
// Polls cond (every few ms, letting the event loop run) until it returns a truthy value.
async function waitFor(cond, what) {
  const t0 = Date.now();
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() - t0 > SAFETY_MS) throw new Error(`${what}: not observed within ${SAFETY_MS} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
// The same with the JS thread kept blocked: pollMs 0 busy-loops, otherwise it sleeps between polls.
function waitSync(cond, what, pollMs) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > SAFETY_MS) throw new Error(`${what}: not observed within ${SAFETY_MS} ms`);
    if (pollMs > 0) sleepSync(pollMs);
  }
}
async function waitReady(raceDir, kids) {
  await waitFor(async () => {
    const dead = kids.find((k) => k.child.exitCode !== null);
    if (dead) throw new Error(`a race child exited before the start: ${(await dead.exited).out}`);
    return readdirSync(raceDir).filter((f) => f.startsWith('ready.')).length === kids.length;
  }, 'all race children ready');
}
const ageFile = (path, seconds) => {
  const t = Date.now() / 1000 - seconds;
  utimesSync(path, t, t);
};

// A child process running test/helpers/lock-child.js. A child still running after SAFETY_MS is
// SIGKILLed, so a hung child fails its test (exit code, missing line) instead of hanging the run.
function run(mode, args, env = {}) {
  const child = spawn(process.execPath, [CHILD, mode, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const guard = setTimeout(() => child.kill('SIGKILL'), SAFETY_MS);
  guard.unref();
  // 'close', not 'exit': all of stdout has arrived by then.
  let closed = false;
  const exited = new Promise((resolve) =>
    child.on('close', (code, signal) => {
      closed = true;
      children.delete(child);
      clearTimeout(guard);
      resolve({ code, signal, out });
    }),
  );
  // The first complete stdout line starting with prefix (undefined while there is none).
  const printed = (prefix) =>
    out
      .split('\n')
      .slice(0, -1)
      .find((l) => l.startsWith(prefix));
  const line = (prefix) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const hit = printed(prefix);
        if (hit !== undefined) return resolve(hit);
        if (closed) return reject(new Error(`child ${mode} exited before printing ${prefix}: ${out}`));
      };
      child.stdout.on('data', check);
      exited.then(check);
      check();
    });
  return { child, exited, line, printed };
}

// Test-only gate in the native takeover (HIERIMPUTE_LOCK_TEST_GATE, see TestGate in
// native/core/lockfile.cc): a child holds at a point ('stale' or 'right') until the test opens it.
function gate() {
  const dir = freshDir();
  return {
    env: { HIERIMPUTE_LOCK_TEST_GATE: dir },
    isPaused: (kid, point) => existsSync(join(dir, `paused.${kid.child.pid}.${point}`)),
    // Resolves once kid sits at point; fails if it exits first.
    paused(kid, point) {
      return waitFor(async () => {
        if (kid.child.exitCode !== null || kid.child.signalCode !== null)
          throw new Error(`child exited before the ${point} gate: ${(await kid.exited).out}`);
        return this.isPaused(kid, point);
      }, `child ${kid.child.pid} held at the ${point} gate`);
    },
    open: (kid, point) => writeFileSync(join(dir, `go.${kid.child.pid}.${point}`), ''),
  };
}

test('claim, second claim is refused, release, claim again; owner record is right', () => {
  const dir = freshDir();
  const path = join(dir, 'node.lock');
  const before = Date.now();
  const a = tryClaim(path, { jobId: 'job-42', rank: 3, heartbeatMs: 0 });
  assert.ok(a);
  assert.equal(a.path, path);
  assert.equal(a.owner.host, hostname());
  assert.equal(a.owner.pid, process.pid);
  assert.equal(a.owner.jobId, 'job-42');
  assert.equal(a.owner.rank, 3);
  assert.match(a.owner.token, /^[0-9a-f]{32}$/);
  assert.ok(a.owner.createdAtMs >= before - 5 && a.owner.createdAtMs <= Date.now() + 5);
  assert.deepEqual(readOwner(path), a.owner);
  assert.equal(a.stillOwned(), true);
  assert.equal(isStale(path), false);

  assert.equal(tryClaim(path), null);
  assert.equal(tryClaim(path, { leaseMs: 10_000 }), null);
  // no temp or takeover files left behind by a refused claim
  assert.deepEqual(readdirSync(dir), ['node.lock']);

  a.release();
  assert.equal(a.stillOwned(), false);
  assert.equal(readOwner(path), null);
  assert.deepEqual(readdirSync(dir), []);
  a.release(); // idempotent

  const b = tryClaim(path, { rank: null });
  assert.ok(b);
  assert.notEqual(b.owner.token, a.owner.token);
  assert.equal(b.owner.rank, null);
  b.release();
  assert.deepEqual(readdirSync(dir), []);
});

test('a lock whose mtime is older than the lease is taken over; the old owner cannot release it', () => {
  const dir = freshDir();
  const path = join(dir, 'node.lock');
  const a = tryClaim(path, { heartbeatMs: 0 });
  assert.ok(a);
  assert.equal(tryClaim(path, { leaseMs: 5000 }), null); // fresh: refused
  ageFile(path, 60);
  assert.equal(isStale(path, 5000), true);
  assert.equal(isStale(path, 120_000), false); // our pid is alive: only the lease can make it stale
  const b = tryClaim(path, { leaseMs: 5000, heartbeatMs: 0 });
  assert.ok(b, 'stale claim must be taken over');
  assert.notEqual(b.owner.token, a.owner.token);
  a.release(); // must not delete b's lock (called before anything else looked at the file)
  assert.equal(readOwner(path)?.token, b.owner.token);
  assert.equal(a.stillOwned(), false);
  assert.equal(b.stillOwned(), true);
  b.release();
  assert.equal(readOwner(path), null);
  assert.deepEqual(readdirSync(dir), []); // takeover files cleaned up
});

test('options and filesystem errors name the input at fault', () => {
  const dir = freshDir();
  assert.throws(
    () => tryClaim(join(dir, 'missing', 'x.lock')),
    (e) => e.message.includes(join(dir, 'missing')) && /No such file or directory/.test(e.message),
  );
  writeFileSync(join(dir, 'file'), 'x');
  assert.throws(() => tryClaim(join(dir, 'file', 'x.lock')), /Not a directory/);
  writeFileSync(join(dir, 'garbage.lock'), 'not a lock\n');
  assert.throws(() => tryClaim(join(dir, 'garbage.lock')), /garbage\.lock' is not a hierimpute lock file/);
  assert.throws(() => readOwner(join(dir, 'garbage.lock')), /is not a hierimpute lock file/);
  assert.throws(() => tryClaim(join(dir, 'a.lock'), { leaseMs: 0 }), /option leaseMs/);
  assert.throws(() => tryClaim(join(dir, 'a.lock'), { leaseMs: 1000, heartbeatMs: 1000 }), /option heartbeatMs/);
  assert.throws(() => tryClaim(join(dir, 'a.lock'), { jobId: 'a\nb' }), /option jobId/);
  assert.throws(() => tryClaim(join(dir, 'a.lock'), { rank: -2 }), /option rank/);
  assert.throws(() => tryClaim(''), /lock path/);
  assert.throws(() => tryClaim(join(dir, 'x'.repeat(201))), /at most 200 are allowed/);
  const long = tryClaim(join(dir, 'y'.repeat(200)), { heartbeatMs: 0 });
  assert.ok(long);
  long.release();
  assert.equal(readOwner(join(dir, 'none.lock')), null);
  assert.equal(isStale(join(dir, 'none.lock')), false);
});

test('heartbeat refreshes the mtime from a native thread while the JS thread is blocked', () => {
  const dir = freshDir();
  const path = join(dir, 'hb.lock');
  const h = tryClaim(path, { leaseMs: LONG_LEASE_MS, heartbeatMs: 25 });
  assert.ok(h);
  const m0 = statSync(path).mtimeMs;
  // Busy JS thread (no sleep, no event loop turn) until the native thread has beaten four times.
  waitSync(() => h.heartbeats() >= 4, 'four heartbeats during a busy JS loop', 0);
  assert.ok(statSync(path).mtimeMs > m0, 'mtime must advance during the busy loop');
  // The JS thread now blocks in execFileSync. The file is aged by an hour first: the child waits until
  // it sees the mtime refreshed (only the native thread can do that now), then finds the claim fresh
  // under a lease far above the heartbeat interval and cannot take it.
  // The child bounds its own wait by SAFETY_MS; the timeout is only the last resort.
  const child = (args) =>
    JSON.parse(execFileSync(process.execPath, [CHILD, 'try', JSON.stringify(args)], { encoding: 'utf8', timeout: 2 * SAFETY_MS }));
  ageFile(path, 3600);
  const seen = child({ path, leaseMs: LONG_LEASE_MS, refreshedAfterMs: statSync(path).mtimeMs });
  assert.equal(seen.refreshed, true, 'the heartbeat must refresh the aged mtime while the JS thread is blocked');
  assert.deepEqual({ token: seen.token, stale: seen.stale }, { token: null, stale: false });
  assert.equal(h.stillOwned(), true);
  h.release();

  // Control: without a heartbeat the aged file stays aged while the child waits for a reference lock
  // with a heartbeat (also aged) to be refreshed; then the same child takes the claim over.
  const q = tryClaim(path, { leaseMs: LONG_LEASE_MS, heartbeatMs: 0 });
  assert.ok(q);
  const refPath = join(dir, 'ref.lock');
  const ref = tryClaim(refPath, { leaseMs: LONG_LEASE_MS, heartbeatMs: 25 });
  assert.ok(ref);
  ageFile(path, 3600);
  ageFile(refPath, 3600);
  const aged = statSync(path).mtimeMs;
  const took = child({ path, leaseMs: LONG_LEASE_MS, refreshedPath: refPath, refreshedAfterMs: statSync(refPath).mtimeMs });
  ref.release();
  assert.equal(took.refreshed, true, 'the reference heartbeat must refresh its lock');
  assert.equal(took.mtimeMs, aged, 'without a heartbeat the mtime stays aged');
  assert.equal(took.stale, true);
  assert.match(took.token, /^[0-9a-f]{32}$/);
  assert.equal(q.stillOwned(), false);
  q.release();
});

test('the heartbeat reports a lock that is no longer ours', () => {
  const dir = freshDir();
  const path = join(dir, 'lost.lock');
  const h = tryClaim(path, { leaseMs: 60_000, heartbeatMs: 20 });
  assert.ok(h);
  assert.equal(h.heartbeatLost(), false);
  unlinkSync(path); // e.g. an operator cleaned the folder
  waitSync(() => h.heartbeatLost(), 'heartbeatLost() after the lock file was removed', 5);
  assert.equal(h.heartbeatLost(), true);
  assert.equal(h.stillOwned(), false);
  h.release();
});

test('a claim whose owner was SIGKILLed on this host is taken over at once; a live one never', async () => {
  const dir = freshDir();
  const path = join(dir, 'dead.lock');
  const holder = run('hold', { paths: [path], heartbeatMs: 50 });
  const [token] = JSON.parse((await holder.line('claimed ')).slice(8));
  assert.match(token, /^[0-9a-f]{32}$/);
  assert.equal(readOwner(path)?.token, token);
  assert.equal(tryClaim(path), null, 'live owner with a fresh claim');
  assert.equal(isStale(path), false);
  holder.child.kill('SIGKILL');
  assert.equal((await holder.exited).signal, 'SIGKILL');
  assert.equal(isStale(path), true, 'dead pid on this host = stale, even with a fresh mtime');
  const h = tryClaim(path);
  assert.ok(h);
  assert.equal(readOwner(path)?.token, h.owner.token);
  h.release();
  assert.deepEqual(readdirSync(dir), []);
});

test('the process exits promptly with a running heartbeat (process.exit and an empty event loop)', async () => {
  const dir = freshDir();
  for (const how of ['exit', 'drain']) {
    const path = join(dir, `${how}.lock`);
    // A child hung by its heartbeat thread is SIGKILLed after SAFETY_MS (see run): code null, signal set.
    const res = await run('exit', { path, how }).exited;
    assert.deepEqual({ code: res.code, signal: res.signal }, { code: 0, signal: null }, `child (${how}) must exit by itself: ${res.out}`);
    const { token } = JSON.parse(res.out);
    assert.equal(readOwner(path)?.token, token); // left behind, recoverable: owner is dead
    assert.equal(isStale(path), true);
  }
});

test('readers never see a half-written lock file', async () => {
  const GENERATIONS = 200; // distinct claims the reader must see complete
  const dir = freshDir();
  const path = join(dir, 'rw.lock');
  const done = join(freshDir(), 'reader-done');
  const reader = run('reader', { path, generations: GENERATIONS, done });
  await reader.line('ready');
  // Claim and release until the reader says it has seen enough claims (or has exited).
  let cycles = 0;
  while (!existsSync(done) && reader.child.exitCode === null) {
    const h = tryClaim(path, { heartbeatMs: 0 });
    assert.ok(h);
    h.release();
    if (++cycles % 50 === 0) await new Promise((r) => setImmediate(r)); // lets the child's exit be noticed
  }
  const res = await reader.exited;
  assert.equal(res.code, 0, res.out);
  const counts = JSON.parse(res.out.split('\n')[1]);
  assert.equal(counts.partial, 0, JSON.stringify(counts));
  assert.ok(
    counts.complete > 0 && counts.generations >= GENERATIONS,
    `reader must have seen the lock: ${JSON.stringify(counts)} over ${cycles} cycles`,
  );
});

test('racing processes: exactly one winner per round, fresh and stale; never a winner over a live claim', async () => {
  const CHILDREN = 8;
  const dir = freshDir();
  const plan = [];
  for (let r = 0; r < 20; r++) plan.push({ path: join(dir, `free${r}.lock`), leaseMs: 120_000, expect: 'one' });
  // stale by lease, owner alive (this process, no heartbeat, mtime an hour old); under LONG_LEASE_MS
  // the winner's own claim (no heartbeat) cannot turn stale for a child that comes late
  const staleMine = [];
  for (let r = 0; r < 5; r++) {
    const path = join(dir, `lease${r}.lock`);
    const h = tryClaim(path, { heartbeatMs: 0 });
    ageFile(path, 3600);
    staleMine.push(h);
    plan.push({ path, leaseMs: LONG_LEASE_MS, expect: 'one', old: h.owner.token });
  }
  // stale because the owner was SIGKILLed (fresh mtime, default lease)
  const deadPaths = Array.from({ length: 5 }, (_, r) => join(dir, `dead${r}.lock`));
  const holder = run('hold', { paths: deadPaths, heartbeatMs: 50 });
  const deadTokens = JSON.parse((await holder.line('claimed ')).slice(8));
  holder.child.kill('SIGKILL');
  await holder.exited;
  deadPaths.forEach((path, r) => plan.push({ path, leaseMs: 120_000, expect: 'one', old: deadTokens[r] }));
  // fresh claims of a live owner (heartbeat running): nobody may win; the long lease keeps them fresh
  // however late a child comes, without relying on when the heartbeat thread gets to run
  const live = [];
  for (let r = 0; r < 5; r++) {
    const path = join(dir, `live${r}.lock`);
    live.push(tryClaim(path, { leaseMs: LONG_LEASE_MS, heartbeatMs: 100 }));
    plan.push({ path, leaseMs: LONG_LEASE_MS, expect: 'none' });
  }

  const raceDir = join(dir, 'sync');
  mkdirSync(raceDir);
  const kids = Array.from({ length: CHILDREN }, (_, id) =>
    run('race', { dir: raceDir, id, children: CHILDREN, plan: plan.map(({ path, leaseMs }) => ({ path, leaseMs })), roundMs: 40 }),
  );
  await waitReady(raceDir, kids);
  writeFileSync(join(raceDir, 'go.tmp'), String(Date.now() + 150));
  // rename: children never read a half-written start time
  renameSync(join(raceDir, 'go.tmp'), join(raceDir, 'go'));
  const results = await Promise.all(kids.map((k) => k.exited));
  const reports = results.map((r) => {
    assert.equal(r.code, 0, r.out);
    return JSON.parse(r.out);
  });

  let spread = 0;
  plan.forEach((step, i) => {
    const winners = reports.map((rep) => rep.won[i]).filter((t) => t !== null);
    const starts = reports.map((rep) => rep.startedAt[i]);
    spread = Math.max(spread, Math.max(...starts) - Math.min(...starts));
    if (step.expect === 'one') {
      assert.equal(winners.length, 1, `round ${i} (${step.path}): ${winners.length} winners`);
      assert.equal(readOwner(step.path)?.token, winners[0]);
      if (step.old) assert.notEqual(winners[0], step.old);
    } else {
      assert.equal(winners.length, 0, `round ${i}: a live claim was taken over`);
    }
  });
  for (const h of staleMine) {
    h.release(); // must not remove the winner's lock
    assert.equal(h.stillOwned(), false);
  }
  for (let r = 0; r < 5; r++) assert.ok(readOwner(join(dir, `lease${r}.lock`)));
  for (const h of live) {
    assert.equal(h.stillOwned(), true);
    h.release();
  }
  // no takeover or temp files left behind
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('.')),
    [],
  );
  console.log(`# race: ${plan.length} rounds x ${CHILDREN} processes, max start spread within a round ${spread} ms`);
});

test('takers held inside the takeover window: still exactly one winner, and a concurrent release removes nothing of theirs', async () => {
  const TAKERS = 8;
  const dir = freshDir();
  const leasePath = join(dir, 'lease.lock');
  const mine = tryClaim(leasePath, { heartbeatMs: 0 });
  ageFile(leasePath, 3600);
  const deadPath = join(dir, 'dead.lock');
  const holder = run('hold', { paths: [deadPath], heartbeatMs: 50 });
  const [deadToken] = JSON.parse((await holder.line('claimed ')).slice(8));
  holder.child.kill('SIGKILL');
  await holder.exited;
  const cases = [
    { path: leasePath, leaseMs: LONG_LEASE_MS, old: mine.owner.token }, // stale by lease, owner alive
    { path: deadPath, leaseMs: 120_000, old: deadToken }, // owner SIGKILLed, fresh mtime
  ];
  for (const { path, leaseMs, old } of cases) {
    const g = gate();
    const end = join(freshDir(), 'end');
    const kids = Array.from({ length: TAKERS }, () => run('try', { path, leaseMs, holdUntil: end }, g.env));
    // Every taker has seen the lock stale and sits inside the window.
    for (const k of kids) await g.paused(k, 'stale');
    // Let them on one at a time. The first wins the succession right and is held again; each later
    // one must back off, where a taker without the right would remove the lock the one before it made.
    let rightHolder = null;
    for (const k of kids) {
      g.open(k, 'stale');
      await waitFor(() => k.printed('{') !== undefined || g.isPaused(k, 'right'), `taker ${k.child.pid} refused or holding the right`);
      if (g.isPaused(k, 'right')) {
        assert.equal(rightHolder, null, `${path}: two takers hold the succession right`);
        rightHolder = k;
      }
    }
    if (rightHolder && path === leasePath) {
      // The owner releases while a taker holds the right inside the window: the release must back
      // off and leave the lock to the taker.
      mine.release();
      assert.equal(mine.stillOwned(), false);
      assert.equal(readOwner(path)?.token, old, 'a release while a taker holds the right removes nothing');
    }
    if (rightHolder) g.open(rightHolder, 'right');
    const results = await Promise.all(kids.map(async (k) => JSON.parse(await k.line('{'))));
    const winners = results.map((r) => r.token).filter((t) => t !== null);
    assert.equal(winners.length, 1, `${path}: ${winners.length} winners`);
    assert.ok(rightHolder, `${path}: the winner did not hold the succession right`);
    assert.equal(results[kids.indexOf(rightHolder)].token, winners[0], 'the winner is the holder of the right');
    assert.equal(readOwner(path)?.token, winners[0]);
    assert.notEqual(winners[0], old);
    writeFileSync(end, '');
    for (const r of await Promise.all(kids.map((k) => k.exited))) assert.equal(r.code, 0, r.out);
  }
  assert.equal(mine.stillOwned(), false);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('.')),
    [],
  );
});

test('a taker SIGKILLed inside the takeover window: the owner can still release, a new taker can still take over', async () => {
  const dir = freshDir();
  for (const next of ['owner releases', 'new taker']) {
    const path = join(dir, next === 'new taker' ? 'b.lock' : 'a.lock');
    const mine = tryClaim(path, { heartbeatMs: 0 });
    ageFile(path, 3600);
    const takeoverFile = join(dir, `.${next === 'new taker' ? 'b.lock' : 'a.lock'}.takeover.${mine.owner.token}`);
    // The taker is held after seeing the lock stale, let on, and held again once it won the takeover file.
    const g = gate();
    const taker = run('try', { path, leaseMs: LONG_LEASE_MS }, g.env);
    await g.paused(taker, 'stale');
    g.open(taker, 'stale');
    await g.paused(taker, 'right');
    assert.ok(statSync(takeoverFile, { throwIfNoEntry: false }), 'the taker holds the takeover file');
    taker.child.kill('SIGKILL');
    assert.equal((await taker.exited).signal, 'SIGKILL');
    assert.equal(readOwner(path)?.token, mine.owner.token, 'the taker died before replacing the lock');
    if (next === 'owner releases') {
      mine.release();
      assert.equal(readOwner(path), null);
    } else {
      assert.equal(tryClaim(path, { leaseMs: 7_200_000 }), null, 'an hour old is not stale under a 2 h lease');
      const b = tryClaim(path, { leaseMs: 5000, heartbeatMs: 0 });
      assert.ok(b, 'dead takeover holder on this host must not block the takeover');
      mine.release();
      assert.equal(readOwner(path)?.token, b.owner.token);
      b.release();
    }
    // The killed taker's own temp record (.<name>.<token>.tmp) may stay behind; its takeover file must not.
    assert.deepEqual(
      readdirSync(dir).filter((f) => !f.endsWith('.tmp')),
      [],
      'takeover files of the dead taker are cleaned up',
    );
  }
});

test('while a live successor holds the takeover right past a dead taker, others are refused and the chain stays', async () => {
  const dir = freshDir();
  const path = join(dir, 'c.lock');
  const mine = tryClaim(path, { heartbeatMs: 0 });
  ageFile(path, 3600);
  const first = join(dir, `.c.lock.takeover.${mine.owner.token}`);
  // A taker that holds the takeover right (held at the 'right' gate), then dies.
  const g1 = gate();
  const dead = run('try', { path, leaseMs: LONG_LEASE_MS }, g1.env);
  await g1.paused(dead, 'stale');
  g1.open(dead, 'stale');
  await g1.paused(dead, 'right');
  assert.ok(statSync(first, { throwIfNoEntry: false }), 'the first taker holds the takeover file');
  dead.child.kill('SIGKILL');
  await dead.exited;
  const deadHolder = readOwner(first).token; // takeover files use the lock file format
  const g2 = gate();
  const successor = run('try', { path, leaseMs: LONG_LEASE_MS }, g2.env);
  await g2.paused(successor, 'stale');
  g2.open(successor, 'stale');
  await g2.paused(successor, 'right'); // the successor now holds the right through the chain, and is held
  assert.ok(statSync(join(dir, `.c.lock.takeover.${deadHolder}`), { throwIfNoEntry: false }), 'the successor holds the next takeover file');
  assert.equal(tryClaim(path, { leaseMs: LONG_LEASE_MS }), null, 'a live successor holds the right');
  assert.ok(statSync(first, { throwIfNoEntry: false }), 'the first takeover file must stay while the lock still carries its token');
  g2.open(successor, 'right');
  const res = await successor.exited;
  assert.equal(res.code, 0, res.out);
  const { token } = JSON.parse(res.out);
  assert.match(token, /^[0-9a-f]{32}$/, 'the successor took the lock over');
  assert.equal(mine.stillOwned(), false);
  mine.release();
  assert.equal(readOwner(path), null, 'the successor released it (try mode releases)');
  assert.deepEqual(
    readdirSync(dir).filter((f) => !f.endsWith('.tmp')),
    [],
  );
});

test('a worker thread that ends without release() stops its heartbeat (environment teardown)', async () => {
  const dir = freshDir();
  const path = join(dir, 'worker.lock');
  const url = pathToFileURL(fileURLToPath(new URL('../dist/locks/index.js', import.meta.url))).href;
  const w = new Worker(
    `import(${JSON.stringify(url)}).then((L) => {
       const h = L.tryClaim(${JSON.stringify(path)}, { leaseMs: 60000, heartbeatMs: 20 });
       const t0 = Date.now();
       while (h.heartbeats() < 2 && Date.now() - t0 < ${SAFETY_MS}); // let it beat
       require('node:worker_threads').parentPort.postMessage({ token: h.owner.token, beats: h.heartbeats() });
       globalThis.keep = h; // still referenced when the worker ends: teardown (finalizer + cleanup hook) must stop it
     });`,
    { eval: true },
  );
  const [msg] = await Promise.all([new Promise((r) => w.once('message', r)), new Promise((r) => w.once('exit', r))]);
  assert.ok(msg.beats >= 2, `worker heartbeat ran: ${msg.beats}`);
  assert.equal(readOwner(path)?.token, msg.token);
  // The worker's teardown stopped its heartbeat before 'exit' fired, and no refresh lands after a stop
  // (Claim::StopHeartbeat), so none is in flight now. Age the file; a heartbeat of our own at the same
  // interval then beats several times, which a still-running worker heartbeat would have done too.
  ageFile(path, 3600);
  const aged = statSync(path).mtimeMs;
  const ref = tryClaim(join(dir, 'ref.lock'), { leaseMs: 60_000, heartbeatMs: 20 });
  waitSync(() => ref.heartbeats() >= 5, 'five beats of the reference heartbeat', 5);
  ref.release();
  assert.equal(statSync(path).mtimeMs, aged, 'heartbeat must stop when the worker environment is torn down');
});
