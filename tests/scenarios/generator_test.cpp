// The random scenario generator and shrinking (scenarios/generator.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <variant>

#include "smemu/scenarios/generator.h"

namespace smemu::scenarios {
namespace {

constexpr std::string_view kSites[] = {"function.fail",     "function.timeout", "function.crash",
                                       "function.duplicate", "function.reinvoke", "manual.write",
                                       "manual.label_move", "manual.cancel",    "manual.delete",
                                       "manual.restore",    "clock.jump"};

// The fault site an armed fault or a deferred call of a generated scenario comes from.
std::string site_of(const Step& step) {
  if (const auto* armed = std::get_if<ArmFault>(&step.action)) {
    switch (armed->fault.kind) {
      case FaultKind::kFail: return "function.fail";
      case FaultKind::kTimeout: return "function.timeout";
      case FaultKind::kCrash: return "function.crash";
      case FaultKind::kDuplicate: return "function.duplicate";
      case FaultKind::kReinvoke: return "function.reinvoke";
    }
  }
  const auto* call = std::get_if<Call>(&step.action);
  if (!call || !call->during) return "";
  if (call->operation == "PutSecretValue") return "manual.write";
  if (call->operation == "UpdateSecretVersionStage") return "manual.label_move";
  if (call->operation == "CancelRotateSecret") return "manual.cancel";
  if (call->operation == "DeleteSecret") return "manual.delete";
  return "manual.restore";
}

GeneratorOptions with_steps(std::size_t steps) {
  GeneratorOptions options;
  options.steps = steps;
  return options;
}

Step advance_minutes(int minutes) {
  Step step;
  step.action = Advance{std::chrono::minutes(minutes)};
  return step;
}

bool has_advance(const Scenario& scenario, int minutes) {
  return std::any_of(scenario.steps.begin(), scenario.steps.end(), [&](const Step& step) {
    const auto* advance = std::get_if<Advance>(&step.action);
    return advance && advance->by == std::chrono::minutes(minutes);
  });
}

TEST_CASE("scenarios/generator: the same seed gives the same scenario and the same JSON") {
  for (const std::uint64_t seed : {0ULL, 42ULL, 20260101ULL}) {
    const auto first = random_scenario(seed);
    const auto second = random_scenario(seed);
    CHECK(first == second);
    CHECK(to_json(first).dump() == to_json(second).dump());
    CHECK(first.setup.seed == seed);
  }
}

TEST_CASE("scenarios/generator: different seeds give different scenarios") {
  std::set<std::string> files;
  for (std::uint64_t seed = 0; seed < 20; ++seed) files.insert(to_json(random_scenario(seed)).dump());
  CHECK(files.size() == 20);
}

TEST_CASE("scenarios/generator: a scenario has the steps and secrets asked for, with tokens of 32 to 64 characters") {
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    GeneratorOptions options;
    options.steps = 30 + seed;
    options.secrets = 1 + seed % 4;
    const auto scenario = random_scenario(seed, options);
    CHECK(scenario.steps.size() == options.steps);
    CHECK(!scenario.setup.secrets.empty());
    CHECK(scenario.setup.secrets.size() <= options.secrets);
    for (const auto& secret : scenario.setup.secrets) {
      REQUIRE(secret.contains("ClientRequestToken"));
      const auto token = secret["ClientRequestToken"].get<std::string>();
      CHECK(token.size() >= 32);
      CHECK(token.size() <= 64);
    }
    for (const auto& step : scenario.steps) {
      const auto* call = std::get_if<Call>(&step.action);
      if (!call || (call->operation != "PutSecretValue" && call->operation != "RotateSecret")) continue;
      REQUIRE(call->request.contains("ClientRequestToken"));
      const auto token = call->request["ClientRequestToken"].get<std::string>();
      CHECK(token.size() >= 32);
      CHECK(token.size() <= 64);
    }
  }
}

TEST_CASE("scenarios/generator: the fault plan is drawn per seed, and a scenario uses only its plan's sites") {
  std::map<std::string, int> on;
  std::set<std::map<std::string, double>> plans;
  constexpr int kSeeds = 400;
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    const auto plan = draw_fault_plan(seed);
    CHECK(plan.rates == draw_fault_plan(seed).rates);
    plans.insert(plan.rates);
    for (const auto& [site, rate] : plan.rates) {
      CHECK(std::find(std::begin(kSites), std::end(kSites), site) != std::end(kSites));
      CHECK(rate > 0);
      CHECK(rate < 1);
      ++on[site];
    }
  }
  CHECK(plans.size() > 100);
  for (const auto site : kSites) {
    INFO("site " << site);
    // Each site is on with probability 1/4 (BUGGIFY).
    CHECK(on[std::string(site)] > kSeeds / 8);
    CHECK(on[std::string(site)] < kSeeds * 3 / 8);
  }

  std::set<std::string> seen;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    const auto plan = draw_fault_plan(seed);
    for (const auto& step : random_scenario(seed).steps) {
      const auto site = site_of(step);
      if (site.empty()) continue;
      INFO("seed " << seed << ": " << describe(step));
      CHECK(plan.rates.contains(site));
      seen.insert(site);
    }
  }
  CHECK(seen.size() >= 8);
}

TEST_CASE("scenarios/generator: without faults a scenario arms none and defers no call") {
  GeneratorOptions options;
  options.faults = false;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    for (const auto& step : random_scenario(seed, options).steps) {
      INFO("seed " << seed << ": " << describe(step));
      CHECK(site_of(step).empty());
    }
  }
}

TEST_CASE("scenarios/generator: a generated scenario parses back from its JSON") {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto scenario = random_scenario(seed, with_steps(seed % 5 == 0 ? 200 : 50));
    const auto parsed = parse_scenario(to_json(scenario));
    REQUIRE_MESSAGE(parsed.ok(), parsed.error().message);
    CHECK(*parsed == scenario);
  }
}

// The generator's part of the bargain: with the invariants off, nothing it wrote is unmet — no
// rotation step with nothing due, no deferred call whose point never came, no wrong expectation.
TEST_CASE("scenarios/generator: generated scenarios meet their own steps and expectations") {
  RunOptions options;
  options.check_invariants = false;
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    const auto scenario = random_scenario(seed, with_steps(seed % 10 == 0 ? 200 : 50));
    const auto run = run_scenario(scenario, options);
    INFO("seed " << seed);
    CHECK_MESSAGE(!run.failure, (run.failure ? "step " + std::to_string(run.failure->step) + " (" +
                                                   run.failure->step_description + "): " + run.failure->message
                                             : std::string()));
    CHECK(run.steps_run == scenario.steps.size());
  }
}

TEST_CASE("scenarios/generator: shrink finds the minimal failing subset of steps") {
  Scenario scenario;
  scenario.setup.seed = 7;
  for (int i = 1; i <= 23; ++i) scenario.steps.push_back(advance_minutes(i));
  int calls = 0;
  const auto fails = [&](const Scenario& candidate) {
    ++calls;
    return has_advance(candidate, 3) && has_advance(candidate, 17);
  };
  const auto shrunk = shrink(scenario, fails);
  REQUIRE(shrunk.steps.size() == 2);
  CHECK(std::get<Advance>(shrunk.steps[0].action).by == std::chrono::minutes(3));
  CHECK(std::get<Advance>(shrunk.steps[1].action).by == std::chrono::minutes(17));
  CHECK(calls < 200);
  // Deterministic: the same input gives the same output.
  CHECK(shrink(scenario, fails) == shrunk);
}

TEST_CASE("scenarios/generator: shrink keeps a scenario where every step is needed") {
  Scenario scenario;
  for (int i = 1; i <= 5; ++i) scenario.steps.push_back(advance_minutes(i));
  const auto shrunk = shrink(scenario, [](const Scenario& candidate) { return candidate.steps.size() == 5; });
  CHECK(shrunk == scenario);
}

TEST_CASE("scenarios/generator: shrink simplifies requests, deferred calls, faults and the setup") {
  Scenario scenario;
  scenario.setup.secrets = {{{"Name", "a"}, {"SecretString", "x"}}, {{"Name", "b"}, {"SecretString", "y"}}};
  scenario.setup.functions = {{"arn:aws:lambda:us-east-1:123456789012:function:f", "builtin:template"}};
  Call put;
  put.operation = "PutSecretValue";
  put.request = {{"SecretId", "a"}, {"SecretString", "z"}, {"VersionStages", {"custom"}}};
  put.during = Point{"a", model::Step::kSetSecret, std::nullopt, 1};
  Step deferred;
  deferred.action = put;
  deferred.expect.ok = true;
  Step crash;
  crash.action = ArmFault{Fault{FaultKind::kCrash, Point{"a", model::Step::kCreateSecret, "PutSecretValue", 1}}};
  scenario.steps = {deferred, crash, advance_minutes(5)};

  // Fails while a PutSecretValue on "a" and a crash fault remain, and secret "a" is set up.
  const auto fails = [](const Scenario& candidate) {
    const bool has_a = std::any_of(candidate.setup.secrets.begin(), candidate.setup.secrets.end(),
                                   [](const nlohmann::json& secret) { return secret["Name"] == "a"; });
    bool has_put = false;
    bool has_crash = false;
    for (const auto& step : candidate.steps) {
      if (const auto* call = std::get_if<Call>(&step.action)) has_put |= call->operation == "PutSecretValue";
      if (const auto* armed = std::get_if<ArmFault>(&step.action)) has_crash |= armed->fault.kind == FaultKind::kCrash;
    }
    return has_a && has_put && has_crash;
  };
  const auto shrunk = shrink(scenario, fails);
  REQUIRE(shrunk.steps.size() == 2);
  const auto& call = std::get<Call>(shrunk.steps[0].action);
  CHECK(call.request == nlohmann::json{{"SecretId", "a"}});
  CHECK(!call.during);
  CHECK(shrunk.steps[0].expect == Expectation{});
  const auto& fault = std::get<ArmFault>(shrunk.steps[1].action).fault;
  CHECK(fault.kind == FaultKind::kCrash);
  CHECK(!fault.at.after_call);
  REQUIRE(shrunk.setup.secrets.size() == 1);
  CHECK(shrunk.setup.secrets[0]["Name"] == "a");
  CHECK(shrunk.setup.functions.empty());
}

}  // namespace
}  // namespace smemu::scenarios
