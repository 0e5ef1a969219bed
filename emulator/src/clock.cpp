#include "smemu/emulator/clock.h"

#include <chrono>

namespace smemu {

void VirtualClock::advance(Duration by) {
  if (by.count() > 0) now_ms_.fetch_add(by.count(), std::memory_order_acq_rel);
}

bool VirtualClock::set(Timestamp to) {
  auto current = now_ms_.load(std::memory_order_acquire);
  const auto target = epoch_ms(to);
  while (target >= current) {
    if (now_ms_.compare_exchange_weak(current, target, std::memory_order_acq_rel)) return true;
  }
  return false;
}

Timestamp SystemClock::now() const {
  const auto real = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  return real + Duration{offset_ms_.load(std::memory_order_acquire)};
}

void SystemClock::advance(Duration by) {
  if (by.count() > 0) offset_ms_.fetch_add(by.count(), std::memory_order_acq_rel);
}

bool SystemClock::set(Timestamp to) {
  // The offset only grows, so a concurrent advance() can only make `to` pass sooner.
  auto offset = offset_ms_.load(std::memory_order_acquire);
  for (;;) {
    const auto real = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
    const auto wanted = (to - real).count();
    if (wanted < offset) return false;
    if (offset_ms_.compare_exchange_weak(offset, wanted, std::memory_order_acq_rel)) return true;
  }
}

}  // namespace smemu
