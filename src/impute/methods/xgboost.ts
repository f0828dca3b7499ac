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
import { coreAddon, type XgboostNativeParams } from '../../bindings/core.js';
import { makeMatrix, type Matrix } from '../../tables/matrix.js';
import { checkTargetStart } from '../context.js';
import { defineImputer, defineOptions, type OptionsOf } from '../schema.js';
import { EMPTY_COLUMNS_OPTION, kernelError } from './simple.js';

/** Parameters of the native XGBoost imputer (declared with the addon in src/bindings/core.ts). */
export type { XgboostNativeParams } from '../../bindings/core.js';

export const XGBOOST_OPTIONS = defineOptions({
  n_estimators: { type: 'int', default: 100, min: 1, description: 'boosting rounds' },
  max_depth: { type: 'int', default: 6, min: 1, description: 'maximum tree depth' },
  learning_rate: { type: 'number', default: 0.3, min: 0, exclusiveMin: true, description: 'learning rate eta' },
  tree_method: { type: 'choice', default: 'hist', choices: ['hist', 'approx', 'exact'], description: 'xgboost tree_method' },
  empty_columns: EMPTY_COLUMNS_OPTION,
});

export type XgboostOptions = OptionsOf<typeof XGBOOST_OPTIONS>;

/** Runs the native XGBoost imputer on already-validated parameters. */
export async function runXgboost(data: Matrix, targetStart: number, params: XgboostNativeParams): Promise<Matrix> {
  checkTargetStart('xgboost', data, targetStart);
  const addon = coreAddon();
  try {
    const res = await addon.xgboostImpute(data.columns, targetStart, data.names, params);
    return makeMatrix(data.names, res.columns);
  } catch (err) {
    throw kernelError('xgboost', err);
  }
}

export const xgboost = defineImputer({
  name: 'xgboost',
  summary: 'per-column XGBoost regressor (C API) on the other columns, missing features passed as missing',
  options: XGBOOST_OPTIONS,
  async run(data, targetStart, o, ctx) {
    return runXgboost(data, targetStart, {
      nEstimators: o.n_estimators,
      maxDepth: o.max_depth,
      learningRate: o.learning_rate,
      treeMethod: o.tree_method,
      seed: ctx.seed,
      threads: ctx.threads,
      emptyColumns: o.empty_columns,
    });
  },
});
