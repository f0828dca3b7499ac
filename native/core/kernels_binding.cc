// Placeholder: registers nothing yet.
#include "modules.h"

namespace hierimpute {
void InitKernels(Napi::Env env, Napi::Object exports) {}
}  // namespace hierimpute
