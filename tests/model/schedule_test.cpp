// Rotation schedules (spec 5.8): parsing and validation of RotationRules, rotation windows, and
// the hour picked inside a window.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>

#include <fmt/format.h>

#include "smemu/model/schedule.h"

using namespace smemu;
using namespace smemu::model;
namespace chr = std::chrono;

namespace {

Timestamp at(int y, unsigned m, unsigned d, int hour = 0, int minute = 0) {
  return chr::sys_days{chr::year{y} / chr::month{m} / chr::day{d}} + chr::hours{hour} + chr::minutes{minute};
}

// "2026-01-05T04:00", so failed checks print readable times.
std::string iso(Timestamp t) {
  const auto day = chr::floor<chr::days>(t);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss time{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()), time.hours().count(), time.minutes().count());
}

std::string iso(const std::optional<Window>& window) {
  return window ? iso(window->start) + "/" + iso(window->end) : "none";
}

RotationRules expression(std::string text, std::optional<std::string> duration = std::nullopt) {
  return RotationRules{std::nullopt, std::move(duration), std::move(text)};
}

RotationRules after_days(std::int64_t n, std::optional<std::string> duration = std::nullopt) {
  return RotationRules{n, std::move(duration), std::nullopt};
}

Schedule valid(const RotationRules& rules) {
  auto parsed = parse_schedule(rules);
  if (!parsed) FAIL_CHECK("refused: " << parsed.error().message);
  REQUIRE(parsed.ok());
  return *parsed;
}

// The message of the InvalidParameterException parse_schedule must answer with.
std::string refusal(const RotationRules& rules) {
  auto parsed = parse_schedule(rules);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == ErrorCode::InvalidParameter);
  CHECK(parsed.error().name() == "InvalidParameterException");
  return parsed.error().message;
}

bool accepts(const std::string& text, std::optional<std::string> duration = std::nullopt) {
  return parse_schedule(expression(text, std::move(duration))).ok();
}

// Windows from `after` on, each found by feeding the previous start back in.
std::string windows(const Schedule& schedule, Timestamp anchor, Timestamp after, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    const auto window = next_window(schedule, anchor, after);
    if (i > 0) out += ' ';
    out += iso(window);
    if (!window) break;
    after = window->start;
  }
  return out;
}

std::string hours_of(const Schedule& schedule) {
  std::string out;
  for (unsigned h = 0; h < 24; ++h) {
    if ((schedule.cron().hours & (1u << h)) == 0) continue;
    if (!out.empty()) out += ',';
    out += std::to_string(h);
  }
  return out;
}

}  // namespace

// --- which rule is given ---------------------------------------------------------------------

TEST_CASE("model/schedule: AutomaticallyAfterDays and ScheduleExpression can't both be given") {
  const RotationRules both{30, std::nullopt, std::string("rate(10 days)")};
  CHECK(refusal(both) == "You can't specify both AutomaticallyAfterDays and ScheduleExpression.");
}

TEST_CASE("model/schedule: rules must give AutomaticallyAfterDays or ScheduleExpression") {
  const auto message = "RotationRules must set AutomaticallyAfterDays or ScheduleExpression.";
  CHECK(refusal(RotationRules{}) == message);
  CHECK(refusal(RotationRules{std::nullopt, std::string("3h"), std::nullopt}) == message);
}

TEST_CASE("model/schedule: AutomaticallyAfterDays is 1-1000 and behaves as a schedule in days") {
  const auto schedule = valid(after_days(1000));
  CHECK(schedule.kind() == Schedule::Kind::kAfterDays);
  CHECK(schedule.interval() == 1000);
  CHECK(schedule.anchored());
  CHECK_FALSE(schedule.hourly());
  CHECK_FALSE(schedule.duration_hours());
  CHECK(valid(after_days(1)).interval() == 1);
  CHECK(refusal(after_days(0)) == "AutomaticallyAfterDays must be between 1 and 1000.");
  CHECK(refusal(after_days(1001)) == "AutomaticallyAfterDays must be between 1 and 1000.");
  CHECK(refusal(after_days(-5)) == "AutomaticallyAfterDays must be between 1 and 1000.");
}

TEST_CASE("model/schedule: a ScheduleExpression is rate() or cron()") {
  const auto message = "Invalid ScheduleExpression: use rate(Value Unit), for example rate(10 days), or "
                       "cron(Minutes Hours Day-of-month Month Day-of-week Year).";
  CHECK(refusal(expression("every 10 days")) == message);
  CHECK(refusal(expression("rate(10 days")) == message);
  CHECK(refusal(expression("cron(0 4 * * ? *")) == message);
  CHECK(refusal(expression("RATE(10 days)")) == message);
  CHECK(refusal(expression(" rate(10 days)")) == message);
}

// --- rate() ----------------------------------------------------------------------------------

TEST_CASE("model/schedule: rate(4 hours) is the minimum") {
  const auto schedule = valid(expression("rate(4 hours)"));
  CHECK(schedule.kind() == Schedule::Kind::kRateHours);
  CHECK(schedule.interval() == 4);
  CHECK(schedule.hourly());
  CHECK(schedule.anchored());
  CHECK(refusal(expression("rate(3 hours)")) == "Invalid rate expression: the minimum rotation interval is 4 hours.");
  CHECK(refusal(expression("rate(1 hour)")) == "Invalid rate expression: the minimum rotation interval is 4 hours.");
}

TEST_CASE("model/schedule: rate() is at most 999 days") {
  const auto days = valid(expression("rate(999 days)"));
  CHECK(days.kind() == Schedule::Kind::kRateDays);
  CHECK(days.interval() == 999);
  CHECK_FALSE(days.hourly());
  CHECK(refusal(expression("rate(1000 days)")) == "Invalid rate expression: the maximum rotation interval is 999 days.");
  CHECK(refusal(expression("rate(99999999999999999999 days)")) ==
        "Invalid rate expression: the maximum rotation interval is 999 days.");
  CHECK(valid(expression("rate(23976 hours)")).interval() == 23976);
  CHECK(refusal(expression("rate(23977 hours)")) ==
        "Invalid rate expression: the maximum rotation interval is 999 days (23976 hours).");
}

TEST_CASE("model/schedule: rate() takes a positive whole number and hour, hours, day or days") {
  CHECK(valid(expression("rate(1 day)")).interval() == 1);
  CHECK(valid(expression("rate(1 days)")).interval() == 1);
  CHECK(valid(expression("rate(10 day)")).interval() == 10);
  CHECK(valid(expression("rate(5 hour)")).kind() == Schedule::Kind::kRateHours);
  CHECK(valid(expression("rate(12  hours)")).interval() == 12);
  CHECK(valid(expression("rate(010 days)")).interval() == 10);

  const auto bad_value = "Invalid rate expression: the value must be a positive whole number.";
  CHECK(refusal(expression("rate(0 days)")) == bad_value);
  CHECK(refusal(expression("rate(-1 days)")) == bad_value);
  CHECK(refusal(expression("rate(1.5 days)")) == bad_value);
  CHECK(refusal(expression("rate(ten days)")) == bad_value);

  const auto bad_unit = "Invalid rate expression: the unit must be hour, hours, day or days.";
  CHECK(refusal(expression("rate(2 weeks)")) == bad_unit);
  CHECK(refusal(expression("rate(240 minutes)")) == bad_unit);
  CHECK(refusal(expression("rate(10 Days)")) == bad_unit);

  const auto bad_shape = "Invalid rate expression: expected rate(Value Unit), for example rate(10 days).";
  CHECK(refusal(expression("rate(10)")) == bad_shape);
  CHECK(refusal(expression("rate()")) == bad_shape);
  CHECK(refusal(expression("rate(10 days later)")) == bad_shape);
}

// --- cron(): the fields ----------------------------------------------------------------------

TEST_CASE("model/schedule: a cron has six fields") {
  CHECK(refusal(expression("cron(0 4 * * ?)")) ==
        "Invalid cron expression: expected 6 fields (Minutes Hours Day-of-month Month Day-of-week Year), got 5.");
  CHECK(refusal(expression("cron(0 4 * * ? * *)")) ==
        "Invalid cron expression: expected 6 fields (Minutes Hours Day-of-month Month Day-of-week Year), got 7.");
  const auto schedule = valid(expression("cron(0 4 * * ? *)"));
  CHECK(schedule.kind() == Schedule::Kind::kCron);
  CHECK_FALSE(schedule.anchored());
  CHECK(schedule.interval() == 0);
}

TEST_CASE("model/schedule: cron minutes must be 0") {
  const auto message = "Invalid cron expression: the minutes field must be 0, because rotation windows start on the hour.";
  CHECK(refusal(expression("cron(30 4 * * ? *)")) == message);
  CHECK(refusal(expression("cron(* 4 * * ? *)")) == message);
  CHECK(refusal(expression("cron(0/30 4 * * ? *)")) == message);
  CHECK(accepts("cron(0 4 * * ? *)"));
}

TEST_CASE("model/schedule: cron year must be *") {
  const auto message =
      "Invalid cron expression: the year field must be *, because rotation schedules can't be more than a year apart.";
  CHECK(refusal(expression("cron(0 4 * * ? 2026)")) == message);
  CHECK(refusal(expression("cron(0 4 * * ? 2026-2030)")) == message);
}

TEST_CASE("model/schedule: cron hours take 0-23, lists, ranges and increments") {
  CHECK(hours_of(valid(expression("cron(0 0 * * ? *)"))) == "0");
  CHECK(hours_of(valid(expression("cron(0 23 * * ? *)"))) == "23");
  CHECK(hours_of(valid(expression("cron(0 4/12 * * ? *)"))) == "4,16");
  CHECK(hours_of(valid(expression("cron(0 */6 * * ? *)"))) == "0,6,12,18");
  CHECK(hours_of(valid(expression("cron(0 1,5-7 * * ? *)"))) == "1,5,6,7");
  CHECK(hours_of(valid(expression("cron(0 8-20/4 * * ? *)"))) == "8,12,16,20");
  CHECK(valid(expression("cron(0 * * * ? *)")).cron().hours == 0xFFFFFFu);

  CHECK(refusal(expression("cron(0 24 * * ? *)")) ==
        "Invalid cron expression: 24 is out of range in the hours field, which takes 0-23 and the wildcards , - * /.");
  CHECK(refusal(expression("cron(0 ? * * ? *)")) == "Invalid cron expression: the hours field doesn't take ?.");
  CHECK(refusal(expression("cron(0 L * * ? *)")) ==
        "Invalid cron expression: 'L' is not valid in the hours field, which takes 0-23 and the wildcards , - * /.");
  CHECK(refusal(expression("cron(0 10-2 * * ? *)")) ==
        "Invalid cron expression: the range '10-2' in the hours field runs backwards.");
  CHECK(refusal(expression("cron(0 4/0 * * ? *)")) ==
        "Invalid cron expression: the increment in '4/0' (hours field) must be a positive whole number.");
  CHECK(refusal(expression("cron(0 4/x * * ? *)")) ==
        "Invalid cron expression: the increment in '4/x' (hours field) must be a positive whole number.");
  CHECK(refusal(expression("cron(0 1,,2 * * ? *)")) ==
        "Invalid cron expression: '' is not valid in the hours field, which takes 0-23 and the wildcards , - * /.");
}

TEST_CASE("model/schedule: cron day-of-month takes 1-31 with , - * ? / L") {
  CHECK(valid(expression("cron(0 8 1/7 * ? *)")).cron().days_of_month ==
        ((1u << 1) | (1u << 8) | (1u << 15) | (1u << 22) | (1u << 29)));
  CHECK(valid(expression("cron(0 8 1,15 * ? *)")).cron().days_of_month == ((1u << 1) | (1u << 15)));
  CHECK(valid(expression("cron(0 8 10-12 * ? *)")).cron().days_of_month == ((1u << 10) | (1u << 11) | (1u << 12)));
  CHECK(valid(expression("cron(0 8 31 * ? *)")).cron().days_of_month == (1u << 31));
  CHECK(valid(expression("cron(0 8 L * ? *)")).cron().day_rule == CronSpec::DayRule::kLastDayOfMonth);
  CHECK(valid(expression("cron(0 8 l * ? *)")).cron().day_rule == CronSpec::DayRule::kLastDayOfMonth);
  CHECK(valid(expression("cron(0 8 * * ? *)")).cron().day_rule == CronSpec::DayRule::kDaysOfMonth);

  const auto takes = "which takes 1-31 and the wildcards , - * ? / L.";
  CHECK(refusal(expression("cron(0 8 0 * ? *)")) ==
        fmt::format("Invalid cron expression: 0 is out of range in the day-of-month field, {}", takes));
  CHECK(refusal(expression("cron(0 8 32 * ? *)")) ==
        fmt::format("Invalid cron expression: 32 is out of range in the day-of-month field, {}", takes));
  CHECK(refusal(expression("cron(0 8 15W * ? *)")) ==
        fmt::format("Invalid cron expression: '15W' is not valid in the day-of-month field, {}", takes));
  CHECK(refusal(expression("cron(0 8 2#1 * ? *)")) ==
        fmt::format("Invalid cron expression: '2#1' is not valid in the day-of-month field, {}", takes));
  const auto lone_l = "Invalid cron expression: L in the day-of-month field stands alone (the last day of the month).";
  CHECK(refusal(expression("cron(0 8 1,L * ? *)")) == lone_l);
  CHECK(refusal(expression("cron(0 8 LW * ? *)")) == lone_l);
}

TEST_CASE("model/schedule: cron month takes 1-12 or JAN-DEC with , - * /") {
  CHECK(valid(expression("cron(0 6 1 JAN,JUL ? *)")).cron().months == ((1u << 1) | (1u << 7)));
  CHECK(valid(expression("cron(0 6 1 1,7 ? *)")).cron().months == ((1u << 1) | (1u << 7)));
  CHECK(valid(expression("cron(0 6 1 jan-mar ? *)")).cron().months == ((1u << 1) | (1u << 2) | (1u << 3)));
  CHECK(valid(expression("cron(0 6 1 */3 ? *)")).cron().months == ((1u << 1) | (1u << 4) | (1u << 7) | (1u << 10)));
  CHECK(valid(expression("cron(0 6 1 * ? *)")).cron().months == 0x1FFEu);

  const auto takes = "which takes 1-12 or JAN-DEC and the wildcards , - * /.";
  CHECK(refusal(expression("cron(0 6 1 13 ? *)")) ==
        fmt::format("Invalid cron expression: 13 is out of range in the month field, {}", takes));
  CHECK(refusal(expression("cron(0 6 1 0 ? *)")) ==
        fmt::format("Invalid cron expression: 0 is out of range in the month field, {}", takes));
  CHECK(refusal(expression("cron(0 6 1 JANUARY ? *)")) ==
        fmt::format("Invalid cron expression: 'JANUARY' is not valid in the month field, {}", takes));
  CHECK(refusal(expression("cron(0 6 1 L ? *)")) ==
        fmt::format("Invalid cron expression: 'L' is not valid in the month field, {}", takes));
  CHECK(refusal(expression("cron(0 6 1 ? * *)")) == "Invalid cron expression: the month field doesn't take ?.");
  CHECK(refusal(expression("cron(0 6 1 DEC-JAN ? *)")) ==
        "Invalid cron expression: the range 'DEC-JAN' in the month field runs backwards.");
}

TEST_CASE("model/schedule: cron day-of-week takes 1-7 or SUN-SAT with # , - * ? / L") {
  CHECK(valid(expression("cron(0 8 ? * MON-FRI *)")).cron().weekdays == 0b1111100u);
  CHECK(valid(expression("cron(0 8 ? * 2-6 *)")).cron().weekdays == 0b1111100u);
  CHECK(valid(expression("cron(0 8 ? * SUN,SAT *)")).cron().weekdays == ((1u << 1) | (1u << 7)));
  CHECK(valid(expression("cron(0 8 ? * */2 *)")).cron().weekdays == ((1u << 1) | (1u << 3) | (1u << 5) | (1u << 7)));
  CHECK(valid(expression("cron(0 8 ? * L *)")).cron().weekdays == (1u << 7));  // Saturday

  const auto third_tuesday = valid(expression("cron(0 8 ? * TUE#3 *)")).cron();
  CHECK(third_tuesday.day_rule == CronSpec::DayRule::kNthWeekday);
  CHECK(third_tuesday.weekday == 3);
  CHECK(third_tuesday.nth == 3);
  const auto last_sunday = valid(expression("cron(0 8 ? * SUNL *)")).cron();
  CHECK(last_sunday.day_rule == CronSpec::DayRule::kLastWeekday);
  CHECK(last_sunday.weekday == 1);
  CHECK(valid(expression("cron(0 8 ? * 1L *)")).cron() == last_sunday);
  CHECK(valid(expression("cron(0 8 ? * sunl *)")).cron() == last_sunday);

  const auto takes = "which takes 1-7 or SUN-SAT and the wildcards # , - * ? / L.";
  CHECK(refusal(expression("cron(0 8 ? * 0 *)")) ==
        fmt::format("Invalid cron expression: 0 is out of range in the day-of-week field, {}", takes));
  CHECK(refusal(expression("cron(0 8 ? * 8 *)")) ==
        fmt::format("Invalid cron expression: 8 is out of range in the day-of-week field, {}", takes));
  CHECK(refusal(expression("cron(0 8 ? * FUN *)")) ==
        fmt::format("Invalid cron expression: 'FUN' is not valid in the day-of-week field, {}", takes));
  CHECK(refusal(expression("cron(0 8 ? * XL *)")) ==
        fmt::format("Invalid cron expression: 'X' is not valid in the day-of-week field, {}", takes));
  CHECK(refusal(expression("cron(0 8 ? * TUE#6 *)")) ==
        "Invalid cron expression: in 'TUE#6', the number after # must be 1-5 (the week of the month).");
  CHECK(refusal(expression("cron(0 8 ? * TUE#0 *)")) ==
        "Invalid cron expression: in 'TUE#0', the number after # must be 1-5 (the week of the month).");
  CHECK(refusal(expression("cron(0 8 ? * MON#1,FRI#3 *)")) ==
        "Invalid cron expression: # in the day-of-week field takes one weekday, as in TUE#3.");
  const auto l_form = "Invalid cron expression: L in the day-of-week field follows one weekday, as in FRIL or 6L.";
  CHECK(refusal(expression("cron(0 8 ? * MON,FRIL *)")) == l_form);
  CHECK(refusal(expression("cron(0 8 ? * LMON *)")) == l_form);
}

TEST_CASE("model/schedule: exactly one of cron day-of-month and day-of-week is ?") {
  CHECK(refusal(expression("cron(0 4 1 * MON *)")) ==
        "Invalid cron expression: Day-of-month and Day-of-week can't both be specified; set one of them to ?.");
  CHECK(refusal(expression("cron(0 4 * * * *)")) ==
        "Invalid cron expression: Day-of-month and Day-of-week can't both be specified; set one of them to ?.");
  CHECK(refusal(expression("cron(0 4 ? * ? *)")) ==
        "Invalid cron expression: Day-of-month and Day-of-week can't both be ?; specify one of them.");
  CHECK(refusal(expression("cron(0 4 1,? * ? *)")) == "Invalid cron expression: ? in the day-of-month field stands alone.");
  CHECK(refusal(expression("cron(0 4 ? * MON? *)")) == "Invalid cron expression: ? in the day-of-week field stands alone.");
  CHECK(accepts("cron(0 4 * * ? *)"));
  CHECK(accepts("cron(0 4 ? * * *)"));
}

TEST_CASE("model/schedule: a cron must match a date in every year") {
  const auto never = "Invalid cron expression: it matches no date (like Feb 30).";
  CHECK(refusal(expression("cron(0 0 30 2 ? *)")) == never);
  CHECK(refusal(expression("cron(0 0 31 APR,JUN,SEP,NOV ? *)")) == never);
  const auto not_yearly =
      "Invalid cron expression: it doesn't match a date in every year, and rotation schedules can't be more than a "
      "year apart.";
  CHECK(refusal(expression("cron(0 0 29 FEB ? *)")) == not_yearly);
  CHECK(refusal(expression("cron(0 0 ? FEB MON#5 *)")) == not_yearly);
  CHECK(refusal(expression("cron(0 0 ? JAN MON#5 *)")) == not_yearly);
  CHECK(accepts("cron(0 0 29 FEB,MAR ? *)"));
  CHECK(accepts("cron(0 0 31 * ? *)"));
  CHECK(accepts("cron(0 0 ? * MON#5 *)"));
}

// --- Duration --------------------------------------------------------------------------------

TEST_CASE("model/schedule: Duration is a whole number of hours, at least 1") {
  CHECK(valid(expression("rate(10 days)", "3h")).duration_hours() == 3);
  CHECK(valid(expression("rate(10 days)", "05h")).duration_hours() == 5);
  CHECK(refusal(expression("rate(10 days)", "3")) ==
        "Invalid Duration '3': give the rotation window in whole hours, for example 3h.");
  CHECK(refusal(expression("rate(10 days)", "h")) ==
        "Invalid Duration 'h': give the rotation window in whole hours, for example 3h.");
  CHECK(refusal(expression("rate(10 days)", "3d")) ==
        "Invalid Duration '3d': give the rotation window in whole hours, for example 3h.");
  CHECK(refusal(expression("rate(10 days)", "0h")) ==
        "Invalid Duration: the rotation window must be at least 1 hour (1h).");
}

TEST_CASE("model/schedule: an hourly window fits between rotations") {
  CHECK(accepts("rate(6 hours)", "6h"));
  CHECK(refusal(expression("rate(6 hours)", "7h")) ==
        "Invalid Duration: the rotation window (7h) must not be longer than the 6 hours between rotations.");
  // 04:00 and 16:00: 12 hours apart both ways round the day.
  CHECK(accepts("cron(0 4/12 * * ? *)", "12h"));
  CHECK(refusal(expression("cron(0 4/12 * * ? *)", "13h")) ==
        "Invalid Duration: the rotation window (13h) must not be longer than the 12 hours between rotations.");
  // 22:00 to the next day's 01:00 is the shortest gap.
  CHECK(accepts("cron(0 1,22 * * ? *)", "3h"));
  CHECK(refusal(expression("cron(0 1,22 * * ? *)", "4h")) ==
        "Invalid Duration: the rotation window (4h) must not be longer than the 3 hours between rotations.");
  CHECK(refusal(expression("cron(0 * * * ? *)", "2h")) ==
        "Invalid Duration: the rotation window (2h) must not be longer than the 1 hour between rotations.");
}

TEST_CASE("model/schedule: a daily window ends by midnight UTC") {
  CHECK(accepts("rate(1 day)", "24h"));
  CHECK(refusal(expression("rate(1 day)", "25h")) ==
        "Invalid Duration: a 25h rotation window opening at 00:00 UTC would extend into the next UTC day; the start "
        "hour plus Duration must be at most 24.");
  CHECK(accepts("cron(0 20 * * ? *)", "4h"));
  CHECK(refusal(expression("cron(0 20 * * ? *)", "5h")) ==
        "Invalid Duration: a 5h rotation window opening at 20:00 UTC would extend into the next UTC day; the start "
        "hour plus Duration must be at most 24.");
  CHECK(valid(after_days(7, "3h")).duration_hours() == 3);
  CHECK(valid(after_days(7, "24h")).duration_hours() == 24);
  CHECK(refusal(after_days(7, "25h")) ==
        "Invalid Duration: a 25h rotation window opening at 00:00 UTC would extend into the next UTC day; the start "
        "hour plus Duration must be at most 24.");
}

TEST_CASE("model/schedule: a cron firing once a day is a schedule in days, several times a schedule in hours") {
  CHECK_FALSE(valid(expression("cron(0 20 * * ? *)")).hourly());
  CHECK_FALSE(valid(expression("cron(0 20 ? * MON-FRI *)")).hourly());
  CHECK(valid(expression("cron(0 4/12 * * ? *)")).hourly());
  CHECK(valid(expression("cron(0 1,22 L * ? *)")).hourly());
}

// --- windows ---------------------------------------------------------------------------------

TEST_CASE("model/schedule: rate in days opens a whole UTC day N days after the anchor's day") {
  const auto anchor = at(2026, 1, 1, 13, 37);
  CHECK(iso(next_window(valid(expression("rate(10 days)")), anchor, anchor)) == "2026-01-11T00:00/2026-01-12T00:00");
  CHECK(iso(next_window(valid(expression("rate(10 days)", "3h")), anchor, anchor)) ==
        "2026-01-11T00:00/2026-01-11T03:00");
  // AutomaticallyAfterDays opens the same windows.
  CHECK(iso(next_window(valid(after_days(10)), anchor, anchor)) == "2026-01-11T00:00/2026-01-12T00:00");
  CHECK(iso(next_window(valid(after_days(10, "2h")), anchor, anchor)) == "2026-01-11T00:00/2026-01-11T02:00");
}

TEST_CASE("model/schedule: rate in hours opens N hours after the anchor's hour, for one hour by default") {
  const auto anchor = at(2026, 1, 1, 13, 37);
  CHECK(iso(next_window(valid(expression("rate(6 hours)")), anchor, anchor)) == "2026-01-01T19:00/2026-01-01T20:00");
  CHECK(iso(next_window(valid(expression("rate(6 hours)", "4h")), anchor, anchor)) ==
        "2026-01-01T19:00/2026-01-01T23:00");
  // Windows of schedules in hours may span midnight.
  CHECK(iso(next_window(valid(expression("rate(12 hours)", "3h")), anchor, anchor)) ==
        "2026-01-02T01:00/2026-01-02T04:00");
}

TEST_CASE("model/schedule: a window starting exactly at `after` is not next") {
  const auto daily = valid(expression("rate(1 day)"));
  const auto anchor = at(2026, 1, 1, 10);
  CHECK(iso(next_window(daily, anchor, at(2026, 1, 1, 23, 59))) == "2026-01-02T00:00/2026-01-03T00:00");
  CHECK(iso(next_window(daily, anchor, at(2026, 1, 2) - Duration{1})) == "2026-01-02T00:00/2026-01-03T00:00");
  CHECK(iso(next_window(daily, anchor, at(2026, 1, 2))) == "2026-01-03T00:00/2026-01-04T00:00");

  const auto hourly = valid(expression("rate(6 hours)"));
  CHECK(iso(next_window(hourly, anchor, at(2026, 1, 1, 16))) == "2026-01-01T22:00/2026-01-01T23:00");

  const auto cron = valid(expression("cron(0 4/12 * * ? *)"));
  CHECK(iso(next_window(cron, anchor, at(2026, 1, 1, 4) - Duration{1})) == "2026-01-01T04:00/2026-01-01T05:00");
  CHECK(iso(next_window(cron, anchor, at(2026, 1, 1, 4))) == "2026-01-01T16:00/2026-01-01T17:00");
  CHECK(iso(next_window(cron, anchor, at(2026, 1, 1, 16))) == "2026-01-02T04:00/2026-01-02T05:00");
}

TEST_CASE("model/schedule: missed windows of an anchored schedule come out in order") {
  const auto anchor = at(2026, 1, 1, 10);
  CHECK(windows(valid(expression("rate(1 day)")), anchor, anchor, 3) ==
        "2026-01-02T00:00/2026-01-03T00:00 2026-01-03T00:00/2026-01-04T00:00 2026-01-04T00:00/2026-01-05T00:00");
  CHECK(windows(valid(after_days(3, "2h")), anchor, anchor, 3) ==
        "2026-01-04T00:00/2026-01-04T02:00 2026-01-07T00:00/2026-01-07T02:00 2026-01-10T00:00/2026-01-10T02:00");
  CHECK(windows(valid(expression("rate(8 hours)")), anchor, anchor, 4) ==
        "2026-01-01T18:00/2026-01-01T19:00 2026-01-02T02:00/2026-01-02T03:00 2026-01-02T10:00/2026-01-02T11:00 "
        "2026-01-02T18:00/2026-01-02T19:00");
  // Far past the anchor, the next window is still on the anchor's grid, found without stepping.
  CHECK(iso(next_window(valid(expression("rate(7 days)")), anchor, at(2027, 6, 15, 12))) ==
        "2027-06-17T00:00/2027-06-18T00:00");
  CHECK(iso(next_window(valid(expression("rate(5 hours)")), anchor, at(2026, 3, 1, 2))) ==
        "2026-03-01T04:00/2026-03-01T05:00");
}

TEST_CASE("model/schedule: an anchor after `after` still opens the first window N after the anchor") {
  // A value written at `anchor` (D5) restarts the count even when asked from an earlier time.
  CHECK(iso(next_window(valid(expression("rate(2 days)")), at(2026, 1, 10, 5), at(2026, 1, 1))) ==
        "2026-01-12T00:00/2026-01-13T00:00");
}

TEST_CASE("model/schedule: cron hour increments reset each day") {
  const auto schedule = valid(expression("cron(0 4/12 * * ? *)"));
  CHECK(windows(schedule, kVirtualEpoch, kVirtualEpoch, 4) ==
        "2026-01-01T04:00/2026-01-01T05:00 2026-01-01T16:00/2026-01-01T17:00 2026-01-02T04:00/2026-01-02T05:00 "
        "2026-01-02T16:00/2026-01-02T17:00");
}

TEST_CASE("model/schedule: a daily cron window closes at midnight unless Duration is given") {
  const auto after = at(2026, 1, 1, 21);
  CHECK(iso(next_window(valid(expression("cron(0 20 * * ? *)")), after, after)) ==
        "2026-01-02T20:00/2026-01-03T00:00");
  CHECK(iso(next_window(valid(expression("cron(0 20 * * ? *)", "2h")), after, after)) ==
        "2026-01-02T20:00/2026-01-02T22:00");
}

TEST_CASE("model/schedule: cron windows ignore the anchor") {
  const auto schedule = valid(expression("cron(0 9 * * ? *)"));
  const auto after = at(2026, 1, 5, 12);
  CHECK(next_window(schedule, at(2020, 1, 1), after) == next_window(schedule, at(2026, 1, 5, 11), after));
  CHECK(iso(next_window(schedule, at(2020, 1, 1), after)) == "2026-01-06T09:00/2026-01-07T00:00");
}

TEST_CASE("model/schedule: cron L is the last day of each month") {
  const auto schedule = valid(expression("cron(0 16 L * ? *)"));
  CHECK(windows(schedule, kVirtualEpoch, kVirtualEpoch, 3) ==
        "2026-01-31T16:00/2026-02-01T00:00 2026-02-28T16:00/2026-03-01T00:00 2026-03-31T16:00/2026-04-01T00:00");
  CHECK(iso(next_window(schedule, kVirtualEpoch, at(2028, 2, 1))) == "2028-02-29T16:00/2028-03-01T00:00");
}

TEST_CASE("model/schedule: cron TUE#3 is the third Tuesday of the month") {
  const auto schedule = valid(expression("cron(0 9 ? * TUE#3 *)", "2h"));
  CHECK(windows(schedule, kVirtualEpoch, kVirtualEpoch, 2) ==
        "2026-01-20T09:00/2026-01-20T11:00 2026-02-17T09:00/2026-02-17T11:00");
  // A fifth Monday comes only in some months: March is the first in 2026.
  CHECK(iso(next_window(valid(expression("cron(0 0 ? * MON#5 *)")), kVirtualEpoch, kVirtualEpoch)) ==
        "2026-03-30T00:00/2026-03-31T00:00");
}

TEST_CASE("model/schedule: cron SUNL is the last Sunday of the month, L alone is Saturday") {
  CHECK(windows(valid(expression("cron(0 0 ? * SUNL *)")), kVirtualEpoch, kVirtualEpoch, 2) ==
        "2026-01-25T00:00/2026-01-26T00:00 2026-02-22T00:00/2026-02-23T00:00");
  CHECK(iso(next_window(valid(expression("cron(0 0 ? * 1L *)")), kVirtualEpoch, kVirtualEpoch)) ==
        "2026-01-25T00:00/2026-01-26T00:00");
  CHECK(windows(valid(expression("cron(0 0 ? * L *)")), kVirtualEpoch, kVirtualEpoch, 2) ==
        "2026-01-03T00:00/2026-01-04T00:00 2026-01-10T00:00/2026-01-11T00:00");
}

TEST_CASE("model/schedule: cron month names and weekday ranges pick the days") {
  CHECK(windows(valid(expression("cron(0 6 1 JAN,JUL ? *)")), kVirtualEpoch, at(2026, 1, 2), 2) ==
        "2026-07-01T06:00/2026-07-02T00:00 2027-01-01T06:00/2027-01-02T00:00");
  // Friday 2026-01-02 at 08:00 is past; the next weekday is Monday.
  CHECK(iso(next_window(valid(expression("cron(0 8 ? * MON-FRI *)")), kVirtualEpoch, at(2026, 1, 2, 8))) ==
        "2026-01-05T08:00/2026-01-06T00:00");
  CHECK(windows(valid(expression("cron(0 8 1/7 * ? *)")), kVirtualEpoch, at(2026, 1, 1, 8), 5) ==
        "2026-01-08T08:00/2026-01-09T00:00 2026-01-15T08:00/2026-01-16T00:00 2026-01-22T08:00/2026-01-23T00:00 "
        "2026-01-29T08:00/2026-01-30T00:00 2026-02-01T08:00/2026-02-02T00:00");
  // 31 skips the months without one.
  CHECK(windows(valid(expression("cron(0 0 31 * ? *)")), kVirtualEpoch, at(2026, 1, 31), 2) ==
        "2026-03-31T00:00/2026-04-01T00:00 2026-05-31T00:00/2026-06-01T00:00");
}

TEST_CASE("model/schedule: cron 29 FEB fires in leap years only, next to a month that has a 29th") {
  const auto schedule = valid(expression("cron(0 0 29 FEB,MAR ? *)"));
  CHECK(windows(schedule, kVirtualEpoch, at(2027, 3, 29), 2) ==
        "2028-02-29T00:00/2028-03-01T00:00 2028-03-29T00:00/2028-03-30T00:00");
}

// --- picking the hour ------------------------------------------------------------------------

TEST_CASE("model/schedule: pick_in_window takes the top of a window hour chosen by the bits") {
  const Window day{at(2026, 1, 11), at(2026, 1, 12)};
  CHECK(iso(pick_in_window(day, 0)) == "2026-01-11T00:00");
  CHECK(iso(pick_in_window(day, 5)) == "2026-01-11T05:00");
  CHECK(iso(pick_in_window(day, 23)) == "2026-01-11T23:00");
  CHECK(iso(pick_in_window(day, 24)) == "2026-01-11T00:00");
  CHECK(iso(pick_in_window(day, std::numeric_limits<std::uint64_t>::max())) == "2026-01-11T15:00");
  CHECK(pick_in_window(day, 0x9E3779B97F4A7C15ull) == pick_in_window(day, 0x9E3779B97F4A7C15ull));

  const Window one_hour{at(2026, 1, 1, 19), at(2026, 1, 1, 20)};
  CHECK(pick_in_window(one_hour, 0) == one_hour.start);
  CHECK(pick_in_window(one_hour, 12345) == one_hour.start);
}

TEST_CASE("model/schedule: pick_in_window stays in the window and reaches every hour of it") {
  const auto schedule = valid(expression("cron(0 20 * * ? *)", "3h"));
  const auto window = next_window(schedule, kVirtualEpoch, kVirtualEpoch);
  REQUIRE(window);
  std::set<std::string> seen;
  std::uint64_t bits = 0x243F6A8885A308D3ull;
  for (int i = 0; i < 64; ++i) {
    bits = bits * 6364136223846793005ull + 1442695040888963407ull;
    const auto picked = pick_in_window(*window, bits);
    CHECK(picked >= window->start);
    CHECK(picked < window->end);
    CHECK(picked == chr::floor<chr::hours>(picked));
    seen.insert(iso(picked));
  }
  CHECK(seen == std::set<std::string>{"2026-01-01T20:00", "2026-01-01T21:00", "2026-01-01T22:00"});
}
