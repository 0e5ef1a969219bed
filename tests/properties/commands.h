// The rapidcheck commands of the property tests (rapidcheck doc/state.md): each command is one
// scenarios::Step — a call, a clock advance, one rotation step, running everything due, arming a
// fault. apply() plays it on the Reference (reference_model.h); run() builds the Step with the
// Reference's answer as its expectation, plays it through the Sut's scenarios::Runner (which also
// checks the invariants after it) and RC_ASSERTs that nothing failed. show() prints the step as a
// scenario file writes it, so a printed counterexample can be pasted into a file's "steps".
//
// Every token is pinned (minted from the Reference's counter, so shrinking keeps them apart), so
// the steps a run recorded replay exactly as a scenario file.
//
// Thread-safety: commands are immutable values (rapidcheck shares them); a Sut is used by one run.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include "reference_model.h"
#include "smemu/scenarios/runner.h"
#include "smemu/scenarios/scenario.h"

namespace smemu::properties {

// The rotation functions every run registers, and one it does not (RotateSecret with it is
// AccessDeniedException, spec 5.2 check 6).
inline constexpr std::string_view kTemplateArn = "arn:aws:lambda:us-east-1:123456789012:function:template";
inline constexpr std::string_view kRemovePendingArn =
    "arn:aws:lambda:us-east-1:123456789012:function:template-remove-pending";
inline constexpr std::string_view kUnregisteredArn = "arn:aws:lambda:us-east-1:123456789012:function:unregistered";

// The setup of every run: those functions, no secrets (CreateSecret is a command), the seed of
// the service's own randomness (passwords, ARN suffixes).
scenarios::Setup property_setup(bool plant_bug);
// The Reference for that setup.
Reference initial_reference();

// The system under test: a Runner of its own, and the steps it ran, expectations included.
class Sut {
 public:
  explicit Sut(const scenarios::Setup& setup);

  const std::optional<scenarios::Failure>& setup_failure() const { return runner_.setup_failure(); }
  // Records `step`, then runs it.
  scenarios::StepOutcome run(scenarios::Step step);
  // Adds `response` to the last step's expected response and a note: a difference the test found
  // itself (a set the Runner would compare as a list), so that replaying the steps fails there too.
  void amend_last(const nlohmann::json& response, const std::string& note);
  const std::vector<scenarios::Step>& steps() const { return steps_; }
  // What broke, as the command that failed worded it (before its RC_FAIL).
  void record_failure(std::string message) { failure_ = std::move(message); }
  const std::optional<std::string>& failure() const { return failure_; }
  // The paths the run reached (for the property's coverage report): "<operation> -> <answer>",
  // "rotation step -> <outcome>", and the Runner's probes that fired (runner.h).
  void reached(std::string path) { reached_.insert(std::move(path)); }
  std::set<std::string> coverage() const;

 private:
  scenarios::Runner runner_;
  std::vector<scenarios::Step> steps_;
  std::optional<std::string> failure_;
  std::set<std::string> reached_;
};

using Command = rc::state::Command<Reference, Sut>;
using CommandPtr = std::shared_ptr<const Command>;

// The commands of the main property: every operation of the reference, rotations step by step
// and to the end, faults and clock advances, across three secret names.
rc::Gen<CommandPtr> any_command(const Reference& model);

// The D8 property: a secret written `count` more times at once (a CreateSecret and `count`
// default PutSecretValue commands, `model` advanced past them), then writes, label moves, reads,
// listings and advances of 5, 13 or 25 hours (no two moments are exactly a day apart).
std::vector<CommandPtr> quota_prefix(Reference& model, int count);
rc::Gen<CommandPtr> quota_command(const Reference& model);

}  // namespace smemu::properties
