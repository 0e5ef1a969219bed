#include "smemu/emulator/downtime.h"

#include <algorithm>
#include <utility>

#include "smemu/emulator/builtin_functions.h"
#include "smemu/emulator/service.h"
#include "smemu/model/labels.h"

namespace smemu {

CachedApplication::CachedApplication(Service& service, std::string region, std::string secret_id,
                                     Duration cache_ttl)
    : service_(&service), region_(std::move(region)), secret_id_(std::move(secret_id)), cache_ttl_(cache_ttl) {}

Result<bool> CachedApplication::login() {
  const auto now = service_->clock().now();
  if (!credentials_ || now - read_at_ >= cache_ttl_) {
    auto client = service_->client(region_);
    auto value = client.get_secret_value(
        {.secret_id = secret_id_, .version_stage = std::string(labels::kCurrent)});
    if (!value) return std::move(value).error();
    auto credentials = database_credentials(value->secret_string.value_or(""));
    if (!credentials) return std::move(credentials).error();
    credentials_ = std::move(credentials).value();
    version_id_ = value->version_id.value_or("");
    read_at_ = now;
  }
  const bool in = service_->database().login(*credentials_);
  ++counts_.attempted;
  if (!in) ++counts_.failed;
  return in;
}

namespace {

Result<bool> holds_current(Client& client, std::string_view secret_id, const std::string& version_id) {
  auto metadata = client.describe_secret({.secret_id = std::string(secret_id)});
  if (!metadata) return std::move(metadata).error();
  const auto& versions = metadata->version_ids_to_stages;
  if (!versions) return false;
  const auto found = versions->find(version_id);
  return found != versions->end() &&
         std::find(found->second.begin(), found->second.end(), labels::kCurrent) != found->second.end();
}

}  // namespace

Result<std::vector<RotationLogins>> measure_downtime(Service& service, std::string_view secret_id,
                                                     const DowntimeOptions& options) {
  if (service.virtual_clock() == nullptr) {
    return make_error(ErrorCode::InvalidRequest, "measure_downtime drives the service's own virtual clock.");
  }
  if (options.rotations < 1 || options.login_every <= Duration{}) {
    return make_error(ErrorCode::InvalidRequest, "measure_downtime needs rotations >= 1 and a positive login_every.");
  }
  auto client = service.client(options.region);
  if (auto contact = ensure_database(client, service.database(), secret_id); !contact) {
    return std::move(contact).error();
  }
  CachedApplication app(service, options.region, std::string(secret_id), options.cache_ttl);
  if (auto warm = app.login(); !warm) return std::move(warm).error();

  std::vector<RotationLogins> runs;
  for (int i = 0; i < options.rotations; ++i) {
    service.advance(options.login_every);
    auto rotated = client.rotate_secret(
        {.secret_id = std::string(secret_id), .rotation_lambda_arn = options.rotation_lambda_arn});
    if (!rotated) return std::move(rotated).error();
    auto& run = runs.emplace_back();
    run.version_id = rotated->version_id.value_or("");
    run.started = service.clock().now();
    for (;;) {
      auto in = app.login();
      if (!in) return std::move(in).error();
      ++run.attempted;
      if (!*in) ++run.failed;
      run.ended = service.clock().now();
      if (app.cached_version() == run.version_id) {
        run.completed = true;
        break;
      }
      if (run.ended - run.started >= options.give_up_after) {
        auto current = holds_current(client, secret_id, run.version_id);
        if (!current) return std::move(current).error();
        run.completed = *current;
        return runs;
      }
      service.advance(options.login_every);
    }
  }
  return runs;
}

}  // namespace smemu
