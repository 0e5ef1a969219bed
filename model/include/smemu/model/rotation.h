// The rotation state machine of spec section 5, as tables that read as the spec.
//
// A rotation calls its function four times — createSecret, setSecret, testSecret, finishSecret —
// and each call ends ok, error or timeout. The tables below say what follows each outcome, with
// the checks the service makes between steps (D15) as named guards. A failed attempt is retried
// with the same token after the delays of the RetryPolicy (D1); after the last attempt the
// rotation is stuck until a manual fix, a RotateSecret with the same token (D12) or the next
// scheduled rotation. RotateImmediately=false runs only testSecret (D2).
//
// The state of a rotation in flight (RotationRun) lives in the Secret it rotates, so that the
// Secret's own operations keep it true: a run always names a version holding AWSPENDING, or, once
// its function moved AWSCURRENT there during finishSecret, AWSCURRENT (secret.h, invariant 7).
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smemu/model/result.h"
#include "smemu/model/time.h"

namespace smemu::model {

// RotationRules as RotateSecret takes them (spec 3.10, 5.8); schedule.h parses them.
struct RotationRules {
  std::optional<std::int64_t> automatically_after_days;
  std::optional<std::string> duration;
  std::optional<std::string> schedule_expression;
  bool operator==(const RotationRules&) const = default;
};

enum class Step : std::uint8_t { kCreateSecret, kSetSecret, kTestSecret, kFinishSecret };
enum class Outcome : std::uint8_t { kOk, kError, kTimeout };

// The names on the wire (the event's "Step"): createSecret, setSecret, testSecret, finishSecret.
std::string_view step_name(Step step);
std::optional<Step> parse_step(std::string_view name);
std::string_view outcome_name(Outcome outcome);

// The check the service makes after a step succeeded (D15).
enum class Guard : std::uint8_t {
  kNone,
  kTokenHoldsValueAndPending,  // after createSecret: the token version has a value and AWSPENDING
  kTokenIsCurrent,             // after finishSecret: the token version holds AWSCURRENT
};

// What follows.
enum class Then : std::uint8_t {
  kNextStep,       // invoke `next`
  kSucceeded,      // the rotation (or the test of D2) is done
  kAttemptFailed,  // this attempt ends; D1 decides whether another follows
};

struct Transition {
  Step step;
  Outcome outcome;
  Guard guard;  // checked when the outcome is ok; a failed guard fails the attempt
  Then then;
  Step next;    // meaningful for kNextStep only
};

// RotateImmediately=true (spec 5.3): the four steps in order.
inline constexpr std::array kRotationTable{
    //          step                 outcome          guard (D15)                         then              next
    Transition{Step::kCreateSecret, Outcome::kOk,      Guard::kTokenHoldsValueAndPending, Then::kNextStep,      Step::kSetSecret},
    Transition{Step::kSetSecret,    Outcome::kOk,      Guard::kNone,                      Then::kNextStep,      Step::kTestSecret},
    Transition{Step::kTestSecret,   Outcome::kOk,      Guard::kNone,                      Then::kNextStep,      Step::kFinishSecret},
    Transition{Step::kFinishSecret, Outcome::kOk,      Guard::kTokenIsCurrent,            Then::kSucceeded,     Step::kFinishSecret},
    Transition{Step::kCreateSecret, Outcome::kError,   Guard::kNone,                      Then::kAttemptFailed, Step::kCreateSecret},
    Transition{Step::kSetSecret,    Outcome::kError,   Guard::kNone,                      Then::kAttemptFailed, Step::kSetSecret},
    Transition{Step::kTestSecret,   Outcome::kError,   Guard::kNone,                      Then::kAttemptFailed, Step::kTestSecret},
    Transition{Step::kFinishSecret, Outcome::kError,   Guard::kNone,                      Then::kAttemptFailed, Step::kFinishSecret},
    Transition{Step::kCreateSecret, Outcome::kTimeout, Guard::kNone,                      Then::kAttemptFailed, Step::kCreateSecret},
    Transition{Step::kSetSecret,    Outcome::kTimeout, Guard::kNone,                      Then::kAttemptFailed, Step::kSetSecret},
    Transition{Step::kTestSecret,   Outcome::kTimeout, Guard::kNone,                      Then::kAttemptFailed, Step::kTestSecret},
    Transition{Step::kFinishSecret, Outcome::kTimeout, Guard::kNone,                      Then::kAttemptFailed, Step::kFinishSecret},
};

// RotateImmediately=false (D2): only testSecret, against a temporary AWSPENDING copy of AWSCURRENT.
inline constexpr std::array kTestRotationTable{
    Transition{Step::kTestSecret, Outcome::kOk,      Guard::kNone, Then::kSucceeded,     Step::kTestSecret},
    Transition{Step::kTestSecret, Outcome::kError,   Guard::kNone, Then::kAttemptFailed, Step::kTestSecret},
    Transition{Step::kTestSecret, Outcome::kTimeout, Guard::kNone, Then::kAttemptFailed, Step::kTestSecret},
};

// The row for (step, outcome) in the table of a run of that kind. REQUIRES: the row exists.
const Transition& transition(bool test_only, Step step, Outcome outcome);

// D1: a failed attempt is followed by the next after delays[attempt - 1]; after the last, stuck.
struct RetryPolicy {
  std::vector<Duration> delays{std::chrono::hours(1), std::chrono::hours(2)};
  std::uint32_t max_attempts() const { return static_cast<std::uint32_t>(delays.size()) + 1; }
};

// A rotation in flight, kept in its Secret.
struct RotationRun {
  enum class Kind : std::uint8_t { kRotate, kTest };
  enum class Phase : std::uint8_t {
    kReady,    // `step` is due at `due`
    kRunning,  // `step` has been handed to the function and has not answered yet
    kRetry,    // the attempt failed; the next attempt starts at `due`
    kStuck,    // every attempt failed; waits for D1's ways out
  };

  std::string token;
  std::string lambda_arn;
  Kind kind = Kind::kRotate;
  Phase phase = Phase::kReady;
  Step step = Step::kCreateSecret;
  std::uint32_t attempt = 1;
  Timestamp due{};

  bool test_only() const { return kind == Kind::kTest; }
  // The step an attempt starts with.
  Step first_step() const { return test_only() ? Step::kTestSecret : Step::kCreateSecret; }
  bool operator==(const RotationRun&) const = default;
};

// How a phase reads in tables and messages: "due", "running", "waiting to retry", "stuck".
std::string_view phase_name(RotationRun::Phase phase);

// What RotateSecret asks of a secret once the service found it (spec 5.2 check 1), saw it is not
// marked for deletion (2) and has a token (3).
struct RotateInput {
  std::string token;
  std::optional<std::string> lambda_arn;  // empty or absent: the stored one
  std::optional<RotationRules> rules;
  bool rotate_immediately = true;
};

// What RotateSecret started.
struct RotateStart {
  enum class Kind : std::uint8_t {
    kRotation,      // a new rotation: placeholder created, run queued (5.3)
    kTest,          // RotateImmediately=false: temporary AWSPENDING copy, testSecret queued (D2)
    kReattempt,     // the stuck or waiting rotation with this token starts again (D12)
    kAlreadyRunning,  // the rotation with this token is in flight: nothing changes
  };
  Kind kind;
  std::string lambda_arn;
  std::vector<std::string> purged_versions;  // removed to make room for the placeholder (D8)
};

// The invocation of one step: what the function receives.
struct StepCall {
  std::string token;
  std::string lambda_arn;
  Step step;
  std::uint32_t attempt;
  bool test_only;
  bool first_of_attempt;  // the attempt starts with this step (RotationStarted)
};

// What finishing a step did.
struct StepApplied {
  Then then;
  std::string reason;            // why the attempt failed (function message or D15 check)
  bool stuck = false;            // kAttemptFailed: no attempt follows
  std::optional<Timestamp> retry_at;  // kAttemptFailed: when the next attempt starts
};

// D15's reasons, in the RotationFailed event.
inline constexpr std::string_view kNoPendingValueAfterCreate =
    "After createSecret the version of the rotation's token must hold a secret value and the staging label "
    "AWSPENDING.";
inline constexpr std::string_view kNotCurrentAfterFinish =
    "After finishSecret the version of the rotation's token must hold the staging label AWSCURRENT.";

}  // namespace smemu::model
