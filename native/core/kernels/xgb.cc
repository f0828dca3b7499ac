// XGBoost through its C API: see xgb.h.
#include "kernels/xgb.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <stdexcept>

#include "kernels/extratrees.h"
#include "kernels/parallel.h"

namespace hierimpute {
namespace trees {

namespace {

void Check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string("XGBoost C API ") + what + " failed: " + XGBGetLastError());
}

/** XGBoost's global config is thread-local: silence it on every thread that trains. */
void QuietThisThread() {
  thread_local bool done = false;
  if (!done) {
    Check(XGBSetGlobalConfig("{\"verbosity\": 0}"), "XGBSetGlobalConfig");
    done = true;
  }
}

struct DMatrixGuard {
  DMatrixHandle h = nullptr;
  ~DMatrixGuard() {
    if (h) XGDMatrixFree(h);
  }
};
struct BoosterGuard {
  BoosterHandle h = nullptr;
  ~BoosterGuard() {
    if (h) XGBoosterFree(h);
  }
};

std::string NumberText(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

std::vector<float> XgbFitPredict(const std::vector<float>& train, size_t n, size_t nFeat, const std::vector<float>& y,
                                 const std::vector<float>& query, size_t m, const XgbParams& params) {
  if (m == 0) return {};
  if (n == 0) throw std::runtime_error("XGBoost: no training rows");
  if (nFeat == 0) {
    double sum = 0.0;
    for (float v : y) sum += v;
    return std::vector<float>(m, static_cast<float>(sum / static_cast<double>(n)));
  }
  QuietThisThread();
  const float missing = std::nanf("");
  DMatrixGuard dtrain, dquery;
  Check(XGDMatrixCreateFromMat(train.data(), n, nFeat, missing, &dtrain.h), "XGDMatrixCreateFromMat(train)");
  Check(XGDMatrixSetFloatInfo(dtrain.h, "label", y.data(), n), "XGDMatrixSetFloatInfo(label)");
  BoosterGuard booster;
  Check(XGBoosterCreate(&dtrain.h, 1, &booster.h), "XGBoosterCreate");
  const std::string kv[][2] = {
      {"verbosity", "0"},
      {"objective", "reg:squarederror"},
      {"tree_method", params.treeMethod},
      {"max_depth", std::to_string(params.maxDepth)},
      {"eta", NumberText(params.learningRate)},
      {"seed", std::to_string(params.seed)},
      {"nthread", std::to_string(params.nthread)},
  };
  for (const auto& p : kv)
    Check(XGBoosterSetParam(booster.h, p[0].c_str(), p[1].c_str()), ("XGBoosterSetParam(" + p[0] + ")").c_str());
  for (int it = 0; it < params.nEstimators; ++it)
    Check(XGBoosterUpdateOneIter(booster.h, it, dtrain.h), "XGBoosterUpdateOneIter");
  Check(XGDMatrixCreateFromMat(query.data(), m, nFeat, missing, &dquery.h), "XGDMatrixCreateFromMat(query)");
  bst_ulong len = 0;
  const float* result = nullptr;
  Check(XGBoosterPredict(booster.h, dquery.h, 0, 0, 0, &len, &result), "XGBoosterPredict");
  if (len != m)
    throw std::runtime_error("XGBoost: XGBoosterPredict returned " + std::to_string(len) + " values for " +
                             std::to_string(m) + " rows");
  return std::vector<float>(result, result + m);  // copy before the booster frees its buffer
}

std::vector<std::vector<float>> XgbImpute(const std::vector<const float*>& cols, size_t nRows, size_t targetStart,
                                          const std::vector<std::string>& names, XgbParams params, int threads,
                                          bool emptyZero) {
  const size_t d = cols.size();
  std::vector<std::vector<float>> out(d);
  std::vector<size_t> todo;
  for (size_t j = 0; j < d; ++j) {
    out[j].assign(cols[j] + targetStart, cols[j] + nRows);
    bool needs = false;
    for (float v : out[j]) needs |= std::isnan(v);
    if (!needs) continue;
    bool observed = false;
    for (size_t i = 0; i < nRows && !observed; ++i) observed = !std::isnan(cols[j][i]);
    if (!observed) {
      if (!emptyZero)
        throw EmptyColumnError(j, nRows,
                               "column '" + names[j] + "' has no observed value in the " + std::to_string(nRows) +
                                   " fit rows, so there is nothing to learn it from");
      for (float& v : out[j])
        if (std::isnan(v)) v = 0.0f;
      continue;
    }
    todo.push_back(j);
  }
  params.nthread = 1;  // parallel over columns instead: output independent of `threads`
  ParallelFor(todo.size(), threads, [&](size_t u, int /*worker*/) {
    const size_t j = todo[u];
    const size_t nFeat = d - 1;
    std::vector<size_t> obs, miss;
    for (size_t i = 0; i < nRows; ++i)
      if (!std::isnan(cols[j][i])) obs.push_back(i);
    for (size_t i = targetStart; i < nRows; ++i)
      if (std::isnan(cols[j][i])) miss.push_back(i);
    std::vector<float> train(obs.size() * nFeat), y(obs.size()), query(miss.size() * nFeat);
    for (size_t r = 0; r < obs.size(); ++r) {
      y[r] = cols[j][obs[r]];
      size_t k = 0;
      for (size_t f = 0; f < d; ++f)
        if (f != j) train[r * nFeat + k++] = cols[f][obs[r]];
    }
    for (size_t r = 0; r < miss.size(); ++r) {
      size_t k = 0;
      for (size_t f = 0; f < d; ++f)
        if (f != j) query[r * nFeat + k++] = cols[f][miss[r]];
    }
    const std::vector<float> pred = XgbFitPredict(train, obs.size(), nFeat, y, query, miss.size(), params);
    for (size_t r = 0; r < miss.size(); ++r) out[j][miss[r] - targetStart] = pred[r];
  });
  return out;
}

}  // namespace trees
}  // namespace hierimpute
