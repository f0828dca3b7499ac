// Rank 0 hands out tasks to whoever is free, then TAG_STOP; workers count what they did.
import { withWorld } from '../../dist/cli/lifecycle.js';
import { TAG_DONE, TAG_STOP, TAG_TASK } from '../../dist/mpi/tags.js';

const TASKS = Number(process.argv[2] ?? 40);
await withWorld({}, async (w) => {
  if (w.rank === 0) {
    let next = 0;
    let sum = 0;
    const perWorker = {};
    for (let r = 1; r < w.size; r++) await w.send(r, TAG_TASK, { id: next++ });
    let inFlight = w.size - 1;
    while (inFlight > 0) {
      const m = await w.recv({ tag: TAG_DONE });
      sum += m.payload.result;
      perWorker[m.source] = (perWorker[m.source] ?? 0) + 1;
      if (next < TASKS) await w.send(m.source, TAG_TASK, { id: next++ });
      else {
        await w.send(m.source, TAG_STOP, null);
        inFlight--;
      }
    }
    process.stdout.write(JSON.stringify({ sum, perWorker }) + '\n');
  } else {
    for (;;) {
      const m = await w.recv({ source: 0 });
      if (m.tag === TAG_STOP) break;
      await w.send(0, TAG_DONE, { result: m.payload.id * m.payload.id });
    }
  }
});
