// Checked reading of the arguments of every hierimpute_core function.
//
// Every reader takes the JS function's name and the argument's name and throws a JS TypeError
// (wrong kind of value) or RangeError (right kind, wrong size or value) that starts with
// "<function>: <argument>", e.g. "takeRows: rows must be an Int32Array, got Float64Array".
// Typed arrays are matched on their exact element type (IsTypedArray + TypedArrayType), never cast
// blindly: a Float64Array given where a Float32Array is expected would otherwise be read as twice
// as many floats, and an Int8Array as a quarter as many int32s, past the end of its buffer.
//
// Columns (a Matrix's Float32Array columns) come back as raw pointers plus, on request, persistent
// references: an async entry point hands those to its PromiseWorker (promise_worker.h), so the
// arrays stay alive while the worker reads them off the JS thread.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace hierimpute {
namespace args {

/** A short description of a JS value for error messages: "Float64Array", "array", "string", ... */
inline std::string Describe(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined:
      return "undefined";
    case napi_null:
      return "null";
    case napi_boolean:
      return "a boolean";
    case napi_number:
      return "the number " + v.ToString().Utf8Value();
    case napi_string:
      return "a string";
    case napi_symbol:
      return "a symbol";
    case napi_function:
      return "a function";
    case napi_bigint:
      return "a bigint";
    case napi_external:
      return "an external";
    default:
      break;
  }
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_int8_array:
        return "Int8Array";
      case napi_uint8_array:
        return "Uint8Array";
      case napi_uint8_clamped_array:
        return "Uint8ClampedArray";
      case napi_int16_array:
        return "Int16Array";
      case napi_uint16_array:
        return "Uint16Array";
      case napi_int32_array:
        return "Int32Array";
      case napi_uint32_array:
        return "Uint32Array";
      case napi_float32_array:
        return "Float32Array";
      case napi_float64_array:
        return "Float64Array";
      case napi_bigint64_array:
        return "BigInt64Array";
      case napi_biguint64_array:
        return "BigUint64Array";
      default:
        return "a typed array";
    }
  }
  if (v.IsArray()) return "an array";
  if (v.IsArrayBuffer()) return "an ArrayBuffer";
  if (v.IsDataView()) return "a DataView";
  return "an object";
}

/** "<fn>: <what> must be <expected>, got <what v is>" as a TypeError. */
[[noreturn]] inline void ThrowType(const Napi::Value& v, const char* fn, const std::string& what,
                                   const std::string& expected) {
  throw Napi::TypeError::New(v.Env(), std::string(fn) + ": " + what + " must be " + expected + ", got " + Describe(v));
}

/** "<fn>: <message>" as a RangeError. */
[[noreturn]] inline void ThrowRange(Napi::Env env, const char* fn, const std::string& message) {
  throw Napi::RangeError::New(env, std::string(fn) + ": " + message);
}

// ---- typed arrays ----

/** The Node-API type tag and JS name of a typed array of T elements. */
template <typename T>
struct TypedArrayTraits;
#define HIERIMPUTE_TYPED_ARRAY(T, TAG, NAME)           \
  template <>                                          \
  struct TypedArrayTraits<T> {                         \
    static constexpr napi_typedarray_type kType = TAG; \
    static constexpr const char* kName = NAME;         \
  };
HIERIMPUTE_TYPED_ARRAY(int8_t, napi_int8_array, "Int8Array")
HIERIMPUTE_TYPED_ARRAY(uint8_t, napi_uint8_array, "Uint8Array")
HIERIMPUTE_TYPED_ARRAY(int16_t, napi_int16_array, "Int16Array")
HIERIMPUTE_TYPED_ARRAY(uint16_t, napi_uint16_array, "Uint16Array")
HIERIMPUTE_TYPED_ARRAY(int32_t, napi_int32_array, "Int32Array")
HIERIMPUTE_TYPED_ARRAY(uint32_t, napi_uint32_array, "Uint32Array")
HIERIMPUTE_TYPED_ARRAY(float, napi_float32_array, "Float32Array")
HIERIMPUTE_TYPED_ARRAY(double, napi_float64_array, "Float64Array")
#undef HIERIMPUTE_TYPED_ARRAY

constexpr std::size_t kAnyLength = static_cast<std::size_t>(-1);

/** Whether `v` is a typed array of exactly T elements (a Uint8ClampedArray is not a Uint8Array). */
template <typename T>
bool IsTypedArrayOf(const Napi::Value& v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == TypedArrayTraits<T>::kType;
}

/** A typed array of exactly T elements, of `length` elements unless kAnyLength. */
template <typename T>
Napi::TypedArrayOf<T> TypedArray(const Napi::Value& v, const char* fn, const std::string& what,
                                 std::size_t length = kAnyLength) {
  if (!IsTypedArrayOf<T>(v)) ThrowType(v, fn, what, std::string("a ") + TypedArrayTraits<T>::kName);
  Napi::TypedArrayOf<T> a = v.As<Napi::TypedArrayOf<T>>();
  if (length != kAnyLength && a.ElementLength() != length)
    ThrowRange(v.Env(), fn,
               what + " has " + std::to_string(a.ElementLength()) + " values, expected " + std::to_string(length));
  return a;
}

/** A copy of a typed array of exactly T elements. */
template <typename T>
std::vector<T> TypedArrayCopy(const Napi::Value& v, const char* fn, const std::string& what,
                              std::size_t length = kAnyLength) {
  Napi::TypedArrayOf<T> a = TypedArray<T>(v, fn, what, length);
  return std::vector<T>(a.Data(), a.Data() + a.ElementLength());
}

// ---- columns ----

/** A JS array of equal-length Float32Array columns, as pointers into their buffers. */
struct FloatColumns {
  std::vector<float*> data;
  std::size_t nRows = 0;
  /** Filled when read with keep = true: hand them to the PromiseWorker that reads `data`. */
  std::vector<Napi::ObjectReference> refs;
  std::size_t size() const { return data.size(); }
  std::vector<const float*> Const() const { return std::vector<const float*>(data.begin(), data.end()); }
};

/**
 * Reads an array of Float32Array columns of one length. `label(j)` names column j in messages
 * (default "<what>[j]"); `keep` takes persistent references for use off the JS thread.
 */
inline FloatColumns Columns(const Napi::Value& v, const char* fn, const std::string& what, bool keep = false,
                            const std::vector<std::string>* names = nullptr) {
  if (!v.IsArray()) ThrowType(v, fn, what, "an array of Float32Array columns");
  Napi::Array arr = v.As<Napi::Array>();
  FloatColumns out;
  const uint32_t p = arr.Length();
  out.data.reserve(p);
  for (uint32_t j = 0; j < p; ++j) {
    Napi::Value c = arr.Get(j);
    const std::string label =
        names && j < names->size() ? "column '" + (*names)[j] + "'" : what + "[" + std::to_string(j) + "]";
    if (!IsTypedArrayOf<float>(c)) ThrowType(c, fn, label, "a Float32Array");
    Napi::Float32Array col = c.As<Napi::Float32Array>();
    if (j == 0) out.nRows = col.ElementLength();
    if (col.ElementLength() != out.nRows)
      ThrowRange(v.Env(), fn,
                 label + " has " + std::to_string(col.ElementLength()) + " rows, " +
                     (names && !names->empty() ? "column '" + (*names)[0] + "'" : what + "[0]") + " has " +
                     std::to_string(out.nRows));
    out.data.push_back(col.Data());
    if (keep) out.refs.push_back(Napi::Persistent(col.As<Napi::Object>()));
  }
  return out;
}

/** An array of strings (exactly `count` unless kAnyLength). */
inline std::vector<std::string> Strings(const Napi::Value& v, const char* fn, const std::string& what,
                                        std::size_t count = kAnyLength) {
  if (!v.IsArray()) ThrowType(v, fn, what, "an array of strings");
  Napi::Array arr = v.As<Napi::Array>();
  if (count != kAnyLength && arr.Length() != count)
    ThrowRange(v.Env(), fn,
               what + " has " + std::to_string(arr.Length()) + " entries, expected " + std::to_string(count));
  std::vector<std::string> out;
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value s = arr.Get(i);
    if (!s.IsString()) ThrowType(s, fn, what + "[" + std::to_string(i) + "]", "a string");
    out.push_back(s.As<Napi::String>().Utf8Value());
  }
  return out;
}

// ---- scalars ----

inline double Number(const Napi::Value& v, const char* fn, const std::string& what) {
  if (!v.IsNumber()) ThrowType(v, fn, what, "a number");
  return v.As<Napi::Number>().DoubleValue();
}

/** A finite number in [lo, hi]. */
inline double NumberIn(const Napi::Value& v, const char* fn, const std::string& what, double lo, double hi) {
  const double d = Number(v, fn, what);
  if (!(d >= lo && d <= hi))
    ThrowRange(v.Env(), fn,
               what + " must be a number in [" + Napi::Number::New(v.Env(), lo).ToString().Utf8Value() + ", " +
                   Napi::Number::New(v.Env(), hi).ToString().Utf8Value() + "], got " + v.ToString().Utf8Value());
  return d;
}

/** An integer in [lo, hi] (at most 2^53, exactly representable). */
inline int64_t Integer(const Napi::Value& v, const char* fn, const std::string& what, int64_t lo, int64_t hi) {
  const double d = Number(v, fn, what);
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || std::floor(d) != d)
    ThrowRange(v.Env(), fn,
               what + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                   v.ToString().Utf8Value());
  return static_cast<int64_t>(d);
}

inline int Int(const Napi::Value& v, const char* fn, const std::string& what, int lo, int hi = 1 << 30) {
  return static_cast<int>(Integer(v, fn, what, lo, hi));
}

/** A count or row index: an integer in [0, 2^53]. */
inline std::size_t Size(const Napi::Value& v, const char* fn, const std::string& what,
                        std::size_t hi = static_cast<std::size_t>(1) << 53) {
  return static_cast<std::size_t>(Integer(v, fn, what, 0, static_cast<int64_t>(hi)));
}

inline std::string String(const Napi::Value& v, const char* fn, const std::string& what) {
  if (!v.IsString()) ThrowType(v, fn, what, "a string");
  return v.As<Napi::String>().Utf8Value();
}

inline bool Bool(const Napi::Value& v, const char* fn, const std::string& what) {
  if (!v.IsBoolean()) ThrowType(v, fn, what, "a boolean");
  return v.As<Napi::Boolean>().Value();
}

/** One of `choices`, given as a string. */
inline std::string Choice(const Napi::Value& v, const char* fn, const std::string& what,
                          std::initializer_list<const char*> choices) {
  std::string list;
  for (const char* c : choices) list += std::string(list.empty() ? "" : ", ") + c;
  if (!v.IsString()) ThrowType(v, fn, what, "one of " + list);
  const std::string s = v.As<Napi::String>().Utf8Value();
  for (const char* c : choices)
    if (s == c) return s;
  ThrowRange(v.Env(), fn, what + " must be one of " + list + ", got '" + s + "'");
}

/** A thread count: undefined = 1 (the calling worker thread only), 0 = all cores, else at most 4096. */
inline int Threads(const Napi::Value& v, const char* fn, const std::string& what = "threads") {
  if (v.IsUndefined()) return 1;
  const double t = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!v.IsNumber()) ThrowType(v, fn, what, "an integer >= 0 (0 = all cores)");
  if (!(t >= 0 && t <= 4096) || std::floor(t) != t)
    ThrowRange(v.Env(), fn, what + " must be an integer >= 0 (0 = all cores), got " + v.ToString().Utf8Value());
  return static_cast<int>(t);
}

/** An object argument (options, params). */
inline Napi::Object Object(const Napi::Value& v, const char* fn, const std::string& what) {
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction()) ThrowType(v, fn, what, "an object");
  return v.As<Napi::Object>();
}

// ---- options objects ----

/**
 * The fields of an options object, read with the readers above and named "<what>.<key>" in
 * messages. Optional fields take a fallback when undefined; required ones throw.
 */
class Options {
 public:
  Options(const Napi::Value& v, const char* fn, const std::string& what)
      : fn_(fn), what_(what), obj_(Object(v, fn, what)) {}
  /** Undefined gives an empty options object (every field takes its fallback). */
  static Options Optional(const Napi::Value& v, const char* fn, const std::string& what) {
    return v.IsUndefined() ? Options(Napi::Object::New(v.Env()), fn, what) : Options(v, fn, what);
  }

  Napi::Value Get(const char* key) const { return obj_.Get(key); }
  bool Has(const char* key) const { return !obj_.Get(key).IsUndefined(); }
  std::string Name(const char* key) const { return what_ + "." + key; }

  double Number(const char* key) const { return args::Number(Get(key), fn_, Name(key)); }
  double Number(const char* key, double fallback) const { return Has(key) ? Number(key) : fallback; }
  double NumberIn(const char* key, double lo, double hi) const {
    return args::NumberIn(Get(key), fn_, Name(key), lo, hi);
  }
  double NumberIn(const char* key, double lo, double hi, double fallback) const {
    return Has(key) ? NumberIn(key, lo, hi) : fallback;
  }
  int Int(const char* key, int lo, int hi = 1 << 30) const { return args::Int(Get(key), fn_, Name(key), lo, hi); }
  int Int(const char* key, int lo, int hi, int fallback) const { return Has(key) ? Int(key, lo, hi) : fallback; }
  int64_t Integer(const char* key, int64_t lo, int64_t hi, int64_t fallback) const {
    return Has(key) ? args::Integer(Get(key), fn_, Name(key), lo, hi) : fallback;
  }
  std::string String(const char* key, const std::string& fallback) const {
    return Has(key) ? args::String(Get(key), fn_, Name(key)) : fallback;
  }
  std::string Choice(const char* key, std::initializer_list<const char*> choices) const {
    return args::Choice(Get(key), fn_, Name(key), choices);
  }
  std::string Choice(const char* key, const char* fallback, std::initializer_list<const char*> choices) const {
    return Has(key) ? Choice(key, choices) : fallback;
  }
  int Threads(const char* key = "threads") const { return args::Threads(Get(key), fn_, Name(key)); }
  /** An array of exactly `count` uint32 values (seeds). */
  void Uint32s(const char* key, uint32_t* out, std::size_t count) const {
    Napi::Value v = Get(key);
    if (!v.IsArray()) ThrowType(v, fn_, Name(key), "an array of " + std::to_string(count) + " integers in [0, 2^32)");
    Napi::Array a = v.As<Napi::Array>();
    if (a.Length() != count)
      ThrowRange(v.Env(), fn_,
                 Name(key) + " has " + std::to_string(a.Length()) + " entries, expected " + std::to_string(count));
    for (uint32_t i = 0; i < count; ++i)
      out[i] = static_cast<uint32_t>(
          args::Integer(a.Get(i), fn_, Name(key) + "[" + std::to_string(i) + "]", 0, 4294967295LL));
  }

 private:
  const char* fn_;
  std::string what_;
  Napi::Object obj_;
};

}  // namespace args
}  // namespace hierimpute
