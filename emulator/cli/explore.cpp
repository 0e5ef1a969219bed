// smemu explore: random scenarios (scenarios/generator.h) with the invariants checked after every
// step, within a wall-time budget or for a fixed count; how often each rare path was reached; and
// the first failure, shrunk and written as a scenario file that `smemu replay` reproduces.
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "commands.h"
#include "smemu/emulator/random.h"
#include "smemu/scenarios/generator.h"
#include "smemu/scenarios/runner.h"

namespace smemu::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: smemu explore [--seconds N] [--seed S] [--steps K] [--count N] [--out DIR]\n\n"
    "Runs random scenarios with the invariants checked after every step: scenario i (from 0) has\n"
    "seed S+i. Stops when N seconds of wall time have passed (default 10) or, with --count, after\n"
    "exactly N scenarios (no time budget: the output is then the same on every run).\n\n"
    "  --seed S     the first scenario's seed (default: drawn from the time, and printed)\n"
    "  --steps K    steps per scenario (default 50, and 200 for one scenario in 8, so that the\n"
    "               version quota of D8 can be reached)\n"
    "  --out DIR    where a failure is written (default: the current directory)\n\n"
    "Prints seed=S first; then scenarios=<count> steps=<count>, a line 'probe <name>=<count>' per\n"
    "rare path and digest=<hex> (the scenarios' trace digests combined). On a failure it shrinks\n"
    "the scenario, writes it as DIR/failure-seed-<seed>.json, prints\n"
    "'failure: <path>: step N (<step>): <message>' and exits 1.\n";

// The probes of runner.h, printed in this order, zeros included.
constexpr std::string_view kProbes[] = {"retry",          "abandonment",        "cancel_mid_rotation",
                                        "quota_purge",    "concurrent_callers", "crash_in_finish",
                                        "duplicate_invocation", "reinvoke"};
constexpr std::size_t kDefaultSteps = 50;
constexpr std::size_t kLongSteps = 200;
constexpr std::uint64_t kLongOdds = 8;

int usage_error(const std::string& problem) {
  std::cerr << "smemu explore: " << problem << "\n\n" << kUsage;
  return kExitUsage;
}

// The steps of the scenario with seed `seed`: --steps when given, else mostly kDefaultSteps.
std::size_t steps_for(std::uint64_t seed, std::optional<std::uint64_t> steps) {
  if (steps) return static_cast<std::size_t>(*steps);
  return SeededRandom(seed).split("explore/length").one_in(kLongOdds) ? kLongSteps : kDefaultSteps;
}

// What a shrunk candidate must still show, so that shrinking does not trade the failure for
// another: the same invariant broken, or the same kind of unmet expectation (the message up to
// its first ": ", before step numbers, ARNs and versions) of the same step.
std::string signature(const scenarios::Failure& failure) {
  if (failure.message.starts_with("invariant ")) return failure.message.substr(0, failure.message.find(' ', 10));
  return failure.step_description + "\n" + failure.message.substr(0, failure.message.find(": "));
}

std::string hex(std::uint64_t value) {
  std::ostringstream out;
  out << std::hex << std::setw(16) << std::setfill('0') << value;
  return out.str();
}

// Shrinks the failing scenario, writes it, and prints the failure line; returns kExitFailure.
int report_failure(scenarios::Scenario scenario, const scenarios::Failure& failure, std::uint64_t first_seed,
                   const std::string& out_dir) {
  const auto seed = scenario.setup.seed;
  const auto wanted = signature(failure);
  const auto original_steps = scenario.steps.size();
  auto shrunk = scenarios::shrink(std::move(scenario), [&](const scenarios::Scenario& candidate) {
    const auto run = scenarios::run_scenario(candidate);
    return run.failure && signature(*run.failure) == wanted;
  });
  const auto rerun = scenarios::run_scenario(shrunk);
  const auto& shown = rerun.failure ? *rerun.failure : failure;
  shrunk.name = "failure-seed-" + std::to_string(seed);
  shrunk.description = "Found by smemu explore --seed " + std::to_string(first_seed) + " (scenario seed " +
                       std::to_string(seed) + "), shrunk from " + std::to_string(original_steps) + " to " +
                       std::to_string(shrunk.steps.size()) + " steps: " + shown.message;
  const auto path = (std::filesystem::path(out_dir) / ("failure-seed-" + std::to_string(seed) + ".json")).string();
  if (const auto saved = scenarios::save_scenario(shrunk, path); !saved) {
    std::cout << "failure: (not written: " << saved.error().message << "): step " << shown.step << " ("
              << shown.step_description << "): " << shown.message << "\n";
    return kExitFailure;
  }
  std::cout << "failure: " << path << ": step " << shown.step << " (" << shown.step_description
            << "): " << shown.message << "\n";
  return kExitFailure;
}

}  // namespace

int explore_command(Args args) {
  if (wants_help(args)) {
    std::cout << kUsage;
    return kExitOk;
  }
  Flags flags{{"seconds", "10"}, {"seed", ""}, {"steps", ""}, {"count", ""}, {"out", "."}};
  if (const auto problem = parse_flags(args, flags)) return usage_error(*problem);
  const auto seconds = parse_unsigned(flags["seconds"], 86'400 * 365);
  if (!seconds) return usage_error("--seconds must be a whole number of seconds");
  std::uint64_t seed = 0;
  if (flags["seed"].empty()) {
    // Only the first seed comes from the time; everything after it follows from the seed.
    const auto now = std::chrono::system_clock::now().time_since_epoch().count();
    seed = SeededRandom(static_cast<std::uint64_t>(now)).next() % 1'000'000'000;
  } else if (const auto given = parse_unsigned(flags["seed"], UINT64_MAX)) {
    seed = *given;
  } else {
    return usage_error("--seed must be an unsigned 64-bit number");
  }
  std::optional<std::uint64_t> steps;
  if (!flags["steps"].empty()) {
    steps = parse_unsigned(flags["steps"], 100'000);
    if (!steps) return usage_error("--steps must be a number from 0 to 100000");
  }
  std::optional<std::uint64_t> count;
  if (!flags["count"].empty()) {
    count = parse_unsigned(flags["count"], UINT64_MAX);
    if (!count) return usage_error("--count must be an unsigned number");
  }
  if (!std::filesystem::is_directory(flags["out"])) return usage_error("--out " + flags["out"] + " is not a directory");

  std::cout << "seed=" << seed << std::endl;
  const auto start = std::chrono::steady_clock::now();
  const auto budget = std::chrono::seconds(*seconds);
  const auto more = [&](std::uint64_t ran) {
    if (count) return ran < *count;
    return std::chrono::steady_clock::now() - start < budget;
  };

  std::uint64_t scenarios_run = 0;
  std::uint64_t steps_run = 0;
  std::uint64_t digest = 0xCBF29CE484222325ULL;  // FNV-1a over the scenarios' digests
  scenarios::Probes probes;
  for (const auto name : kProbes) probes[std::string(name)] = 0;
  std::optional<std::pair<scenarios::Scenario, scenarios::Failure>> failed;
  while (!failed && more(scenarios_run)) {
    const auto scenario_seed = seed + scenarios_run;
    scenarios::GeneratorOptions options;
    options.steps = steps_for(scenario_seed, steps);
    auto scenario = scenarios::random_scenario(scenario_seed, options);
    const auto run = scenarios::run_scenario(scenario);
    ++scenarios_run;
    steps_run += run.steps_run;
    for (const auto& [name, hits] : run.probes) probes[name] += hits;
    for (int shift = 0; shift < 64; shift += 8) {
      digest ^= (run.digest >> shift) & 0xFF;
      digest *= 0x100000001B3ULL;
    }
    if (run.failure) failed.emplace(std::move(scenario), *run.failure);
  }

  std::cout << "scenarios=" << scenarios_run << " steps=" << steps_run << "\n";
  for (const auto name : kProbes) std::cout << "probe " << name << "=" << probes[std::string(name)] << "\n";
  std::cout << "digest=" << hex(digest) << std::endl;
  if (failed) return report_failure(std::move(failed->first), failed->second, seed, flags["out"]);
  return kExitOk;
}

}  // namespace smemu::cli
