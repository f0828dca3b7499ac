// The XGBoost imputer over the XGBoost C API (libxgboost, the library python-xgboost wraps).
//
// Semantics: for each column with a missing cell in the target rows (ascending column index), an
// XGBoost regressor (objective reg:squarederror) is trained on every row of `data` where that column
// is observed, with the other columns' ORIGINAL values as features (NaN = missing, handled by
// xgboost's default directions; values imputed for earlier columns are NOT used), and predicts the
// column's missing cells in the target rows. Same as python, per column:
//   XGBRegressor(n_estimators, max_depth, learning_rate, tree_method, random_state=seed, n_jobs=1)
//     .fit(X[obs, others], y[obs]).predict(X[miss, others])
// Columns are independent work units spread over `threads` (0 = all cores), each booster
// single-threaded, so the output never depends on `threads`. Edge cases: one column (no feature) ->
// the column's observed mean; a column to impute with no observed value in `data` ->
// empty_columns='error' (default) rejects with an error naming the column (code
// HIERIMPUTE_EMPTY_COLUMN), 'zero' fills its missing target cells with 0; a row with no observed cell -> predicted from the trees'
// default (missing) directions. No XGBoost log output (verbosity 0).
import { loadAddon } from '../../bindings/load.js';
import { makeMatrix, type Matrix } from '../../tables/matrix.js';
import type { Imputer } from '../types.js';
import { checkContext, checkTargetStart, intOption, positiveOption } from './iterative.js';
import { checkEmptyColumns, EMPTY_COLUMNS_DOC, type EmptyColumnsRule, kernelError } from './simple.js';

export interface XgboostNativeParams {
  nEstimators: number;
  maxDepth: number;
  learningRate: number;
  treeMethod: 'hist' | 'approx' | 'exact';
  seed: number;
  threads: number;
  /** A column to impute with no observed value: 'error' (default) or 'zero'. */
  emptyColumns?: EmptyColumnsRule;
}
interface XgboostAddon {
  xgboostImpute(columns: readonly Float32Array[], targetStart: number, names: readonly string[], params: XgboostNativeParams): Promise<{ columns: Float32Array[] }>;
}

export interface XgboostOptions {
  /** Boosting rounds. Default 100. */
  n_estimators: number;
  /** Maximum tree depth. Default 6. */
  max_depth: number;
  /** Learning rate (eta). Default 0.3. */
  learning_rate: number;
  /** XGBoost tree_method. Default 'hist'. */
  tree_method: 'hist' | 'approx' | 'exact';
  /** A column to impute with no observed value: 'error' (default) or 'zero'. */
  empty_columns: EmptyColumnsRule;
}

/** Runs the native XGBoost imputer on already-validated parameters. */
export async function runXgboost(data: Matrix, targetStart: number, params: XgboostNativeParams): Promise<Matrix> {
  checkTargetStart(data, targetStart);
  const addon = loadAddon<XgboostAddon>('hierimpute_core');
  try {
    const res = await addon.xgboostImpute(data.columns, targetStart, data.names, params);
    return makeMatrix(data.names, res.columns);
  } catch (err) {
    throw kernelError('xgboost', err);
  }
}

export const xgboost: Imputer<XgboostOptions> = {
  name: 'xgboost',
  summary: 'per-column XGBoost regressor (C API) on the other columns, missing features passed as missing',
  defaults: { n_estimators: 100, max_depth: 6, learning_rate: 0.3, tree_method: 'hist', empty_columns: 'error' },
  options: {
    n_estimators: { type: 'integer', description: 'boosting rounds (default 100)' },
    max_depth: { type: 'integer', description: 'maximum tree depth (default 6)' },
    learning_rate: { type: 'number', description: 'learning rate eta (default 0.3)' },
    tree_method: { type: 'string', description: 'xgboost tree_method (default hist)', choices: ['hist', 'approx', 'exact'] },
    empty_columns: EMPTY_COLUMNS_DOC,
  },
  async impute(data, targetStart, options, ctx) {
    const m = 'xgboost';
    checkContext(m, ctx);
    const tm = options.tree_method;
    if (tm !== 'hist' && tm !== 'approx' && tm !== 'exact')
      throw new RangeError(`${m}: option tree_method must be one of hist, approx, exact (got ${String(tm)})`);
    return runXgboost(data, targetStart, {
      nEstimators: intOption(m, 'n_estimators', options.n_estimators, 1),
      maxDepth: intOption(m, 'max_depth', options.max_depth, 1),
      learningRate: positiveOption(m, 'learning_rate', options.learning_rate),
      treeMethod: tm,
      seed: ctx.seed,
      threads: ctx.threads,
      emptyColumns: checkEmptyColumns(m, options.empty_columns),
    });
  },
};
