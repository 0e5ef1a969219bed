// The staging labels the service gives meaning to. AWS wire strings appear here once.
#pragma once

#include <string_view>

namespace smemu::labels {
inline constexpr std::string_view kCurrent = "AWSCURRENT";
inline constexpr std::string_view kPending = "AWSPENDING";
inline constexpr std::string_view kPrevious = "AWSPREVIOUS";
}  // namespace smemu::labels
