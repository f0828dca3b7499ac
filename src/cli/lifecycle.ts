// How every command runs: create the world (MPI only under a launcher), configure logging with
// the rank, turn any uncaught error into a job-wide abort, and finalize + exit 0 on success.
import { abortJob, installAbortOnError } from '../mpi/abort.js';
import { getWorld, worldIfCreated, type Communicator } from '../mpi/world.js';
import { configureLogging, flushLogs, type LogLevel } from '../log/logger.js';

export interface LifecycleOptions {
  logLevel?: LogLevel;
  /** Folder for per-rank and shared logs; omitted = console only. */
  logDir?: string;
  runLog?: string;
}

export async function withWorld(opts: LifecycleOptions, body: (world: Communicator) => Promise<number | void>): Promise<never> {
  installAbortOnError(worldIfCreated);
  let world: Communicator | undefined;
  try {
    world = getWorld();
    configureLogging({ rank: world.rank, dir: opts.logDir, runLog: opts.runLog, level: opts.logLevel });
    const code = (await body(world)) ?? 0;
    await flushLogs();
    world.finalize();
    process.exit(code);
  } catch (err) {
    abortJob(world ?? worldIfCreated(), err, 'error');
    return await new Promise<never>(() => {});
  }
}
