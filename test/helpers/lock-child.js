// Child process for test/locks.test.js. Usage: node lock-child.js <mode> '<json args>'
//   race   {dir, id, children, plan: [{path, leaseMs}], roundMs}
//          writes ready.<id>, waits for the file `go` (holding the start time), then at
//          start + i*roundMs calls tryClaim(plan[i].path); keeps every claim (never releases) until all
//          children wrote done.<id>; prints {id, won: [token|null...], startedAt: [ms...]}
//   hold   {paths, heartbeatMs}   claims every path, prints "claimed <json tokens>", then idles
//   try    {path, leaseMs, refreshedAfterMs?, refreshedPath?, holdUntil?}
//          with refreshedAfterMs: first waits until the mtime of refreshedPath (default path) is
//          later than refreshedAfterMs (a heartbeat refreshed it); then tries once, prints
//          {token|null, stale, mtimeMs (of path, seen just before), refreshed?}; with holdUntil, keeps
//          the claim until that file exists; releases
//   exit   {path, how}            claims with a 10 ms heartbeat, then exits by process.exit (how='exit')
//                                 or by letting the event loop run empty (how='drain'), without release
//   reader {path, generations, done} reads the raw lock file in a loop until it has seen complete
//                                 records of `generations` different claims, then creates the file
//                                 `done`; prints counts of absent/complete/partial reads and generations
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { isStale, tryClaim } from '../../dist/locks/index.js';

const [mode, raw] = process.argv.slice(2);
const args = JSON.parse(raw ?? '{}');
const sleepBuf = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms) => Atomics.wait(sleepBuf, 0, 0, ms);
// Bound on every wait for an event, reached only when something is broken: fail instead of hanging.
const SAFETY_MS = 60_000;
const mtimeMs = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? null;

function waitUntil(t) {
  for (;;) {
    const left = t - Date.now();
    if (left <= 0) return;
    if (left > 3) sleep(left - 2);
  }
}

if (mode === 'race') {
  const { dir, id, children, plan, roundMs } = args;
  writeFileSync(join(dir, `ready.${id}`), '');
  const go = join(dir, 'go');
  const giveUp = Date.now() + SAFETY_MS;
  while (!existsSync(go)) {
    if (Date.now() > giveUp) throw new Error(`lock-child race: no go file after ${SAFETY_MS} ms`);
    sleep(2);
  }
  const start = Number(readFileSync(go, 'utf8'));
  const held = [];
  const won = [];
  const startedAt = [];
  plan.forEach((step, i) => {
    waitUntil(start + i * roundMs);
    startedAt.push(Date.now());
    const h = tryClaim(step.path, { leaseMs: step.leaseMs, heartbeatMs: 0 });
    won.push(h ? h.owner.token : null);
    if (h) held.push(h);
  });
  writeFileSync(join(dir, `done.${id}`), '');
  while (readdirSync(dir).filter((f) => f.startsWith('done.')).length < children) {
    if (Date.now() > giveUp + plan.length * roundMs) throw new Error('lock-child race: other children never finished');
    sleep(5);
  }
  process.stdout.write(JSON.stringify({ id, won, startedAt }) + '\n');
} else if (mode === 'hold') {
  const tokens = args.paths.map((p) => tryClaim(p, { heartbeatMs: args.heartbeatMs ?? 50 })?.owner.token ?? null);
  process.stdout.write('claimed ' + JSON.stringify(tokens) + '\n');
  setInterval(() => {}, 1000);
} else if (mode === 'try') {
  const report = {};
  if (args.refreshedAfterMs !== undefined) {
    const watched = args.refreshedPath ?? args.path;
    const giveUp = Date.now() + SAFETY_MS;
    while (!(mtimeMs(watched) > args.refreshedAfterMs) && Date.now() < giveUp) sleep(2);
    report.refreshed = mtimeMs(watched) > args.refreshedAfterMs;
  }
  const seenMtimeMs = mtimeMs(args.path);
  const stale = isStale(args.path, args.leaseMs);
  const h = tryClaim(args.path, { leaseMs: args.leaseMs, heartbeatMs: 0 });
  process.stdout.write(JSON.stringify({ token: h ? h.owner.token : null, stale, mtimeMs: seenMtimeMs, ...report }) + '\n');
  if (args.holdUntil) {
    const giveUp = Date.now() + SAFETY_MS;
    while (!existsSync(args.holdUntil)) {
      if (Date.now() > giveUp) throw new Error(`lock-child try: ${args.holdUntil} not created within ${SAFETY_MS} ms`);
      sleep(2);
    }
  }
  h?.release();
} else if (mode === 'exit') {
  const h = tryClaim(args.path, { leaseMs: 60_000, heartbeatMs: 10 });
  process.stdout.write(JSON.stringify({ token: h?.owner.token ?? null }) + '\n');
  if (args.how === 'exit') process.exit(0);
  // 'drain': nothing keeps the event loop alive; the heartbeat thread must not either.
} else if (mode === 'reader') {
  const counts = { absent: 0, complete: 0, partial: 0, generations: 0 };
  let lastToken = null;
  process.stdout.write('ready\n');
  const giveUp = Date.now() + SAFETY_MS; // the test then fails on too few generations
  while (counts.generations < args.generations && Date.now() < giveUp) {
    let text;
    try {
      text = readFileSync(args.path, 'utf8');
    } catch (err) {
      if (err.code === 'ENOENT') {
        counts.absent++;
        continue;
      }
      throw err;
    }
    const token = text.startsWith('hierimpute-lock 1\n') && text.endsWith('\n') ? /\ntoken=([0-9a-f]{32})\n/.exec(text)?.[1] : undefined;
    if (token === undefined) {
      counts.partial++;
      continue;
    }
    counts.complete++;
    if (token !== lastToken) counts.generations++;
    lastToken = token;
  }
  writeFileSync(args.done, '');
  process.stdout.write(JSON.stringify(counts) + '\n');
} else if (mode !== undefined) {
  throw new Error(`lock-child.js: unknown mode ${mode}`);
}
// No mode: `node --test test/` also runs files under test/helpers/; do nothing then (exit 0).
