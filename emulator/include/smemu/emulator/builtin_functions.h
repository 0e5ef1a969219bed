// Built-in rotation functions, registered by spec (function_spec.h):
//
//   builtin:template[?remove_pending=true|false]
//       The published SecretsManagerRotationTemplate: createSecret puts a GetRandomPassword
//       password (ExcludeCharacters /@"'\) into the token's version with AWSPENDING — into the
//       "password" field when AWSCURRENT holds a JSON object with one, else as the whole
//       SecretString; setSecret and testSecret do nothing beyond the checks every step makes;
//       finishSecret moves AWSCURRENT to the token's version. By default AWSPENDING stays on the
//       new current version, as the published database samples leave it; remove_pending=true
//       also removes it, as the newest template does.
//   builtin:single-user
//       SecretsManagerRDS*RotationSingleUser on the SimulatedDatabase: the secret's own user
//       changes its password (logging in with AWSCURRENT, else AWSPREVIOUS).
//   builtin:alternating-users
//       SecretsManagerRDS*RotationMultiUser: each rotation switches `username` between NAME and
//       NAME_clone and sets the new user's password as the admin named by the secret's
//       `masterarn` (created by the admin on first use); the other user keeps its password.
//
// Every function first checks, as the samples do, that the secret is enabled for rotation and
// that the token's version holds AWSPENDING (returning at once when it already holds
// AWSCURRENT). A failure is StepResult::error with the message the sample's Lambda would end
// with, "ErrorType: text" — API failures as botocore words them ("An error occurred (Code) when
// calling the Operation operation: ..."). Messages may name users, hosts and secret ARNs, never
// a password or a whole secret value (D19). Every call goes through the Client the function is
// given. The database functions read the secret as JSON with the samples' fields: engine, host,
// username, password (required, strings), port (number or numeric string) and dbname (string);
// alternating-users also needs masterarn. Any engine name is accepted.
//
// D17: with no AWSCURRENT version every built-in fails createSecret (its GetSecretValue of
// AWSCURRENT), exactly as the samples do.
//
// Thread-safety: the functions keep no state of their own; the SimulatedDatabase is thread-safe.
#pragma once

#include <string_view>

#include "smemu/emulator/function_spec.h"
#include "smemu/emulator/rotation_function.h"
#include "smemu/emulator/simulated_database.h"
#include "smemu/model/result.h"

namespace smemu {

class Client;

struct BuiltinFunction {
  RotationFunction function;  // with the spec's faults and step time applied (with_faults)
  FunctionOptions options;
};

// The function a builtin:NAME[?OPTIONS] spec names. `database` must outlive the function.
// Errors: InvalidParameterException for a spec of another scheme, an unknown name, an option the
// name does not take, or a bad value.
Result<BuiltinFunction> make_builtin_function(std::string_view spec, SimulatedDatabase& database);

// The connection fields of a secret value (see above). Errors (InvalidParameterException) carry
// the sample's message, e.g. "KeyError: 'host key is missing from secret JSON'", and no value.
Result<SimulatedDatabase::Credentials> database_credentials(std::string_view secret_string);

// First contact: creates the database the AWSCURRENT value of `secret_id` names, unless it
// exists, with that value's user — and, when the value names a `masterarn` whose AWSCURRENT value
// logs in to the same database (the admin's engine, host and port with the secret's dbname), the
// admin user too. Reads through `client`; errors as database_credentials, or the API's.
Status ensure_database(Client& client, SimulatedDatabase& database, std::string_view secret_id);

}  // namespace smemu
