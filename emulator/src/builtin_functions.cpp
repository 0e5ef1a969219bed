// The built-in rotation functions: the published rotation samples
// (aws-samples/aws-secrets-manager-rotation-lambdas: SecretsManagerRotationTemplate,
// SecretsManagerRDS*RotationSingleUser, SecretsManagerRDS*RotationMultiUser), step for step, with
// the SimulatedDatabase in place of the database driver. Comments name where they differ.
#include "smemu/emulator/builtin_functions.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "smemu/emulator/client.h"
#include "smemu/model/labels.h"

namespace smemu {
namespace {

// Python's json.dumps keeps the keys in the order it read them; so does ordered_json.
using Json = nlohmann::ordered_json;

constexpr std::string_view kTemplateExclude = "/@\"'\\";
constexpr std::string_view kDatabaseExclude = ":/@\"'\\";
constexpr std::string_view kCloneSuffix = "_clone";
constexpr std::size_t kMaxUsernameLength = 63;  // the PostgreSQL multi-user sample's limit
constexpr std::array<std::string_view, 1> kTemplateOptions{"remove_pending"};

enum class Strategy : std::uint8_t { kTemplate, kSingleUser, kAlternatingUsers };

// --- failures, as the sample's Lambda would report them ------------------------------------------

Error python_error(std::string_view type, std::string_view text) {
  return make_error(ErrorCode::InvalidParameter, fmt::format("{}: {}", type, text));
}
Error value_error(std::string_view text) { return python_error("ValueError", text); }
// str() of a Python KeyError quotes its argument.
Error key_error(std::string_view text) { return python_error("KeyError", fmt::format("'{}'", text)); }
bool is_key_error(const Error& error) { return error.message.starts_with("KeyError: "); }

// A failed API call as botocore raises it (ClientError).
template <class T>
Result<T> call(std::string_view operation, Result<T> result) {
  if (result) return result;
  const auto& error = result.error();
  return make_error(error.code, fmt::format("An error occurred ({}) when calling the {} operation: {}", error.name(),
                                            operation, error.message));
}

// --- secret values as the database samples read them (get_secret_dict) -------------------------

struct SecretDict {
  Json json;
  SimulatedDatabase::Credentials credentials;
};

Result<std::string> string_field(const Json& json, std::string_view field) {
  const auto found = json.find(field);
  if (found == json.end()) return key_error(fmt::format("{} key is missing from secret JSON", field));
  if (!found->is_string()) return value_error(fmt::format("{} in secret JSON must be a string", field));
  return found->get<std::string>();
}

Result<std::int64_t> port_field(const Json& json) {
  const auto found = json.find("port");
  if (found == json.end() || found->is_null()) return std::int64_t{0};
  if (found->is_number_integer()) return found->get<std::int64_t>();
  if (found->is_string()) {  // the samples take int(secret_dict['port'])
    const auto& text = found->get_ref<const std::string&>();
    std::int64_t port = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (error == std::errc{} && end == text.data() + text.size()) return port;
  }
  return value_error("port in secret JSON must be a whole number");
}

Result<SecretDict> parse_dict(const std::optional<std::string>& secret_string) {
  if (!secret_string) return key_error("SecretString");
  // No parser message: it may quote the value (D19).
  auto json = Json::parse(*secret_string, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return python_error("JSONDecodeError", "SecretString is not valid JSON");
  if (!json.is_object()) return value_error("SecretString must hold a JSON object");
  SecretDict dict;
  std::array<std::string*, 4> targets{&dict.credentials.address.host, &dict.credentials.username,
                                      &dict.credentials.password, &dict.credentials.address.engine};
  std::array<std::string_view, 4> required{"host", "username", "password", "engine"};  // the samples' order
  for (std::size_t i = 0; i < required.size(); ++i) {
    auto value = string_field(json, required[i]);
    if (!value) return std::move(value).error();
    *targets[i] = std::move(value).value();
  }
  auto port = port_field(json);
  if (!port) return std::move(port).error();
  dict.credentials.address.port = *port;
  if (const auto dbname = json.find("dbname"); dbname != json.end() && !dbname->is_null()) {
    if (!dbname->is_string()) return value_error("dbname in secret JSON must be a string");
    dict.credentials.address.dbname = dbname->get<std::string>();
  }
  dict.json = std::move(json);
  return dict;
}

api::GetSecretValueRequest value_request(std::string_view secret_id, std::string_view stage,
                                         const std::string* token) {
  api::GetSecretValueRequest request{.secret_id = std::string(secret_id), .version_stage = std::string(stage)};
  if (token != nullptr) request.version_id = *token;
  return request;
}

Result<SecretDict> get_dict(Client& client, std::string_view secret_id, std::string_view stage,
                            const std::string* token = nullptr) {
  auto value = call("GetSecretValue", client.get_secret_value(value_request(secret_id, stage, token)));
  if (!value) return std::move(value).error();
  return parse_dict(value->secret_string);
}

// The admin's login of the multi-user sample: the master secret's engine, host and port, with the
// rotated secret's dbname (master_dict['dbname'] = current_dict.get('dbname')).
Result<SimulatedDatabase::Credentials> admin_login(Client& client, std::string_view master_arn,
                                                   const SimulatedDatabase::Credentials& current) {
  auto master = get_dict(client, master_arn, labels::kCurrent);
  if (!master) return std::move(master).error();
  auto admin = std::move(master->credentials);
  admin.address.dbname = current.address.dbname;
  return admin;
}

// First contact (ensure_database) for a secret whose AWSCURRENT value is `current`.
Status ensure_database_for(Client& client, SimulatedDatabase& database, const SecretDict& current) {
  const auto& credentials = current.credentials;
  if (database.exists(credentials.address)) return ok_status();
  std::map<std::string, std::string> users{{credentials.username, credentials.password}};
  if (const auto master_arn = current.json.find("masterarn");
      master_arn != current.json.end() && master_arn->is_string()) {
    auto admin = admin_login(client, master_arn->get<std::string>(), credentials);
    if (!admin) return std::move(admin).error();
    if (admin->address == credentials.address) users.try_emplace(admin->username, admin->password);
  }
  database.ensure(credentials.address, users);
  return ok_status();
}

// --- the steps ----------------------------------------------------------------------------------

enum class Staging : std::uint8_t { kRotate, kAlreadyCurrent };

using VersionStages = std::map<std::string, std::vector<std::string>>;

// DescribeSecret's VersionIdsToStages, read in place (every step reads it; a copy is a map of
// vectors of strings).
const VersionStages& version_stages_of(const api::DescribeSecretResponse& metadata) {
  static const VersionStages kNone;
  return metadata.version_ids_to_stages ? *metadata.version_ids_to_stages : kNone;
}

// What lambda_handler checks before every step.
Result<Staging> check_staging(Client& client, const RotationEvent& event) {
  auto metadata = call("DescribeSecret", client.describe_secret({.secret_id = event.secret_id}));
  if (!metadata) return std::move(metadata).error();
  const auto& arn = event.secret_id;
  const auto& token = event.client_request_token;
  if (!metadata->rotation_enabled.value_or(false)) {
    return value_error(fmt::format("Secret {} is not enabled for rotation", arn));
  }
  const auto& versions = version_stages_of(*metadata);
  const auto found = versions.find(token);
  if (found == versions.end()) {
    return value_error(fmt::format("Secret version {} has no stage for rotation of secret {}.", token, arn));
  }
  const auto has = [&](std::string_view label) {
    return std::find(found->second.begin(), found->second.end(), label) != found->second.end();
  };
  if (has(labels::kCurrent)) return Staging::kAlreadyCurrent;
  if (!has(labels::kPending)) {
    return value_error(
        fmt::format("Secret version {} not set as AWSPENDING for rotation of secret {}.", token, arn));
  }
  return Staging::kRotate;
}

Result<std::string> random_password(Client& client, Strategy strategy) {
  api::GetRandomPasswordRequest request{
      .exclude_characters = std::string(strategy == Strategy::kTemplate ? kTemplateExclude : kDatabaseExclude)};
  if (strategy == Strategy::kAlternatingUsers) {  // the multi-user sample's get_random_password
    request.password_length = 32;
    request.exclude_numbers = false;
    request.exclude_punctuation = false;
    request.exclude_uppercase = false;
    request.exclude_lowercase = false;
    request.require_each_included_type = true;
  }
  auto password = call("GetRandomPassword", client.get_random_password(std::move(request)));
  if (!password) return std::move(password).error();
  return password->random_password.value_or("");
}

Result<std::string> alternate_username(const std::string& username) {
  if (username.ends_with(kCloneSuffix)) return username.substr(0, username.size() - kCloneSuffix.size());
  auto clone = username + std::string(kCloneSuffix);
  if (clone.size() > kMaxUsernameLength) {
    return value_error("Unable to clone user, username length with _clone appended would exceed 63 characters");
  }
  return clone;
}

Status put_pending(Client& client, const RotationEvent& event, std::string value) {
  auto put = call("PutSecretValue", client.put_secret_value({.secret_id = event.secret_id,
                                                               .client_request_token = event.client_request_token,
                                                               .secret_string = std::move(value),
                                                               .version_stages = std::vector<std::string>{
                                                                   std::string(labels::kPending)}}));
  if (!put) return std::move(put).error();
  return ok_status();
}

// Where the "password" member's value lies in `text`, when `text` is a JSON object that
// ordered_json would dump back to the same bytes: no whitespace, no name twice, and members whose
// values are strings of printable ASCII without escapes, integers, true, false or null. `found`
// is false when such an object has no password. nullopt when `text` is not such an object: the
// caller then parses it in full. (Parsing and dumping a credential object cost about a tenth of a
// template rotation; most such values are written by a JSON library and already look like this.)
struct PasswordSpan {
  bool found = false;
  std::size_t begin = 0;
  std::size_t end = 0;
};

std::optional<PasswordSpan> compact_password_span(std::string_view text) {
  constexpr std::size_t kMaxMembers = 32;  // beyond it the name check would cost more than a parse
  constexpr std::size_t kMaxDigits = 18;   // every such integer fits ordered_json's int64 as it is
  const auto printable = [](char c) { return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'; };
  std::size_t at = 0;
  const auto string_at = [&]() -> std::optional<std::string_view> {
    if (at >= text.size() || text[at] != '"') return std::nullopt;
    const std::size_t begin = ++at;
    while (at < text.size() && printable(text[at])) ++at;
    if (at >= text.size() || text[at] != '"') return std::nullopt;
    return text.substr(begin, at++ - begin);
  };
  const auto value_at = [&]() -> bool {
    if (at >= text.size()) return false;
    if (text[at] == '"') return string_at().has_value();
    for (const std::string_view word : {"true", "false", "null"}) {
      if (text.substr(at, word.size()) == word) {
        at += word.size();
        return true;
      }
    }
    const bool negative = text[at] == '-';
    if (negative) ++at;
    const std::size_t digits = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
    const std::size_t count = at - digits;
    if (count == 0 || count > kMaxDigits) return false;
    // No leading zero, and no -0 (dumped as 0); a fraction or an exponent fails the scan after.
    return text[digits] != '0' || (count == 1 && !negative);
  };
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return std::nullopt;
  PasswordSpan span;
  if (text.size() == 2) return span;
  std::array<std::string_view, kMaxMembers> names{};
  std::size_t members = 0;
  at = 1;
  for (;;) {
    const auto name = string_at();
    if (!name || members == kMaxMembers || at >= text.size() || text[at] != ':') return std::nullopt;
    if (std::find(names.begin(), names.begin() + members, *name) != names.begin() + members) return std::nullopt;
    names[members++] = *name;
    const std::size_t begin = ++at;
    if (!value_at() || at >= text.size()) return std::nullopt;
    if (*name == "password") span = PasswordSpan{true, begin, at};
    if (text[at] == '}') return at + 1 == text.size() ? std::optional(span) : std::nullopt;
    if (text[at++] != ',') return std::nullopt;
  }
}

// The template's new value: the bare password, or, for a JSON object with a "password" member,
// the object with the new password there and its other members kept, dumped as ordered_json does.
std::string template_value(const std::optional<std::string>& current, std::string password) {
  if (!current || current->find('{') == std::string::npos) return password;  // cannot be an object
  const bool printable = std::all_of(password.begin(), password.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
  if (const auto span = printable ? compact_password_span(*current) : std::nullopt) {
    if (!span->found) return password;
    std::string value;
    value.reserve(current->size() - (span->end - span->begin) + password.size() + 2);
    value.append(*current, 0, span->begin).push_back('"');
    for (const char c : password) {
      if (c == '"' || c == '\\') value.push_back('\\');
      value.push_back(c);
    }
    value.push_back('"');
    return value.append(*current, span->end);
  }
  auto json = Json::parse(*current, nullptr, false);
  if (!json.is_object() || !json.contains("password")) return password;
  json["password"] = std::move(password);
  return json.dump();
}

Status create_template(Client& client, const RotationEvent& event) {
  auto current = call("GetSecretValue",
                      client.get_secret_value(value_request(event.secret_id, labels::kCurrent, nullptr)));
  if (!current) return std::move(current).error();
  // Worded as botocore would only when returned: the expected ResourceNotFound is dropped.
  auto pending =
      client.get_secret_value(value_request(event.secret_id, labels::kPending, &event.client_request_token));
  if (pending) return ok_status();
  if (pending.error().code != ErrorCode::ResourceNotFound) {
    return call("GetSecretValue", std::move(pending)).error();
  }
  auto password = random_password(client, Strategy::kTemplate);
  if (!password) return std::move(password).error();
  // The template stores the bare password; a JSON object with a password keeps its other fields,
  // so that the template can rotate the credential secrets the samples take.
  return put_pending(client, event, template_value(current->secret_string, std::move(password).value()));
}

Status create_database(Client& client, const RotationEvent& event, Strategy strategy) {
  auto current = get_dict(client, event.secret_id, labels::kCurrent);
  if (!current) return std::move(current).error();
  auto pending = get_dict(client, event.secret_id, labels::kPending, &event.client_request_token);
  if (pending) return ok_status();
  if (pending.error().code != ErrorCode::ResourceNotFound) return std::move(pending).error();
  auto json = std::move(current->json);
  if (strategy == Strategy::kAlternatingUsers) {
    auto username = alternate_username(current->credentials.username);
    if (!username) return std::move(username).error();
    json["username"] = std::move(username).value();
  }
  auto password = random_password(client, strategy);
  if (!password) return std::move(password).error();
  json["password"] = std::move(password).value();
  return put_pending(client, event, json.dump());
}

Status set_single_user(Client& client, SimulatedDatabase& database, const RotationEvent& event) {
  const auto& arn = event.secret_id;
  std::optional<SecretDict> previous;
  if (auto found = get_dict(client, arn, labels::kPrevious)) {
    previous = std::move(found).value();
  } else if (found.error().code != ErrorCode::ResourceNotFound && !is_key_error(found.error())) {
    return std::move(found).error();
  }
  auto current = get_dict(client, arn, labels::kCurrent);
  if (!current) return std::move(current).error();
  auto pending = get_dict(client, arn, labels::kPending, &event.client_request_token);
  if (!pending) return std::move(pending).error();
  if (auto contact = ensure_database_for(client, database, *current); !contact) return contact;

  const auto& want = pending->credentials;
  if (database.login(want)) return ok_status();
  const auto& now = current->credentials;
  if (now.username != want.username) {
    return value_error(
        fmt::format("Attempting to modify user {} other than current user {}", want.username, now.username));
  }
  if (now.address.host != want.address.host) {
    return value_error(fmt::format("Attempting to modify user for host {} other than current host {}",
                                   want.address.host, now.address.host));
  }
  // The sample logs in with AWSCURRENT, else AWSPREVIOUS, and sets the password on that
  // connection; set_password is that login and the change in one.
  if (database.set_password(now.address, now.username, now.password, want.username, want.password)) {
    return ok_status();
  }
  if (previous) {
    const auto& before = previous->credentials;
    if (before.username != want.username) {
      return value_error(fmt::format("Attempting to modify user {} other than previous valid user {}",
                                     want.username, before.username));
    }
    if (before.address.host != want.address.host) {
      return value_error(fmt::format("Attempting to modify user for host {} other than current previous valid {}",
                                     want.address.host, before.address.host));
    }
    if (database.set_password(before.address, before.username, before.password, want.username, want.password)) {
      return ok_status();
    }
  }
  return value_error(
      fmt::format("Unable to log into database with previous, current, or pending secret of secret arn {}", arn));
}

Status set_alternating_users(Client& client, SimulatedDatabase& database, const RotationEvent& event) {
  const auto& arn = event.secret_id;
  auto current = get_dict(client, arn, labels::kCurrent);
  if (!current) return std::move(current).error();
  auto pending = get_dict(client, arn, labels::kPending, &event.client_request_token);
  if (!pending) return std::move(pending).error();
  if (auto contact = ensure_database_for(client, database, *current); !contact) return contact;

  const auto& want = pending->credentials;
  if (database.login(want)) return ok_status();
  const auto& now = current->credentials;
  auto alternate = alternate_username(now.username);
  if (!alternate) return std::move(alternate).error();
  if (*alternate != want.username) {
    return value_error(fmt::format("Attempting to modify user {} other than current user or clone {}",
                                   want.username, now.username));
  }
  if (now.address.host != want.address.host) {
    return value_error(fmt::format("Attempting to modify user for host {} other than current host {}",
                                   want.address.host, now.address.host));
  }
  // Before anything changes, AWSCURRENT must log in: the sample's guard against a confused deputy.
  if (!database.login(now)) {
    return value_error(fmt::format("Unable to log into database using current credentials for secret {}", arn));
  }
  const auto master_arn = current->json.find("masterarn");
  if (master_arn == current->json.end()) return key_error("masterarn");
  if (!master_arn->is_string()) return value_error("masterarn in secret JSON must be a string");
  auto admin = admin_login(client, master_arn->get<std::string>(), now);
  if (!admin) return std::move(admin).error();
  if (now.address.host != admin->address.host) {
    return value_error(fmt::format("Current database host {} is not the same host as/rds replica of master {}",
                                   now.address.host, admin->address.host));
  }
  // The sample creates the user when it is missing and otherwise sets its password, on one admin
  // connection; each database call here is that login and the change in one.
  const auto users = database.users(admin->address);
  const bool exists = std::find(users.begin(), users.end(), want.username) != users.end();
  const bool done = exists ? database.set_password(admin->address, admin->username, admin->password, want.username,
                                                   want.password)
                           : database.create_user(admin->address, admin->username, admin->password, want.username,
                                                  want.password);
  if (done) return ok_status();
  return value_error(fmt::format("Unable to log into database using credentials in master secret {}",
                                 master_arn->get<std::string>()));
}

Status test_database(Client& client, SimulatedDatabase& database, const RotationEvent& event) {
  auto pending = get_dict(client, event.secret_id, labels::kPending, &event.client_request_token);
  if (!pending) return std::move(pending).error();
  // A test rotation (D2) may be the first contact: its AWSPENDING is a copy of AWSCURRENT.
  if (!database.exists(pending->credentials.address)) {
    if (auto contact = ensure_database(client, database, event.secret_id); !contact) return contact;
  }
  if (database.login(pending->credentials)) return ok_status();
  return value_error(
      fmt::format("Unable to log into database with pending secret of secret ARN {}", event.secret_id));
}

Status finish(Client& client, const RotationEvent& event, bool remove_pending) {
  auto metadata = call("DescribeSecret", client.describe_secret({.secret_id = event.secret_id}));
  if (!metadata) return std::move(metadata).error();
  std::optional<std::string> current_version;
  for (const auto& [version, stages] : version_stages_of(*metadata)) {
    if (std::find(stages.begin(), stages.end(), labels::kCurrent) == stages.end()) continue;
    if (version == event.client_request_token) return ok_status();
    current_version = version;
    break;
  }
  // D17: with no AWSCURRENT version there is nothing to remove it from.
  auto moved = call("UpdateSecretVersionStage",
                    client.update_secret_version_stage({.secret_id = event.secret_id,
                                                        .version_stage = std::string(labels::kCurrent),
                                                        .remove_from_version_id = current_version,
                                                        .move_to_version_id = event.client_request_token}));
  if (!moved) return std::move(moved).error();
  if (!remove_pending) return ok_status();
  auto removed = call("UpdateSecretVersionStage",
                      client.update_secret_version_stage({.secret_id = event.secret_id,
                                                          .version_stage = std::string(labels::kPending),
                                                          .remove_from_version_id = event.client_request_token}));
  if (!removed) return std::move(removed).error();
  return ok_status();
}

struct Builtin {
  Strategy strategy;
  bool remove_pending;
  SimulatedDatabase* database;

  StepResult operator()(const RotationEvent& event, Client& client) const {
    auto status = run(event, client);
    return status ? StepResult::ok() : StepResult::error(std::move(status).error().message);
  }

  Status run(const RotationEvent& event, Client& client) const {
    auto staging = check_staging(client, event);
    if (!staging) return std::move(staging).error();
    if (*staging == Staging::kAlreadyCurrent) return ok_status();
    const auto step = model::parse_step(event.step);
    if (!step) {
      return value_error(strategy == Strategy::kTemplate
                             ? std::string("Invalid step parameter")
                             : fmt::format("Invalid step parameter {} for secret {}", event.step, event.secret_id));
    }
    switch (*step) {
      case model::Step::kCreateSecret:
        return strategy == Strategy::kTemplate ? create_template(client, event)
                                               : create_database(client, event, strategy);
      case model::Step::kSetSecret:
        if (strategy == Strategy::kSingleUser) return set_single_user(client, *database, event);
        if (strategy == Strategy::kAlternatingUsers) return set_alternating_users(client, *database, event);
        return ok_status();
      case model::Step::kTestSecret:
        return strategy == Strategy::kTemplate ? ok_status() : test_database(client, *database, event);
      case model::Step::kFinishSecret:
        return finish(client, event, remove_pending);
    }
    return ok_status();
  }
};

}  // namespace

Result<BuiltinFunction> make_builtin_function(std::string_view spec, SimulatedDatabase& database) {
  auto parsed = parse_function_spec(spec);
  if (!parsed) return std::move(parsed).error();
  const auto invalid = [&](std::string what) {
    return make_error(ErrorCode::InvalidParameter,
                      fmt::format("Invalid rotation function spec '{}': {}", spec, what));
  };
  if (parsed->scheme != FunctionScheme::kBuiltin) {
    return invalid(fmt::format("not a builtin: spec (scheme {}).", scheme_name(parsed->scheme)));
  }
  static const std::map<std::string_view, Strategy, std::less<>> kNames{
      {"template", Strategy::kTemplate},
      {"single-user", Strategy::kSingleUser},
      {"alternating-users", Strategy::kAlternatingUsers}};
  const auto name = kNames.find(parsed->target);
  if (name == kNames.end()) {
    return invalid(fmt::format("unknown built-in function '{}'; the built-ins are template, single-user and "
                               "alternating-users.",
                               parsed->target));
  }
  const auto strategy = name->second;
  const auto known = strategy == Strategy::kTemplate ? std::span<const std::string_view>(kTemplateOptions)
                                                     : std::span<const std::string_view>();
  if (auto status = check_scheme_options(*parsed, known); !status) return std::move(status).error();
  auto remove_pending = bool_option(*parsed, "remove_pending", false);
  if (!remove_pending) return std::move(remove_pending).error();
  return BuiltinFunction{with_faults(Builtin{strategy, *remove_pending, &database}, parsed->options),
                         function_options(parsed->options)};
}

Result<SimulatedDatabase::Credentials> database_credentials(std::string_view secret_string) {
  auto dict = parse_dict(std::string(secret_string));
  if (!dict) return std::move(dict).error();
  return std::move(dict->credentials);
}

Status ensure_database(Client& client, SimulatedDatabase& database, std::string_view secret_id) {
  auto current = get_dict(client, secret_id, labels::kCurrent);
  if (!current) return std::move(current).error();
  return ensure_database_for(client, database, *current);
}

}  // namespace smemu
