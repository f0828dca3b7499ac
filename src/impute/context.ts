// The run-level checks every method shares: the context (seed, threads) and the target row range.
// Stated once here, so every method, the `impute` command and the kernel helpers accept exactly the
// same values and word their errors the same way.
import type { Matrix } from '../tables/matrix.js';
import type { ImputeContext } from './types.js';

/** Seeds are 32-bit: the engine derives them as such, and the run config accepts [0, 2^32). */
export const SEED_LIMIT = 2 ** 32;
export const SEED_RULE = 'a non-negative integer < 2^32';
export const THREADS_RULE = 'an integer >= 0, 0 = all cores';

export function isValidSeed(seed: unknown): seed is number {
  return typeof seed === 'number' && Number.isInteger(seed) && seed >= 0 && seed < SEED_LIMIT;
}

export function isValidThreads(threads: unknown): threads is number {
  return typeof threads === 'number' && Number.isInteger(threads) && threads >= 0;
}

/** `threads`, or a RangeError naming `method` when it is not an integer >= 0. */
export function checkThreads(method: string, threads: unknown): number {
  if (!isValidThreads(threads)) throw new RangeError(`${method}: threads must be ${THREADS_RULE} (got ${String(threads)})`);
  return threads;
}

/** `ctx`, or a RangeError naming `method` and the field: seed in [0, 2^32), threads >= 0. */
export function checkContext(method: string, ctx: ImputeContext): ImputeContext {
  if (!isValidSeed(ctx.seed)) throw new RangeError(`${method}: seed must be ${SEED_RULE} (got ${String(ctx.seed)})`);
  checkThreads(method, ctx.threads);
  return ctx;
}

/** Throws naming `method` when targetStart is not a row index of `data` (nRows = no target row). */
export function checkTargetStart(method: string, data: Matrix, targetStart: number): void {
  if (!Number.isInteger(targetStart) || targetStart < 0 || targetStart > data.nRows)
    throw new RangeError(`${method}: targetStart must be an integer in [0, ${data.nRows}] (got ${targetStart})`);
}
