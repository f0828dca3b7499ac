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
import { coreAddon, type MiceNativeParams, type MiceNativeResult } from '../../bindings/core.js';
import { makeMatrix, type Matrix } from '../../tables/matrix.js';
import { checkTargetStart } from '../context.js';
import { defineImputer, defineOptions, type OptionsOf } from '../schema.js';
import type { ImputeContext } from '../types.js';
import { EMPTY_COLUMNS_OPTION, kernelError } from './simple.js';

export type { MiceNativeParams, MiceNativeResult } from '../../bindings/core.js';

const MAX_ITER_OPTION = {
  type: 'int',
  default: 10,
  min: 1,
  description: 'maximum imputation sweeps over the columns (sklearn max_iter)',
} as const;

const TOL_OPTION = {
  type: 'number',
  default: 1e-3,
  min: 0,
  description: 'stop when the largest per-row change is below tol x max|observed| (sklearn tol)',
} as const;

const DIVERGENCE_OPTION = {
  type: 'choice',
  default: 'clip',
  choices: ['clip', 'error', 'off'],
  description:
    "bayesian_ridge: when an imputed value lands more than one observed range beyond its column's observed range " +
    "(sklearn's MICE blowing up on near-collinear columns): clip = rerun with imputations clipped to each " +
    "column's observed [min, max], error = fail naming the column, off = sklearn unguarded",
} as const;

/** BayesianRidge MICE divergence: clip to the observed range and rerun, fail, or leave it (sklearn). */
export type DivergenceRule = (typeof DIVERGENCE_OPTION.choices)[number];

export const ITERATIVE_SIMPLE_OPTIONS = defineOptions({
  n_estimators: { type: 'int', default: 10, min: 1, description: 'trees of the ExtraTrees regressor (sklearn ExtraTreesRegressor n_estimators)' },
  max_iter: MAX_ITER_OPTION,
  tol: TOL_OPTION,
  empty_columns: EMPTY_COLUMNS_OPTION,
});

export const ITERATIVE_FUNCTION_OPTIONS = defineOptions({
  estimator: {
    type: 'choice',
    default: 'extratrees',
    choices: ['extratrees', 'random_forest', 'xgboost', 'bayesian_ridge'],
    description:
      'regressor fitted per column and sweep: extratrees, random_forest (bootstrap, best splits: missForest style), xgboost, ' +
      "bayesian_ridge (sklearn's default; same as iterative_linear)",
  },
  n_estimators: {
    type: 'int',
    default: 0,
    min: 0,
    description:
      "trees (extratrees, random_forest) or boosting rounds (xgboost); 0 = the estimator's default: 10 (extratrees) / " +
      "100 (random_forest, sklearn's and missForest's default) / 100 (xgboost); ignored by bayesian_ridge",
  },
  max_depth: {
    type: 'int',
    default: 0,
    min: 0,
    description: "tree depth; 0 = the estimator's default: unlimited (extratrees, random_forest) / 6 (xgboost)",
  },
  learning_rate: { type: 'number', default: 0.3, min: 0, exclusiveMin: true, description: 'xgboost learning rate eta; ignored by the others' },
  max_iter: MAX_ITER_OPTION,
  tol: TOL_OPTION,
  divergence: DIVERGENCE_OPTION,
  empty_columns: EMPTY_COLUMNS_OPTION,
});

export const ITERATIVE_LINEAR_OPTIONS = defineOptions({
  max_iter: MAX_ITER_OPTION,
  tol: TOL_OPTION,
  divergence: DIVERGENCE_OPTION,
  empty_columns: EMPTY_COLUMNS_OPTION,
});

export type IterativeSimpleOptions = OptionsOf<typeof ITERATIVE_SIMPLE_OPTIONS>;
export type IterativeFunctionOptions = OptionsOf<typeof ITERATIVE_FUNCTION_OPTIONS>;
export type IterativeLinearOptions = OptionsOf<typeof ITERATIVE_LINEAR_OPTIONS>;
export type MiceEstimatorName = IterativeFunctionOptions['estimator'];

/** Runs the native MICE kernel; exported for the benchmark and tests (returns nIter / converged / clipped too). */
export async function runMice(
  data: Matrix,
  targetStart: number,
  params: MiceNativeParams,
  method = 'iterative',
): Promise<{ matrix: Matrix; nIter: number; converged: boolean; clipped: boolean; divergence: string }> {
  checkTargetStart(method, data, targetStart);
  const addon = coreAddon();
  let res: MiceNativeResult;
  try {
    res = await addon.miceImpute(data.columns, targetStart, data.names, params);
  } catch (err) {
    throw kernelError(method, err);
  }
  return {
    matrix: makeMatrix(data.names, res.columns),
    nIter: res.nIter,
    converged: res.converged,
    clipped: res.clipped,
    divergence: res.divergence,
  };
}

/** MICE with a native ExtraTrees regressor (sklearn IterativeImputer(ExtraTreesRegressor(n_estimators=10)), max_iter=10). */
export const iterativeSimple = defineImputer({
  name: 'iterative_simple',
  summary: 'MICE (sklearn IterativeImputer semantics) with a native ExtraTrees regressor, 10 trees, 10 sweeps',
  options: ITERATIVE_SIMPLE_OPTIONS,
  async run(data, targetStart, options, ctx) {
    return imputeMice(
      'iterative_simple',
      data,
      targetStart,
      { ...options, estimator: 'extratrees', max_depth: 0, learning_rate: 0.3, divergence: 'clip' },
      ctx,
    );
  },
});

/** MICE with the estimator chosen by name; writes no file at all. */
export const iterativeFunction = defineImputer({
  name: 'iterative_function',
  summary:
    'MICE (sklearn IterativeImputer semantics) with a chosen native estimator: extratrees, random_forest (missForest style), xgboost or bayesian_ridge',
  options: ITERATIVE_FUNCTION_OPTIONS,
  async run(data, targetStart, options, ctx) {
    return imputeMice('iterative_function', data, targetStart, options, ctx);
  },
});

/**
 * scikit-learn's default IterativeImputer(): MICE with BayesianRidge (float64, sklearn's evidence
 * updates), mean initial fill, ascending order, max_iter=10, tol=1e-3, plus the divergence guard.
 */
export const iterativeLinear = defineImputer({
  name: 'iterative_linear',
  summary: "sklearn's default IterativeImputer(): MICE with BayesianRidge per column (native, float64), 10 sweeps, divergence guard",
  options: ITERATIVE_LINEAR_OPTIONS,
  async run(data, targetStart, options, ctx) {
    return imputeMice(
      'iterative_linear',
      data,
      targetStart,
      { ...options, estimator: 'bayesian_ridge', n_estimators: 0, max_depth: 0, learning_rate: 0.3 },
      ctx,
    );
  },
});

const DEFAULT_TREES: Readonly<Record<MiceEstimatorName, number>> = { extratrees: 10, random_forest: 100, xgboost: 100, bayesian_ridge: 0 };

/** The MICE methods: options (checked by the schema) turned into the native parameters, then one run. */
async function imputeMice(m: string, data: Matrix, targetStart: number, o: Readonly<IterativeFunctionOptions>, ctx: ImputeContext): Promise<Matrix> {
  const est = o.estimator;
  const params: MiceNativeParams = {
    estimator: est,
    nEstimators: o.n_estimators > 0 ? o.n_estimators : DEFAULT_TREES[est],
    maxDepth: o.max_depth > 0 ? o.max_depth : est === 'xgboost' ? 6 : 0,
    divergence: o.divergence,
    learningRate: o.learning_rate,
    maxIter: o.max_iter,
    tol: o.tol,
    seed: ctx.seed,
    threads: ctx.threads,
    emptyColumns: o.empty_columns,
  };
  return (await runMice(data, targetStart, params, m)).matrix;
}
