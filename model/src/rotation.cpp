#include "smemu/model/rotation.h"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include "smemu/model/labels.h"
#include "smemu/model/schedule.h"
#include "smemu/model/secret.h"

namespace smemu::model {

std::string_view step_name(Step step) {
  switch (step) {
    case Step::kCreateSecret: return "createSecret";
    case Step::kSetSecret: return "setSecret";
    case Step::kTestSecret: return "testSecret";
    case Step::kFinishSecret: return "finishSecret";
  }
  return "createSecret";
}

std::optional<Step> parse_step(std::string_view name) {
  for (const auto step : {Step::kCreateSecret, Step::kSetSecret, Step::kTestSecret, Step::kFinishSecret}) {
    if (step_name(step) == name) return step;
  }
  return std::nullopt;
}

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk: return "ok";
    case Outcome::kError: return "error";
    case Outcome::kTimeout: return "timeout";
  }
  return "error";
}

std::string_view phase_name(RotationRun::Phase phase) {
  switch (phase) {
    case RotationRun::Phase::kReady: return "due";
    case RotationRun::Phase::kRunning: return "running";
    case RotationRun::Phase::kRetry: return "waiting to retry";
    case RotationRun::Phase::kStuck: return "stuck";
  }
  return "due";
}

const Transition& transition(bool test_only, Step step, Outcome outcome) {
  auto find = [&](const auto& table) -> const Transition* {
    for (const auto& row : table) {
      if (row.step == step && row.outcome == outcome) return &row;
    }
    return nullptr;
  };
  const Transition* row = test_only ? find(kTestRotationTable) : find(kRotationTable);
  assert(row != nullptr && "every (step, outcome) a run can reach has a row");
  return *row;
}

Result<RotateStart> Secret::start_rotation(const RotateInput& input,
                                           const std::function<bool(std::string_view)>& invocable, Timestamp now,
                                           std::string_view arn) {
  // 4. the rules.
  if (input.rules) {
    if (auto schedule = parse_schedule(*input.rules); !schedule) return std::move(schedule).error();
  }
  // 5. a function ARN, given or stored.
  const auto lambda = input.lambda_arn && !input.lambda_arn->empty() ? input.lambda_arn : meta.rotation.lambda_arn;
  if (!lambda) return make_error(ErrorCode::InvalidRequest, std::string(msg::kNoRotationLambda));
  // 6. the function can be invoked.
  if (!invocable(*lambda)) return make_error(ErrorCode::AccessDenied, std::string(msg::kCannotInvokeLambda));
  // 7. no other rotation is incomplete: AWSPENDING on a version other than AWSCURRENT's. D12: the
  // same token again re-attempts the stuck one. A run whose version already holds AWSCURRENT too
  // (its finishSecret moved the label, then failed) does not block a new token: the new
  // rotation takes AWSPENDING and replaces that run.
  RotateStart start{RotateStart::Kind::kRotation, *lambda, {}};
  const auto* pending = holder(labels::kPending);
  if (run_ && run_->token == input.token) {
    const bool waiting = run_->phase == RotationRun::Phase::kStuck || run_->phase == RotationRun::Phase::kRetry;
    start.kind = waiting ? RotateStart::Kind::kReattempt : RotateStart::Kind::kAlreadyRunning;
  } else if (pending && pending != holder(labels::kCurrent)) {
    return make_error(ErrorCode::InvalidRequest, std::string(msg::kPreviousRotationIncomplete));
  } else if (find_version(input.token)) {
    return make_error(ErrorCode::InvalidRequest,
                      fmt::format("You can't use ClientRequestToken {} because that value is already in use for a "
                                  "version of secret {}.",
                                  input.token, arn));
  } else if (!input.rotate_immediately) {
    start.kind = RotateStart::Kind::kTest;
  }
  const bool adds_version = start.kind == RotateStart::Kind::kRotation || start.kind == RotateStart::Kind::kTest;
  std::vector<VersionIndex> purge;
  if (adds_version) {  // D8 holds for the placeholder too
    auto room = room_for_one_more(now, arn);
    if (!room) return std::move(room).error();
    purge = std::move(room.value());
  }

  // Every check passed: 8. store the configuration and start.
  for (const auto index : purge) start.purged_versions.push_back(versions_[index].id);
  erase_versions(std::move(purge));
  meta.rotation.lambda_arn = lambda;
  if (input.rules) meta.rotation.rules = input.rules;
  meta.rotation.enabled = true;
  switch (start.kind) {
    case RotateStart::Kind::kRotation:
      add_placeholder(input.token, now);  // 5.3 step 1: the token as id, AWSPENDING, no value
      run_ = RotationRun{input.token, *lambda, RotationRun::Kind::kRotate, RotationRun::Phase::kReady,
                         Step::kCreateSecret, 1, now};
      break;
    case RotateStart::Kind::kTest: {
      // D2: during testSecret the AWSPENDING version holds a copy of the current value.
      add_placeholder(input.token, now);
      if (const auto* current = holder(labels::kCurrent); current && !current->value.empty()) {
        auto filled = write_version(VersionWrite{input.token, current->value, std::vector<std::string>{
                                                     std::string(labels::kPending)}},
                                    now, arn);
        assert(filled.ok());
      }
      run_ = RotationRun{input.token, *lambda, RotationRun::Kind::kTest, RotationRun::Phase::kReady,
                         Step::kTestSecret, 1, now};
      break;
    }
    case RotateStart::Kind::kReattempt:
      run_->lambda_arn = *lambda;
      reattempt(now);
      break;
    case RotateStart::Kind::kAlreadyRunning:
      break;
  }
  return start;
}

StepCall Secret::begin_step() {
  assert(run_ && (run_->phase == RotationRun::Phase::kReady || run_->phase == RotationRun::Phase::kRetry));
  if (run_->phase == RotationRun::Phase::kRetry) {
    run_->step = run_->first_step();
    ++run_->attempt;
  }
  const bool first = run_->step == run_->first_step();
  run_->phase = RotationRun::Phase::kRunning;
  return StepCall{run_->token, run_->lambda_arn, run_->step, run_->attempt, run_->test_only(), first};
}

bool Secret::has_label(std::string_view id, std::string_view label) const {
  const auto index = index_of(id);
  return index && attached(label) == index;
}

void Secret::retire_test_version() {
  const auto labels = labels_of(run_->token);
  const bool only_pending = std::all_of(labels.begin(), labels.end(),
                                        [](const std::string& label) { return label == labels::kPending; });
  if (only_pending) {
    drop_version(run_->token);
  } else if (has_label(run_->token, labels::kPending)) {
    detach(labels::kPending);
  }
}

StepApplied Secret::finish_step(Outcome outcome, std::string_view reason, Timestamp at, const RetryPolicy& retry) {
  assert(run_ && run_->phase == RotationRun::Phase::kRunning);
  const auto& row = transition(run_->test_only(), run_->step, outcome);
  StepApplied applied{row.then, std::string(reason), false, std::nullopt};
  if (outcome == Outcome::kOk) {
    const auto* version = find_version(run_->token);
    if (row.guard == Guard::kTokenHoldsValueAndPending &&
        !(version && !version->value.empty() && has_label(run_->token, labels::kPending))) {
      applied.then = Then::kAttemptFailed;
      applied.reason = std::string(kNoPendingValueAfterCreate);
    } else if (row.guard == Guard::kTokenIsCurrent && !has_label(run_->token, labels::kCurrent)) {
      applied.then = Then::kAttemptFailed;
      applied.reason = std::string(kNotCurrentAfterFinish);
    }
  }
  switch (applied.then) {
    case Then::kNextStep:
      run_->step = row.next;
      run_->phase = RotationRun::Phase::kReady;
      run_->due = at;
      break;
    case Then::kSucceeded:
      if (run_->test_only()) {
        retire_test_version();  // D2: afterwards only the current version remains
      } else {
        meta.rotation.last_rotated = at;
      }
      run_.reset();
      break;
    case Then::kAttemptFailed:
      if (run_->test_only()) {
        // A failed test leaves nothing behind either; only rotations are re-attempted (D1).
        retire_test_version();
        run_.reset();
        applied.stuck = true;
      } else if (!has_label(run_->token, labels::kPending)) {
        // Invariant 7 tolerated AWSCURRENT without AWSPENDING only while finishSecret ran: the
        // function moved AWSCURRENT (and took AWSPENDING off) before it failed. Its calls stand,
        // and no re-attempt could start over from a version without AWSPENDING (D15), so the run
        // ends here, as a manual change that takes AWSPENDING away ends it.
        run_.reset();
        applied.stuck = true;
      } else if (run_->attempt < retry.max_attempts()) {
        run_->phase = RotationRun::Phase::kRetry;
        run_->due = at + retry.delays[run_->attempt - 1];
        applied.retry_at = run_->due;
      } else {
        run_->phase = RotationRun::Phase::kStuck;
        applied.stuck = true;
      }
      break;
  }
  return applied;
}

void Secret::reattempt(Timestamp now) {
  assert(run_ && (run_->phase == RotationRun::Phase::kStuck || run_->phase == RotationRun::Phase::kRetry));
  // A fresh series of attempts: begin_step counts this one as attempt 1.
  run_->phase = RotationRun::Phase::kRetry;
  run_->attempt = 0;
  run_->due = now;
}

bool Secret::resume_interrupted(Timestamp now) {
  assert(run_ && run_->phase == RotationRun::Phase::kRunning);
  if (run_->step == Step::kFinishSecret && !has_label(run_->token, labels::kPending)) {
    // Invariant 7 let the run name a version without AWSPENDING only while finishSecret ran, and
    // only when that version holds AWSCURRENT: the function moved it there, its work is done.
    meta.rotation.last_rotated = now;
    run_.reset();
    return true;
  }
  run_->phase = RotationRun::Phase::kReady;
  run_->due = now;
  return false;
}

std::optional<std::string> Secret::reconcile_run() {
  if (!run_) return std::nullopt;
  const auto stages = labels_of(run_->token);
  auto has = [&](std::string_view label) { return std::find(stages.begin(), stages.end(), label) != stages.end(); };
  if (has(labels::kPending)) return std::nullopt;
  const bool finishing = run_->phase == RotationRun::Phase::kRunning && run_->step == Step::kFinishSecret;
  if (finishing && has(labels::kCurrent)) return std::nullopt;
  auto token = std::move(run_->token);
  run_.reset();
  return token;
}

}  // namespace smemu::model
