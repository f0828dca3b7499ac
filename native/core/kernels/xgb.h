// XGBoost regressor through the XGBoost C API (libxgboost 1.7), and the per-column XGBoost imputer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hierimpute {
namespace trees {

struct XgbParams {
  int nEstimators = 100;      // boosting rounds (XGBRegressor n_estimators)
  int maxDepth = 6;           // max_depth
  double learningRate = 0.3;  // eta
  std::string treeMethod = "hist";
  uint64_t seed = 0;  // xgboost `seed`
  int nthread = 1;    // threads inside one booster
};

/**
 * Fits `reg:squarederror` boosting on the row-major float matrix train (n x nFeat, NaN = missing)
 * with labels y and returns predictions for the row-major query (m x nFeat). Every C API return
 * code is checked; a failure throws std::runtime_error carrying XGBGetLastError().
 * With nFeat == 0 the predictions are mean(y).
 */
std::vector<float> XgbFitPredict(const std::vector<float>& train, size_t n, size_t nFeat, const std::vector<float>& y,
                                 const std::vector<float>& query, size_t m, const XgbParams& params);

/**
 * The XGBoost imputer: for each column with a missing cell in rows [targetStart, nRows) (ascending
 * column index), fits on every row of the data where that column is observed, using the other
 * columns' ORIGINAL values as features (NaN passed as missing), and predicts that column's missing
 * cells in the target rows. Columns are independent work units spread over `threads` threads
 * (0 = all cores), each booster single-threaded, so the output never depends on `threads` and
 * matches python `XGBRegressor(n_jobs=1)` per column. A column that needs imputing but has no
 * observed cell throws EmptyColumnError naming it, or with emptyZero gets 0 in its missing target
 * cells (as a feature it stays all-missing). Returns the target rows, column by column.
 */
std::vector<std::vector<float>> XgbImpute(const std::vector<const float*>& cols, size_t nRows, size_t targetStart,
                                          const std::vector<std::string>& names, XgbParams params, int threads,
                                          bool emptyZero = false);

}  // namespace trees
}  // namespace hierimpute
