// Running a property with rapidcheck (no doctest adapter in Debian's librapidcheck-dev: the test
// calls check_property inside a TEST_CASE and CHECKs `held`), and turning its failure into a
// scenario file.
//
// Budget: rapidcheck reads RC_PARAMS once, at its first use. When RC_PARAMS is unset this file
// sets it, before main, to CI's fixed seed and small budget (kDefaultRcParams); RC_PARAMS given
// by the caller raises the budget or changes the seed (docs/scenarios.md, "Property tests").
//
// Failure -> file: every run records the steps it played (with the Reference's expectations).
// rapidcheck shrinks a failure by running smaller command sequences, keeping each that still
// fails, so the last failing run is the minimal one: its steps, the setup and a first note saying
// what broke are written as a scenario file into $SMEMU_PROPERTY_FAILURES, or
// <build>/property-failures, and `smemu replay FILE` reproduces the failure.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <rapidcheck.h>

#include "commands.h"

namespace smemu::properties {

inline constexpr const char* kDefaultRcParams = "seed=20260101 max_success=200";

struct PropertyResult {
  bool held = false;
  std::uint64_t seed = 0;
  std::optional<std::string> file;  // the scenario file written for a failure
  std::size_t steps = 0;            // its number of steps
  std::string message;              // what broke
};

// rapidcheck's parameters as configured (RC_PARAMS), with max_success divided by `divisor` (at
// least one case) for a property whose every case is long.
rc::detail::TestParams configured_params(int divisor = 1);

// Runs `body` as the rapidcheck property `name`; each run of it gets a fresh Sut from `setup`.
// Prints the seed first, rapidcheck's report after, and on failure the file's path.
PropertyResult check_property(const std::string& name, const scenarios::Setup& setup,
                              const rc::detail::TestParams& params, const std::function<void(Sut&)>& body);

}  // namespace smemu::properties
