// MICE (multivariate imputation by chained equations) like scikit-learn 1.2's IterativeImputer with
// initial_strategy='mean', imputation_order='ascending', n_nearest_features=None,
// sample_posterior=False, skip_complete=False, min/max_value = -inf/+inf (no clipping).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/xgb.h"

namespace hierimpute {
namespace trees {

enum class MiceEstimator { kExtraTrees, kXgboost };

struct MiceParams {
  MiceEstimator estimator = MiceEstimator::kExtraTrees;
  int nEstimators = 10;       // trees (ExtraTrees) or boosting rounds (XGBoost)
  int maxDepth = 0;           // 0 = unlimited for ExtraTrees; XGBoost uses xgb.maxDepth
  int maxIter = 10;
  double tol = 1e-3;
  uint64_t seed = 0;
  int threads = 1;            // ExtraTrees trees in parallel; 0 = all cores
  XgbParams xgb;              // used when estimator == kXgboost (nthread forced to 1)
  bool emptyZero = false;     // a column with no observed value: false = EmptyColumnError, true = all 0
};

struct MiceResult {
  std::vector<std::vector<float>> columns;  // rows [targetStart, nRows), column by column
  int nIter = 0;                            // sweeps run (sklearn n_iter_)
  bool converged = false;                   // stopped by tol before max_iter
};

/**
 * Fits on all nRows rows and returns rows [targetStart, nRows) with every missing cell imputed.
 * Semantics (sklearn): mean fill; then up to maxIter sweeps over the columns that have missing
 * cells, in ascending order of their missing count (ties: lower column index first); each column
 * is regressed on all other columns' current values over its observed rows and its missing cells
 * are replaced by the predictions. Stops after the first sweep whose change
 * ||X_t - X_{t-1}||_inf (numpy matrix inf-norm: max over rows of the row's sum of |changes|) is
 * < tol * max|observed value|. One column: the mean fill is returned (no features to regress on).
 * A column with no observed value throws EmptyColumnError naming it, or with emptyZero is set to 0
 * and treated as observed (sklearn keep_empty_features=True: kept as a constant 0 feature). Randomness of sweep `it`, column `j`,
 * tree `t` comes from a stream keyed by (seed, it, j, t): bit-identical for any thread count.
 */
MiceResult MiceImpute(const std::vector<const float*>& cols, size_t nRows, size_t targetStart,
                      const std::vector<std::string>& names, const MiceParams& params);

}  // namespace trees
}  // namespace hierimpute
