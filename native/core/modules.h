// Each native capability of hierimpute_core registers its functions on the addon's exports.
// One function per file group, owned by that group; addon.cc only calls them.
#pragma once
#include <napi.h>

namespace hierimpute {
void InitLocks(Napi::Env env, Napi::Object exports);    // lockfile_binding.cc
void InitTables(Napi::Env env, Napi::Object exports);   // csv_binding.cc
void InitKernels(Napi::Env env, Napi::Object exports);  // kernels_binding.cc (knn, mean, median)
void InitTrees(Napi::Env env, Napi::Object exports);    // trees_binding.cc (ExtraTrees, MICE, XGBoost)
void InitEngine(Napi::Env env, Napi::Object exports);   // engine_binding.cc (row/band helpers)
void InitScore(Napi::Env env, Napi::Object exports);    // score_binding.cc (holdout masking, scoring)
void InitNeural(Napi::Env env, Napi::Object exports);   // neural_binding.cc (lstm / rnn / gan models)
}  // namespace hierimpute
