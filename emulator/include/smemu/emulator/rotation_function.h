// Rotation functions: what Secrets Manager invokes, four times per rotation, for a secret whose
// RotationLambdaARN names it. smemu registers them by that ARN (Service::register_function).
//
// A function receives the event a Lambda would (Step, SecretId as the secret's ARN,
// ClientRequestToken, RotationToken) and a Client of the secret's region, through which it calls
// the operations; no lock of the service is held while it runs, so it may call anything. It
// answers with a StepResult: ok, error (with the message that lands in RotationFailed), or
// timeout. It may report the virtual time it used; that time counts against its timeout
// (default 30 s, D16) and the next step runs that much later on the emulator's clock.
//
// Thread-safety: a function may be invoked from any thread, for different secrets at once.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "smemu/model/rotation.h"
#include "smemu/model/time.h"

namespace smemu {

class Client;

struct RotationEvent {
  std::string step;                  // createSecret | setSecret | testSecret | finishSecret
  std::string secret_id;             // the secret's ARN
  std::string client_request_token;  // the rotation's token = the new version's id
  std::string rotation_token;        // opaque; echoed back through PutSecretValue.RotationToken
};

struct StepResult {
  model::Outcome outcome = model::Outcome::kOk;
  std::string message;  // why the step failed; never a secret value (D19)
  Duration time_used{};

  static StepResult ok(Duration used = {}) { return {model::Outcome::kOk, {}, used}; }
  static StepResult error(std::string message, Duration used = {}) {
    return {model::Outcome::kError, std::move(message), used};
  }
  static StepResult timeout(Duration used = {}) { return {model::Outcome::kTimeout, {}, used}; }
};

// An exception escaping the function fails its step, as an unhandled exception fails a Lambda
// invocation: StepResult::error with "Unhandled exception: " and what() (D1 re-attempts follow).
using RotationFunction = std::function<StepResult(const RotationEvent& event, Client& client)>;

struct FunctionOptions {
  Duration timeout = std::chrono::seconds(30);
};

}  // namespace smemu
