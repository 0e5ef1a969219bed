// Scenario files: the JSON format, its errors and the step descriptions (scenario.h).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "smemu/scenarios/scenario.h"

namespace {

using nlohmann::json;
using namespace smemu::scenarios;

// The error message parse_scenario gives for `file`; fails the test when it parses.
std::string parse_error(const json& file) {
  auto parsed = parse_scenario(file);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().name() == "InvalidParameterException");
  return parsed.error().message;
}

json with_step(json step) { return {{"version", 1}, {"steps", json::array({std::move(step)})}}; }

Scenario full_scenario() {
  Scenario s;
  s.name = "every member";
  s.description = "one of each";
  s.setup.seed = 18446744073709551615ULL;
  s.setup.region = "eu-west-1";
  s.setup.clock = smemu::kVirtualEpoch + std::chrono::hours(36) + smemu::Duration(250);
  s.setup.functions = {{"arn:aws:lambda:eu-west-1:123456789012:function:f", "builtin:template?remove_pending=true"}};
  s.setup.secrets = {json{{"Name", "a"}, {"SecretString", "v"}}, json{{"Name", "b"}}};
  s.setup.test_plant_bug = true;

  Step call;
  call.action = Call{"PutSecretValue", json{{"SecretId", "a"}, {"SecretString", "w"}}, std::nullopt};
  call.expect.ok = true;
  call.expect.response = json{{"Name", "a"}};
  call.expect.labels["a"] = {{"v1", {"AWSCURRENT", "custom"}}, {"v2", {"AWSPREVIOUS"}}};
  call.expect.values["a"]["AWSCURRENT"] = "w";
  call.expect.events = std::vector<std::string>{"Secret Label Updated"};
  call.note = "a note";
  Step deferred;
  deferred.action = Call{"UpdateSecretVersionStage", json{{"SecretId", "a"}},
                         Point{"a", smemu::model::Step::kFinishSecret, "UpdateSecretVersionStage", 2}};
  deferred.expect.ok = false;
  deferred.expect.error = "InvalidParameterException";
  Step advance{Advance{smemu::Duration(1500)}, {}, {}};
  Step days{Advance{smemu::days(30)}, {}, {}};
  Step rotation{RotationStep{}, {}, {}};
  rotation.expect.rotation = RotationExpect{smemu::model::Step::kSetSecret, smemu::model::Outcome::kTimeout};
  Step idle{RunUntilIdle{}, {}, {}};
  Step crash{ArmFault{Fault{FaultKind::kCrash, Point{"", smemu::model::Step::kCreateSecret, "PutSecretValue", 1}}}, {}, {}};
  Step fail{ArmFault{Fault{FaultKind::kFail, Point{"b", smemu::model::Step::kTestSecret, std::nullopt, 1}}}, {}, {}};
  s.steps = {call, deferred, advance, days, rotation, idle, crash, fail};
  for (auto kind : {FaultKind::kTimeout, FaultKind::kDuplicate, FaultKind::kReinvoke}) {
    s.steps.push_back(Step{ArmFault{Fault{kind, Point{"a", smemu::model::Step::kSetSecret, std::nullopt, 1}}}, {}, {}});
  }
  return s;
}

}  // namespace

TEST_CASE("scenarios/file: to_json then parse gives the same scenario") {
  const Scenario s = full_scenario();
  const json file = to_json(s);
  CHECK(file["version"] == 1);
  CHECK(file["setup"]["clock"] == "2026-01-02T12:00:00.250Z");
  CHECK(file["steps"][2]["advance"] == "1.500");
  CHECK(file["steps"][3]["advance"] == "30d");
  auto parsed = parse_scenario(file);
  REQUIRE(parsed.ok());
  CHECK(*parsed == s);
  // And through the text of a file.
  auto reparsed = parse_scenario(json::parse(file.dump(2)));
  REQUIRE(reparsed.ok());
  CHECK(*reparsed == s);
}

TEST_CASE("scenarios/file: the smallest file is a version") {
  auto parsed = parse_scenario(json{{"version", 1}});
  REQUIRE(parsed.ok());
  CHECK(parsed->steps.empty());
  CHECK(parsed->setup.seed == 0);
  CHECK(parsed->setup.region == "us-east-1");
  CHECK_FALSE(parsed->setup.clock.has_value());
  CHECK(*parse_scenario(to_json(*parsed)) == *parsed);
}

TEST_CASE("scenarios/file: labels in an expectation are sorted; durations as numbers of seconds") {
  auto parsed = parse_scenario(json::parse(R"({"version": 1, "steps": [
      {"advance": 90, "expect": {"labels": {"s": {"v1": ["b", "AWSCURRENT", "a"]}}}},
      {"advance": 0.25}]})"));
  REQUIRE(parsed.ok());
  CHECK(std::get<Advance>(parsed->steps[0].action).by == std::chrono::seconds(90));
  CHECK(std::get<Advance>(parsed->steps[1].action).by == smemu::Duration(250));
  CHECK(parsed->steps[0].expect.labels.at("s").at("v1") == std::vector<std::string>{"AWSCURRENT", "a", "b"});
}

TEST_CASE("scenarios/file: a missing or other version is refused") {
  CHECK(parse_error(json{{"steps", json::array()}}).starts_with("version: missing"));
  CHECK(parse_error(json{{"version", 2}}).starts_with("version: unsupported 2"));
  CHECK(parse_error(json{{"version", "1"}}).starts_with("version: unsupported \"1\""));
  CHECK(parse_error(json::array()).starts_with("scenario: expected a JSON object"));
}

TEST_CASE("scenarios/file: unknown members are refused with their path") {
  CHECK(parse_error(json{{"version", 1}, {"seed", 3}}) == "seed: unknown member");
  CHECK(parse_error(json{{"version", 1}, {"setup", {{"sead", 3}}}}) == "setup.sead: unknown member");
  CHECK(parse_error(json{{"version", 1}, {"setup", {{"functions", {{{"arn", "a"}, {"spec", "s"}, {"x", 1}}}}}}}) ==
        "setup.functions[0].x: unknown member");
  CHECK(parse_error(with_step({{"advance", "1d"}, {"expect", {{"lables", json::object()}}}})) ==
        "steps[0].expect.lables: unknown member");
  CHECK(parse_error(with_step({{"fault", {{"kind", "crash"}, {"at", {{"step", "setSecret"}, {"when", 1}}}}}})) ==
        "steps[0].fault.at.when: unknown member");
  CHECK(parse_error(with_step({{"rotation_step", true}, {"expect", {{"rotation", {{"stepp", "setSecret"}}}}}})) ==
        "steps[0].expect.rotation.stepp: unknown member");
}

TEST_CASE("scenarios/file: wrong values are refused with their path and what is wrong") {
  CHECK(parse_error(json{{"version", 1}, {"setup", {{"seed", -1}}}}).starts_with("setup.seed: expected an integer"));
  CHECK(parse_error(json{{"version", 1}, {"setup", {{"clock", "2026-01-01 00:00:00"}}}}).starts_with("setup.clock:"));
  CHECK(parse_error(json{{"version", 1}, {"setup", {{"clock", "2026-02-30T00:00:00Z"}}}}).starts_with("setup.clock:"));
  CHECK(parse_error(json{{"version", 1}, {"setup", {{"secrets", {"x"}}}}}).starts_with("setup.secrets[0]:"));
  CHECK(parse_error(json{{"version", 1}, {"setup", {{"functions", {{{"arn", "a"}}}}}}}) == "setup.functions[0].spec: missing");
  CHECK(parse_error(json{{"version", 1}, {"steps", json::array({json::object()})}}).starts_with("steps[0]: expected one of call"));
  CHECK(parse_error(with_step({{"advance", "1d"}, {"rotation_step", true}})) == "steps[0]: has both advance and rotation_step");
  CHECK(parse_error(with_step({{"advance", "3w"}})).starts_with("steps[0].advance: expected a duration"));
  CHECK(parse_error(with_step({{"advance", -5}})).starts_with("steps[0].advance: expected a duration"));
  CHECK(parse_error(with_step({{"rotation_step", false}})) == "steps[0].rotation_step: expected true");
  CHECK(parse_error(with_step({{"call", "PutSecretValu"}})) == "steps[0].call: 'PutSecretValu' is not an operation");
  CHECK(parse_error(with_step({{"call", "GetSecretValue"}, {"request", "x"}})) == "steps[0].request: expected an object");
  CHECK(parse_error(with_step({{"advance", "1d"}, {"request", json::object()}})) == "steps[0].request: only a call has one");
  CHECK(parse_error(with_step({{"fault", {{"kind", "explode"}, {"at", {{"step", "setSecret"}}}}}}))
            .starts_with("steps[0].fault.kind: expected fail, timeout"));
  CHECK(parse_error(with_step({{"fault", {{"kind", "crash"}}}})) == "steps[0].fault.at: missing");
  CHECK(parse_error(with_step({{"fault", {{"kind", "crash"}, {"at", {{"step", "rotateSecret"}}}}}}))
            .starts_with("steps[0].fault.at.step: expected createSecret"));
  CHECK(parse_error(with_step({{"fault", {{"kind", "fail"}, {"at", {{"step", "setSecret"}, {"after_call", "GetSecretValue"}}}}}}))
            .starts_with("steps[0].fault.at.after_call: a fail fault acts on the whole step"));
  CHECK(parse_error(with_step({{"fault", {{"kind", "crash"}, {"at", {{"step", "setSecret"}, {"occurrence", 2}}}}}}))
            .starts_with("steps[0].fault.at.occurrence:"));
  CHECK(parse_error(with_step({{"fault", {{"kind", "crash"}, {"at", {{"step", "setSecret"}, {"after_call", "GetSecretValue"}, {"occurrence", 0}}}}}}))
            .starts_with("steps[0].fault.at.occurrence: expected an integer from 1"));
  CHECK(parse_error(with_step({{"advance", "1d"}, {"expect", {{"ok", true}}}}))
            .starts_with("steps[0].expect: ok, error and response are the result of a call"));
  CHECK(parse_error(with_step({{"advance", "1d"}, {"expect", {{"rotation", {{"step", "setSecret"}}}}}}))
            .starts_with("steps[0].expect.rotation: only a rotation_step"));
  CHECK(parse_error(with_step({{"call", "GetSecretValue"}, {"expect", {{"ok", true}, {"error", "X"}}}}))
            .starts_with("steps[0].expect.error: contradicts"));
  CHECK(parse_error(with_step({{"advance", "1d"}, {"expect", {{"labels", {{"s", {{"v1", json::array()}}}}}}}}))
            .starts_with("steps[0].expect.labels.s.v1: expected a non-empty array"));
  CHECK(parse_error(with_step({{"advance", "1d"}, {"expect", {{"labels", {{"s", {{"v1", {"a", "a"}}}}}}}}}))
            == "steps[0].expect.labels.s.v1: a label is listed twice");
  CHECK(parse_error(with_step({{"advance", "1d"}, {"expect", {{"values", {{"s", {{"AWSCURRENT", 5}}}}}}}}))
            .starts_with("steps[0].expect.values.s.AWSCURRENT: expected a string"));
  CHECK(parse_error(with_step({{"rotation_step", true}, {"expect", {{"rotation", {{"outcome", "fine"}}}}}}))
            .starts_with("steps[0].expect.rotation.outcome: expected ok, error or timeout"));
  CHECK(parse_error(with_step({{"advance", "1d"}, {"during", {{"step", "setSecret"}}}})) == "steps[0].during: only a call can wait");
}

TEST_CASE("scenarios/file: durations") {
  CHECK(parse_duration("30d") == smemu::days(30));
  CHECK(parse_duration("12h") == std::chrono::hours(12));
  CHECK(parse_duration("90m") == std::chrono::minutes(90));
  CHECK(parse_duration("45s") == std::chrono::seconds(45));
  CHECK(parse_duration("0s") == smemu::Duration(0));
  CHECK(parse_duration("600") == std::chrono::seconds(600));
  CHECK(parse_duration("1.5") == smemu::Duration(1500));
  for (const char* bad : {"", "d", "-1s", "+1s", "3w", "1.2345", "1.", ".5", "1 d", "1.5d", "99999999999999999999s"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("scenarios/file: describe says what a step does, never a value") {
  auto parsed = parse_scenario(json::parse(R"({"version": 1, "steps": [
      {"call": "PutSecretValue", "request": {"SecretId": "app/db", "SecretString": "hunter2"}},
      {"call": "UpdateSecretVersionStage", "request": {"SecretId": "app/db", "VersionStage": "AWSCURRENT",
        "MoveToVersionId": "v2", "RemoveFromVersionId": "v1"}},
      {"call": "PutSecretValue", "request": {"SecretId": "app/db", "SecretString": "x"},
       "during": {"secret": "app/db", "step": "finishSecret", "after_call": "UpdateSecretVersionStage", "occurrence": 2}},
      {"advance": "30d"}, {"advance": 5400}, {"rotation_step": true}, {"run_until_idle": true},
      {"fault": {"kind": "crash", "at": {"step": "finishSecret", "after_call": "UpdateSecretVersionStage"}}},
      {"fault": {"kind": "fail", "at": {"secret": "app/db", "step": "setSecret"}}}]})"));
  REQUIRE(parsed.ok());
  const auto& steps = parsed->steps;
  CHECK(describe(steps[0]) == "PutSecretValue SecretId=app/db");
  CHECK(describe(steps[1]) ==
        "UpdateSecretVersionStage SecretId=app/db VersionStage=AWSCURRENT MoveToVersionId=v2 RemoveFromVersionId=v1");
  CHECK(describe(steps[2]) ==
        "PutSecretValue SecretId=app/db during finishSecret of app/db after UpdateSecretVersionStage #2");
  CHECK(describe(steps[3]) == "advance 30d");
  CHECK(describe(steps[4]) == "advance 90m");
  CHECK(describe(steps[5]) == "rotation step");
  CHECK(describe(steps[6]) == "run until idle");
  CHECK(describe(steps[7]) == "fault crash at finishSecret after UpdateSecretVersionStage");
  CHECK(describe(steps[8]) == "fault fail at setSecret of app/db");
  CHECK(fault_kind_name(FaultKind::kDuplicate) == "duplicate");
}

TEST_CASE("scenarios/file: save and load") {
  const auto path = (std::filesystem::temp_directory_path() / "smemu_scenario_test.json").string();
  const Scenario s = full_scenario();
  REQUIRE(save_scenario(s, path).ok());
  auto loaded = load_scenario(path);
  REQUIRE(loaded.ok());
  CHECK(*loaded == s);

  std::ofstream(path) << "{\"version\": 1, \"steps\": [";
  auto broken = load_scenario(path);
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().message == path + ": not valid JSON");
  std::ofstream(path) << "{\"version\": 1, \"steps\": [{\"advance\": \"1y\"}]}";
  auto wrong = load_scenario(path);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message.starts_with(path + ": steps[0].advance: expected a duration"));
  std::filesystem::remove(path);

  auto missing = load_scenario(path);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == path + ": cannot open the file");
}

TEST_CASE("scenarios/file: every example parses and survives a round trip") {
  std::size_t examples = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SMEMU_SOURCE_ROOT "/scenarios/examples")) {
    if (entry.path().extension() != ".json") continue;
    CAPTURE(entry.path().string());
    auto loaded = load_scenario(entry.path().string());
    REQUIRE(loaded.ok());
    CHECK_FALSE(loaded->steps.empty());
    CHECK(*parse_scenario(to_json(*loaded)) == *loaded);
    ++examples;
  }
  CHECK(examples >= 6);
}
