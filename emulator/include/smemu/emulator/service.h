// Service: the AWS Secrets Manager operations over the state model, for every region at once
// (D18). This is the one implementation behind the typed Client, the JSON dispatch
// (Client::call) and the HTTP endpoint; reach it through a Client, which checks requests
// against the service model first. The methods below assume a request that passed those checks.
//
// Time comes from the Clock given in ServiceOptions (a VirtualClock by default, D16); ids, ARN
// suffixes and passwords come from one SeededRandom seeded with ServiceOptions::seed, split into
// a stream per use so that each is reproducible on its own.
//
// Thread-safety: safe for concurrent use from any number of threads. Reads share a lock, writes
// take it alone; no lock is held while anything outside the service runs.
// Errors: every expected failure is a Result carrying the AWS error; a failed call changes nothing.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <set>
#include <string>
#include <string_view>

#include "smemu/emulator/api.h"
#include "smemu/emulator/change_sink.h"
#include "smemu/emulator/client.h"
#include "smemu/emulator/clock.h"
#include "smemu/emulator/commit_mutex.h"
#include "smemu/emulator/event_log.h"
#include "smemu/emulator/process_function.h"
#include "smemu/emulator/random.h"
#include "smemu/emulator/rotation_function.h"
#include "smemu/emulator/simulated_database.h"
#include "smemu/model/result.h"
#include "smemu/model/store.h"

namespace smemu {

struct ServiceOptions {
  std::string partition = "aws";
  std::string account = "123456789012";
  std::uint64_t seed = 0;
  // Where time comes from; nullptr means a VirtualClock owned by the service, starting at
  // 2026-01-01T00:00:00Z (D16). A given clock must outlive the service.
  Clock* clock = nullptr;
  // Run a rotation to its end inside RotateSecret instead of queueing it (D16).
  bool inline_rotation = false;
  // D1: the delays before attempts 2, 3, ...; {} makes every failure final.
  model::RetryPolicy retry{};
  std::size_t event_capacity = EventLog::kDefaultCapacity;
  // Test-only: plants a known bug, so that tests can prove the property tests find one (issue 4).
  // With it, UpdateSecretVersionStage moving AWSCURRENT leaves no AWSPREVIOUS behind.
  bool test_plant_bug = false;
};

// What step() did: one invocation of a rotation function.
struct StepReport {
  std::string secret_arn;
  std::string token;
  model::Step step = model::Step::kCreateSecret;
  std::uint32_t attempt = 1;
  model::Outcome outcome = model::Outcome::kOk;
  std::string message;         // the function's error, or the D15 check that failed
  model::Then then = model::Then::kNextStep;
  bool discarded = false;      // the rotation ended (cancelled, abandoned) while the step ran
  Timestamp started{};
  Timestamp finished{};
};

// Who is calling, as the endpoint or a Client knows it.
struct CallContext {
  std::string_view region;
};

class Service {
 public:
  explicit Service(ServiceOptions options = {});
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;
  ~Service();

  // A typed client for `region` (e.g. "us-east-1").
  Client client(std::string region) { return Client(*this, std::move(region)); }

  Clock& clock() { return *clock_; }
  // The clock, when it is the service's own virtual one; nullptr when the caller supplied a clock.
  VirtualClock* virtual_clock() { return owned_clock_.get(); }
  const ServiceOptions& options() const { return options_; }
  // The ARN this service gives a secret (model::Store::arn with the options' partition and
  // account), for callers that hold a secret from inspect(). Reads only the options: no lock.
  std::string arn_of(const model::SecretMetadata& meta) const {
    return model::Store::arn(options_.partition, options_.account, meta);
  }

  // A fresh ClientRequestToken (UUID v4) from the seeded "token" stream, as the SDKs would fill in.
  std::string new_request_token();

  // --- rotation functions and driving rotations (D16) -----------------------------------------
  // Registers `function` under a Lambda ARN; RotateSecret may then name it. Replaces any earlier one.
  void register_function(std::string arn, RotationFunction function, FunctionOptions options = {});
  // Registers a function from a SPEC (function_spec.h): builtin:NAME[?option=value&...]
  // (builtin_functions.h), or exec:COMMAND / python:PATH[:HANDLER] (process_function.h), which
  // run as processes calling back the endpoint and so need set_process_host() first.
  // Errors: InvalidParameterException naming what is wrong with the spec, or that exec:/python:
  // functions need a running endpoint (smemu serve).
  Status register_function(std::string arn, std::string_view spec);
  // Where exec: and python: functions registered from now on run: the endpoint they call back.
  // `smemu serve` sets it once its endpoint is bound.
  void set_process_host(ProcessHost host);
  bool has_function(std::string_view arn) const;

  // Runs the earliest due function step (due at or before the clock's time), with no lock held
  // while the function runs; nullopt when nothing is due. Scheduled rotations and re-attempts that
  // came due start on the way.
  std::optional<StepReport> step();
  // Runs steps until nothing is due at the clock's time; returns how many ran.
  std::size_t run_until_idle();
  // Runs due steps until nothing is due at the clock's time and no step is running on any thread
  // (steps other threads run, such as `smemu serve`'s worker, are waited for). Not from inside a
  // rotation function, nor advance_to() and advance(): they would wait for that very step.
  void settle();
  // Moves the clock forward to `target`, running everything that comes due on the way in due
  // order, ties in the order they were queued: the clock stops at each due time and settle()s, so
  // several missed windows run once each. Returns false, moving nothing, when `target` has passed.
  // REQUIRES: the clock is a MovableClock (the service's own virtual clock, or serve's SystemClock).
  bool advance_to(Timestamp target);
  // advance_to(now + by).
  void advance(Duration by);
  // When the earliest queued work is due; nullopt when nothing is queued.
  std::optional<Timestamp> next_due() const;
  // Empties the state: every secret of every region, the queued work and the simulated databases.
  // Registered functions, the clock, the event log and the seeded streams carry on. A step running
  // meanwhile finds its secret gone and is discarded.
  void reset();
  // Called (without locks held) whenever work is queued: `smemu serve` wakes its worker with it.
  void set_work_listener(std::function<void()> listener);

  // --- durable state (issue 5; state_journal.h, service_durable.cpp) --------------------------
  // From now on every exclusive section ends by handing `sink` what it changed (ChangeSet), with
  // the write lock still held, before the call that made the change answers; the first commit,
  // that of this call, has the whole state. nullptr detaches. The sink must outlive its attachment.
  void set_change_sink(ChangeSink* sink);
  // Puts saved secrets into the store, replacing any of the same region and name, and queues their
  // work: a run's due step or re-attempt, the scheduled rotation at NextRotationDate. A run whose
  // step was with the function when the state was saved resumes (model::Secret::resume_interrupted).
  // Returns how many runs resumed that way.
  std::size_t load_secrets(std::vector<model::Secret> secrets);
  // Replaces the seeded streams with streams split from the seed by `name`, so that a restarted
  // `serve` does not draw the ids, suffixes and passwords it drew before. REQUIRES: no call in
  // progress (serve calls it before it listens).
  void reseed(std::string_view name);

  // --- looking at the state (scenario runner, invariant checks, smemu lab and walk) ----------
  // Calls visit with the secret `secret_id` names in `region` (as the operations find it, spec
  // 8, including a secret marked for deletion), or nullptr; under the shared lock, so `visit`
  // must not call into the service.
  void inspect(std::string_view region, std::string_view secret_id,
               const std::function<void(const model::Secret*)>& visit) const;
  // Calls visit with every secret the operations can find in `region` now (including those in
  // their recovery window), in no particular order; under the shared lock, as above.
  void inspect_all(std::string_view region, const std::function<void(const model::Secret&)>& visit) const;

  EventLog& events() { return events_; }
  SimulatedDatabase& database() { return database_; }

  // Records a call in the event log: writes and failures always, reads only while a subscriber
  // asked for them. Called by Client for every operation; `operation` must outlive the log (the
  // generated code passes string literals).
  template <class Request, class Response>
  void record_call(std::string_view operation, bool is_read, const CallContext& context, const Request& request,
                   const Result<Response>& result);

  Result<api::BatchGetSecretValueResponse> batch_get_secret_value(const CallContext& context,
      const api::BatchGetSecretValueRequest& request);
  Result<api::CancelRotateSecretResponse> cancel_rotate_secret(const CallContext& context,
      const api::CancelRotateSecretRequest& request);
  Result<api::CreateSecretResponse> create_secret(const CallContext& context,
      const api::CreateSecretRequest& request);
  Result<api::DeleteResourcePolicyResponse> delete_resource_policy(const CallContext& context,
      const api::DeleteResourcePolicyRequest& request);
  Result<api::DeleteSecretResponse> delete_secret(const CallContext& context,
      const api::DeleteSecretRequest& request);
  Result<api::DescribeSecretResponse> describe_secret(const CallContext& context,
      const api::DescribeSecretRequest& request);
  Result<api::GetRandomPasswordResponse> get_random_password(const CallContext& context,
      const api::GetRandomPasswordRequest& request);
  Result<api::GetResourcePolicyResponse> get_resource_policy(const CallContext& context,
      const api::GetResourcePolicyRequest& request);
  Result<api::GetSecretValueResponse> get_secret_value(const CallContext& context,
      const api::GetSecretValueRequest& request);
  Result<api::ListSecretVersionIdsResponse> list_secret_version_ids(const CallContext& context,
      const api::ListSecretVersionIdsRequest& request);
  Result<api::ListSecretsResponse> list_secrets(const CallContext& context,
      const api::ListSecretsRequest& request);
  Result<api::PutResourcePolicyResponse> put_resource_policy(const CallContext& context,
      const api::PutResourcePolicyRequest& request);
  Result<api::PutSecretValueResponse> put_secret_value(const CallContext& context,
      const api::PutSecretValueRequest& request);
  Result<api::RemoveRegionsFromReplicationResponse> remove_regions_from_replication(const CallContext& context,
      const api::RemoveRegionsFromReplicationRequest& request);
  Result<api::ReplicateSecretToRegionsResponse> replicate_secret_to_regions(const CallContext& context,
      const api::ReplicateSecretToRegionsRequest& request);
  Result<api::RestoreSecretResponse> restore_secret(const CallContext& context,
      const api::RestoreSecretRequest& request);
  Result<api::RotateSecretResponse> rotate_secret(const CallContext& context,
      const api::RotateSecretRequest& request);
  Result<api::StopReplicationToReplicaResponse> stop_replication_to_replica(const CallContext& context,
      const api::StopReplicationToReplicaRequest& request);
  Result<api::Empty> tag_resource(const CallContext& context,
      const api::TagResourceRequest& request);
  Result<api::Empty> untag_resource(const CallContext& context,
      const api::UntagResourceRequest& request);
  Result<api::UpdateSecretResponse> update_secret(const CallContext& context,
      const api::UpdateSecretRequest& request);
  Result<api::UpdateSecretVersionStageResponse> update_secret_version_stage(const CallContext& context,
      const api::UpdateSecretVersionStageRequest& request);
  Result<api::ValidateResourcePolicyResponse> validate_resource_policy(const CallContext& context,
      const api::ValidateResourcePolicyRequest& request);
 private:
  struct Random;  // the seeded streams, behind their own mutex
  struct Queued;     // an entry of the work queue (rotation_engine.cpp)
  class WorkQueue;   // the rotation engine's queue of Queued entries
  struct Registered {
    RotationFunction function;
    FunctionOptions options;
  };
  // Shared, not copied, with a step that runs one: it may be replaced or removed meanwhile.
  using RegisteredPtr = std::shared_ptr<const Registered>;

  // The engine (rotation_engine.cpp). REQUIRES for all: mutex_ held exclusively.
  void enqueue_step(const model::Secret& secret, Timestamp due);
  // Picks NextRotationDate in the next window after `after` (windows anchored at `anchor` for
  // rate() and AutomaticallyAfterDays) and queues the scheduled rotation there.
  void schedule_next(model::Secret& secret, Timestamp anchor, Timestamp after);
  void start_scheduled(model::Secret& secret, Timestamp due, Timestamp now);
  // `arn` is the secret's (Store::arn): callers have it at hand, and it costs an allocation.
  void emit_service_event(std::string_view name, const model::Secret& secret, std::string_view arn,
                          std::string_view version_id, std::string_view step, std::uint32_t attempt,
                          std::string_view message, Timestamp time);
  // Service events for what a write or label move did: EndSecretVersionDelete per purged version,
  // Secret Label Updated per moved label (not AWSPENDING or AWSPREVIOUS, spec 12.2),
  // RotationAbandoned, and D5's new NextRotationDate after a manual write of AWSCURRENT.
  void after_write(model::Secret& secret, std::string_view arn, const std::vector<std::string>& purged,
                   const std::vector<model::LabelMove>& moves, const std::optional<std::string>& ended_run,
                   Timestamp now);
  void notify_work();

  Timestamp now() const { return clock_->now(); }
  // ARN suffixes: 6 letters and digits from the seeded "suffix" stream.
  std::string new_suffix();

  // Replication (spec 7, D18). REQUIRES: mutex_ held exclusively.
  // Creates or overwrites replicas of `primary` in `regions`; returns their statuses.
  std::vector<api::ReplicationStatus> add_replicas(model::Secret& primary,
                                                   const std::vector<api::ReplicaRegion>& regions,
                                                   bool force_overwrite, Timestamp now);
  // Copies the primary's versions and shared metadata onto each of its replicas after a write.
  void sync_replicas(const model::Secret& primary);

  // The commit hook of mutex_ (service_durable.cpp): hands the change sink what the exclusive
  // section that is ending changed. REQUIRES: mutex_ held exclusively.
  void commit_changes();

  ServiceOptions options_;
  std::unique_ptr<VirtualClock> owned_clock_;
  Clock* clock_;
  std::unique_ptr<Random> random_;
  mutable CommitMutex mutex_;  // a std::shared_mutex whose writers commit to change_sink_ on unlock
  ChangeSink* change_sink_ = nullptr;  // under mutex_
  model::Store store_;
  std::unique_ptr<WorkQueue> queue_;   // under mutex_
  std::uint64_t next_queue_seq_ = 0;   // under mutex_
  std::size_t steps_running_ = 0;      // under mutex_: steps handed to a function, not yet applied
  std::condition_variable_any steps_done_;  // notified when steps_running_ drops to 0

  mutable std::mutex functions_mutex_;
  std::map<std::string, RegisteredPtr, std::less<>> functions_;
  std::optional<ProcessHost> process_host_;  // under functions_mutex_
  std::mutex listener_mutex_;
  std::function<void()> work_listener_;

  EventLog events_;
  SimulatedDatabase database_;
};

template <class Request, class Response>
void Service::record_call(std::string_view operation, bool is_read, const CallContext& context,
                          const Request& request, const Result<Response>& result) {
  if (result.ok() && is_read && !events_.wants_reads()) return;
  EventFields event{.time = now(), .kind = EventKind::kApiCall, .name = operation, .region = context.region};
  if constexpr (requires { request.secret_id; }) {
    if (request.secret_id) event.secret_arn = *request.secret_id;
  } else if constexpr (requires { request.name; }) {
    if (request.name) event.secret_arn = *request.name;
  }
  if constexpr (requires { request.client_request_token; }) {
    if (request.client_request_token) event.version_id = *request.client_request_token;
  }
  if constexpr (requires { request.version_stages; }) {
    if (request.version_stages) event.labels = *request.version_stages;
  } else if constexpr (requires { request.version_stage; }) {
    if (request.version_stage) event.labels = std::span(&*request.version_stage, 1);
  }
  if (result.ok()) {
    if constexpr (requires { result.value().arn; }) {
      if (result.value().arn) event.secret_arn = *result.value().arn;
    }
  } else {
    event.error = result.error().code;
    event.message = result.error().message;
  }
  events_.append(event);
}

}  // namespace smemu
