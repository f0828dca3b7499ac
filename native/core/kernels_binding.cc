// Node binding of the tabular kernels: knnImpute, simpleImpute (mean / median).
// Each call validates its arguments synchronously (args.h: TypeError / RangeError naming the
// function and argument), then runs the kernel on a PromiseWorker and returns a Promise of
// { columns: Float32Array[], stats }. Inputs are the callers' Float32Array columns themselves (no
// copy), kept alive by the worker; the output columns are allocated here, on the JS thread.
// Kernel errors reject with an Error carrying `code` (and `column` / `row` where they apply):
//   HIERIMPUTE_EMPTY_COLUMN    a column with no observed fit value has a missing target cell
//   HIERIMPUTE_INFINITE_VALUE  an input cell is +-Infinity
//   HIERIMPUTE_KERNEL          anything else
#include <napi.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "kernels/knn.h"
#include "kernels/simple.h"
#include "modules.h"
#include "promise_worker.h"

namespace hierimpute {
namespace {

/** The kernels know column indices only: reword their errors with the column names. */
KernelError NameColumnError(const KernelError& e, const std::vector<std::string>& names) {
  if (auto* empty = dynamic_cast<const EmptyColumnError*>(&e))
    return EmptyColumnError(static_cast<std::size_t>(e.column()), empty->fitRows,
                            "column '" + names[e.column()] + "' has no observed value in the " +
                                std::to_string(empty->fitRows) + " fit rows, so there is nothing to impute it from");
  if (auto* value = dynamic_cast<const InputValueError*>(&e))
    return KernelError(e.code(),
                       std::string(value->which) + " column '" + names[e.column()] + "', row " +
                           std::to_string(e.row()) +
                           " (0-based) holds an infinite value; only finite numbers and NaN (missing) are accepted",
                       e.column(), e.row());
  return e;
}

/** Runs one tabular kernel over (fit, target) into fresh output columns; resolves { columns, stats }. */
class TabularWorker final : public PromiseWorker<ImputeStats> {
 public:
  using Job = std::function<ImputeStats(const ColumnsView& fit, const ColumnsView& target, const OutputView& out)>;

  TabularWorker(Napi::Env env, const char* name, args::FloatColumns& fit, args::FloatColumns& target,
                std::vector<std::string> names, Job job)
      : PromiseWorker<ImputeStats>(env, name), names_(std::move(names)), job_(std::move(job)) {
    fit_.columns = fit.Const();
    fit_.nRows = fit.nRows;
    target_.columns = target.Const();
    target_.nRows = target.nRows;
    Keep(std::move(fit.refs));
    Keep(std::move(target.refs));
    out_.nRows = target.nRows;
    for (std::size_t j = 0; j < target.size(); ++j) {
      Napi::Float32Array col = Napi::Float32Array::New(env, out_.nRows);
      out_.columns.push_back(col.Data());
      outputs_.push_back(Napi::Persistent(col));
    }
  }

 protected:
  ImputeStats Run() override {
    try {
      return job_(fit_, target_, out_);
    } catch (const KernelError& e) {
      throw NameColumnError(e, names_);
    }
  }
  Napi::Value ToJs(Napi::Env env, ImputeStats& s) override {
    Napi::Array columns = Napi::Array::New(env, outputs_.size());
    for (std::size_t j = 0; j < outputs_.size(); ++j) columns.Set(static_cast<uint32_t>(j), outputs_[j].Value());
    Napi::Object stats = Napi::Object::New(env);
    stats.Set("rowsWithMissing", static_cast<double>(s.rowsWithMissing));
    stats.Set("cellsImputed", static_cast<double>(s.cellsImputed));
    stats.Set("emptyColumnCells", static_cast<double>(s.emptyColumnCells));
    stats.Set("meanFallbackCells", static_cast<double>(s.meanFallbackCells));
    stats.Set("nanDonorCells", static_cast<double>(s.nanDonorCells));
    Napi::Object result = Napi::Object::New(env);
    result.Set("columns", columns);
    result.Set("stats", stats);
    return result;
  }

 private:
  ColumnsView fit_, target_;
  OutputView out_;
  std::vector<Napi::Reference<Napi::Float32Array>> outputs_;
  std::vector<std::string> names_;
  Job job_;
};

struct CommonArgs {
  args::FloatColumns fit, target;
  std::vector<std::string> names;
};

// (fitColumns, targetColumns, names) starting at info[first]
CommonArgs ReadCommon(const Napi::CallbackInfo& info, std::size_t first, const char* fn) {
  CommonArgs a;
  a.fit = args::Columns(info[first], fn, "fitColumns", /*keep=*/true);
  a.target = args::Columns(info[first + 1], fn, "targetColumns", /*keep=*/true);
  if (a.fit.size() != a.target.size())
    args::ThrowRange(info.Env(), fn,
                     "fitColumns has " + std::to_string(a.fit.size()) + " columns, targetColumns " +
                         std::to_string(a.target.size()));
  a.names = args::Strings(info[first + 2], fn, "names", a.fit.size());
  return a;
}

EmptyColumns ReadEmpty(const args::Options& o) {
  return o.Choice("emptyColumns", "error", {"error", "zero"}) == "zero" ? EmptyColumns::Zero : EmptyColumns::Error;
}

// knnImpute(fitColumns, targetColumns, names, {nNeighbors, weights, emptyColumns, threads})
Napi::Value KnnImputeJs(const Napi::CallbackInfo& info) {
  const char* fn = "knnImpute";
  CommonArgs a = ReadCommon(info, 0, fn);
  args::Options o = args::Options::Optional(info[3], fn, "options");
  KnnOptions opt;
  opt.nNeighbors = o.Int("nNeighbors", 1, 1 << 30, 5);
  opt.weights = o.Choice("weights", "uniform", {"uniform", "distance"}) == "distance" ? KnnWeights::Distance
                                                                                      : KnnWeights::Uniform;
  opt.emptyColumns = ReadEmpty(o);
  opt.threads = o.Threads();
  auto* w = new TabularWorker(
      info.Env(), "hierimpute.knnImpute", a.fit, a.target, std::move(a.names),
      [opt](const ColumnsView& f, const ColumnsView& t, const OutputView& out) { return KnnImpute(f, t, out, opt); });
  return w->Start();
}

// simpleImpute(statistic 'mean'|'median', fitColumns, targetColumns, names, {emptyColumns, threads})
Napi::Value SimpleImputeJs(const Napi::CallbackInfo& info) {
  const char* fn = "simpleImpute";
  const Statistic statistic =
      args::Choice(info[0], fn, "statistic", {"mean", "median"}) == "mean" ? Statistic::Mean : Statistic::Median;
  CommonArgs a = ReadCommon(info, 1, fn);
  args::Options o = args::Options::Optional(info[4], fn, "options");
  const EmptyColumns empty = ReadEmpty(o);
  const int threads = o.Threads();
  auto* w =
      new TabularWorker(info.Env(), "hierimpute.simpleImpute", a.fit, a.target, std::move(a.names),
                        [statistic, empty, threads](const ColumnsView& f, const ColumnsView& t, const OutputView& out) {
                          return SimpleImpute(statistic, f, t, out, empty, threads);
                        });
  return w->Start();
}

}  // namespace

void InitKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("knnImpute", Napi::Function::New(env, KnnImputeJs, "knnImpute"));
  exports.Set("simpleImpute", Napi::Function::New(env, SimpleImputeJs, "simpleImpute"));
}

}  // namespace hierimpute
