// Versions and labels: PutSecretValue, GetSecretValue, UpdateSecretVersionStage
// (spec 3.2, 3.4, 3.5, 4.2-4.4, D3, D6, D7, D8).
#include <algorithm>

#include <fmt/format.h>

#include "service_internal.h"
#include "smemu/model/labels.h"

namespace smemu {
namespace {

Error no_value_for_stage(std::string_view stage) {
  return make_error(ErrorCode::ResourceNotFound,
                    fmt::format("Secrets Manager can't find the specified secret value for staging label: {}", stage));
}

Error no_value_for_version(std::string_view version_id) {
  return make_error(ErrorCode::ResourceNotFound,
                    fmt::format("Secrets Manager can't find the specified secret value for VersionId: {}", version_id));
}

// Spec 3.5 and section 10 #4-#6: which version a GetSecretValue names.
Result<const model::SecretVersion*> version_to_read(const model::Secret& secret, const api::GetSecretValueRequest& request) {
  if (request.version_id) {
    const auto* version = secret.find_version(*request.version_id);
    if (!version) return no_value_for_version(*request.version_id);
    if (request.version_stage) {
      const auto* holder = secret.holder(*request.version_stage);
      if (holder != version) return make_error(ErrorCode::InvalidRequest, std::string(msg::kStageNotAssociated));
      if (version->value.empty()) return no_value_for_stage(*request.version_stage);
    }
    if (version->value.empty()) return no_value_for_version(*request.version_id);
    return version;
  }
  const std::string_view stage = request.version_stage ? std::string_view(*request.version_stage) : labels::kCurrent;
  const auto* version = secret.holder(stage);
  if (!version || version->value.empty()) return no_value_for_stage(stage);
  return version;
}

}  // namespace

Result<api::GetSecretValueResponse> Service::get_secret_value(const CallContext& context,
                                                              const api::GetSecretValueRequest& request) {
  const auto now = this->now();
  const auto today = day_floor(now);
  bool record_access = false;
  auto read = [&]() -> Result<api::GetSecretValueResponse> {
    std::shared_lock lock(mutex_);
    auto found = detail::find_secret(std::as_const(store_), context, *request.secret_id, now);
    if (!found) return std::move(found).error();
    const auto& secret = *found.value();
    if (auto status = detail::check_not_deleted(secret); !status) return std::move(status).error();
    auto version = version_to_read(secret, request);
    if (!version) return std::move(version).error();
    const auto& v = *version.value();
    // LastAccessedDate has date resolution, so only the first read of a day writes.
    record_access = v.last_accessed != today || secret.meta.last_accessed != today;
    const bool binary = v.value.kind == model::ValueKind::kBinary;
    // Built in one go: every call answers with it, and member by member costs a zeroing first.
    return api::GetSecretValueResponse{
        .arn = store_.arn(secret),
        .name = secret.meta.name,
        .version_id = v.id,
        .secret_binary = binary ? std::optional<api::Bytes>(v.value.bytes) : std::nullopt,
        .secret_string = binary ? std::nullopt : std::optional<std::string>(v.value.bytes),
        .version_stages = secret.labels_of(v),
        .created_date = v.created,
    };
  }();
  if (read && record_access) {
    std::unique_lock lock(mutex_);
    if (auto* secret = store_.find(context.region, *request.secret_id, now)) secret->touch(*read->version_id, now);
  }
  return read;
}

Result<api::PutSecretValueResponse> Service::put_secret_value(const CallContext& context,
                                                              const api::PutSecretValueRequest& request) {
  auto value = detail::request_value(request.secret_string, request.secret_binary);
  if (!value) return std::move(value).error();
  if (!value.value()) {
    return make_error(ErrorCode::InvalidParameter, "You must provide either SecretString or SecretBinary.");
  }
  if (auto status = detail::check_token(request.client_request_token, ErrorCode::InvalidRequest); !status) {
    return std::move(status).error();
  }
  const auto now = this->now();
  std::unique_lock lock(mutex_);
  auto found = detail::find_secret(store_, context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  auto& secret = *found.value();
  if (auto status = detail::check_not_deleted(secret); !status) return std::move(status).error();
  if (auto status = detail::check_primary(secret); !status) return std::move(status).error();

  // Built once: the error messages and the response both carry it, and a write does not change it.
  auto arn = store_.arn(secret);
  auto written = secret.write_version(
      model::VersionWrite{*request.client_request_token, std::move(*value.value()), request.version_stages}, now, arn);
  if (!written) return std::move(written).error();
  if (written->kind != model::WriteOutcome::Kind::kReplayed) {
    secret.meta.last_changed = now;
    after_write(secret, arn, written->purged_versions, written->moves, detail::abandoned_rotation(*written), now);
    sync_replicas(secret);
  }
  return api::PutSecretValueResponse{std::move(arn), secret.meta.name, *request.client_request_token,
                                     std::move(written->stages)};
}

Result<api::UpdateSecretVersionStageResponse> Service::update_secret_version_stage(
    const CallContext& context, const api::UpdateSecretVersionStageRequest& request) {
  const auto now = this->now();
  std::unique_lock lock(mutex_);
  auto found = detail::find_secret(store_, context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  auto& secret = *found.value();
  if (auto status = detail::check_not_deleted(secret); !status) return std::move(status).error();
  if (auto status = detail::check_primary(secret); !status) return std::move(status).error();
  auto moved = secret.update_stage(*request.version_stage, request.remove_from_version_id, request.move_to_version_id);
  if (!moved) return std::move(moved).error();
  // TEST-ONLY PLANTED BUG (ServiceOptions::test_plant_bug, issue 4 item 5): a known violation of
  // spec 4.4 that the property tests must find. When this call moved AWSCURRENT, AWSPREVIOUS is
  // taken off again, so it does not stay on the version AWSCURRENT left. Off unless a test sets it.
  if (options_.test_plant_bug &&
      std::any_of(moved->moves.begin(), moved->moves.end(),
                  [](const model::LabelMove& move) { return move.label == labels::kCurrent; })) {
    if (const auto* previous = secret.holder(labels::kPrevious)) {
      (void)secret.update_stage(labels::kPrevious, previous->id, std::nullopt);
    }
  }
  secret.meta.last_changed = now;
  auto arn = store_.arn(secret);
  after_write(secret, arn, {}, moved->moves, std::nullopt, now);
  sync_replicas(secret);
  return api::UpdateSecretVersionStageResponse{std::move(arn), secret.meta.name};
}

}  // namespace smemu
