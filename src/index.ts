// Public API of hierimpute.
export type { Matrix } from './tables/matrix.js';
export type { Imputer, ImputeContext, MethodName, OptionDoc } from './impute/types.js';
