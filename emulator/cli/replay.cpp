// smemu replay: runs a scenario file (docs/scenarios.md) step by step, printing the versions x
// labels table of the secrets each step touched, and stops at the first unmet expectation.
#include <cstdio>
#include <iostream>
#include <optional>
#include <vector>

#include "commands.h"
#include "smemu/scenarios/runner.h"
#include "smemu/scenarios/scenario.h"
#include "smemu/scenarios/timeline.h"

namespace smemu::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: smemu replay FILE [--quiet] [--show-secrets] [--html OUT]\n\n"
    "Runs the scenario FILE (docs/scenarios.md) against a fresh emulator. Prints seed=<seed>, then per\n"
    "step the versions x labels table of each secret it touched and what happened, then the trace's\n"
    "digest=<hex> and ok: <N> steps. At the first unmet expectation or broken invariant it prints the\n"
    "step and the difference to stderr and exits 1.\n\n"
    "  --quiet         print only the seed, digest and result lines\n"
    "  --show-secrets  show secret values in the tables and the page (masked as **** otherwise)\n"
    "  --html OUT      also write the run as one self-contained HTML page to OUT (mode 0600): a lane\n"
    "                  per version, a column per step, the labels in the lane of the version holding\n"
    "                  them, failed steps marked, the events listed; written whether the run passes\n"
    "                  or fails\n";

int usage_error(std::string_view problem) {
  std::cerr << "smemu replay: " << problem << "\n\n" << kUsage;
  return kExitUsage;
}

std::string hex(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// Records each step of the run into a timeline for --html.
class TimelineObserver final : public scenarios::RunObserver {
 public:
  TimelineObserver(const scenarios::Scenario& scenario, bool show_secrets)
      : scenario_(scenario), show_secrets_(show_secrets) {}

  void started(scenarios::Runner& runner, const std::optional<scenarios::Failure>& setup_failure) override {
    recorder_.emplace(runner, scenario_.name.empty() ? "scenario" : scenario_.name, scenario_.description,
                      show_secrets_);
    recorder_->record_setup(setup_failure);
  }
  void stepped(const scenarios::Step& step, std::size_t index, const scenarios::StepOutcome& outcome) override {
    recorder_->record(step, index, outcome);
  }
  void finished(const std::optional<scenarios::Failure>& unmet) override {
    timeline_ = recorder_->timeline();
    // A call that waited for a point that never came: its own step is the unmet one.
    if (!unmet) return;
    for (auto& step : timeline_.steps) {
      if (step.index == unmet->step) step.unmet = unmet->message;
    }
  }
  const scenarios::Timeline& timeline() const { return timeline_; }

 private:
  const scenarios::Scenario& scenario_;
  bool show_secrets_;
  std::optional<scenarios::TimelineRecorder> recorder_;
  scenarios::Timeline timeline_;
};

}  // namespace

int replay_command(Args args) {
  if (wants_help(args)) {
    std::cout << kUsage;
    return kExitOk;
  }
  // The two switches take no value and FILE is positional; --html and its value, and what
  // remains, go to parse_flags, which names anything else as unknown.
  bool quiet = false;
  bool show_secrets = false;
  std::optional<std::string> file;
  std::vector<std::string_view> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--quiet") {
      quiet = true;
    } else if (arg == "--show-secrets") {
      show_secrets = true;
    } else if (arg == "--html" && i + 1 < args.size()) {
      rest.push_back(arg);
      rest.push_back(args[++i]);  // OUT, not FILE
    } else if (!arg.starts_with("--") && !file) {
      file = std::string(arg);
    } else {
      rest.push_back(arg);
    }
  }
  Flags flags{{"html", ""}};
  if (const auto problem = parse_flags(rest, flags)) return usage_error(*problem);
  if (!file) return usage_error("missing the scenario FILE");
  const std::string& html = flags.at("html");

  auto scenario = scenarios::load_scenario(*file);
  if (!scenario) {
    std::cerr << "smemu replay: " << scenario.error().message << "\n";
    return kExitUsage;
  }
  std::cout << "seed=" << scenario->setup.seed << "\n";
  scenarios::RunOptions options;
  options.out = quiet ? nullptr : &std::cout;
  options.show_values = show_secrets;
  std::optional<TimelineObserver> timeline;
  if (!html.empty()) timeline.emplace(*scenario, show_secrets);
  const auto report = scenarios::run_scenario(*scenario, options, timeline ? &*timeline : nullptr);
  std::cout << "digest=" << hex(report.digest) << "\n";
  std::cout.flush();
  // The page is written whether the run passed or not: it shows where it went wrong.
  if (timeline) {
    if (const auto written = scenarios::write_timeline_html(timeline->timeline(), html); !written) {
      std::cerr << "smemu replay: --html " << written.error().message << "\n";
      return kExitUsage;
    }
  }
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
