// Node side of the ping-pong benchmark: mpiexec -n 2 node bench/pingpong-node.js <bytes> <iterations>
// Receives into reused buffers; prints the same JSON line as the C baseline.
import { withWorld } from '../dist/cli/lifecycle.js';
import { TAG_TASK } from '../dist/mpi/tags.js';

const bytes = Number(process.argv[2] ?? 8);
const iters = Number(process.argv[3] ?? 10000);
await withWorld({}, async (w) => {
  const out = Buffer.alloc(bytes, 7);
  const into = Buffer.alloc(bytes);
  const warm = Math.floor(iters / 10) + 1;
  let t0 = 0;
  const peer = 1 - w.rank;
  for (let i = 0; i < iters + warm; i++) {
    if (i === warm) t0 = process.hrtime.bigint();
    if (w.rank === 0) {
      await w.send(peer, TAG_TASK, out);
      await w.recv({ source: peer, tag: TAG_TASK, into });
    } else {
      const m = await w.recv({ source: peer, tag: TAG_TASK, into });
      await w.send(peer, TAG_TASK, m.payload.subarray(0, m.length));
    }
  }
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  if (w.rank === 0) {
    const half = dt / iters / 2;
    process.stdout.write(JSON.stringify({ bytes, iterations: iters, half_rtt_us: half * 1e6, bandwidth_Bps: bytes / half }) + '\n');
  }
});
