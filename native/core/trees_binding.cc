// Placeholder: registers nothing yet.
#include "modules.h"

namespace hierimpute {
void InitTrees(Napi::Env env, Napi::Object exports) {}
}  // namespace hierimpute
