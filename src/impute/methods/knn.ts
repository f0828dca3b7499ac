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
//    k = min(n_neighbors, #donors) nearest are taken; equal distances go to the lower row index first
//    (equal as computed from the float32 values: a tie in decimal text is usually a near-tie after
//    float32 rounding, which then decides; scikit-learn's pick among equals is arbitrary);
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
import { checkThreads } from '../context.js';
import { checkOptions, defineImputer, defineOptions, type OptionsOf } from '../schema.js';
import { EMPTY_COLUMNS_OPTION, type ImputeOutcome, kernelError, tabularKernels, targetViews, type KernelResult } from './simple.js';

export const KNN_OPTIONS = defineOptions({
  n_neighbors: {
    type: 'int',
    default: 5,
    min: 1,
    max: 1e9,
    description: 'neighbours averaged per missing cell (sklearn n_neighbors)',
  },
  weights: {
    type: 'choice',
    default: 'uniform',
    choices: ['uniform', 'distance'],
    description: "'uniform' mean of the neighbours, or 'distance' inverse-distance weights",
  },
  empty_columns: EMPTY_COLUMNS_OPTION,
});

export type KnnOptions = OptionsOf<typeof KNN_OPTIONS>;
export type KnnWeights = KnnOptions['weights'];

/**
 * KNN with explicit fit rows (donors) and target rows (receivers): scikit-learn's
 * KNNImputer(...).fit(fit).transform(target). Options missing from `options` take their defaults.
 */
export async function knnFitTransform(fit: Matrix, target: Matrix, options: Partial<KnnOptions> = {}, threads = 1): Promise<ImputeOutcome> {
  const o = checkOptions('knn', KNN_OPTIONS, options);
  checkThreads('knn', threads);
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

export const knn = defineImputer({
  name: 'knn',
  summary: 'k nearest neighbours on nan_euclidean distance (sklearn KNNImputer semantics, exact distances)',
  options: KNN_OPTIONS,
  async run(data, targetStart, options, ctx) {
    const target = makeMatrix(data.names, targetViews('knn', data, targetStart));
    return (await knnFitTransform(data, target, options, ctx.threads)).matrix;
  },
});

/** The defaults of knn's options. */
export const KNN_DEFAULTS = knn.defaults;
