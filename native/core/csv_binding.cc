// JavaScript face of csv.h: readCsv / parseCsv / writeCsv run on the libuv pool and return Promises.
//
//   readCsv(path: string, threads?: number, finite?: boolean): Promise<{ names: string[], columns: Float32Array[],
//   nRows: number }>
//   parseCsv(data: Uint8Array, file: string, threads?: number, finite?: boolean): the same table, parsed from bytes
//   the caller already holds (a Buffer is a Uint8Array); `file` only names the input in error messages
//   writeCsv(path: string, names: string[], columns: Float32Array[], nRows: number, threads?: number): Promise<void>
// threads: 1 (default) = the worker thread only, 0 = all cores; results never depend on it.
// finite: true rejects cells that read as +-inf (kind "not_imputable", with line and column).
//
// A rejected Promise carries an Error with: kind ("io", "not_a_number", ...), file, line and column
// (1-based, 0 = not applicable), columnName, errno (for kind "io").
//
// Arguments are checked by args.h (TypeError / RangeError naming the function and argument).
//
// readCsv parses into C++ vectors off the JS thread, then copies each column once into a fresh
// Float32Array on the JS thread (a memcpy; V8-owned memory rather than external buffers, so the
// arrays behave like any other, e.g. when transferred to a worker).
// parseCsv reads the bytes in place (no copy) and keeps the array alive (PromiseWorker::Keep) while the
// worker parses them; writeCsv does the same with the Float32Arrays it formats and writes. The caller
// must not mutate them until the Promise settles.
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "args.h"
#include "csv.h"
#include "modules.h"
#include "promise_worker.h"

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

// The CSV workers: a CsvInputError rejects with its kind / file / line / column fields; anything
// else as any PromiseWorker does.
template <typename Result>
class CsvWorker : public PromiseWorker<Result> {
 public:
  CsvWorker(Napi::Env env, const char* name) : PromiseWorker<Result>(env, name) {}

 protected:
  Napi::Value ErrorToJs(Napi::Env env, const std::exception_ptr& error) override {
    try {
      std::rethrow_exception(error);
    } catch (const csv::CsvInputError& e) {
      return ErrorValue(env, e);
    } catch (const std::bad_alloc&) {
      return Napi::Error::New(env, "out of memory while reading or writing a CSV table").Value();
    } catch (const std::exception& e) {
      return Napi::Error::New(env, e.what()).Value();
    } catch (...) {
      return DefaultErrorToJs(env, error);
    }
  }
};

// The parsed table as { names, columns, nRows }, freeing each C++ column once it is copied.
Napi::Value TableToJs(Napi::Env env, csv::Table& table) {
  const size_t n_rows = table.n_rows;
  Napi::Array names = Napi::Array::New(env, table.names.size());
  Napi::Array columns = Napi::Array::New(env, table.columns.size());
  for (size_t c = 0; c < table.columns.size(); ++c) {
    names.Set(static_cast<uint32_t>(c), Napi::String::New(env, table.names[c]));
    Napi::Float32Array arr = Napi::Float32Array::New(env, n_rows);
    if (n_rows) std::memcpy(arr.Data(), table.columns[c].data(), n_rows * sizeof(float));
    std::vector<float>().swap(table.columns[c]);  // free as we go: peak = table + one column
    columns.Set(static_cast<uint32_t>(c), arr);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("names", names);
  out.Set("columns", columns);
  out.Set("nRows", Napi::Number::New(env, static_cast<double>(n_rows)));
  return out;
}

class ReadCsvWorker final : public CsvWorker<csv::Table> {
 public:
  ReadCsvWorker(Napi::Env env, std::string path, int threads, bool finite)
      : CsvWorker(env, "hierimpute.readCsv"), path_(std::move(path)), threads_(threads), finite_(finite) {}

 protected:
  csv::Table Run() override { return csv::ReadCsvFile(path_, threads_, finite_); }
  Napi::Value ToJs(Napi::Env env, csv::Table& table) override { return TableToJs(env, table); }

 private:
  std::string path_;
  int threads_;
  bool finite_;
};

// Parses bytes owned by a JS Uint8Array; the binding keeps that array alive until the worker is done.
class ParseCsvWorker final : public CsvWorker<csv::Table> {
 public:
  ParseCsvWorker(Napi::Env env, const char* data, size_t size, std::string file, int threads, bool finite)
      : CsvWorker(env, "hierimpute.parseCsv"),
        data_(data),
        size_(size),
        file_(std::move(file)),
        threads_(threads),
        finite_(finite) {}

 protected:
  csv::Table Run() override { return csv::ParseCsv(data_, size_, file_, threads_, finite_); }
  Napi::Value ToJs(Napi::Env env, csv::Table& table) override { return TableToJs(env, table); }

 private:
  const char* data_;
  size_t size_;
  std::string file_;
  int threads_;
  bool finite_;
};

class WriteCsvWorker final : public CsvWorker<bool> {
 public:
  WriteCsvWorker(Napi::Env env, std::string path, std::vector<std::string> names, std::vector<const float*> data,
                 size_t n_rows, int threads)
      : CsvWorker(env, "hierimpute.writeCsv"),
        path_(std::move(path)),
        names_(std::move(names)),
        data_(std::move(data)),
        n_rows_(n_rows),
        threads_(threads) {}

 protected:
  bool Run() override {
    csv::WriteCsvFile(path_, names_, data_, n_rows_, threads_);
    return true;
  }
  Napi::Value ToJs(Napi::Env env, bool&) override { return env.Undefined(); }

 private:
  std::string path_;
  std::vector<std::string> names_;
  std::vector<const float*> data_;
  size_t n_rows_;
  int threads_;
};

// readCsv(path, threads?, finite?)
Napi::Value ReadCsv(const Napi::CallbackInfo& info) {
  const char* fn = "readCsv";
  std::string path = args::String(info[0], fn, "path");
  const int threads = args::Threads(info[1], fn);
  const bool finite = info[2].IsUndefined() ? false : args::Bool(info[2], fn, "finite");
  return (new ReadCsvWorker(info.Env(), std::move(path), threads, finite))->Start();
}

// parseCsv(data, file, threads?, finite?)
Napi::Value ParseCsv(const Napi::CallbackInfo& info) {
  const char* fn = "parseCsv";
  Napi::Uint8Array data = args::TypedArray<uint8_t>(info[0], fn, "data");
  std::string file = args::String(info[1], fn, "file");
  const int threads = args::Threads(info[2], fn);
  const bool finite = info[3].IsUndefined() ? false : args::Bool(info[3], fn, "finite");
  auto* worker = new ParseCsvWorker(info.Env(), reinterpret_cast<const char*>(data.Data()), data.ByteLength(),
                                    std::move(file), threads, finite);
  worker->Keep(data);
  return worker->Start();
}

// writeCsv(path, names, columns, nRows, threads?)
Napi::Value WriteCsv(const Napi::CallbackInfo& info) {
  const char* fn = "writeCsv";
  std::string path = args::String(info[0], fn, "path");
  if (!info[1].IsArray()) args::ThrowType(info[1], fn, "names", "an array of strings");
  std::vector<std::string> names = args::Strings(info[1], fn, "names");
  if (!info[2].IsArray()) args::ThrowType(info[2], fn, "columns", "an array of Float32Array columns");
  const uint32_t n_cols = info[2].As<Napi::Array>().Length();
  if (names.size() != n_cols)
    args::ThrowRange(info.Env(), fn,
                     std::to_string(names.size()) + " names but " + std::to_string(n_cols) + " columns");
  args::FloatColumns cols = args::Columns(info[2], fn, "columns", /*keep=*/true, &names);
  const size_t n_rows = args::Size(info[3], fn, "nRows");
  if (n_cols > 0 && cols.nRows != n_rows)
    args::ThrowRange(
        info.Env(), fn,
        "column '" + names[0] + "' has " + std::to_string(cols.nRows) + " rows, expected " + std::to_string(n_rows));
  const int threads = args::Threads(info[4], fn);
  auto* worker = new WriteCsvWorker(info.Env(), std::move(path), std::move(names), cols.Const(), n_rows, threads);
  worker->Keep(std::move(cols.refs));
  return worker->Start();
}

}  // namespace

void InitTables(Napi::Env env, Napi::Object exports) {
  exports.Set("readCsv", Napi::Function::New(env, ReadCsv, "readCsv"));
  exports.Set("parseCsv", Napi::Function::New(env, ParseCsv, "parseCsv"));
  exports.Set("writeCsv", Napi::Function::New(env, WriteCsv, "writeCsv"));
}

}  // namespace hierimpute
