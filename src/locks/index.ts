// Public API of the lock files (`hierimpute/locks`): claim a unit of work through a lock file in a
// shared folder, with a heartbeat while held and takeover of stale claims (see docs/locks.md).
export { DEFAULT_LEASE_MS, isStale, readOwner, tryClaim } from './lockfile.js';
export type { ClaimOptions, LockHandle, LockOwnerInfo } from './lockfile.js';
