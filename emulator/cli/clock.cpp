// smemu clock: reads or moves the clock of a running `smemu serve` (POST /_smemu/clock answers
// once every rotation that came due has run).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "admin_client.h"
#include "smemu/model/time.h"

namespace smemu::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: smemu clock [--endpoint URL]\n"
    "       smemu clock advance DURATION [--endpoint URL]\n"
    "       smemu clock set TIME [--endpoint URL]\n\n"
    "Prints the clock of a running smemu serve, as {\"now\": EPOCH_SECONDS}; 'advance' and 'set'\n"
    "move it forward first, and answer once every rotation that came due on the way has run\n"
    "(scheduled rotations, re-attempts), in due order. The clock never moves backwards.\n\n"
    "  DURATION  whole numbers with a unit s, m, h or d, one or more: 30d, 1d12h, 90m, 45s;\n"
    "            a bare number is seconds\n"
    "  TIME      seconds since 1970-01-01T00:00:00Z (1767225600, 1767225600.5), or\n"
    "            YYYY-MM-DDTHH:MM:SSZ\n\n"
    "flags:\n";

// "30d", "1d12h", "90": seconds; nullopt when malformed or past the clock's range.
std::optional<std::uint64_t> parse_duration(std::string_view text) {
  constexpr std::uint64_t kMax = 253'402'300'799;  // what the server accepts at most
  if (text.empty()) return std::nullopt;
  const bool bare = text.find_first_not_of("0123456789") == std::string_view::npos;
  std::uint64_t total = 0;
  while (!text.empty()) {
    std::uint64_t number = 0;
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
      number = number * 10 + static_cast<std::uint64_t>(text[digits] - '0');
      if (number > kMax) return std::nullopt;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    text.remove_prefix(digits);
    std::uint64_t unit = 1;
    if (!bare) {
      if (text.empty()) return std::nullopt;  // "1d30": every group has its unit
      switch (text.front()) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: return std::nullopt;
      }
      text.remove_prefix(1);
    }
    if (number > (kMax - total) / unit) return std::nullopt;
    total += number * unit;
  }
  return total;
}

// TIME as a JSON number of seconds since the epoch; nullopt when malformed.
std::optional<nlohmann::json> parse_time(std::string_view text) {
  if (text.find('T') != std::string_view::npos) {
    int year = 0;
    unsigned month = 0;
    unsigned day = 0;
    unsigned hour = 0;
    unsigned minute = 0;
    unsigned second = 0;
    char zone = 0;
    int consumed = 0;
    const std::string copy(text);
    if (std::sscanf(copy.c_str(), "%4d-%2u-%2uT%2u:%2u:%2u%c%n", &year, &month, &day, &hour, &minute, &second, &zone,
                    &consumed) != 7 ||
        zone != 'Z' || static_cast<std::size_t>(consumed) != copy.size() || hour > 23 || minute > 59 || second > 59) {
      return std::nullopt;
    }
    const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}};
    if (!date.ok()) return std::nullopt;
    const auto seconds = std::chrono::sys_days{date}.time_since_epoch() + std::chrono::hours{hour} +
                         std::chrono::minutes{minute} + std::chrono::seconds{second};
    return nlohmann::json(std::chrono::duration_cast<std::chrono::seconds>(seconds).count());
  }
  // Digits, and at most three more after a point (the clock counts milliseconds).
  const auto point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  const std::string_view fraction = point == std::string_view::npos ? std::string_view{} : text.substr(point + 1);
  const auto all_digits = [](std::string_view part) {
    return std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || whole.size() > 12 || !all_digits(whole) || !all_digits(fraction) || fraction.size() > 3 ||
      (point != std::string_view::npos && fraction.empty())) {
    return std::nullopt;
  }
  if (fraction.empty()) return nlohmann::json(std::stoll(std::string(whole)));
  return nlohmann::json(std::stod(std::string(text)));
}

}  // namespace

int clock_command(Args args) {
  const std::string usage = std::string(kUsage) + std::string(kEndpointHelp);
  std::vector<std::string_view> positional;
  Flags flags;
  if (const auto done = start_admin_command("clock", args, usage, positional, flags)) return *done;
  if (positional.empty()) {
    const auto reply = admin_request("clock", flags, "GET", "/_smemu/clock", {});
    return reply ? report("clock", *reply) : kExitFailure;
  }
  if (positional.size() != 2 || (positional[0] != "advance" && positional[0] != "set")) {
    return admin_usage_error("clock", "expected no arguments, 'advance DURATION' or 'set TIME'", usage);
  }
  nlohmann::json body;
  if (positional[0] == "advance") {
    const auto seconds = parse_duration(positional[1]);
    if (!seconds) return admin_usage_error("clock", "DURATION must look like 30d, 1d12h, 90m, 45s or 3600", usage);
    body["advance_seconds"] = *seconds;
  } else {
    const auto time = parse_time(positional[1]);
    if (!time) {
      return admin_usage_error("clock", "TIME must be seconds since the epoch or YYYY-MM-DDTHH:MM:SSZ", usage);
    }
    body["set"] = *time;
  }
  // No time limit: the answer comes after the rotations that came due, however long they take.
  const auto reply = admin_request("clock", flags, "POST", "/_smemu/clock", body.dump(), std::chrono::milliseconds{0});
  return reply ? report("clock", *reply) : kExitFailure;
}

}  // namespace smemu::cli
