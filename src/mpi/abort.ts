// Abort discipline (as mpi4py's `python -m mpi4py`): an uncaught exception or unhandled rejection
// on ANY rank logs the error, flushes this rank's logs, then MPI_Aborts the whole job, so a job
// never hangs with one rank gone. Without MPI the process exits non-zero.
import { configureLogging, flushLogs, log, logNow } from '../log/logger.js';
import { detectLaunch } from './launch.js';
import type { Communicator } from './world.js';

let installed = false;
let dying = false;

/** Grace period for log flushing before the abort fires regardless. */
const FLUSH_MS = 1500;

/**
 * An error another rank reported before aborting the job itself (a worker's TAG_ERROR): this rank
 * logs it and leaves the abort to that rank, so the job ends through the failing rank's MPI_Abort
 * (its log says so) rather than through a race between two aborts. If that abort does not come
 * within PEER_ABORT_GRACE_MS (the rank hangs), this rank aborts the job.
 */
export class PeerAbortingError extends Error {
  override readonly name = 'PeerAbortingError';
}
const PEER_ABORT_GRACE_MS = 30_000;

export function abortJob(world: Communicator | undefined, err: unknown, origin: string): void {
  if (dying) return;
  dying = true;
  // Without a world (creating it failed) the rank is the one the launcher announced, and logging
  // was never set up for it: console only, so the error still reaches the job's stderr.
  const rank = world?.rank ?? detectLaunch().expectedRank ?? 0;
  if (!world) {
    try {
      configureLogging({ rank, console: true });
    } catch {
      // the fallback below writes to stderr directly
    }
  }
  const text = describeError(err);
  try {
    log.error(`${origin} on rank ${rank}: ${text}`);
  } catch {
    process.stderr.write(`[Rank ${rank}] ${origin}: ${text}\n`);
  }
  const finish = (): void => {
    if (world?.isMpi) {
      // Written at once, past winston's stream: on disk before the abort takes the process down.
      logNow('error', `rank ${rank}: aborting every rank of the job (MPI_Abort)`);
      world.abort(1);
    }
    process.exit(1);
  };
  if (err instanceof PeerAbortingError && world?.isMpi) {
    void flushLogs(FLUSH_MS);
    setTimeout(finish, PEER_ABORT_GRACE_MS);
    return;
  }
  setTimeout(finish, FLUSH_MS + 500);
  void flushLogs(FLUSH_MS).then(finish, finish);
}

/** Errors about the user's input (arguments, config, tables) or setup: their message says it all. */
const INPUT_ERRORS = new Set(['ConfigError', 'TableInputError', 'OptionError', 'MpiNotBuiltError', 'PeerAbortingError']);

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (INPUT_ERRORS.has(err.name) || err.message.startsWith('--')) return err.message;
  return err.stack ?? err.message;
}

export function installAbortOnError(getWorld: () => Communicator | undefined): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', (err) => abortJob(getWorld(), err, 'uncaught exception'));
  process.on('unhandledRejection', (err) => abortJob(getWorld(), err, 'unhandled rejection'));
}
