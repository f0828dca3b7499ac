// Placeholder: registers nothing yet.
#include "modules.h"

namespace hierimpute {
void InitTables(Napi::Env env, Napi::Object exports) {}
}  // namespace hierimpute
