// The invariant checks (issue 4 item 4): every rule fires on a hand-made violating transition
// and stays quiet on the legitimate transitions next to it; over a real Service the checker sees
// nothing wrong in a normal life (writes, label moves, rotations that succeed, fail, test only,
// the D8 purge, deletion) and finds the planted bug (ServiceOptions::test_plant_bug).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../../scenarios/src/invariant_rules.h"
#include "smemu/emulator/service.h"
#include "smemu/model/error.h"
#include "smemu/scenarios/invariants.h"

namespace {

using smemu::Event;
using smemu::EventKind;
using smemu::scenarios::InvariantChecker;
using smemu::scenarios::Violation;
using namespace smemu::scenarios::rules;

constexpr const char* kArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf";
constexpr const char* kLambda = "arn:aws:lambda:us-east-1:123456789012:function:rotator";

// ---- hand-made states and events -------------------------------------------------------------

VersionState version(std::string id, std::vector<std::string> labels, std::string value = "value",
                     int created_day = 1) {
  VersionState v;
  v.id = std::move(id);
  v.labels = std::move(labels);
  if (!value.empty()) {
    v.kind = smemu::model::ValueKind::kString;
    v.value_hash = value_hash(smemu::model::SecretValue::string(std::move(value)));
  }
  v.created = smemu::Timestamp{} + smemu::days(created_day);
  return v;
}

SecretState state(std::vector<VersionState> versions) {
  SecretState s;
  s.arn = kArn;
  s.versions = std::move(versions);
  s.had_current = holder(s, "AWSCURRENT") != nullptr;
  return s;
}

Event call(std::string_view operation, std::string token = "", std::vector<std::string> labels = {},
           std::optional<smemu::ErrorCode> error = std::nullopt, std::string message = "") {
  Event e;
  e.kind = EventKind::kApiCall;
  e.name = operation;
  e.region = "us-east-1";
  e.secret_arn = kArn;
  e.version_id = std::move(token);
  e.labels = std::move(labels);
  e.error = error;
  e.message = std::move(message);
  return e;
}

Event landed(std::string label, std::string version_id) {
  Event e;
  e.kind = EventKind::kLabelUpdated;
  e.name = "Secret Label Updated";
  e.secret_arn = kArn;
  e.version_id = std::move(version_id);
  e.labels = {std::move(label)};
  return e;
}

Event service_event(std::string_view name, std::string version_id, std::string message = "") {
  Event e;
  e.kind = EventKind::kServiceEvent;
  e.name = name;
  e.secret_arn = kArn;
  e.version_id = std::move(version_id);
  e.message = std::move(message);
  return e;
}

StepFacts step(std::vector<Event> events, bool before_exact = true) { return StepFacts{std::move(events), before_exact}; }

const std::string kNewToken = "11111111-2222-3333-4444-555555555555";

}  // namespace

TEST_CASE("scenarios/invariants: 1 a label on two versions fires; labels on one version each do not") {
  const auto bad = state({version("v1", {"AWSCURRENT"}), version("v2", {"AWSCURRENT", "AWSPENDING"})});
  const auto found = labels_unique(bad);
  REQUIRE(found);
  CHECK(found->invariant == 1);
  CHECK(found->secret == kArn);
  CHECK(found->message.find("AWSCURRENT is on two versions, v1 and v2") != std::string::npos);
  CHECK_FALSE(labels_unique(state({version("v1", {"AWSPREVIOUS", "X"}), version("v2", {"AWSCURRENT", "AWSPENDING"})})));
}

TEST_CASE("scenarios/invariants: 2 a secret that had AWSCURRENT and lost it fires; an empty secret does not") {
  const auto none = state({version("v1", {}), version("v2", {"AWSPENDING"})});
  const auto found = one_current(true, none);
  REQUIRE(found);
  CHECK(found->invariant == 2);
  CHECK(found->message.find("0 versions hold AWSCURRENT") != std::string::npos);
  // D17: a secret never given a value, whose only version is a rotation placeholder.
  CHECK_FALSE(one_current(false, state({version("tok", {"AWSPENDING"}, "")})));
  CHECK_FALSE(one_current(true, state({version("v1", {"AWSPREVIOUS"}), version("v2", {"AWSCURRENT"})})));
}

TEST_CASE("scenarios/invariants: 3 a changed value fires; a filled placeholder does not") {
  const auto before = state({version("v1", {"AWSCURRENT"}, "one"), version("tok", {"AWSPENDING"}, "")});
  const auto changed = state({version("v1", {"AWSCURRENT"}, "two"), version("tok", {"AWSPENDING"}, "")});
  const auto found = values_immutable(before, changed);
  REQUIRE(found);
  CHECK(found->invariant == 3);
  CHECK(found->message.find("version v1") != std::string::npos);
  const auto emptied = state({version("v1", {"AWSCURRENT"}, ""), version("tok", {"AWSPENDING"}, "")});
  CHECK(values_immutable(before, emptied));
  // createSecret fills the placeholder: the version had no value yet.
  const auto filled = state({version("v1", {"AWSCURRENT"}, "one"), version("tok", {"AWSPENDING"}, "new")});
  CHECK_FALSE(values_immutable(before, filled));
}

TEST_CASE("scenarios/invariants: 4 AWSPREVIOUS missing from the version AWSCURRENT left fires") {
  const auto before = state({version("v1", {"AWSCURRENT"}), version("v2", {"AWSPENDING"})});
  const auto move = step({landed("AWSCURRENT", "v2"), call("UpdateSecretVersionStage", "", {"AWSCURRENT"})});

  SUBCASE("UpdateSecretVersionStage without AWSPREVIOUS behind it fires") {
    const auto after = state({version("v1", {}), version("v2", {"AWSCURRENT", "AWSPENDING"})});
    const auto found = previous_follows_current(&before, after, move);
    REQUIRE(found);
    CHECK(found->invariant == 4);
    CHECK(found->message.find("UpdateSecretVersionStage moved AWSCURRENT from version v1 to v2") != std::string::npos);
    CHECK(found->message.find("it is on no version") != std::string::npos);
  }
  SUBCASE("a default write that leaves AWSPREVIOUS on an older version fires") {
    const auto older = state({version("v0", {"AWSPREVIOUS"}), version("v1", {"AWSCURRENT"})});
    const auto after = state({version("v0", {"AWSPREVIOUS"}), version("v1", {}), version("v2", {"AWSCURRENT"})});
    const auto found = previous_follows_current(&older, after, step({landed("AWSCURRENT", "v2"), call("PutSecretValue", "v2")}));
    REQUIRE(found);
    CHECK(found->message.find("it is on version v0") != std::string::npos);
  }
  SUBCASE("the spec's transition is quiet, and so is a finishSecret that also removes AWSPENDING") {
    const auto after = state({version("v1", {"AWSPREVIOUS"}), version("v2", {"AWSCURRENT"})});
    auto finish = move;
    finish.events.push_back(call("UpdateSecretVersionStage", "", {"AWSPENDING"}));
    CHECK_FALSE(previous_follows_current(&before, after, finish));
  }
  SUBCASE("a later call of the step that moves AWSPREVIOUS itself is not held against the first") {
    const auto after = state({version("v1", {}), version("v2", {"AWSCURRENT", "AWSPENDING"})});
    auto moved_back = move;
    moved_back.events.push_back(call("UpdateSecretVersionStage", "", {"AWSPREVIOUS"}));
    CHECK_FALSE(previous_follows_current(&before, after, moved_back));
  }
  SUBCASE("D2 dropping the version AWSCURRENT left is not held against it") {
    const auto after = state({version("v2", {"AWSCURRENT"})});
    auto dropped = move;
    dropped.events.push_back(service_event("TestRotationSucceeded", "v1"));
    CHECK_FALSE(previous_follows_current(&before, after, dropped));
  }
  SUBCASE("D17: AWSCURRENT landing where no version held it leaves no AWSPREVIOUS") {
    const auto empty = state({version("tok", {"AWSPENDING"}, "")});
    const auto after = state({version("tok", {"AWSCURRENT", "AWSPENDING"})});
    CHECK_FALSE(previous_follows_current(&empty, after,
                                         step({landed("AWSCURRENT", "tok"), call("UpdateSecretVersionStage", "", {"AWSCURRENT"})})));
  }
}

TEST_CASE("scenarios/invariants: 5 a failed call that changed something, or AWSCURRENT moved without a call, fires") {
  const auto before = state({version("v1", {"AWSPREVIOUS"}), version("v2", {"AWSCURRENT"})});
  const auto failed = call("UpdateSecretVersionStage", "", {"AWSCURRENT"}, smemu::ErrorCode::InvalidParameter);

  SUBCASE("a failed call changes nothing") {
    const auto relabelled = state({version("v1", {"AWSPREVIOUS", "X"}), version("v2", {"AWSCURRENT"})});
    const auto found = current_stays_on_failure(&before, relabelled, step({failed}));
    REQUIRE(found);
    CHECK(found->invariant == 5);
    CHECK(found->message.find("the failed call UpdateSecretVersionStage (InvalidParameterException)") !=
          std::string::npos);
    CHECK_FALSE(current_stays_on_failure(&before, before, step({failed})));
    // The state remembered may be behind (a scheduled rotation started without an event): no verdict.
    CHECK_FALSE(current_stays_on_failure(&before, relabelled, step({failed}, false)));
  }
  SUBCASE("the service does not move AWSCURRENT when a rotation attempt fails") {
    const auto rotating = state({version("v1", {"AWSPREVIOUS"}), version("v2", {"AWSCURRENT"}),
                                 version("tok", {"AWSPENDING"})});
    const auto moved = state({version("v1", {}), version("v2", {"AWSPREVIOUS"}), version("tok", {"AWSCURRENT", "AWSPENDING"})});
    const auto attempt_failed = service_event("RotationFailed", "tok", "Injected failure at finishSecret");
    const auto found = current_stays_on_failure(&rotating, moved, step({attempt_failed}));
    REQUIRE(found);
    CHECK(found->message.find("AWSCURRENT is on version tok, but the last call that moved it left it on version v2") !=
          std::string::npos);
    CHECK(found->message.find("Injected failure at finishSecret") != std::string::npos);
    // The function's own call moved it before the attempt failed: that stands (D1).
    CHECK_FALSE(current_stays_on_failure(
        &rotating, moved,
        step({landed("AWSCURRENT", "tok"), call("UpdateSecretVersionStage", "", {"AWSCURRENT"}), attempt_failed})));
  }
}

TEST_CASE("scenarios/invariants: 6 a default listing with a deprecated version fires") {
  const auto after = state({version("v1", {}), version("v2", {"AWSCURRENT"})});
  const auto found = default_listing(after, {{"v1", {}}, {"v2", {"AWSCURRENT"}}});
  REQUIRE(found);
  CHECK(found->invariant == 6);
  CHECK(found->message.find("shows version v1, which has no labels") != std::string::npos);
  CHECK(default_listing(after, {}));  // a labelled version missing
  CHECK(default_listing(after, {{"v2", {"AWSPREVIOUS"}}}));
  CHECK_FALSE(default_listing(after, {{"v2", {"AWSCURRENT"}}}));
}

TEST_CASE("scenarios/invariants: 7 a duplicate VersionId, or an id re-created with another value, fires") {
  const auto duplicated = state({version("v1", {"AWSCURRENT"}), version("v1", {}, "other")});
  const auto found = version_ids(nullptr, duplicated, step({}));
  REQUIRE(found);
  CHECK(found->invariant == 7);

  const auto before = state({version("v1", {}, "old", 1), version("v2", {"AWSCURRENT"}, "x", 1)});
  const auto recreated = state({version("v2", {"AWSPREVIOUS"}, "x", 1), version("v1", {"AWSCURRENT"}, "new", 9)});
  const auto put = call("PutSecretValue", "v1");
  CHECK(version_ids(&before, recreated, step({put})));
  // D8 purged v1 first, which frees the id.
  CHECK_FALSE(version_ids(&before, recreated, step({service_event("EndSecretVersionDelete", "v1"), put})));
}

TEST_CASE("scenarios/invariants: 8 RotateSecret with a new token refused exactly when AWSPENDING is elsewhere") {
  const auto stuck = state({version("v1", {"AWSCURRENT"}), version("tok", {"AWSPENDING"}, "")});
  const auto settled = state({version("v1", {"AWSPREVIOUS"}), version("tok", {"AWSCURRENT", "AWSPENDING"})});
  const auto accepted = call("RotateSecret", kNewToken);
  const auto refused = call("RotateSecret", kNewToken, {}, smemu::ErrorCode::InvalidRequest,
                            std::string(smemu::msg::kPreviousRotationIncomplete));

  const auto found = rotate_refusal(stuck, step({accepted}));
  REQUIRE(found);
  CHECK(found->invariant == 8);
  CHECK(found->message.find("AWSPENDING is on version tok and AWSCURRENT on version v1") != std::string::npos);
  CHECK(rotate_refusal(settled, step({refused})));
  CHECK(rotate_refusal(stuck, step({call("RotateSecret", kNewToken, {}, smemu::ErrorCode::LimitExceeded)})));

  CHECK_FALSE(rotate_refusal(stuck, step({refused})));
  CHECK_FALSE(rotate_refusal(settled, step({accepted})));
  // Checks 1-6 of spec 5.2 come first.
  CHECK_FALSE(rotate_refusal(stuck, step({call("RotateSecret", kNewToken, {}, smemu::ErrorCode::AccessDenied)})));
  // D12: the stuck rotation's own token is a re-attempt, not a new rotation.
  auto with_run = stuck;
  with_run.run = RunState{"tok", false};
  CHECK_FALSE(rotate_refusal(with_run, step({call("RotateSecret", "tok")})));
  // A rotation in flight whose version holds AWSCURRENT too (its finishSecret moved the label,
  // then failed) does not block a new token: spec 5.2 check 7 looks at the labels only.
  auto in_flight = settled;
  in_flight.run = RunState{"tok", false};
  CHECK_FALSE(rotate_refusal(in_flight, step({accepted})));
  CHECK(rotate_refusal(in_flight, step({refused})));
  // Another call of the step changed the secret first: `before` is not what RotateSecret met.
  CHECK_FALSE(rotate_refusal(stuck, step({call("UpdateSecretVersionStage", "", {"AWSPENDING"}), accepted})));
}

TEST_CASE("scenarios/invariants: 9 a rotation naming a version without AWSPENDING fires") {
  auto after = state({version("v1", {"AWSCURRENT"}), version("tok", {}, "")});
  after.run = RunState{"tok", false};
  const auto found = run_names_pending(after);
  REQUIRE(found);
  CHECK(found->invariant == 9);
  CHECK(found->message.find("names version tok, which holds []") != std::string::npos);

  auto finishing = state({version("v1", {"AWSPREVIOUS"}), version("tok", {"AWSCURRENT"})});
  finishing.run = RunState{"tok", true};
  CHECK_FALSE(run_names_pending(finishing));
  finishing.run->finishing = false;
  CHECK(run_names_pending(finishing));
  auto pending = state({version("v1", {"AWSCURRENT"}), version("tok", {"AWSPENDING"}, "")});
  pending.run = RunState{"tok", false};
  CHECK_FALSE(run_names_pending(pending));
}

TEST_CASE("scenarios/invariants: 10 a version lost without a purge fires; D8's purge and D2's drop do not") {
  const auto before = state({version("v1", {}), version("v2", {"AWSCURRENT"}), version("test", {"AWSPENDING"})});
  const auto after = state({version("v2", {"AWSCURRENT"}), version("test", {"AWSPENDING"})});
  const auto found = no_write_lost(&before, after, step({call("PutSecretValue", "v3")}));
  REQUIRE(found);
  CHECK(found->invariant == 10);
  CHECK(found->message.find("version v1 is gone") != std::string::npos);
  CHECK_FALSE(no_write_lost(&before, after, step({service_event("EndSecretVersionDelete", "v1")})));
  const auto test_dropped = state({version("v1", {}), version("v2", {"AWSCURRENT"})});
  CHECK_FALSE(no_write_lost(&before, test_dropped, step({service_event("TestRotationSucceeded", "test")})));
  CHECK(no_write_lost(&before, test_dropped, step({})));

  // An acknowledged PutSecretValue whose version is not there.
  const auto written = no_write_lost(nullptr, after, step({call("PutSecretValue", "v9")}));
  REQUIRE(written);
  CHECK(written->message.find("ClientRequestToken v9") != std::string::npos);
  CHECK_FALSE(no_write_lost(nullptr, after, step({call("PutSecretValue", "v9", {}, smemu::ErrorCode::LimitExceeded)})));
}

TEST_CASE("scenarios/invariants: check_step leaves the state comparisons out for a replica") {
  auto before = state({version("v1", {"AWSCURRENT"})});
  before.replica = true;
  auto after = state({version("v2", {"AWSCURRENT"})});  // the primary wrote v2; D8 purged v1 there
  after.replica = true;
  const std::vector<ListedVersion> listing{{"v2", {"AWSCURRENT"}}};
  CHECK_FALSE(check_step(&before, after, step({}), &listing));
  // What holds of any state still does.
  after.versions.push_back(version("v3", {"AWSCURRENT"}));
  const std::vector<ListedVersion> both{{"v2", {"AWSCURRENT"}}, {"v3", {"AWSCURRENT"}}};
  const auto found = check_step(&before, after, step({}), &both);
  REQUIRE(found);
  CHECK(found->invariant == 1);
}

// ---- over a real Service ---------------------------------------------------------------------

namespace {

std::string token(int n) { return "invariant-token-" + std::string(20, '0') + std::to_string(100 + n); }

void expect_clean(InvariantChecker& checker, const char* what) {
  const auto found = checker.check();
  INFO(what);
  if (found) INFO("invariant " << found->invariant << " on " << found->secret << ": " << found->message);
  CHECK_FALSE(found.has_value());
}

}  // namespace

TEST_CASE("scenarios/invariants: a normal life of secrets shows no violation") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  REQUIRE(service.register_function(kLambda, "builtin:template").ok());
  const std::string failing = "arn:aws:lambda:us-east-1:123456789012:function:failing";
  REQUIRE(service.register_function(failing, "builtin:template?fail_at=setSecret").ok());
  InvariantChecker checker(service, "us-east-1");

  auto created = client.create_secret({.name = "app", .client_request_token = token(1), .secret_string = "v1"});
  REQUIRE(created.ok());
  const auto arn = *created->arn;
  std::vector<std::string> touched;
  REQUIRE_FALSE(checker.check(&touched));
  CHECK(touched == std::vector<std::string>{arn});

  REQUIRE(client.put_secret_value({.secret_id = "app", .client_request_token = token(2), .secret_string = "v2"}).ok());
  expect_clean(checker, "default write");
  REQUIRE(client.put_secret_value({.secret_id = arn, .client_request_token = token(3), .secret_string = "v3",
                                   .version_stages = std::vector<std::string>{"STAGED"}})
              .ok());
  expect_clean(checker, "write with a custom label");
  REQUIRE(client.update_secret_version_stage({.secret_id = "app", .version_stage = "STAGED",
                                              .remove_from_version_id = token(3), .move_to_version_id = token(1)})
              .ok());
  expect_clean(checker, "custom label move");
  REQUIRE(client.update_secret_version_stage({.secret_id = "app", .version_stage = "AWSCURRENT",
                                              .remove_from_version_id = token(2), .move_to_version_id = token(1)})
              .ok());
  expect_clean(checker, "rollback to AWSPREVIOUS");
  CHECK_FALSE(client.update_secret_version_stage({.secret_id = "app", .version_stage = "AWSCURRENT",
                                                  .remove_from_version_id = token(1)})
                  .ok());
  CHECK_FALSE(client.put_secret_value({.secret_id = "app", .client_request_token = token(1), .secret_string = "x"}).ok());
  CHECK_FALSE(client.get_secret_value({.secret_id = "missing"}).ok());
  expect_clean(checker, "failed calls");

  // A full rotation by the published template, its own label moves included.
  REQUIRE(client.rotate_secret({.secret_id = "app", .client_request_token = token(10), .rotation_lambda_arn = kLambda})
              .ok());
  expect_clean(checker, "RotateSecret");
  CHECK(service.run_until_idle() == 4);
  expect_clean(checker, "rotation run");
  REQUIRE(client.update_secret_version_stage({.secret_id = "app", .version_stage = "AWSPENDING",
                                              .remove_from_version_id = token(10)})
              .ok());
  expect_clean(checker, "AWSPENDING removed by hand");

  // D2: a test rotation's temporary version is dropped.
  REQUIRE(client.rotate_secret({.secret_id = "app", .client_request_token = token(11), .rotate_immediately = false}).ok());
  expect_clean(checker, "RotateSecret RotateImmediately=false");
  CHECK(service.run_until_idle() == 1);
  expect_clean(checker, "test rotation");

  // A failed rotation: retried (D1), then stuck; RotateSecret is refused; a write abandons it.
  REQUIRE(client.rotate_secret({.secret_id = "app", .client_request_token = token(12), .rotation_lambda_arn = failing})
              .ok());
  expect_clean(checker, "RotateSecret with a failing function");
  service.run_until_idle();
  expect_clean(checker, "failed attempt");
  service.advance(std::chrono::hours(4));
  expect_clean(checker, "retries");
  auto refused = client.rotate_secret({.secret_id = "app", .client_request_token = token(13)});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message == smemu::msg::kPreviousRotationIncomplete);
  expect_clean(checker, "RotateSecret refused while stuck");
  REQUIRE(client.put_secret_value({.secret_id = "app", .client_request_token = token(14), .secret_string = "v14"}).ok());
  expect_clean(checker, "write abandons the rotation");
  REQUIRE(client.rotate_secret({.secret_id = "app", .client_request_token = token(15), .rotation_lambda_arn = kLambda})
              .ok());
  CHECK(service.run_until_idle() == 4);
  expect_clean(checker, "a rotation after the abandoned one");

  // D8: past 100 versions, deprecated ones older than a day are purged.
  service.virtual_clock()->advance(smemu::days(2));
  const auto before_writes = service.events().last_sequence();
  for (int n = 100; n < 195; ++n) {
    auto put = client.put_secret_value({.secret_id = "app", .client_request_token = token(n), .secret_string = std::to_string(n)});
    INFO(n << ": " << (put.ok() ? std::string() : put.error().message));
    REQUIRE(put.ok());
  }
  const auto events = service.events().read(before_writes);
  CHECK(std::any_of(events.begin(), events.end(), [](const Event& e) { return e.name == "EndSecretVersionDelete"; }));
  expect_clean(checker, "writes past the version quota");

  // Deletion, restore, force deletion, and a new secret under the same name.
  REQUIRE(client.delete_secret({.secret_id = "app"}).ok());
  expect_clean(checker, "DeleteSecret");
  REQUIRE(client.restore_secret({.secret_id = "app"}).ok());
  expect_clean(checker, "RestoreSecret");
  REQUIRE(client.delete_secret({.secret_id = "app", .force_delete_without_recovery = true}).ok());
  expect_clean(checker, "ForceDeleteWithoutRecovery");
  REQUIRE(client.create_secret({.name = "app", .client_request_token = token(1), .secret_string = "again"}).ok());
  expect_clean(checker, "created again");
}

TEST_CASE("scenarios/invariants: the checker finds the planted bug as invariant 4") {
  smemu::Service service(smemu::ServiceOptions{.test_plant_bug = true});
  auto client = service.client("us-east-1");
  InvariantChecker checker(service, "us-east-1");
  REQUIRE(client.create_secret({.name = "app", .client_request_token = token(1), .secret_string = "v1"}).ok());
  REQUIRE(client.put_secret_value({.secret_id = "app", .client_request_token = token(2), .secret_string = "v2"}).ok());
  expect_clean(checker, "writes are not touched by the planted bug");

  REQUIRE(client.update_secret_version_stage({.secret_id = "app", .version_stage = "AWSCURRENT",
                                              .remove_from_version_id = token(2), .move_to_version_id = token(1)})
              .ok());
  const auto found = checker.check();
  REQUIRE(found);
  CHECK(found->invariant == 4);
  CHECK(found->message.find("from version " + token(2) + " to " + token(1)) != std::string::npos);
  CHECK(found->message.find("it is on no version") != std::string::npos);
}

TEST_CASE("scenarios/invariants: the planted bug shows in a rotation's finishSecret") {
  smemu::Service service(smemu::ServiceOptions{.test_plant_bug = true});
  auto client = service.client("us-east-1");
  REQUIRE(service.register_function(kLambda, "builtin:template").ok());
  REQUIRE(client.create_secret({.name = "app", .client_request_token = token(1), .secret_string = "v1"}).ok());
  InvariantChecker checker(service, "us-east-1");
  REQUIRE(client.rotate_secret({.secret_id = "app", .client_request_token = token(10), .rotation_lambda_arn = kLambda})
              .ok());
  expect_clean(checker, "RotateSecret");
  service.run_until_idle();
  const auto found = checker.check();
  REQUIRE(found);
  CHECK(found->invariant == 4);
}

TEST_CASE("scenarios/invariants: events the log dropped make no false alarm, and checking goes on") {
  smemu::Service service(smemu::ServiceOptions{.event_capacity = 3, .test_plant_bug = true});
  auto client = service.client("us-east-1");
  REQUIRE(client.create_secret({.name = "app", .client_request_token = token(1), .secret_string = "v1"}).ok());
  InvariantChecker checker(service, "us-east-1");
  // Ten writes between two checks: the purge-free history the checker would need is gone.
  for (int n = 2; n < 12; ++n) {
    REQUIRE(client.put_secret_value({.secret_id = "app", .client_request_token = token(n), .secret_string = "v"}).ok());
  }
  expect_clean(checker, "a step whose first events were dropped");
  REQUIRE(client.update_secret_version_stage({.secret_id = "app", .version_stage = "AWSCURRENT",
                                              .remove_from_version_id = token(11), .move_to_version_id = token(10)})
              .ok());
  const auto found = checker.check();
  REQUIRE(found);
  CHECK(found->invariant == 4);
}
