// Placeholder: registers nothing yet.
#include "modules.h"

namespace hierimpute {
void InitLocks(Napi::Env env, Napi::Object exports) {}
}  // namespace hierimpute
