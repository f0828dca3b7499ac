#!/usr/bin/env node
// Entry point: `hierimpute ...`, `node dist/main.js ...`, `mpiexec -n N node dist/main.js ...`.
import { packageVersion } from './bindings/paths.js';

// `hierimpute sequences | head`: a closed pipe ends the listing quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

try {
  const args = process.argv.slice(2);
  // `hierimpute --version` answers before the command-line library loads (what yargs would print).
  if (args.length === 1 && args[0] === '--version') process.stdout.write(`${packageVersion()}\n`);
  else await (await import('./cli/cli.js')).runCli(args);
} catch (err) {
  // Errors outside a running world (bad arguments, a bad config for `sequences`): one clear line.
  process.stderr.write(`hierimpute: ${err instanceof Error ? err.message : String(err)}\n`);
  if (process.env.HIERIMPUTE_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
}
