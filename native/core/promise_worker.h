// The one way a hierimpute_core function runs work off the JS thread and returns a Promise.
//
// A PromiseWorker<Result> runs Run() on the libuv pool and resolves with ToJs(env, result) on the
// JS thread. The JS values it reads (input typed arrays, output columns it fills) are kept alive
// by persistent references (Keep) until the worker is deleted, which Node-API does on the JS
// thread after the Promise settles; callers must not mutate the inputs until then.
//
// Errors: any exception thrown by Run() rejects the Promise. A KernelError (kernels/errors.h)
// becomes an Error with `code`, `column` and `row` (when >= 0); std::bad_alloc an Error "out of
// memory" with code HIERIMPUTE_KERNEL; any other std::exception its what() with code
// HIERIMPUTE_KERNEL. A worker whose errors carry more (the CSV reader) overrides ErrorToJs and
// falls back to DefaultErrorToJs for the rest. An exception thrown by ToJs rejects too.
#pragma once

#include <napi.h>

#include <exception>
#include <functional>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "kernels/errors.h"

namespace hierimpute {

/** The JS Error of an exception thrown off the JS thread (see the header comment). */
inline Napi::Value DefaultErrorToJs(Napi::Env env, const std::exception_ptr& error) {
  const char* code = "HIERIMPUTE_KERNEL";
  int64_t column = -1, row = -1;
  std::string message;
  try {
    std::rethrow_exception(error);
  } catch (const KernelError& e) {
    code = e.code();
    column = e.column();
    row = e.row();
    message = e.what();
  } catch (const std::bad_alloc&) {
    message = "out of memory";
  } catch (const std::exception& e) {
    message = e.what();
  } catch (...) {
    message = "unknown native error";
  }
  Napi::Object err = Napi::Error::New(env, message).Value();
  err.Set("code", Napi::String::New(env, code));
  if (column >= 0) err.Set("column", Napi::Number::New(env, static_cast<double>(column)));
  if (row >= 0) err.Set("row", Napi::Number::New(env, static_cast<double>(row)));
  return err;
}

template <typename Result>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  /** `name` is the async resource name shown by async_hooks, e.g. "hierimpute.knnImpute". */
  PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}

  /** Keeps a JS object (a typed array, an array) alive until the worker is deleted. */
  void Keep(const Napi::Object& value) { keep_.push_back(Napi::Persistent(value)); }
  /** Takes over references made by a reader (args::FloatColumns::refs). */
  void Keep(std::vector<Napi::ObjectReference>&& refs) {
    for (auto& r : refs) keep_.push_back(std::move(r));
    refs.clear();
  }

  /** Queues the worker and returns its Promise. The worker deletes itself once it has settled. */
  Napi::Promise Start() {
    Napi::Promise promise = deferred_.Promise();
    Queue();
    return promise;
  }

 protected:
  /** The work, off the JS thread: no Node-API call here. */
  virtual Result Run() = 0;
  /** The resolution value, on the JS thread. */
  virtual Napi::Value ToJs(Napi::Env env, Result& result) = 0;
  /** The rejection value for an exception thrown by Run(), on the JS thread. */
  virtual Napi::Value ErrorToJs(Napi::Env env, const std::exception_ptr& error) { return DefaultErrorToJs(env, error); }

 private:
  void Execute() final {
    try {
      result_ = Run();
    } catch (...) {
      error_ = std::current_exception();
    }
  }
  void OnOK() final {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (error_) {
      deferred_.Reject(ErrorToJs(env, error_));
      return;
    }
    try {
      deferred_.Resolve(ToJs(env, result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  // Only reached when Node-API itself fails to run the work (Execute never calls SetError).
  void OnError(const Napi::Error& e) final { deferred_.Reject(e.Value()); }

  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> keep_;
  Result result_{};
  std::exception_ptr error_;
};

/** A PromiseWorker from two callables: run() -> Result off the JS thread, toJs(env, Result&) on it. */
template <typename Result>
class FnPromiseWorker final : public PromiseWorker<Result> {
 public:
  FnPromiseWorker(Napi::Env env, const char* name, std::function<Result()> run,
                  std::function<Napi::Value(Napi::Env, Result&)> toJs)
      : PromiseWorker<Result>(env, name), run_(std::move(run)), toJs_(std::move(toJs)) {}

 protected:
  Result Run() override { return run_(); }
  Napi::Value ToJs(Napi::Env env, Result& result) override { return toJs_(env, result); }

 private:
  std::function<Result()> run_;
  std::function<Napi::Value(Napi::Env, Result&)> toJs_;
};

/** Starts `run` off the JS thread with `keep` held alive; resolves with toJs(env, result). */
template <typename Result, typename Run, typename ToJs>
Napi::Promise StartPromise(Napi::Env env, const char* name, std::vector<Napi::ObjectReference> keep, Run&& run,
                           ToJs&& toJs) {
  auto* worker = new FnPromiseWorker<Result>(env, name, std::forward<Run>(run), std::forward<ToJs>(toJs));
  worker->Keep(std::move(keep));
  return worker->Start();
}

}  // namespace hierimpute
