// hierimpute_mpi.node: a thin, synchronous binding of the MPI calls hierimpute needs.
//
// Policy (polling, back-off, codecs, abort-on-uncaught) lives in TypeScript (src/mpi/).
// Everything here is called from the JS thread only, so MPI_THREAD_SERIALIZED suffices;
// we still ask for MPI_THREAD_MULTIPLE-free SERIALIZED to keep MPI's locking cheap.
//
// Wire format: a small message is ONE MPI message [kind byte][body]. A large body (> 16 KiB)
// is a header message [kind|0x80][u64 length] followed, on the same tag, by the body as a plain
// contiguous message sent straight from the caller's buffer and received straight into the
// target buffer (no copy, and contiguous so the MPI's single-copy shared-memory path applies).
// MPI's non-overtaking rule (same source, tag, communicator) keeps the pair together; the
// receiver takes both in one native call, so no other receive can come between them.
//
// State: MPI itself is per process (init, finalize, the thread level), so the two flags that mirror
// it are process-wide. Everything that holds a JS value or belongs to one caller (the status array,
// the requests in flight and the JS buffers they send from, the receive scratch buffer) is per
// environment: an MpiEnv, created when an environment (the main thread, or a worker thread that
// loads the addon) loads the addon, handed to each function as its data, and freed by a cleanup hook
// when that environment is torn down, while it can still release its references. No
// Napi::Reference outlives its environment.
//
// Latency: a small-message round costs two N-API calls (send, tryRecv) and no heap allocation
// here. A receive that has to wait pre-posts an MPI_Irecv and spins on MPI_Test (the message is
// matched and copied on arrival by the progress engine, cheaper than MPI_Improbe + MPI_Mrecv
// through the unexpected queue), and cancels it when the spin budget runs out.
#include <dlfcn.h>
#include <unistd.h>
#include <mpi.h>
#include <napi.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

constexpr size_t kSmallMessage = 16 * 1024;  // below this, one contiguous copy is cheaper

constexpr unsigned char kLargeFlag = 0x80;

struct Pending {
  MPI_Request requests[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
  std::vector<char> owned;            // small sends: header+body; large sends: the header
  Napi::Reference<Napi::Value> keep;  // large sends: keeps the JS buffer alive
};

// Process-wide, like MPI's own state. g_live is set after MPI_Init_thread and cleared before
// MPI_Finalize (this addon is the only one that calls them): it spares the hot calls two
// MPI_Initialized/MPI_Finalized queries each. Atomic (relaxed: a plain load on x86) because two
// environments on two threads may both load the addon.
std::atomic<int> g_provided{-1};
std::atomic<bool> g_live{false};

void CancelAndFree(Pending& p) {
  for (auto& r : p.requests) {
    if (r == MPI_REQUEST_NULL) continue;
    MPI_Cancel(&r);
    MPI_Request_free(&r);
  }
}

// Per-environment state (see the top of this file).
struct MpiEnv {
  int32_t* status = nullptr;  // [source, tag, kind, length] of the last receive
  Napi::Reference<Napi::Value> status_ref;
  std::unordered_map<uint32_t, std::unique_ptr<Pending>> pending;
  uint32_t next_id = 1;
  std::vector<char> scratch = std::vector<char>(kSmallMessage + 1);
  // A record of a send that completed at once, kept for the next send: no allocation per message.
  std::unique_ptr<Pending> spare;
  // Records of requests that were cancelled but that MPI may still read (MPI_Finalize failed).
  std::vector<std::unique_ptr<Pending>> orphans;

  uint32_t NextId() {
    uint32_t id = next_id++;
    if (next_id == 0) next_id = 1;  // 0 means "already complete"
    return id;
  }

  // Drops a record that MPI may still read: its JS reference is released (the environment must not
  // be outlived by it), its own buffer is leaked.
  static void Abandon(std::unique_ptr<Pending>& p) {
    p->keep.Reset();
    p.release();
  }

  // The environment is going away (a worker thread that ends, or a process that exits without
  // finalize()); it can still release references here. MPI may stay live for the rest of the process
  // (another environment may use it), so a request still in flight is cancelled and freed, and its
  // record abandoned. Its JS buffer cannot outlive the environment whatever is done here:
  // finalize() after every send completed (the Communicator's contract) is what makes an ending
  // environment safe.
  void Teardown() {
    const bool live = g_live.load(std::memory_order_relaxed);
    for (auto& [id, p] : pending) {
      int done = 1;
      if (live && MPI_Testall(2, p->requests, &done, MPI_STATUSES_IGNORE) != MPI_SUCCESS) done = 0;
      if (done || !live) continue;  // complete, or MPI finalized: nothing reads the buffers any more
      CancelAndFree(*p);
      Abandon(p);
    }
    pending.clear();
    for (auto& p : orphans) Abandon(p);
    orphans.clear();
    spare.reset();
    status = nullptr;
    status_ref.Reset();
  }
};

MpiEnv& Data(const Napi::CallbackInfo& info) { return *static_cast<MpiEnv*>(info.Data()); }

[[noreturn]] void ThrowMpi(Napi::Env env, int rc, const char* what) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) len = 0;
  throw Napi::Error::New(env, std::string("MPI error in ") + what + ": " + std::string(msg, len));
}

#define MPI_CHECK(env, call)                           \
  do {                                                 \
    int rc_ = (call);                                  \
    if (rc_ != MPI_SUCCESS) ThrowMpi(env, rc_, #call); \
  } while (0)

bool IsInitialized() {
  int flag = 0;
  MPI_Initialized(&flag);
  return flag != 0;
}
bool IsFinalized() {
  int flag = 0;
  MPI_Finalized(&flag);
  return flag != 0;
}

void RequireLive(Napi::Env env) {
  if (g_live.load(std::memory_order_relaxed)) return;
  if (!IsInitialized() || IsFinalized()) throw Napi::Error::New(env, "MPI is not initialized (or already finalized)");
}

// Node loads addons RTLD_LOCAL; OpenMPI's plugins that do not link libmpi then cannot
// resolve its symbols. Re-open the already-loaded libmpi globally before MPI_Init.
void PromoteLibmpiToGlobal() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&MPI_Init_thread), &info) != 0 && info.dli_fname != nullptr)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
}

int Source(const Napi::Value& v) {
  int s = v.IsNumber() ? v.As<Napi::Number>().Int32Value() : -1;
  return s < 0 ? MPI_ANY_SOURCE : s;
}
int Tag(const Napi::Value& v) {
  int t = v.IsNumber() ? v.As<Napi::Number>().Int32Value() : -1;
  return t < 0 ? MPI_ANY_TAG : t;
}

// init(requiredLevel) -> provided level
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (IsInitialized()) return Napi::Number::New(env, g_provided);
  int required = info.Length() > 0 ? info[0].As<Napi::Number>().Int32Value() : MPI_THREAD_SERIALIZED;
  PromoteLibmpiToGlobal();
  int provided = -1;
  MPI_CHECK(env, MPI_Init_thread(nullptr, nullptr, required, &provided));
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  g_provided = provided;
  g_live.store(true, std::memory_order_relaxed);
  return Napi::Number::New(env, provided);
}

Napi::Value Rank(const Napi::CallbackInfo& info) {
  RequireLive(info.Env());
  int r = 0;
  MPI_CHECK(info.Env(), MPI_Comm_rank(MPI_COMM_WORLD, &r));
  return Napi::Number::New(info.Env(), r);
}

Napi::Value Size(const Napi::CallbackInfo& info) {
  RequireLive(info.Env());
  int s = 0;
  MPI_CHECK(info.Env(), MPI_Comm_size(MPI_COMM_WORLD, &s));
  return Napi::Number::New(info.Env(), s);
}

Napi::Value LibraryVersion(const Napi::CallbackInfo& info) {
  char v[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(v, &len);
  std::string s(v, static_cast<size_t>(len));
  while (!s.empty() && (s.back() == '\0' || s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return Napi::String::New(info.Env(), s);
}

Napi::Value ProcessorName(const Napi::CallbackInfo& info) {
  RequireLive(info.Env());
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_CHECK(info.Env(), MPI_Get_processor_name(name, &len));
  return Napi::String::New(info.Env(), std::string(name, static_cast<size_t>(len)));
}

Napi::Value ThreadLevelNames(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("single", static_cast<int>(MPI_THREAD_SINGLE));
  o.Set("funneled", static_cast<int>(MPI_THREAD_FUNNELED));
  o.Set("serialized", static_cast<int>(MPI_THREAD_SERIALIZED));
  o.Set("multiple", static_cast<int>(MPI_THREAD_MULTIPLE));
  return o;
}

// send(dest, tag, kind, bytes) -> 0 when already complete, else a request id for test()
Napi::Value Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MpiEnv& d = Data(info);
  RequireLive(env);
  int dest = info[0].As<Napi::Number>().Int32Value();
  int tag = info[1].As<Napi::Number>().Int32Value();
  auto kind = static_cast<unsigned char>(info[2].As<Napi::Number>().Uint32Value());
  Napi::Uint8Array body = info[3].As<Napi::Uint8Array>();
  size_t n = body.ByteLength();
  std::unique_ptr<Pending> p = d.spare ? std::move(d.spare) : std::make_unique<Pending>();
  if (n <= kSmallMessage) {
    p->owned.resize(n + 1);
    p->owned[0] = static_cast<char>(kind);
    if (n) std::memcpy(p->owned.data() + 1, body.Data(), n);
    MPI_CHECK(
        env, MPI_Isend(p->owned.data(), static_cast<int>(n + 1), MPI_BYTE, dest, tag, MPI_COMM_WORLD, &p->requests[0]));
  } else {
    if (n > static_cast<size_t>(INT32_MAX))
      throw Napi::RangeError::New(env, "MPI message bodies are limited to 2 GiB - 1 bytes");
    uint64_t len = n;
    p->owned.resize(1 + sizeof len);
    p->owned[0] = static_cast<char>(kind | kLargeFlag);
    std::memcpy(p->owned.data() + 1, &len, sizeof len);
    p->keep = Napi::Persistent(info[3]);
    MPI_CHECK(env, MPI_Isend(p->owned.data(), static_cast<int>(p->owned.size()), MPI_BYTE, dest, tag, MPI_COMM_WORLD,
                             &p->requests[0]));
    int rc = MPI_Isend(body.Data(), static_cast<int>(n), MPI_BYTE, dest, tag, MPI_COMM_WORLD, &p->requests[1]);
    if (rc != MPI_SUCCESS) {
      d.pending.emplace(d.NextId(), std::move(p));  // the header send may still read its buffer
      ThrowMpi(env, rc, "MPI_Isend");
    }
  }
  int done = 0;
  int rc = MPI_Testall(2, p->requests, &done, MPI_STATUSES_IGNORE);
  if (rc == MPI_SUCCESS && done) {
    p->keep.Reset();
    d.spare = std::move(p);  // MPI is done with its buffers (requests are MPI_REQUEST_NULL again)
    return Napi::Number::New(env, 0);
  }
  // Still in flight (or failed): the record owns the buffers MPI may be reading, keep it.
  uint32_t id = d.NextId();
  d.pending.emplace(id, std::move(p));
  if (rc != MPI_SUCCESS) ThrowMpi(env, rc, "MPI_Testall");
  return Napi::Number::New(env, id);
}

// test(id) -> true when the request completed (and is released)
Napi::Value Test(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MpiEnv& d = Data(info);
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  auto it = d.pending.find(id);
  if (it == d.pending.end()) return Napi::Boolean::New(env, true);
  int done = 0;
  MPI_CHECK(env, MPI_Testall(2, it->second->requests, &done, MPI_STATUSES_IGNORE));
  if (done) {
    if (!d.spare) {
      it->second->keep.Reset();
      d.spare = std::move(it->second);
    }
    d.pending.erase(it);
  }
  return Napi::Boolean::New(env, done != 0);
}

Napi::Value PendingCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Data(info).pending.size()));
}

// setStatusArray(Int32Array(4)): where tryRecv reports [source, tag, kind, length].
Napi::Value SetStatusArray(const Napi::CallbackInfo& info) {
  Napi::Int32Array a = info[0].As<Napi::Int32Array>();
  if (a.ElementLength() < 4) throw Napi::RangeError::New(info.Env(), "status array needs 4 elements");
  MpiEnv& d = Data(info);
  d.status_ref = Napi::Persistent(info[0]);
  d.status = a.Data();
  return info.Env().Undefined();
}

[[noreturn]] void ThrowNotCodec(Napi::Env env) {
  throw Napi::Error::New(env, "received an MPI message that does not carry the hierimpute codec header");
}

// Receives the next message matching (source, tag) into scratch, waiting at most spin µs.
// Returns its byte count (status filled), or -1 when none came (nothing consumed).
int ReceiveHead(Napi::Env env, std::vector<char>& scratch, int source, int tag, double spin, MPI_Status* status) {
  // Already here (the usual case when polled from the event loop): take it from the
  // unexpected queue. MPI_Improbe/MPI_Mrecv, because the size is not known before matching.
  int flag = 0;
  MPI_Message msg;
  MPI_CHECK(env, MPI_Improbe(source, tag, MPI_COMM_WORLD, &flag, &msg, status));
  int count = 0;
  if (flag) {
    MPI_CHECK(env, MPI_Get_count(status, MPI_BYTE, &count));
    if (count < 1 || static_cast<size_t>(count) > kSmallMessage + 1) {
      // Take it off the queue anyway, or every later receive would trip on it again.
      std::vector<char> sink(count > 0 ? static_cast<size_t>(count) : 1);
      MPI_Mrecv(sink.data(), count, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
      ThrowNotCodec(env);
    }
    MPI_CHECK(env, MPI_Mrecv(scratch.data(), count, MPI_BYTE, &msg, MPI_STATUS_IGNORE));
    return count;
  }
  if (spin <= 0) return -1;
  // Not yet: post the receive, so the progress engine matches the message and copies it in on
  // arrival, and spin on MPI_Test. Reading the clock costs about as much as a test, so it is read
  // every 32 tests only.
  MPI_Request req = MPI_REQUEST_NULL;
  MPI_CHECK(env,
            MPI_Irecv(scratch.data(), static_cast<int>(scratch.size()), MPI_BYTE, source, tag, MPI_COMM_WORLD, &req));
  const auto start = std::chrono::steady_clock::now();
  int done = 0;
  for (unsigned i = 1;; ++i) {
    int rc = MPI_Test(&req, &done, status);
    if (rc != MPI_SUCCESS) {
      int cls = rc;
      MPI_Error_class(rc, &cls);
      if (cls == MPI_ERR_TRUNCATE) ThrowNotCodec(env);  // a body larger than any header: not ours
      ThrowMpi(env, rc, "MPI_Test");
    }
    if (done) break;
    if ((i & 31) == 0 &&
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() >= spin) {
      // Budget spent: withdraw the receive. It may have matched in the meantime; then it is ours.
      MPI_CHECK(env, MPI_Cancel(&req));
      MPI_CHECK(env, MPI_Wait(&req, status));
      int cancelled = 0;
      MPI_CHECK(env, MPI_Test_cancelled(status, &cancelled));
      if (cancelled) return -1;
      break;
    }
  }
  MPI_CHECK(env, MPI_Get_count(status, MPI_BYTE, &count));
  if (count < 1) ThrowNotCodec(env);
  return count;
}

// tryRecv(source, tag, spinMicros, into?) -> null | payload (Buffer, or `into` itself)
// Takes a message that is already there, or spins at most spinMicros for one (see ReceiveHead);
// with ANY_SOURCE/ANY_TAG too. The envelope goes to the status array:
// [source, tag, kind, body length]. One N-API call per message, no allocation with `into`.
Napi::Value TryRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MpiEnv& d = Data(info);
  if (d.status == nullptr) throw Napi::Error::New(env, "tryRecv before setStatusArray");
  int source = Source(info[0]);
  int tag = Tag(info[1]);
  double spin = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 0;
  MPI_Status status;
  int count = ReceiveHead(env, d.scratch, source, tag, spin, &status);
  if (count < 0) return env.Null();
  auto header = static_cast<unsigned char>(d.scratch[0]);
  bool large = (header & kLargeFlag) != 0;
  size_t n = static_cast<size_t>(count) - 1;
  if (large) {
    uint64_t len = 0;
    if (static_cast<size_t>(count) < 1 + sizeof len) ThrowNotCodec(env);
    std::memcpy(&len, d.scratch.data() + 1, sizeof len);
    n = static_cast<size_t>(len);
  }
  Napi::Value payload;
  uint8_t* target = nullptr;
  if (info.Length() > 3 && info[3].IsTypedArray()) {
    Napi::Uint8Array into = info[3].As<Napi::Uint8Array>();  // one napi_get_typedarray_info
    if (into.ByteLength() >= n) {
      payload = info[3];
      target = into.Data();
    }
  }
  if (target == nullptr) {
    auto buf = Napi::Buffer<uint8_t>::New(env, n);
    payload = buf;
    target = buf.Data();
  }
  if (large) {
    MPI_CHECK(env, MPI_Recv(target, static_cast<int>(n), MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
                            MPI_STATUS_IGNORE));
  } else if (n) {
    std::memcpy(target, d.scratch.data() + 1, n);
  }
  d.status[0] = status.MPI_SOURCE;
  d.status[1] = status.MPI_TAG;
  d.status[2] = header & ~kLargeFlag;
  d.status[3] = static_cast<int32_t>(n);
  return payload;
}

// probe(source, tag) -> null | {source, tag, length}  (does not receive)
Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireLive(env);
  int flag = 0;
  MPI_Status status;
  MPI_CHECK(env, MPI_Iprobe(Source(info[0]), Tag(info[1]), MPI_COMM_WORLD, &flag, &status));
  if (!flag) return env.Null();
  int count = 0;
  MPI_CHECK(env, MPI_Get_count(&status, MPI_BYTE, &count));
  Napi::Object out = Napi::Object::New(env);
  out.Set("source", status.MPI_SOURCE);
  out.Set("tag", status.MPI_TAG);
  out.Set("length", count > 0 ? count - 1 : 0);
  return out;
}

// ibarrier() -> request id for test()
Napi::Value Ibarrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireLive(env);
  MpiEnv& d = Data(info);
  auto p = std::make_unique<Pending>();
  MPI_CHECK(env, MPI_Ibarrier(MPI_COMM_WORLD, &p->requests[0]));
  uint32_t id = d.NextId();
  d.pending.emplace(id, std::move(p));
  return Napi::Number::New(env, id);
}

Napi::Value Abort(const Napi::CallbackInfo& info) {
  int code = info.Length() > 0 ? info[0].As<Napi::Number>().Int32Value() : 1;
  if (IsInitialized() && !IsFinalized()) MPI_Abort(MPI_COMM_WORLD, code);
  _exit(code);
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsInitialized() || IsFinalized()) return env.Undefined();
  MpiEnv& d = Data(info);
  // Requests still pending here belong to an error path. Cancel them, and keep their records (and
  // the JS buffers they hold) until MPI_Finalize has returned: a send that cannot be cancelled may
  // read those buffers until then. If MPI_Finalize fails, they stay until the environment ends.
  std::vector<std::unique_ptr<Pending>> cancelled;
  for (auto& [id, p] : d.pending) {
    CancelAndFree(*p);
    cancelled.push_back(std::move(p));
  }
  d.pending.clear();
  g_live.store(false, std::memory_order_relaxed);
  d.spare.reset();
  int rc = MPI_Finalize();
  if (rc != MPI_SUCCESS) {
    for (auto& p : cancelled) d.orphans.push_back(std::move(p));
    ThrowMpi(env, rc, "MPI_Finalize()");
  }
  return env.Undefined();
}

Napi::Value Wtime(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), MPI_Wtime()); }

Napi::Value State(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("initialized", IsInitialized());
  o.Set("finalized", IsFinalized());
  return o;
}

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  auto* data = new MpiEnv();
  env.AddCleanupHook([data] {
    data->Teardown();
    delete data;
  });
  // The functions that use per-environment state get it as their data (no lookup per call).
  auto withData = [env, data](Napi::Function::Callback cb, const char* name) {
    return Napi::Function::New(env, cb, name, data);
  };
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("rank", Napi::Function::New(env, Rank));
  exports.Set("size", Napi::Function::New(env, Size));
  exports.Set("libraryVersion", Napi::Function::New(env, LibraryVersion));
  exports.Set("processorName", Napi::Function::New(env, ProcessorName));
  exports.Set("threadLevels", Napi::Function::New(env, ThreadLevelNames));
  exports.Set("send", withData(Send, "send"));
  exports.Set("test", withData(Test, "test"));
  exports.Set("pendingCount", withData(PendingCount, "pendingCount"));
  exports.Set("tryRecv", withData(TryRecv, "tryRecv"));
  exports.Set("setStatusArray", withData(SetStatusArray, "setStatusArray"));
  exports.Set("probe", Napi::Function::New(env, Probe));
  exports.Set("ibarrier", withData(Ibarrier, "ibarrier"));
  exports.Set("abort", Napi::Function::New(env, Abort));
  exports.Set("finalize", withData(Finalize, "finalize"));
  exports.Set("wtime", Napi::Function::New(env, Wtime));
  exports.Set("state", Napi::Function::New(env, State));
  return exports;
}

}  // namespace

NODE_API_MODULE(hierimpute_mpi, Module)
