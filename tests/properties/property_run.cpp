#include "property_run.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>

namespace smemu::properties {
namespace {

// Before main: rapidcheck has not read its configuration yet (it does at the first check).
[[maybe_unused]] const bool kDefaultParamsSet = [] {
  ::setenv("RC_PARAMS", kDefaultRcParams, /*overwrite=*/0);
  return true;
}();

std::string failures_directory() {
  if (const char* dir = std::getenv("SMEMU_PROPERTY_FAILURES"); dir != nullptr && *dir != '\0') return dir;
  return SMEMU_PROPERTY_FAILURES_DIR;
}

struct FailingRun {
  std::vector<scenarios::Step> steps;
  std::string message;
};

FailingRun capture(const Sut& sut, std::string message) {
  return FailingRun{sut.steps(), sut.failure().value_or(std::move(message))};
}

std::string file_name(const std::string& name, std::uint64_t seed) { return name + "-seed-" + std::to_string(seed); }

std::string write_scenario(const std::string& name, std::uint64_t seed, const scenarios::Setup& setup,
                           FailingRun run) {
  scenarios::Scenario scenario;
  scenario.name = file_name(name, seed);
  scenario.description = "Written by the property test '" + name + "' (rapidcheck seed=" + std::to_string(seed) +
                         "): the smallest failing run rapidcheck shrank the failure to. It ends at the step that "
                         "failed; `smemu replay` this file to see it.";
  scenario.setup = setup;
  scenario.steps = std::move(run.steps);
  if (!scenario.steps.empty()) {
    auto& last = scenario.steps.back();
    if (last.note.empty()) last.note = run.message;
    auto& first = scenario.steps.front();
    const std::string broke = "what broke: " + run.message;
    first.note = first.note.empty() || scenario.steps.size() == 1 ? broke : broke + "; " + first.note;
  }
  const std::filesystem::path dir = failures_directory();
  std::filesystem::create_directories(dir);
  const auto path = (dir / (scenario.name + ".json")).string();
  if (const auto saved = scenarios::save_scenario(scenario, path); !saved) {
    std::cerr << "could not write " << path << ": " << saved.error().message << "\n";
  }
  return path;
}

}  // namespace

rc::detail::TestParams configured_params(int divisor) {
  auto params = rc::detail::configuration().testParams;
  params.maxSuccess = std::max(1, params.maxSuccess / divisor);
  return params;
}

PropertyResult check_property(const std::string& name, const scenarios::Setup& setup,
                              const rc::detail::TestParams& params, const std::function<void(Sut&)>& body) {
  std::cout << "seed=" << params.seed << " (rapidcheck; property " << name << ", max_success=" << params.maxSuccess
            << ", max_size=" << params.maxSize << "; RC_PARAMS=\"seed=" << params.seed << "\" runs it again)"
            << std::endl;
  std::optional<FailingRun> last_failure;
  std::map<std::string, int> coverage;  // path -> runs that reached it
  int runs = 0;
  const auto property = [&] {
    Sut sut(setup);
    if (const auto& failure = sut.setup_failure()) RC_FAIL("setup: " + failure->message);
    const auto count = [&] {
      ++runs;
      for (const auto& path : sut.coverage()) ++coverage[path];
    };
    try {
      body(sut);
    } catch (const rc::detail::CaseResult& result) {
      count();
      if (result.type == rc::detail::CaseResult::Type::Failure) last_failure = capture(sut, result.description);
      throw;
    } catch (const std::exception& error) {
      count();
      last_failure = capture(sut, error.what());
      throw;
    }
    count();
  };
  const rc::detail::TestMetadata metadata{name, name};
  std::cerr << "\n- " << name << std::endl;
  const auto result = rc::detail::checkTestable(property, metadata, params);
  rc::detail::printResultMessage(result, std::cerr);
  std::cerr << std::endl;
  // Which paths the runs reached, as `smemu explore` prints its probes: a path no run reached is
  // a hole in the generators, not a pass.
  std::cout << "reached, in how many of " << runs << " runs:";
  for (const auto& [path, reached] : coverage) std::cout << "\n  " << path << ": " << reached;
  std::cout << std::endl;

  PropertyResult out;
  out.seed = params.seed;
  out.held = result.template is<rc::detail::SuccessResult>();
  if (out.held) {
    // The directory shows the last run's failures only: a file from an earlier failure of this
    // property and seed would read as a current one.
    std::error_code ignored;
    std::filesystem::remove(std::filesystem::path(failures_directory()) / (file_name(name, params.seed) + ".json"),
                            ignored);
  } else if (last_failure) {
    out.steps = last_failure->steps.size();
    out.message = last_failure->message;
    out.file = write_scenario(name, params.seed, setup, std::move(*last_failure));
    std::cout << "property " << name << " failed (rapidcheck seed=" << params.seed << "): " << out.message << "\n"
              << "the minimal failing run (" << out.steps << " steps) is written to " << *out.file
              << "; replay it with: smemu replay " << *out.file << std::endl;
  }
  return out;
}

}  // namespace smemu::properties
