// Lock files: exclusive claims, token-checked release, stale takeover, native heartbeat.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import { isStale, readOwner, tryClaim } from '../dist/locks/index.js';

const CHILD = fileURLToPath(new URL('./helpers/lock-child.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'hierimpute-locks-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  return d;
};
const sleepBuf = new Int32Array(new SharedArrayBuffer(4));
const sleepSync = (ms) => Atomics.wait(sleepBuf, 0, 0, ms);
async function waitReady(raceDir, kids) {
  const t0 = Date.now();
  while (readdirSync(raceDir).filter((f) => f.startsWith('ready.')).length < kids.length) {
    const dead = kids.find((k) => k.child.exitCode !== null);
    if (dead) throw new Error(`a race child exited before the start: ${(await dead.exited).out}`);
    if (Date.now() - t0 > 60_000) throw new Error('race children not ready after 60 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}
const ageFile = (path, seconds) => {
  const t = Date.now() / 1000 - seconds;
  utimesSync(path, t, t);
};

function run(mode, args, env = {}) {
  const child = spawn(process.execPath, [CHILD, mode, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out })));
  const line = (prefix) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const hit = out.split('\n').find((l) => l.startsWith(prefix));
        if (hit !== undefined) return resolve(hit);
        if (child.exitCode !== null) return reject(new Error(`child ${mode} exited before printing ${prefix}: ${out}`));
        setTimeout(check, 5);
      };
      check();
    });
  return { child, exited, line };
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
  assert.throws(() => tryClaim(join(dir, 'missing', 'x.lock')), (e) => e.message.includes(join(dir, 'missing')) && /No such file or directory/.test(e.message));
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
  const h = tryClaim(path, { leaseMs: 500, heartbeatMs: 25 });
  assert.ok(h);
  const m0 = statSync(path).mtimeMs;
  const t0 = Date.now();
  while (Date.now() - t0 < 300); // busy JS thread
  assert.ok(statSync(path).mtimeMs > m0 + 150, 'mtime must advance during the busy loop');
  assert.ok(h.heartbeats() >= 4, `heartbeats: ${h.heartbeats()}`);
  // JS thread blocked in execFileSync for > the lease: a child that looks after 700 ms sees it fresh.
  const seen = JSON.parse(execFileSync(process.execPath, [CHILD, 'try', JSON.stringify({ path, leaseMs: 500, sleepMs: 700 })], { encoding: 'utf8' }));
  assert.deepEqual(seen, { token: null, stale: false });
  assert.equal(h.stillOwned(), true);
  h.release();

  // Control: without a heartbeat the same child takes the claim over.
  const q = tryClaim(path, { leaseMs: 500, heartbeatMs: 0 });
  assert.ok(q);
  const took = JSON.parse(execFileSync(process.execPath, [CHILD, 'try', JSON.stringify({ path, leaseMs: 500, sleepMs: 700 })], { encoding: 'utf8' }));
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
  const t0 = Date.now();
  while (!h.heartbeatLost() && Date.now() - t0 < 2000) sleepSync(10);
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
    const t0 = Date.now();
    const c = run('exit', { path, how });
    let timer;
    const res = await Promise.race([c.exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), 10_000)))]);
    clearTimeout(timer);
    if (res === 'timeout') c.child.kill('SIGKILL');
    assert.notEqual(res, 'timeout', `child (${how}) hung`);
    assert.equal(res.code, 0);
    assert.ok(Date.now() - t0 < 10_000);
    const { token } = JSON.parse(res.out);
    assert.equal(readOwner(path)?.token, token); // left behind, recoverable: owner is dead
    assert.equal(isStale(path), true);
  }
});

test('readers never see a half-written lock file', async () => {
  const dir = freshDir();
  const path = join(dir, 'rw.lock');
  const reader = run('reader', { path, ms: 1000 });
  await reader.line('ready');
  const t0 = Date.now();
  let cycles = 0;
  while (Date.now() - t0 < 700) {
    const h = tryClaim(path, { heartbeatMs: 0 });
    assert.ok(h);
    h.release();
    cycles++;
  }
  const res = await reader.exited;
  const counts = JSON.parse(res.out.split('\n')[1]);
  assert.equal(counts.partial, 0, JSON.stringify(counts));
  assert.ok(counts.complete > 0, `reader must have seen the lock: ${JSON.stringify(counts)} over ${cycles} cycles`);
});

test('racing processes: exactly one winner per round, fresh and stale; never a winner over a live claim', async () => {
  const CHILDREN = 8;
  const dir = freshDir();
  const plan = [];
  for (let r = 0; r < 20; r++) plan.push({ path: join(dir, `free${r}.lock`), leaseMs: 120_000, expect: 'one' });
  // stale by lease, owner alive (this process, no heartbeat, mtime an hour old)
  const staleMine = [];
  for (let r = 0; r < 5; r++) {
    const path = join(dir, `lease${r}.lock`);
    const h = tryClaim(path, { heartbeatMs: 0 });
    ageFile(path, 3600);
    staleMine.push(h);
    plan.push({ path, leaseMs: 5000, expect: 'one', old: h.owner.token });
  }
  // stale because the owner was SIGKILLed (fresh mtime, default lease)
  const deadPaths = Array.from({ length: 5 }, (_, r) => join(dir, `dead${r}.lock`));
  const holder = run('hold', { paths: deadPaths, heartbeatMs: 50 });
  const deadTokens = JSON.parse((await holder.line('claimed ')).slice(8));
  holder.child.kill('SIGKILL');
  await holder.exited;
  deadPaths.forEach((path, r) => plan.push({ path, leaseMs: 120_000, expect: 'one', old: deadTokens[r] }));
  // fresh claims of a live owner (heartbeat running): nobody may win
  const live = [];
  for (let r = 0; r < 5; r++) {
    const path = join(dir, `live${r}.lock`);
    live.push(tryClaim(path, { leaseMs: 2000, heartbeatMs: 100 }));
    plan.push({ path, leaseMs: 2000, expect: 'none' });
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
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), []);
  console.log(`# race: ${plan.length} rounds x ${CHILDREN} processes, max start spread within a round ${spread} ms`);
});

test('takers paused inside the takeover window: still exactly one winner, and a concurrent release removes nothing of theirs', async () => {
  const CHILDREN = 8;
  const PAUSE = 100; // HIERIMPUTE_LOCK_TEST_PAUSE_MS: after seeing the lock stale, and again after winning the succession right
  const dir = freshDir();
  const leasePath = join(dir, 'lease.lock');
  const mine = tryClaim(leasePath, { heartbeatMs: 0 });
  ageFile(leasePath, 3600);
  const deadPath = join(dir, 'dead.lock');
  const holder = run('hold', { paths: [deadPath], heartbeatMs: 50 });
  const [deadToken] = JSON.parse((await holder.line('claimed ')).slice(8));
  holder.child.kill('SIGKILL');
  await holder.exited;
  const plan = [
    { path: leasePath, leaseMs: 5000 },
    { path: deadPath, leaseMs: 120_000 },
  ];
  const raceDir = join(dir, 'sync');
  mkdirSync(raceDir);
  const roundMs = 4 * PAUSE + 300;
  const kids = Array.from({ length: CHILDREN }, (_, id) =>
    run('race', { dir: raceDir, id, children: CHILDREN, plan, roundMs }, { HIERIMPUTE_LOCK_TEST_PAUSE_MS: String(PAUSE) }),
  );
  await waitReady(raceDir, kids);
  const start = Date.now() + 100;
  writeFileSync(join(raceDir, 'go.tmp'), String(start));
  renameSync(join(raceDir, 'go.tmp'), join(raceDir, 'go'));
  // The owner releases while the takers sit in the takeover window.
  await new Promise((r) => setTimeout(r, start + PAUSE + PAUSE / 2 - Date.now()));
  mine.release();
  const reports = (await Promise.all(kids.map((k) => k.exited))).map((r) => {
    assert.equal(r.code, 0, r.out);
    return JSON.parse(r.out);
  });
  plan.forEach((step, i) => {
    const winners = reports.map((rep) => rep.won[i]).filter((t) => t !== null);
    assert.equal(winners.length, 1, `${step.path}: ${winners.length} winners`);
    assert.equal(readOwner(step.path)?.token, winners[0]);
    assert.notEqual(winners[0], i === 0 ? mine.owner.token : deadToken);
  });
  assert.equal(mine.stillOwned(), false);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), []);
});

test('a taker SIGKILLed inside the takeover window: the owner can still release, a new taker can still take over', async () => {
  const dir = freshDir();
  for (const next of ['owner releases', 'new taker']) {
    const path = join(dir, next === 'new taker' ? 'b.lock' : 'a.lock');
    const mine = tryClaim(path, { heartbeatMs: 0 });
    ageFile(path, 3600);
    const takeoverFile = join(dir, `.${next === 'new taker' ? 'b.lock' : 'a.lock'}.takeover.${mine.owner.token}`);
    // The taker pauses 400 ms after seeing the lock stale and again after winning the takeover file.
    const taker = run('try', { path, leaseMs: 5000 }, { HIERIMPUTE_LOCK_TEST_PAUSE_MS: '400' });
    const t0 = Date.now();
    while (!statSync(takeoverFile, { throwIfNoEntry: false })) {
      assert.ok(Date.now() - t0 < 20_000, 'taker never created its takeover file');
      await new Promise((r) => setTimeout(r, 5));
    }
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
    assert.deepEqual(readdirSync(dir).filter((f) => !f.endsWith('.tmp')), [], 'takeover files of the dead taker are cleaned up');
  }
});

test('while a live successor holds the takeover right past a dead taker, others are refused and the chain stays', async () => {
  const dir = freshDir();
  const path = join(dir, 'c.lock');
  const mine = tryClaim(path, { heartbeatMs: 0 });
  ageFile(path, 3600);
  const first = join(dir, `.c.lock.takeover.${mine.owner.token}`);
  const waitFor = async (file) => {
    const t0 = Date.now();
    while (!statSync(file, { throwIfNoEntry: false })) {
      assert.ok(Date.now() - t0 < 20_000, `${file} never appeared`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const dead = run('try', { path, leaseMs: 5000 }, { HIERIMPUTE_LOCK_TEST_PAUSE_MS: '200' });
  await waitFor(first);
  dead.child.kill('SIGKILL');
  await dead.exited;
  const deadHolder = readOwner(first).token; // takeover files use the lock file format
  const successor = run('try', { path, leaseMs: 5000 }, { HIERIMPUTE_LOCK_TEST_PAUSE_MS: '500' });
  const second = join(dir, `.c.lock.takeover.${deadHolder}`);
  await waitFor(second); // the successor now holds the right through the chain, and sleeps
  assert.equal(tryClaim(path, { leaseMs: 5000 }), null, 'a live successor holds the right');
  assert.ok(statSync(first, { throwIfNoEntry: false }), 'the first takeover file must stay while the lock still carries its token');
  const res = await successor.exited;
  const { token } = JSON.parse(res.out);
  assert.match(token, /^[0-9a-f]{32}$/, 'the successor took the lock over');
  assert.equal(mine.stillOwned(), false);
  mine.release();
  assert.equal(readOwner(path), null, 'the successor released it (try mode releases)');
  assert.deepEqual(readdirSync(dir).filter((f) => !f.endsWith('.tmp')), []);
});

test('a worker thread that ends without release() stops its heartbeat (environment teardown)', async () => {
  const dir = freshDir();
  const path = join(dir, 'worker.lock');
  const url = pathToFileURL(fileURLToPath(new URL('../dist/locks/index.js', import.meta.url))).href;
  const w = new Worker(
    `import(${JSON.stringify(url)}).then((L) => {
       const h = L.tryClaim(${JSON.stringify(path)}, { leaseMs: 60000, heartbeatMs: 20 });
       const t0 = Date.now(); while (Date.now() - t0 < 150); // let it beat
       require('node:worker_threads').parentPort.postMessage({ token: h.owner.token, beats: h.heartbeats() });
       globalThis.keep = h; // still referenced when the worker ends: teardown (finalizer + cleanup hook) must stop it
     });`,
    { eval: true },
  );
  const [msg] = await Promise.all([new Promise((r) => w.once('message', r)), new Promise((r) => w.once('exit', r))]);
  assert.ok(msg.beats >= 2, `worker heartbeat ran: ${msg.beats}`);
  assert.equal(readOwner(path)?.token, msg.token);
  sleepSync(60); // a beat already in flight may land
  const m1 = statSync(path).mtimeMs;
  sleepSync(200);
  assert.equal(statSync(path).mtimeMs, m1, 'heartbeat must stop when the worker environment is torn down');
});
