// MICE imputers (scikit-learn IterativeImputer semantics) over the native ExtraTrees / random forest /
// XGBoost / BayesianRidge kernels (native/core/kernels/iterative.h).
//
// iterative_linear is scikit-learn's default IterativeImputer(): BayesianRidge per column, computed in
// float64 (as sklearn does on a float64 table) with sklearn's evidence updates, max_iter=10, tol=1e-3.
// Its one deviation is the divergence guard (option divergence, default clip): sklearn's BayesianRidge
// MICE can blow up on tables with near-collinear columns; when an imputed value lands more than one
// observed range beyond its column's observed range (or is not finite), the run restarts with every
// imputation clipped to its column's observed [min, max] (exactly sklearn's
// IterativeImputer(min_value=col_min, max_value=col_max)); divergence=error fails instead, naming the
// column; divergence=off is sklearn unguarded. See docs/methods.md.
//
// Semantics (sklearn 1.2 IterativeImputer with initial_strategy='mean', imputation_order='ascending',
// n_nearest_features=None, sample_posterior=False, min/max_value=-inf/+inf):
//  - every missing cell starts at its column's mean over the observed cells of ALL rows of `data`;
//  - each sweep regresses every column that has missing cells (fewest missing first, ties by column
//    index) on all other columns' current values over the rows where it is observed, and replaces its
//    missing cells by the predictions; up to `max_iter` sweeps;
//  - stops early after the first sweep whose change ||X_t - X_{t-1}||_inf (numpy's matrix inf-norm:
//    the largest per-row sum of absolute changes) is below `tol` x max|observed value|;
//  - no clipping (the hierarchical engine clips to the global bounds afterwards);
//  - a single column: the mean fill is the answer (no feature to regress on);
//  - a column with no observed value in `data`: empty_columns='error' (default) rejects with an error
//    naming the column (code HIERIMPUTE_EMPTY_COLUMN; its mean is undefined); 'zero' keeps it as a
//    constant 0 column (sklearn keep_empty_features=True); sklearn's default drops the column;
//  - no missing cell in the target rows: the rows are returned unchanged, nothing is fitted.
// Randomness of sweep i, column j, tree t comes from a stream keyed by (seed, i, j, t), so the result is
// bit-identical for any `threads` (trees are grown in parallel). BayesianRidge has no randomness and runs
// single-threaded. XGBoost as the MICE estimator always trains single-threaded (xgboost's multi-threaded
// hist is not guaranteed to be thread-count invariant).
// No file is written: everything stays in memory, so ranks sharing a folder never race on a temporary file.
import { loadAddon } from '../../bindings/load.js';
import { makeMatrix, type Matrix } from '../../tables/matrix.js';
import type { ImputeContext, Imputer, OptionDoc } from '../types.js';
import { checkEmptyColumns, EMPTY_COLUMNS_DOC, type EmptyColumnsRule, kernelError } from './simple.js';

/** Native shape of the MICE kernel (native/core/trees_binding.cc). */
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
interface MiceAddon {
  miceImpute(columns: readonly Float32Array[], targetStart: number, names: readonly string[], params: MiceNativeParams): Promise<MiceNativeResult>;
}

export type MiceEstimatorName = 'extratrees' | 'random_forest' | 'xgboost' | 'bayesian_ridge';
const ESTIMATORS: readonly MiceEstimatorName[] = ['extratrees', 'random_forest', 'xgboost', 'bayesian_ridge'];

/** BayesianRidge MICE divergence: clip to the observed range and rerun, fail, or leave it (sklearn). */
export type DivergenceRule = 'clip' | 'error' | 'off';
const DIVERGENCE: readonly DivergenceRule[] = ['clip', 'error', 'off'];
const DIVERGENCE_DOC: OptionDoc = {
  type: 'string',
  description:
    'bayesian_ridge: when an imputed value lands more than one observed range beyond its column\'s observed range ' +
    '(sklearn\'s MICE blowing up on near-collinear columns): clip = rerun with imputations clipped to each ' +
    'column\'s observed [min, max], error = fail naming the column, off = sklearn unguarded (default clip)',
  choices: DIVERGENCE,
};

export interface IterativeSimpleOptions {
  /** Trees of the ExtraTrees regressor (sklearn ExtraTreesRegressor n_estimators). Default 10. */
  n_estimators: number;
  /** Maximum number of imputation sweeps (sklearn max_iter). Default 10. */
  max_iter: number;
  /** Stopping tolerance (sklearn tol). Default 1e-3. */
  tol: number;
  /** A column with no observed value: 'error' (default) or 'zero' (kept as a constant 0 column). */
  empty_columns: EmptyColumnsRule;
}

export interface IterativeFunctionOptions extends IterativeSimpleOptions {
  /** Regressor fitted per column and sweep. Default 'extratrees'. */
  estimator: MiceEstimatorName;
  /**
   * Trees (extratrees, random_forest) or boosting rounds (xgboost); 0 = the estimator's default:
   * 10 (extratrees) / 100 (random_forest, sklearn's and missForest's default) / 100 (xgboost);
   * ignored by bayesian_ridge. Default 0.
   */
  n_estimators: number;
  /** Tree depth; 0 = the estimator's default: unlimited (extratrees, random_forest) / 6 (xgboost). Default 0. */
  max_depth: number;
  /** XGBoost learning rate (eta); ignored by the others. Default 0.3. */
  learning_rate: number;
  /** bayesian_ridge: divergence guard (see DivergenceRule). Default 'clip'. */
  divergence: DivergenceRule;
}

export interface IterativeLinearOptions {
  /** Maximum number of imputation sweeps (sklearn max_iter). Default 10. */
  max_iter: number;
  /** Stopping tolerance (sklearn tol). Default 1e-3. */
  tol: number;
  /** Divergence guard. Default 'clip'. */
  divergence: DivergenceRule;
  /** A column with no observed value: 'error' (default) or 'zero' (kept as a constant 0 column). */
  empty_columns: EmptyColumnsRule;
}

/** Runs the native MICE kernel; exported for the benchmark and tests (returns nIter / converged / clipped too). */
export async function runMice(
  data: Matrix,
  targetStart: number,
  params: MiceNativeParams,
  method = 'iterative',
): Promise<{ matrix: Matrix; nIter: number; converged: boolean; clipped: boolean; divergence: string }> {
  checkTargetStart(data, targetStart);
  const addon = loadAddon<MiceAddon>('hierimpute_core');
  let res: MiceNativeResult;
  try {
    res = await addon.miceImpute(data.columns, targetStart, data.names, params);
  } catch (err) {
    throw kernelError(method, err);
  }
  return { matrix: makeMatrix(data.names, res.columns), nIter: res.nIter, converged: res.converged, clipped: res.clipped, divergence: res.divergence };
}

export function checkTargetStart(data: Matrix, targetStart: number): void {
  if (!Number.isInteger(targetStart) || targetStart < 0 || targetStart > data.nRows)
    throw new RangeError(`targetStart must be an integer in [0, ${data.nRows}] (got ${targetStart})`);
}

export function checkContext(method: string, ctx: ImputeContext): void {
  if (!Number.isSafeInteger(ctx.seed) || ctx.seed < 0) throw new RangeError(`${method}: seed must be a non-negative integer (got ${ctx.seed})`);
  if (!Number.isInteger(ctx.threads) || ctx.threads < 0) throw new RangeError(`${method}: threads must be an integer >= 0, 0 = all cores (got ${ctx.threads})`);
}

/** Throws naming the option when `value` is not an integer in [min, max]. */
export function intOption(method: string, name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${method}: option ${name} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? 'inf' : max}] (got ${String(value)})`);
  return value;
}

/** Throws naming the option when `value` is not a finite number > 0 (or >= 0 with allowZero). */
export function positiveOption(method: string, name: string, value: unknown, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0))
    throw new RangeError(`${method}: option ${name} must be a finite number ${allowZero ? '>= 0' : '> 0'} (got ${String(value)})`);
  return value;
}

const simpleDocs: { readonly [K in keyof IterativeSimpleOptions]: OptionDoc } = {
  n_estimators: { type: 'integer', description: 'trees of the ExtraTrees regressor (default 10)' },
  max_iter: { type: 'integer', description: 'maximum imputation sweeps over the columns (default 10)' },
  tol: { type: 'number', description: 'stop when the largest per-row change is below tol x max|observed| (default 1e-3)' },
  empty_columns: EMPTY_COLUMNS_DOC,
};

/** MICE with a native ExtraTrees regressor (sklearn IterativeImputer(ExtraTreesRegressor(n_estimators=10)), max_iter=10). */
export const iterativeSimple: Imputer<IterativeSimpleOptions> = {
  name: 'iterative_simple',
  summary: 'MICE (sklearn IterativeImputer semantics) with a native ExtraTrees regressor, 10 trees, 10 sweeps',
  defaults: { n_estimators: 10, max_iter: 10, tol: 1e-3, empty_columns: 'error' },
  options: simpleDocs,
  async impute(data, targetStart, options, ctx) {
    return imputeMice('iterative_simple', data, targetStart, { ...options, estimator: 'extratrees', max_depth: 0, learning_rate: 0.3, divergence: 'clip' }, ctx);
  },
};

/** MICE with the estimator chosen by name; writes no file at all. */
export const iterativeFunction: Imputer<IterativeFunctionOptions> = {
  name: 'iterative_function',
  summary:
    'MICE (sklearn IterativeImputer semantics) with a chosen native estimator: extratrees, random_forest (missForest style), xgboost or bayesian_ridge',
  defaults: { estimator: 'extratrees', n_estimators: 0, max_depth: 0, learning_rate: 0.3, max_iter: 10, tol: 1e-3, divergence: 'clip', empty_columns: 'error' },
  options: {
    estimator: {
      type: 'string',
      description:
        'regressor fitted per column and sweep: extratrees, random_forest (bootstrap, best splits: missForest style), xgboost, ' +
        'bayesian_ridge (sklearn\'s default; same as iterative_linear) (default extratrees)',
      choices: ESTIMATORS,
    },
    n_estimators: {
      type: 'integer',
      description: 'trees (extratrees, random_forest) or boosting rounds (xgboost); 0 = estimator default 10 / 100 / 100; ignored by bayesian_ridge (default 0)',
    },
    max_depth: { type: 'integer', description: 'tree depth; 0 = estimator default: unlimited (extratrees, random_forest) / 6 (xgboost) (default 0)' },
    learning_rate: { type: 'number', description: 'xgboost learning rate eta; ignored by the others (default 0.3)' },
    max_iter: simpleDocs.max_iter,
    tol: simpleDocs.tol,
    divergence: DIVERGENCE_DOC,
    empty_columns: EMPTY_COLUMNS_DOC,
  },
  async impute(data, targetStart, options, ctx) {
    return imputeMice('iterative_function', data, targetStart, options, ctx);
  },
};

/**
 * scikit-learn's default IterativeImputer(): MICE with BayesianRidge (float64, sklearn's evidence
 * updates), mean initial fill, ascending order, max_iter=10, tol=1e-3, plus the divergence guard.
 */
export const iterativeLinear: Imputer<IterativeLinearOptions> = {
  name: 'iterative_linear',
  summary: "sklearn's default IterativeImputer(): MICE with BayesianRidge per column (native, float64), 10 sweeps, divergence guard",
  defaults: { max_iter: 10, tol: 1e-3, divergence: 'clip', empty_columns: 'error' },
  options: {
    max_iter: simpleDocs.max_iter,
    tol: simpleDocs.tol,
    divergence: DIVERGENCE_DOC,
    empty_columns: EMPTY_COLUMNS_DOC,
  },
  async impute(data, targetStart, options, ctx) {
    return imputeMice('iterative_linear', data, targetStart, { ...options, estimator: 'bayesian_ridge', n_estimators: 0, max_depth: 0, learning_rate: 0.3 }, ctx);
  },
};

const DEFAULT_TREES: Readonly<Record<MiceEstimatorName, number>> = { extratrees: 10, random_forest: 100, xgboost: 100, bayesian_ridge: 0 };

/** The MICE methods: options checked and turned into the native parameters, then one run. */
async function imputeMice(m: string, data: Matrix, targetStart: number, options: Readonly<IterativeFunctionOptions>, ctx: ImputeContext): Promise<Matrix> {
  checkContext(m, ctx);
  const est = options.estimator;
  if (!ESTIMATORS.includes(est)) throw new RangeError(`${m}: option estimator must be one of ${ESTIMATORS.join(', ')} (got ${String(est)})`);
  if (!DIVERGENCE.includes(options.divergence))
    throw new RangeError(`${m}: option divergence must be one of ${DIVERGENCE.join(', ')} (got ${String(options.divergence)})`);
  const nEst = intOption(m, 'n_estimators', options.n_estimators, est === 'extratrees' && m === 'iterative_simple' ? 1 : 0);
  const depth = intOption(m, 'max_depth', options.max_depth, 0);
  const params: MiceNativeParams = {
    estimator: est,
    nEstimators: nEst > 0 ? nEst : DEFAULT_TREES[est],
    maxDepth: depth > 0 ? depth : est === 'xgboost' ? 6 : 0,
    divergence: options.divergence,
    learningRate: positiveOption(m, 'learning_rate', options.learning_rate),
    maxIter: intOption(m, 'max_iter', options.max_iter, 1),
    tol: positiveOption(m, 'tol', options.tol, true),
    seed: ctx.seed,
    threads: ctx.threads,
    emptyColumns: checkEmptyColumns(m, options.empty_columns),
  };
  return (await runMice(data, targetStart, params, m)).matrix;
}
