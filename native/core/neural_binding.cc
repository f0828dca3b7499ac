// Node binding of the native neural kernels (kernels/neural.h):
//   nnRecurrent(x, mask, options) -> Promise<{ pred, epochsRun, bestEpoch, bestScore, lastLoss }>
//   nnGain(x, mask, options)      -> Promise<Float32Array>
//   nnRecurrentCheck(options, params | null, inputs, target, weight, rows) -> { loss, grad, params }
//   nnGainCheck(options, which, paramsG, paramsD, x, m, xTilde, hint, rows) -> { loss, grad }
// x and mask are row-major n x d Float32Arrays (kept alive by references while the worker runs);
// training runs off the JS thread (AsyncWorker), so the event loop stays free. The *Check
// functions compute losses and gradients in double, synchronously, for the finite-difference test.
#include <napi.h>

#include <string>
#include <vector>

#include "kernels/neural.h"
#include "modules.h"

namespace hierimpute {
namespace {

Napi::Float32Array F32(Napi::Env env, const Napi::Value& v, const char* what, std::size_t len) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, std::string(what) + " must be a Float32Array");
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  if (len != static_cast<std::size_t>(-1) && a.ElementLength() != len)
    throw Napi::TypeError::New(env, std::string(what) + " has " + std::to_string(a.ElementLength()) + " values, expected " +
                                        std::to_string(len));
  return a;
}

std::vector<double> F64(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, std::string(what) + " must be a Float64Array");
  Napi::Float64Array a = v.As<Napi::Float64Array>();
  return std::vector<double>(a.Data(), a.Data() + a.ElementLength());
}

std::vector<int32_t> I32(Napi::Env env, const Napi::Value& v, const char* what, int n) {
  if (v.IsUndefined() || v.IsNull()) return {};
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(env, std::string(what) + " must be an Int32Array");
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  std::vector<int32_t> out(a.Data(), a.Data() + a.ElementLength());
  for (int32_t r : out)
    if (r < 0 || r >= n) throw Napi::RangeError::New(env, std::string(what) + " holds row " + std::to_string(r) + " outside [0, n)");
  return out;
}

double Num(Napi::Env env, const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("options.") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

int Int(Napi::Env env, const Napi::Object& o, const char* key, int lo) {
  const double v = Num(env, o, key);
  if (!(v >= lo) || v != static_cast<double>(static_cast<long long>(v)) || v > 2e9)
    throw Napi::TypeError::New(env, std::string("options.") + key + " must be an integer >= " + std::to_string(lo));
  return static_cast<int>(v);
}

void Seeds(Napi::Env env, const Napi::Object& o, const char* key, uint32_t* out, int count) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray() || v.As<Napi::Array>().Length() != static_cast<uint32_t>(count))
    throw Napi::TypeError::New(env, std::string("options.") + key + " must be an array of " + std::to_string(count) + " seeds");
  Napi::Array a = v.As<Napi::Array>();
  for (int i = 0; i < count; ++i) out[i] = static_cast<uint32_t>(a.Get(static_cast<uint32_t>(i)).As<Napi::Number>().Int64Value());
}

nn::RecurrentConfig ReadRecurrent(Napi::Env env, const Napi::Object& o) {
  nn::RecurrentConfig c;
  const std::string cell = o.Get("cell").ToString().Utf8Value();
  if (cell != "lstm" && cell != "gru") throw Napi::TypeError::New(env, "options.cell must be 'lstm' or 'gru'");
  c.cell = cell == "lstm" ? nn::Cell::Lstm : nn::Cell::Gru;
  const std::string obj = o.Get("objective").ToString().Utf8Value();
  if (obj != "observed" && obj != "dynamic-mask") throw Napi::TypeError::New(env, "options.objective must be 'observed' or 'dynamic-mask'");
  c.objective = obj == "observed" ? nn::Objective::Observed : nn::Objective::DynamicMask;
  c.d = Int(env, o, "d", 2);
  c.features = Int(env, o, "features", 1);
  if (c.features > 2) throw Napi::TypeError::New(env, "options.features must be 1 or 2");
  c.units = Int(env, o, "units", 1);
  c.latent = Int(env, o, "latent", 1);
  c.epochs = Int(env, o, "epochs", 1);
  c.batchSize = Int(env, o, "batchSize", 1);
  c.learningRate = Num(env, o, "learningRate");
  c.maskRate = Num(env, o, "maskRate");
  c.visibleWeight = Num(env, o, "visibleWeight");
  c.patience = Int(env, o, "patience", 1);
  c.refineIterations = Int(env, o, "refineIterations", 0);
  Seeds(env, o, "initSeeds", c.initSeeds, 6);
  uint32_t s[2];
  Seeds(env, o, "streamSeeds", s, 2);
  c.shuffleSeed = s[0];
  c.maskSeed = s[1];
  c.threads = Int(env, o, "threads", 0);
  return c;
}

class RecurrentWorker : public Napi::AsyncWorker {
 public:
  RecurrentWorker(Napi::Env env, nn::RecurrentConfig cfg, nn::RecurrentData data, Napi::Float32Array x, Napi::Float32Array mask)
      : Napi::AsyncWorker(env, "hierimpute.nnRecurrent"),
        deferred_(Napi::Promise::Deferred::New(env)),
        cfg_(cfg),
        data_(std::move(data)),
        x_(Napi::Persistent(x)),
        mask_(Napi::Persistent(mask)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      res_ = nn::TrainRecurrent(cfg_, data_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Float32Array pred = Napi::Float32Array::New(env, res_.pred.size());
    std::copy(res_.pred.begin(), res_.pred.end(), pred.Data());
    Napi::Object out = Napi::Object::New(env);
    out.Set("pred", pred);
    out.Set("epochsRun", res_.epochsRun);
    out.Set("bestEpoch", res_.bestEpoch);
    out.Set("bestScore", res_.bestScore);
    out.Set("lastLoss", res_.lastLoss);
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  nn::RecurrentConfig cfg_;
  nn::RecurrentData data_;
  Napi::Reference<Napi::Float32Array> x_, mask_;
  nn::RecurrentResult res_;
};

// nnRecurrent(x, mask, options{..., n, targetStart, trainRows, valRows?, valHidden?})
Napi::Value NnRecurrent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[2].IsObject()) throw Napi::TypeError::New(env, "nnRecurrent: options must be an object");
  Napi::Object o = info[2].As<Napi::Object>();
  nn::RecurrentConfig cfg = ReadRecurrent(env, o);
  nn::RecurrentData data;
  data.n = Int(env, o, "n", 1);
  data.targetStart = Int(env, o, "targetStart", 0);
  if (data.targetStart > data.n) throw Napi::RangeError::New(env, "nnRecurrent: targetStart > n");
  const std::size_t cells = static_cast<std::size_t>(data.n) * cfg.d;
  Napi::Float32Array x = F32(env, info[0], "x", cells), mask = F32(env, info[1], "mask", cells);
  data.x = x.Data();
  data.mask = mask.Data();
  data.trainRows = I32(env, o.Get("trainRows"), "options.trainRows", data.n);
  data.valRows = I32(env, o.Get("valRows"), "options.valRows", data.n);
  if (!data.valRows.empty()) {
    Napi::Float32Array h = F32(env, o.Get("valHidden"), "options.valHidden", data.valRows.size() * cfg.d);
    data.valHidden.assign(h.Data(), h.Data() + h.ElementLength());
  }
  if (data.trainRows.empty()) throw Napi::RangeError::New(env, "nnRecurrent: no training row");
  auto* w = new RecurrentWorker(env, cfg, std::move(data), x, mask);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

nn::GainConfig ReadGain(Napi::Env env, const Napi::Object& o) {
  nn::GainConfig c;
  c.d = Int(env, o, "d", 1);
  c.hidden = Int(env, o, "hidden", 1);
  c.iterations = Int(env, o, "iterations", 0);
  c.batchSize = Int(env, o, "batchSize", 1);
  c.hintRate = Num(env, o, "hintRate");
  c.alpha = Num(env, o, "alpha");
  c.learningRate = Num(env, o, "learningRate");
  Seeds(env, o, "initSeedsG", c.initSeedsG, 3);
  Seeds(env, o, "initSeedsD", c.initSeedsD, 3);
  uint32_t s[3];
  Seeds(env, o, "streamSeeds", s, 3);
  c.batchSeed = s[0];
  c.noiseSeed = s[1];
  c.imputeSeed = s[2];
  return c;
}

class GainWorker : public Napi::AsyncWorker {
 public:
  GainWorker(Napi::Env env, nn::GainConfig cfg, nn::GainData data, Napi::Float32Array x, Napi::Float32Array mask)
      : Napi::AsyncWorker(env, "hierimpute.nnGain"),
        deferred_(Napi::Promise::Deferred::New(env)),
        cfg_(cfg),
        data_(data),
        x_(Napi::Persistent(x)),
        mask_(Napi::Persistent(mask)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      out_ = nn::TrainGain(cfg_, data_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Float32Array pred = Napi::Float32Array::New(Env(), out_.size());
    std::copy(out_.begin(), out_.end(), pred.Data());
    deferred_.Resolve(pred);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  nn::GainConfig cfg_;
  nn::GainData data_;
  Napi::Reference<Napi::Float32Array> x_, mask_;
  std::vector<float> out_;
};

// nnGain(x, mask, options{..., n, targetStart})
Napi::Value NnGain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[2].IsObject()) throw Napi::TypeError::New(env, "nnGain: options must be an object");
  Napi::Object o = info[2].As<Napi::Object>();
  nn::GainConfig cfg = ReadGain(env, o);
  nn::GainData data;
  data.n = Int(env, o, "n", 1);
  data.targetStart = Int(env, o, "targetStart", 0);
  if (data.targetStart > data.n) throw Napi::RangeError::New(env, "nnGain: targetStart > n");
  const std::size_t cells = static_cast<std::size_t>(data.n) * cfg.d;
  Napi::Float32Array x = F32(env, info[0], "x", cells), mask = F32(env, info[1], "mask", cells);
  data.x = x.Data();
  data.mask = mask.Data();
  auto* w = new GainWorker(env, cfg, data, x, mask);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Float64Array ToF64(Napi::Env env, const std::vector<double>& v) {
  Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

// nnRecurrentCheck(options, params | null, inputs [rows*d*F], target [rows*d], weight [rows*d], rows)
Napi::Value NnRecurrentCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  nn::RecurrentConfig cfg = ReadRecurrent(env, info[0].As<Napi::Object>());
  std::vector<double> params;
  if (info[1].IsNull() || info[1].IsUndefined()) {
    std::vector<float> p = nn::RecurrentInitParams(cfg);
    params.assign(p.begin(), p.end());
  } else {
    params = F64(env, info[1], "params");
  }
  const int rows = info[5].As<Napi::Number>().Int32Value();
  std::vector<double> in = F64(env, info[2], "inputs"), target = F64(env, info[3], "target"), weight = F64(env, info[4], "weight");
  const std::size_t cells = static_cast<std::size_t>(rows) * cfg.d;
  if (rows < 1 || in.size() != cells * cfg.features || target.size() != cells || weight.size() != cells)
    throw Napi::RangeError::New(env, "nnRecurrentCheck: array sizes do not match rows x d");
  if (params.size() != nn::RecurrentParamCount(cfg)) throw Napi::RangeError::New(env, "nnRecurrentCheck: wrong parameter count");
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
  nn::GainConfig cfg = ReadGain(env, info[0].As<Napi::Object>());
  const int which = info[1].As<Napi::Number>().Int32Value();
  std::vector<double> pg = F64(env, info[2], "paramsG"), pd = F64(env, info[3], "paramsD");
  std::vector<double> x = F64(env, info[4], "x"), m = F64(env, info[5], "m"), xt = F64(env, info[6], "xTilde"),
                      hint = F64(env, info[7], "hint");
  const int rows = info[8].As<Napi::Number>().Int32Value();
  const std::size_t cells = static_cast<std::size_t>(rows) * cfg.d;
  if (rows < 1 || x.size() != cells || m.size() != cells || xt.size() != cells || hint.size() != cells)
    throw Napi::RangeError::New(env, "nnGainCheck: array sizes do not match rows x d");
  if (pg.size() != nn::GainParamCount(cfg) || pd.size() != nn::GainParamCount(cfg))
    throw Napi::RangeError::New(env, "nnGainCheck: wrong parameter count");
  std::vector<double> grad;
  const double loss = nn::GainLossGradDouble(cfg, which, pg, pd, x.data(), m.data(), xt.data(), hint.data(), rows, grad);
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
