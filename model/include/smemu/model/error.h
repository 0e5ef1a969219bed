// Error: an expected failure, carried as a value. Its code comes from errors.def (the one
// table); its message is what the service says, verbatim where the spec (section 10) records it.
// Thread-safety: a plain value.
#pragma once

#include <string>
#include <string_view>

namespace smemu {

enum class ErrorCode {
#define SMEMU_ERROR(code, name, status) code,
#include "smemu/model/errors.def"
#undef SMEMU_ERROR
};

// The exception name on the wire, e.g. "ResourceNotFoundException".
std::string_view aws_name(ErrorCode code);
// The HTTP status the endpoint answers with (400 for client errors, 500 for internal faults).
int http_status(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;

  std::string_view name() const { return aws_name(code); }
  bool operator==(const Error&) const = default;
};

inline Error make_error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

// Messages the spec records verbatim (section 10); formatted ones are built where they are raised.
namespace msg {
inline constexpr std::string_view kSecretNotFound = "Secrets Manager can't find the specified secret.";
inline constexpr std::string_view kMarkedForDeletion =
    "You can't perform this operation on the secret because it was marked for deletion.";
inline constexpr std::string_view kNameScheduledForDeletion =
    "You can't create this secret because a secret with this name is already scheduled for deletion.";
inline constexpr std::string_view kStageNotAssociated =
    "You provided a VersionStage that is not associated to the provided VersionId.";
inline constexpr std::string_view kMissingToken =
    "You must provide a ClientRequestToken value. We recommend a UUID-type value.";
inline constexpr std::string_view kPreviousRotationIncomplete =
    "A previous rotation isn't complete. That rotation will be reattempted.";
inline constexpr std::string_view kNoRotationLambda = "No Lambda rotation function ARN is associated with this secret.";
inline constexpr std::string_view kCannotInvokeLambda =
    "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants "
    "access to the principal secretsmanager.amazonaws.com.";
inline constexpr std::string_view kInvalidName =
    "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!";
}  // namespace msg

}  // namespace smemu
