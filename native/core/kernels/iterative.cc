// MICE: see iterative.h.
#include "kernels/iterative.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "kernels/extratrees.h"

namespace hierimpute {
namespace trees {

MiceResult MiceImpute(const std::vector<const float*>& cols, size_t nRows, size_t targetStart,
                      const std::vector<std::string>& names, const MiceParams& params) {
  const size_t d = cols.size();
  MiceResult result;
  result.columns.resize(d);
  bool targetMissing = false;
  for (size_t j = 0; j < d; ++j)
    for (size_t i = targetStart; i < nRows && !targetMissing; ++i) targetMissing = std::isnan(cols[j][i]);
  if (!targetMissing) {  // nothing to impute in the rows we return
    for (size_t j = 0; j < d; ++j) result.columns[j].assign(cols[j] + targetStart, cols[j] + nRows);
    result.converged = true;
    return result;
  }

  // Missing rows per column, mean fill, and the tolerance scale.
  std::vector<std::vector<uint32_t>> missing(d), observed(d);
  std::vector<std::vector<float>> X(d);
  double maxAbs = 0.0;
  for (size_t j = 0; j < d; ++j) {
    double sum = 0.0;
    for (size_t i = 0; i < nRows; ++i) {
      const float v = cols[j][i];
      if (std::isnan(v)) {
        missing[j].push_back(static_cast<uint32_t>(i));
      } else {
        observed[j].push_back(static_cast<uint32_t>(i));
        sum += v;
        maxAbs = std::max(maxAbs, std::fabs(static_cast<double>(v)));
      }
    }
    if (observed[j].empty()) {
      if (!params.emptyZero)
        throw EmptyColumnError("column '" + names[j] + "' has no observed value in the " + std::to_string(nRows) +
                                   " fit rows, so its mean (the initial fill) is undefined",
                               j);
      X[j].assign(nRows, 0.0f);  // a constant 0 column, observed from here on
      missing[j].clear();
      continue;
    }
    const float mean = static_cast<float>(sum / static_cast<double>(observed[j].size()));
    X[j].assign(cols[j], cols[j] + nRows);
    for (uint32_t i : missing[j]) X[j][i] = mean;
  }

  if (d > 1) {
    // Ascending order of missing count, stable; complete columns need no model.
    std::vector<size_t> order(d);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return missing[a].size() < missing[b].size(); });
    order.erase(std::remove_if(order.begin(), order.end(), [&](size_t j) { return missing[j].empty(); }), order.end());

    // Rows holding at least one missing cell: the only rows whose values can change.
    std::vector<uint32_t> changingRows;
    {
      std::vector<char> flag(nRows, 0);
      for (size_t j = 0; j < d; ++j)
        for (uint32_t i : missing[j]) flag[i] = 1;
      for (size_t i = 0; i < nRows; ++i)
        if (flag[i]) changingRows.push_back(static_cast<uint32_t>(i));
    }
    const double normalizedTol = params.tol * maxAbs;
    std::vector<std::vector<float>> prev = X;
    std::vector<double> rowChange(nRows, 0.0);
    const size_t nFeat = d - 1;

    for (int it = 1; it <= params.maxIter; ++it) {
      result.nIter = it;
      for (size_t j : order) {
        const std::vector<uint32_t>& obs = observed[j];
        const std::vector<uint32_t>& mis = missing[j];
        std::vector<float> pred;
        if (params.estimator == MiceEstimator::kExtraTrees) {
          // Column-major blocks of the other columns' current values.
          std::vector<std::vector<float>> trainCols(nFeat), queryCols(nFeat);
          FeatureBlock train, query;
          train.n = obs.size();
          query.n = mis.size();
          size_t k = 0;
          for (size_t f = 0; f < d; ++f) {
            if (f == j) continue;
            trainCols[k].resize(obs.size());
            queryCols[k].resize(mis.size());
            for (size_t r = 0; r < obs.size(); ++r) trainCols[k][r] = X[f][obs[r]];
            for (size_t r = 0; r < mis.size(); ++r) queryCols[k][r] = X[f][mis[r]];
            train.cols.push_back(trainCols[k].data());
            query.cols.push_back(queryCols[k].data());
            ++k;
          }
          std::vector<double> y(obs.size());
          for (size_t r = 0; r < obs.size(); ++r) y[r] = X[j][obs[r]];
          ExtraTreesParams et;
          et.nEstimators = params.nEstimators;
          et.maxDepth = params.maxDepth;
          et.seed = StreamKey(params.seed, static_cast<uint64_t>(it), j);
          et.threads = params.threads;
          const std::vector<double> p = ExtraTreesFitPredict(train, y, query, et);
          pred.assign(p.begin(), p.end());
        } else {
          std::vector<float> train(obs.size() * nFeat), query(mis.size() * nFeat), y(obs.size());
          for (size_t r = 0; r < obs.size(); ++r) {
            y[r] = X[j][obs[r]];
            size_t k = 0;
            for (size_t f = 0; f < d; ++f)
              if (f != j) train[r * nFeat + k++] = X[f][obs[r]];
          }
          for (size_t r = 0; r < mis.size(); ++r) {
            size_t k = 0;
            for (size_t f = 0; f < d; ++f)
              if (f != j) query[r * nFeat + k++] = X[f][mis[r]];
          }
          XgbParams xp = params.xgb;
          xp.nthread = 1;  // bit-identical for any `threads`
          xp.seed = StreamKey(params.seed, static_cast<uint64_t>(it), j) & 0x7FFFFFFFULL;
          pred = XgbFitPredict(train, obs.size(), nFeat, y, query, mis.size(), xp);
        }
        for (size_t r = 0; r < mis.size(); ++r) X[j][mis[r]] = pred[r];
      }
      // numpy's matrix inf-norm of the change: max over rows of the sum of |change| in the row.
      for (uint32_t i : changingRows) rowChange[i] = 0.0;
      for (size_t j : order)
        for (uint32_t i : missing[j]) rowChange[i] += std::fabs(static_cast<double>(X[j][i]) - static_cast<double>(prev[j][i]));
      double infNorm = 0.0;
      for (uint32_t i : changingRows) infNorm = std::max(infNorm, rowChange[i]);
      if (infNorm < normalizedTol) {
        result.converged = true;
        break;
      }
      for (size_t j : order)
        for (uint32_t i : missing[j]) prev[j][i] = X[j][i];
    }
  }
  for (size_t j = 0; j < d; ++j) result.columns[j].assign(X[j].begin() + targetStart, X[j].end());
  return result;
}

}  // namespace trees
}  // namespace hierimpute
