// Node binding of the tree kernels: MICE (ExtraTrees / random forest / XGBoost / BayesianRidge
// estimator) and the XGBoost imputer. Both run as Napi::AsyncWorker and return a Promise; the input
// Float32Arrays stay referenced until the worker finishes. bayesianRidgeFit (synchronous) exposes the
// BayesianRidge regressor alone, for the parity tests.
#include <napi.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels/bayesridge.h"
#include "kernels/extratrees.h"
#include "kernels/iterative.h"
#include "kernels/xgb.h"
#include "modules.h"

namespace hierimpute {
namespace {

/** The Float32Array columns of a matrix, kept alive while a worker reads them. */
struct ColumnInput {
  std::vector<Napi::ObjectReference> refs;
  std::vector<const float*> cols;
  std::vector<std::string> names;
  size_t nRows = 0;
  size_t targetStart = 0;
};

void ReadColumns(const Napi::CallbackInfo& info, const char* fn, ColumnInput& in) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsArray() || !info[1].IsNumber() || !info[2].IsArray() || !info[3].IsObject())
    throw Napi::TypeError::New(env, std::string(fn) + "(columns: Float32Array[], targetStart: number, names: string[], params: object)");
  Napi::Array cols = info[0].As<Napi::Array>();
  Napi::Array names = info[2].As<Napi::Array>();
  if (cols.Length() == 0) throw Napi::TypeError::New(env, std::string(fn) + ": the matrix has no column");
  if (names.Length() != cols.Length())
    throw Napi::TypeError::New(env, std::string(fn) + ": " + std::to_string(names.Length()) + " names for " + std::to_string(cols.Length()) + " columns");
  for (uint32_t j = 0; j < cols.Length(); ++j) {
    Napi::Value v = cols.Get(j);
    const std::string name = names.Get(j).ToString().Utf8Value();
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(env, std::string(fn) + ": column '" + name + "' is not a Float32Array");
    Napi::Float32Array a = v.As<Napi::Float32Array>();
    if (j == 0) in.nRows = a.ElementLength();
    if (a.ElementLength() != in.nRows)
      throw Napi::TypeError::New(env, std::string(fn) + ": column '" + name + "' has " + std::to_string(a.ElementLength()) + " rows, expected " + std::to_string(in.nRows));
    in.refs.push_back(Napi::Persistent(a.As<Napi::Object>()));
    in.cols.push_back(a.Data());
    in.names.push_back(name);
  }
  const double ts = info[1].As<Napi::Number>().DoubleValue();
  if (!(ts >= 0) || ts != static_cast<double>(static_cast<size_t>(ts)) || static_cast<size_t>(ts) > in.nRows)
    throw Napi::RangeError::New(env, std::string(fn) + ": targetStart " + std::to_string(ts) + " is not an integer in [0, " + std::to_string(in.nRows) + "]");
  in.targetStart = static_cast<size_t>(ts);
}

double NumberParam(const Napi::Object& p, const char* key, double def, const char* fn) {
  Napi::Value v = p.Get(key);
  if (v.IsUndefined()) return def;
  if (!v.IsNumber()) throw Napi::TypeError::New(p.Env(), std::string(fn) + ": params." + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
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

/** Marks an empty-column rejection like the other kernels: code HIERIMPUTE_EMPTY_COLUMN + column. */
Napi::Value TagEmptyColumn(const Napi::Error& e, int64_t column) {
  Napi::Object err = e.Value();
  if (column >= 0) {
    err.Set("code", Napi::String::New(e.Env(), "HIERIMPUTE_EMPTY_COLUMN"));
    err.Set("column", Napi::Number::New(e.Env(), static_cast<double>(column)));
  }
  return err;
}

/** params.emptyColumns: 'error' (default) or 'zero'. */
bool ReadEmptyZero(const Napi::Object& p, const char* fn) {
  Napi::Value v = p.Get("emptyColumns");
  if (v.IsUndefined()) return false;
  const std::string s = v.ToString().Utf8Value();
  if (s == "error") return false;
  if (s == "zero") return true;
  throw Napi::TypeError::New(p.Env(), std::string(fn) + ": params.emptyColumns '" + s + "' is not one of error, zero");
}

class MiceWorker : public Napi::AsyncWorker {
 public:
  MiceWorker(Napi::Env env, std::unique_ptr<ColumnInput> in, trees::MiceParams params)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), in_(std::move(in)), params_(params) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      result_ = trees::MiceImpute(in_->cols, in_->nRows, in_->targetStart, in_->names, params_);
    } catch (const trees::EmptyColumnError& e) {
      emptyColumn_ = static_cast<int64_t>(e.column);
      SetError(e.what());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("columns", ColumnsToJs(env, result_.columns));
    o.Set("nIter", Napi::Number::New(env, result_.nIter));
    o.Set("converged", Napi::Boolean::New(env, result_.converged));
    o.Set("clipped", Napi::Boolean::New(env, result_.clipped));
    o.Set("divergence", Napi::String::New(env, result_.divergence));
    in_.reset();
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override {
    in_.reset();
    deferred_.Reject(TagEmptyColumn(e, emptyColumn_));
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::unique_ptr<ColumnInput> in_;
  trees::MiceParams params_;
  trees::MiceResult result_;
  int64_t emptyColumn_ = -1;
};

class XgbWorker : public Napi::AsyncWorker {
 public:
  XgbWorker(Napi::Env env, std::unique_ptr<ColumnInput> in, trees::XgbParams params, int threads)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), in_(std::move(in)), params_(params), threads_(threads) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      result_ = trees::XgbImpute(in_->cols, in_->nRows, in_->targetStart, in_->names, params_, threads_, emptyZero_);
    } catch (const trees::EmptyColumnError& e) {
      emptyColumn_ = static_cast<int64_t>(e.column);
      SetError(e.what());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("columns", ColumnsToJs(env, result_));
    in_.reset();
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override {
    in_.reset();
    deferred_.Reject(TagEmptyColumn(e, emptyColumn_));
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::unique_ptr<ColumnInput> in_;
  trees::XgbParams params_;
  int threads_;
  bool emptyZero_ = false;
  std::vector<std::vector<float>> result_;
  int64_t emptyColumn_ = -1;

 public:
  void SetEmptyZero(bool z) { emptyZero_ = z; }
};

trees::XgbParams ReadXgbParams(const Napi::Object& p, const char* fn) {
  trees::XgbParams x;
  x.nEstimators = static_cast<int>(NumberParam(p, "nEstimators", x.nEstimators, fn));
  x.maxDepth = static_cast<int>(NumberParam(p, "maxDepth", x.maxDepth, fn));
  x.learningRate = NumberParam(p, "learningRate", x.learningRate, fn);
  x.seed = static_cast<uint64_t>(NumberParam(p, "seed", 0, fn));
  Napi::Value tm = p.Get("treeMethod");
  if (!tm.IsUndefined()) x.treeMethod = tm.ToString().Utf8Value();
  return x;
}

/** miceImpute(columns, targetStart, names, params) -> Promise<{columns, nIter, converged, clipped, divergence}> */
Napi::Value MiceImpute(const Napi::CallbackInfo& info) {
  auto in = std::make_unique<ColumnInput>();
  ReadColumns(info, "miceImpute", *in);
  Napi::Object p = info[3].As<Napi::Object>();
  trees::MiceParams mp;
  const std::string est = p.Get("estimator").IsUndefined() ? "extratrees" : p.Get("estimator").ToString().Utf8Value();
  if (est == "extratrees") {
    mp.estimator = trees::MiceEstimator::kExtraTrees;
  } else if (est == "xgboost") {
    mp.estimator = trees::MiceEstimator::kXgboost;
  } else if (est == "random_forest") {
    mp.estimator = trees::MiceEstimator::kRandomForest;
  } else if (est == "bayesian_ridge") {
    mp.estimator = trees::MiceEstimator::kBayesianRidge;
  } else {
    throw Napi::TypeError::New(info.Env(), "miceImpute: params.estimator '" + est +
                                               "' is not one of extratrees, random_forest, xgboost, bayesian_ridge");
  }
  mp.nEstimators = static_cast<int>(NumberParam(p, "nEstimators", mp.nEstimators, "miceImpute"));
  mp.maxDepth = static_cast<int>(NumberParam(p, "maxDepth", mp.maxDepth, "miceImpute"));
  mp.maxIter = static_cast<int>(NumberParam(p, "maxIter", mp.maxIter, "miceImpute"));
  mp.tol = NumberParam(p, "tol", mp.tol, "miceImpute");
  mp.seed = static_cast<uint64_t>(NumberParam(p, "seed", 0, "miceImpute"));
  mp.threads = static_cast<int>(NumberParam(p, "threads", 1, "miceImpute"));
  mp.xgb = ReadXgbParams(p, "miceImpute");
  mp.emptyZero = ReadEmptyZero(p, "miceImpute");
  Napi::Value dv = p.Get("divergence");
  const std::string div = dv.IsUndefined() ? "clip" : dv.ToString().Utf8Value();
  if (div == "clip") {
    mp.divergence = trees::DivergenceRule::kClip;
  } else if (div == "error") {
    mp.divergence = trees::DivergenceRule::kError;
  } else if (div == "off") {
    mp.divergence = trees::DivergenceRule::kOff;
  } else {
    throw Napi::TypeError::New(info.Env(), "miceImpute: params.divergence '" + div + "' is not one of clip, error, off");
  }
  mp.bayes.maxIter = static_cast<int>(NumberParam(p, "bayesMaxIter", mp.bayes.maxIter, "miceImpute"));
  mp.bayes.tol = NumberParam(p, "bayesTol", mp.bayes.tol, "miceImpute");
  auto* w = new MiceWorker(info.Env(), std::move(in), mp);
  Napi::Promise promise = w->Promise();
  w->Queue();
  return promise;
}

/** xgboostImpute(columns, targetStart, names, params) -> Promise<{columns}> */
Napi::Value XgboostImpute(const Napi::CallbackInfo& info) {
  auto in = std::make_unique<ColumnInput>();
  ReadColumns(info, "xgboostImpute", *in);
  Napi::Object p = info[3].As<Napi::Object>();
  trees::XgbParams xp = ReadXgbParams(p, "xgboostImpute");
  const int threads = static_cast<int>(NumberParam(p, "threads", 1, "xgboostImpute"));
  const bool emptyZero = ReadEmptyZero(p, "xgboostImpute");
  auto* w = new XgbWorker(info.Env(), std::move(in), xp, threads);
  w->SetEmptyZero(emptyZero);
  Napi::Promise promise = w->Promise();
  w->Queue();
  return promise;
}

/**
 * bayesianRidgeFit(columns: Float64Array[], y: Float64Array, params?) -> {coef: Float64Array,
 * intercept, alpha, lambda, nIter}: BayesianRidge().fit(X, y) with X given column by column.
 */
Napi::Value BayesianRidgeFit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "bayesianRidgeFit";
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsTypedArray())
    throw Napi::TypeError::New(env, "bayesianRidgeFit(columns: Float64Array[], y: Float64Array, params?: object)");
  Napi::Array cols = info[0].As<Napi::Array>();
  Napi::TypedArray yt = info[1].As<Napi::TypedArray>();
  if (yt.TypedArrayType() != napi_float64_array) throw Napi::TypeError::New(env, "bayesianRidgeFit: y must be a Float64Array");
  Napi::Float64Array ya = yt.As<Napi::Float64Array>();
  const size_t n = ya.ElementLength(), p = cols.Length();
  std::vector<double> X(n * p), y(ya.Data(), ya.Data() + n);
  for (uint32_t f = 0; f < p; ++f) {
    Napi::Value v = cols.Get(f);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        v.As<Napi::Float64Array>().ElementLength() != n)
      throw Napi::TypeError::New(env, "bayesianRidgeFit: column " + std::to_string(f) + " is not a Float64Array of " + std::to_string(n) + " values");
    const double* src = v.As<Napi::Float64Array>().Data();
    std::copy(src, src + n, X.begin() + f * n);
  }
  linear::BayesianRidgeParams bp;
  if (info.Length() > 2 && info[2].IsObject()) {
    Napi::Object o = info[2].As<Napi::Object>();
    bp.maxIter = static_cast<int>(NumberParam(o, "maxIter", bp.maxIter, fn));
    bp.tol = NumberParam(o, "tol", bp.tol, fn);
  }
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
