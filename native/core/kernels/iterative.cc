// MICE: see iterative.h.
#include "kernels/iterative.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "kernels/extratrees.h"

namespace hierimpute {
namespace trees {

namespace {

/** What every sweep needs to know about the table, whatever the estimator. */
struct MiceSetup {
  size_t d = 0, nRows = 0;
  std::vector<std::vector<uint32_t>> missing, observed;
  std::vector<double> mean;            // initial fill (observed mean)
  std::vector<double> lo, hi;          // observed min / max per column
  std::vector<char> zero;              // an all-missing column kept as a constant 0 (emptyZero)
  double maxAbs = 0.0;                 // max |observed value|: the tolerance scale
  std::vector<size_t> order;           // columns with missing cells, fewest first (ties: lower index)
  std::vector<uint32_t> changingRows;  // rows holding a missing cell: the only rows that change
};

MiceSetup Prepare(const std::vector<const float*>& cols, size_t nRows, const std::vector<std::string>& names,
                  bool emptyZero) {
  MiceSetup s;
  s.d = cols.size();
  s.nRows = nRows;
  s.missing.resize(s.d);
  s.observed.resize(s.d);
  s.mean.assign(s.d, 0.0);
  s.lo.assign(s.d, 0.0);
  s.hi.assign(s.d, 0.0);
  s.zero.assign(s.d, 0);
  for (size_t j = 0; j < s.d; ++j) {
    double sum = 0.0, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < nRows; ++i) {
      const float v = cols[j][i];
      if (std::isnan(v)) {
        s.missing[j].push_back(static_cast<uint32_t>(i));
      } else {
        s.observed[j].push_back(static_cast<uint32_t>(i));
        sum += v;
        lo = std::min(lo, static_cast<double>(v));
        hi = std::max(hi, static_cast<double>(v));
        s.maxAbs = std::max(s.maxAbs, std::fabs(static_cast<double>(v)));
      }
    }
    if (s.observed[j].empty()) {
      if (!emptyZero)
        throw EmptyColumnError(j, nRows,
                               "column '" + names[j] + "' has no observed value in the " + std::to_string(nRows) +
                                   " fit rows, so its mean (the initial fill) is undefined");
      // A constant 0 column, observed from here on.
      s.zero[j] = 1;
      for (size_t i = 0; i < nRows; ++i) s.observed[j].push_back(static_cast<uint32_t>(i));
      s.missing[j].clear();
      continue;
    }
    s.mean[j] = sum / static_cast<double>(s.observed[j].size());
    s.lo[j] = lo;
    s.hi[j] = hi;
  }
  s.order.resize(s.d);
  std::iota(s.order.begin(), s.order.end(), 0);
  std::stable_sort(s.order.begin(), s.order.end(),
                   [&](size_t a, size_t b) { return s.missing[a].size() < s.missing[b].size(); });
  s.order.erase(std::remove_if(s.order.begin(), s.order.end(), [&](size_t j) { return s.missing[j].empty(); }),
                s.order.end());
  std::vector<char> flag(nRows, 0);
  for (size_t j = 0; j < s.d; ++j)
    for (uint32_t i : s.missing[j]) flag[i] = 1;
  for (size_t i = 0; i < nRows; ++i)
    if (flag[i]) s.changingRows.push_back(static_cast<uint32_t>(i));
  return s;
}

/** The table with every missing cell at its column mean (float state: the mean rounded to float). */
template <typename T>
std::vector<std::vector<T>> InitialFill(const std::vector<const float*>& cols, const MiceSetup& s) {
  std::vector<std::vector<T>> X(s.d);
  for (size_t j = 0; j < s.d; ++j) {
    X[j].assign(cols[j], cols[j] + s.nRows);
    if (s.zero[j]) {
      std::fill(X[j].begin(), X[j].end(), T(0));
      continue;
    }
    const T mean = static_cast<T>(s.mean[j]);
    for (uint32_t i : s.missing[j]) X[j][i] = mean;
  }
  return X;
}

/**
 * Up to maxIter sweeps of imputeColumn(it, j, X) over s.order, with sklearn's stopping rule:
 * stop after the first sweep whose change ||X_t - X_{t-1}||_inf (numpy's matrix inf-norm: the largest
 * per-row sum of |changes|) is < tol * max|observed value|.
 */
template <typename T, typename ImputeColumn>
void RunSweeps(const MiceSetup& s, std::vector<std::vector<T>>& X, const MiceParams& params, MiceResult& result,
               ImputeColumn&& imputeColumn) {
  const double normalizedTol = params.tol * s.maxAbs;
  std::vector<std::vector<T>> prev = X;
  std::vector<double> rowChange(s.nRows, 0.0);
  for (int it = 1; it <= params.maxIter; ++it) {
    result.nIter = it;
    for (size_t j : s.order) imputeColumn(it, j, X);
    for (uint32_t i : s.changingRows) rowChange[i] = 0.0;
    for (size_t j : s.order)
      for (uint32_t i : s.missing[j])
        rowChange[i] += std::fabs(static_cast<double>(X[j][i]) - static_cast<double>(prev[j][i]));
    double infNorm = 0.0;
    for (uint32_t i : s.changingRows) infNorm = std::max(infNorm, rowChange[i]);
    if (infNorm < normalizedTol) {
      result.converged = true;
      break;
    }
    for (size_t j : s.order)
      for (uint32_t i : s.missing[j]) prev[j][i] = X[j][i];
  }
}

/** The tree / boosting estimators over float32 state (sklearn keeps a float32 table in float32). */
void TreeSweeps(const std::vector<const float*>& cols, const MiceSetup& s, size_t targetStart, const MiceParams& params,
                MiceResult& result) {
  std::vector<std::vector<float>> X = InitialFill<float>(cols, s);
  const size_t d = s.d;
  const size_t nFeat = d - 1;
  if (d > 1) {
    RunSweeps(s, X, params, result, [&](int it, size_t j, std::vector<std::vector<float>>& Xs) {
      const std::vector<uint32_t>& obs = s.observed[j];
      const std::vector<uint32_t>& mis = s.missing[j];
      std::vector<float> pred;
      if (params.estimator == MiceEstimator::kXgboost) {
        std::vector<float> train(obs.size() * nFeat), query(mis.size() * nFeat), y(obs.size());
        for (size_t r = 0; r < obs.size(); ++r) {
          y[r] = Xs[j][obs[r]];
          size_t k = 0;
          for (size_t f = 0; f < d; ++f)
            if (f != j) train[r * nFeat + k++] = Xs[f][obs[r]];
        }
        for (size_t r = 0; r < mis.size(); ++r) {
          size_t k = 0;
          for (size_t f = 0; f < d; ++f)
            if (f != j) query[r * nFeat + k++] = Xs[f][mis[r]];
        }
        XgbParams xp = params.xgb;
        xp.nthread = 1;  // bit-identical for any `threads`
        xp.seed = StreamKey(params.seed, static_cast<uint64_t>(it), j) & 0x7FFFFFFFULL;
        pred = XgbFitPredict(train, obs.size(), nFeat, y, query, mis.size(), xp);
      } else {
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
          for (size_t r = 0; r < obs.size(); ++r) trainCols[k][r] = Xs[f][obs[r]];
          for (size_t r = 0; r < mis.size(); ++r) queryCols[k][r] = Xs[f][mis[r]];
          train.cols.push_back(trainCols[k].data());
          query.cols.push_back(queryCols[k].data());
          ++k;
        }
        std::vector<double> y(obs.size());
        for (size_t r = 0; r < obs.size(); ++r) y[r] = Xs[j][obs[r]];
        const uint64_t key = StreamKey(params.seed, static_cast<uint64_t>(it), j);
        std::vector<double> p;
        if (params.estimator == MiceEstimator::kRandomForest) {
          RandomForestParams rf;
          rf.nEstimators = params.nEstimators;
          rf.maxDepth = params.maxDepth;
          rf.seed = key;
          rf.threads = params.threads;
          p = RandomForestFitPredict(train, y, query, rf);
        } else {
          ExtraTreesParams et;
          et.nEstimators = params.nEstimators;
          et.maxDepth = params.maxDepth;
          et.seed = key;
          et.threads = params.threads;
          p = ExtraTreesFitPredict(train, y, query, et);
        }
        pred.assign(p.begin(), p.end());
      }
      for (size_t r = 0; r < mis.size(); ++r) Xs[j][mis[r]] = pred[r];
    });
  }
  for (size_t j = 0; j < d; ++j) result.columns[j].assign(X[j].begin() + targetStart, X[j].end());
}

/** Thrown inside the BayesianRidge sweeps when an imputation leaves the plausible band. */
struct Diverged {
  int sweep;
  size_t column;
  double value;
};

std::string FormatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

/** One BayesianRidge MICE run over float64 state; clip = sklearn min_value / max_value = observed range. */
std::vector<std::vector<double>> LinearRun(const std::vector<const float*>& cols, const MiceSetup& s,
                                           const MiceParams& params, MiceResult& result, bool clip) {
  std::vector<std::vector<double>> X = InitialFill<double>(cols, s);
  const size_t d = s.d;
  if (d < 2) return X;
  const size_t p = d - 1;
  const bool detect = !clip && params.divergence != DivergenceRule::kOff;
  std::vector<double> design, y, pred;
  linear::BayesianRidgeWorkspace ws;
  RunSweeps(s, X, params, result, [&](int it, size_t j, std::vector<std::vector<double>>& Xs) {
    const std::vector<uint32_t>& obs = s.observed[j];
    const std::vector<uint32_t>& mis = s.missing[j];
    const size_t n = obs.size();
    design.resize(n * p);
    y.resize(n);
    size_t k = 0;
    for (size_t f = 0; f < d; ++f) {
      if (f == j) continue;
      const double* xf = Xs[f].data();
      double* col = design.data() + k * n;
      for (size_t r = 0; r < n; ++r) col[r] = xf[obs[r]];
      ++k;
    }
    for (size_t r = 0; r < n; ++r) y[r] = Xs[j][obs[r]];
    const linear::BayesianRidgeModel model = linear::FitBayesianRidge(design.data(), n, p, y.data(), params.bayes, ws);
    // predict: X_test @ coef + intercept, each row summed over the features in column order.
    pred.assign(mis.size(), 0.0);
    k = 0;
    for (size_t f = 0; f < d; ++f) {
      if (f == j) continue;
      const double c = model.coef[k++];
      const double* xf = Xs[f].data();
      for (size_t r = 0; r < mis.size(); ++r) pred[r] += xf[mis[r]] * c;
    }
    const double lo = s.lo[j], hi = s.hi[j];
    // The detection band: one observed range beyond the observed range (a relative floor for a constant column).
    const double margin = std::max(hi - lo, 1e-6 * std::max(std::fabs(lo), std::fabs(hi)));
    for (size_t r = 0; r < mis.size(); ++r) {
      double v = pred[r] + model.intercept;
      if (clip) v = std::min(std::max(v, lo), hi);  // np.clip(v, min_value, max_value)
      if (!std::isfinite(v)) throw Diverged{it, j, v};
      if (detect && (v < lo - margin || v > hi + margin)) throw Diverged{it, j, v};
      Xs[j][mis[r]] = v;
    }
  });
  return X;
}

void LinearSweeps(const std::vector<const float*>& cols, const std::vector<std::string>& names, const MiceSetup& s,
                  size_t targetStart, const MiceParams& params, MiceResult& result) {
  std::vector<std::vector<double>> X;
  try {
    X = LinearRun(cols, s, params, result, false);
  } catch (const Diverged& dv) {
    const std::string what = "the BayesianRidge chained equations diverged at sweep " + std::to_string(dv.sweep) +
                             ": column '" + names[dv.column] + "' got the imputed value " + FormatDouble(dv.value) +
                             ", far outside its observed range [" + FormatDouble(s.lo[dv.column]) + ", " +
                             FormatDouble(s.hi[dv.column]) + "]";
    if (params.divergence == DivergenceRule::kError)
      throw std::runtime_error(what +
                               " (near-collinear columns make the fits extrapolate; scikit-learn's "
                               "IterativeImputer() does the same). Fixes: divergence=clip (clip each imputation to its "
                               "column's observed range), or drop redundant columns");
    if (params.divergence == DivergenceRule::kOff)
      throw std::runtime_error(what + ": values overflowed. Use divergence=clip or divergence=error");
    result = MiceResult();
    result.columns.resize(s.d);
    result.clipped = true;
    result.divergence = what;
    X = LinearRun(cols, s, params, result, true);
  }
  for (size_t j = 0; j < s.d; ++j) {
    std::vector<float>& out = result.columns[j];
    out.resize(s.nRows - targetStart);
    for (size_t i = targetStart; i < s.nRows; ++i) out[i - targetStart] = static_cast<float>(X[j][i]);
  }
}

}  // namespace

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
  const MiceSetup setup = Prepare(cols, nRows, names, params.emptyZero);
  if (params.estimator == MiceEstimator::kBayesianRidge)
    LinearSweeps(cols, names, setup, targetStart, params, result);
  else
    TreeSweeps(cols, setup, targetStart, params, result);
  return result;
}

}  // namespace trees
}  // namespace hierimpute
