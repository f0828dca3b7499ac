// Public API of hierimpute (`import ... from 'hierimpute'`); the CLI is dist/main.js (`hierimpute`).
// Subpaths load less: `hierimpute/tables` (table I/O), `hierimpute/locks` (lock files),
// `hierimpute/mpi` (the world communicator, without the engine).
//
// One table, one sequence, in memory: `hierarchicalImpute(matrix, config, methods)`.
// A whole sweep over a folder of tables, checkpointed and resumable: `runSweep(getWorld(), {...})`.
// One method on one table: `getImputer(name).impute(matrix, 0, parseParams(imputer, []), ctx)`.

// ---- tables ----
/** Named Float32 columns, NaN = missing: the in-memory table every method works on. */
export type { Matrix } from './tables/matrix.js';
/** Builds a Matrix from names and columns (checked for equal lengths; not copied). */
export { makeMatrix } from './tables/matrix.js';
/** Read / write a .csv or .arrow file (by extension; writes are atomic), as a Matrix or an Arrow table. */
export { readTable, writeTable, readMatrix, writeMatrix, type TableIoOptions } from './tables/io.js';
/** The datasets of a folder: every `*.csv` directly in it, named after the file (`-` -> `_`). */
export { discoverDatasets, type Dataset } from './tables/datasets.js';
/** The error for unusable table input, naming file, line and column. */
export { TableInputError } from './tables/errors.js';

// ---- imputation methods ----
/** The method interface and its option documentation. */
export type { Imputer, ImputeContext, MethodName, OptionDoc } from './impute/types.js';
export type { OptionSchema, OptionSpec, OptionsOf } from './impute/schema.js';
/** The registry: a method by name (throws listing the valid names), and every method. */
export { getImputer, listMethods, type AnyImputer } from './impute/registry.js';
/** A method's options from `key=value` strings, merged over its defaults; OptionError on a bad one. */
export { parseParams, OptionError } from './impute/options.js';

// ---- configuration and the hierarchical engine ----
/** A run configuration: validate an object, read a JSON/YAML file, or take a named preset. */
export {
  validateConfig,
  readConfigFile,
  presetConfig,
  PRESETS,
  ConfigError,
  type RunConfig,
  type BandSpec,
  type BandAllMissing,
} from './engine/config.js';
/** The sequences of a sweep (Cartesian product of the bands' methods) and its prefix-tree size. */
export { expandSweep, prefixNodeCount, sweepSize, type Sequence } from './engine/sweep.js';
/** Band edges from widths, and each row's band by its missing fraction. */
export { bandEdges, assignBands, type BandAssignment } from './engine/bands.js';
/** One table imputed with one sequence, in memory (same result as the sweep's output). */
export { hierarchicalImpute, type HierarchicalResult } from './engine/hierarchical.js';

// ---- sweeps ----
/**
 * Runs a sweep (every sequence × every `*.csv` of `dataDir`) into `outDir`, resuming from its
 * checkpoints; under MPI call it on every rank (rank 0 dispatches). Resolves to the exit code.
 */
export { runSweep, plainSweep, type RunOptions, type SweepMode, type SweepContext } from './farm/run.js';
/**
 * `runSweep(world, { ..., mode: evaluatedSweep(options) })`: hold out cells, score every
 * sequence (or, with the configuration's search.beam, search band by band), recommend a table, optionally refit it.
 */
export { evaluatedSweep } from './eval/evaluated-sweep.js';
export type { EvaluateOptions } from './eval/evaluate.js';
/** Default lease of a node claim (ms): how long a lost rank's claim blocks its node (`RunOptions.leaseMs`). */
export { DEFAULT_LEASE_MS } from './locks/index.js';
/** Where log records go (console on rank 0, per-rank and shared log files) and waiting for them to be written. */
export { configureLogging, flushLogs, type LoggingOptions, type LogLevel } from './log/logger.js';

// ---- MPI ----
/** The world of this process: real MPI under mpiexec/srun, one rank otherwise; finalize() it when done. */
export { getWorld, MpiNotBuiltError, type Communicator, type Message } from './mpi/world.js';
/** The message tags `send` accepts (the task farm's protocol uses them too) and the recv/probe wildcards. */
export { TAG_TASK, TAG_DONE, TAG_STOP, TAG_ERROR, TAG_HELLO, ANY_SOURCE, ANY_TAG } from './mpi/tags.js';
/** Which launcher (if any) started this process. */
export { detectLaunch, type Launch } from './mpi/launch.js';

// ---- lock files ----
/** Claim a unit of work through a lock file (heartbeat, stale takeover); see docs/locks.md. */
export { tryClaim, readOwner, isStale, type LockHandle, type ClaimOptions, type LockOwnerInfo } from './locks/index.js';
