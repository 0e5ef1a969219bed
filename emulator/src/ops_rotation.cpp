// RotateSecret's service-side checks (spec 5.2) and CancelRotateSecret (spec 5.7, D13).
#include <fmt/format.h>

#include "service_internal.h"
#include "smemu/model/labels.h"

namespace smemu {

Result<api::RotateSecretResponse> Service::rotate_secret(const CallContext& context,
                                                         const api::RotateSecretRequest& request) {
  const auto now = this->now();
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
  // 4. the rules: one schedule, not both.
  if (request.rotation_rules && request.rotation_rules->automatically_after_days &&
      request.rotation_rules->schedule_expression) {
    return make_error(ErrorCode::InvalidParameter,
                      "You can't specify both AutomaticallyAfterDays and ScheduleExpression.");
  }
  // 5. a function ARN, given or stored.
  const auto lambda_arn = request.rotation_lambda_arn && !request.rotation_lambda_arn->empty()
                              ? request.rotation_lambda_arn
                              : secret.meta.rotation.lambda_arn;
  if (!lambda_arn) return make_error(ErrorCode::InvalidRequest, std::string(msg::kNoRotationLambda));
  // 6. the function must be invocable. No rotation function can be registered yet, so none is:
  //    AccessDeniedException, and nothing has changed.
  return make_error(ErrorCode::AccessDenied, std::string(msg::kCannotInvokeLambda));
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
  // Spec 5.7: rotation is turned off, its configuration kept, AWSPENDING left where it is; the
  // answer names the version the interrupted rotation created.
  rotation.enabled = false;
  secret.meta.last_changed = now;
  sync_replicas(secret);
  api::CancelRotateSecretResponse response{store_.arn(secret), secret.meta.name, std::nullopt};
  const auto* pending = secret.holder(labels::kPending);
  if (pending && pending != secret.holder(labels::kCurrent)) response.version_id = pending->id;
  return response;
}

}  // namespace smemu
