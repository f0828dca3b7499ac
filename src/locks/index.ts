export { DEFAULT_LEASE_MS, isStale, readOwner, tryClaim } from './lockfile.js';
export type { ClaimOptions, LockHandle, LockOwnerInfo } from './lockfile.js';
