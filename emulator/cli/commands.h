// The subcommands of `smemu`, one file each, and the flag parsing they share. A subcommand
// takes the arguments after its name and returns the exit code: kExitOk, kExitFailure, or
// kExitUsage after printing what was wrong with the command line to stderr.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace smemu::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

using Args = std::span<const std::string_view>;

int serve_command(Args args);
int explore_command(Args args);
int replay_command(Args args);
// The training commands (issue 6); lesson.h has what they share.
int lab_command(Args args);
int walk_command(Args args);
// The admin API's subcommands (docs/serve.md), one file each; admin_client.h has what they share.
int clock_command(Args args);
int events_command(Args args);
int wait_command(Args args);
int functions_command(Args args);
int reset_command(Args args);
int health_command(Args args);

// Flag name (without "--") to value; holds the defaults before parse_flags.
using Flags = std::map<std::string, std::string, std::less<>>;

// Flag name (without "--") to every value given, in order, for flags that may repeat; holds the
// names (with no values) before parse_flags.
using RepeatedFlags = std::map<std::string, std::vector<std::string>, std::less<>>;

// Reads `--name value` and `--name=value` for names already in `flags`, overwriting their
// values, or in `repeated`, appending to them. Returns what is wrong (an unknown flag, a missing
// or empty value, a positional argument), if anything.
std::optional<std::string> parse_flags(Args args, Flags& flags);
std::optional<std::string> parse_flags(Args args, Flags& flags, RepeatedFlags& repeated);

// A decimal number in [0, max], without sign or spaces; nullopt otherwise.
std::optional<std::uint64_t> parse_unsigned(std::string_view text, std::uint64_t max);

// Whether `args` asks for help (--help or -h).
bool wants_help(Args args);

}  // namespace smemu::cli
