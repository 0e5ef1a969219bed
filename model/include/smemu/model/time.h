// Time in the model: a millisecond point on the UTC calendar. The model never reads a clock;
// every operation that needs "now" takes it as an argument (D16).
#pragma once

#include <chrono>
#include <cstdint>

namespace smemu {

using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;
using Duration = std::chrono::milliseconds;

// Where a virtual clock starts unless told otherwise (D16): 2026-01-01T00:00:00Z.
inline constexpr Timestamp kVirtualEpoch{std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}};

inline constexpr Timestamp from_epoch_ms(std::int64_t ms) { return Timestamp{Duration{ms}}; }
inline constexpr std::int64_t epoch_ms(Timestamp t) { return t.time_since_epoch().count(); }
// Midnight UTC of t's day: LastAccessedDate has date resolution (spec 4.6).
inline constexpr Timestamp day_floor(Timestamp t) {
  return std::chrono::time_point_cast<Duration>(std::chrono::floor<std::chrono::days>(t));
}
inline constexpr Duration days(std::int64_t n) { return std::chrono::duration_cast<Duration>(std::chrono::days{n}); }

}  // namespace smemu
