#include "smemu/model/schedule.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace smemu::model {
namespace {

namespace chr = std::chrono;

constexpr std::int64_t kMinRateHours = 4;
constexpr std::int64_t kMaxRateDays = 999;
constexpr std::int64_t kMaxRateHours = kMaxRateDays * 24;
constexpr std::int64_t kMaxAfterDays = 1000;
constexpr std::int64_t kHoursPerDay = 24;
// Numbers are read saturating at this value: anything larger is out of every range here.
constexpr std::int64_t kNumberCap = 1'000'000'000;

// parse_schedule refuses a cron that skips a calendar year, so one match follows another within
// two years; next_window never walks further.
constexpr int kCronSearchDays = 2 * 366;
// 2001-2028 holds every kind of year (leap or not, starting on each weekday) and no century
// year, so a cron that matches in each of these years matches in every year.
constexpr int kCycleFirstYear = 2001;
constexpr int kCycleYears = 28;

std::string hours_text(std::int64_t n) { return fmt::format("{} hour{}", n, n == 1 ? "" : "s"); }

Error invalid(std::string message) { return make_error(ErrorCode::InvalidParameter, std::move(message)); }

Error invalid_rate(std::string_view why) { return invalid(fmt::format("Invalid rate expression: {}", why)); }

Error invalid_cron(std::string_view why) { return invalid(fmt::format("Invalid cron expression: {}", why)); }

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t begin = 0;
  while (true) {
    const auto end = text.find(separator, begin);
    parts.push_back(text.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
    if (end == std::string_view::npos) return parts;
    begin = end + 1;
  }
}

// Words separated by one or more spaces (the expression pattern allows no other whitespace).
std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  for (auto part : split(text, ' ')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

// A decimal number of digits only, saturating at kNumberCap; nullopt if `text` is not that.
std::optional<std::int64_t> parse_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = std::min(value * 10 + (c - '0'), kNumberCap);
  }
  return value;
}

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) { return upper(x) == upper(y); });
}

// Cron's "L" wildcard, in either case.
bool is_l(std::string_view text) { return text == "L" || text == "l"; }

// --- Duration --------------------------------------------------------------------------------

Result<std::int64_t> parse_duration(std::string_view text) {
  const auto hours = text.ends_with('h') ? parse_number(text.substr(0, text.size() - 1)) : std::nullopt;
  if (!hours) {
    return invalid(fmt::format("Invalid Duration '{}': give the rotation window in whole hours, for example 3h.", text));
  }
  if (*hours < 1) return invalid("Invalid Duration: the rotation window must be at least 1 hour (1h).");
  return *hours;
}

// --- rate() ----------------------------------------------------------------------------------

struct Rate {
  Schedule::Kind kind;
  std::int64_t value;
};

Result<Rate> parse_rate(std::string_view body) {
  const auto parts = words(body);
  if (parts.size() != 2) return invalid_rate("expected rate(Value Unit), for example rate(10 days).");
  const auto value = parse_number(parts[0]);
  if (!value || *value == 0) return invalid_rate("the value must be a positive whole number.");
  // Singular and plural are both accepted whatever the value: AWS lists all four units.
  const auto unit = parts[1];
  if (unit == "hour" || unit == "hours") {
    if (*value < kMinRateHours) return invalid_rate("the minimum rotation interval is 4 hours.");
    if (*value > kMaxRateHours) return invalid_rate("the maximum rotation interval is 999 days (23976 hours).");
    return Rate{Schedule::Kind::kRateHours, *value};
  }
  if (unit == "day" || unit == "days") {
    if (*value > kMaxRateDays) return invalid_rate("the maximum rotation interval is 999 days.");
    return Rate{Schedule::Kind::kRateDays, *value};
  }
  return invalid_rate("the unit must be hour, hours, day or days.");
}

// --- cron() ----------------------------------------------------------------------------------

constexpr std::array<std::string_view, 12> kMonthNames{"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kWeekdayNames{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

struct Field {
  std::string_view name;       // as messages call it
  std::string_view accepts;    // what the field takes, for messages
  int min;
  int max;
  std::span<const std::string_view> names;  // names[i] stands for min + i
  bool takes_question_mark;                 // "?": no value, only in the two day fields
};

constexpr Field kHoursField{"hours", "0-23 and the wildcards , - * /", 0, 23, {}, false};
constexpr Field kDayOfMonthField{"day-of-month", "1-31 and the wildcards , - * ? / L", 1, 31, {}, true};
constexpr Field kMonthField{"month", "1-12 or JAN-DEC and the wildcards , - * /", 1, 12, kMonthNames, false};
constexpr Field kDayOfWeekField{"day-of-week", "1-7 or SUN-SAT and the wildcards # , - * ? / L", 1, 7,
                                kWeekdayNames, true};

Error invalid_value(std::string_view value, const Field& field) {
  return invalid_cron(fmt::format("'{}' is not valid in the {} field, which takes {}.", value, field.name, field.accepts));
}

Result<int> parse_value(std::string_view text, const Field& field) {
  if (const auto number = parse_number(text)) {
    if (*number < field.min || *number > field.max) {
      return invalid_cron(fmt::format("{} is out of range in the {} field, which takes {}.", text, field.name,
                                      field.accepts));
    }
    return static_cast<int>(*number);
  }
  for (std::size_t i = 0; i < field.names.size(); ++i) {
    if (equals_ignoring_case(field.names[i], text)) return field.min + static_cast<int>(i);
  }
  return invalid_value(text, field);
}

// A comma-separated list of terms: `*`, `v`, `a-b`, each optionally followed by `/step`
// (`v/step` runs from v to the field's maximum). Returns the mask of matched values.
Result<std::uint32_t> parse_list(std::string_view text, const Field& field) {
  std::uint32_t mask = 0;
  for (auto term : split(text, ',')) {
    const auto slash = term.find('/');
    const auto base = term.substr(0, slash);
    int step = 1;
    if (slash != std::string_view::npos) {
      const auto step_text = term.substr(slash + 1);
      const auto parsed = parse_number(step_text);
      if (!parsed || *parsed < 1) {
        return invalid_cron(fmt::format("the increment in '{}' ({} field) must be a positive whole number.", term,
                                        field.name));
      }
      step = static_cast<int>(std::min<std::int64_t>(*parsed, field.max + 1));
    }
    int low = field.min;
    int high = field.max;
    if (base != "*") {
      const auto dash = base.find('-');
      auto first = parse_value(base.substr(0, dash), field);
      if (!first) return std::move(first).error();
      low = *first;
      if (dash != std::string_view::npos) {
        auto last = parse_value(base.substr(dash + 1), field);
        if (!last) return std::move(last).error();
        high = *last;
        if (high < low) {
          return invalid_cron(fmt::format("the range '{}' in the {} field runs backwards.", base, field.name));
        }
      } else if (slash == std::string_view::npos) {
        high = low;
      }
    }
    for (int v = low; v <= high; v += step) mask |= 1u << v;
  }
  return mask;
}

std::uint32_t bit(unsigned value) { return 1u << value; }

unsigned last_day_of(chr::year y, chr::month m) {
  return static_cast<unsigned>((y / m / chr::last).day());
}

// Whether month `m` of year `y` holds a day that `cron`'s day rule matches (the month field
// aside).
bool month_can_match(const CronSpec& cron, chr::year y, chr::month m) {
  switch (cron.day_rule) {
    case CronSpec::DayRule::kDaysOfMonth:
      return (cron.days_of_month & (~0u >> (31 - last_day_of(y, m)))) != 0;  // days 1 to the last
    case CronSpec::DayRule::kNthWeekday: {
      const auto first = chr::weekday{chr::sys_days{y / m / 1}}.c_encoding() + 1;
      const auto first_match = 1 + (cron.weekday + 7 - first) % 7;
      return first_match + 7u * (cron.nth - 1u) <= last_day_of(y, m);
    }
    case CronSpec::DayRule::kLastDayOfMonth:
    case CronSpec::DayRule::kWeekdays:
    case CronSpec::DayRule::kLastWeekday:
      return true;  // every month has a last day and at least four of each weekday
  }
  return false;
}

bool day_matches(const CronSpec& cron, chr::sys_days day) {
  const chr::year_month_day ymd{day};
  const auto d = static_cast<unsigned>(ymd.day());
  const auto weekday = chr::weekday{day}.c_encoding() + 1;  // 1 = Sunday, as cron counts
  const unsigned wanted = cron.weekday;
  switch (cron.day_rule) {
    case CronSpec::DayRule::kDaysOfMonth:
      return (cron.days_of_month & bit(d)) != 0;
    case CronSpec::DayRule::kLastDayOfMonth:
      return d == last_day_of(ymd.year(), ymd.month());
    case CronSpec::DayRule::kWeekdays:
      return (cron.weekdays & bit(weekday)) != 0;
    case CronSpec::DayRule::kLastWeekday:
      return weekday == wanted && d + 7 > last_day_of(ymd.year(), ymd.month());
    case CronSpec::DayRule::kNthWeekday:
      return weekday == wanted && (d - 1) / 7 + 1 == static_cast<unsigned>(cron.nth);
  }
  return false;
}

// Day-of-month: `?`, `L`, or a list. Sets the day rule unless the field is `?`.
Result<bool> parse_day_of_month(std::string_view text, CronSpec& cron) {
  if (text == "?") return false;
  if (is_l(text)) {
    cron.day_rule = CronSpec::DayRule::kLastDayOfMonth;
    return true;
  }
  if (text.find_first_of("Ll") != std::string_view::npos) {
    return invalid_cron("L in the day-of-month field stands alone (the last day of the month).");
  }
  auto days = parse_list(text, kDayOfMonthField);
  if (!days) return std::move(days).error();
  cron.day_rule = CronSpec::DayRule::kDaysOfMonth;
  cron.days_of_month = *days;
  return true;
}

// Day-of-week: `?`, `x#n`, `xL`, a lone `L` (Saturday, the last day of the week), or a list.
// Sets the day rule unless the field is `?`.
Result<bool> parse_day_of_week(std::string_view text, CronSpec& cron) {
  if (text == "?") return false;
  const bool single = text.find_first_of(",-*/") == std::string_view::npos;
  if (const auto hash = text.find('#'); hash != std::string_view::npos) {
    if (!single) return invalid_cron("# in the day-of-week field takes one weekday, as in TUE#3.");
    auto weekday = parse_value(text.substr(0, hash), kDayOfWeekField);
    if (!weekday) return std::move(weekday).error();
    const auto nth = parse_number(text.substr(hash + 1));
    if (!nth || *nth < 1 || *nth > 5) {
      return invalid_cron(fmt::format("in '{}', the number after # must be 1-5 (the week of the month).", text));
    }
    cron.day_rule = CronSpec::DayRule::kNthWeekday;
    cron.weekday = static_cast<std::uint8_t>(*weekday);
    cron.nth = static_cast<std::uint8_t>(*nth);
    return true;
  }
  if (is_l(text)) {
    cron.day_rule = CronSpec::DayRule::kWeekdays;
    cron.weekdays = bit(7);
    return true;
  }
  if (text.find_first_of("Ll") != std::string_view::npos) {
    if (!single || !is_l(text.substr(text.size() - 1))) {
      return invalid_cron("L in the day-of-week field follows one weekday, as in FRIL or 6L.");
    }
    auto weekday = parse_value(text.substr(0, text.size() - 1), kDayOfWeekField);
    if (!weekday) return std::move(weekday).error();
    cron.day_rule = CronSpec::DayRule::kLastWeekday;
    cron.weekday = static_cast<std::uint8_t>(*weekday);
    return true;
  }
  auto weekdays = parse_list(text, kDayOfWeekField);
  if (!weekdays) return std::move(weekdays).error();
  cron.day_rule = CronSpec::DayRule::kWeekdays;
  cron.weekdays = *weekdays;
  return true;
}

// Names and L are matched without regard to case, as in the Quartz-style crons AWS derives from.
Result<CronSpec> parse_cron(std::string_view body) {
  const auto fields = words(body);
  if (fields.size() != 6) {
    return invalid_cron(fmt::format("expected 6 fields (Minutes Hours Day-of-month Month Day-of-week Year), got {}.",
                                    fields.size()));
  }
  if (fields[0] != "0") {
    return invalid_cron("the minutes field must be 0, because rotation windows start on the hour.");
  }
  if (fields[5] != "*") {
    return invalid_cron("the year field must be *, because rotation schedules can't be more than a year apart.");
  }
  for (auto [index, field] : {std::pair{1, &kHoursField}, std::pair{2, &kDayOfMonthField},
                              std::pair{3, &kMonthField}, std::pair{4, &kDayOfWeekField}}) {
    if (fields[index].find('?') == std::string_view::npos) continue;
    if (!field->takes_question_mark) return invalid_cron(fmt::format("the {} field doesn't take ?.", field->name));
    if (fields[index] != "?") return invalid_cron(fmt::format("? in the {} field stands alone.", field->name));
  }

  CronSpec cron;
  auto hours = parse_list(fields[1], kHoursField);
  if (!hours) return std::move(hours).error();
  cron.hours = *hours;
  auto months = parse_list(fields[3], kMonthField);
  if (!months) return std::move(months).error();
  cron.months = *months;

  auto by_month_day = parse_day_of_month(fields[2], cron);
  if (!by_month_day) return std::move(by_month_day).error();
  auto by_weekday = parse_day_of_week(fields[4], cron);
  if (!by_weekday) return std::move(by_weekday).error();
  if (*by_month_day && *by_weekday) {
    return invalid_cron("Day-of-month and Day-of-week can't both be specified; set one of them to ?.");
  }
  if (!*by_month_day && !*by_weekday) {
    return invalid_cron("Day-of-month and Day-of-week can't both be ?; specify one of them.");
  }

  int matching_years = 0;
  for (int y = kCycleFirstYear; y < kCycleFirstYear + kCycleYears; ++y) {
    for (unsigned m = 1; m <= 12; ++m) {
      if ((cron.months & bit(m)) != 0 && month_can_match(cron, chr::year{y}, chr::month{m})) {
        ++matching_years;
        break;
      }
    }
  }
  if (matching_years == 0) return invalid_cron("it matches no date (like Feb 30).");
  if (matching_years < kCycleYears) {
    return invalid_cron("it doesn't match a date in every year, and rotation schedules can't be more than a year "
                        "apart.");
  }
  return cron;
}

// The fewest hours from one firing of `hours` to the next, the next day's first included.
std::int64_t min_gap_hours(std::uint32_t hours) {
  std::int64_t gap = kHoursPerDay;
  const auto first = std::countr_zero(hours);
  int previous = first;
  for (int h = first + 1; h < kHoursPerDay; ++h) {
    if ((hours & bit(static_cast<unsigned>(h))) == 0) continue;
    gap = std::min<std::int64_t>(gap, h - previous);
    previous = h;
  }
  return std::min<std::int64_t>(gap, first + kHoursPerDay - previous);
}

// Spec 5.8: a window in hours must end before the next one opens; one in days, by midnight.
Status check_duration(const Schedule& schedule, std::int64_t duration) {
  if (schedule.hourly()) {
    const auto gap = schedule.kind() == Schedule::Kind::kCron ? min_gap_hours(schedule.cron().hours)
                                                               : schedule.interval();
    if (duration > gap) {
      return invalid(fmt::format("Invalid Duration: the rotation window ({}h) must not be longer than the {} between "
                                 "rotations.",
                                 duration, hours_text(gap)));
    }
    return ok_status();
  }
  const std::int64_t start = schedule.kind() == Schedule::Kind::kCron ? std::countr_zero(schedule.cron().hours) : 0;
  if (start + duration > kHoursPerDay) {
    return invalid(fmt::format("Invalid Duration: a {}h rotation window opening at {:02}:00 UTC would extend into the "
                               "next UTC day; the start hour plus Duration must be at most 24.",
                               duration, start));
  }
  return ok_status();
}

Timestamp next_anchored_start(Timestamp origin, Duration period, Timestamp after) {
  if (after < origin + period) return origin + period;
  return origin + ((after - origin) / period + 1) * period;
}

std::optional<Timestamp> next_cron_start(const CronSpec& cron, Timestamp after) {
  const auto first_day = chr::floor<chr::days>(after);
  const auto hour_of_after = chr::floor<chr::hours>(after - first_day).count();
  // On the first day only hours after `after` count.
  auto hours = cron.hours & ~(bit(static_cast<unsigned>(hour_of_after + 1)) - 1);
  const auto last_day = first_day + chr::days{kCronSearchDays};
  for (auto day = first_day; day <= last_day; hours = cron.hours) {
    const chr::year_month_day ymd{day};
    if ((cron.months & bit(static_cast<unsigned>(ymd.month()))) == 0 ||
        !month_can_match(cron, ymd.year(), ymd.month())) {
      day = chr::sys_days{(ymd.year() / ymd.month() + chr::months{1}) / 1};
      continue;
    }
    if (hours != 0 && day_matches(cron, day)) return day + chr::hours{std::countr_zero(hours)};
    day += chr::days{1};
  }
  return std::nullopt;
}

}  // namespace

Result<Schedule> parse_schedule(const RotationRules& rules) {
  if (rules.automatically_after_days && rules.schedule_expression) {
    return invalid("You can't specify both AutomaticallyAfterDays and ScheduleExpression.");
  }
  if (!rules.automatically_after_days && !rules.schedule_expression) {
    return invalid("RotationRules must set AutomaticallyAfterDays or ScheduleExpression.");
  }
  std::optional<std::int64_t> duration;
  if (rules.duration) {
    auto parsed = parse_duration(*rules.duration);
    if (!parsed) return std::move(parsed).error();
    duration = *parsed;
  }

  Schedule schedule;
  schedule.duration_hours_ = duration;
  if (rules.automatically_after_days) {
    const auto n = *rules.automatically_after_days;
    if (n < 1 || n > kMaxAfterDays) return invalid("AutomaticallyAfterDays must be between 1 and 1000.");
    schedule.kind_ = Schedule::Kind::kAfterDays;
    schedule.interval_ = n;
  } else {
    const std::string_view expression = *rules.schedule_expression;
    const bool closed = expression.ends_with(')');
    if (closed && expression.starts_with("rate(")) {
      auto rate = parse_rate(expression.substr(5, expression.size() - 6));
      if (!rate) return std::move(rate).error();
      schedule.kind_ = rate->kind;
      schedule.interval_ = rate->value;
      schedule.hourly_ = rate->kind == Schedule::Kind::kRateHours;
    } else if (closed && expression.starts_with("cron(")) {
      auto cron = parse_cron(expression.substr(5, expression.size() - 6));
      if (!cron) return std::move(cron).error();
      schedule.kind_ = Schedule::Kind::kCron;
      schedule.cron_ = *cron;
      schedule.hourly_ = std::popcount(cron->hours) > 1;
    } else {
      return invalid("Invalid ScheduleExpression: use rate(Value Unit), for example rate(10 days), or "
                     "cron(Minutes Hours Day-of-month Month Day-of-week Year).");
    }
  }
  if (duration) {
    if (auto fits = check_duration(schedule, *duration); !fits) return std::move(fits).error();
  }
  return schedule;
}

std::optional<Window> next_window(const Schedule& schedule, Timestamp anchor, Timestamp after) {
  Timestamp start;
  switch (schedule.kind()) {
    case Schedule::Kind::kAfterDays:
    case Schedule::Kind::kRateDays:
      start = next_anchored_start(day_floor(anchor), days(schedule.interval()), after);
      break;
    case Schedule::Kind::kRateHours:
      start = next_anchored_start(chr::floor<chr::hours>(anchor), chr::hours{schedule.interval()}, after);
      break;
    case Schedule::Kind::kCron: {
      const auto found = next_cron_start(schedule.cron(), after);
      if (!found) return std::nullopt;
      start = *found;
      break;
    }
  }
  Duration length;
  if (const auto hours = schedule.duration_hours()) {
    length = chr::hours{*hours};
  } else if (schedule.hourly()) {
    length = chr::hours{1};
  } else {
    length = day_floor(start) + days(1) - start;  // to the end of the UTC day
  }
  return Window{start, start + length};
}

Timestamp pick_in_window(const Window& window, std::uint64_t random_bits) {
  const auto hours = chr::floor<chr::hours>(window.end - window.start).count();
  assert(hours >= 1);
  return window.start + chr::hours{static_cast<std::int64_t>(random_bits % static_cast<std::uint64_t>(hours))};
}

}  // namespace smemu::model
