// Reading a JS array of Float32Array columns (a Matrix's columns) in a native call: every
// element is checked to be a Float32Array and all have the same length. Views, no copies.
#pragma once

#include <napi.h>

#include <cstddef>
#include <string>
#include <vector>

namespace hierimpute {

inline std::vector<Napi::Float32Array> FloatColumns(const Napi::Value& v, size_t* nRows, const char* what) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected an array of Float32Array columns");
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<Napi::Float32Array> cols;
  cols.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value c = arr.Get(i);
    if (!c.IsTypedArray() || c.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(v.Env(), std::string(what) + ": column " + std::to_string(i) + " is not a Float32Array");
    cols.push_back(c.As<Napi::Float32Array>());
  }
  *nRows = cols.empty() ? 0 : cols[0].ElementLength();
  for (auto& c : cols)
    if (c.ElementLength() != *nRows) throw Napi::RangeError::New(v.Env(), std::string(what) + ": columns differ in length");
  return cols;
}

}  // namespace hierimpute
