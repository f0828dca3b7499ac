// Row and band helpers of the hierarchical engine: the per-cell loops it needs, done natively
// over the Float32 column buffers (short synchronous calls; the heavy work is in the kernels).
// Arguments are checked by args.h (exact typed-array types, lengths, index ranges).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "args.h"
#include "modules.h"

namespace hierimpute {
namespace {

// rowMissingCounts(columns) -> Int32Array: missing (NaN) cells per row.
Napi::Value RowMissingCounts(const Napi::CallbackInfo& info) {
  const args::FloatColumns cols = args::Columns(info[0], "rowMissingCounts", "columns");
  const size_t n = cols.nRows;
  auto out = Napi::Int32Array::New(info.Env(), n);
  int32_t* o = out.Data();
  for (size_t i = 0; i < n; i++) o[i] = 0;
  for (const float* d : cols.data) {
    for (size_t i = 0; i < n; i++) o[i] += std::isnan(d[i]) ? 1 : 0;
  }
  return out;
}

// takeRows(columns, Int32Array indices) -> Float32Array[]: the rows at `indices`, in that order.
Napi::Value TakeRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const args::FloatColumns cols = args::Columns(info[0], "takeRows", "columns");
  const size_t n = cols.nRows;
  Napi::Int32Array idx = args::TypedArray<int32_t>(info[1], "takeRows", "rows");
  size_t m = idx.ElementLength();
  const int32_t* ix = idx.Data();
  for (size_t i = 0; i < m; i++)
    if (ix[i] < 0 || static_cast<size_t>(ix[i]) >= n)
      args::ThrowRange(
          env, "takeRows",
          "rows[" + std::to_string(i) + "] = " + std::to_string(ix[i]) + " is outside [0, " + std::to_string(n) + ")");
  Napi::Array out = Napi::Array::New(env, cols.size());
  for (size_t j = 0; j < cols.size(); j++) {
    auto o = Napi::Float32Array::New(env, m);
    const float* d = cols.data[j];
    float* od = o.Data();
    for (size_t i = 0; i < m; i++) od[i] = d[ix[i]];
    out.Set(static_cast<uint32_t>(j), o);
  }
  return out;
}

// scatterRows(target columns, Int32Array indices, source columns): target[idx[i]] = source[i].
Napi::Value ScatterRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "scatterRows";
  const args::FloatColumns dst = args::Columns(info[0], fn, "target");
  Napi::Int32Array idx = args::TypedArray<int32_t>(info[1], fn, "rows");
  const args::FloatColumns src = args::Columns(info[2], fn, "source");
  const size_t n = dst.nRows, m = src.nRows;
  if (dst.size() != src.size())
    args::ThrowRange(env, fn,
                     "target has " + std::to_string(dst.size()) + " columns, source " + std::to_string(src.size()));
  if (idx.ElementLength() != m)
    args::ThrowRange(
        env, fn, "rows has " + std::to_string(idx.ElementLength()) + " entries, source " + std::to_string(m) + " rows");
  const int32_t* ix = idx.Data();
  for (size_t i = 0; i < m; i++)
    if (ix[i] < 0 || static_cast<size_t>(ix[i]) >= n)
      args::ThrowRange(
          env, fn,
          "rows[" + std::to_string(i) + "] = " + std::to_string(ix[i]) + " is outside [0, " + std::to_string(n) + ")");
  for (size_t j = 0; j < dst.size(); j++) {
    float* d = dst.data[j];
    const float* s = src.data[j];
    for (size_t i = 0; i < m; i++) d[ix[i]] = s[i];
  }
  return env.Undefined();
}

// columnStats(columns) -> {min, max, mean: Float64Array, observed: Int32Array} over non-NaN cells
// (min/max/mean are NaN for a column with no observed cell).
Napi::Value ColumnStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const args::FloatColumns cols = args::Columns(info[0], "columnStats", "columns");
  const size_t n = cols.nRows;
  size_t k = cols.size();
  auto mn = Napi::Float64Array::New(env, k), mx = Napi::Float64Array::New(env, k), me = Napi::Float64Array::New(env, k);
  auto ob = Napi::Int32Array::New(env, k);
  for (size_t j = 0; j < k; j++) {
    const float* d = cols.data[j];
    double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
    int32_t cnt = 0;
    for (size_t i = 0; i < n; i++) {
      float v = d[i];
      if (std::isnan(v)) continue;
      cnt++;
      sum += v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    double nan = std::numeric_limits<double>::quiet_NaN();
    mn[j] = cnt ? lo : nan;
    mx[j] = cnt ? hi : nan;
    me[j] = cnt ? sum / cnt : nan;
    ob[j] = cnt;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("min", mn);
  o.Set("max", mx);
  o.Set("mean", me);
  o.Set("observed", ob);
  return o;
}

// finishBand(imputed columns, original columns, Float64Array min, Float64Array max) -> count of
// NaN cells left. In place on `imputed`: observed cells of `original` are restored exactly and
// imputed cells are clipped to [min, max] (bounds that are NaN are ignored).
Napi::Value FinishBand(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "finishBand";
  const args::FloatColumns imp = args::Columns(info[0], fn, "imputed");
  const args::FloatColumns org = args::Columns(info[1], fn, "original");
  const size_t n = imp.nRows;
  if (imp.size() != org.size() || n != org.nRows)
    args::ThrowRange(env, fn,
                     "imputed is " + std::to_string(n) + " x " + std::to_string(imp.size()) + ", original " +
                         std::to_string(org.nRows) + " x " + std::to_string(org.size()));
  Napi::Float64Array lo = args::TypedArray<double>(info[2], fn, "min", imp.size());
  Napi::Float64Array hi = args::TypedArray<double>(info[3], fn, "max", imp.size());
  int64_t left = 0;
  for (size_t j = 0; j < imp.size(); j++) {
    float* d = imp.data[j];
    const float* o = org.data[j];
    double l = lo[j], h = hi[j];
    for (size_t i = 0; i < n; i++) {
      if (!std::isnan(o[i])) {
        d[i] = o[i];
        continue;
      }
      float v = d[i];
      if (std::isnan(v)) {
        left++;
        continue;
      }
      if (!std::isnan(l) && v < l) v = static_cast<float>(l);
      if (!std::isnan(h) && v > h) v = static_cast<float>(h);
      d[i] = v;
    }
  }
  return Napi::Number::New(env, static_cast<double>(left));
}

// fillColumns(columns, Uint8Array which, Float64Array values): NaN cells of each column j with
// which[j] != 0 become values[j] (in place).
Napi::Value FillColumns(const Napi::CallbackInfo& info) {
  const args::FloatColumns cols = args::Columns(info[0], "fillColumns", "columns");
  const size_t n = cols.nRows;
  Napi::Uint8Array which = args::TypedArray<uint8_t>(info[1], "fillColumns", "which", cols.size());
  Napi::Float64Array values = args::TypedArray<double>(info[2], "fillColumns", "values", cols.size());
  for (size_t j = 0; j < cols.size(); j++) {
    if (!which[j]) continue;
    float* d = cols.data[j];
    float v = static_cast<float>(values[j]);
    for (size_t i = 0; i < n; i++)
      if (std::isnan(d[i])) d[i] = v;
  }
  return info.Env().Undefined();
}

// firstInfinite(columns) -> null | [row, column]: the first (row-major) ±Infinity cell.
Napi::Value FirstInfinite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const args::FloatColumns cols = args::Columns(info[0], "firstInfinite", "columns");
  const size_t n = cols.nRows;
  size_t bestRow = n, bestCol = 0;
  for (size_t j = 0; j < cols.size(); j++) {
    const float* d = cols.data[j];
    for (size_t i = 0; i < bestRow; i++)
      if (std::isinf(d[i])) {
        bestRow = i;
        bestCol = j;
        break;
      }
  }
  if (bestRow == n) return env.Null();
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, static_cast<double>(bestRow));
  out.Set(1u, static_cast<double>(bestCol));
  return out;
}

}  // namespace

void InitEngine(Napi::Env env, Napi::Object exports) {
  exports.Set("rowMissingCounts", Napi::Function::New(env, RowMissingCounts, "rowMissingCounts"));
  exports.Set("takeRows", Napi::Function::New(env, TakeRows, "takeRows"));
  exports.Set("scatterRows", Napi::Function::New(env, ScatterRows, "scatterRows"));
  exports.Set("columnStats", Napi::Function::New(env, ColumnStats, "columnStats"));
  exports.Set("finishBand", Napi::Function::New(env, FinishBand, "finishBand"));
  exports.Set("fillColumns", Napi::Function::New(env, FillColumns, "fillColumns"));
  exports.Set("firstInfinite", Napi::Function::New(env, FirstInfinite, "firstInfinite"));
}

}  // namespace hierimpute
