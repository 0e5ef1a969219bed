// The rotation engine (D16): a queue of due work — function steps, D1 re-attempts and scheduled
// rotations — ordered by (due time, order queued), driven by step(), run_until_idle() and
// advance(), or inline inside RotateSecret. No lock is held while a function runs: it calls back
// into the service through its Client.
#include <cassert>
#include <exception>

#include <fmt/format.h>

#include "service_internal.h"
#include "smemu/emulator/builtin_functions.h"
#include "smemu/emulator/process_function.h"
#include "smemu/model/labels.h"
#include "smemu/model/schedule.h"

namespace smemu {

namespace {

constexpr std::string_view kRotationStarted = "RotationStarted";
constexpr std::string_view kRotationSucceeded = "RotationSucceeded";
constexpr std::string_view kRotationFailed = "RotationFailed";
constexpr std::string_view kRotationAbandoned = "RotationAbandoned";
constexpr std::string_view kTestRotationStarted = "TestRotationStarted";
constexpr std::string_view kTestRotationSucceeded = "TestRotationSucceeded";
constexpr std::string_view kTestRotationFailed = "TestRotationFailed";
constexpr std::string_view kEndSecretVersionDelete = "EndSecretVersionDelete";
constexpr std::string_view kSecretLabelUpdated = "Secret Label Updated";

std::string timeout_message(Duration timeout) {
  return fmt::format("Task timed out after {:.2f} seconds", static_cast<double>(timeout.count()) / 1000.0);
}

}  // namespace

void Service::register_function(std::string arn, RotationFunction function, FunctionOptions options) {
  std::lock_guard lock(functions_mutex_);
  functions_.insert_or_assign(std::move(arn), std::make_shared<const Registered>(Registered{std::move(function), options}));
}

Status Service::register_function(std::string arn, std::string_view spec) {
  auto parsed = parse_function_spec(spec);
  if (!parsed) return std::move(parsed).error();
  if (parsed->scheme == FunctionScheme::kBuiltin) {
    auto made = make_builtin_function(spec, database_);
    if (!made) return std::move(made).error();
    register_function(std::move(arn), std::move(made->function), made->options);
    return ok_status();
  }
  // exec: and python: run as processes that call the service back over HTTP: without an endpoint
  // (the library alone, scenarios) they could not make a single call.
  std::optional<ProcessHost> host;
  {
    std::lock_guard lock(functions_mutex_);
    host = process_host_;
  }
  if (!host) {
    return make_error(ErrorCode::InvalidParameter,
                      fmt::format("Rotation function spec '{}': {}: functions run as processes that call a running "
                                  "Secrets Manager endpoint; only smemu serve runs them (use builtin: here).",
                                  spec, scheme_name(parsed->scheme)));
  }
  auto made = make_process_function(arn, *parsed, *host);
  if (!made) return std::move(made).error();
  register_function(std::move(arn), std::move(made->function), made->options);
  return ok_status();
}

void Service::set_process_host(ProcessHost host) {
  std::lock_guard lock(functions_mutex_);
  process_host_ = std::move(host);
}

bool Service::has_function(std::string_view arn) const {
  std::lock_guard lock(functions_mutex_);
  return functions_.find(arn) != functions_.end();
}

void Service::set_work_listener(std::function<void()> listener) {
  std::lock_guard lock(listener_mutex_);
  work_listener_ = std::move(listener);
}

void Service::notify_work() {
  std::function<void()> listener;
  {
    std::lock_guard lock(listener_mutex_);
    listener = work_listener_;
  }
  if (listener) listener();
}

std::optional<Timestamp> Service::next_due() const {
  std::shared_lock lock(mutex_);
  if (queue_->empty()) return std::nullopt;
  return queue_->earliest_due();
}

void Service::enqueue_step(const model::Secret& secret, Timestamp due) {
  queue_->push(Queued{due, next_queue_seq_++, store_.handle(secret), Queued::Kind::kStep});
}

void Service::schedule_next(model::Secret& secret, Timestamp anchor, Timestamp after) {
  auto& rotation = secret.meta.rotation;
  rotation.next_rotation.reset();
  if (!rotation.enabled.value_or(false) || !rotation.rules) return;
  auto schedule = model::parse_schedule(*rotation.rules);
  if (!schedule) return;  // stored rules passed this check when RotateSecret stored them
  const auto window = model::next_window(*schedule, anchor, after);
  if (!window) return;
  std::uint64_t bits;
  {
    std::lock_guard lock(random_->mutex);
    bits = random_->schedule.next();
  }
  rotation.next_rotation = model::pick_in_window(*window, bits);
  queue_->push(Queued{*rotation.next_rotation, next_queue_seq_++, store_.handle(secret), Queued::Kind::kSchedule});
}

void Service::emit_service_event(std::string_view name, const model::Secret& secret, std::string_view arn,
                                 std::string_view version_id, std::string_view step, std::uint32_t attempt,
                                 std::string_view message, Timestamp time) {
  events_.append(EventFields{.time = time,
                             .kind = EventKind::kServiceEvent,
                             .name = name,
                             .region = secret.meta.region,
                             .secret_arn = arn,
                             .version_id = version_id,
                             .step = step,
                             .attempt = attempt,
                             .message = message});
}

void Service::after_write(model::Secret& secret, std::string_view arn, const std::vector<std::string>& purged,
                          const std::vector<model::LabelMove>& moves, const std::optional<std::string>& ended_run,
                          Timestamp now) {
  for (const auto& id : purged) emit_service_event(kEndSecretVersionDelete, secret, arn, id, {}, 0, {}, now);
  bool moved_current = false;
  for (const auto& move : moves) {
    if (move.label == labels::kPending || move.label == labels::kPrevious) continue;  // spec 12.2
    moved_current = moved_current || move.label == labels::kCurrent;
    events_.append(EventFields{.time = now,
                               .kind = EventKind::kLabelUpdated,
                               .name = kSecretLabelUpdated,
                               .region = secret.meta.region,
                               .secret_arn = arn,
                               .version_id = move.version_id,
                               .labels = std::span(&move.label, 1)});
  }
  if (ended_run) emit_service_event(kRotationAbandoned, secret, arn, *ended_run, {}, 0, {}, now);
  // D5: a write that moved AWSCURRENT by hand counts as a rotation for rate() and
  // AutomaticallyAfterDays schedules; the rotation's own finishSecret is not a manual write.
  const bool rotating = secret.run().has_value();
  if (moved_current && !rotating && secret.meta.rotation.enabled.value_or(false) && secret.meta.rotation.rules) {
    if (auto schedule = model::parse_schedule(*secret.meta.rotation.rules); schedule && schedule->anchored()) {
      schedule_next(secret, now, now);
    }
  }
}

void Service::start_scheduled(model::Secret& secret, Timestamp due, Timestamp now) {
  // D11: no scheduled rotation while the secret is in its recovery window; the next window waits.
  if (secret.meta.marked_for_deletion()) {
    schedule_next(secret, due, due);
    return;
  }
  if (const auto& run = secret.run()) {
    // D1: the next scheduled rotation re-attempts a rotation that is stuck or waiting to retry;
    // one in progress carries on and schedules the next when it ends.
    if (run->phase == model::RotationRun::Phase::kStuck || run->phase == model::RotationRun::Phase::kRetry) {
      secret.reattempt(now);
      enqueue_step(secret, now);
    }
    return;
  }
  const auto token = new_request_token();
  const auto arn = store_.arn(secret);
  auto started = secret.start_rotation(model::RotateInput{token, std::nullopt, std::nullopt, true},
                                       [this](std::string_view lambda) { return has_function(lambda); }, now, arn);
  if (!started) {
    emit_service_event(kRotationFailed, secret, arn, token, {}, 1, started.error().message, now);
    schedule_next(secret, due, due);
    return;
  }
  after_write(secret, arn, started->purged_versions, {}, std::nullopt, now);
  enqueue_step(secret, now);
}

std::optional<StepReport> Service::step() {
  const auto now = this->now();
  model::StepCall call;
  StepReport report;
  model::Store::Handle handle{};
  std::string region;
  {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (queue_->empty() || queue_->earliest_due() > now) return std::nullopt;
      Queued entry = queue_->pop();
      auto* secret = store_.find(entry.secret);
      if (!secret || model::deletion_expired(secret->meta, now)) continue;
      if (entry.kind == Queued::Kind::kSchedule) {
        // Stale when rotation was turned off or rescheduled since this entry was queued.
        if (secret->meta.rotation.enabled.value_or(false) && secret->meta.rotation.next_rotation == entry.due) {
          start_scheduled(*secret, entry.due, now);
        }
        continue;
      }
      const auto& run = secret->run();
      using Phase = model::RotationRun::Phase;
      if (!run || (run->phase != Phase::kReady && run->phase != Phase::kRetry) || run->due != entry.due) continue;
      call = secret->begin_step();
      ++steps_running_;
      handle = entry.secret;
      region = secret->meta.region;
      report.secret_arn = store_.arn(*secret);
      if (call.first_of_attempt) {
        emit_service_event(call.test_only ? kTestRotationStarted : kRotationStarted, *secret, report.secret_arn,
                           call.token, {}, call.attempt, {}, now);
      }
      break;
    }
  }
  report.token = std::move(call.token);
  report.step = call.step;
  report.attempt = call.attempt;
  report.started = now;

  RegisteredPtr function;
  {
    std::lock_guard lock(functions_mutex_);
    if (auto it = functions_.find(call.lambda_arn); it != functions_.end()) function = it->second;
  }
  StepResult result;
  Duration timeout = FunctionOptions{}.timeout;
  if (!function) {
    result = StepResult::error(std::string(msg::kCannotInvokeLambda));
  } else {
    timeout = function->options.timeout;
    Client client(*this, region);
    // The RotationToken is opaque (spec 5.3): a fresh UUID per invocation from the token stream.
    // The ARN is lent to the event and taken back afterwards rather than copied.
    RotationEvent event{std::string(model::step_name(call.step)), std::move(report.secret_arn), report.token,
                        new_request_token()};
    try {
      result = function->function(event, client);
    } catch (const std::exception& error) {
      result = StepResult::error(std::string("Unhandled exception: ") + error.what());
    } catch (...) {
      // Otherwise the run would stay "running" for good and settle() would wait for it forever.
      result = StepResult::error("Unhandled exception of a type not derived from std::exception");
    }
    report.secret_arn = std::move(event.secret_id);
    if (result.time_used > timeout) result.outcome = model::Outcome::kTimeout;
  }
  if (result.outcome == model::Outcome::kTimeout) {
    result.time_used = timeout;
    if (result.message.empty()) result.message = timeout_message(timeout);
  }
  report.outcome = result.outcome;
  report.finished = now + result.time_used;

  {
    std::unique_lock lock(mutex_);
    // Under the same lock as the step's outcome (and its next step queued): settle() never sees
    // the step over before its effects.
    if (--steps_running_ == 0) steps_done_.notify_all();
    auto* secret = store_.find(handle);
    const model::RotationRun* run = secret && secret->run() ? &*secret->run() : nullptr;
    if (!run || run->token != report.token || run->phase != model::RotationRun::Phase::kRunning) {
      report.discarded = true;  // cancelled or abandoned while the function ran
      report.message = result.message;
      return report;
    }
    const auto applied = secret->finish_step(result.outcome, result.message, report.finished, options_.retry);
    report.then = applied.then;
    report.message = applied.reason;
    const auto step = model::step_name(call.step);
    switch (applied.then) {
      case model::Then::kNextStep:
        enqueue_step(*secret, report.finished);
        break;
      case model::Then::kSucceeded:
        emit_service_event(call.test_only ? kTestRotationSucceeded : kRotationSucceeded, *secret, report.secret_arn,
                           report.token, {}, call.attempt, {}, report.finished);
        if (!call.test_only) schedule_next(*secret, report.finished, report.finished);
        break;
      case model::Then::kAttemptFailed:
        emit_service_event(call.test_only ? kTestRotationFailed : kRotationFailed, *secret, report.secret_arn,
                           report.token, step, call.attempt, applied.reason, report.finished);
        if (applied.retry_at) enqueue_step(*secret, *applied.retry_at);
        break;
    }
    sync_replicas(*secret);
  }
  return report;
}

std::size_t Service::run_until_idle() {
  std::size_t steps = 0;
  while (step()) ++steps;
  return steps;
}

void Service::settle() {
  for (;;) {
    run_until_idle();
    std::shared_lock lock(mutex_);
    // A step another thread is running queues its next step (or ends the run) when it ends.
    steps_done_.wait(lock, [this] { return steps_running_ == 0; });
    if (queue_->empty() || queue_->earliest_due() > now()) return;
  }
}

bool Service::advance_to(Timestamp target) {
  auto* clock = dynamic_cast<MovableClock*>(clock_);
  assert(clock != nullptr && "advance_to() needs a MovableClock");
  if (target < now()) return false;
  settle();
  for (;;) {
    const auto due = next_due();
    if (!due || *due > target) break;
    clock->set(*due);  // stays put when real time (SystemClock) has passed `due` already
    settle();
  }
  clock->set(target);
  settle();
  return true;
}

void Service::advance(Duration by) { advance_to(now() + by); }

}  // namespace smemu
