// RotateSecret (spec 5.2, 5.3, D2, D12, D16) and CancelRotateSecret (spec 5.7, D13). The
// checks and the state changes are the model's (Secret::start_rotation); running the function
// is the engine's (rotation_engine.cpp).
#include <fmt/format.h>

#include "service_internal.h"
#include "smemu/model/labels.h"

namespace smemu {

Result<api::RotateSecretResponse> Service::rotate_secret(const CallContext& context,
                                                         const api::RotateSecretRequest& request) {
  const auto now = this->now();
  api::RotateSecretResponse response;
  {
    std::unique_lock lock(mutex_);
    // 5.2 in order: 1. the secret exists; 2. it is not marked for deletion; 3. a token was given.
    auto found = detail::find_secret(store_, context, *request.secret_id, now);
    if (!found) return std::move(found).error();
    auto& secret = *found.value();
    if (auto status = detail::check_not_deleted(secret); !status) return std::move(status).error();
    if (auto status = detail::check_token(request.client_request_token, ErrorCode::InvalidParameter); !status) {
      return std::move(status).error();
    }
    if (auto status = detail::check_primary(secret); !status) return std::move(status).error();
    std::optional<model::RotationRules> rules;
    if (request.rotation_rules) {
      const auto& r = *request.rotation_rules;
      rules = model::RotationRules{r.automatically_after_days, r.duration, r.schedule_expression};
    }
    // Built once: the error messages, the events and the response all carry it.
    auto arn = store_.arn(secret);
    // 4. to 7., then the placeholder (or D2's test version, or D12's re-attempt).
    auto started = secret.start_rotation(
        model::RotateInput{*request.client_request_token, request.rotation_lambda_arn, std::move(rules),
                           request.rotate_immediately.value_or(true)},
        [this](std::string_view lambda) { return has_function(lambda); }, now, arn);
    if (!started) return std::move(started).error();
    after_write(secret, arn, started->purged_versions, {}, std::nullopt, now);
    using Kind = model::RotateStart::Kind;
    if (started->kind != Kind::kAlreadyRunning) {
      secret.meta.last_changed = now;
      enqueue_step(secret, now);
      // D2: with RotateImmediately=false the first rotation comes at the next window.
      if (started->kind == Kind::kTest) schedule_next(secret, now, now);
    }
    sync_replicas(secret);
    response = api::RotateSecretResponse{std::move(arn), secret.meta.name, *request.client_request_token};
  }
  notify_work();
  if (options_.inline_rotation) run_until_idle();
  return response;
}

Result<api::CancelRotateSecretResponse> Service::cancel_rotate_secret(const CallContext& context,
                                                                      const api::CancelRotateSecretRequest& request) {
  const auto now = this->now();
  std::unique_lock lock(mutex_);
  auto found = detail::find_secret(store_, context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  auto& secret = *found.value();
  if (auto status = detail::check_not_deleted(secret); !status) return std::move(status).error();
  if (auto status = detail::check_primary(secret); !status) return std::move(status).error();
  auto& rotation = secret.meta.rotation;
  // D13: a secret never configured for rotation has nothing to cancel.
  if (!rotation.lambda_arn) return make_error(ErrorCode::InvalidRequest, std::string(msg::kNoRotationLambda));
  // Spec 5.7: rotation is turned off and a rotation in progress stops; the configuration and
  // AWSPENDING stay where they are; the answer names the version the rotation created.
  rotation.enabled = false;
  rotation.next_rotation.reset();
  secret.cancel_run();
  secret.meta.last_changed = now;
  sync_replicas(secret);
  api::CancelRotateSecretResponse response{store_.arn(secret), secret.meta.name, std::nullopt};
  const auto* pending = secret.holder(labels::kPending);
  if (pending && pending != secret.holder(labels::kCurrent)) response.version_id = pending->id;
  return response;
}

}  // namespace smemu
