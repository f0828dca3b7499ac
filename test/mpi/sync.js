// recvSync on 2 ranks: the no-message path (spin runs out, the posted receive is withdrawn and
// nothing is consumed), a message that arrives during the spin, every size class (small, the
// 16 KiB boundary, large header+body), JSON, ANY_SOURCE/ANY_TAG, and call order against a pending
// recv(). Prints one JSON line of checks from rank 0.
import { withWorld } from '../../dist/cli/lifecycle.js';
import { TAG_DONE, TAG_TASK } from '../../dist/mpi/tags.js';

const sizes = [0, 1, 8, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 100_000, 1 << 20];
const pattern = (n, seed) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

await withWorld({}, async (w) => {
  const peer = 1 - w.rank;
  const checks = {};
  if (w.rank === 0) {
    // Nothing sent yet: a short spin returns null, and the message sent afterwards is still there.
    checks.emptyIsNull = w.recvSync({ source: peer, tag: TAG_TASK, spinMicros: 200 }) === null;
    checks.emptyNoSpinIsNull = w.recvSync({ source: peer, tag: TAG_TASK, spinMicros: 0 }) === null;
    await w.send(peer, TAG_DONE, 'go');
    // The peer sends ~20 ms later: caught by a long spin (the pre-posted receive).
    const late = w.recvSync({ source: peer, tag: TAG_TASK, spinMicros: 5_000_000 });
    checks.lateCaught = late !== null && late.kind === 'json' && late.payload === 'late';
    // Echo every size through recvSync (specific source/tag, then ANY_SOURCE/ANY_TAG).
    const into = Buffer.alloc(1 << 20);
    checks.sizes = [];
    for (const [k, n] of sizes.entries()) {
      const out = pattern(n, k);
      await w.send(peer, TAG_TASK, out);
      const opts = k % 2 ? { into } : { source: peer, tag: TAG_TASK, into };
      const m = w.recvSync(opts) ?? (await w.recv(opts));
      checks.sizes.push(
        m.kind === 'bytes' && m.source === peer && m.tag === TAG_TASK && m.length === n && out.equals(m.payload.subarray(0, m.length)),
      );
    }
    // Without `into`: a fresh buffer per message.
    await w.send(peer, TAG_TASK, pattern(40_000, 9));
    const fresh = w.recvSync({ spinMicros: 5_000_000 });
    checks.fresh = fresh !== null && fresh.length === 40_000 && fresh.payload.equals(pattern(40_000, 9));
    // A pending recv() goes first: recvSync yields null until it settled.
    const pending = w.recv({ source: peer, tag: TAG_DONE });
    checks.orderNull = w.recvSync({ source: peer, spinMicros: 1000 }) === null;
    await w.send(peer, TAG_TASK, 'ask');
    checks.orderPending = (await pending).payload === 'first';
    const second = w.recvSync({ source: peer, spinMicros: 5_000_000 }) ?? (await w.recv({ source: peer }));
    checks.orderSecond = second.payload === 'second';
    process.stdout.write(JSON.stringify(checks) + '\n');
  } else {
    await w.recv({ source: peer, tag: TAG_DONE });
    await sleep(20);
    await w.send(peer, TAG_TASK, 'late');
    const into = Buffer.alloc(1 << 20);
    for (let k = 0; k < sizes.length; k++) {
      const m = w.recvSync({ source: peer, tag: TAG_TASK, into }) ?? (await w.recv({ source: peer, tag: TAG_TASK, into }));
      await w.send(peer, TAG_TASK, m.payload.subarray(0, m.length));
    }
    const fresh = await w.recv({ source: peer, tag: TAG_TASK });
    await w.send(peer, TAG_TASK, fresh.payload);
    await w.recv({ source: peer, tag: TAG_TASK });
    await w.send(peer, TAG_DONE, 'first');
    await w.send(peer, TAG_TASK, 'second');
  }
  await w.barrier();
});
