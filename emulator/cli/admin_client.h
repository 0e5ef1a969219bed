// What the admin subcommands (clock, events, wait, functions, reset, health) share: finding the
// server (--endpoint URL, else SMEMU_ENDPOINT, else http://127.0.0.1:4566), reading their
// arguments, sending one admin request (docs/serve.md) and reporting its answer.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "smemu/emulator/http_client.h"

namespace smemu::cli {

inline constexpr std::string_view kDefaultEndpoint = "http://127.0.0.1:4566";
// How long a request that does not wait for rotations may take.
inline constexpr std::chrono::seconds kAdminTimeout{30};

// The endpoint flag's help line, shared by every admin subcommand's usage text.
inline constexpr std::string_view kEndpointHelp =
    "  --endpoint URL   the server, http://HOST:PORT (default: $SMEMU_ENDPOINT, else\n"
    "                   http://127.0.0.1:4566)\n";

// The start every admin subcommand shares: --help prints `usage` (the command's own text plus
// kEndpointHelp) and ends with kExitOk; otherwise `args` are split into `positional` arguments
// and `flags` (`--name value` or `--name=value`, for the names in `flags`, plus "endpoint", which
// it adds), and a bad one ends with admin_usage_error. Returns the exit status when the command
// is done, nullopt to carry on.
std::optional<int> start_admin_command(std::string_view command, Args args, std::string_view usage,
                                       std::vector<std::string_view>& positional, Flags& flags);

// Sends one request to the server the flags name. Returns its answer (any status), or nullopt
// after printing to stderr, as "smemu COMMAND: ...", why none came (a bad URL, no server).
// `timeout` zero: no limit.
std::optional<HttpReply> admin_request(std::string_view command, const Flags& flags, std::string_view method,
                                       std::string_view target, std::string body,
                                       std::chrono::milliseconds timeout = kAdminTimeout);

// The usual end of an admin subcommand: a 2xx answer's JSON body goes to stdout (kExitOk);
// otherwise "smemu COMMAND: TYPE: MESSAGE (HTTP STATUS)" goes to stderr (kExitFailure).
int report(std::string_view command, const HttpReply& reply);

// Prints "smemu COMMAND: PROBLEM", a blank line and `usage` to stderr; returns kExitUsage.
int admin_usage_error(std::string_view command, std::string_view problem, std::string_view usage);

}  // namespace smemu::cli
