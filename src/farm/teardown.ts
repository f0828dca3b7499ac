// Rank 0's last word when the launcher tears the job down.
//
// When a host (or one rank) of an MPI job is lost, rank 0 learns nothing through MPI: the lost
// workers were busy computing, so no call involves them, and rank 0's pending receive (from any
// source) neither completes nor fails. What it does get is the launcher's teardown: OpenMPI 4.1's
// mpiexec, once it sees a daemon or rank gone, sends every surviving rank SIGCONT, then SIGTERM,
// then SIGKILL after a grace period (about a second). Node's default SIGTERM action ends the
// process silently, so rank 0 would leave no trace of what was lost. This handler uses that grace
// period to log, one complete record per line, which workers (rank and host) had tasks in flight:
// the lost host is among them, and their claimed nodes are what a rerun waits for (one lease).
import { flushLogs, log } from '../log/logger.js';
import type { MpiPool } from './pool.js';

/** Exit status after SIGTERM (128 + 15, what the default action would report). */
const SIGTERM_EXIT = 143;
/** Bound on the log flush: the launcher's SIGKILL follows the SIGTERM within about a second. */
const FLUSH_MS = 300;

/** Installs the SIGTERM report on rank 0 while `pool` dispatches; returns its uninstaller. */
export function reportInFlightOnSigterm(pool: MpiPool): () => void {
  const onTerm = (): void => {
    const lines = pool.describeInFlight();
    log.error(
      `rank 0: SIGTERM: the launcher is ending the job (a rank or host was lost, or the job was cancelled); ` +
        `${lines.length} worker(s) had tasks in flight${lines.length ? ':' : ''}`,
    );
    for (const line of lines) log.error(`rank 0: in flight: ${line}`);
    log.error(`rank 0: ranks by host: ${pool.describeHosts()}`);
    log.error('rank 0: rerun the same command to resume; nodes claimed by lost ranks are taken over once their claims are older than --lock-lease');
    void flushLogs(FLUSH_MS).then(() => process.exit(SIGTERM_EXIT));
  };
  process.once('SIGTERM', onTerm);
  return () => process.off('SIGTERM', onTerm);
}
