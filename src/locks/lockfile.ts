// Lock files that claim one unit of work on a shared filesystem (see docs/locks.md).
// Short synchronous native calls; the heartbeat that keeps a claim fresh runs on a native thread,
// so it keeps going while the JS thread is busy in a long computation.
import { resolve } from 'node:path';

import { coreAddon, type NativeLock, type NativeOwner } from '../bindings/core.js';

/** Default lease: a claim whose last heartbeat is older than this is stale. */
export const DEFAULT_LEASE_MS = 120_000;

export interface LockOwnerInfo {
  host: string;
  pid: number;
  /** SLURM_JOB_ID (or PBS_JOBID) of the claimer, or the caller-given id; '' when none. */
  jobId: string;
  rank: number | null;
  createdAtMs: number;
  /** Random, unique to this claim (32 hex chars). */
  token: string;
}

export interface ClaimOptions {
  /** Lease in ms (default 120 000). Must exceed the heartbeat interval plus the clock skew between hosts. */
  leaseMs?: number;
  /** Heartbeat interval in ms (default leaseMs / 6); 0 = no heartbeat (the claim expires after the lease). */
  heartbeatMs?: number;
  /** Job id stored in the owner record (default: SLURM_JOB_ID, else PBS_JOBID, else ''). */
  jobId?: string;
  /** MPI rank stored in the owner record (default null). */
  rank?: number | null;
}

export interface LockHandle {
  /** Absolute path of the lock file. */
  readonly path: string;
  readonly owner: LockOwnerInfo;
  /** Reads the lock file now: false once released, removed, taken over, or lost by the heartbeat. */
  stillOwned(): boolean;
  /** Removes the lock if it is still ours (never someone else's). Idempotent. */
  release(): void;
  /** True once the heartbeat thread found the lock gone or carrying another owner's token. */
  heartbeatLost(): boolean;
}

function fail(message: string): never {
  throw new Error(`hierimpute lock: ${message}`);
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) fail(`the lock path must be a non-empty string (got ${String(path)})`);
  if (path.includes('\0')) fail(`the lock path must not contain NUL`);
  return resolve(path);
}

function checkLease(leaseMs: unknown, option = 'leaseMs'): number {
  if (typeof leaseMs !== 'number' || !Number.isSafeInteger(leaseMs) || leaseMs <= 0) {
    fail(`option ${option} must be a positive integer number of milliseconds (got ${String(leaseMs)})`);
  }
  return leaseMs;
}

function toOwner(raw: NativeOwner): LockOwnerInfo {
  return {
    host: raw.host,
    pid: raw.pid,
    jobId: raw.jobId,
    rank: raw.rank >= 0 ? raw.rank : null,
    createdAtMs: raw.createdAtMs,
    token: raw.token,
  };
}

interface ResolvedOptions {
  leaseMs: number;
  heartbeatMs: number;
  jobId: string;
  rank: number;
}

function resolveOptions(opts: ClaimOptions): ResolvedOptions {
  const leaseMs = checkLease(opts.leaseMs ?? DEFAULT_LEASE_MS);
  const heartbeatMs = opts.heartbeatMs ?? Math.max(1, Math.floor(leaseMs / 6));
  if (!Number.isSafeInteger(heartbeatMs) || heartbeatMs < 0) {
    fail(`option heartbeatMs must be an integer >= 0 (got ${String(opts.heartbeatMs)})`);
  }
  if (heartbeatMs >= leaseMs) {
    fail(
      `option heartbeatMs (${heartbeatMs}) must be smaller than leaseMs (${leaseMs}), ideally leaseMs / 4 or less; otherwise a live claim looks stale between heartbeats`,
    );
  }
  const jobId = opts.jobId ?? process.env.SLURM_JOB_ID ?? process.env.PBS_JOBID ?? '';
  if (typeof jobId !== 'string' || /[\n\0]/.test(jobId) || jobId.length > 256) {
    fail(`option jobId must be a string of at most 256 characters without newline or NUL (got ${JSON.stringify(jobId)})`);
  }
  const rank = opts.rank ?? null;
  if (rank !== null && (!Number.isSafeInteger(rank) || rank < 0)) {
    fail(`option rank must be null or an integer >= 0 (got ${String(rank)})`);
  }
  return { leaseMs, heartbeatMs, jobId, rank: rank ?? -1 };
}

class NativeLockHandle implements LockHandle {
  readonly path: string;
  readonly owner: LockOwnerInfo;
  readonly #native: NativeLock;

  constructor(path: string, native: NativeLock) {
    this.path = path;
    this.#native = native;
    this.owner = Object.freeze(toOwner(native.owner()));
  }

  stillOwned(): boolean {
    return this.#native.stillOwned();
  }

  release(): void {
    this.#native.release();
  }

  heartbeatLost(): boolean {
    return this.#native.heartbeatLost();
  }

  /** Number of mtime refreshes the heartbeat thread has made (diagnostics, tests). */
  heartbeats(): number {
    return this.#native.beats();
  }
}

/**
 * Claims `path` exclusively. Returns null when a live owner holds it; a stale claim (owner dead on
 * this machine, or last heartbeat older than the lease) is taken over atomically.
 * Throws (naming the path and the errno text) when the folder is missing or not writable.
 */
export function tryClaim(path: string, opts: ClaimOptions = {}): LockHandle | null {
  const abs = checkPath(path);
  const o = resolveOptions(opts);
  const native = coreAddon().lockTryClaim(abs, o.leaseMs, o.heartbeatMs, o.jobId, o.rank);
  return native ? new NativeLockHandle(abs, native) : null;
}

/** The owner record of the lock at `path`, or null when there is no lock. */
export function readOwner(path: string): LockOwnerInfo | null {
  const raw = coreAddon().lockReadOwner(checkPath(path));
  return raw ? toOwner(raw) : null;
}

/** True when a lock exists at `path` and is stale under `leaseMs`; false when there is none. */
export function isStale(path: string, leaseMs: number = DEFAULT_LEASE_MS): boolean {
  return coreAddon().lockIsStale(checkPath(path), checkLease(leaseMs));
}
