// JavaScript face of csv.h: readCsv / writeCsv run on the libuv pool and return Promises.
//
//   readCsv(path: string, threads?: number, finite?: boolean): Promise<{ names: string[], columns: Float32Array[], nRows: number }>
//   writeCsv(path: string, names: string[], columns: Float32Array[], nRows: number, threads?: number): Promise<void>
// threads: 1 (default) = the worker thread only, 0 = all cores; results never depend on it.
// finite: true rejects cells that read as +-inf (kind "not_imputable", with line and column).
//
// A rejected Promise carries an Error with: kind ("io", "not_a_number", ...), file, line and column
// (1-based, 0 = not applicable), columnName, errno (for kind "io").
//
// readCsv parses into C++ vectors off the JS thread, then copies each column once into a fresh
// Float32Array on the JS thread (a memcpy; V8-owned memory rather than external buffers, so the
// arrays behave like any other, e.g. when transferred to a worker).
// writeCsv keeps the Float32Arrays alive with persistent references while the worker formats
// and writes them; the caller must not mutate them until the Promise settles.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "csv.h"
#include "modules.h"

namespace hierimpute {
namespace {

Napi::Value ErrorValue(Napi::Env env, const csv::CsvInputError& e) {
  Napi::Error err = Napi::Error::New(env, e.what());
  Napi::Object o = err.Value();
  o.Set("kind", Napi::String::New(env, csv::ErrorKindCode(e.kind)));
  o.Set("file", Napi::String::New(env, e.file));
  o.Set("line", Napi::Number::New(env, static_cast<double>(e.line)));
  o.Set("column", Napi::Number::New(env, static_cast<double>(e.column)));
  o.Set("columnName", Napi::String::New(env, e.column_name));
  o.Set("errno", Napi::Number::New(env, e.sys_errno));
  return o;
}

// Base for the two workers: runs `Work()` off-thread, keeps a CsvInputError to reject with.
class CsvWorker : public Napi::AsyncWorker {
 public:
  explicit CsvWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  virtual void Work() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;

  void Execute() override {
    try {
      Work();
    } catch (const csv::CsvInputError& e) {
      error_ = std::make_unique<csv::CsvInputError>(e);
    } catch (const std::bad_alloc&) {
      SetError("out of memory while reading or writing a CSV table");
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (error_) {
      deferred_.Reject(ErrorValue(env, *error_));
      return;
    }
    try {
      deferred_.Resolve(Result(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::unique_ptr<csv::CsvInputError> error_;
};

class ReadCsvWorker final : public CsvWorker {
 public:
  ReadCsvWorker(Napi::Env env, std::string path, int threads, bool finite)
      : CsvWorker(env), path_(std::move(path)), threads_(threads), finite_(finite) {}

 protected:
  void Work() override { table_ = csv::ReadCsvFile(path_, threads_, finite_); }
  Napi::Value Result(Napi::Env env) override {
    const size_t n_rows = table_.n_rows;
    Napi::Array names = Napi::Array::New(env, table_.names.size());
    Napi::Array columns = Napi::Array::New(env, table_.columns.size());
    for (size_t c = 0; c < table_.columns.size(); ++c) {
      names.Set(static_cast<uint32_t>(c), Napi::String::New(env, table_.names[c]));
      Napi::Float32Array arr = Napi::Float32Array::New(env, n_rows);
      if (n_rows) std::memcpy(arr.Data(), table_.columns[c].data(), n_rows * sizeof(float));
      std::vector<float>().swap(table_.columns[c]);  // free as we go: peak = table + one column
      columns.Set(static_cast<uint32_t>(c), arr);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("names", names);
    out.Set("columns", columns);
    out.Set("nRows", Napi::Number::New(env, static_cast<double>(n_rows)));
    return out;
  }

 private:
  std::string path_;
  int threads_;
  bool finite_;
  csv::Table table_;
};

class WriteCsvWorker final : public CsvWorker {
 public:
  WriteCsvWorker(Napi::Env env, std::string path, std::vector<std::string> names, std::vector<const float*> data,
                 std::vector<Napi::ObjectReference> keep, size_t n_rows, int threads)
      : CsvWorker(env),
        path_(std::move(path)),
        names_(std::move(names)),
        data_(std::move(data)),
        keep_(std::move(keep)),
        n_rows_(n_rows),
        threads_(threads) {}

 protected:
  void Work() override { csv::WriteCsvFile(path_, names_, data_, n_rows_, threads_); }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  std::string path_;
  std::vector<std::string> names_;
  std::vector<const float*> data_;
  std::vector<Napi::ObjectReference> keep_;  // released on the JS thread when the worker is deleted
  size_t n_rows_;
  int threads_;
};

// Optional `threads` argument: a non-negative integer, default 1.
int ThreadsArg(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  if (info.Length() <= index || info[index].IsUndefined()) return 1;
  const double t = info[index].IsNumber() ? info[index].As<Napi::Number>().DoubleValue() : -1;
  if (!(t >= 0 && t <= 4096) || t != static_cast<double>(static_cast<int>(t))) {
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": threads must be an integer >= 0 (0 = all cores)");
  }
  return static_cast<int>(t);
}

Napi::Value ReadCsv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "readCsv(path): path must be a string");
  }
  bool finite = false;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    if (!info[2].IsBoolean()) throw Napi::TypeError::New(env, "readCsv(path, threads, finite): finite must be a boolean");
    finite = info[2].As<Napi::Boolean>().Value();
  }
  auto* worker = new ReadCsvWorker(env, info[0].As<Napi::String>().Utf8Value(), ThreadsArg(info, 1, "readCsv"), finite);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value WriteCsv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsArray() || !info[3].IsNumber()) {
    throw Napi::TypeError::New(env,
                               "writeCsv(path, names, columns, nRows): expected a string, an array of strings, "
                               "an array of Float32Array and a number");
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Napi::Array names_js = info[1].As<Napi::Array>();
  Napi::Array cols_js = info[2].As<Napi::Array>();
  const double n_rows_d = info[3].As<Napi::Number>().DoubleValue();
  if (!(n_rows_d >= 0) || n_rows_d != static_cast<double>(static_cast<size_t>(n_rows_d))) {
    throw Napi::RangeError::New(env, "writeCsv: nRows must be a non-negative integer");
  }
  const size_t n_rows = static_cast<size_t>(n_rows_d);
  if (names_js.Length() != cols_js.Length()) {
    throw Napi::RangeError::New(env, "writeCsv: " + std::to_string(names_js.Length()) + " names but " +
                                         std::to_string(cols_js.Length()) + " columns");
  }
  std::vector<std::string> names;
  std::vector<const float*> data;
  std::vector<Napi::ObjectReference> keep;
  for (uint32_t i = 0; i < names_js.Length(); ++i) {
    Napi::Value n = names_js.Get(i);
    Napi::Value c = cols_js.Get(i);
    if (!n.IsString()) throw Napi::TypeError::New(env, "writeCsv: names[" + std::to_string(i) + "] is not a string");
    if (!c.IsTypedArray() || c.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw Napi::TypeError::New(env, "writeCsv: columns[" + std::to_string(i) + "] is not a Float32Array");
    }
    Napi::Float32Array arr = c.As<Napi::Float32Array>();
    if (arr.ElementLength() != n_rows) {
      throw Napi::RangeError::New(env, "writeCsv: column '" + n.As<Napi::String>().Utf8Value() + "' has " +
                                           std::to_string(arr.ElementLength()) + " rows, expected " +
                                           std::to_string(n_rows));
    }
    names.push_back(n.As<Napi::String>().Utf8Value());
    data.push_back(arr.Data());
    keep.push_back(Napi::Persistent(arr.As<Napi::Object>()));
  }
  const int threads = ThreadsArg(info, 4, "writeCsv");
  auto* worker = new WriteCsvWorker(env, std::move(path), std::move(names), std::move(data), std::move(keep), n_rows, threads);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitTables(Napi::Env env, Napi::Object exports) {
  exports.Set("readCsv", Napi::Function::New(env, ReadCsv, "readCsv"));
  exports.Set("writeCsv", Napi::Function::New(env, WriteCsv, "writeCsv"));
}

}  // namespace hierimpute
