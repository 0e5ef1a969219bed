// smemu health: whether a `smemu serve` answers at the endpoint.
#include <iostream>
#include <string>

#include "admin_client.h"

namespace smemu::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: smemu health [--endpoint URL]\n\n"
    "Prints {\"status\": \"ok\"} and exits 0 when a smemu serve answers at the endpoint;\n"
    "exits 1 otherwise.\n\n"
    "flags:\n";

}  // namespace

int health_command(Args args) {
  const std::string usage = std::string(kUsage) + std::string(kEndpointHelp);
  std::vector<std::string_view> positional;
  Flags flags;
  if (const auto done = start_admin_command("health", args, usage, positional, flags)) return *done;
  if (!positional.empty()) return admin_usage_error("health", "unexpected argument '" + std::string(positional[0]) + "'", usage);
  const auto reply = admin_request("health", flags, "GET", "/_smemu/health", {});
  return reply ? report("health", *reply) : kExitFailure;
}

}  // namespace smemu::cli
