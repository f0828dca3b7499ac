// The typed face of hierimpute_core.node: every function the addon exports, with its exact
// signature, in one place. Modules call coreAddon() and get this interface; nothing else declares
// a piece of the addon or casts it.
//
// Native sources: native/core/addon.cc (xgboostVersion), lockfile_binding.cc (lock*),
// csv_binding.cc (readCsv, parseCsv, writeCsv), kernels_binding.cc (knnImpute, simpleImpute),
// trees_binding.cc (miceImpute, xgboostImpute, bayesianRidgeFit), engine_binding.cc (row / band
// helpers), score_binding.cc (holdoutMask, scoreCells, observedStd), neural_binding.cc (nn*).
// Every function checks its arguments natively (native/core/args.h) and throws a TypeError or
// RangeError starting with its own name; async ones reject with Errors carrying `code` (and
// `column` / `row`) for kernel failures (native/core/promise_worker.h).
import { loadAddon } from './load.js';

// ---- shared shapes ----

/** What a kernel does with a column that has no observed value in the fit rows. */
export type EmptyColumnsRule = 'error' | 'zero';

/** The Error a kernel Promise rejects with (code HIERIMPUTE_EMPTY_COLUMN / _INFINITE_VALUE / _KERNEL). */
export interface NativeKernelError extends Error {
  code?: string;
  /** 0-based column the error is about. */
  column?: number;
  /** 0-based row the error is about. */
  row?: number;
}

// ---- tables (csv_binding.cc) ----

export interface NativeCsvTable {
  names: string[];
  columns: Float32Array[];
  nRows: number;
}

// ---- tabular kernels (kernels_binding.cc) ----

/** Counters returned by the native tabular kernels. */
export interface KernelStats {
  /** Target rows holding at least one missing cell. */
  rowsWithMissing: number;
  /** Missing target cells filled. */
  cellsImputed: number;
  /** Cells filled with 0 because their column had no observed fit value (empty_columns=zero). */
  emptyColumnCells: number;
  /** knn: cells whose every potential donor was at NaN distance (filled with the column mean). */
  meanFallbackCells: number;
  /** knn: cells that took donors at NaN distance to reach k (uniform) or ignored them (distance). */
  nanDonorCells: number;
}

export interface KernelResult {
  columns: Float32Array[];
  stats: KernelStats;
}

export interface KnnNativeOptions {
  nNeighbors?: number;
  weights?: 'uniform' | 'distance';
  emptyColumns?: EmptyColumnsRule;
  threads?: number;
}

export interface SimpleNativeOptions {
  emptyColumns?: EmptyColumnsRule;
  threads?: number;
}

// ---- tree kernels (trees_binding.cc) ----

export type MiceEstimatorName = 'extratrees' | 'random_forest' | 'xgboost' | 'bayesian_ridge';
/** BayesianRidge MICE divergence: clip to the observed range and rerun, fail, or leave it (sklearn). */
export type DivergenceRule = 'clip' | 'error' | 'off';

export interface MiceNativeParams {
  estimator: MiceEstimatorName;
  /** Trees (ExtraTrees, random forest) or XGBoost boosting rounds; ignored by bayesian_ridge. */
  nEstimators: number;
  /** ExtraTrees / random forest: 0 = unlimited; XGBoost: tree depth. */
  maxDepth: number;
  learningRate: number;
  maxIter: number;
  tol: number;
  seed: number;
  threads: number;
  /** A column with no observed value: 'error' (default) or 'zero'. */
  emptyColumns?: EmptyColumnsRule;
  /** bayesian_ridge only: what a divergent run does (default 'clip'). */
  divergence?: DivergenceRule;
  /** bayesian_ridge: the regressor's own iteration cap and tolerance (sklearn n_iter / tol). */
  bayesMaxIter?: number;
  bayesTol?: number;
  /** XGBoost as the estimator: its tree_method (default 'hist'). */
  treeMethod?: string;
}

export interface MiceNativeResult {
  columns: Float32Array[];
  /** Sweeps run (sklearn `n_iter_`). */
  nIter: number;
  /** True when the tolerance stopped the sweeps before max_iter. */
  converged: boolean;
  /** bayesian_ridge: the default run diverged and the result is the clipped rerun. */
  clipped: boolean;
  /** bayesian_ridge: what diverged ('' when nothing did). */
  divergence: string;
}

export interface XgboostNativeParams {
  nEstimators: number;
  maxDepth: number;
  learningRate: number;
  /** XGBoost's tree_method; an unknown one is rejected by XGBoost itself. */
  treeMethod: string;
  seed: number;
  threads: number;
  /** A column to impute with no observed value: 'error' (default) or 'zero'. */
  emptyColumns?: EmptyColumnsRule;
}

export interface BayesianRidgeFit {
  coef: Float64Array;
  intercept: number;
  alpha: number;
  lambda: number;
  nIter: number;
}

// ---- engine helpers (engine_binding.cc) ----

export interface ColumnStats {
  min: Float64Array;
  max: Float64Array;
  mean: Float64Array;
  observed: Int32Array;
}

// ---- evaluation (score_binding.cc) ----

export interface HiddenCells {
  /** Row (0-based) of each hidden cell, row-major order (row, then column). */
  readonly rows: Int32Array;
  /** Column (0-based) of each hidden cell. */
  readonly cols: Int32Array;
  /** The observed value that was hidden. */
  readonly values: Float32Array;
}

// ---- neural kernels (neural_binding.cc) ----

/** Model and training settings of nnRecurrent / nnRecurrentCheck (all required). */
export interface NnRecurrentConfig {
  cell: 'lstm' | 'gru';
  objective: 'observed' | 'dynamic-mask';
  d: number;
  features: 1 | 2;
  units: number;
  latent: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  maskRate: number;
  visibleWeight: number;
  patience: number;
  refineIterations: number;
  /** Six uint32 seeds of the weight initialisers. */
  initSeeds: readonly number[];
  /** Two uint32 seeds: shuffling, masking. */
  streamSeeds: readonly number[];
  threads: number;
}

export interface NnRecurrentOptions extends NnRecurrentConfig {
  n: number;
  targetStart: number;
  trainRows: Int32Array;
  valRows?: Int32Array;
  /** valRows.length x d hidden-cell flags (0/1). */
  valHidden?: Float32Array;
}

export interface NnRecurrentResult {
  pred: Float32Array;
  epochsRun: number;
  bestEpoch: number;
  bestScore: number;
  lastLoss: number;
}

/** Model and training settings of nnGain / nnGainCheck (all required). */
export interface NnGainConfig {
  d: number;
  hidden: number;
  iterations: number;
  batchSize: number;
  hintRate: number;
  alpha: number;
  learningRate: number;
  /** Three uint32 seeds each of the generator's and discriminator's initialisers. */
  initSeedsG: readonly number[];
  initSeedsD: readonly number[];
  /** Three uint32 seeds: batches, noise, imputation. */
  streamSeeds: readonly number[];
}

export interface NnGainOptions extends NnGainConfig {
  n: number;
  targetStart: number;
}

// ---- locks (lockfile_binding.cc) ----

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

// ---- the addon ----

export interface CoreAddon {
  /** Version of the libxgboost the addon runs against, "major.minor.patch". */
  xgboostVersion(): string;

  /** null = held by a live owner (or a live taker is replacing a stale claim). heartbeatMs 0 = none. */
  lockTryClaim(path: string, leaseMs: number, heartbeatMs: number, jobId: string, rank: number): NativeLock | null;
  lockReadOwner(path: string): NativeOwner | null;
  lockIsStale(path: string, leaseMs: number): boolean;

  /**
   * Parses a numeric CSV file off the JS thread (see native/core/csv.h for the rules).
   * threads: 1 (default) = one thread, 0 = all cores; the result never depends on it.
   * finite: reject cells that read as ±inf (kind 'not_imputable', naming line and column).
   */
  readCsv(path: string, threads?: number, finite?: boolean): Promise<NativeCsvTable>;
  /**
   * Parses CSV bytes already in memory (a Buffer is a Uint8Array), with readCsv's rules and
   * errors; `file` names the input in error messages only. The bytes are read in place: do not
   * change them until the Promise settles.
   */
  parseCsv(data: Uint8Array, file: string, threads?: number, finite?: boolean): Promise<NativeCsvTable>;
  /** Writes a numeric CSV file atomically (temp file + fsync + rename + fsync of the folder). */
  writeCsv(path: string, names: readonly string[], columns: readonly Float32Array[], nRows: number, threads?: number): Promise<void>;

  knnImpute(
    fitColumns: readonly Float32Array[],
    targetColumns: readonly Float32Array[],
    names: readonly string[],
    options?: KnnNativeOptions,
  ): Promise<KernelResult>;
  simpleImpute(
    statistic: 'mean' | 'median',
    fitColumns: readonly Float32Array[],
    targetColumns: readonly Float32Array[],
    names: readonly string[],
    options?: SimpleNativeOptions,
  ): Promise<KernelResult>;

  miceImpute(columns: readonly Float32Array[], targetStart: number, names: readonly string[], params: MiceNativeParams): Promise<MiceNativeResult>;
  xgboostImpute(
    columns: readonly Float32Array[],
    targetStart: number,
    names: readonly string[],
    params: XgboostNativeParams,
  ): Promise<{ columns: Float32Array[] }>;
  /** BayesianRidge().fit(X, y) with X given column by column (parity tests). */
  bayesianRidgeFit(columns: readonly Float64Array[], y: Float64Array, params?: { maxIter?: number; tol?: number }): BayesianRidgeFit;

  rowMissingCounts(columns: readonly Float32Array[]): Int32Array;
  takeRows(columns: readonly Float32Array[], rows: Int32Array): Float32Array[];
  scatterRows(target: readonly Float32Array[], rows: Int32Array, source: readonly Float32Array[]): void;
  columnStats(columns: readonly Float32Array[]): ColumnStats;
  /** Restores observed cells of `original`, clips imputed ones to [min, max]; returns NaN cells left. */
  finishBand(imputed: readonly Float32Array[], original: readonly Float32Array[], min: Float64Array, max: Float64Array): number;
  fillColumns(columns: readonly Float32Array[], which: Uint8Array, values: Float64Array): void;
  /** The first ±Infinity cell in row-major order, as [row, column], or null. */
  firstInfinite(columns: readonly Float32Array[]): [number, number] | null;

  /** Hides round(share × observed) cells per column (never leaving fewer than minKeep observed). */
  holdoutMask(
    columns: readonly Float32Array[],
    share: number,
    seedHi: number,
    seedLo: number,
    minKeep: number,
  ): HiddenCells & { masked: Float32Array[] };
  /** Squared error of each hidden cell summed per (band of its row, column): index band × k + column. */
  scoreCells(
    imputed: readonly Float32Array[],
    rows: Int32Array,
    cols: Int32Array,
    values: Float32Array,
    rowBand: Int32Array,
    nBands: number,
  ): { sse: Float64Array; count: Int32Array };
  /** Population standard deviation (ddof 0) of each column's observed cells; NaN when none. */
  observedStd(columns: readonly Float32Array[]): Float64Array;

  /** Trains the recurrent autoencoder on row-major n x d `x` / `mask`; predicts the target rows. */
  nnRecurrent(x: Float32Array, mask: Float32Array, options: NnRecurrentOptions): Promise<NnRecurrentResult>;
  /** Trains GAIN on row-major n x d `x` / `mask`; the target rows' generator output (scaled). */
  nnGain(x: Float32Array, mask: Float32Array, options: NnGainOptions): Promise<Float32Array>;
  /** Loss and gradient in double for the finite-difference test; params null = the initial ones. */
  nnRecurrentCheck(
    options: NnRecurrentConfig,
    params: Float64Array | null,
    inputs: Float64Array,
    target: Float64Array,
    weight: Float64Array,
    rows: number,
  ): { loss: number; grad: Float64Array; params: Float64Array };
  /** GAIN's discriminator (which 0) or generator (which 1) loss and gradient in double. */
  nnGainCheck(
    options: NnGainConfig,
    which: 0 | 1,
    paramsG: Float64Array,
    paramsD: Float64Array,
    x: Float64Array,
    m: Float64Array,
    xTilde: Float64Array,
    hint: Float64Array,
    rows: number,
  ): { loss: number; grad: Float64Array };
}

/**
 * The name of every function of CoreAddon. `satisfies` makes the compiler reject a list that misses
 * a declared function or names an undeclared one; test/bindings.test.js checks it against the
 * addon's exports and needs a bad-argument case for each.
 */
const CORE_FUNCTIONS = {
  xgboostVersion: true,
  lockTryClaim: true,
  lockReadOwner: true,
  lockIsStale: true,
  readCsv: true,
  parseCsv: true,
  writeCsv: true,
  knnImpute: true,
  simpleImpute: true,
  miceImpute: true,
  xgboostImpute: true,
  bayesianRidgeFit: true,
  rowMissingCounts: true,
  takeRows: true,
  scatterRows: true,
  columnStats: true,
  finishBand: true,
  fillColumns: true,
  firstInfinite: true,
  holdoutMask: true,
  scoreCells: true,
  observedStd: true,
  nnRecurrent: true,
  nnGain: true,
  nnRecurrentCheck: true,
  nnGainCheck: true,
} as const satisfies Record<keyof CoreAddon, true>;

export const coreFunctionNames: readonly (keyof CoreAddon)[] = Object.keys(CORE_FUNCTIONS) as (keyof CoreAddon)[];

let checked: CoreAddon | undefined;

/**
 * The loaded core addon. The first call checks that it exports every declared function, so an
 * addon built from older sources fails here, naming what it lacks, rather than at a call site.
 */
export function coreAddon(): CoreAddon {
  if (checked) return checked;
  const addon = loadAddon<Record<string, unknown>>('hierimpute_core');
  const missing = coreFunctionNames.filter((name) => typeof addon[name] !== 'function');
  if (missing.length > 0)
    throw new Error(`hierimpute_core.node lacks ${missing.join(', ')}: it was built from older sources; rebuild it (npm run build:native)`);
  checked = addon as unknown as CoreAddon;
  return checked;
}
