// Clock: where the emulator's time comes from (D16). The model never reads a clock; the service
// reads one of these once per call and passes the time down.
// Thread-safety: every Clock here may be read and moved from any thread.
#pragma once

#include <atomic>

#include "smemu/model/time.h"

namespace smemu {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

// A clock that can be moved forward, never backwards: what Service::advance_to and the admin
// API (`POST /_smemu/clock`) drive.
class MovableClock : public Clock {
 public:
  // Moves forward by `by` (negative durations are ignored: time never goes backwards).
  virtual void advance(Duration by) = 0;
  // Moves to `to`; returns false and stays put when `to` is in the past.
  virtual bool set(Timestamp to) = 0;
};

// Virtual time for the library and scenarios: starts at 2026-01-01T00:00:00Z unless told,
// millisecond resolution, moves only when advanced, never backwards.
class VirtualClock final : public MovableClock {
 public:
  explicit VirtualClock(Timestamp start = kVirtualEpoch) : now_ms_(epoch_ms(start)) {}
  Timestamp now() const override { return from_epoch_ms(now_ms_.load(std::memory_order_acquire)); }
  void advance(Duration by) override;
  bool set(Timestamp to) override;

 private:
  std::atomic<std::int64_t> now_ms_;
};

// The real UTC clock plus an offset that only grows: `smemu serve`'s clock, which the admin API
// can move forward.
class SystemClock final : public MovableClock {
 public:
  Timestamp now() const override;
  void advance(Duration by) override;
  // Grows the offset so that now() reads `to`; false when `to` has already passed.
  bool set(Timestamp to) override;

 private:
  std::atomic<std::int64_t> offset_ms_{0};
};

}  // namespace smemu
