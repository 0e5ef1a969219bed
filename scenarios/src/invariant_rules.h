// The ten invariants of invariants.h as pure functions over plain data: what a secret looked like
// at the previous check (`before`), what it looks like now (`after`) and what the step did to it
// (its events). InvariantChecker takes the states with Service::inspect and the events from the
// event log; tests feed hand-made ones to show that every rule fires, and stays quiet on the
// legitimate transitions next to it (tests/scenarios/invariants_test.cpp).
//
// Soundness first: a rule concludes only from what the service's documented behaviour fixes, and
// says nothing where the step leaves room (D2's dropped test version, D8's purge, a deleted
// secret, a rotation function's own calls, a change the engine makes without an event).
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smemu/emulator/event_log.h"
#include "smemu/model/secret.h"
#include "smemu/model/time.h"
#include "smemu/scenarios/invariants.h"

namespace smemu::scenarios::rules {

// One version as the rules see it: the value only as a hash (a secret with 100 versions of 64 KiB
// each must not be copied at every step).
struct VersionState {
  std::string id;
  model::ValueKind kind = model::ValueKind::kNone;
  std::uint64_t value_hash = 0;  // value_hash(); 0 while the version has no value
  Timestamp created{};
  std::vector<std::string> labels;  // sorted
};

// The engine's record of a rotation in flight (model::RotationRun), as far as invariant 9 needs it.
struct RunState {
  std::string token;
  bool finishing = false;  // its finishSecret step is running
};

// One secret at one check.
struct SecretState {
  std::string arn;
  std::vector<VersionState> versions;  // creation order, deprecated versions included
  std::optional<RunState> run;
  bool replica = false;  // written by its primary's region: changes arrive without an event here
  // Some version held AWSCURRENT at this check or an earlier one (invariant 2).
  bool had_current = false;
  // A scheduled rotation starts without an event of its own (the placeholder and the run appear;
  // RotationStarted follows only when its first step runs). The state stays exact across a step
  // only if that cannot happen: no NextRotationDate at or before the step's end, or its queue
  // entry was already spent when this state was taken.
  std::optional<Timestamp> next_rotation;
  bool schedule_spent = false;
};

// What one step did to one secret: its events in log order (API calls naming it, a rotation
// function's own included; service events; Secret Label Updated), and whether the `before` state
// is exactly the state the step started from (see SecretState::next_rotation).
struct StepFacts {
  std::vector<Event> events;
  bool before_exact = true;
};

// One entry of ListSecretVersionIds without IncludeDeprecated.
struct ListedVersion {
  std::string id;
  std::vector<std::string> labels;  // VersionStages; empty when the entry has none
};

// A hash of the kind and the bytes (stable within a process); 0 for no value.
std::uint64_t value_hash(const model::SecretValue& value);
// The state of `secret` (its ARN given), with had_current from this state alone and
// schedule_spent false: the checker completes both.
SecretState snapshot(const model::Secret& secret, std::string arn);

const VersionState* find_version(const SecretState& state, std::string_view id);
const VersionState* holder(const SecretState& state, std::string_view label);

// 1. At most one version holds each label.
std::optional<Violation> labels_unique(const SecretState& after);
// 2. Once a secret has had an AWSCURRENT version (`had_current` before this step, or now), it
//    has exactly one.
std::optional<Violation> one_current(bool had_current, const SecretState& after);
// 3. A version's value never changes once set (filling a rotation placeholder sets it).
std::optional<Violation> values_immutable(const SecretState& before, const SecretState& after);
// 4. When a call moves AWSCURRENT off a version (UpdateSecretVersionStage, or a value write),
//    AWSPREVIOUS lands on that version. Checked for the last such move of the step, unless a
//    later call of the step moved AWSPREVIOUS itself or D2 dropped the version. `before` may be
//    null (unknown) when the step moved AWSCURRENT twice.
std::optional<Violation> previous_follows_current(const SecretState* before, const SecretState& after,
                                                  const StepFacts& step);
// 5. (a) A step whose calls on the secret all failed (or only read) changes none of its versions,
//    values and labels; (b) AWSCURRENT is where the last call that moved it put it: neither a
//    failed call nor a failed rotation attempt nor the service itself moves it.
std::optional<Violation> current_stays_on_failure(const SecretState* before, const SecretState& after,
                                                  const StepFacts& step);
// 6. The default listing shows exactly the versions that hold labels, with their labels.
std::optional<Violation> default_listing(const SecretState& after, const std::vector<ListedVersion>& listing);
// 7. VersionIds are unique, and a version is never re-created under its id with another value
//    (unless D8 purged it or D2 dropped it in between, which frees the id). `before` may be null.
std::optional<Violation> version_ids(const SecretState* before, const SecretState& after, const StepFacts& step);
// 8. RotateSecret with a new token is refused ("A previous rotation isn't complete") exactly when
//    AWSPENDING sits on a version other than AWSCURRENT's (spec 5.2 check 7). Only for a
//    RotateSecret that is the step's one call that can change the secret, so that `before` is the
//    state it met.
std::optional<Violation> rotate_refusal(const SecretState& before, const StepFacts& step);
// 9. A rotation in flight names a version that holds AWSPENDING, or AWSCURRENT while its
//    finishSecret runs.
std::optional<Violation> run_names_pending(const SecretState& after);
// 10. No acknowledged write is lost: every version of `before` and every version a successful
//     PutSecretValue of the step wrote is still there, unless D8 purged it (EndSecretVersionDelete)
//     or D2 dropped it. (A secret that is gone was deleted: the checker does not call this then.)
std::optional<Violation> no_write_lost(const SecretState* before, const SecretState& after, const StepFacts& step);

// Whether two states have the same versions in the same order with the same labels: then the
// default listing (a function of those) is the one checked before.
bool same_versions_and_labels(const SecretState& a, const SecretState& b);

// All ten in order; the first violation. `before` is null when the secret's earlier state is
// unknown; an empty state (no versions) when the step created it. `listing` is null when it was
// not read (see same_versions_and_labels): invariant 6 is then not checked again.
std::optional<Violation> check_step(const SecretState* before, const SecretState& after, const StepFacts& step,
                                    const std::vector<ListedVersion>* listing);

}  // namespace smemu::scenarios::rules
