// Secret lifecycle: CreateSecret, UpdateSecret, DescribeSecret, DeleteSecret, RestoreSecret,
// TagResource, UntagResource (spec 3.1, 3.3, 3.7, 3.12, 3.14, 6, D4, D9, D10).
#include <algorithm>

#include <fmt/format.h>

#include "service_internal.h"

namespace smemu {
namespace {

constexpr std::int64_t kMinRecoveryDays = 7;
constexpr std::int64_t kMaxRecoveryDays = 30;
constexpr std::size_t kMaxTags = 50;
constexpr std::string_view kReservedTagPrefix = "aws:";

// Spec 8, D9: letters, digits and -/_+=.@! (the service's own message lists '!').
bool valid_secret_name(std::string_view name) {
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("-/_+=.@!").find(c) != std::string_view::npos;
  });
}

// D10: at most 50 tags, keys may not use the aws: prefix. Returns the merged list.
Result<std::vector<model::Tag>> merge_tags(std::vector<model::Tag> tags, const std::vector<api::Tag>& added) {
  for (const auto& tag : added) {
    const auto& key = *tag.key;
    if (key.starts_with(kReservedTagPrefix)) {
      return make_error(ErrorCode::InvalidParameter,
                        fmt::format("You can't use the tag key {}: keys that start with aws: are reserved for AWS use.",
                                    key));
    }
    const auto value = tag.value.value_or("");
    auto it = std::find_if(tags.begin(), tags.end(), [&](const model::Tag& t) { return t.key == key; });
    if (it != tags.end()) {
      it->value = value;
    } else {
      tags.push_back(model::Tag{key, value});
    }
  }
  if (tags.size() > kMaxTags) {
    return make_error(ErrorCode::InvalidParameter,
                      fmt::format("A secret can have at most {} tags; this request would leave {}.", kMaxTags,
                                  tags.size()));
  }
  return tags;
}

Status check_tag_members(const std::vector<api::Tag>& tags) {
  for (const auto& tag : tags) {
    if (!tag.key) return make_error(ErrorCode::InvalidParameter, "Every tag must have a Key.");
  }
  return ok_status();
}

}  // namespace

Result<api::CreateSecretResponse> Service::create_secret(const CallContext& context,
                                                         const api::CreateSecretRequest& request) {
  const auto& name = *request.name;
  if (!valid_secret_name(name)) return make_error(ErrorCode::Validation, std::string(msg::kInvalidName));
  auto value = detail::request_value(request.secret_string, request.secret_binary);
  if (!value) return std::move(value).error();
  if (value.value()) {
    if (auto status = detail::check_token(request.client_request_token, ErrorCode::InvalidRequest); !status) {
      return std::move(status).error();
    }
  }
  if (request.tags) {
    if (auto status = check_tag_members(*request.tags); !status) return std::move(status).error();
  }
  const auto suffix = new_suffix();
  const auto now = this->now();

  std::unique_lock lock(mutex_);
  store_.purge_expired(now);
  if (auto* existing = store_.find_by_name(context.region, name)) {
    if (existing->meta.marked_for_deletion()) {
      return make_error(ErrorCode::InvalidRequest, std::string(msg::kNameScheduledForDeletion));
    }
    // Spec 4.2: a retry with the token of an existing version and the same value succeeds and
    // changes nothing; any other CreateSecret of an existing name fails.
    const auto* version =
        request.client_request_token ? existing->find_version(*request.client_request_token) : nullptr;
    if (version && value.value() && !version->value.empty()) {
      if (version->value == *value.value()) {
        return api::CreateSecretResponse{store_.arn(*existing), existing->meta.name, version->id, std::nullopt};
      }
      return make_error(ErrorCode::ResourceExists,
                        fmt::format("You can't use ClientRequestToken {} because that value is already in use for a "
                                    "version of secret {}.",
                                    version->id, store_.arn(*existing)));
    }
    return make_error(ErrorCode::ResourceExists, fmt::format("The operation failed because the secret {} already exists.",
                                                             name));
  }

  model::SecretMetadata meta;
  meta.name = name;
  meta.region = std::string(context.region);
  meta.primary_region = meta.region;
  meta.suffix = suffix;
  if (request.description && !request.description->empty()) meta.description = request.description;
  if (request.kms_key_id && !request.kms_key_id->empty()) meta.kms_key_id = request.kms_key_id;
  meta.type = request.type;
  meta.created = now;
  meta.last_changed = now;
  if (request.tags) {
    auto tags = merge_tags({}, *request.tags);
    if (!tags) return std::move(tags).error();
    meta.tags = std::move(tags.value());
  }
  model::Secret secret(std::move(meta));
  if (request.add_replica_regions) {
    if (auto status = detail::check_replica_regions(secret, *request.add_replica_regions); !status) {
      return std::move(status).error();
    }
  }
  api::CreateSecretResponse response;
  std::vector<model::LabelMove> moves;
  if (value.value()) {
    auto written = secret.write_version(model::VersionWrite{*request.client_request_token, std::move(*value.value()),
                                                            std::nullopt},
                                        now, store_.arn(secret));
    if (!written) return std::move(written).error();
    response.version_id = *request.client_request_token;
    moves = std::move(written->moves);
  }
  auto& stored = store_.insert(std::move(secret));
  response.arn = store_.arn(stored);
  after_write(stored, *response.arn, {}, moves, std::nullopt, now);
  response.name = stored.meta.name;
  if (request.add_replica_regions) {
    response.replication_status =
        add_replicas(stored, *request.add_replica_regions, request.force_overwrite_replica_secret.value_or(false), now);
  }
  return response;
}

Result<api::UpdateSecretResponse> Service::update_secret(const CallContext& context,
                                                         const api::UpdateSecretRequest& request) {
  auto value = detail::request_value(request.secret_string, request.secret_binary);
  if (!value) return std::move(value).error();
  if (value.value()) {
    if (auto status = detail::check_token(request.client_request_token, ErrorCode::InvalidRequest); !status) {
      return std::move(status).error();
    }
  }
  const auto now = this->now();
  std::unique_lock lock(mutex_);
  auto found = detail::find_secret(store_, context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  auto& secret = *found.value();
  if (auto status = detail::check_not_deleted(secret); !status) return std::move(status).error();
  if (auto status = detail::check_primary(secret); !status) return std::move(status).error();

  // Built once: the error messages, the events and the response all carry it.
  auto arn = store_.arn(secret);
  api::UpdateSecretResponse response;
  if (value.value()) {
    // D4: the same rules as PutSecretValue for a token that already names a version.
    auto written = secret.write_version(model::VersionWrite{*request.client_request_token, std::move(*value.value()),
                                                            std::nullopt},
                                        now, arn);
    if (!written) return std::move(written).error();
    response.version_id = *request.client_request_token;
    if (written->kind != model::WriteOutcome::Kind::kReplayed) {
      after_write(secret, arn, written->purged_versions, written->moves, detail::abandoned_rotation(*written), now);
    }
  }
  if (request.description) {
    secret.meta.description =
        request.description->empty() ? std::nullopt : std::optional<std::string>(*request.description);
  }
  if (request.kms_key_id) {
    // Spec 3.3: an empty KmsKeyId goes back to the aws/secretsmanager key.
    secret.meta.kms_key_id = request.kms_key_id->empty() ? std::nullopt : std::optional<std::string>(*request.kms_key_id);
  }
  if (request.type) secret.meta.type = request.type;
  secret.meta.last_changed = now;
  sync_replicas(secret);
  response.arn = std::move(arn);
  response.name = secret.meta.name;
  return response;
}

Result<api::DescribeSecretResponse> Service::describe_secret(const CallContext& context,
                                                             const api::DescribeSecretRequest& request) {
  const auto now = this->now();
  std::shared_lock lock(mutex_);
  auto found = detail::find_secret(std::as_const(store_), context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  return detail::describe(store_, *found.value(), now);
}

Result<api::DeleteSecretResponse> Service::delete_secret(const CallContext& context,
                                                         const api::DeleteSecretRequest& request) {
  const bool force = request.force_delete_without_recovery.value_or(false);
  if (force && request.recovery_window_in_days) {
    return make_error(ErrorCode::InvalidParameter,
                      "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
  }
  const auto window = request.recovery_window_in_days.value_or(kMaxRecoveryDays);
  if (window < kMinRecoveryDays || window > kMaxRecoveryDays) {
    return make_error(ErrorCode::InvalidParameter,
                      "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
  }
  const auto now = this->now();
  std::unique_lock lock(mutex_);
  auto found = detail::find_secret(store_, context, *request.secret_id, now);
  if (!found) {
    // Spec 6: force-deleting a secret that does not exist (or is already gone) is not an error.
    if (force) return api::DeleteSecretResponse{std::nullopt, *request.secret_id, now};
    return std::move(found).error();
  }
  auto& secret = *found.value();
  if (auto status = detail::check_primary(secret); !status) return std::move(status).error();
  if (!secret.meta.replicas.empty()) {
    std::vector<std::string> regions;
    for (const auto& replica : secret.meta.replicas) regions.push_back(replica.region);
    return make_error(ErrorCode::InvalidParameter,
                      fmt::format("You can't delete secret {} that still has replica regions [{}].",
                                  *request.secret_id, fmt::join(regions, ", ")));
  }
  api::DeleteSecretResponse response{store_.arn(secret), secret.meta.name, std::nullopt};
  if (force) {
    response.deletion_date = now;
    store_.erase(secret.meta.region, secret.meta.name);
    return response;
  }
  if (secret.meta.marked_for_deletion()) {
    return make_error(ErrorCode::InvalidRequest,
                      "You tried to perform the operation on a secret that's currently marked deleted.");
  }
  secret.meta.deleted = now;
  secret.meta.deletion_due = now + days(window);
  response.deletion_date = secret.meta.deletion_due;
  return response;
}

Result<api::RestoreSecretResponse> Service::restore_secret(const CallContext& context,
                                                           const api::RestoreSecretRequest& request) {
  const auto now = this->now();
  std::unique_lock lock(mutex_);
  auto found = detail::find_secret(store_, context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  auto& secret = *found.value();
  if (auto status = detail::check_primary(secret); !status) return std::move(status).error();
  // Restoring a secret that is not marked for deletion changes nothing and succeeds.
  if (secret.meta.marked_for_deletion()) {
    secret.meta.deleted.reset();
    secret.meta.deletion_due.reset();
    secret.meta.last_changed = now;
  }
  return api::RestoreSecretResponse{store_.arn(secret), secret.meta.name};
}

Result<api::Empty> Service::tag_resource(const CallContext& context, const api::TagResourceRequest& request) {
  if (auto status = check_tag_members(*request.tags); !status) return std::move(status).error();
  const auto now = this->now();
  std::unique_lock lock(mutex_);
  auto found = detail::find_secret(store_, context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  auto& secret = *found.value();
  if (auto status = detail::check_not_deleted(secret); !status) return std::move(status).error();
  if (auto status = detail::check_primary(secret); !status) return std::move(status).error();
  auto tags = merge_tags(secret.meta.tags.value_or(std::vector<model::Tag>{}), *request.tags);
  if (!tags) return std::move(tags).error();
  secret.meta.tags = std::move(tags.value());
  secret.meta.last_changed = now;
  sync_replicas(secret);
  return api::Empty{};
}

Result<api::Empty> Service::untag_resource(const CallContext& context, const api::UntagResourceRequest& request) {
  const auto now = this->now();
  std::unique_lock lock(mutex_);
  auto found = detail::find_secret(store_, context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  auto& secret = *found.value();
  if (auto status = detail::check_not_deleted(secret); !status) return std::move(status).error();
  if (auto status = detail::check_primary(secret); !status) return std::move(status).error();
  // Spec 3.14: missing keys are not an error; once tagged, a secret reports Tags even when empty.
  auto tags = secret.meta.tags.value_or(std::vector<model::Tag>{});
  std::erase_if(tags, [&](const model::Tag& tag) {
    return std::find(request.tag_keys->begin(), request.tag_keys->end(), tag.key) != request.tag_keys->end();
  });
  if (secret.meta.tags) secret.meta.tags = std::move(tags);
  secret.meta.last_changed = now;
  sync_replicas(secret);
  return api::Empty{};
}

}  // namespace smemu
