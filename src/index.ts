// Public API of hierimpute (the CLI is dist/main.js).
export type { Matrix } from './tables/matrix.js';
export { makeMatrix } from './tables/matrix.js';
export { readTable, writeTable, readMatrix, writeMatrix } from './tables/io.js';
export { discoverDatasets, type Dataset } from './tables/datasets.js';
export { TableInputError } from './tables/errors.js';

export type { Imputer, ImputeContext, MethodName, OptionDoc } from './impute/types.js';
export { getImputer, listMethods } from './impute/registry.js';
export { parseParams } from './impute/options.js';

export { validateConfig, readConfigFile, presetConfig, PRESETS, ConfigError, type RunConfig, type BandSpec } from './engine/config.js';
export { expandSweep, prefixNodeCount, type Sequence } from './engine/sweep.js';
export { bandEdges, assignBands } from './engine/bands.js';
export { hierarchicalImpute, type HierarchicalResult } from './engine/hierarchical.js';
export { runOneGroup, type GroupResult } from './engine/group.js';
export { runSweep, type RunOptions } from './farm/run.js';

export { getWorld, type Communicator, type Message } from './mpi/world.js';
export { TAG_TASK, TAG_DONE, TAG_STOP, TAG_ERROR, ANY_SOURCE, ANY_TAG } from './mpi/tags.js';
export { detectLaunch, type Launch } from './mpi/launch.js';

export { tryClaim, readOwner, isStale, DEFAULT_LEASE_MS, type LockHandle, type ClaimOptions, type LockOwnerInfo } from './locks/index.js';
