// K-nearest-neighbour imputation with the semantics of scikit-learn 1.2's KNNImputer
// (`KNNImputer(n_neighbors, weights).fit(fit).transform(target)`), computed exactly.
//
// Receivers are the target rows with at least one missing cell; donors come from the fit rows.
// Distance (nan_euclidean) between receiver x and fit row y, on raw column units:
//   d(x, y) = sqrt(p / c * S),  S = sum over columns observed in both of (x_k - y_k)^2,
//   c = number of such columns, p = number of columns (empty columns included, as scikit-learn);
//   c = 0 gives d = NaN. S is a direct sum of squared differences in double, in column order
//   (scikit-learn uses the |x|^2 - 2xy + |y|^2 expansion, which is inexact: results can differ
//   from it on ties and near-ties only).
// For each missing cell (receiver r, column j), independently, from the original data only:
//   - potential donors are the fit rows where column j is observed (k = min(n_neighbors, #donors));
//   - if every potential donor is at NaN distance, the cell gets the column mean of j over the fit
//     rows (same for a receiver with no observed cell at all);
//   - otherwise the k nearest donors are taken in the order (distance, fit row index): equal
//     distances go to the LOWER fit row index first (deterministic tie rule), NaN distances sort
//     after every finite distance (lowest row index first among them), so NaN-distance donors are
//     used only when fewer than k donors have a finite distance. "Equal" is judged on the distances
//     computed from the float32 values: exact for values float32 holds exactly (integers, dyadic
//     fractions), while a tie in decimal text (0.2 and 0.4 around 0.3) is usually a near-tie after
//     float32 rounding, decided by that rounding (still deterministic). scikit-learn's own pick among
//     equals (np.argpartition order on its rounded distances) is arbitrary and not reproduced;
//   - uniform weights: the plain mean of the k donors' values (NaN-distance donors count);
//     distance weights: weights 1/d, NaN-distance donors weigh 0, and when some chosen donor is at
//     distance 0 only the zero-distance donors count, equally (scikit-learn's _get_weights).
// A column with no observed fit value: see EmptyColumns in simple.h (scikit-learn drops it).
// Output = target with every missing cell filled; observed cells are copied unchanged.
// Parallel over blocks of receivers; the result is bit-identical for any thread count.
#pragma once

#include "kernels/simple.h"

namespace hierimpute {

enum class KnnWeights { Uniform, Distance };

struct KnnOptions {
  int nNeighbors = 5;
  KnnWeights weights = KnnWeights::Uniform;
  EmptyColumns emptyColumns = EmptyColumns::Error;
  int threads = 1;
};

/** target and out must have the same column count as fit; out.columns[j] holds target.nRows floats. */
ImputeStats KnnImpute(const ColumnsView& fit, const ColumnsView& target, const OutputView& out,
                      const KnnOptions& options);

}  // namespace hierimpute
