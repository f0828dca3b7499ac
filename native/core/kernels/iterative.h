// MICE (multivariate imputation by chained equations) like scikit-learn 1.2's IterativeImputer with
// initial_strategy='mean', imputation_order='ascending', n_nearest_features=None,
// sample_posterior=False, skip_complete=False (complete columns are fitted by sklearn but never
// change anything, so they are skipped), min/max_value = -inf/+inf (no clipping; see the divergence
// guard of the BayesianRidge estimator below for the one exception).
//
// Estimators: ExtraTrees, random forest (extratrees.h), XGBoost (xgb.h) over float32 state, as
// sklearn keeps a float32 table in float32 (trees split float32 features anyway); and BayesianRidge
// (bayesridge.h; sklearn's default estimator) over float64 state, like sklearn on a float64 table.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/bayesridge.h"
#include "kernels/xgb.h"

namespace hierimpute {
namespace trees {

enum class MiceEstimator { kExtraTrees, kXgboost, kRandomForest, kBayesianRidge };

/**
 * What the BayesianRidge estimator does when the chained equations diverge. sklearn's
 * IterativeImputer() can blow up on tables with near-collinear columns: on a float32 table because it
 * then fits in single precision (this kernel computes in float64, which avoids that cause), and in any
 * precision when a column tracks a small difference of near-collinear columns and some rows break the
 * collinearity (the large fitted coefficients extrapolate those rows' imputations far outside the data).
 * Divergence is detected when an imputed value is not finite or lies more than one observed range beyond
 * its column's observed range (outside [lo - (hi - lo), hi + (hi - lo)], lo / hi = the column's observed
 * min / max); a conditional mean essentially never lands there.
 *   kClip  (default) restart from the mean fill with every imputation clipped to its column's observed
 *          [lo, hi] (exactly sklearn's IterativeImputer(min_value=lo, max_value=hi)); a documented
 *          deviation from the default, taken only when the default diverges;
 *   kError fail with a message naming the column, the sweep and the value;
 *   kOff   sklearn's behaviour, unguarded (fails only if values overflow to non-finite).
 */
enum class DivergenceRule { kClip, kError, kOff };

struct MiceParams {
  MiceEstimator estimator = MiceEstimator::kExtraTrees;
  int nEstimators = 10;  // trees (ExtraTrees, random forest) or boosting rounds (XGBoost)
  int maxDepth = 0;      // 0 = unlimited for ExtraTrees / random forest; XGBoost uses xgb.maxDepth
  int maxIter = 10;
  double tol = 1e-3;
  uint64_t seed = 0;
  int threads = 1;         // ExtraTrees / random forest trees in parallel; 0 = all cores
  XgbParams xgb;           // used when estimator == kXgboost (nthread forced to 1)
  bool emptyZero = false;  // a column with no observed value: false = EmptyColumnError, true = all 0
  DivergenceRule divergence = DivergenceRule::kClip;  // BayesianRidge only
  linear::BayesianRidgeParams bayes;                  // BayesianRidge only (sklearn defaults)
};

struct MiceResult {
  std::vector<std::vector<float>> columns;  // rows [targetStart, nRows), column by column
  int nIter = 0;                            // sweeps run (sklearn n_iter_)
  bool converged = false;                   // stopped by tol before max_iter
  bool clipped = false;                     // BayesianRidge diverged; the result is the clipped rerun
  std::string divergence;                   // what diverged (empty when nothing did)
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
 * and treated as observed (sklearn keep_empty_features=True: kept as a constant 0 feature). Randomness of sweep `it`,
 * column `j`, tree `t` comes from a stream keyed by (seed, it, j, t): bit-identical for any thread count. BayesianRidge
 * has no randomness and runs on the calling thread (`threads` is ignored).
 */
MiceResult MiceImpute(const std::vector<const float*>& cols, size_t nRows, size_t targetStart,
                      const std::vector<std::string>& names, const MiceParams& params);

}  // namespace trees
}  // namespace hierimpute
