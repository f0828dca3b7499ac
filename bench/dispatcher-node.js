// Dispatcher throughput with trivial tasks: mpiexec -n N node bench/dispatcher-node.js <tasks>
// Rank 0 runs the real dispatcher over an MpiPool; workers answer every task at once (done).
import { withWorld } from '../dist/cli/lifecycle.js';
import { dispatch } from '../dist/farm/dispatcher.js';
import { MpiPool } from '../dist/farm/pool.js';
import { TAG_DONE, TAG_STOP } from '../dist/mpi/tags.js';

const tasks = Number(process.argv[2] ?? 20000);
await withWorld({}, async (w) => {
  if (w.rank > 0) {
    for (;;) {
      const m = await w.recv({ source: 0 });
      if (m.tag === TAG_STOP) return;
      const t = m.payload;
      await w.send(0, TAG_DONE, {
        seq_idx: t.seq_idx,
        dataset: t.dataset,
        done: true,
        progressed: true,
        outcome: 'computed',
        band: 0,
        next: -1,
        method: 'mean',
        seconds: 0,
      });
    }
  }
  const items = Array.from({ length: tasks }, (_, i) => ({ seq_idx: i, dataset: `d${i % 97}`, widths: [1], methods: ['mean'] }));
  const t0 = process.hrtime.bigint();
  const stats = await dispatch(new MpiPool(w), items, { onItemDone: async () => undefined });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ ranks: w.size, tasks: stats.itemsDone, seconds: s, per_second: stats.itemsDone / s }) + '\n');
});
