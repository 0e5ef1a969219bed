// Random scenarios for smemu explore, the property tests and smemu-bench: operation sequences
// over a few secrets, rotations with their steps, clock jumps, and faults chosen per site.
//
// FaultPlan: a rate per named site, drawn from the seed once per scenario (each site is switched
// on with probability 1/4, then fires at its rate), as FoundationDB's BUGGIFY does. Sites:
//   function.fail, function.timeout        a step fails or times out
//   function.crash                         the function stops after one of its own calls
//   function.duplicate, function.reinvoke  a step invoked twice / again after it succeeded
//   manual.write, manual.label_move        a PutSecretValue / UpdateSecretVersionStage during a step
//   manual.cancel, manual.delete, manual.restore   CancelRotateSecret / DeleteSecret /
//                                          RestoreSecret during a rotation
//   clock.jump                             an advance across several schedules
//
// Everything is drawn from SeededRandom streams (no std::*_distribution), one per purpose, so the
// same seed gives the same scenario on every platform.
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "smemu/scenarios/runner.h"
#include "smemu/scenarios/scenario.h"

namespace smemu::scenarios {

struct GeneratorOptions {
  std::size_t steps = 50;
  std::size_t secrets = 3;
  bool faults = true;
};

struct FaultPlan {
  std::map<std::string, double> rates;  // site -> probability per opportunity; absent: off
};
FaultPlan draw_fault_plan(std::uint64_t seed);

// A scenario of options.steps steps from `seed`, with pinned tokens, expectations only where
// the outcome is certain (the invariants do the rest).
Scenario random_scenario(std::uint64_t seed, const GeneratorOptions& options = {});

// Removes steps (then simplifies requests) while `still_fails` holds, and returns the smallest
// scenario found: delta debugging over the step list.
Scenario shrink(Scenario failing, const std::function<bool(const Scenario&)>& still_fails);

}  // namespace smemu::scenarios
