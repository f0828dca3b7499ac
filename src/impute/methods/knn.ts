// K-nearest-neighbour imputer: scikit-learn 1.2 KNNImputer semantics, computed exactly by the native
// kernel (native/core/kernels/knn.cc).
//
// Semantics, for `impute(data, targetStart)`: donors are ALL rows of `data` (the engine passes the
// earlier, already imputed bands plus the current band), receivers are the rows targetStart.. with a
// missing cell. This is scikit-learn's fit(data).transform(data[targetStart:]) (with targetStart = 0:
// fit_transform). A receiver is among the fit rows, but never donates to itself: it is imputed only in
// columns where it is missing, and donors must be observed in that column.
//  - distance: nan_euclidean on raw values, sqrt(n_columns / n_shared * sum of squared differences
//    over the columns observed in both rows), NaN when no column is shared; summed exactly in double
//    (scikit-learn's expansion |x|^2 - 2xy + |y|^2 is inexact, so picks can differ on near-ties);
//  - per missing cell (receiver, column j): donors are the rows where j is observed; the
//    k = min(n_neighbors, #donors) nearest are taken; equal distances go to the lower row index first;
//    NaN distances sort after all finite ones (lowest row index first), so they are used only when
//    fewer than k donors have a finite distance; if every donor is at NaN distance (e.g. a row with no
//    observed cell) the cell gets the column mean of j;
//  - weights 'uniform': mean of the k donor values; 'distance': 1/distance weights, NaN-distance donors
//    weigh 0, zero-distance donors (if any) share the weight equally and the others weigh 0;
//  - imputed values never feed back (each cell is computed from the original data only);
//  - a column with no observed value: scikit-learn drops it; here option empty_columns decides
//    ('error', default: an error naming the column; 'zero': fill with 0). Such a column still counts
//    in n_columns of the distance scaling, as in scikit-learn.
// Output is bit-identical for any thread count.
import { makeMatrix, type Matrix } from '../../tables/matrix.js';
import type { Imputer } from '../types.js';
import {
  checkEmptyColumns,
  checkThreads,
  EMPTY_COLUMNS_DOC,
  type EmptyColumnsRule,
  type ImputeOutcome,
  kernelError,
  tabularKernels,
  targetViews,
  type KernelResult,
} from './simple.js';

export type KnnWeights = 'uniform' | 'distance';

export interface KnnOptions {
  /** Neighbours averaged per missing cell (sklearn n_neighbors). Default 5. */
  n_neighbors: number;
  /** 'uniform' or 'distance' (inverse-distance) weights. Default 'uniform'. */
  weights: KnnWeights;
  /** What to do with a column that has no observed value. Default 'error'. */
  empty_columns: EmptyColumnsRule;
}

export const KNN_DEFAULTS: Readonly<KnnOptions> = { n_neighbors: 5, weights: 'uniform', empty_columns: 'error' };

function checkOptions(options: Readonly<KnnOptions>): KnnOptions {
  const k = options.n_neighbors;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 1e9)
    throw new RangeError(`knn: option n_neighbors must be an integer >= 1 (got ${String(k)})`);
  if (options.weights !== 'uniform' && options.weights !== 'distance')
    throw new RangeError(`knn: option weights must be one of uniform, distance (got ${String(options.weights)})`);
  return { n_neighbors: k, weights: options.weights, empty_columns: checkEmptyColumns('knn', options.empty_columns) };
}

/**
 * KNN with explicit fit rows (donors) and target rows (receivers): scikit-learn's
 * KNNImputer(...).fit(fit).transform(target). Options missing from `options` take KNN_DEFAULTS.
 */
export async function knnFitTransform(
  fit: Matrix,
  target: Matrix,
  options: Partial<KnnOptions> = {},
  threads = 1,
): Promise<ImputeOutcome> {
  const o = checkOptions({ ...KNN_DEFAULTS, ...options });
  if (!Number.isInteger(threads) || threads < 0)
    throw new RangeError(`knn: threads must be an integer >= 0, 0 = all cores (got ${threads})`);
  if (fit.columns.length !== target.columns.length)
    throw new RangeError(`knn: fit has ${fit.columns.length} columns, target ${target.columns.length}`);
  let res: KernelResult;
  try {
    res = await tabularKernels().knnImpute(fit.columns, target.columns, target.names, {
      nNeighbors: o.n_neighbors,
      weights: o.weights,
      emptyColumns: o.empty_columns,
      threads,
    });
  } catch (err) {
    throw kernelError('knn', err);
  }
  return { matrix: makeMatrix(target.names, res.columns), stats: res.stats };
}

export const knn: Imputer<KnnOptions> = {
  name: 'knn',
  summary: 'k nearest neighbours on nan_euclidean distance (sklearn KNNImputer semantics, exact distances)',
  defaults: KNN_DEFAULTS,
  options: {
    n_neighbors: { type: 'integer', description: 'neighbours averaged per missing cell' },
    weights: {
      type: 'string',
      description: "'uniform' mean of the neighbours, or 'distance' inverse-distance weights",
      choices: ['uniform', 'distance'],
    },
    empty_columns: EMPTY_COLUMNS_DOC,
  },
  async impute(data, targetStart, options, ctx) {
    const threads = checkThreads('knn', ctx);
    const target = makeMatrix(data.names, targetViews('knn', data, targetStart));
    return (await knnFitTransform(data, target, options, threads)).matrix;
  },
};
