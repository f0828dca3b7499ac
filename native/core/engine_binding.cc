// Row and band helpers of the hierarchical engine: the per-cell loops it needs, done natively
// over the Float32 column buffers (short synchronous calls; the heavy work is in the kernels).
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "columns.h"
#include "modules.h"

namespace hierimpute {
namespace {

// rowMissingCounts(columns) -> Int32Array: missing (NaN) cells per row.
Napi::Value RowMissingCounts(const Napi::CallbackInfo& info) {
  size_t n = 0;
  auto cols = FloatColumns(info[0], &n, "rowMissingCounts");
  auto out = Napi::Int32Array::New(info.Env(), n);
  int32_t* o = out.Data();
  for (size_t i = 0; i < n; i++) o[i] = 0;
  for (auto& c : cols) {
    const float* d = c.Data();
    for (size_t i = 0; i < n; i++) o[i] += std::isnan(d[i]) ? 1 : 0;
  }
  return out;
}

// takeRows(columns, Int32Array indices) -> Float32Array[]: the rows at `indices`, in that order.
Napi::Value TakeRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t n = 0;
  auto cols = FloatColumns(info[0], &n, "takeRows");
  Napi::Int32Array idx = info[1].As<Napi::Int32Array>();
  size_t m = idx.ElementLength();
  const int32_t* ix = idx.Data();
  for (size_t i = 0; i < m; i++)
    if (ix[i] < 0 || static_cast<size_t>(ix[i]) >= n) throw Napi::RangeError::New(env, "takeRows: row index out of range");
  Napi::Array out = Napi::Array::New(env, cols.size());
  for (size_t j = 0; j < cols.size(); j++) {
    auto o = Napi::Float32Array::New(env, m);
    const float* d = cols[j].Data();
    float* od = o.Data();
    for (size_t i = 0; i < m; i++) od[i] = d[ix[i]];
    out.Set(static_cast<uint32_t>(j), o);
  }
  return out;
}

// scatterRows(target columns, Int32Array indices, source columns): target[idx[i]] = source[i].
Napi::Value ScatterRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t n = 0, m = 0;
  auto dst = FloatColumns(info[0], &n, "scatterRows");
  Napi::Int32Array idx = info[1].As<Napi::Int32Array>();
  auto src = FloatColumns(info[2], &m, "scatterRows");
  if (dst.size() != src.size() || idx.ElementLength() != m)
    throw Napi::RangeError::New(env, "scatterRows: shapes differ");
  const int32_t* ix = idx.Data();
  for (size_t i = 0; i < m; i++)
    if (ix[i] < 0 || static_cast<size_t>(ix[i]) >= n) throw Napi::RangeError::New(env, "scatterRows: row index out of range");
  for (size_t j = 0; j < dst.size(); j++) {
    float* d = dst[j].Data();
    const float* s = src[j].Data();
    for (size_t i = 0; i < m; i++) d[ix[i]] = s[i];
  }
  return env.Undefined();
}

// columnStats(columns) -> {min, max, mean: Float64Array, observed: Int32Array} over non-NaN cells
// (min/max/mean are NaN for a column with no observed cell).
Napi::Value ColumnStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t n = 0;
  auto cols = FloatColumns(info[0], &n, "columnStats");
  size_t k = cols.size();
  auto mn = Napi::Float64Array::New(env, k), mx = Napi::Float64Array::New(env, k), me = Napi::Float64Array::New(env, k);
  auto ob = Napi::Int32Array::New(env, k);
  for (size_t j = 0; j < k; j++) {
    const float* d = cols[j].Data();
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
  size_t n = 0, m = 0;
  auto imp = FloatColumns(info[0], &n, "finishBand");
  auto org = FloatColumns(info[1], &m, "finishBand");
  Napi::Float64Array lo = info[2].As<Napi::Float64Array>(), hi = info[3].As<Napi::Float64Array>();
  if (imp.size() != org.size() || n != m || lo.ElementLength() != imp.size() || hi.ElementLength() != imp.size())
    throw Napi::RangeError::New(env, "finishBand: shapes differ");
  int64_t left = 0;
  for (size_t j = 0; j < imp.size(); j++) {
    float* d = imp[j].Data();
    const float* o = org[j].Data();
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
  size_t n = 0;
  auto cols = FloatColumns(info[0], &n, "fillColumns");
  Napi::Uint8Array which = info[1].As<Napi::Uint8Array>();
  Napi::Float64Array values = info[2].As<Napi::Float64Array>();
  if (which.ElementLength() != cols.size() || values.ElementLength() != cols.size())
    throw Napi::RangeError::New(info.Env(), "fillColumns: `which` and `values` need one entry per column");
  for (size_t j = 0; j < cols.size(); j++) {
    if (!which[j]) continue;
    float* d = cols[j].Data();
    float v = static_cast<float>(values[j]);
    for (size_t i = 0; i < n; i++)
      if (std::isnan(d[i])) d[i] = v;
  }
  return info.Env().Undefined();
}

// firstInfinite(columns) -> null | [row, column]: the first (row-major) ±Infinity cell.
Napi::Value FirstInfinite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t n = 0;
  auto cols = FloatColumns(info[0], &n, "firstInfinite");
  size_t bestRow = n, bestCol = 0;
  for (size_t j = 0; j < cols.size(); j++) {
    const float* d = cols[j].Data();
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
  exports.Set("rowMissingCounts", Napi::Function::New(env, RowMissingCounts));
  exports.Set("takeRows", Napi::Function::New(env, TakeRows));
  exports.Set("scatterRows", Napi::Function::New(env, ScatterRows));
  exports.Set("columnStats", Napi::Function::New(env, ColumnStats));
  exports.Set("finishBand", Napi::Function::New(env, FinishBand));
  exports.Set("fillColumns", Napi::Function::New(env, FillColumns));
  exports.Set("firstInfinite", Napi::Function::New(env, FirstInfinite));
}

}  // namespace hierimpute
