// Test-only fault injection, read from HIERIMPUTE_FAULT_INJECT on worker ranks. Tests use it to
// reach a failure path at a known point instead of racing a kill against the job's progress.
//   worker:<rank>  that worker fails its first task through the normal error path
//                  (TAG_ERROR to rank 0, then a job-wide abort);
//   hold:<n>       every worker computes n nodes, then claims its next node and holds that claim
//                  (heartbeat running) until the process is killed: the state of a rank whose host
//                  is lost mid-node. It logs one line ("holding the claim") a test can wait for.
//   hold:<n>:restart<k>
//                  the same, but only in the run whose SLURM_RESTART_COUNT (unset = 0) is k; any
//                  other run computes normally. A SLURM job that requeues itself keeps its
//                  environment, so this lets its first run (k = 0) stand still mid-sweep until the
//                  time limit while the requeued run (restart 1) finishes the sweep.
import { log } from '../log/logger.js';
import type { NodeRef } from '../engine/store.js';

const VARIABLE = 'HIERIMPUTE_FAULT_INJECT';

function spec(): string | undefined {
  return process.env[VARIABLE] || undefined;
}

/** Throws the injected error when HIERIMPUTE_FAULT_INJECT=worker:<this rank>. */
export function injectedFault(rank: number): void {
  if (spec() === `worker:${rank}`) throw new Error(`injected fault on worker rank ${rank} (${VARIABLE})`);
}

/**
 * With HIERIMPUTE_FAULT_INJECT=hold:<n>[:restart<k>]: the hook to call once a node is claimed,
 * before it is computed; it returns at once for the first n nodes and never for the next one.
 * Undefined (no hold) without the variable, or when restart<k> is given and this run's
 * SLURM_RESTART_COUNT (unset = 0) is not k.
 */
export function holdAfterClaims(rank: number): ((node: NodeRef) => Promise<void>) | undefined {
  const m = /^hold:(\d+)(?::restart(\d+))?$/.exec(spec() ?? '');
  if (!m) return undefined;
  if (m[2] !== undefined && Number(process.env.SLURM_RESTART_COUNT ?? 0) !== Number(m[2])) return undefined;
  const n = Number(m[1]);
  let computed = 0;
  return async (node) => {
    if (computed++ < n) return;
    log.info(`${VARIABLE}=${spec()}: rank ${rank} holding the claim of dataset ${node.dataset} band ${node.band} until killed`);
    // A timer keeps the event loop (and so the process and its lock heartbeat) alive.
    await new Promise<never>(() => setInterval(() => undefined, 1 << 30));
  };
}
