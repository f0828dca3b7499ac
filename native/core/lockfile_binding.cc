// N-API surface of lockfile.{h,cc}: short synchronous calls (like better-sqlite3); the heartbeat
// is a native thread owned by the claim. Shapes are declared in src/bindings/core.ts; arguments
// are checked by args.h.
//   lockTryClaim(path, leaseMs, heartbeatMs, jobId, rank) -> NativeLock | null   (rank -1 = none)
//   lockReadOwner(path) -> OwnerRecord | null
//   lockIsStale(path, leaseMs) -> boolean
//   NativeLock: owner(), stillOwned(), release() -> boolean, heartbeatLost(), beats()
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "args.h"
#include "lockfile.h"
#include "modules.h"

namespace hierimpute {
namespace {

using locks::Claim;
using locks::LockError;
using locks::OwnerRecord;

// Per-environment state (main thread or a worker): the NativeLock constructor, and the live claims
// whose heartbeats stop when the environment is torn down (a worker that ends without release()
// must not keep refreshing its claims for the rest of the process).
struct LocksEnv {
  Napi::FunctionReference ctor;
  std::mutex mu;
  std::vector<std::weak_ptr<Claim>> live;
  void Track(const std::shared_ptr<Claim>& c) {
    std::lock_guard<std::mutex> lk(mu);
    std::vector<std::weak_ptr<Claim>> kept;
    for (auto& w : live)
      if (!w.expired()) kept.push_back(w);
    kept.push_back(c);
    live.swap(kept);
  }
  void StopAll() {
    std::lock_guard<std::mutex> lk(mu);
    for (auto& w : live)
      if (auto c = w.lock()) c->StopHeartbeat();
    live.clear();
  }
};

Napi::Object OwnerToJs(Napi::Env env, const OwnerRecord& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("host", r.host);
  o.Set("pid", Napi::Number::New(env, static_cast<double>(r.pid)));
  o.Set("jobId", r.jobId);
  o.Set("rank", Napi::Number::New(env, static_cast<double>(r.rank)));
  o.Set("createdAtMs", Napi::Number::New(env, static_cast<double>(r.createdAtMs)));
  o.Set("token", r.token);
  return o;
}

constexpr int64_t kMaxMs = static_cast<int64_t>(1) << 53;

class NativeLock : public Napi::ObjectWrap<NativeLock> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "NativeLock",
        {InstanceMethod("owner", &NativeLock::Owner), InstanceMethod("stillOwned", &NativeLock::StillOwned),
         InstanceMethod("release", &NativeLock::Release), InstanceMethod("heartbeatLost", &NativeLock::HeartbeatLost),
         InstanceMethod("beats", &NativeLock::Beats)});
  }

  // Only built from C++: the argument is an External holding the shared_ptr.
  explicit NativeLock(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeLock>(info) {
    if (info.Length() < 1 || !info[0].IsExternal())
      throw Napi::TypeError::New(info.Env(), "NativeLock is created by lockTryClaim()");
    claim_ = *info[0].As<Napi::External<std::shared_ptr<Claim>>>().Data();
  }

  // Garbage-collected without release(): stop refreshing; the claim then expires after its lease.
  ~NativeLock() override {
    if (claim_) claim_->StopHeartbeat();
  }

 private:
  Napi::Value Owner(const Napi::CallbackInfo& info) { return OwnerToJs(info.Env(), claim_->owner()); }
  Napi::Value StillOwned(const Napi::CallbackInfo& info) {
    try {
      return Napi::Boolean::New(info.Env(), claim_->StillOwned());
    } catch (const LockError& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }
  Napi::Value Release(const Napi::CallbackInfo& info) {
    try {
      return Napi::Boolean::New(info.Env(), claim_->Release());
    } catch (const LockError& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }
  Napi::Value HeartbeatLost(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), claim_->HeartbeatLost());
  }
  Napi::Value Beats(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(claim_->Beats()));
  }

  std::shared_ptr<Claim> claim_;
};

Napi::Value LockTryClaim(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* data = static_cast<LocksEnv*>(info.Data());
  locks::ClaimOptions opts;
  const char* fn = "lockTryClaim";
  std::string path = args::String(info[0], fn, "path");
  opts.leaseMs = args::Integer(info[1], fn, "leaseMs", 0, kMaxMs);
  opts.heartbeatMs = args::Integer(info[2], fn, "heartbeatMs", 0, kMaxMs);
  opts.jobId = args::String(info[3], fn, "jobId");
  opts.rank = args::Integer(info[4], fn, "rank", -1, INT32_MAX);
  std::shared_ptr<Claim> claim;
  try {
    claim = locks::TryClaim(path, opts);
  } catch (const LockError& e) {
    throw Napi::Error::New(env, e.what());
  }
  if (!claim) return env.Null();
  data->Track(claim);
  auto ext = Napi::External<std::shared_ptr<Claim>>::New(env, &claim);
  return data->ctor.New({ext});
}

Napi::Value LockReadOwner(const Napi::CallbackInfo& info) {
  std::string path = args::String(info[0], "lockReadOwner", "path");
  OwnerRecord rec;
  struct stat st {};
  try {
    if (!locks::ReadRecord(path, &rec, &st)) return info.Env().Null();
  } catch (const LockError& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  return OwnerToJs(info.Env(), rec);
}

Napi::Value LockIsStale(const Napi::CallbackInfo& info) {
  std::string path = args::String(info[0], "lockIsStale", "path");
  const int64_t leaseMs = args::Integer(info[1], "lockIsStale", "leaseMs", 0, kMaxMs);
  try {
    return Napi::Boolean::New(info.Env(), locks::IsStale(path, leaseMs));
  } catch (const LockError& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

}  // namespace

void InitLocks(Napi::Env env, Napi::Object exports) {
  auto* data = new LocksEnv();
  data->ctor = Napi::Persistent(NativeLock::Define(env));
  env.AddCleanupHook([data] {
    data->StopAll();
    data->ctor.SuppressDestruct();  // the environment is going away; it frees its references
    delete data;
  });
  exports.Set("lockTryClaim", Napi::Function::New(env, LockTryClaim, "lockTryClaim", data));
  exports.Set("lockReadOwner", Napi::Function::New(env, LockReadOwner, "lockReadOwner"));
  exports.Set("lockIsStale", Napi::Function::New(env, LockIsStale, "lockIsStale"));
}

}  // namespace hierimpute
