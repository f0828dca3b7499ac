// Tree ensembles fitted and applied in one call.
//
// ExtraTrees regressor (Geurts et al. 2006; scikit-learn ExtraTreesRegressor semantics): each tree is grown on all
// training rows (bootstrap=False), every node tries every non-constant feature (max_features=1.0) with one threshold
// drawn uniformly in [min, max) of that feature in the node, keeps the split with the best squared-error reduction, and
// stops at nodes with < min_samples_split rows or zero variance. Prediction = mean over trees of the leaf means. Trees
// run in parallel; node randomness comes from a key derived from (seed, tree, path to the node), so results are
// bit-identical for any thread count, and subtrees that hold no row to predict are never grown (their growth could not
// change any prediction).
//
// Random forest regressor (Breiman 2001; scikit-learn RandomForestRegressor semantics with
// bootstrap=True, max_features=1.0, min_samples_leaf=1): the same growth, except that each tree is
// grown on a bootstrap sample of the training rows (n draws with replacement; a row drawn c times
// weighs c, as sklearn's sample_weight does) and every node takes the BEST split: for each
// non-constant feature, every threshold halfway between two consecutive distinct values (more than
// 1e-7 apart) in the node is scored by the weighted squared-error reduction; features are visited
// in a per-node random order, the first best proxy wins. Leaves predict the weighted mean of their
// targets. Rows are presorted once per feature for all trees and kept sorted through the splits, so
// a tree costs O(rows x features x depth). The bootstrap draws and the feature orders come from the
// tree's key (seed, tree) and the path to the node: bit-identical for any thread count (sklearn's
// own RNG cannot be reproduced, so results agree with sklearn in distribution, not bit for bit).
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/errors.h"

namespace hierimpute {
namespace trees {

/** splitmix64 step: a well-mixed 64-bit hash, used to derive independent random streams. */
inline uint64_t Mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
/** Stream key for (seed, a, b, c): order-sensitive hash chain. */
inline uint64_t StreamKey(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  return Mix64(Mix64(Mix64(Mix64(seed) ^ a) ^ b) ^ c);
}

/** A column-major float32 feature block: cols[f][i], i < n. */
struct FeatureBlock {
  std::vector<const float*> cols;
  size_t n = 0;
};

struct ExtraTreesParams {
  int nEstimators = 10;
  int minSamplesSplit = 2;
  int maxDepth = 0;  // 0 = unlimited (sklearn max_depth=None)
  uint64_t seed = 0;
  int threads = 1;
};

struct RandomForestParams {
  int nEstimators = 100;  // sklearn RandomForestRegressor default
  int minSamplesSplit = 2;
  int maxDepth = 0;  // 0 = unlimited (sklearn max_depth=None)
  uint64_t seed = 0;
  int threads = 1;
};

/**
 * Fits an ExtraTrees regressor on (train, y) and returns its predictions for the rows of `query`
 * (same features, same order). With zero features, every prediction is mean(y).
 */
std::vector<double> ExtraTreesFitPredict(const FeatureBlock& train, const std::vector<double>& y,
                                         const FeatureBlock& query, const ExtraTreesParams& params);

/**
 * Fits a random forest regressor on (train, y) and returns its predictions for the rows of `query`.
 * With zero features, every prediction is mean(y).
 */
std::vector<double> RandomForestFitPredict(const FeatureBlock& train, const std::vector<double>& y,
                                           const FeatureBlock& query, const RandomForestParams& params);

}  // namespace trees
}  // namespace hierimpute
