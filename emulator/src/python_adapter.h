// The Lambda adapter python: functions run (emulator/python/smemu_lambda_adapter.py), compiled
// into smemu at build time (emulator/CMakeLists.txt generates its definition).
#pragma once

#include <string_view>

namespace smemu::detail {

std::string_view python_adapter_source();

}  // namespace smemu::detail
