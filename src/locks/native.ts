// Typed shape of the lock-file functions registered by native/core/lockfile_binding.cc.
import { loadAddon } from '../bindings/load.js';

/** Owner record as the addon returns it (rank -1 = not given). */
export interface NativeOwner {
  host: string;
  pid: number;
  jobId: string;
  rank: number;
  createdAtMs: number;
  token: string;
}

/** A held claim; its heartbeat runs on a native thread until release() or garbage collection. */
export interface NativeLock {
  owner(): NativeOwner;
  /** Reads the lock file: false once released, replaced, removed, or lost by the heartbeat. */
  stillOwned(): boolean;
  /** Removes the lock if still ours; true when this call removed it. Idempotent. */
  release(): boolean;
  /** True once the heartbeat thread found the lock gone or carrying another token. */
  heartbeatLost(): boolean;
  /** Number of mtime refreshes made by the heartbeat thread. */
  beats(): number;
}

export interface LocksAddon {
  /** null = held by a live owner (or a live taker is replacing a stale claim). heartbeatMs 0 = none. */
  lockTryClaim(path: string, leaseMs: number, heartbeatMs: number, jobId: string, rank: number): NativeLock | null;
  lockReadOwner(path: string): NativeOwner | null;
  lockIsStale(path: string, leaseMs: number): boolean;
}

export function locksAddon(): LocksAddon {
  return loadAddon<LocksAddon>('hierimpute_core');
}
