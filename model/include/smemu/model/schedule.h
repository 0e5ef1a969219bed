// Rotation schedules (spec 5.8): RotationRules parsed into a Schedule, the rotation windows it
// opens, and the hour inside a window at which a rotation runs.
//
// Contract:
//   - parse_schedule() is the only way to make a Schedule, so every Schedule is valid: a
//     well-formed rate() or cron() expression or an AutomaticallyAfterDays value, with a window
//     that fits the rules of 5.8. Any rule broken is InvalidParameterException naming it.
//   - next_window() and pick_in_window() never fail and never read a clock or an RNG: the time of
//     the last rotation, "now" and the random bits are arguments (D16).
//   - Everything is UTC. Windows start on the hour and last a whole number of hours (>= 1).
// Thread-safety: Schedule and Window are plain values; the functions are pure.
#pragma once

#include <cstdint>
#include <optional>

#include "smemu/model/result.h"
#include "smemu/model/secret.h"
#include "smemu/model/time.h"

namespace smemu::model {

// A parsed cron() expression. Bit v of a mask is set when the field matches the value v.
struct CronSpec {
  // Which days fire: exactly one of Day-of-month and Day-of-week is "?", the other decides.
  enum class DayRule : std::uint8_t {
    kDaysOfMonth,     // Day-of-month values (days_of_month)
    kLastDayOfMonth,  // Day-of-month "L"
    kWeekdays,        // Day-of-week values (weekdays), including a lone "L" (Saturday)
    kLastWeekday,     // Day-of-week "xL": the last `weekday` of the month
    kNthWeekday,      // Day-of-week "x#n": the `nth` `weekday` of the month
  };

  std::uint32_t hours = 0;          // bits 0-23
  std::uint32_t months = 0;         // bits 1-12
  DayRule day_rule = DayRule::kDaysOfMonth;
  std::uint32_t days_of_month = 0;  // bits 1-31; kDaysOfMonth only
  std::uint32_t weekdays = 0;       // bits 1-7, 1 = Sunday; kWeekdays only
  std::uint8_t weekday = 0;         // 1-7, 1 = Sunday; kLastWeekday and kNthWeekday only
  std::uint8_t nth = 0;             // 1-5; kNthWeekday only

  bool operator==(const CronSpec&) const = default;
};

class Schedule {
 public:
  enum class Kind : std::uint8_t {
    kAfterDays,  // AutomaticallyAfterDays N: the same windows as rate(N days)
    kRateHours,  // rate(N hours)
    kRateDays,   // rate(N days)
    kCron,       // cron(...)
  };

  Kind kind() const { return kind_; }
  // Whether windows count from an anchor (the last rotation or value write, D5) rather than
  // follow the calendar: true for AutomaticallyAfterDays and rate(), false for cron().
  bool anchored() const { return kind_ != Kind::kCron; }
  // A schedule in hours (rate in hours, or a cron firing more than once a day): its windows
  // close one hour after they open unless Duration says otherwise. Otherwise a schedule in days,
  // whose windows close at the end of the UTC day.
  bool hourly() const { return hourly_; }
  // N of rate(N hours), rate(N days) or AutomaticallyAfterDays N; 0 for cron().
  std::int64_t interval() const { return interval_; }
  // The window length Duration set, in hours; nullopt for the default window.
  std::optional<std::int64_t> duration_hours() const { return duration_hours_; }
  // The parsed fields of a cron() schedule; all masks are empty for other kinds.
  const CronSpec& cron() const { return cron_; }

  bool operator==(const Schedule&) const = default;

 private:
  friend Result<Schedule> parse_schedule(const RotationRules& rules);
  Schedule() = default;

  Kind kind_ = Kind::kAfterDays;
  bool hourly_ = false;
  std::int64_t interval_ = 0;
  std::optional<std::int64_t> duration_hours_;
  CronSpec cron_;
};

// A rotation window: the rotation runs at some whole hour in [start, end).
struct Window {
  Timestamp start;
  Timestamp end;

  bool operator==(const Window&) const = default;
};

// Validates `rules` against spec 5.2 step 4 and 5.8 and returns the schedule they describe.
// Exactly one of AutomaticallyAfterDays and ScheduleExpression must be set: both is refused
// ("but not both", [M-deb]), and so is neither, since a Duration alone says nothing about when
// the window opens (decided, not confirmed against AWS). Duration must fit the schedule: for a
// schedule in hours at most the hours between rotations, for one in days start hour + Duration
// <= 24. On failure: InvalidParameterException whose message names the rule broken.
Result<Schedule> parse_schedule(const RotationRules& rules);

// The first window of `schedule` that starts strictly after `after`.
// cron(): the next matching hour of a matching day; `anchor` is ignored.
// rate()/AutomaticallyAfterDays N: the windows open at anchor's UTC day + k*N days (at 00:00),
// or at anchor's hour + k*N hours, for k = 1, 2, ...; the first of those after `after`. Feeding
// each window's start back in as `after` enumerates missed windows in order.
// A window lasts Duration if given, else 1 hour for a schedule in hours, else until the end of
// its UTC day. Windows of schedules in hours may run past midnight (Duration only has to fit
// between rotations); the window is not cut at midnight (decided, not confirmed against AWS).
// Cost: O(1) for anchored schedules; for cron() a walk over days (skipping unmatched months)
// that parse_schedule bounds, since it refuses crons that skip a calendar year. nullopt only if
// no window starts within that bound, which parse_schedule rules out.
std::optional<Window> next_window(const Schedule& schedule, Timestamp anchor, Timestamp after);

// The time in `window` at which a rotation runs: minute 0 of one of the window's whole hours,
// chosen uniformly by `random_bits` (the caller's seeded RNG). Spec 5.4 says only the date is
// predictable, the hour is random within the window and the minute is weighted to the top of
// the hour; smemu takes the top of the hour itself. The choice is random_bits modulo the number
// of hours, whose bias is below 2^-48 for any window a Schedule opens (at most 999 days long).
// REQUIRES: window.end - window.start is at least one hour (true of every window next_window opens).
Timestamp pick_in_window(const Window& window, std::uint64_t random_bits);

}  // namespace smemu::model
