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

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "smemu/emulator/api.h"
#include "smemu/emulator/client.h"
#include "smemu/emulator/clock.h"
#include "smemu/emulator/random.h"
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

  // A fresh ClientRequestToken (UUID v4) from the seeded "token" stream, as the SDKs would fill in.
  std::string new_request_token();

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

  ServiceOptions options_;
  std::unique_ptr<VirtualClock> owned_clock_;
  Clock* clock_;
  std::unique_ptr<Random> random_;
  mutable std::shared_mutex mutex_;
  model::Store store_;
};

}  // namespace smemu
