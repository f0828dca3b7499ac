// hierimpute_core.node: lock files and numeric kernels. Never links or loads MPI.
#include <napi.h>
#include <xgboost/c_api.h>

#include "modules.h"

namespace {
Napi::Value XgboostVersion(const Napi::CallbackInfo& info) {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return Napi::String::New(info.Env(),
                           std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("xgboostVersion", Napi::Function::New(env, XgboostVersion));
  hierimpute::InitLocks(env, exports);
  hierimpute::InitTables(env, exports);
  hierimpute::InitKernels(env, exports);
  hierimpute::InitTrees(env, exports);
  hierimpute::InitEngine(env, exports);
  hierimpute::InitScore(env, exports);
  hierimpute::InitNeural(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(hierimpute_core, Init)
