// smemu replay: runs a scenario file (docs/scenarios.md) step by step, printing the versions x
// labels table of the secrets each step touched, and stops at the first unmet expectation.
#include <cstdio>
#include <iostream>
#include <vector>

#include "commands.h"
#include "smemu/scenarios/runner.h"
#include "smemu/scenarios/scenario.h"

namespace smemu::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: smemu replay FILE [--quiet] [--show-secrets]\n\n"
    "Runs the scenario FILE (docs/scenarios.md) against a fresh emulator. Prints seed=<seed>, then per\n"
    "step the versions x labels table of each secret it touched and what happened, then the trace's\n"
    "digest=<hex> and ok: <N> steps. At the first unmet expectation or broken invariant it prints the\n"
    "step and the difference to stderr and exits 1.\n\n"
    "  --quiet         print only the seed, digest and result lines\n"
    "  --show-secrets  show secret values in the tables (masked as **** otherwise)\n";

int usage_error(std::string_view problem) {
  std::cerr << "smemu replay: " << problem << "\n\n" << kUsage;
  return kExitUsage;
}

std::string hex(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace

int replay_command(Args args) {
  if (wants_help(args)) {
    std::cout << kUsage;
    return kExitOk;
  }
  // The two switches take no value and FILE is positional; what remains goes to parse_flags,
  // which names anything else as unknown.
  bool quiet = false;
  bool show_secrets = false;
  std::optional<std::string> file;
  std::vector<std::string_view> rest;
  for (const std::string_view arg : args) {
    if (arg == "--quiet") {
      quiet = true;
    } else if (arg == "--show-secrets") {
      show_secrets = true;
    } else if (!arg.starts_with("--") && !file) {
      file = std::string(arg);
    } else {
      rest.push_back(arg);
    }
  }
  Flags none;
  if (const auto problem = parse_flags(rest, none)) return usage_error(*problem);
  if (!file) return usage_error("missing the scenario FILE");

  auto scenario = scenarios::load_scenario(*file);
  if (!scenario) {
    std::cerr << "smemu replay: " << scenario.error().message << "\n";
    return kExitUsage;
  }
  std::cout << "seed=" << scenario->setup.seed << "\n";
  scenarios::RunOptions options;
  options.out = quiet ? nullptr : &std::cout;
  options.show_values = show_secrets;
  const auto report = scenarios::run_scenario(*scenario, options);
  std::cout << "digest=" << hex(report.digest) << "\n";
  std::cout.flush();
  if (report.failure) {
    const auto& failure = *report.failure;
    if (failure.step == 0) {
      std::cerr << "setup: " << failure.message << "\n";
    } else {
      std::cerr << "step " << failure.step << " (" << failure.step_description << "): " << failure.message << "\n";
    }
    return kExitFailure;
  }
  std::cout << "ok: " << report.steps_run << " steps\n";
  return kExitOk;
}

}  // namespace smemu::cli
