#include "smemu/emulator/service.h"

#include <fmt/format.h>

#include "service_internal.h"
#include "smemu/model/labels.h"

namespace smemu {

Service::Service(ServiceOptions options)
    : options_(std::move(options)),
      owned_clock_(options_.clock ? nullptr : std::make_unique<VirtualClock>()),
      clock_(options_.clock ? options_.clock : owned_clock_.get()),
      random_(std::make_unique<Random>(options_.seed)),
      store_(options_.partition, options_.account),
      queue_(std::make_unique<WorkQueue>()),
      events_(options_.event_capacity, options_.partition, options_.account) {}

Service::~Service() = default;

std::string Service::new_request_token() {
  std::lock_guard lock(random_->mutex);
  return random_->token.uuid();
}

std::string Service::new_suffix() {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::lock_guard lock(random_->mutex);
  std::string suffix(6, ' ');
  for (auto& c : suffix) c = kAlphabet[random_->suffix.below(kAlphabet.size())];
  return suffix;
}

void Service::reset() {
  {
    std::unique_lock lock(mutex_);
    store_ = model::Store(options_.partition, options_.account);
    // Steps running now find their secret gone when they end, and are discarded.
    queue_ = std::make_unique<WorkQueue>();
    // Under the lock, so that the commit at its end (a --state journal) keeps the emptied
    // databases too; the database's own lock is innermost (it never calls the service).
    database_.restore({});
  }
}

void Service::inspect(std::string_view region, std::string_view secret_id,
                      const std::function<void(const model::Secret*)>& visit) const {
  const auto at = now();
  std::shared_lock lock(mutex_);
  visit(store_.find(region, secret_id, at));
}

void Service::inspect_all(std::string_view region, const std::function<void(const model::Secret&)>& visit) const {
  const auto at = now();
  std::shared_lock lock(mutex_);
  store_.for_each(region, at, visit);
}

namespace detail {

Error secret_not_found() { return make_error(ErrorCode::ResourceNotFound, std::string(msg::kSecretNotFound)); }

Result<model::Secret*> find_secret(model::Store& store, const CallContext& context, std::string_view secret_id,
                                   Timestamp now) {
  if (auto* secret = store.find(context.region, secret_id, now)) return secret;
  return secret_not_found();
}

Result<const model::Secret*> find_secret(const model::Store& store, const CallContext& context,
                                         std::string_view secret_id, Timestamp now) {
  if (const auto* secret = store.find(context.region, secret_id, now)) return secret;
  return secret_not_found();
}

Status check_not_deleted(const model::Secret& secret) {
  if (secret.meta.marked_for_deletion()) return make_error(ErrorCode::InvalidRequest, std::string(msg::kMarkedForDeletion));
  return ok_status();
}

Status check_primary(const model::Secret& secret) {
  if (secret.meta.is_replica()) {
    // The text AWS answers with (recorded from a live run).
    return make_error(ErrorCode::InvalidParameter,
                      "Operation not permitted on a replica secret. Call must be made in primary secret's region.");
  }
  return ok_status();
}

Status check_token(const std::optional<std::string>& token, ErrorCode code) {
  if (!token) return make_error(code, std::string(msg::kMissingToken));
  return ok_status();
}

Result<std::optional<model::SecretValue>> request_value(const std::optional<std::string>& secret_string,
                                                        const std::optional<api::Bytes>& secret_binary) {
  if (secret_string && secret_binary) {
    return make_error(ErrorCode::InvalidParameter,
                      "You can't specify both a binary secret value and a string secret value in the same secret.");
  }
  if (secret_string) return std::optional{model::SecretValue::string(*secret_string)};
  if (secret_binary) return std::optional{model::SecretValue::binary(*secret_binary)};
  return std::optional<model::SecretValue>{};
}

std::vector<api::Tag> to_api(const std::vector<model::Tag>& tags) {
  std::vector<api::Tag> out;
  out.reserve(tags.size());
  for (const auto& tag : tags) out.push_back(api::Tag{tag.key, tag.value});
  return out;
}

api::RotationRules to_api(const model::RotationRules& rules) {
  return api::RotationRules{rules.automatically_after_days, rules.duration, rules.schedule_expression};
}

std::map<std::string, std::vector<std::string>> version_stages(const model::Secret& secret) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& version : secret.versions()) {
    auto labels = secret.labels_of(version);
    if (!labels.empty()) out.emplace(version.id, std::move(labels));
  }
  return out;
}

namespace {

// The members DescribeSecret and SecretListEntry share, filled the same way for both.
template <class Entry>
void fill_metadata(Entry& out, const model::Store& store, const model::Secret& secret) {
  const auto& meta = secret.meta;
  out.arn = store.arn(meta);
  out.name = meta.name;
  out.type = meta.type;
  out.description = meta.description;
  out.kms_key_id = meta.kms_key_id;
  const auto& rotation = meta.rotation;
  out.rotation_enabled = rotation.enabled;
  out.rotation_lambda_arn = rotation.lambda_arn;
  if (rotation.rules) out.rotation_rules = to_api(*rotation.rules);
  // Spec 3.7: LastRotatedDate and NextRotationDate are null while rotation is disabled.
  if (rotation.enabled.value_or(false)) {
    out.last_rotated_date = rotation.last_rotated;
    out.next_rotation_date = rotation.next_rotation;
  }
  out.last_changed_date = meta.last_changed;
  out.last_accessed_date = meta.last_accessed;
  out.deleted_date = meta.deleted;
  if (meta.tags) out.tags = to_api(*meta.tags);
  out.owning_service = meta.owning_service;
  out.created_date = meta.created;
  if (meta.is_replica() || !meta.replicas.empty()) out.primary_region = meta.primary_region;
}

}  // namespace

api::DescribeSecretResponse describe(const model::Store& store, const model::Secret& secret, Timestamp now) {
  api::DescribeSecretResponse out;
  fill_metadata(out, store, secret);
  if (auto stages = version_stages(secret); !stages.empty()) out.version_ids_to_stages = std::move(stages);
  if (!secret.meta.replicas.empty()) out.replication_status = replication_status(store, secret, now);
  return out;
}

api::SecretListEntry list_entry(const model::Store& store, const model::Secret& secret) {
  api::SecretListEntry out;
  fill_metadata(out, store, secret);
  if (auto stages = version_stages(secret); !stages.empty()) out.secret_versions_to_stages = std::move(stages);
  return out;
}

}  // namespace detail
}  // namespace smemu
