// Node side of the ping-pong benchmark:
//   mpiexec -n 2 node bench/pingpong-node.js <bytes> <iterations> [sync|promise]
// sync (default): recvSync() (bounded native spin, no promise), falling back to `await recv()`
// only when the reply takes longer than the spin; promise: `await recv()` every time. Both receive
// into a reused buffer. Prints the same JSON line as the C baseline, with the same warm-up and
// timing (half_rtt_us over the whole timed loop, block_half_rtt_us the median over 20 blocks).
import { withWorld } from '../dist/cli/lifecycle.js';
import { TAG_TASK } from '../dist/mpi/tags.js';

const BLOCKS = 20;
const bytes = Number(process.argv[2] ?? 8);
const iters = Number(process.argv[3] ?? 10000);
const mode = process.argv[4] ?? 'sync';
if (mode !== 'sync' && mode !== 'promise') throw new Error(`unknown mode ${mode} (sync|promise)`);

await withWorld({}, async (w) => {
  const out = Buffer.alloc(bytes, 7);
  const into = Buffer.alloc(bytes);
  const peer = 1 - w.rank;
  const opts = { source: peer, tag: TAG_TASK, into };
  const sync = mode === 'sync';
  async function rounds(n) {
    if (w.rank === 0) {
      for (let i = 0; i < n; i++) {
        await w.send(peer, TAG_TASK, out);
        if (!sync || !w.recvSync(opts)) await w.recv(opts);
      }
    } else {
      for (let i = 0; i < n; i++) {
        const m = (sync && w.recvSync(opts)) || (await w.recv(opts));
        await w.send(peer, TAG_TASK, m.payload.subarray(0, m.length));
      }
    }
  }
  const block = Math.max(1, Math.floor(iters / BLOCKS));
  await rounds(Math.floor(iters / 10) + 1); // warm-up
  const times = [];
  const t0 = process.hrtime.bigint();
  let tb = t0;
  for (let b = 0; b < BLOCKS; b++) {
    await rounds(block);
    const t = process.hrtime.bigint();
    times.push(Number(t - tb) / 1e9);
    tb = t;
  }
  if (w.rank === 0) {
    const done = block * BLOCKS;
    const half = Number(tb - t0) / 1e9 / done / 2;
    times.sort((a, b) => a - b);
    const bmed = (times[BLOCKS / 2 - 1] + times[BLOCKS / 2]) / 2;
    const line = { bytes, iterations: done, mode, half_rtt_us: half * 1e6, bandwidth_Bps: bytes / half, block_half_rtt_us: (bmed / block / 2) * 1e6 };
    process.stdout.write(JSON.stringify(line) + '\n');
  }
});
