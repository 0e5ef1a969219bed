// Versions and staging labels through the typed API: spec 4.2-4.6, D3, D4, D6, D7, D8.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "smemu/emulator/service.h"

namespace {

using Stages = std::map<std::string, std::vector<std::string>>;

std::string token(int n) { return "token-" + std::string(30, '0') + std::to_string(100 + n); }

struct Fixture {
  smemu::Service service;
  smemu::Client client = service.client("us-east-1");

  Stages stages(const std::string& id = "s") {
    auto described = client.describe_secret({.secret_id = id});
    REQUIRE(described.ok());
    return described->version_ids_to_stages.value_or(Stages{});
  }
  void put(int n, std::optional<std::vector<std::string>> labels = std::nullopt, const std::string& id = "s") {
    auto r = client.put_secret_value({.secret_id = id, .client_request_token = token(n),
                                      .secret_string = "value-" + std::to_string(n), .version_stages = labels});
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  }
  void create(int n = 1, const std::string& name = "s") {
    auto r = client.create_secret({.name = name, .client_request_token = token(n),
                                   .secret_string = "value-" + std::to_string(n)});
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  }
  smemu::Error move(const std::string& label, std::optional<std::string> from, std::optional<std::string> to) {
    auto r = client.update_secret_version_stage(
        {.secret_id = "s", .version_stage = label, .remove_from_version_id = from, .move_to_version_id = to});
    return r.ok() ? smemu::Error{smemu::ErrorCode::InternalServiceError, "ok"} : r.error();
  }
};

bool moved_ok(const smemu::Error& e) { return e.message == "ok"; }

}  // namespace

TEST_CASE("emulator/versions: the VersionId is the ClientRequestToken and the first version is AWSCURRENT") {
  Fixture f;
  auto created = f.client.create_secret({.name = "s", .client_request_token = token(1), .secret_string = "v1"});
  REQUIRE(created.ok());
  CHECK(created->version_id == token(1));
  CHECK(f.stages() == Stages{{token(1), {"AWSCURRENT"}}});
  auto got = f.client.get_secret_value({.secret_id = "s"});
  REQUIRE(got.ok());
  CHECK(got->version_id == token(1));
  CHECK(got->secret_string == "v1");
  CHECK(got->version_stages == std::vector<std::string>{"AWSCURRENT"});
  CHECK(got->created_date == smemu::kVirtualEpoch);
}

TEST_CASE("emulator/versions: a default put moves AWSCURRENT and gives the old current AWSPREVIOUS (4.3 rule 1)") {
  Fixture f;
  f.create(1);
  f.put(2);
  CHECK(f.stages() == Stages{{token(1), {"AWSPREVIOUS"}}, {token(2), {"AWSCURRENT"}}});
  f.put(3);
  // v1 lost AWSPREVIOUS and, with no label left, is deprecated: hidden from the map.
  CHECK(f.stages() == Stages{{token(2), {"AWSPREVIOUS"}}, {token(3), {"AWSCURRENT"}}});
}

TEST_CASE("emulator/versions: a default put removes an outstanding AWSPENDING (4.3 rule 2)") {
  Fixture f;
  f.create(1);
  f.put(2, std::vector<std::string>{"AWSPENDING"});
  CHECK(f.stages() == Stages{{token(1), {"AWSCURRENT"}}, {token(2), {"AWSPENDING"}}});
  f.put(3);
  CHECK(f.stages() == Stages{{token(1), {"AWSPREVIOUS"}}, {token(3), {"AWSCURRENT"}}});
}

TEST_CASE("emulator/versions: AWS-recorded: current+pending on one version, then a default put") {
  Fixture f;
  f.create(1);
  f.put(2, std::vector<std::string>{"AWSPENDING"});
  REQUIRE(moved_ok(f.move("AWSCURRENT", token(1), token(2))));
  CHECK(f.stages() == Stages{{token(1), {"AWSPREVIOUS"}}, {token(2), {"AWSCURRENT", "AWSPENDING"}}});
  f.put(3);
  CHECK(f.stages() == Stages{{token(2), {"AWSPREVIOUS"}}, {token(3), {"AWSCURRENT"}}});
}

TEST_CASE("emulator/versions: explicit stages attach exactly those labels and leave AWSCURRENT alone (4.3 rule 3)") {
  Fixture f;
  f.create(1);
  f.put(2, std::vector<std::string>{"SAMPLESTAGE0", "SAMPLESTAGE1"});
  CHECK(f.stages() == Stages{{token(1), {"AWSCURRENT"}}, {token(2), {"SAMPLESTAGE0", "SAMPLESTAGE1"}}});
  f.put(3, std::vector<std::string>{"SAMPLESTAGE1"});
  CHECK(f.stages() == Stages{{token(1), {"AWSCURRENT"}}, {token(2), {"SAMPLESTAGE0"}}, {token(3), {"SAMPLESTAGE1"}}});
  // Listing AWSCURRENT moves it, and the old current becomes AWSPREVIOUS.
  f.put(4, std::vector<std::string>{"AWSCURRENT", "PUT0"});
  CHECK(f.stages() == Stages{{token(1), {"AWSPREVIOUS"}},
                             {token(2), {"SAMPLESTAGE0"}},
                             {token(3), {"SAMPLESTAGE1"}},
                             {token(4), {"AWSCURRENT", "PUT0"}}});
}

TEST_CASE("emulator/versions: the first write to an empty secret gets AWSCURRENT even with explicit stages (D3)") {
  Fixture f;
  auto created = f.client.create_secret({.name = "s"});
  REQUIRE(created.ok());
  CHECK_FALSE(created->version_id.has_value());
  auto described = f.client.describe_secret({.secret_id = "s"});
  REQUIRE(described.ok());
  CHECK_FALSE(described->version_ids_to_stages.has_value());
  auto got = f.client.get_secret_value({.secret_id = "s"});
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().name() == "ResourceNotFoundException");
  CHECK(got.error().message == "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
  f.put(1, std::vector<std::string>{"AWSPENDING"});
  CHECK(f.stages() == Stages{{token(1), {"AWSCURRENT", "AWSPENDING"}}});
}

TEST_CASE("emulator/versions: PutSecretValue responds with the labels now on the version") {
  Fixture f;
  f.create(1);
  auto r = f.client.put_secret_value({.secret_id = "s", .client_request_token = token(2), .secret_string = "x",
                                      .version_stages = std::vector<std::string>{"one", "two"}});
  REQUIRE(r.ok());
  CHECK(r->version_id == token(2));
  CHECK(r->version_stages == std::vector<std::string>{"one", "two"});
  CHECK(r->arn == f.client.describe_secret({.secret_id = "s"})->arn);
}

TEST_CASE("emulator/versions: idempotency of the ClientRequestToken (4.2, D4)") {
  Fixture f;
  f.create(1);
  f.put(2);
  const auto before = f.stages();
  SUBCASE("PutSecretValue with the same token and value succeeds and changes nothing") {
    f.put(2);
    CHECK(f.stages() == before);
  }
  SUBCASE("PutSecretValue with the same token and another value is ResourceExistsException") {
    auto r = f.client.put_secret_value({.secret_id = "s", .client_request_token = token(2), .secret_string = "other"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().name() == "ResourceExistsException");
    const auto arn = *f.client.describe_secret({.secret_id = "s"})->arn;
    CHECK(r.error().message == "You can't use ClientRequestToken " + token(2) +
                                   " because that value is already in use for a version of secret " + arn + ".");
    CHECK(r.error().message.find("other") == std::string::npos);  // D19
    CHECK(f.stages() == before);
  }
  SUBCASE("the same token with a binary value of the same bytes is a different value") {
    auto r = f.client.put_secret_value({.secret_id = "s", .client_request_token = token(2), .secret_binary = "value-2"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().name() == "ResourceExistsException");
  }
  SUBCASE("UpdateSecret follows the same rules (D4)") {
    auto same = f.client.update_secret({.secret_id = "s", .client_request_token = token(2), .secret_string = "value-2"});
    REQUIRE(same.ok());
    CHECK(same->version_id == token(2));
    CHECK(f.stages() == before);
    auto other = f.client.update_secret({.secret_id = "s", .client_request_token = token(2), .secret_string = "x"});
    REQUIRE_FALSE(other.ok());
    CHECK(other.error().name() == "ResourceExistsException");
  }
  SUBCASE("CreateSecret retried with the token of its version and the same value returns it") {
    auto again = f.client.create_secret({.name = "s", .client_request_token = token(1), .secret_string = "value-1"});
    REQUIRE(again.ok());
    CHECK(again->version_id == token(1));
    auto different = f.client.create_secret({.name = "s", .client_request_token = token(1), .secret_string = "x"});
    REQUIRE_FALSE(different.ok());
    CHECK(different.error().name() == "ResourceExistsException");
    auto fresh = f.client.create_secret({.name = "s", .client_request_token = token(9), .secret_string = "value-1"});
    REQUIRE_FALSE(fresh.ok());
    CHECK(fresh.error().message == "The operation failed because the secret s already exists.");
  }
}

TEST_CASE("emulator/versions: UpdateSecret with a value moves AWSCURRENT; without one it makes no version") {
  Fixture f;
  f.create(1);
  auto with_value = f.client.update_secret({.secret_id = "s", .client_request_token = token(2), .secret_string = "v2"});
  REQUIRE(with_value.ok());
  CHECK(with_value->version_id == token(2));
  CHECK(f.stages() == Stages{{token(1), {"AWSPREVIOUS"}}, {token(2), {"AWSCURRENT"}}});
  auto description_only = f.client.update_secret({.secret_id = "s", .description = "d"});
  REQUIRE(description_only.ok());
  CHECK_FALSE(description_only->version_id.has_value());
  CHECK(f.client.describe_secret({.secret_id = "s"})->description == "d");
  CHECK(f.stages().size() == 2);
}

TEST_CASE("emulator/versions: GetSecretValue by stage, by version and both (section 10 #4-#6)") {
  Fixture f;
  f.create(1);
  f.put(2);
  auto previous = f.client.get_secret_value({.secret_id = "s", .version_stage = "AWSPREVIOUS"});
  REQUIRE(previous.ok());
  CHECK(previous->secret_string == "value-1");
  auto by_id = f.client.get_secret_value({.secret_id = "s", .version_id = token(2)});
  REQUIRE(by_id.ok());
  CHECK(by_id->version_stages == std::vector<std::string>{"AWSCURRENT"});
  auto both = f.client.get_secret_value({.secret_id = "s", .version_id = token(2), .version_stage = "AWSCURRENT"});
  CHECK(both.ok());
  auto mismatch = f.client.get_secret_value({.secret_id = "s", .version_id = token(1), .version_stage = "AWSCURRENT"});
  REQUIRE_FALSE(mismatch.ok());
  CHECK(mismatch.error().name() == "InvalidRequestException");
  CHECK(mismatch.error().message == "You provided a VersionStage that is not associated to the provided VersionId.");
  auto no_label = f.client.get_secret_value({.secret_id = "s", .version_stage = "NOPE"});
  REQUIRE_FALSE(no_label.ok());
  CHECK(no_label.error().message == "Secrets Manager can't find the specified secret value for staging label: NOPE");
  auto no_version = f.client.get_secret_value({.secret_id = "s", .version_id = token(7)});
  REQUIRE_FALSE(no_version.ok());
  CHECK(no_version.error().name() == "ResourceNotFoundException");
  CHECK(no_version.error().message == "Secrets Manager can't find the specified secret value for VersionId: " + token(7));
  auto binary = f.client.put_secret_value({.secret_id = "s", .client_request_token = token(3),
                                           .secret_binary = std::string("\x00\x01\xff", 3)});
  REQUIRE(binary.ok());
  auto read = f.client.get_secret_value({.secret_id = "s"});
  REQUIRE(read.ok());
  CHECK_FALSE(read->secret_string.has_value());
  CHECK(read->secret_binary == std::string("\x00\x01\xff", 3));
}

TEST_CASE("emulator/versions: a deprecated version stays readable by VersionId") {
  Fixture f;
  f.create(1);
  f.put(2);
  f.put(3);
  auto old = f.client.get_secret_value({.secret_id = "s", .version_id = token(1)});
  REQUIRE(old.ok());
  CHECK(old->secret_string == "value-1");
  CHECK(old->version_stages == std::vector<std::string>{});
}

TEST_CASE("emulator/labels: moving AWSCURRENT gives the old current AWSPREVIOUS (4.4)") {
  Fixture f;
  f.create(1);
  f.put(2, std::vector<std::string>{"AWSPENDING"});
  REQUIRE(moved_ok(f.move("AWSCURRENT", token(1), token(2))));
  CHECK(f.stages() == Stages{{token(1), {"AWSPREVIOUS"}}, {token(2), {"AWSCURRENT", "AWSPENDING"}}});
}

TEST_CASE("emulator/labels: AWS-recorded move with custom labels") {
  Fixture f;
  f.create(1);
  f.put(2, std::vector<std::string>{"AWSCURRENT", "PUT0"});
  f.put(3, std::vector<std::string>{"AWSCURRENT", "PUT1"});
  f.put(4, std::vector<std::string>{"AWSPENDING", "PUT2"});
  CHECK(f.stages() == Stages{{token(2), {"AWSPREVIOUS", "PUT0"}},
                             {token(3), {"AWSCURRENT", "PUT1"}},
                             {token(4), {"AWSPENDING", "PUT2"}}});
  REQUIRE(moved_ok(f.move("AWSCURRENT", token(3), token(4))));
  auto stages = f.stages();
  CHECK(stages[token(2)] == std::vector<std::string>{"PUT0"});
  CHECK(stages[token(3)] == std::vector<std::string>{"AWSPREVIOUS", "PUT1"});
  CHECK(stages[token(4)] == std::vector<std::string>{"AWSCURRENT", "AWSPENDING", "PUT2"});
}

TEST_CASE("emulator/labels: rollback moves AWSCURRENT to AWSPREVIOUS and the roles swap") {
  Fixture f;
  f.create(1);
  f.put(2);
  REQUIRE(moved_ok(f.move("AWSCURRENT", token(2), token(1))));
  CHECK(f.stages() == Stages{{token(1), {"AWSCURRENT"}}, {token(2), {"AWSPREVIOUS"}}});
  CHECK(f.client.get_secret_value({.secret_id = "s"})->secret_string == "value-1");
}

TEST_CASE("emulator/labels: a custom label moves without touching AWSPREVIOUS") {
  Fixture f;
  f.create(1);
  f.put(2);
  f.put(3, std::vector<std::string>{"CUSTOM"});
  REQUIRE(moved_ok(f.move("CUSTOM", token(3), token(1))));
  CHECK(f.stages() == Stages{{token(1), {"AWSPREVIOUS", "CUSTOM"}}, {token(2), {"AWSCURRENT"}}});
}

TEST_CASE("emulator/labels: RemoveFromVersionId must name the holder (4.4)") {
  Fixture f;
  f.create(1);
  f.put(2, std::vector<std::string>{"X"});
  const auto before = f.stages();
  auto missing = f.move("AWSCURRENT", std::nullopt, token(2));
  CHECK(missing.name() == "InvalidParameterException");
  CHECK(missing.message == "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently "
                           "attached to version " + token(1) +
                               ", so you must explicitly reference that version in RemoveFromVersionId.");
  auto wrong = f.move("AWSCURRENT", token(2), token(2));
  CHECK(wrong.name() == "InvalidParameterException");
  CHECK(wrong.message.find("it must be set to the version that currently has the staging label AWSCURRENT") !=
        std::string::npos);
  CHECK(f.stages() == before);
}

TEST_CASE("emulator/labels: removing AWSCURRENT without moving it is refused (D6)") {
  Fixture f;
  f.create(1);
  auto e = f.move("AWSCURRENT", token(1), std::nullopt);
  CHECK(e.name() == "InvalidParameterException");
  CHECK(e.message.find("must keep an AWSCURRENT version") != std::string::npos);
  CHECK(f.stages() == Stages{{token(1), {"AWSCURRENT"}}});
}

TEST_CASE("emulator/labels: unknown version ids are InvalidParameterException naming the id (D7)") {
  Fixture f;
  f.create(1);
  auto to = f.move("X", std::nullopt, token(8));
  CHECK(to.name() == "InvalidParameterException");
  CHECK(to.message.find(token(8)) != std::string::npos);
  auto from = f.move("AWSCURRENT", token(9), token(1));
  CHECK(from.name() == "InvalidParameterException");
  CHECK(from.message.find(token(9)) != std::string::npos);
}

TEST_CASE("emulator/labels: removing the last label deprecates a version") {
  Fixture f;
  f.create(1);
  f.put(2, std::vector<std::string>{"X"});
  REQUIRE(moved_ok(f.move("X", token(2), std::nullopt)));
  CHECK(f.stages() == Stages{{token(1), {"AWSCURRENT"}}});
}

TEST_CASE("emulator/labels: at most 20 labels across a secret's versions") {
  Fixture f;
  f.create(1);
  std::vector<std::string> labels;
  for (int i = 0; i < 19; ++i) labels.push_back("L" + std::to_string(i));
  f.put(2, labels);
  const auto before = f.stages();
  auto over = f.client.put_secret_value({.secret_id = "s", .client_request_token = token(3), .secret_string = "x",
                                         .version_stages = std::vector<std::string>{"ONE_MORE"}});
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().name() == "LimitExceededException");
  CHECK(f.stages() == before);
  auto move = f.move("ANOTHER", std::nullopt, token(1));
  CHECK(move.name() == "LimitExceededException");
  // Moving an existing label is fine at the limit.
  CHECK(moved_ok(f.move("L0", token(2), token(1))));
}

TEST_CASE("emulator/versions: the version quota purges deprecated versions older than a day (D8)") {
  Fixture f;
  f.create(0);
  for (int i = 1; i < 100; ++i) f.put(i);
  auto count_all = [&] {
    auto listed = f.client.list_secret_version_ids({.secret_id = "s", .include_deprecated = true});
    REQUIRE(listed.ok());
    return listed->versions->size();
  };
  CHECK(count_all() == 100);
  SUBCASE("no deprecated version is a day old: the 101st write is refused and nothing changes") {
    const auto before = f.stages();
    auto refused = f.client.put_secret_value({.secret_id = "s", .client_request_token = token(100), .secret_string = "x"});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().name() == "LimitExceededException");
    CHECK(f.stages() == before);
    CHECK(count_all() == 100);
  }
  SUBCASE("a day later the oldest deprecated version makes room") {
    f.service.virtual_clock()->advance(smemu::days(1));
    f.put(100);
    CHECK(count_all() == 100);
    CHECK_FALSE(f.client.get_secret_value({.secret_id = "s", .version_id = token(0)}).ok());
    CHECK(f.client.get_secret_value({.secret_id = "s", .version_id = token(1)}).ok());
  }
}

TEST_CASE("emulator/versions: dates: CreatedDate, LastChangedDate, and LastAccessedDate at day resolution") {
  Fixture f;
  auto* clock = f.service.virtual_clock();
  clock->advance(std::chrono::hours(5) + std::chrono::milliseconds(123));
  f.create(1);
  const auto created = clock->now();
  auto described = f.client.describe_secret({.secret_id = "s"});
  CHECK(described->created_date == created);
  CHECK(described->last_changed_date == created);
  CHECK_FALSE(described->last_accessed_date.has_value());
  clock->advance(std::chrono::hours(30));
  REQUIRE(f.client.get_secret_value({.secret_id = "s"}).ok());
  described = f.client.describe_secret({.secret_id = "s"});
  CHECK(described->last_accessed_date == smemu::day_floor(clock->now()));
  CHECK(described->last_changed_date == created);
  f.put(2);
  CHECK(f.client.describe_secret({.secret_id = "s"})->last_changed_date == clock->now());
  auto version = f.client.get_secret_value({.secret_id = "s", .version_id = token(2)});
  CHECK(version->created_date == clock->now());
}

TEST_CASE("emulator/versions: SecretString and SecretBinary together are refused") {
  Fixture f;
  auto r = f.client.create_secret({.name = "s", .secret_binary = "b", .secret_string = "s"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().name() == "InvalidParameterException");
  CHECK_FALSE(f.client.describe_secret({.secret_id = "s"}).ok());
}
