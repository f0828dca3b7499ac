// Node binding of the tree kernels: MICE (ExtraTrees / random forest / XGBoost / BayesianRidge
// estimator) and the XGBoost imputer. Both run on a PromiseWorker and return a Promise; the input
// Float32Arrays stay referenced until the worker finishes. bayesianRidgeFit (synchronous) exposes the
// BayesianRidge regressor alone, for the parity tests. Arguments are checked by args.h.
#include <napi.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"
#include "kernels/bayesridge.h"
#include "kernels/extratrees.h"
#include "kernels/iterative.h"
#include "kernels/xgb.h"
#include "modules.h"
#include "promise_worker.h"

namespace hierimpute {
namespace {

constexpr int kMaxInt = 1 << 30;
constexpr int64_t kMaxSeed = static_cast<int64_t>(1) << 53;

/** The Float32Array columns of a matrix, with their names and the first target row. */
struct ColumnInput {
  args::FloatColumns columns;
  std::vector<std::string> names;
  size_t targetStart = 0;
};

// (columns: Float32Array[], targetStart: number, names: string[], params: object)
ColumnInput ReadColumns(const Napi::CallbackInfo& info, const char* fn) {
  ColumnInput in;
  if (!info[0].IsArray()) args::ThrowType(info[0], fn, "columns", "an array of Float32Array columns");
  const size_t p = info[0].As<Napi::Array>().Length();
  if (p == 0) args::ThrowRange(info.Env(), fn, "columns: the matrix has no column");
  in.names = args::Strings(info[2], fn, "names", p);
  in.columns = args::Columns(info[0], fn, "columns", /*keep=*/true, &in.names);
  in.targetStart = args::Size(info[1], fn, "targetStart", in.columns.nRows);
  return in;
}

Napi::Array ColumnsToJs(Napi::Env env, const std::vector<std::vector<float>>& cols) {
  Napi::Array out = Napi::Array::New(env, cols.size());
  for (size_t j = 0; j < cols.size(); ++j) {
    Napi::Float32Array a = Napi::Float32Array::New(env, cols[j].size());
    if (!cols[j].empty()) std::memcpy(a.Data(), cols[j].data(), cols[j].size() * sizeof(float));
    out.Set(static_cast<uint32_t>(j), a);
  }
  return out;
}

/** params.emptyColumns: 'error' (default) or 'zero'. */
bool ReadEmptyZero(const args::Options& p) { return p.Choice("emptyColumns", "error", {"error", "zero"}) == "zero"; }

trees::XgbParams ReadXgbParams(const args::Options& p) {
  trees::XgbParams x;
  x.nEstimators = p.Int("nEstimators", 0, kMaxInt, x.nEstimators);
  x.maxDepth = p.Int("maxDepth", 0, kMaxInt, x.maxDepth);
  x.learningRate = p.Number("learningRate", x.learningRate);
  x.seed = static_cast<uint64_t>(p.Integer("seed", 0, kMaxSeed, 0));
  // Not a fixed choice: XGBoost itself rejects an unknown tree method, with its own message.
  x.treeMethod = p.String("treeMethod", x.treeMethod);
  return x;
}

/** miceImpute(columns, targetStart, names, params) -> Promise<{columns, nIter, converged, clipped, divergence}> */
Napi::Value MiceImpute(const Napi::CallbackInfo& info) {
  const char* fn = "miceImpute";
  ColumnInput in = ReadColumns(info, fn);
  args::Options p(info[3], fn, "params");
  trees::MiceParams mp;
  const std::string est =
      p.Choice("estimator", "extratrees", {"extratrees", "random_forest", "xgboost", "bayesian_ridge"});
  mp.estimator = est == "extratrees"      ? trees::MiceEstimator::kExtraTrees
                 : est == "xgboost"       ? trees::MiceEstimator::kXgboost
                 : est == "random_forest" ? trees::MiceEstimator::kRandomForest
                                          : trees::MiceEstimator::kBayesianRidge;
  mp.nEstimators = p.Int("nEstimators", 0, kMaxInt, mp.nEstimators);
  mp.maxDepth = p.Int("maxDepth", 0, kMaxInt, mp.maxDepth);
  mp.maxIter = p.Int("maxIter", 0, kMaxInt, mp.maxIter);
  mp.tol = p.Number("tol", mp.tol);
  mp.seed = static_cast<uint64_t>(p.Integer("seed", 0, kMaxSeed, 0));
  mp.threads = p.Threads();
  mp.xgb = ReadXgbParams(p);
  mp.emptyZero = ReadEmptyZero(p);
  const std::string div = p.Choice("divergence", "clip", {"clip", "error", "off"});
  mp.divergence = div == "clip"    ? trees::DivergenceRule::kClip
                  : div == "error" ? trees::DivergenceRule::kError
                                   : trees::DivergenceRule::kOff;
  mp.bayes.maxIter = p.Int("bayesMaxIter", 0, kMaxInt, mp.bayes.maxIter);
  mp.bayes.tol = p.Number("bayesTol", mp.bayes.tol);

  std::vector<const float*> cols = in.columns.Const();
  const size_t nRows = in.columns.nRows, targetStart = in.targetStart;
  return StartPromise<trees::MiceResult>(
      info.Env(), "hierimpute.miceImpute", std::move(in.columns.refs),
      [cols, nRows, targetStart, names = std::move(in.names), mp]() {
        return trees::MiceImpute(cols, nRows, targetStart, names, mp);
      },
      [](Napi::Env env, trees::MiceResult& r) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("columns", ColumnsToJs(env, r.columns));
        o.Set("nIter", Napi::Number::New(env, r.nIter));
        o.Set("converged", Napi::Boolean::New(env, r.converged));
        o.Set("clipped", Napi::Boolean::New(env, r.clipped));
        o.Set("divergence", Napi::String::New(env, r.divergence));
        return o;
      });
}

/** xgboostImpute(columns, targetStart, names, params) -> Promise<{columns}> */
Napi::Value XgboostImpute(const Napi::CallbackInfo& info) {
  const char* fn = "xgboostImpute";
  ColumnInput in = ReadColumns(info, fn);
  args::Options p(info[3], fn, "params");
  const trees::XgbParams xp = ReadXgbParams(p);
  const int threads = p.Threads();
  const bool emptyZero = ReadEmptyZero(p);
  std::vector<const float*> cols = in.columns.Const();
  const size_t nRows = in.columns.nRows, targetStart = in.targetStart;
  using Result = std::vector<std::vector<float>>;
  return StartPromise<Result>(
      info.Env(), "hierimpute.xgboostImpute", std::move(in.columns.refs),
      [cols, nRows, targetStart, names = std::move(in.names), xp, threads, emptyZero]() {
        return trees::XgbImpute(cols, nRows, targetStart, names, xp, threads, emptyZero);
      },
      [](Napi::Env env, Result& r) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("columns", ColumnsToJs(env, r));
        return o;
      });
}

/**
 * bayesianRidgeFit(columns: Float64Array[], y: Float64Array, params?) -> {coef: Float64Array,
 * intercept, alpha, lambda, nIter}: BayesianRidge().fit(X, y) with X given column by column.
 */
Napi::Value BayesianRidgeFit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "bayesianRidgeFit";
  if (!info[0].IsArray()) args::ThrowType(info[0], fn, "columns", "an array of Float64Array columns");
  Napi::Array cols = info[0].As<Napi::Array>();
  Napi::Float64Array ya = args::TypedArray<double>(info[1], fn, "y");
  const size_t n = ya.ElementLength(), p = cols.Length();
  std::vector<double> X(n * p), y(ya.Data(), ya.Data() + n);
  for (uint32_t f = 0; f < p; ++f) {
    Napi::Float64Array c = args::TypedArray<double>(cols.Get(f), fn, "columns[" + std::to_string(f) + "]", n);
    std::copy(c.Data(), c.Data() + n, X.begin() + f * n);
  }
  linear::BayesianRidgeParams bp;
  args::Options o = args::Options::Optional(info[2], fn, "params");
  bp.maxIter = o.Int("maxIter", 0, kMaxInt, bp.maxIter);
  bp.tol = o.Number("tol", bp.tol);
  linear::BayesianRidgeWorkspace ws;
  linear::BayesianRidgeModel m;
  try {
    m = linear::FitBayesianRidge(X.data(), n, p, y.data(), bp, ws);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(fn) + ": " + e.what());
  }
  Napi::Object out = Napi::Object::New(env);
  Napi::Float64Array coef = Napi::Float64Array::New(env, p);
  std::copy(m.coef.begin(), m.coef.end(), coef.Data());
  out.Set("coef", coef);
  out.Set("intercept", Napi::Number::New(env, m.intercept));
  out.Set("alpha", Napi::Number::New(env, m.alpha));
  out.Set("lambda", Napi::Number::New(env, m.lambda));
  out.Set("nIter", Napi::Number::New(env, m.nIter));
  return out;
}

}  // namespace

void InitTrees(Napi::Env env, Napi::Object exports) {
  exports.Set("bayesianRidgeFit", Napi::Function::New(env, BayesianRidgeFit, "bayesianRidgeFit"));
  exports.Set("miceImpute", Napi::Function::New(env, MiceImpute, "miceImpute"));
  exports.Set("xgboostImpute", Napi::Function::New(env, XgboostImpute, "xgboostImpute"));
}

}  // namespace hierimpute
