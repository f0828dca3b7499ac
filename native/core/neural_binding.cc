// Node binding of the native neural kernels (kernels/neural.h):
//   nnRecurrent(x, mask, options) -> Promise<{ pred, epochsRun, bestEpoch, bestScore, lastLoss }>
//   nnGain(x, mask, options)      -> Promise<Float32Array>
//   nnRecurrentCheck(options, params | null, inputs, target, weight, rows) -> { loss, grad, params }
//   nnGainCheck(options, which, paramsG, paramsD, x, m, xTilde, hint, rows) -> { loss, grad }
// x and mask are row-major n x d Float32Arrays (kept alive by the PromiseWorker while it runs);
// training runs off the JS thread, so the event loop stays free. The *Check functions compute
// losses and gradients in double, synchronously, for the finite-difference test. Arguments are
// checked by args.h.
#include <napi.h>

#include <string>
#include <vector>

#include "args.h"
#include "kernels/neural.h"
#include "modules.h"
#include "promise_worker.h"

namespace hierimpute {
namespace {

constexpr int kMaxInt = 2000000000;

/** Row indices: an Int32Array of rows in [0, n); undefined / null = none. */
std::vector<int32_t> Rows(const Napi::Value& v, const char* fn, const std::string& what, int n) {
  if (v.IsUndefined() || v.IsNull()) return {};
  std::vector<int32_t> out = args::TypedArrayCopy<int32_t>(v, fn, what);
  for (int32_t r : out)
    if (r < 0 || r >= n)
      args::ThrowRange(v.Env(), fn,
                       what + " holds row " + std::to_string(r) + " outside [0, " + std::to_string(n) + ")");
  return out;
}

nn::RecurrentConfig ReadRecurrent(const args::Options& o) {
  nn::RecurrentConfig c;
  c.cell = o.Choice("cell", {"lstm", "gru"}) == "lstm" ? nn::Cell::Lstm : nn::Cell::Gru;
  c.objective = o.Choice("objective", {"observed", "dynamic-mask"}) == "observed" ? nn::Objective::Observed
                                                                                  : nn::Objective::DynamicMask;
  c.d = o.Int("d", 2, kMaxInt);
  c.features = o.Int("features", 1, 2);
  c.units = o.Int("units", 1, kMaxInt);
  c.latent = o.Int("latent", 1, kMaxInt);
  c.epochs = o.Int("epochs", 1, kMaxInt);
  c.batchSize = o.Int("batchSize", 1, kMaxInt);
  c.learningRate = o.Number("learningRate");
  c.maskRate = o.Number("maskRate");
  c.visibleWeight = o.Number("visibleWeight");
  c.patience = o.Int("patience", 1, kMaxInt);
  c.refineIterations = o.Int("refineIterations", 0, kMaxInt);
  o.Uint32s("initSeeds", c.initSeeds, 6);
  uint32_t s[2];
  o.Uint32s("streamSeeds", s, 2);
  c.shuffleSeed = s[0];
  c.maskSeed = s[1];
  c.threads = o.Int("threads", 0, 4096);
  return c;
}

nn::GainConfig ReadGain(const args::Options& o) {
  nn::GainConfig c;
  c.d = o.Int("d", 1, kMaxInt);
  c.hidden = o.Int("hidden", 1, kMaxInt);
  c.iterations = o.Int("iterations", 0, kMaxInt);
  c.batchSize = o.Int("batchSize", 1, kMaxInt);
  c.hintRate = o.Number("hintRate");
  c.alpha = o.Number("alpha");
  c.learningRate = o.Number("learningRate");
  o.Uint32s("initSeedsG", c.initSeedsG, 3);
  o.Uint32s("initSeedsD", c.initSeedsD, 3);
  uint32_t s[3];
  o.Uint32s("streamSeeds", s, 3);
  c.batchSeed = s[0];
  c.noiseSeed = s[1];
  c.imputeSeed = s[2];
  return c;
}

/** n and targetStart of options, then x and mask as n x d Float32Arrays (kept for the worker). */
template <typename Data>
std::vector<Napi::ObjectReference> ReadTable(const Napi::CallbackInfo& info, const args::Options& o, const char* fn,
                                             int d, Data& data) {
  data.n = o.Int("n", 1, kMaxInt);
  data.targetStart = o.Int("targetStart", 0, data.n);
  const std::size_t cells = static_cast<std::size_t>(data.n) * static_cast<std::size_t>(d);
  Napi::Float32Array x = args::TypedArray<float>(info[0], fn, "x", cells);
  Napi::Float32Array mask = args::TypedArray<float>(info[1], fn, "mask", cells);
  data.x = x.Data();
  data.mask = mask.Data();
  std::vector<Napi::ObjectReference> keep;
  keep.push_back(Napi::Persistent(x.As<Napi::Object>()));
  keep.push_back(Napi::Persistent(mask.As<Napi::Object>()));
  return keep;
}

Napi::Float32Array ToF32(Napi::Env env, const std::vector<float>& v) {
  Napi::Float32Array a = Napi::Float32Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

Napi::Float64Array ToF64(Napi::Env env, const std::vector<double>& v) {
  Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

// nnRecurrent(x, mask, options{..., n, targetStart, trainRows, valRows?, valHidden?})
Napi::Value NnRecurrent(const Napi::CallbackInfo& info) {
  const char* fn = "nnRecurrent";
  args::Options o(info[2], fn, "options");
  const nn::RecurrentConfig cfg = ReadRecurrent(o);
  nn::RecurrentData data;
  std::vector<Napi::ObjectReference> keep = ReadTable(info, o, fn, cfg.d, data);
  data.trainRows = Rows(o.Get("trainRows"), fn, o.Name("trainRows"), data.n);
  data.valRows = Rows(o.Get("valRows"), fn, o.Name("valRows"), data.n);
  if (!data.valRows.empty())
    data.valHidden =
        args::TypedArrayCopy<float>(o.Get("valHidden"), fn, o.Name("valHidden"), data.valRows.size() * cfg.d);
  if (data.trainRows.empty()) args::ThrowRange(info.Env(), fn, "options.trainRows: no training row");
  return StartPromise<nn::RecurrentResult>(
      info.Env(), "hierimpute.nnRecurrent", std::move(keep), [cfg, data]() { return nn::TrainRecurrent(cfg, data); },
      [](Napi::Env env, nn::RecurrentResult& r) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("pred", ToF32(env, r.pred));
        out.Set("epochsRun", r.epochsRun);
        out.Set("bestEpoch", r.bestEpoch);
        out.Set("bestScore", r.bestScore);
        out.Set("lastLoss", r.lastLoss);
        return out;
      });
}

// nnGain(x, mask, options{..., n, targetStart})
Napi::Value NnGain(const Napi::CallbackInfo& info) {
  const char* fn = "nnGain";
  args::Options o(info[2], fn, "options");
  const nn::GainConfig cfg = ReadGain(o);
  nn::GainData data;
  std::vector<Napi::ObjectReference> keep = ReadTable(info, o, fn, cfg.d, data);
  return StartPromise<std::vector<float>>(
      info.Env(), "hierimpute.nnGain", std::move(keep), [cfg, data]() { return nn::TrainGain(cfg, data); },
      [](Napi::Env env, std::vector<float>& pred) -> Napi::Value { return ToF32(env, pred); });
}

// nnRecurrentCheck(options, params | null, inputs [rows*d*F], target [rows*d], weight [rows*d], rows)
Napi::Value NnRecurrentCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "nnRecurrentCheck";
  const nn::RecurrentConfig cfg = ReadRecurrent(args::Options(info[0], fn, "options"));
  std::vector<double> params;
  if (info[1].IsNull() || info[1].IsUndefined()) {
    std::vector<float> p = nn::RecurrentInitParams(cfg);
    params.assign(p.begin(), p.end());
  } else {
    params = args::TypedArrayCopy<double>(info[1], fn, "params", nn::RecurrentParamCount(cfg));
  }
  const int rows = args::Int(info[5], fn, "rows", 1, kMaxInt);
  const std::size_t cells = static_cast<std::size_t>(rows) * cfg.d;
  std::vector<double> in = args::TypedArrayCopy<double>(info[2], fn, "inputs", cells * cfg.features);
  std::vector<double> target = args::TypedArrayCopy<double>(info[3], fn, "target", cells);
  std::vector<double> weight = args::TypedArrayCopy<double>(info[4], fn, "weight", cells);
  std::vector<double> grad;
  const double loss = nn::RecurrentLossGradDouble(cfg, params, in.data(), target.data(), weight.data(), rows, grad);
  Napi::Object out = Napi::Object::New(env);
  out.Set("loss", loss);
  out.Set("grad", ToF64(env, grad));
  out.Set("params", ToF64(env, params));
  return out;
}

// nnGainCheck(options, which 0 = D | 1 = G, paramsG, paramsD, x, m, xTilde, hint, rows)
Napi::Value NnGainCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "nnGainCheck";
  const nn::GainConfig cfg = ReadGain(args::Options(info[0], fn, "options"));
  const int which = args::Int(info[1], fn, "which", 0, 1);
  const std::size_t count = nn::GainParamCount(cfg);
  std::vector<double> pg = args::TypedArrayCopy<double>(info[2], fn, "paramsG", count);
  std::vector<double> pd = args::TypedArrayCopy<double>(info[3], fn, "paramsD", count);
  const int rows = args::Int(info[8], fn, "rows", 1, kMaxInt);
  const std::size_t cells = static_cast<std::size_t>(rows) * cfg.d;
  std::vector<double> x = args::TypedArrayCopy<double>(info[4], fn, "x", cells);
  std::vector<double> m = args::TypedArrayCopy<double>(info[5], fn, "m", cells);
  std::vector<double> xt = args::TypedArrayCopy<double>(info[6], fn, "xTilde", cells);
  std::vector<double> hint = args::TypedArrayCopy<double>(info[7], fn, "hint", cells);
  std::vector<double> grad;
  const double loss =
      nn::GainLossGradDouble(cfg, which, pg, pd, x.data(), m.data(), xt.data(), hint.data(), rows, grad);
  Napi::Object out = Napi::Object::New(env);
  out.Set("loss", loss);
  out.Set("grad", ToF64(env, grad));
  return out;
}

}  // namespace

void InitNeural(Napi::Env env, Napi::Object exports) {
  exports.Set("nnRecurrent", Napi::Function::New(env, NnRecurrent, "nnRecurrent"));
  exports.Set("nnGain", Napi::Function::New(env, NnGain, "nnGain"));
  exports.Set("nnRecurrentCheck", Napi::Function::New(env, NnRecurrentCheck, "nnRecurrentCheck"));
  exports.Set("nnGainCheck", Napi::Function::New(env, NnGainCheck, "nnGainCheck"));
}

}  // namespace hierimpute
