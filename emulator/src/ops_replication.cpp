// Replication across regions (spec 3.16, 7, D18): ReplicateSecretToRegions,
// RemoveRegionsFromReplication, StopReplicationToReplica, and the copying that keeps replicas in
// step with their primary.
//
// A replica is an ordinary secret of its region with the primary's name and ARN suffix and
// PrimaryRegion set to the primary's region; detail::check_primary refuses writes to it. The
// primary lists its replicas (SecretMetadata::replicas). Replication is synchronous: a replica is
// written in the same call as its primary, so a replica's status is InSync or Failed, never
// InProgress.
//
// Invariant: for every InSync entry of a primary's list, the secret of that name in that region is
// that primary's replica; a Failed entry has no secret of ours behind it (the secret there, if
// any, belongs to someone else).
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "service_internal.h"

namespace smemu {
namespace {

// What ReplicationStatus reports for a replica created without KmsKeyId (spec 7; the
// service's documented examples show the alias).
constexpr std::string_view kDefaultReplicaKey = "alias/aws/secretsmanager";
constexpr std::string_view kInSync = "InSync";
constexpr std::string_view kFailed = "Failed";
// The status messages AWS documents for a replica that was written and for a name clash.
constexpr std::string_view kReplicationSucceeded = "Replication succeeded";
constexpr std::string_view kNameExists = "Secret with this name already exists in this region";
// Observed from the service for a replica in the primary's own region.
constexpr std::string_view kInvalidReplicaRegion = "Invalid replica region.";

Error invalid_region(std::string_view reason) {
  return make_error(ErrorCode::InvalidParameter, fmt::format("{} {}", kInvalidReplicaRegion, reason));
}

Error listed_twice(std::string_view region) {
  return invalid_region(fmt::format("The Region {} is listed more than once.", region));
}

const model::ReplicaStatus* replica_entry(const model::Secret& primary, std::string_view region) {
  const auto& replicas = primary.meta.replicas;
  const auto it = std::find_if(replicas.begin(), replicas.end(),
                               [&](const model::ReplicaStatus& replica) { return replica.region == region; });
  return it == replicas.end() ? nullptr : &*it;
}

// Makes `replica` the primary's copy in the replica's region: versions, labels, values and the
// shared metadata (description, tags, resource policy, rotation, dates of change) come from the
// primary; the region's own fields stay: its region, KMS key, CreatedDate and LastAccessedDate
// (reads in that region). A replica has no replicas of its own.
void copy_into_replica(const model::Secret& primary, model::Secret& replica) {
  auto own = std::move(replica.meta);
  replica = primary;
  replica.meta.region = std::move(own.region);
  replica.meta.kms_key_id = std::move(own.kms_key_id);
  replica.meta.created = own.created;
  replica.meta.last_accessed = own.last_accessed;
  replica.meta.replicas.clear();
}

// A secret already in the target region that ForceOverwriteReplicaSecret may not replace: one
// that is itself a replica or has replicas. Overwriting it would break another replication.
bool in_other_replication(const model::Secret& secret) {
  return secret.meta.is_replica() || !secret.meta.replicas.empty();
}

}  // namespace

namespace detail {

// Validation of AddReplicaRegions (CreateSecret, ReplicateSecretToRegions) before anything
// changes: every entry names a region, none twice, not the primary's own, none already in its
// replica list. InvalidParameterException otherwise.
Status check_replica_regions(const model::Secret& primary, const std::vector<api::ReplicaRegion>& regions) {
  std::set<std::string_view> seen;
  for (const auto& entry : regions) {
    if (!entry.region) return invalid_region("Each entry of AddReplicaRegions must name a Region.");
    const auto& region = *entry.region;
    if (region == primary.meta.region) {
      return make_error(ErrorCode::InvalidParameter, std::string(kInvalidReplicaRegion));
    }
    if (!seen.insert(region).second) return listed_twice(region);
    if (replica_entry(primary, region)) {
      return invalid_region(fmt::format("The secret is already replicated to {}.", region));
    }
  }
  return ok_status();
}

// The primary's ReplicationStatus, each replica with the date it was last read in its region.
std::vector<api::ReplicationStatus> replication_status(const model::Store& store, const model::Secret& primary,
                                                       Timestamp now) {
  std::vector<api::ReplicationStatus> statuses;
  statuses.reserve(primary.meta.replicas.size());
  for (const auto& replica : primary.meta.replicas) {
    api::ReplicationStatus status{replica.region, replica.kms_key_id, replica.status, replica.status_message,
                                  std::nullopt};
    if (replica.status == kInSync) {
      if (const auto* copy = store.find(replica.region, primary.meta.name, now)) {
        status.last_accessed_date = copy->meta.last_accessed;
      }
    }
    statuses.push_back(std::move(status));
  }
  return statuses;
}

}  // namespace detail

std::vector<api::ReplicationStatus> Service::add_replicas(model::Secret& primary,
                                                          const std::vector<api::ReplicaRegion>& regions,
                                                          bool force_overwrite, Timestamp now) {
  primary.meta.last_changed = now;
  for (const auto& entry : regions) {
    const auto& region = *entry.region;
    model::SecretMetadata meta;
    meta.name = primary.meta.name;
    meta.region = region;
    meta.suffix = primary.meta.suffix;
    meta.primary_region = primary.meta.region;
    if (entry.kms_key_id && !entry.kms_key_id->empty()) meta.kms_key_id = entry.kms_key_id;
    meta.created = now;
    model::ReplicaStatus status{region, meta.kms_key_id.value_or(std::string(kDefaultReplicaKey)),
                                std::string(kInSync), std::string(kReplicationSucceeded)};

    // A secret past its recovery window is gone even if not purged yet (spec 6).
    auto* existing = store_.find_by_name(region, primary.meta.name);
    if (existing && model::deletion_expired(existing->meta, now)) {
      store_.erase(region, primary.meta.name);
      existing = nullptr;
    }
    const bool protected_secret = existing && in_other_replication(*existing);
    if (existing && (!force_overwrite || protected_secret)) {
      // Spec 7: the clash fails this replica only; nothing is written in that region.
      status.status = kFailed;
      status.status_message = protected_secret ? fmt::format("{}, and it takes part in another replication, so "
                                                             "ForceOverwriteReplicaSecret can't replace it",
                                                             kNameExists)
                                               : std::string(kNameExists);
    } else {
      model::Secret replica(std::move(meta));
      copy_into_replica(primary, replica);
      if (existing) {
        *existing = std::move(replica);
      } else {
        store_.insert(std::move(replica));
      }
    }
    primary.meta.replicas.push_back(std::move(status));
  }
  return detail::replication_status(store_, primary, now);
}

void Service::sync_replicas(const model::Secret& primary) {
  if (primary.meta.replicas.empty()) return;
  for (const auto& replica : primary.meta.replicas) {
    if (replica.status != kInSync) continue;
    if (auto* copy = store_.find_by_name(replica.region, primary.meta.name)) copy_into_replica(primary, *copy);
  }
}

Result<api::ReplicateSecretToRegionsResponse> Service::replicate_secret_to_regions(
    const CallContext& context, const api::ReplicateSecretToRegionsRequest& request) {
  const auto now = this->now();
  std::unique_lock lock(mutex_);
  auto found = detail::find_secret(store_, context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  auto& primary = *found.value();
  if (auto status = detail::check_not_deleted(primary); !status) return std::move(status).error();
  if (auto status = detail::check_primary(primary); !status) return std::move(status).error();
  const auto& regions = *request.add_replica_regions;
  if (auto status = detail::check_replica_regions(primary, regions); !status) return std::move(status).error();
  auto statuses = add_replicas(primary, regions, request.force_overwrite_replica_secret.value_or(false), now);
  return api::ReplicateSecretToRegionsResponse{store_.arn(primary), std::move(statuses)};
}

Result<api::RemoveRegionsFromReplicationResponse> Service::remove_regions_from_replication(
    const CallContext& context, const api::RemoveRegionsFromReplicationRequest& request) {
  const auto now = this->now();
  std::unique_lock lock(mutex_);
  auto found = detail::find_secret(store_, context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  auto& primary = *found.value();
  if (auto status = detail::check_not_deleted(primary); !status) return std::move(status).error();
  if (auto status = detail::check_primary(primary); !status) return std::move(status).error();
  const auto& regions = *request.remove_replica_regions;
  std::set<std::string_view> seen;
  for (const auto& region : regions) {
    if (!seen.insert(region).second) return listed_twice(region);
    if (!replica_entry(primary, region)) {
      return invalid_region(fmt::format("The secret isn't replicated to {}.", region));
    }
  }

  // Spec 7: replicas are deleted at once, with no recovery window. A Failed entry has no replica
  // behind it: only the entry goes.
  for (const auto& region : regions) {
    if (replica_entry(primary, region)->status == kInSync) store_.erase(region, primary.meta.name);
  }
  std::erase_if(primary.meta.replicas,
                [&](const model::ReplicaStatus& replica) { return seen.contains(replica.region); });
  primary.meta.last_changed = now;
  sync_replicas(primary);
  return api::RemoveRegionsFromReplicationResponse{store_.arn(primary),
                                                   detail::replication_status(store_, primary, now)};
}

Result<api::StopReplicationToReplicaResponse> Service::stop_replication_to_replica(
    const CallContext& context, const api::StopReplicationToReplicaRequest& request) {
  const auto now = this->now();
  std::unique_lock lock(mutex_);
  auto found = detail::find_secret(store_, context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  auto& replica = *found.value();
  if (!replica.meta.is_replica()) {
    return make_error(ErrorCode::InvalidParameter,
                      fmt::format("The secret {} in {} isn't a replica. Call StopReplicationToReplica in the Region "
                                  "of the replica you want to promote.",
                                  replica.meta.name, replica.meta.region));
  }
  if (auto* primary = store_.find_by_name(replica.meta.primary_region, replica.meta.name)) {
    std::erase_if(primary->meta.replicas,
                  [&](const model::ReplicaStatus& entry) { return entry.region == replica.meta.region; });
    primary->meta.last_changed = now;
    sync_replicas(*primary);
  }
  // The promoted secret keeps everything it holds (versions, tags, policy, rotation settings)
  // and from now on takes writes in its own region.
  replica.meta.primary_region = replica.meta.region;
  replica.meta.last_changed = now;
  return api::StopReplicationToReplicaResponse{store_.arn(replica)};
}

}  // namespace smemu
