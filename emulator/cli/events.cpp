// smemu events: the event log of a running `smemu serve`, from a cursor on.
#include <iostream>
#include <string>

#include "admin_client.h"

namespace smemu::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: smemu events [--after CURSOR] [--limit N] [--endpoint URL]\n\n"
    "Prints the events after CURSOR (writes, failures, rotation steps, label moves) as the\n"
    "server's JSON answer: {\"events\": [...], \"cursor\": N}. Pass the cursor back as --after\n"
    "to read on from there.\n\n"
    "flags:\n"
    "  --after CURSOR   the cursor of an earlier answer (default 0: from the oldest event kept)\n"
    "  --limit N        at most N events, 1 to 100000 (default 1000)\n";

}  // namespace

int events_command(Args args) {
  const std::string usage = std::string(kUsage) + std::string(kEndpointHelp);
  std::vector<std::string_view> positional;
  Flags flags{{"after", "0"}, {"limit", "1000"}};
  if (const auto done = start_admin_command("events", args, usage, positional, flags)) return *done;
  if (!positional.empty()) return admin_usage_error("events", "unexpected argument '" + std::string(positional[0]) + "'", usage);
  const auto after = parse_unsigned(flags["after"], UINT64_MAX);
  if (!after) return admin_usage_error("events", "--after must be a cursor, a whole number", usage);
  const auto limit = parse_unsigned(flags["limit"], 100'000);
  if (!limit || *limit == 0) return admin_usage_error("events", "--limit must be a number from 1 to 100000", usage);
  const auto reply = admin_request("events", flags, "GET",
                                   "/_smemu/events?after=" + std::to_string(*after) + "&limit=" + std::to_string(*limit),
                                   {});
  return reply ? report("events", *reply) : kExitFailure;
}

}  // namespace smemu::cli
