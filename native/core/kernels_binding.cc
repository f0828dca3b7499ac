// Node binding of the tabular kernels: knnImpute, simpleImpute (mean / median).
// Each call validates its arguments synchronously (TypeError naming the argument), then runs the
// kernel as an AsyncWorker and returns a Promise of { columns: Float32Array[], stats }.
// Inputs are the callers' Float32Array columns themselves (no copy), kept alive by persistent
// references while the worker runs; the output columns are allocated here, on the JS thread.
// Kernel errors reject with an Error carrying `code` (and `column` / `row` where they apply):
//   HIERIMPUTE_EMPTY_COLUMN    a column with no observed fit value has a missing target cell
//   HIERIMPUTE_INFINITE_VALUE  an input cell is +-Infinity
//   HIERIMPUTE_KERNEL          anything else
#include <napi.h>

#include <functional>
#include <string>
#include <vector>

#include "kernels/knn.h"
#include "kernels/simple.h"
#include "modules.h"

namespace hierimpute {
namespace {

struct ColumnsArg {
  ColumnsView view;
  std::vector<Napi::Reference<Napi::Float32Array>> refs;
};

ColumnsArg ReadColumns(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of Float32Array columns");
  Napi::Array arr = value.As<Napi::Array>();
  ColumnsArg out;
  const uint32_t p = arr.Length();
  for (uint32_t j = 0; j < p; ++j) {
    Napi::Value v = arr.Get(j);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(env, std::string(what) + "[" + std::to_string(j) + "] is not a Float32Array");
    Napi::Float32Array col = v.As<Napi::Float32Array>();
    if (j == 0) out.view.nRows = col.ElementLength();
    if (col.ElementLength() != out.view.nRows)
      throw Napi::TypeError::New(env, std::string(what) + "[" + std::to_string(j) + "] has " +
                                          std::to_string(col.ElementLength()) + " rows, " + what + "[0] has " +
                                          std::to_string(out.view.nRows));
    out.view.columns.push_back(col.Data());
    out.refs.push_back(Napi::Persistent(col));
  }
  return out;
}

std::vector<std::string> ReadNames(Napi::Env env, const Napi::Value& value, std::size_t p) {
  std::vector<std::string> names;
  if (value.IsArray()) {
    Napi::Array arr = value.As<Napi::Array>();
    for (uint32_t j = 0; j < arr.Length(); ++j) {
      Napi::Value v = arr.Get(j);
      names.push_back(v.IsString() ? v.As<Napi::String>().Utf8Value() : std::to_string(j));
    }
  }
  if (names.size() != p) {
    names.clear();
    for (std::size_t j = 0; j < p; ++j) names.push_back("#" + std::to_string(j));
  }
  return names;
}

int ReadInt(Napi::Env env, const Napi::Object& o, const char* key, int fallback, int lo) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("options.") + key + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo) || d != static_cast<double>(static_cast<long long>(d)) || d > 1e9)
    throw Napi::TypeError::New(env, std::string("options.") + key + " must be an integer >= " + std::to_string(lo));
  return static_cast<int>(d);
}

std::string ReadChoice(Napi::Env env, const Napi::Object& o, const char* key, const std::string& fallback,
                       std::initializer_list<const char*> choices) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  std::string list;
  for (const char* c : choices) list += std::string(list.empty() ? "" : ", ") + c;
  if (!v.IsString()) throw Napi::TypeError::New(env, std::string("options.") + key + " must be one of " + list);
  const std::string s = v.As<Napi::String>().Utf8Value();
  for (const char* c : choices)
    if (s == c) return s;
  throw Napi::TypeError::New(env, std::string("options.") + key + " must be one of " + list + ", got '" + s + "'");
}

/** Runs one kernel job off the JS thread; resolves { columns, stats }. */
class KernelWorker : public Napi::AsyncWorker {
 public:
  using Job = std::function<ImputeStats(const ColumnsView& fit, const ColumnsView& target, const OutputView& out)>;

  KernelWorker(Napi::Env env, const char* name, ColumnsArg fit, ColumnsArg target, std::vector<std::string> names,
               Job job)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        fit_(std::move(fit)),
        target_(std::move(target)),
        names_(std::move(names)),
        job_(std::move(job)) {
    const std::size_t p = target_.view.nCols();
    out_.nRows = target_.view.nRows;
    for (std::size_t j = 0; j < p; ++j) {
      Napi::Float32Array col = Napi::Float32Array::New(env, out_.nRows);
      out_.columns.push_back(col.Data());
      outRefs_.push_back(Napi::Persistent(col));
    }
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      stats_ = job_(fit_.view, target_.view, out_);
    } catch (const EmptyColumnError& e) {
      code_ = "HIERIMPUTE_EMPTY_COLUMN";
      column_ = static_cast<double>(e.column);
      SetError("column '" + names_[e.column] + "' has no observed value in the " + std::to_string(e.fitRows) +
               " fit rows, so there is nothing to impute it from");
    } catch (const InputValueError& e) {
      code_ = "HIERIMPUTE_INFINITE_VALUE";
      column_ = static_cast<double>(e.column);
      row_ = static_cast<double>(e.row);
      SetError(std::string(e.which) + " column '" + names_[e.column] + "', row " + std::to_string(e.row) +
               " (0-based) holds an infinite value; only finite numbers and NaN (missing) are accepted");
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Array columns = Napi::Array::New(env, outRefs_.size());
    for (std::size_t j = 0; j < outRefs_.size(); ++j) columns.Set(static_cast<uint32_t>(j), outRefs_[j].Value());
    Napi::Object stats = Napi::Object::New(env);
    stats.Set("rowsWithMissing", static_cast<double>(stats_.rowsWithMissing));
    stats.Set("cellsImputed", static_cast<double>(stats_.cellsImputed));
    stats.Set("emptyColumnCells", static_cast<double>(stats_.emptyColumnCells));
    stats.Set("meanFallbackCells", static_cast<double>(stats_.meanFallbackCells));
    stats.Set("nanDonorCells", static_cast<double>(stats_.nanDonorCells));
    Napi::Object result = Napi::Object::New(env);
    result.Set("columns", columns);
    result.Set("stats", stats);
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& error) override {
    Napi::Object e = error.Value();
    e.Set("code", code_);
    if (column_ >= 0) e.Set("column", column_);
    if (row_ >= 0) e.Set("row", row_);
    deferred_.Reject(e);
  }

 private:
  Napi::Promise::Deferred deferred_;
  ColumnsArg fit_, target_;
  std::vector<std::string> names_;
  Job job_;
  OutputView out_;
  std::vector<Napi::Reference<Napi::Float32Array>> outRefs_;
  ImputeStats stats_;
  std::string code_ = "HIERIMPUTE_KERNEL";
  double column_ = -1, row_ = -1;
};

struct CommonArgs {
  ColumnsArg fit, target;
  std::vector<std::string> names;
  Napi::Object options;
};

// (fitColumns, targetColumns, names, options)
CommonArgs ReadCommon(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  CommonArgs a;
  a.fit = ReadColumns(env, info[0], "fitColumns");
  a.target = ReadColumns(env, info[1], "targetColumns");
  if (a.fit.view.nCols() != a.target.view.nCols())
    throw Napi::TypeError::New(env, std::string(fn) + ": fitColumns has " + std::to_string(a.fit.view.nCols()) +
                                        " columns, targetColumns " + std::to_string(a.target.view.nCols()));
  a.names = ReadNames(env, info[2], a.fit.view.nCols());
  a.options = info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(env);
  return a;
}

EmptyColumns ReadEmpty(Napi::Env env, const Napi::Object& o) {
  return ReadChoice(env, o, "emptyColumns", "error", {"error", "zero"}) == "zero" ? EmptyColumns::Zero
                                                                                  : EmptyColumns::Error;
}

// knnImpute(fitColumns, targetColumns, names, {nNeighbors, weights, emptyColumns, threads})
Napi::Value KnnImputeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CommonArgs a = ReadCommon(info, "knnImpute");
  KnnOptions opt;
  opt.nNeighbors = ReadInt(env, a.options, "nNeighbors", 5, 1);
  opt.weights = ReadChoice(env, a.options, "weights", "uniform", {"uniform", "distance"}) == "distance"
                    ? KnnWeights::Distance
                    : KnnWeights::Uniform;
  opt.emptyColumns = ReadEmpty(env, a.options);
  opt.threads = ReadInt(env, a.options, "threads", 1, 0);
  auto* worker = new KernelWorker(env, "hierimpute.knnImpute", std::move(a.fit), std::move(a.target),
                                  std::move(a.names), [opt](const ColumnsView& f, const ColumnsView& t,
                                                            const OutputView& o) { return KnnImpute(f, t, o, opt); });
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// simpleImpute(statistic 'mean'|'median', fitColumns, targetColumns, names, {emptyColumns, threads})
Napi::Value SimpleImputeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "simpleImpute: statistic must be 'mean' or 'median'");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name != "mean" && name != "median")
    throw Napi::TypeError::New(env, "simpleImpute: statistic must be 'mean' or 'median', got '" + name + "'");
  const Statistic statistic = name == "mean" ? Statistic::Mean : Statistic::Median;
  ColumnsArg fit = ReadColumns(env, info[1], "fitColumns");
  ColumnsArg target = ReadColumns(env, info[2], "targetColumns");
  if (fit.view.nCols() != target.view.nCols())
    throw Napi::TypeError::New(env, "simpleImpute: fitColumns has " + std::to_string(fit.view.nCols()) +
                                        " columns, targetColumns " + std::to_string(target.view.nCols()));
  std::vector<std::string> names = ReadNames(env, info[3], fit.view.nCols());
  Napi::Object options = info[4].IsObject() ? info[4].As<Napi::Object>() : Napi::Object::New(env);
  const EmptyColumns empty = ReadEmpty(env, options);
  const int threads = ReadInt(env, options, "threads", 1, 0);
  auto* worker = new KernelWorker(
      env, "hierimpute.simpleImpute", std::move(fit), std::move(target), std::move(names),
      [statistic, empty, threads](const ColumnsView& f, const ColumnsView& t, const OutputView& o) {
        return SimpleImpute(statistic, f, t, o, empty, threads);
      });
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("knnImpute", Napi::Function::New(env, KnnImputeJs, "knnImpute"));
  exports.Set("simpleImpute", Napi::Function::New(env, SimpleImputeJs, "simpleImpute"));
}

}  // namespace hierimpute
