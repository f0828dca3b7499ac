// Child process for test/locks.test.js. Usage: node lock-child.js <mode> '<json args>'
//   race   {dir, id, children, plan: [{path, leaseMs}], roundMs}
//          writes ready.<id>, waits for the file `go` (holding the start time), then at
//          start + i*roundMs calls tryClaim(plan[i].path); keeps every claim (never releases) until all
//          children wrote done.<id>; prints {id, won: [token|null...], startedAt: [ms...]}
//   hold   {paths, heartbeatMs}   claims every path, prints "claimed <json tokens>", then idles
//   try    {path, leaseMs, sleepMs} sleeps, tries once, prints {token|null, stale}, releases
//   exit   {path, how}            claims with a 10 ms heartbeat, then exits by process.exit (how='exit')
//                                 or by letting the event loop run empty (how='drain'), without release
//   reader {path, ms}             reads the raw lock file in a loop; prints counts of absent/complete/partial
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { isStale, tryClaim } from '../../dist/locks/index.js';

const [mode, raw] = process.argv.slice(2);
const args = JSON.parse(raw ?? '{}');
const sleepBuf = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms) => Atomics.wait(sleepBuf, 0, 0, ms);

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
  const giveUp = Date.now() + 60_000; // never hang a test run: fail instead
  while (!existsSync(go)) {
    if (Date.now() > giveUp) throw new Error('lock-child race: no go file after 60 s');
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
  sleep(args.sleepMs ?? 0);
  const stale = isStale(args.path, args.leaseMs);
  const h = tryClaim(args.path, { leaseMs: args.leaseMs, heartbeatMs: 0 });
  process.stdout.write(JSON.stringify({ token: h ? h.owner.token : null, stale }) + '\n');
  h?.release();
} else if (mode === 'exit') {
  const h = tryClaim(args.path, { leaseMs: 60_000, heartbeatMs: 10 });
  process.stdout.write(JSON.stringify({ token: h?.owner.token ?? null }) + '\n');
  if (args.how === 'exit') process.exit(0);
  // 'drain': nothing keeps the event loop alive; the heartbeat thread must not either.
} else if (mode === 'reader') {
  const counts = { absent: 0, complete: 0, partial: 0 };
  process.stdout.write('ready\n');
  const end = Date.now() + args.ms;
  while (Date.now() < end) {
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
    if (text.startsWith('hierimpute-lock 1\n') && /\ntoken=[0-9a-f]{32}\n/.test(text) && text.endsWith('\n')) counts.complete++;
    else counts.partial++;
  }
  process.stdout.write(JSON.stringify(counts) + '\n');
} else if (mode !== undefined) {
  throw new Error(`lock-child.js: unknown mode ${mode}`);
}
// No mode: `node --test test/` also runs files under test/helpers/; do nothing then (exit 0).

