// Evaluation helpers: the per-cell loops of holdout masking and scoring, done natively
// over the Float32 column buffers. Short synchronous calls (one pass over a table each).
//
//   holdoutMask(columns, share, seedHi, seedLo, minKeep)
//     -> { masked: Float32Array[], rows: Int32Array, cols: Int32Array, values: Float32Array }
//     Per column j: h_j = min(round(share * observed_j), max(0, observed_j - minKeep)) observed
//     cells, drawn without replacement (partial Fisher-Yates over the observed rows in ascending
//     order) with a SplitMix64 stream seeded from (seed, j). The hidden cells come back in
//     row-major order (row, then column), with their original values; `masked` is a copy of the
//     input with those cells set to NaN. Depends on the data, share and seed only.
//   scoreCells(imputed, rows, cols, values, rowBand, nBands)
//     -> { sse: Float64Array(nBands * k), count: Int32Array(nBands * k) }, index band * k + col:
//     squared error (double) of each hidden cell, summed per (band of its row, column).
//   observedStd(columns) -> Float64Array: population standard deviation (ddof 0, two passes in
//     double) of each column's observed (non-NaN) cells; NaN for a column with none.
// Arguments are checked by args.h (exact typed-array types, lengths, integer ranges).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "args.h"
#include "modules.h"

namespace hierimpute {
namespace {

struct SplitMix64 {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, m) (Lemire's multiply-shift with rejection: exact, platform independent).
  uint64_t below(uint64_t m) {
    uint64_t x = next();
    __uint128_t p = static_cast<__uint128_t>(x) * m;
    uint64_t lo = static_cast<uint64_t>(p);
    if (lo < m) {
      uint64_t t = (0 - m) % m;
      while (lo < t) {
        x = next();
        p = static_cast<__uint128_t>(x) * m;
        lo = static_cast<uint64_t>(p);
      }
    }
    return static_cast<uint64_t>(p >> 64);
  }
};

uint64_t ColumnStreamSeed(uint64_t seed, uint64_t column) {
  SplitMix64 g{seed ^ (0xD1B54A32D192ED03ull * (column + 1))};
  g.next();
  return g.next();
}

uint32_t U32(const Napi::Value& v, const char* fn, const char* what) {
  return static_cast<uint32_t>(args::Integer(v, fn, what, 0, 4294967295LL));
}

Napi::Value HoldoutMask(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "holdoutMask";
  const args::FloatColumns cols = args::Columns(info[0], fn, "columns");
  const size_t n = cols.nRows;
  const double share = args::Number(info[1], fn, "share");
  if (!(share >= 0 && share < 1))
    args::ThrowRange(env, fn, "share must be in [0, 1), got " + info[1].ToString().Utf8Value());
  const uint64_t seed = (static_cast<uint64_t>(U32(info[2], fn, "seedHi")) << 32) | U32(info[3], fn, "seedLo");
  const uint32_t minKeep = U32(info[4], fn, "minKeep");
  const size_t k = cols.size();
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw Napi::RangeError::New(env, "holdoutMask: more than 2^31-1 rows");

  std::vector<uint8_t> hide(n * k, 0);  // column-major
  std::vector<int32_t> obs;
  size_t total = 0;
  for (size_t j = 0; j < k; j++) {
    const float* d = cols.data[j];
    obs.clear();
    for (size_t i = 0; i < n; i++)
      if (!std::isnan(d[i])) obs.push_back(static_cast<int32_t>(i));
    const size_t m = obs.size();
    size_t h = static_cast<size_t>(std::floor(share * static_cast<double>(m) + 0.5));
    const size_t cap = m > minKeep ? m - minKeep : 0;
    if (h > cap) h = cap;
    SplitMix64 g{ColumnStreamSeed(seed, j)};
    for (size_t t = 0; t < h; t++) {
      size_t r = t + static_cast<size_t>(g.below(m - t));
      std::swap(obs[t], obs[r]);
      hide[j * n + static_cast<size_t>(obs[t])] = 1;
    }
    total += h;
  }

  Napi::Array masked = Napi::Array::New(env, k);
  for (size_t j = 0; j < k; j++) {
    auto o = Napi::Float32Array::New(env, n);
    const float* d = cols.data[j];
    float* od = o.Data();
    const uint8_t* hj = hide.data() + j * n;
    for (size_t i = 0; i < n; i++) od[i] = hj[i] ? std::numeric_limits<float>::quiet_NaN() : d[i];
    masked.Set(static_cast<uint32_t>(j), o);
  }
  auto rows = Napi::Int32Array::New(env, total);
  auto cidx = Napi::Int32Array::New(env, total);
  auto vals = Napi::Float32Array::New(env, total);
  size_t at = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < k; j++)
      if (hide[j * n + i]) {
        rows[at] = static_cast<int32_t>(i);
        cidx[at] = static_cast<int32_t>(j);
        vals[at] = cols.data[j][i];
        at++;
      }
  Napi::Object out = Napi::Object::New(env);
  out.Set("masked", masked);
  out.Set("rows", rows);
  out.Set("cols", cidx);
  out.Set("values", vals);
  return out;
}

Napi::Value ScoreCells(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "scoreCells";
  const args::FloatColumns cols = args::Columns(info[0], fn, "imputed");
  const size_t n = cols.nRows;
  const size_t k = cols.size();
  auto rows = args::TypedArray<int32_t>(info[1], fn, "rows");
  const size_t m = rows.ElementLength();
  auto cidx = args::TypedArray<int32_t>(info[2], fn, "cols", m);
  auto vals = args::TypedArray<float>(info[3], fn, "values", m);
  auto band = args::TypedArray<int32_t>(info[4], fn, "rowBand", n);
  const uint32_t nBands = U32(info[5], fn, "nBands");
  auto sse = Napi::Float64Array::New(env, static_cast<size_t>(nBands) * k);
  auto cnt = Napi::Int32Array::New(env, static_cast<size_t>(nBands) * k);
  for (size_t t = 0; t < static_cast<size_t>(nBands) * k; t++) {
    sse[t] = 0;
    cnt[t] = 0;
  }
  for (size_t t = 0; t < m; t++) {
    const int32_t i = rows[t];
    const int32_t j = cidx[t];
    if (i < 0 || static_cast<size_t>(i) >= n || j < 0 || static_cast<size_t>(j) >= k)
      throw Napi::RangeError::New(env, "scoreCells: hidden cell " + std::to_string(t) + " (row " + std::to_string(i) +
                                           ", col " + std::to_string(j) + ") is outside the " + std::to_string(n) +
                                           "x" + std::to_string(k) + " table");
    const int32_t b = band[static_cast<size_t>(i)];
    if (b < 0 || static_cast<uint32_t>(b) >= nBands)
      throw Napi::RangeError::New(
          env, "scoreCells: rowBand[" + std::to_string(i) + "] = " + std::to_string(b) + " is outside [0, nBands)");
    const float got = cols.data[static_cast<size_t>(j)][i];
    if (std::isnan(got))
      throw Napi::Error::New(env, "scoreCells: imputed table has a missing cell at row " + std::to_string(i) +
                                      ", col " + std::to_string(j));
    const double e = static_cast<double>(got) - static_cast<double>(vals[t]);
    const size_t at = static_cast<size_t>(b) * k + static_cast<size_t>(j);
    sse[at] += e * e;
    cnt[at] += 1;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("sse", sse);
  out.Set("count", cnt);
  return out;
}

Napi::Value ObservedStd(const Napi::CallbackInfo& info) {
  const args::FloatColumns cols = args::Columns(info[0], "observedStd", "columns");
  const size_t n = cols.nRows;
  auto out = Napi::Float64Array::New(info.Env(), cols.size());
  for (size_t j = 0; j < cols.size(); j++) {
    const float* d = cols.data[j];
    double sum = 0;
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
      if (!std::isnan(d[i])) {
        sum += d[i];
        c++;
      }
    if (c == 0) {
      out[j] = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    const double mean = sum / static_cast<double>(c);
    double ss = 0;
    for (size_t i = 0; i < n; i++)
      if (!std::isnan(d[i])) {
        const double e = d[i] - mean;
        ss += e * e;
      }
    out[j] = std::sqrt(ss / static_cast<double>(c));
  }
  return out;
}

}  // namespace

void InitScore(Napi::Env env, Napi::Object exports) {
  exports.Set("holdoutMask", Napi::Function::New(env, HoldoutMask, "holdoutMask"));
  exports.Set("scoreCells", Napi::Function::New(env, ScoreCells, "scoreCells"));
  exports.Set("observedStd", Napi::Function::New(env, ObservedStd, "observedStd"));
}

}  // namespace hierimpute
