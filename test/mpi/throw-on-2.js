// Rank 2 throws while every other rank waits for a message that never comes.
import { withWorld } from '../../dist/cli/lifecycle.js';
import { log } from '../../dist/log/logger.js';

const logDir = process.argv[2];
await withWorld({ logDir }, async (w) => {
  await w.barrier();
  log.info(`rank ${w.rank} reached the barrier`);
  if (w.rank === 2) throw new Error('deliberate failure on rank two');
  await w.recv({ source: (w.rank + 1) % w.size });
});
