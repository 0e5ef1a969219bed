// smemu_determinism_probe --seed N: one fixed sequence of requests against a Service seeded with
// N, printing every response, one line per step: "<step> <response JSON>".
//
// tests/support/determinism.cmake runs it in separate processes: the same seed must print the
// same bytes, and another seed must change what the seeded source decides (ARN suffixes, the
// ClientRequestTokens the typed client fills in, generated passwords). Secrets are created and
// written through the typed Client without tokens so that their VersionIds come from the seed;
// everything else goes through the JSON dispatch, as the HTTP endpoint would send it.
//
// Exit status: 0 when every step succeeded; 1 when one failed (a sequence of errors would prove
// nothing about determinism); 2 on bad arguments.
#include <charconv>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "smemu/emulator/client.h"
#include "smemu/emulator/service.h"

namespace {

using nlohmann::json;

class Probe {
 public:
  explicit Probe(smemu::Service& service) : service_(service), client_(service.client("us-east-1")) {}

  bool failed() const { return failed_; }

  // A typed call: prints the members that the seed decides.
  template <class Response>
  std::optional<Response> typed(std::string_view step, smemu::Result<Response> result) {
    if (!result) {
      fail(step, result.error());
      return std::nullopt;
    }
    json line = json::object();
    if constexpr (requires { result->arn; }) set(line, "ARN", result->arn);
    if constexpr (requires { result->name; }) set(line, "Name", result->name);
    if constexpr (requires { result->version_id; }) set(line, "VersionId", result->version_id);
    std::cout << step << ' ' << line.dump() << '\n';
    return std::move(result).value();
  }

  json call(std::string_view step, std::string_view operation, const json& request) {
    auto result = client_.call(operation, request);
    if (!result) {
      fail(step, result.error());
      return json();
    }
    std::cout << step << ' ' << result->dump() << '\n';
    return std::move(result).value();
  }

  smemu::Client& client() { return client_; }
  smemu::Service& service() { return service_; }

 private:
  static void set(json& line, const char* key, const std::optional<std::string>& value) {
    if (value) line[key] = *value;
  }

  void fail(std::string_view step, const smemu::Error& error) {
    std::cout << step << " error " << error.name() << ": " << error.message << '\n';
    failed_ = true;
  }

  smemu::Service& service_;
  smemu::Client client_;
  bool failed_ = false;
};

void run(Probe& probe) {
  auto& client = probe.client();
  const std::string database = "probe/database";
  const std::string binary = "probe/binary";

  smemu::api::CreateSecretRequest create;
  create.name = database;
  create.description = "determinism probe";
  create.secret_string = R"({"user":"admin","password":"first"})";
  create.tags = std::vector<smemu::api::Tag>{{"team", "platform"}};
  probe.typed("create-secret", client.create_secret(create));

  smemu::api::CreateSecretRequest create_binary;
  create_binary.name = binary;
  create_binary.secret_binary = std::string("\x00\x01\x02\xff", 4);
  probe.typed("create-binary-secret", client.create_secret(create_binary));

  probe.call("random-password", "GetRandomPassword", json::object());
  probe.call("random-password-short", "GetRandomPassword",
             {{"PasswordLength", 12}, {"ExcludePunctuation", true}, {"RequireEachIncludedType", true}});

  smemu::api::PutSecretValueRequest put;
  put.secret_id = database;
  put.secret_string = R"({"user":"admin","password":"second"})";
  const auto second = probe.typed("put-secret-value-typed", client.put_secret_value(put));

  const std::string staged_token = "00000000-0000-4000-8000-000000000001";
  probe.call("put-secret-value", "PutSecretValue",
             {{"SecretId", database},
              {"ClientRequestToken", staged_token},
              {"SecretString", R"({"user":"admin","password":"third"})"},
              {"VersionStages", {"STAGED"}}});
  if (second && second->version_id) {
    probe.call("move-current", "UpdateSecretVersionStage",
               {{"SecretId", database},
                {"VersionStage", "AWSCURRENT"},
                {"MoveToVersionId", staged_token},
                {"RemoveFromVersionId", *second->version_id}});
  }

  smemu::api::UpdateSecretRequest update;
  update.secret_id = database;
  update.secret_string = R"({"user":"admin","password":"fourth"})";
  probe.typed("update-secret-typed", client.update_secret(update));

  probe.call("describe-secret", "DescribeSecret", {{"SecretId", database}});
  probe.call("list-secret-version-ids", "ListSecretVersionIds", {{"SecretId", database}, {"IncludeDeprecated", true}});
  probe.call("get-previous-value", "GetSecretValue", {{"SecretId", database}, {"VersionStage", "AWSPREVIOUS"}});

  probe.service().virtual_clock()->advance(smemu::days(1));
  probe.call("delete-secret", "DeleteSecret", {{"SecretId", binary}, {"RecoveryWindowInDays", 7}});
  probe.call("list-secrets", "ListSecrets", {{"IncludePlannedDeletion", true}});
  probe.call("restore-secret", "RestoreSecret", {{"SecretId", binary}});
  probe.call("get-binary-value", "GetSecretValue", {{"SecretId", binary}});
  probe.call("describe-binary-secret", "DescribeSecret", {{"SecretId", binary}});
}

std::optional<std::uint64_t> parse_seed(int argc, char** argv) {
  if (argc != 3 || std::string_view(argv[1]) != "--seed") return std::nullopt;
  const std::string_view text = argv[2];
  std::uint64_t seed = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return seed;
}

}  // namespace

int main(int argc, char** argv) {
  const auto seed = parse_seed(argc, argv);
  if (!seed) {
    std::cerr << "usage: smemu_determinism_probe --seed N\n";
    return 2;
  }
  smemu::ServiceOptions options;
  options.seed = *seed;
  smemu::Service service(options);
  Probe probe(service);
  run(probe);
  return probe.failed() ? 1 : 0;
}
