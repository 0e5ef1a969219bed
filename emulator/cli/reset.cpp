// smemu reset: empties the state of a running `smemu serve`.
#include <iostream>
#include <string>

#include "admin_client.h"

namespace smemu::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: smemu reset [--endpoint URL]\n\n"
    "Empties the state of a running smemu serve: every secret of every region with its\n"
    "versions, queued and scheduled rotations, and the simulated databases. Registered\n"
    "functions, the clock and the event log stay. Prints {\"status\": \"ok\"}.\n\n"
    "flags:\n";

}  // namespace

int reset_command(Args args) {
  const std::string usage = std::string(kUsage) + std::string(kEndpointHelp);
  std::vector<std::string_view> positional;
  Flags flags;
  if (const auto done = start_admin_command("reset", args, usage, positional, flags)) return *done;
  if (!positional.empty()) return admin_usage_error("reset", "unexpected argument '" + std::string(positional[0]) + "'", usage);
  const auto reply = admin_request("reset", flags, "POST", "/_smemu/reset", "{}");
  return reply ? report("reset", *reply) : kExitFailure;
}

}  // namespace smemu::cli
