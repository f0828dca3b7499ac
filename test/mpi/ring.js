// Ring exchange + ANY_SOURCE gather on rank 0; prints one JSON line from rank 0.
import { withWorld } from '../../dist/cli/lifecycle.js';
import { TAG_DONE, TAG_TASK } from '../../dist/mpi/tags.js';

await withWorld({}, async (w) => {
  const next = (w.rank + 1) % w.size;
  const prev = (w.rank - 1 + w.size) % w.size;
  // JSON in the ring, then a 1 MiB bytes payload (zero-copy path) with a checkable pattern.
  const sent = w.send(next, TAG_TASK, { from: w.rank, value: w.rank * 10 + 1 });
  const got = await w.recv({ source: prev, tag: TAG_TASK });
  await sent;
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i += 4096) big[i] = (w.rank + i / 4096) & 0xff;
  const bigSent = w.send(next, TAG_TASK, big);
  const into = Buffer.alloc((1 << 20) + 16);
  const bigGot = await w.recv({ source: prev, tag: TAG_TASK, into });
  await bigSent;
  let patternOk = bigGot.kind === 'bytes' && bigGot.length === 1 << 20 && bigGot.payload.buffer === into.buffer;
  for (let i = 0; patternOk && i < 1 << 20; i += 4096) patternOk = bigGot.payload[i] === ((prev + i / 4096) & 0xff);
  const report = { rank: w.rank, from: got.source, value: got.payload.value, tag: got.tag, patternOk };
  if (w.rank === 0) {
    const all = [report];
    for (let i = 1; i < w.size; i++) all.push((await w.recv({ tag: TAG_DONE })).payload);
    all.sort((a, b) => a.rank - b.rank);
    process.stdout.write(JSON.stringify(all) + '\n');
  } else {
    await w.send(0, TAG_DONE, report);
  }
  await w.barrier();
});
