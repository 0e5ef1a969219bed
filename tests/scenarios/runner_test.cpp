// The scenario runner: expectations, faults, `during`, the trace digest and the label table
// (runner.h).
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "smemu/scenarios/runner.h"

namespace {

using nlohmann::json;
using namespace smemu::scenarios;

constexpr const char* kFunction = "arn:aws:lambda:us-east-1:123456789012:function:rotate";
constexpr const char* kV1 = "11111111-1111-4111-8111-111111111111";
constexpr const char* kV2 = "22222222-2222-4222-8222-222222222222";

// A scenario with one secret "s" (version kV1, value "one") and the template function, whose
// steps are `steps`.
Scenario scenario_with(json steps, std::string spec = "builtin:template", std::uint64_t seed = 1) {
  json file = {{"version", 1},
               {"setup",
                {{"seed", seed},
                 {"functions", {{{"arn", kFunction}, {"spec", spec}}}},
                 {"secrets", {{{"Name", "s"}, {"ClientRequestToken", kV1}, {"SecretString", "one"}}}}}},
               {"steps", std::move(steps)}};
  auto parsed = parse_scenario(file);
  REQUIRE_MESSAGE(parsed.ok(), parsed.error().message);
  return *parsed;
}

json rotate() {
  return {{"call", "RotateSecret"},
          {"request", {{"SecretId", "s"}, {"ClientRequestToken", kV2}, {"RotationLambdaARN", kFunction}}}};
}

json labels(json table) { return {{"s", std::move(table)}}; }

RunReport run(const Scenario& scenario, std::ostream* out = nullptr) {
  RunOptions options;
  options.out = out;
  return run_scenario(scenario, options);
}

std::string failure_of(const RunReport& report) { return report.failure ? report.failure->message : "no failure"; }

}  // namespace

TEST_CASE("scenarios/runner: a rotation step by step meets its expectations") {
  const auto scenario = scenario_with(json::array({
      rotate(),
      {{"rotation_step", true},
       {"expect", {{"rotation", {{"step", "createSecret"}, {"outcome", "ok"}}},
                   {"labels", labels({{kV1, {"AWSCURRENT"}}, {kV2, {"AWSPENDING"}}})},
                   {"values", {{"s", {{"AWSCURRENT", "one"}}}}},
                   {"events", {"RotationStarted"}}}}},
      {{"run_until_idle", true},
       {"expect", {{"labels", labels({{kV1, {"AWSPREVIOUS"}}, {kV2, {"AWSCURRENT", "AWSPENDING"}}})},
                   {"values", {{"s", {{"AWSPREVIOUS", "one"}}}}},
                   {"events", {"Secret Label Updated", "RotationSucceeded"}}}}},
      {{"call", "GetSecretValue"}, {"request", {{"SecretId", "s"}, {"VersionStage", "AWSPREVIOUS"}}},
       {"expect", {{"ok", true}, {"response", {{"SecretString", "one"}, {"VersionId", kV1}}}}}},
      {{"call", "GetSecretValue"}, {"request", {{"SecretId", "nope"}}},
       {"expect", {{"ok", false}, {"error", "ResourceNotFoundException"}}}},
  }));
  const auto report = run(scenario);
  CHECK_MESSAGE(!report.failure, failure_of(report));
  CHECK(report.steps_run == 5);
}

TEST_CASE("scenarios/runner: an unmet expectation names the step and the difference") {
  SUBCASE("labels") {
    const auto scenario = scenario_with(json::array({
        {{"advance", "1h"}},
        {{"call", "PutSecretValue"}, {"request", {{"SecretId", "s"}, {"SecretString", "two"}, {"ClientRequestToken", kV2}}},
         {"expect", {{"labels", labels({{kV1, {"AWSCURRENT"}}, {kV2, {"AWSPENDING"}}})}}}},
        {{"advance", "1h"}},
    }));
    const auto report = run(scenario);
    REQUIRE(report.failure);
    CHECK(report.failure->step == 2);
    CHECK(report.failure->step_description == "PutSecretValue SecretId=s");
    CHECK(report.failure->message ==
          std::string("labels of s: expected ") + kV1 + "=[AWSCURRENT], " + kV2 + "=[AWSPENDING], got " + kV1 +
              "=[AWSPREVIOUS], " + kV2 + "=[AWSCURRENT]");
    CHECK(report.steps_run == 2);  // stops at the first failure
  }
  SUBCASE("an error") {
    const auto report = run(scenario_with(json::array({
        {{"call", "DescribeSecret"}, {"request", {{"SecretId", "s"}}}, {"expect", {{"error", "ResourceNotFoundException"}}}},
    })));
    REQUIRE(report.failure);
    CHECK(report.failure->message == "expected ResourceNotFoundException, it succeeded");
  }
  SUBCASE("a response member") {
    const auto report = run(scenario_with(json::array({
        {{"call", "DescribeSecret"}, {"request", {{"SecretId", "s"}}}, {"expect", {{"response", {{"Name", "t"}}}}}},
    })));
    REQUIRE(report.failure);
    CHECK(report.failure->message == "response.Name: expected \"t\", got \"s\"");
  }
  SUBCASE("a value, without showing it") {
    const auto report = run(scenario_with(json::array({
        {{"advance", "1s"}, {"expect", {{"values", {{"s", {{"AWSCURRENT", "secret-guess"}}}}}}}},
    })));
    REQUIRE(report.failure);
    CHECK(report.failure->message ==
          std::string("value of s at AWSCURRENT: version ") + kV1 + " holds another value than expected (values are not shown)");
    CHECK(report.failure->message.find("one") == std::string::npos);
  }
  SUBCASE("events") {
    const auto report = run(scenario_with(json::array({rotate(), {{"rotation_step", true}, {"expect", {{"events", json::array()}}}}})));
    REQUIRE(report.failure);
    CHECK(report.failure->step == 2);
    CHECK(report.failure->message == "events: expected [], got [RotationStarted]");
  }
  SUBCASE("a rotation step when none is due") {
    const auto report = run(scenario_with(json::array({{{"rotation_step", true}}})));
    REQUIRE(report.failure);
    CHECK(report.failure->message == "expected a rotation step to be due, none was");
  }
  SUBCASE("every failure, without stop_at_first_failure, reports the first") {
    const auto scenario = scenario_with(json::array({
        {{"call", "DescribeSecret"}, {"request", {{"SecretId", "x"}}}, {"expect", {{"ok", true}}}},
        {{"call", "DescribeSecret"}, {"request", {{"SecretId", "y"}}}, {"expect", {{"ok", true}}}},
    }));
    RunOptions options;
    options.stop_at_first_failure = false;
    const auto report = run_scenario(scenario, options);
    REQUIRE(report.failure);
    CHECK(report.failure->step == 1);
    CHECK(report.steps_run == 2);
  }
}

TEST_CASE("scenarios/runner: a fail fault fails the step without the function; D1 retries it") {
  const auto scenario = scenario_with(json::array({
      {{"fault", {{"kind", "fail"}, {"at", {{"secret", "s"}, {"step", "setSecret"}}}}}},
      rotate(),
      {{"rotation_step", true}, {"expect", {{"rotation", {{"step", "createSecret"}, {"outcome", "ok"}}}}}},
      {{"rotation_step", true},
       {"expect", {{"rotation", {{"step", "setSecret"}, {"outcome", "error"}}},
                   {"labels", labels({{kV1, {"AWSCURRENT"}}, {kV2, {"AWSPENDING"}}})},
                   {"events", {"RotationFailed"}}}}},
      {{"advance", "1h"},
       {"expect", {{"labels", labels({{kV1, {"AWSPREVIOUS"}}, {kV2, {"AWSCURRENT", "AWSPENDING"}}})},
                   {"events", {"RotationStarted", "Secret Label Updated", "RotationSucceeded"}}}}},
  }));
  const auto report = run(scenario);
  CHECK_MESSAGE(!report.failure, failure_of(report));
  CHECK(report.probes.at("retry") == 1);
}

TEST_CASE("scenarios/runner: a timeout fault times the step out") {
  const auto scenario = scenario_with(json::array({
      {{"fault", {{"kind", "timeout"}, {"at", {{"step", "createSecret"}}}}}},
      rotate(),
      {{"rotation_step", true},
       {"expect", {{"rotation", {{"step", "createSecret"}, {"outcome", "timeout"}}}, {"events", {"RotationStarted", "RotationFailed"}}}}},
  }));
  const auto report = run(scenario);
  CHECK_MESSAGE(!report.failure, failure_of(report));
}

TEST_CASE("scenarios/runner: a crash stops the function at its point; its earlier calls stand") {
  SUBCASE("after its PutSecretValue in createSecret") {
    const auto scenario = scenario_with(json::array({
        {{"fault", {{"kind", "crash"}, {"at", {{"step", "createSecret"}, {"after_call", "PutSecretValue"}}}}}},
        rotate(),
        // The template's createSecret ends with its PutSecretValue: the value stands, the step fails.
        {{"rotation_step", true},
         {"expect", {{"rotation", {{"step", "createSecret"}, {"outcome", "error"}}},
                     {"labels", labels({{kV1, {"AWSCURRENT"}}, {kV2, {"AWSPENDING"}}})},
                     {"events", {"RotationStarted", "RotationFailed"}}}}},
    }));
    std::ostringstream out;
    const auto report = run(scenario, &out);
    CHECK_MESSAGE(!report.failure, failure_of(report));
    CHECK(out.str().find("fault crash fired at createSecret") != std::string::npos);
    CHECK(out.str().find("crashed after PutSecretValue in createSecret") != std::string::npos);
    // The placeholder holds the value the crashed function wrote.
    Runner runner(scenario.setup);
    for (std::size_t i = 0; i < scenario.steps.size(); ++i) REQUIRE_FALSE(runner.run(scenario.steps[i], i + 1).failure);
    bool has_value = false;
    runner.service().inspect("us-east-1", "s", [&](const smemu::model::Secret* secret) {
      has_value = secret && !secret->find_version(kV2)->value.empty();
    });
    CHECK(has_value);
  }
  SUBCASE("between the two label moves of finishSecret") {
    const auto scenario = scenario_with(json::array({
        {{"fault", {{"kind", "crash"}, {"at", {{"step", "finishSecret"}, {"after_call", "UpdateSecretVersionStage"}}}}}},
        rotate(),
        {{"run_until_idle", true},
         // AWSCURRENT moved, AWSPENDING was never removed, and the attempt failed.
         {"expect", {{"labels", labels({{kV1, {"AWSPREVIOUS"}}, {kV2, {"AWSCURRENT", "AWSPENDING"}}})},
                     {"events", {"RotationStarted", "Secret Label Updated", "RotationFailed"}}}}},
    }), "builtin:template?remove_pending=true");
    const auto report = run(scenario);
    CHECK_MESSAGE(!report.failure, failure_of(report));
    CHECK(report.probes.at("crash_in_finish") == 1);
  }
  SUBCASE("before the function runs") {
    const auto scenario = scenario_with(json::array({
        {{"fault", {{"kind", "crash"}, {"at", {{"step", "createSecret"}}}}}},
        rotate(),
        {{"rotation_step", true},
         {"expect", {{"rotation", {{"step", "createSecret"}, {"outcome", "error"}}},
                     {"events", {"RotationStarted", "RotationFailed"}}}}},
    }));
    const auto report = run(scenario);
    CHECK_MESSAGE(!report.failure, failure_of(report));
  }
}

TEST_CASE("scenarios/runner: a duplicate invocation runs inside the first; a reinvocation after it") {
  SUBCASE("duplicate createSecret after its first GetSecretValue") {
    const auto scenario = scenario_with(json::array({
        {{"fault", {{"kind", "duplicate"}, {"at", {{"step", "createSecret"}, {"after_call", "DescribeSecret"}}}}}},
        rotate(),
        {{"rotation_step", true},
         {"expect", {{"rotation", {{"step", "createSecret"}, {"outcome", "ok"}}},
                     {"labels", labels({{kV1, {"AWSCURRENT"}}, {kV2, {"AWSPENDING"}}})}}}},
        {{"run_until_idle", true}, {"expect", {{"labels", labels({{kV1, {"AWSPREVIOUS"}}, {kV2, {"AWSCURRENT", "AWSPENDING"}}})}}}},
    }));
    std::ostringstream out;
    const auto report = run(scenario, &out);
    CHECK_MESSAGE(!report.failure, failure_of(report));
    CHECK(report.probes.at("duplicate_invocation") == 1);
    CHECK(out.str().find("fault duplicate fired at createSecret") != std::string::npos);
  }
  SUBCASE("reinvoke finishSecret") {
    const auto scenario = scenario_with(json::array({
        {{"fault", {{"kind", "reinvoke"}, {"at", {{"step", "finishSecret"}}}}}},
        rotate(),
        {{"run_until_idle", true},
         {"expect", {{"labels", labels({{kV1, {"AWSPREVIOUS"}}, {kV2, {"AWSCURRENT"}}})},
                     {"events", {"RotationStarted", "Secret Label Updated", "RotationSucceeded"}}}}},
    }), "builtin:template?remove_pending=true");
    const auto report = run(scenario);
    CHECK_MESSAGE(!report.failure, failure_of(report));
    CHECK(report.probes.at("reinvoke") == 1);
  }
}

TEST_CASE("scenarios/runner: a call with during runs at its point, and is checked then") {
  SUBCASE("a manual write before finishSecret ends the rotation") {
    const auto scenario = scenario_with(json::array({
        rotate(),
        {{"call", "PutSecretValue"},
         {"request", {{"SecretId", "s"}, {"SecretString", "manual"}, {"ClientRequestToken", "33333333-3333-4333-8333-333333333333"}}},
         {"during", {{"secret", "s"}, {"step", "finishSecret"}}},
         // At that moment: the manual write took AWSCURRENT and, being a default write, AWSPENDING away.
         {"expect", {{"ok", true},
                     {"labels", labels({{kV1, {"AWSPREVIOUS"}}, {"33333333-3333-4333-8333-333333333333", {"AWSCURRENT"}}})},
                     {"events", {"Secret Label Updated", "RotationAbandoned"}}}}},
        {{"run_until_idle", true}},
    }));
    std::ostringstream out;
    const auto report = run(scenario, &out);
    CHECK_MESSAGE(!report.failure, failure_of(report));
    CHECK(report.probes.at("concurrent_callers") == 1);
    CHECK(report.probes.at("abandonment") == 1);
    CHECK(out.str().find("step 2: PutSecretValue SecretId=s during finishSecret of s") != std::string::npos);
    CHECK(out.str().find("step 2 (at finishSecret of arn:aws:secretsmanager:us-east-1:123456789012:secret:s-") !=
          std::string::npos);
  }
  SUBCASE("its unmet expectation is reported against its own step") {
    const auto scenario = scenario_with(json::array({
        rotate(),
        {{"call", "GetSecretValue"}, {"request", {{"SecretId", "s"}, {"VersionStage", "AWSPENDING"}}},
         {"during", {{"step", "setSecret"}}}, {"expect", {{"ok", false}}}},
        {{"run_until_idle", true}},
    }));
    const auto report = run(scenario);
    REQUIRE(report.failure);
    CHECK(report.failure->step == 2);
    CHECK(report.failure->message.starts_with("expected the call to fail, it succeeded (at setSecret of arn:"));
    CHECK(report.failure->message.ends_with(", during step 3)"));
  }
  SUBCASE("a point that never comes is unmet") {
    const auto scenario = scenario_with(json::array({
        {{"call", "DescribeSecret"}, {"request", {{"SecretId", "s"}}}, {"during", {{"step", "testSecret"}}}},
        {{"advance", "1d"}},
    }));
    const auto report = run(scenario);
    REQUIRE(report.failure);
    CHECK(report.failure->step == 1);
    CHECK(report.failure->message == "the call waited for testSecret, which never came");
  }
}

TEST_CASE("scenarios/runner: the same scenario gives the same digest; another seed another") {
  const auto steps = json::array({
      {{"call", "CreateSecret"}, {"request", {{"Name", "t"}, {"SecretString", "x"}}}},
      {{"call", "RotateSecret"}, {"request", {{"SecretId", "t"}, {"RotationLambdaARN", kFunction},
                                              {"RotationRules", {{"ScheduleExpression", "rate(10 days)"}}}}}},
      {{"advance", "40d"}},
  });
  RunOptions options;
  options.keep_trace = true;
  Runner first(scenario_with(steps).setup, options);
  Runner second(scenario_with(steps).setup, options);
  const auto scenario = scenario_with(steps);
  for (std::size_t i = 0; i < scenario.steps.size(); ++i) {
    REQUIRE_FALSE(first.run(scenario.steps[i], i + 1).failure);
    REQUIRE_FALSE(second.run(scenario.steps[i], i + 1).failure);
  }
  CHECK(first.trace() == second.trace());
  CHECK(first.digest() == second.digest());
  CHECK(run(scenario).digest == first.digest());
  CHECK(run(scenario_with(steps, "builtin:template", 2)).digest != first.digest());
  // The trace holds every event, but no secret value (D19).
  CHECK(first.trace().find("RotationSucceeded") != std::string::npos);
  CHECK(first.trace().find("\"SecretString\":\"x\"") == std::string::npos);
  CHECK(first.trace().find("\"SecretString\":\"fnv:") != std::string::npos);
  // The token the runner filled in, as an SDK would, is in the trace.
  CHECK(first.trace().find("\"ClientRequestToken\":\"") != std::string::npos);
}

TEST_CASE("scenarios/runner: a planted bug is caught by the invariants after the step") {
  auto scenario = scenario_with(json::array({
      {{"call", "PutSecretValue"}, {"request", {{"SecretId", "s"}, {"SecretString", "two"}, {"ClientRequestToken", kV2},
                                                {"VersionStages", {"staged"}}}}},
      {{"call", "UpdateSecretVersionStage"},
       {"request", {{"SecretId", "s"}, {"VersionStage", "AWSCURRENT"}, {"MoveToVersionId", kV2}, {"RemoveFromVersionId", kV1}}}},
  }));
  CHECK_FALSE(run(scenario).failure);
  scenario.setup.test_plant_bug = true;
  const auto report = run(scenario);
  REQUIRE(report.failure);
  CHECK(report.failure->step == 2);
  CHECK(report.failure->message.starts_with("invariant 4 violated on arn:aws:secretsmanager:us-east-1:"));
  RunOptions unchecked;
  unchecked.check_invariants = false;
  CHECK_FALSE(run_scenario(scenario, unchecked).failure);
}

TEST_CASE("scenarios/runner: a setup that cannot be built is a failure of step 0") {
  auto scenario = scenario_with(json::array());
  scenario.setup.functions[0].spec = "builtin:nope";
  auto report = run(scenario);
  REQUIRE(report.failure);
  CHECK(report.failure->step == 0);
  CHECK(report.failure->message.starts_with("setup.functions[0]: "));

  scenario = scenario_with(json::array());
  scenario.setup.secrets.push_back(json{{"Name", "s"}, {"SecretString", "one"}});
  report = run(scenario);
  REQUIRE(report.failure);
  CHECK(report.failure->message.starts_with("setup.secrets[1]: CreateSecret failed: ResourceExistsException"));
}

TEST_CASE("scenarios/runner: the steps print the label tables of the secrets they touched") {
  const auto scenario = scenario_with(json::array({
      {{"note", "a custom label"},
       {"call", "PutSecretValue"},
       {"request", {{"SecretId", "s"}, {"SecretString", "two"}, {"ClientRequestToken", kV2}, {"VersionStages", {"zeta", "alpha"}}}}},
  }));
  std::ostringstream out;
  RunOptions options;
  options.out = &out;
  REQUIRE_FALSE(run_scenario(scenario, options).failure);
  const std::string text = out.str();
  CHECK(text.find("step 1: PutSecretValue SecretId=s\n  # a custom label\n  s\n") == 0);
  CHECK(text.find("VersionId                             AWSCURRENT  alpha  zeta  Created               Value") !=
        std::string::npos);
  CHECK(text.find("****") != std::string::npos);
  CHECK(text.find("two") == std::string::npos);
  CHECK(text.find("-> ok, VersionId " + std::string(kV2)) != std::string::npos);

  std::ostringstream shown;
  options.out = &shown;
  options.show_values = true;
  REQUIRE_FALSE(run_scenario(scenario, options).failure);
  CHECK(shown.str().find("\"two\"") != std::string::npos);
}

TEST_CASE("scenarios/runner: label_table lists every version in creation order") {
  Runner runner(scenario_with(json::array()).setup);
  const auto scenario = scenario_with(json::array({
      {{"call", "PutSecretValue"}, {"request", {{"SecretId", "s"}, {"SecretString", "two"}, {"ClientRequestToken", kV2}}}},
      {{"call", "PutSecretValue"}, {"request", {{"SecretId", "s"}, {"SecretString", "three"},
                                                {"ClientRequestToken", "33333333-3333-4333-8333-333333333333"}}}},
  }));
  for (std::size_t i = 0; i < scenario.steps.size(); ++i) REQUIRE_FALSE(runner.run(scenario.steps[i], i + 1).failure);
  std::string table;
  runner.service().inspect("us-east-1", "s", [&](const smemu::model::Secret* secret) { table = label_table(*secret); });
  CHECK(table ==
        "s\n"
        "  VersionId                             AWSCURRENT  AWSPREVIOUS  Created               Value\n"
        "  11111111-1111-4111-8111-111111111111                           2026-01-01T00:00:00Z  ****\n"
        "  22222222-2222-4222-8222-222222222222              X            2026-01-01T00:00:00Z  ****\n"
        "  33333333-3333-4333-8333-333333333333  X                        2026-01-01T00:00:00Z  ****\n");
}

TEST_CASE("scenarios/runner: every example scenario passes") {
  std::size_t examples = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SMEMU_SOURCE_ROOT "/scenarios/examples")) {
    if (entry.path().extension() != ".json") continue;
    CAPTURE(entry.path().string());
    auto scenario = load_scenario(entry.path().string());
    REQUIRE(scenario.ok());
    const auto report = run_scenario(*scenario);
    CHECK_MESSAGE(!report.failure, failure_of(report));
    ++examples;
  }
  CHECK(examples >= 6);
}
