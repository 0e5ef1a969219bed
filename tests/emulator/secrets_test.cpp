// Secrets as a whole: ARNs and lookup (spec 8), deletion (spec 6), tags (D10), DescribeSecret
// (spec 3.7), and RotateSecret's service-side checks (spec 5.2) and CancelRotateSecret (D13).
#include <doctest/doctest.h>

#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "smemu/emulator/service.h"

namespace {

struct Fixture {
  smemu::Service service;
  smemu::Client client = service.client("us-east-1");

  std::string create(const std::string& name, std::optional<std::string> value = "v") {
    auto r = client.create_secret({.name = name, .secret_string = value});
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return *r->arn;
  }
  std::string error_name(const smemu::Error& e) { return std::string(e.name()); }
};

const std::string kRegionPrefix = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";

}  // namespace

TEST_CASE("emulator/arn: the ARN is the name plus '-' and six random letters or digits") {
  Fixture f;
  const auto arn = f.create("prod/db");
  CHECK(std::regex_match(arn, std::regex("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-[A-Za-z0-9]{6}")));
  // A re-created secret gets a new suffix.
  REQUIRE(f.client.delete_secret({.secret_id = "prod/db", .force_delete_without_recovery = true}).ok());
  const auto again = f.create("prod/db");
  CHECK(again != arn);
}

TEST_CASE("emulator/lookup: by name, full ARN and partial ARN (spec 8)") {
  Fixture f;
  const auto arn = f.create("MyTestDatabaseSecret");
  for (const auto& id : {std::string("MyTestDatabaseSecret"), arn, kRegionPrefix + "MyTestDatabaseSecret"}) {
    auto got = f.client.get_secret_value({.secret_id = id});
    REQUIRE_MESSAGE(got.ok(), id);
    CHECK(got->arn == arn);
  }
  SUBCASE("a full ARN with the wrong suffix, region or account is not found") {
    for (const auto& id : {kRegionPrefix + "MyTestDatabaseSecret-zzzzzz",
                           std::string("arn:aws:secretsmanager:us-west-2:123456789012:secret:MyTestDatabaseSecret"),
                           std::string("arn:aws:secretsmanager:us-east-1:999999999999:secret:MyTestDatabaseSecret")}) {
      auto got = f.client.get_secret_value({.secret_id = id});
      REQUIRE_FALSE(got.ok());
      CHECK(got.error().name() == "ResourceNotFoundException");
      CHECK(got.error().message == "Secrets Manager can't find the specified secret.");
    }
  }
}

TEST_CASE("emulator/lookup: the recorded pitfall: a name ending in -xxxxxx is not found by its partial ARN") {
  Fixture f;
  const auto arn = f.create("Invalid/_+=.@-Name-a1b2c3");
  auto by_partial = f.client.get_secret_value({.secret_id = kRegionPrefix + "Invalid/_+=.@-Name-a1b2c3"});
  REQUIRE_FALSE(by_partial.ok());
  CHECK(by_partial.error().name() == "ResourceNotFoundException");
  CHECK(f.client.get_secret_value({.secret_id = arn}).ok());
  CHECK(f.client.get_secret_value({.secret_id = "Invalid/_+=.@-Name-a1b2c3"}).ok());
}

TEST_CASE("emulator/names: valid characters, and the recorded ValidationException for the rest") {
  Fixture f;
  for (const auto* name : {"Valid/_+=.@-Name", "Valid/_+=.@-Name-a1b2", "Valid/_+=.@-Name-a1b2c3-", "bang!"}) {
    CHECK_MESSAGE(f.client.create_secret({.name = name}).ok(), name);
  }
  for (const auto* name : {"has space", "star*", "question?", "bracket]", "back\\slash"}) {
    auto r = f.client.create_secret({.name = name});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().name() == "ValidationException");
    CHECK(r.error().message ==
          "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!");
  }
}

TEST_CASE("emulator/deletion: a recovery window marks the secret; reads of metadata work, values don't (spec 6)") {
  Fixture f;
  f.create("s");
  auto* clock = f.service.virtual_clock();
  auto deleted = f.client.delete_secret({.secret_id = "s", .recovery_window_in_days = 7});
  REQUIRE(deleted.ok());
  CHECK(deleted->deletion_date == clock->now() + smemu::days(7));
  const std::string marked = "You can't perform this operation on the secret because it was marked for deletion.";
  auto get = f.client.get_secret_value({.secret_id = "s"});
  REQUIRE_FALSE(get.ok());
  CHECK(get.error().name() == "InvalidRequestException");
  CHECK(get.error().message == marked);
  auto put = f.client.put_secret_value({.secret_id = "s", .secret_string = "x"});
  CHECK(put.error().message == marked);
  CHECK(f.client.update_secret({.secret_id = "s", .description = "d"}).error().message == marked);
  CHECK(f.client.update_secret_version_stage({.secret_id = "s", .version_stage = "X",
                                              .move_to_version_id = std::string(32, 'a')})
            .error()
            .message == marked);
  CHECK(f.client.rotate_secret({.secret_id = "s", .rotation_lambda_arn = "arn:aws:lambda:us-east-1:1:function:f"})
            .error()
            .message == marked);
  CHECK(f.client.tag_resource({.secret_id = "s", .tags = std::vector<smemu::api::Tag>{{"k", "v"}}}).error().message ==
        marked);
  auto described = f.client.describe_secret({.secret_id = "s"});
  REQUIRE(described.ok());
  CHECK(described->deleted_date == clock->now());
  CHECK(f.client.list_secret_version_ids({.secret_id = "s"}).ok());
  auto again = f.client.delete_secret({.secret_id = "s"});
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().name() == "InvalidRequestException");
  auto recreate = f.client.create_secret({.name = "s"});
  REQUIRE_FALSE(recreate.ok());
  CHECK(recreate.error().message ==
        "You can't create this secret because a secret with this name is already scheduled for deletion.");

  SUBCASE("restore makes it fully usable again") {
    auto restored = f.client.restore_secret({.secret_id = "s"});
    REQUIRE(restored.ok());
    CHECK(restored->name == "s");
    CHECK(f.client.get_secret_value({.secret_id = "s"}).ok());
    CHECK_FALSE(f.client.describe_secret({.secret_id = "s"})->deleted_date.has_value());
  }
  SUBCASE("when the window ends the secret is gone and its name free") {
    clock->advance(smemu::days(7));
    CHECK(f.client.describe_secret({.secret_id = "s"}).error().name() == "ResourceNotFoundException");
    CHECK(f.client.restore_secret({.secret_id = "s"}).error().name() == "ResourceNotFoundException");
    CHECK(f.client.create_secret({.name = "s"}).ok());
  }
  SUBCASE("force delete during the window removes it at once") {
    REQUIRE(f.client.delete_secret({.secret_id = "s", .force_delete_without_recovery = true}).ok());
    CHECK(f.client.describe_secret({.secret_id = "s"}).error().name() == "ResourceNotFoundException");
    CHECK(f.client.restore_secret({.secret_id = "s"}).error().name() == "ResourceNotFoundException");
  }
}

TEST_CASE("emulator/deletion: parameters are checked before anything happens") {
  Fixture f;
  f.create("s");
  auto both = f.client.delete_secret({.secret_id = "s", .recovery_window_in_days = 7, .force_delete_without_recovery = true});
  REQUIRE_FALSE(both.ok());
  CHECK(both.error().name() == "InvalidParameterException");
  CHECK(both.error().message == "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
  for (std::int64_t days : {6, 31}) {
    auto r = f.client.delete_secret({.secret_id = "s", .recovery_window_in_days = days});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
  }
  CHECK_FALSE(f.client.describe_secret({.secret_id = "s"})->deleted_date.has_value());
  auto default_window = f.client.delete_secret({.secret_id = "s"});
  REQUIRE(default_window.ok());
  CHECK(default_window->deletion_date == f.service.virtual_clock()->now() + smemu::days(30));
}

TEST_CASE("emulator/deletion: force-deleting a secret that does not exist is not an error") {
  Fixture f;
  auto r = f.client.delete_secret({.secret_id = "never", .force_delete_without_recovery = true});
  CHECK(r.ok());
  auto plain = f.client.delete_secret({.secret_id = "never"});
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.error().name() == "ResourceNotFoundException");
}

TEST_CASE("emulator/deletion: a deleted secret is hidden from ListSecrets unless IncludePlannedDeletion") {
  Fixture f;
  f.create("a");
  f.create("b");
  REQUIRE(f.client.delete_secret({.secret_id = "a"}).ok());
  auto names = [&](bool include) {
    std::vector<std::string> out;
    auto listed = f.client.list_secrets({.include_planned_deletion = include});
    REQUIRE(listed.ok());
    for (const auto& entry : *listed->secret_list) out.push_back(*entry.name);
    return out;
  };
  CHECK(names(false) == std::vector<std::string>{"b"});
  CHECK(names(true) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("emulator/tags: add, overwrite, remove; Tags absent until tagged and [] once emptied (D10)") {
  Fixture f;
  f.create("s");
  CHECK_FALSE(f.client.describe_secret({.secret_id = "s"})->tags.has_value());
  REQUIRE(f.client.tag_resource({.secret_id = "s", .tags = std::vector<smemu::api::Tag>{{"env", "dev"}, {"team", "a"}}})
              .ok());
  REQUIRE(f.client.tag_resource({.secret_id = "s", .tags = std::vector<smemu::api::Tag>{{"env", "prod"}}}).ok());
  auto tags = *f.client.describe_secret({.secret_id = "s"})->tags;
  CHECK(tags == std::vector<smemu::api::Tag>{{"env", "prod"}, {"team", "a"}});
  REQUIRE(f.client.untag_resource({.secret_id = "s", .tag_keys = std::vector<std::string>{"env", "missing", "team"}}).ok());
  auto emptied = f.client.describe_secret({.secret_id = "s"})->tags;
  REQUIRE(emptied.has_value());
  CHECK(emptied->empty());
  auto json = f.client.call("DescribeSecret", {{"SecretId", "s"}});
  REQUIRE(json.ok());
  CHECK(json.value()["Tags"] == nlohmann::json::array());
}

TEST_CASE("emulator/tags: at most 50 tags, and keys starting with aws: are reserved (D10)") {
  Fixture f;
  f.create("s");
  std::vector<smemu::api::Tag> fifty;
  for (int i = 0; i < 50; ++i) fifty.push_back({"k" + std::to_string(i), "v"});
  REQUIRE(f.client.tag_resource({.secret_id = "s", .tags = fifty}).ok());
  auto over = f.client.tag_resource({.secret_id = "s", .tags = std::vector<smemu::api::Tag>{{"one-more", "v"}}});
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().name() == "InvalidParameterException");
  CHECK(f.client.describe_secret({.secret_id = "s"})->tags->size() == 50);
  auto reserved = f.client.tag_resource({.secret_id = "s", .tags = std::vector<smemu::api::Tag>{{"aws:x", "v"}}});
  REQUIRE_FALSE(reserved.ok());
  CHECK(reserved.error().name() == "InvalidParameterException");
  auto on_create = f.client.create_secret({.name = "t", .tags = std::vector<smemu::api::Tag>{{"aws:y", "v"}}});
  REQUIRE_FALSE(on_create.ok());
  CHECK_FALSE(f.client.describe_secret({.secret_id = "t"}).ok());
}

TEST_CASE("emulator/describe: members are omitted unless set") {
  Fixture f;
  f.create("plain");
  auto json = f.client.call("DescribeSecret", {{"SecretId", "plain"}});
  REQUIRE(json.ok());
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.value().items()) keys.push_back(key);
  CHECK(keys == std::vector<std::string>{"ARN", "CreatedDate", "LastChangedDate", "Name", "VersionIdsToStages"});
  auto created = f.client.create_secret({.name = "full", .description = "d", .kms_key_id = "alias/mine",
                                         .secret_string = "v", .tags = std::vector<smemu::api::Tag>{{"k", "v"}}});
  REQUIRE(created.ok());
  auto full = f.client.describe_secret({.secret_id = "full"});
  CHECK(full->description == "d");
  CHECK(full->kms_key_id == "alias/mine");
  CHECK_FALSE(full->rotation_enabled.has_value());
  CHECK_FALSE(full->rotation_rules.has_value());
  CHECK_FALSE(full->deleted_date.has_value());
}

TEST_CASE("emulator/rotate: RotateSecret's checks run in the order of spec 5.2 and change nothing") {
  Fixture f;
  f.create("s");
  const auto before = f.client.call("DescribeSecret", {{"SecretId", "s"}}).value();
  const std::string lambda = "arn:aws:lambda:us-east-1:123456789012:function:rotator";
  auto rotate_json = [&](nlohmann::json request) { return f.client.call("RotateSecret", request); };

  // 1. unknown secret (even with every other problem present)
  auto unknown = rotate_json({{"SecretId", "nope"}});
  CHECK(unknown.error().name() == "ResourceNotFoundException");
  // 3. a raw request without a token: InvalidParameterException (section 10 #8)
  auto no_token = rotate_json({{"SecretId", "s"}, {"RotationLambdaARN", lambda}});
  REQUIRE_FALSE(no_token.ok());
  CHECK(no_token.error().name() == "InvalidParameterException");
  CHECK(no_token.error().message == "You must provide a ClientRequestToken value. We recommend a UUID-type value.");
  const std::string token(36, 'a');
  // 4. rules: one schedule, not both
  auto both_rules = rotate_json({{"SecretId", "s"},
                                 {"ClientRequestToken", token},
                                 {"RotationLambdaARN", lambda},
                                 {"RotationRules", {{"AutomaticallyAfterDays", 30}, {"ScheduleExpression", "rate(10 days)"}}}});
  REQUIRE_FALSE(both_rules.ok());
  CHECK(both_rules.error().name() == "InvalidParameterException");
  // 5. no function ARN given or stored
  auto no_lambda = rotate_json({{"SecretId", "s"}, {"ClientRequestToken", token}});
  REQUIRE_FALSE(no_lambda.ok());
  CHECK(no_lambda.error().name() == "InvalidRequestException");
  CHECK(no_lambda.error().message == "No Lambda rotation function ARN is associated with this secret.");
  // 6. a function ARN nothing is registered for
  auto denied = rotate_json({{"SecretId", "s"}, {"ClientRequestToken", token}, {"RotationLambdaARN", lambda}});
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.error().name() == "AccessDeniedException");
  CHECK(denied.error().message ==
        "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to "
        "the principal secretsmanager.amazonaws.com.");
  // Nothing changed: no rotation fields, no new version.
  CHECK(f.client.call("DescribeSecret", {{"SecretId", "s"}}).value() == before);

  // 2. marked for deletion comes before the token and the rules
  REQUIRE(f.client.delete_secret({.secret_id = "s"}).ok());
  auto deleted = rotate_json({{"SecretId", "s"}});
  CHECK(deleted.error().name() == "InvalidRequestException");
  CHECK(deleted.error().message == "You can't perform this operation on the secret because it was marked for deletion.");
}

TEST_CASE("emulator/rotate: CancelRotateSecret on a secret never configured is InvalidRequestException (D13)") {
  Fixture f;
  f.create("s");
  auto r = f.client.cancel_rotate_secret({.secret_id = "s"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().name() == "InvalidRequestException");
  CHECK(r.error().message == "No Lambda rotation function ARN is associated with this secret.");
  CHECK(f.client.cancel_rotate_secret({.secret_id = "nope"}).error().name() == "ResourceNotFoundException");
}

TEST_CASE("emulator/json: a raw write without ClientRequestToken is InvalidRequestException (section 10 #8)") {
  Fixture f;
  f.create("existing");
  for (const auto* op : {"CreateSecret", "PutSecretValue", "UpdateSecret"}) {
    nlohmann::json request = {{"SecretString", "v"}};
    if (std::string(op) == "CreateSecret") {
      request["Name"] = "new";
    } else {
      request["SecretId"] = "existing";
    }
    auto r = f.client.call(op, request);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().name() == "InvalidRequestException");
    CHECK(r.error().message == "You must provide a ClientRequestToken value. We recommend a UUID-type value.");
  }
}

TEST_CASE("emulator/json: shapes on the wire: timestamps in epoch seconds, blobs in base64") {
  Fixture f;
  f.service.virtual_clock()->advance(std::chrono::milliseconds(1729));
  auto created = f.client.call("CreateSecret", {{"Name", "b"},
                                                {"ClientRequestToken", std::string(32, 't')},
                                                {"SecretBinary", "AAH/"}});
  REQUIRE(created.ok());
  CHECK(created.value()["VersionId"] == std::string(32, 't'));
  auto got = f.client.call("GetSecretValue", {{"SecretId", "b"}});
  REQUIRE(got.ok());
  CHECK(got.value()["SecretBinary"] == "AAH/");
  CHECK(got.value()["CreatedDate"].get<double>() == doctest::Approx(1767225601.729));
  CHECK_FALSE(got.value().contains("SecretString"));
  auto wrong_type = f.client.call("GetSecretValue", {{"SecretId", 12}});
  REQUIRE_FALSE(wrong_type.ok());
  CHECK(wrong_type.error().name() == "SerializationException");
  CHECK(wrong_type.error().message.find("SecretId") != std::string::npos);
  auto unknown = f.client.call("DoSomething", nlohmann::json::object());
  CHECK(unknown.error().name() == "UnknownOperationException");
}
