// The rotation engine: spec section 5 and D1, D2, D5, D11, D12, D13, D15, D16, D17, driven
// through the public API with a template-style C++ rotation function written here.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "smemu/emulator/builtin_functions.h"
#include "smemu/emulator/service.h"

namespace {

using Stages = std::map<std::string, std::vector<std::string>>;
using namespace std::chrono_literals;

constexpr const char* kLambda = "arn:aws:lambda:us-east-1:123456789012:function:rotator";

std::string token(int n) { return "rotation-token-" + std::string(20, '0') + std::to_string(100 + n); }

// A function shaped like AWS's rotation template, with knobs for the faults under test.
struct TemplateFunction {
  bool remove_pending = false;
  std::optional<std::string> fail_at{};      // step name
  std::optional<std::string> skip_put_at{};  // createSecret reports ok without writing (D15)
  bool skip_finish_move = false;            // finishSecret reports ok without moving (D15)
  smemu::Duration used_per_step{};
  std::vector<std::string>* calls = nullptr;  // steps seen, in order
  std::string pending_value_seen{};           // value at AWSPENDING during testSecret (D2)

  smemu::StepResult operator()(const smemu::RotationEvent& event, smemu::Client& client) {
    if (calls) calls->push_back(event.step);
    if (fail_at == event.step) return smemu::StepResult::error("Injected failure at " + event.step, used_per_step);
    const auto& token = event.client_request_token;
    if (event.step == "createSecret") {
      if (skip_put_at == event.step) return smemu::StepResult::ok(used_per_step);
      auto pending = client.get_secret_value({.secret_id = event.secret_id, .version_id = token,
                                              .version_stage = "AWSPENDING"});
      if (pending.ok()) return smemu::StepResult::ok(used_per_step);
      auto password = client.get_random_password({.password_length = 16});
      if (!password) return smemu::StepResult::error(password.error().message);
      auto put = client.put_secret_value({.secret_id = event.secret_id, .client_request_token = token,
                                          .secret_string = *password->random_password,
                                          .version_stages = std::vector<std::string>{"AWSPENDING"}});
      if (!put) return smemu::StepResult::error(std::string(put.error().name()) + ": " + put.error().message);
    } else if (event.step == "testSecret") {
      auto pending = client.get_secret_value({.secret_id = event.secret_id, .version_stage = "AWSPENDING"});
      if (!pending) return smemu::StepResult::error(pending.error().message);
      pending_value_seen = *pending->secret_string;
    } else if (event.step == "finishSecret" && !skip_finish_move) {
      auto described = client.describe_secret({.secret_id = event.secret_id});
      if (!described) return smemu::StepResult::error(described.error().message);
      std::optional<std::string> current;
      for (const auto& [id, labels] : described->version_ids_to_stages.value_or(Stages{})) {
        if (std::find(labels.begin(), labels.end(), "AWSCURRENT") != labels.end()) current = id;
      }
      if (current != token) {
        auto moved = client.update_secret_version_stage({.secret_id = event.secret_id, .version_stage = "AWSCURRENT",
                                                         .remove_from_version_id = current, .move_to_version_id = token});
        if (!moved) return smemu::StepResult::error(moved.error().message);
      }
      if (remove_pending) {
        auto removed = client.update_secret_version_stage(
            {.secret_id = event.secret_id, .version_stage = "AWSPENDING", .remove_from_version_id = token});
        if (!removed) return smemu::StepResult::error(removed.error().message);
      }
    }
    return smemu::StepResult::ok(used_per_step);
  }
};

struct Fixture {
  smemu::Service service;
  smemu::Client client = service.client("us-east-1");
  std::vector<std::string> calls;
  TemplateFunction function{.calls = &calls};

  explicit Fixture(smemu::ServiceOptions options = {}) : service(std::move(options)) {}

  void install() {
    service.register_function(kLambda, [this](const smemu::RotationEvent& e, smemu::Client& c) { return function(e, c); });
  }
  void create(const std::string& name = "s", std::optional<std::string> value = "initial") {
    auto r = client.create_secret({.name = name, .client_request_token = token(0), .secret_string = value});
    REQUIRE(r.ok());
  }
  smemu::Result<smemu::api::RotateSecretResponse> rotate(int n, std::optional<smemu::api::RotationRules> rules = {},
                                                         std::optional<bool> immediately = {},
                                                         const std::string& name = "s") {
    return client.rotate_secret({.secret_id = name, .client_request_token = token(n), .rotation_lambda_arn = kLambda,
                                 .rotation_rules = rules, .rotate_immediately = immediately});
  }
  Stages stages(const std::string& name = "s") {
    return client.describe_secret({.secret_id = name})->version_ids_to_stages.value_or(Stages{});
  }
  std::vector<std::string> service_events() {
    std::vector<std::string> out;
    for (const auto& e : service.events().read(0)) {
      if (e.kind == smemu::EventKind::kServiceEvent) out.push_back(std::string(e.name));
    }
    return out;
  }
};

}  // namespace

TEST_CASE("emulator/rotation: RotateSecret queues and returns; the placeholder exists before createSecret (5.3)") {
  Fixture f;
  f.install();
  f.create();
  auto r = f.rotate(1);
  REQUIRE(r.ok());
  CHECK(r->version_id == token(1));
  CHECK(f.calls.empty());
  CHECK(f.stages() == Stages{{token(0), {"AWSCURRENT"}}, {token(1), {"AWSPENDING"}}});
  auto pending = f.client.get_secret_value({.secret_id = "s", .version_stage = "AWSPENDING"});
  REQUIRE_FALSE(pending.ok());
  CHECK(pending.error().message == "Secrets Manager can't find the specified secret value for staging label: AWSPENDING");
  auto described = f.client.describe_secret({.secret_id = "s"});
  CHECK(described->rotation_enabled == true);
  CHECK(described->rotation_lambda_arn == kLambda);
}

TEST_CASE("emulator/rotation: step() runs one function step at a time, in order") {
  Fixture f;
  f.install();
  f.create();
  REQUIRE(f.rotate(1).ok());
  std::vector<smemu::model::Step> steps;
  while (auto report = f.service.step()) {
    CHECK(report->outcome == smemu::model::Outcome::kOk);
    CHECK(report->token == token(1));
    steps.push_back(report->step);
  }
  using S = smemu::model::Step;
  CHECK(steps == std::vector<S>{S::kCreateSecret, S::kSetSecret, S::kTestSecret, S::kFinishSecret});
  CHECK(f.calls == std::vector<std::string>{"createSecret", "setSecret", "testSecret", "finishSecret"});
}

TEST_CASE("emulator/rotation: a full rotation; AWSPENDING left on the new current version (5.3.5, AWS-recorded)") {
  Fixture f;
  f.install();
  f.create();
  REQUIRE(f.rotate(1).ok());
  CHECK(f.service.run_until_idle() == 4);
  CHECK(f.stages() == Stages{{token(0), {"AWSPREVIOUS"}}, {token(1), {"AWSCURRENT", "AWSPENDING"}}});
  auto described = f.client.describe_secret({.secret_id = "s"});
  CHECK(described->last_rotated_date == f.service.clock().now());
  CHECK(f.service_events() == std::vector<std::string>{"RotationStarted", "RotationSucceeded"});
  SUBCASE("and a second rotation with a new token succeeds too (pending on current is a finished rotation)") {
    REQUIRE(f.rotate(2).ok());
    f.service.run_until_idle();
    CHECK(f.stages() == Stages{{token(1), {"AWSPREVIOUS"}}, {token(2), {"AWSCURRENT", "AWSPENDING"}}});
  }
}

TEST_CASE("emulator/rotation: the other end state: AWSPENDING on no version (remove_pending), twice in a row") {
  Fixture f;
  f.function.remove_pending = true;
  f.install();
  f.create();
  for (int n = 1; n <= 2; ++n) {
    REQUIRE(f.rotate(n).ok());
    f.service.run_until_idle();
  }
  CHECK(f.stages() == Stages{{token(1), {"AWSPREVIOUS"}}, {token(2), {"AWSCURRENT"}}});
  CHECK(f.service_events() ==
        std::vector<std::string>{"RotationStarted", "RotationSucceeded", "RotationStarted", "RotationSucceeded"});
}

TEST_CASE("emulator/rotation: inline rotation runs inside RotateSecret (D16)") {
  smemu::ServiceOptions options;
  options.inline_rotation = true;
  Fixture f(options);
  f.install();
  f.create();
  REQUIRE(f.rotate(1).ok());
  CHECK(f.calls.size() == 4);
  CHECK(f.stages()[token(1)] == std::vector<std::string>{"AWSCURRENT", "AWSPENDING"});
}

TEST_CASE("emulator/rotation: rotations of different secrets are in flight together, interleaved by step()") {
  Fixture f;
  f.install();
  f.create("a");
  f.create("b");
  REQUIRE(f.rotate(1, {}, {}, "a").ok());
  REQUIRE(f.rotate(2, {}, {}, "b").ok());
  std::vector<std::string> order;
  while (auto report = f.service.step()) order.push_back(report->token.substr(report->token.size() - 1));
  // Both were due at once; ties run in the order queued, so the two rotations alternate.
  CHECK(order == std::vector<std::string>{"1", "2", "1", "2", "1", "2", "1", "2"});
  CHECK(f.stages("a")[token(1)] == std::vector<std::string>{"AWSCURRENT", "AWSPENDING"});
  CHECK(f.stages("b")[token(2)] == std::vector<std::string>{"AWSCURRENT", "AWSPENDING"});
}

TEST_CASE("emulator/rotation: a failed attempt leaves AWSCURRENT alone and is re-attempted at +1 h and +2 h (D1)") {
  Fixture f;
  f.function.fail_at = "setSecret";
  f.install();
  f.create();
  const auto start = f.service.clock().now();
  REQUIRE(f.rotate(1).ok());
  f.service.run_until_idle();
  // createSecret's write stands; AWSCURRENT never moved.
  CHECK(f.stages() == Stages{{token(0), {"AWSCURRENT"}}, {token(1), {"AWSPENDING"}}});
  CHECK(f.service.next_due() == start + 1h);
  f.service.advance(1h);
  CHECK(f.service.next_due() == start + 3h);
  f.service.advance(2h);
  CHECK_FALSE(f.service.next_due().has_value());  // stuck after the third attempt
  std::vector<std::pair<std::string, std::uint32_t>> attempts;
  std::vector<smemu::Timestamp> times;
  for (const auto& e : f.service.events().read(0)) {
    if (e.kind != smemu::EventKind::kServiceEvent) continue;
    attempts.emplace_back(std::string(e.name), e.attempt);
    times.push_back(e.time);
    if (e.name == "RotationFailed") {
      CHECK(e.message == "Injected failure at setSecret");
      CHECK(e.step == "setSecret");
    }
  }
  CHECK(attempts == std::vector<std::pair<std::string, std::uint32_t>>{{"RotationStarted", 1}, {"RotationFailed", 1},
                                                                       {"RotationStarted", 2}, {"RotationFailed", 2},
                                                                       {"RotationStarted", 3}, {"RotationFailed", 3}});
  CHECK(times == std::vector<smemu::Timestamp>{start, start, start + 1h, start + 1h, start + 3h, start + 3h});
  CHECK(f.stages() == Stages{{token(0), {"AWSCURRENT"}}, {token(1), {"AWSPENDING"}}});

  SUBCASE("a new token is refused while the rotation is stuck (5.2 check 7)") {
    auto r = f.rotate(2);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().name() == "InvalidRequestException");
    CHECK(r.error().message == "A previous rotation isn't complete. That rotation will be reattempted.");
  }
  SUBCASE("the same token re-attempts it (D12), and once fixed it succeeds") {
    f.function.fail_at.reset();
    auto r = f.rotate(1);
    REQUIRE(r.ok());
    f.service.run_until_idle();
    CHECK(f.stages() == Stages{{token(0), {"AWSPREVIOUS"}}, {token(1), {"AWSCURRENT", "AWSPENDING"}}});
  }
  SUBCASE("removing AWSPENDING by hand clears it; then a new rotation may start") {
    REQUIRE(f.client.update_secret_version_stage({.secret_id = "s", .version_stage = "AWSPENDING",
                                                  .remove_from_version_id = token(1)})
                .ok());
    f.function.fail_at.reset();
    REQUIRE(f.rotate(2).ok());
    f.service.run_until_idle();
    CHECK(f.stages()[token(2)] == std::vector<std::string>{"AWSCURRENT", "AWSPENDING"});
  }
}

TEST_CASE("emulator/rotation: an exception escaping a function fails its step, and the rotation is re-attempted (D1)") {
  Fixture f;
  f.install();
  f.create();
  bool throws = true;
  f.service.register_function(kLambda, [&](const smemu::RotationEvent& e, smemu::Client& c) {
    if (throws && e.step == "setSecret") throw std::runtime_error("database driver crashed");
    return f.function(e, c);
  });
  REQUIRE(f.rotate(1).ok());
  f.service.run_until_idle();
  CHECK(f.stages() == Stages{{token(0), {"AWSCURRENT"}}, {token(1), {"AWSPENDING"}}});
  const auto failed = f.service.events().read(0).back();
  CHECK(failed.name == "RotationFailed");
  CHECK(failed.message == "Unhandled exception: database driver crashed");
  throws = false;
  f.service.advance(std::chrono::hours(1));  // the D1 re-attempt
  CHECK(f.stages() == Stages{{token(0), {"AWSPREVIOUS"}}, {token(1), {"AWSCURRENT", "AWSPENDING"}}});
}

TEST_CASE("emulator/rotation: the retry policy is configurable, 0 re-attempts allowed (D1)") {
  smemu::ServiceOptions options;
  options.retry.delays = {};
  Fixture f(options);
  f.function.fail_at = "createSecret";
  f.install();
  f.create();
  REQUIRE(f.rotate(1).ok());
  f.service.run_until_idle();
  CHECK_FALSE(f.service.next_due().has_value());
  CHECK(f.service_events() == std::vector<std::string>{"RotationStarted", "RotationFailed"});
}

TEST_CASE("emulator/rotation: a step past its timeout times out (D16: virtual time for in-process functions)") {
  Fixture f;
  f.install();
  f.create();
  f.service.register_function(kLambda, [](const smemu::RotationEvent&, smemu::Client&) {
    return smemu::StepResult::ok(31s);
  });
  REQUIRE(f.rotate(1).ok());
  auto report = f.service.step();
  REQUIRE(report);
  CHECK(report->outcome == smemu::model::Outcome::kTimeout);
  CHECK(report->finished - report->started == 30s);
  auto failed = f.service.events().read(0).back();
  CHECK(failed.name == "RotationFailed");
  CHECK(failed.message == "Task timed out after 30.00 seconds");
}

TEST_CASE("emulator/rotation: the time a step reports delays the next step on the virtual clock") {
  Fixture f;
  f.function.used_per_step = 30s;
  f.install();
  f.create();
  const auto start = f.service.clock().now();
  REQUIRE(f.rotate(1).ok());
  CHECK(f.service.run_until_idle() == 1);
  CHECK(f.service.next_due() == start + 30s);
  f.service.advance(90s);
  CHECK(f.calls.size() == 4);
  CHECK(f.client.describe_secret({.secret_id = "s"})->last_rotated_date == start + 120s);
}

TEST_CASE("emulator/rotation: the checks between steps (D15)") {
  SUBCASE("createSecret that wrote nothing fails the attempt") {
    Fixture f;
    f.function.skip_put_at = "createSecret";
    f.install();
    f.create();
    REQUIRE(f.rotate(1).ok());
    auto report = f.service.step();
    CHECK(report->outcome == smemu::model::Outcome::kOk);
    CHECK(report->then == smemu::model::Then::kAttemptFailed);
    CHECK(report->message.find("must hold a secret value and the staging label AWSPENDING") != std::string::npos);
  }
  SUBCASE("finishSecret that did not move AWSCURRENT fails the attempt") {
    Fixture f;
    f.function.skip_finish_move = true;
    f.install();
    f.create();
    REQUIRE(f.rotate(1).ok());
    f.service.run_until_idle();
    auto failed = f.service.events().read(0).back();
    CHECK(failed.name == "RotationFailed");
    CHECK(failed.step == "finishSecret");
    CHECK(failed.message.find("must hold the staging label AWSCURRENT") != std::string::npos);
    CHECK(f.stages()[token(0)] == std::vector<std::string>{"AWSCURRENT"});
  }
}

TEST_CASE("emulator/rotation: RotateImmediately=false tests only, against a copy of the current value (D2)") {
  Fixture f;
  f.install();
  f.create();
  auto r = f.rotate(1, smemu::api::RotationRules{.automatically_after_days = 30}, false);
  REQUIRE(r.ok());
  CHECK(r->version_id == token(1));
  f.service.run_until_idle();
  CHECK(f.calls == std::vector<std::string>{"testSecret"});
  CHECK(f.function.pending_value_seen == "initial");
  CHECK(f.stages() == Stages{{token(0), {"AWSCURRENT"}}});
  CHECK_FALSE(f.client.get_secret_value({.secret_id = "s", .version_id = token(1)}).ok());
  CHECK(f.service_events() == std::vector<std::string>{"TestRotationStarted", "TestRotationSucceeded"});
  // The first real rotation is at the next window: the day 30 days on.
  auto next = f.client.describe_secret({.secret_id = "s"})->next_rotation_date;
  REQUIRE(next.has_value());
  CHECK(smemu::day_floor(*next) == smemu::kVirtualEpoch + smemu::days(30));
  f.service.advance(smemu::days(31));
  CHECK(f.calls.size() == 5);
  CHECK(f.service_events().back() == "RotationSucceeded");
}

TEST_CASE("emulator/rotation: a D2 test version that AWSCURRENT was moved onto is kept, not dropped") {
  // Found by the scenario invariants (issue 4): dropping it took AWSCURRENT away with it.
  Fixture f;
  f.install();
  f.create();
  REQUIRE(f.rotate(1, smemu::api::RotationRules{.automatically_after_days = 30}, false).ok());
  REQUIRE(f.client
              .update_secret_version_stage({.secret_id = "s", .version_stage = "AWSCURRENT",
                                            .remove_from_version_id = token(0), .move_to_version_id = token(1)})
              .ok());
  f.service.run_until_idle();
  CHECK(f.stages() == Stages{{token(0), {"AWSPREVIOUS"}}, {token(1), {"AWSCURRENT"}}});
  auto current = f.client.get_secret_value({.secret_id = "s"});
  REQUIRE(current.ok());
  CHECK(current->version_id == token(1));
  CHECK(current->secret_string == "initial");
}

TEST_CASE("emulator/rotation: finishSecret failing after its label moves ends the rotation, its moves standing") {
  // Found by smemu explore (issue 4): the run stayed on a version without AWSPENDING and every
  // re-attempt failed D15's check after createSecret, so the secret never rotated again.
  Fixture f;
  auto made = smemu::make_builtin_function("builtin:template?remove_pending=true", f.service.database());
  REQUIRE(made.ok());
  f.service.register_function(kLambda, [inner = made->function](const smemu::RotationEvent& e, smemu::Client& c) {
    auto result = inner(e, c);
    if (e.step == "finishSecret") return smemu::StepResult::error("crashed after its label moves");
    return result;
  });
  f.create();
  REQUIRE(f.rotate(1).ok());
  f.service.run_until_idle();
  CHECK(f.stages() == Stages{{token(0), {"AWSPREVIOUS"}}, {token(1), {"AWSCURRENT"}}});
  CHECK(f.service_events().back() == "RotationFailed");
  CHECK_FALSE(f.service.next_due().has_value());  // no re-attempt is queued
  // Nothing is left in flight: a rotation with a new token starts.
  CHECK(f.rotate(2).ok());
}

TEST_CASE("emulator/rotation: a new token replaces a failed run whose version holds AWSCURRENT (5.2 check 7)") {
  // Found by the property tests (issue 4): finishSecret moved AWSCURRENT, left AWSPENDING with it
  // and failed; the run waited for its D1 retry and a new token was refused, though AWSPENDING
  // sat on AWSCURRENT's version.
  Fixture f;
  auto made = smemu::make_builtin_function("builtin:template", f.service.database());
  REQUIRE(made.ok());
  bool crash_in_finish = true;
  f.service.register_function(kLambda, [&, inner = made->function](const smemu::RotationEvent& e, smemu::Client& c) {
    auto result = inner(e, c);
    if (e.step == "finishSecret" && crash_in_finish) return smemu::StepResult::error("crashed after its label moves");
    return result;
  });
  f.create();
  REQUIRE(f.rotate(1).ok());
  f.service.run_until_idle();
  CHECK(f.stages() == Stages{{token(0), {"AWSPREVIOUS"}}, {token(1), {"AWSCURRENT", "AWSPENDING"}}});
  REQUIRE(f.service.next_due().has_value());  // the D1 re-attempt of token 1

  crash_in_finish = false;
  REQUIRE(f.rotate(2).ok());
  CHECK(f.stages() == Stages{{token(0), {"AWSPREVIOUS"}}, {token(1), {"AWSCURRENT"}}, {token(2), {"AWSPENDING"}}});
  f.service.advance(std::chrono::hours(4));  // past token 1's retry time: nothing of it runs
  CHECK(f.stages() == Stages{{token(1), {"AWSPREVIOUS"}}, {token(2), {"AWSCURRENT", "AWSPENDING"}}});
  const auto events = f.service_events();
  CHECK(std::count(events.begin(), events.end(), "RotationStarted") == 2);
  CHECK(events.back() == "RotationSucceeded");
}

TEST_CASE("emulator/rotation: CancelRotateSecret stops a rotation in progress and leaves AWSPENDING (5.7)") {
  Fixture f;
  f.install();
  f.create();
  REQUIRE(f.rotate(1).ok());
  REQUIRE(f.service.step());  // createSecret
  auto cancelled = f.client.cancel_rotate_secret({.secret_id = "s"});
  REQUIRE(cancelled.ok());
  CHECK(cancelled->version_id == token(1));
  CHECK_FALSE(f.service.step().has_value());
  CHECK(f.calls == std::vector<std::string>{"createSecret"});
  auto described = f.client.describe_secret({.secret_id = "s"});
  CHECK(described->rotation_enabled == false);
  CHECK(described->rotation_lambda_arn == kLambda);
  CHECK_FALSE(described->next_rotation_date.has_value());
  CHECK(f.stages() == Stages{{token(0), {"AWSCURRENT"}}, {token(1), {"AWSPENDING"}}});
  // Until AWSPENDING is cleaned up, rotating again is refused.
  CHECK(f.rotate(2).error().message == "A previous rotation isn't complete. That rotation will be reattempted.");
}

TEST_CASE("emulator/rotation: a step that ends after its rotation was cancelled is discarded") {
  Fixture f;
  f.install();
  f.create();
  f.service.register_function(kLambda, [&](const smemu::RotationEvent& e, smemu::Client& c) {
    if (e.step == "setSecret") REQUIRE(c.cancel_rotate_secret({.secret_id = e.secret_id}).ok());
    return f.function(e, c);
  });
  REQUIRE(f.rotate(1).ok());
  f.service.step();
  auto report = f.service.step();
  REQUIRE(report);
  CHECK(report->discarded);
  CHECK_FALSE(f.service.step().has_value());
}

TEST_CASE("emulator/rotation: a manual write during a rotation abandons it (4.3 rule 2)") {
  Fixture f;
  f.install();
  f.create();
  REQUIRE(f.rotate(1).ok());
  f.service.step();  // createSecret wrote AWSPENDING's value
  REQUIRE(f.client.put_secret_value({.secret_id = "s", .client_request_token = token(5), .secret_string = "manual"}).ok());
  CHECK(f.stages() == Stages{{token(0), {"AWSPREVIOUS"}}, {token(5), {"AWSCURRENT"}}});
  CHECK_FALSE(f.service.step().has_value());
  CHECK(f.service_events() == std::vector<std::string>{"RotationStarted", "RotationAbandoned"});
  // Nothing is stuck: a new rotation may start.
  REQUIRE(f.rotate(2).ok());
  f.service.run_until_idle();
  CHECK(f.stages()[token(2)] == std::vector<std::string>{"AWSCURRENT", "AWSPENDING"});
}

TEST_CASE("emulator/rotation: an empty secret's first rotation writes the first value (D17)") {
  Fixture f;
  f.install();
  f.create("s", std::nullopt);
  REQUIRE(f.rotate(1).ok());
  CHECK(f.stages() == Stages{{token(1), {"AWSPENDING"}}});
  f.service.run_until_idle();
  CHECK(f.stages() == Stages{{token(1), {"AWSCURRENT", "AWSPENDING"}}});
  CHECK(f.client.get_secret_value({.secret_id = "s"}).ok());
}

TEST_CASE("emulator/rotation: a function calls back into the service while its step runs, without deadlock") {
  Fixture f;
  f.install();
  f.create();
  f.create("other");
  f.service.register_function(kLambda, [&](const smemu::RotationEvent& e, smemu::Client& c) {
    // Reads, writes and label moves on this and another secret, and a RotateSecret of another one:
    // each takes the service's lock, which must not be held across this call.
    CHECK(c.describe_secret({.secret_id = e.secret_id}).ok());
    CHECK(c.list_secrets({}).ok());
    CHECK(c.tag_resource({.secret_id = "other", .tags = std::vector<smemu::api::Tag>{{"step", e.step}}}).ok());
    CHECK_FALSE(f.service.next_due().has_value());  // this step left the queue; the next is queued after it
    return f.function(e, c);
  });
  REQUIRE(f.rotate(1).ok());
  CHECK(f.service.run_until_idle() == 4);
}

TEST_CASE("emulator/rotation: schedules run every rotation that came due, in order, once per window (5.8)") {
  Fixture f;
  f.function.remove_pending = true;
  f.install();
  f.create();
  REQUIRE(f.rotate(1, smemu::api::RotationRules{.schedule_expression = "rate(10 days)"}).ok());
  f.service.run_until_idle();
  auto next = f.client.describe_secret({.secret_id = "s"})->next_rotation_date;
  REQUIRE(next);
  CHECK(smemu::day_floor(*next) == smemu::kVirtualEpoch + smemu::days(10));
  f.calls.clear();
  f.service.advance(smemu::days(35));  // windows on days 10, 20, 30
  CHECK(f.calls.size() == 12);
  std::vector<smemu::Timestamp> rotated;
  for (const auto& e : f.service.events().read(0)) {
    if (e.name == "RotationSucceeded") rotated.push_back(smemu::day_floor(e.time));
  }
  CHECK(rotated == std::vector<smemu::Timestamp>{smemu::kVirtualEpoch, smemu::kVirtualEpoch + smemu::days(10),
                                                 smemu::kVirtualEpoch + smemu::days(20),
                                                 smemu::kVirtualEpoch + smemu::days(30)});
  CHECK(f.client.describe_secret({.secret_id = "s"})->last_rotated_date >= smemu::kVirtualEpoch + smemu::days(30));
}

TEST_CASE("emulator/rotation: scheduled rotations are skipped while the secret is marked for deletion (D11)") {
  Fixture f;
  f.install();
  f.create();
  REQUIRE(f.rotate(1, smemu::api::RotationRules{.automatically_after_days = 1}).ok());
  f.service.run_until_idle();
  REQUIRE(f.client.delete_secret({.secret_id = "s", .recovery_window_in_days = 7}).ok());
  f.calls.clear();
  f.service.advance(smemu::days(3));
  CHECK(f.calls.empty());
  REQUIRE(f.client.restore_secret({.secret_id = "s"}).ok());
  auto described = f.client.describe_secret({.secret_id = "s"});
  CHECK(described->rotation_enabled == true);  // the configuration survives restore
  f.service.advance(smemu::days(2));
  CHECK(f.calls.size() >= 4);
}

TEST_CASE("emulator/rotation: a manual write moves NextRotationDate for rate() schedules (D5)") {
  Fixture f;
  f.install();
  f.create();
  REQUIRE(f.rotate(1, smemu::api::RotationRules{.automatically_after_days = 10}).ok());
  f.service.run_until_idle();
  f.service.advance(smemu::days(4));
  REQUIRE(f.client.put_secret_value({.secret_id = "s", .client_request_token = token(7), .secret_string = "m"}).ok());
  auto described = f.client.describe_secret({.secret_id = "s"});
  CHECK(smemu::day_floor(*described->next_rotation_date) == smemu::kVirtualEpoch + smemu::days(14));
  CHECK(described->last_rotated_date == smemu::kVirtualEpoch);
  CHECK(described->last_changed_date == f.service.clock().now());
}

TEST_CASE("emulator/rotation: an unregistered function ARN is AccessDeniedException and nothing changes (10 #12)") {
  Fixture f;
  f.create();
  const auto before = f.client.call("DescribeSecret", {{"SecretId", "s"}}).value();
  auto r = f.rotate(1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().name() == "AccessDeniedException");
  CHECK(f.client.call("DescribeSecret", {{"SecretId", "s"}}).value() == before);
}

TEST_CASE("emulator/rotation: rules are validated before anything changes (5.2 check 4, 5.8)") {
  Fixture f;
  f.install();
  f.create();
  auto r = f.rotate(1, smemu::api::RotationRules{.schedule_expression = "cron(30 4 * * ? *)"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().name() == "InvalidParameterException");
  CHECK(r.error().message.find("minutes") != std::string::npos);
  CHECK_FALSE(f.client.describe_secret({.secret_id = "s"})->rotation_enabled.has_value());
}

TEST_CASE("emulator/events: write calls and failures are logged; reads only when a subscriber asks") {
  Fixture f;
  f.create();
  REQUIRE(f.client.get_secret_value({.secret_id = "s"}).ok());
  REQUIRE_FALSE(f.client.get_secret_value({.secret_id = "missing"}).ok());
  std::vector<std::string> names;
  for (const auto& e : f.service.events().read(0)) names.push_back(std::string(e.name));
  // What a call caused is logged as it happens, the call itself when it returns.
  CHECK(names == std::vector<std::string>{"Secret Label Updated", "CreateSecret", "GetSecretValue"});
  const auto events = f.service.events().read(0);
  CHECK(events.back().error == smemu::ErrorCode::ResourceNotFound);
  std::vector<std::string> seen;
  const auto id = f.service.events().subscribe([&](const smemu::Event& e) { seen.push_back(std::string(e.name)); }, true);
  REQUIRE(f.client.get_secret_value({.secret_id = "s"}).ok());
  f.service.events().unsubscribe(id);
  REQUIRE(f.client.get_secret_value({.secret_id = "s"}).ok());
  CHECK(seen == std::vector<std::string>{"GetSecretValue"});
}

TEST_CASE("emulator/events: CloudTrail-style JSON without secret values (D19)") {
  Fixture f;
  f.install();
  f.create();
  REQUIRE(f.client.put_secret_value({.secret_id = "s", .client_request_token = token(3), .secret_string = "hunter2",
                                     .version_stages = std::vector<std::string>{"CUSTOM"}})
              .ok());
  REQUIRE(f.rotate(1).ok());
  f.service.run_until_idle();
  bool saw_put = false;
  bool saw_label = false;
  for (const auto& e : f.service.events().read(0)) {
    const auto json = smemu::to_json(e);
    CHECK(json.dump().find("hunter2") == std::string::npos);
    CHECK(json.dump().find("initial") == std::string::npos);
    if (e.name == "PutSecretValue" && e.version_id == token(3)) {
      saw_put = true;
      CHECK(json["eventSource"] == "secretsmanager.amazonaws.com");
      CHECK(json["eventTime"] == "2026-01-01T00:00:00Z");
      CHECK(json["requestParameters"]["versionStages"] == nlohmann::json::array({"CUSTOM"}));
    }
    if (e.kind == smemu::EventKind::kLabelUpdated && e.labels == std::vector<std::string>{"CUSTOM"}) {
      saw_label = true;
      CHECK(json["detail-type"] == "Secret Label Updated");
      CHECK(json["detail"]["labelUpdated"] == "CUSTOM");
      CHECK(json["detail"]["versionId"] == token(3));
    }
    CHECK_FALSE((e.kind == smemu::EventKind::kLabelUpdated &&
                 (e.labels.front() == "AWSPENDING" || e.labels.front() == "AWSPREVIOUS")));
  }
  CHECK(saw_put);
  CHECK(saw_label);
}

TEST_CASE("emulator/events: the log is a bounded buffer and reads from a cursor") {
  smemu::EventLog log(3);
  for (int i = 0; i < 5; ++i) log.append(smemu::Event{.name = "X"});
  CHECK(log.size() == 3);
  CHECK(log.last_sequence() == 5);
  auto from_start = log.read(0);
  REQUIRE(from_start.size() == 3);
  CHECK(from_start.front().sequence == 3);
  CHECK(log.read(4).size() == 1);
  CHECK(log.read(5).empty());
}

TEST_CASE("emulator/events: every member reads back as appended, while old events' room is reused") {
  // The log packs events into chunks of bytes and drops a chunk once it holds only dropped
  // events: 20,000 events of up to ~3 KB through a log of 500 cross many chunks, and messages
  // bigger than a chunk get one of their own.
  // A log given the service's partition and account leaves their ARN prefix out of its records
  // and puts it back when read: every shape of secret_arn must still read back as it was.
  constexpr std::size_t kCapacity = 500;
  constexpr int kEvents = 20'000;
  std::unique_ptr<smemu::EventLog> made;
  SUBCASE("ARNs kept whole") { made = std::make_unique<smemu::EventLog>(kCapacity); }
  SUBCASE("the service's ARN prefix left out of each record") {
    made = std::make_unique<smemu::EventLog>(kCapacity, "aws", "123456789012");
  }
  auto& log = *made;
  const auto arn_number = [](int i) -> std::string {
    const auto n = std::to_string(i);
    switch (i % 6) {
      case 0: return "arn:aws:secretsmanager:region-" + n + ":123456789012:secret:s" + n;  // the event's region
      case 1: return "arn:aws:secretsmanager:us-east-1:123456789012:secret:s" + n;  // another region
      case 2: return "s" + n;                                                        // a name
      case 3: return "arn:aws:secretsmanager:region-" + n + ":999999999999:secret:s" + n;  // another account
      case 4: return "arn:aws:secretsmanager:region-" + n + ":123456789012:secret:";  // the prefix alone
      default: return "";
    }
  };
  const auto event_number = [&](int i) {
    const auto n = std::to_string(i);
    smemu::Event event{.time = smemu::kVirtualEpoch + std::chrono::seconds(i),
                       .kind = static_cast<smemu::EventKind>(i % 3),
                       .name = i % 2 ? "PutSecretValue" : "RotationFailed",
                       .region = "region-" + n,
                       .secret_arn = arn_number(i),
                       .version_id = i % 5 ? "token-" + n : "",
                       .step = i % 4 ? "" : "setSecret",
                       .attempt = static_cast<std::uint32_t>(i % 7),
                       .message = std::string(static_cast<std::size_t>(i % 97) * 31, static_cast<char>('a' + i % 26))};
    for (int l = 0; l < i % 4; ++l) event.labels.push_back("L" + std::to_string(l) + "-" + n);
    if (i % 3 == 0) event.error = smemu::ErrorCode::ResourceNotFound;
    if (i == kEvents - 7) event.message = std::string(200'000, 'z');  // bigger than a chunk
    return event;
  };
  std::vector<smemu::Event> subscribed;
  const auto id = log.subscribe([&](const smemu::Event& event) {
    if (event.sequence > kEvents - 3) subscribed.push_back(event);
  });
  for (int i = 1; i <= kEvents; ++i) CHECK(log.append(event_number(i)) == static_cast<std::uint64_t>(i));
  log.unsubscribe(id);
  const auto same = [](const smemu::Event& a, const smemu::Event& b) {
    return a.sequence == b.sequence && a.time == b.time && a.kind == b.kind && a.name == b.name &&
           a.region == b.region && a.secret_arn == b.secret_arn && a.version_id == b.version_id &&
           a.labels == b.labels && a.step == b.step && a.attempt == b.attempt && a.error == b.error &&
           a.message == b.message;
  };
  CHECK(log.size() == kCapacity);
  const auto kept = log.read(0);
  REQUIRE(kept.size() == kCapacity);
  for (std::size_t k = 0; k < kept.size(); ++k) {
    auto expected = event_number(kEvents - static_cast<int>(kCapacity) + 1 + static_cast<int>(k));
    expected.sequence = static_cast<std::uint64_t>(kEvents) - kCapacity + 1 + k;
    CAPTURE(expected.sequence);
    CHECK(same(kept[k], expected));
  }
  REQUIRE(subscribed.size() == 3);
  auto last = event_number(kEvents);
  last.sequence = kEvents;
  CHECK(same(subscribed.back(), last));
  const auto tail = log.read(kEvents - 2, 1);
  REQUIRE(tail.size() == 1);
  CHECK(tail.front().sequence == static_cast<std::uint64_t>(kEvents - 1));
}

TEST_CASE("emulator/events: a log of capacity 0 keeps nothing but still numbers and hands out events") {
  smemu::EventLog log(0);
  std::vector<std::string> seen;
  log.subscribe([&](const smemu::Event& event) { seen.push_back(event.version_id); });
  CHECK(log.append(smemu::Event{.name = "X", .version_id = "a"}) == 1);
  CHECK(log.append(smemu::Event{.name = "X", .version_id = "b"}) == 2);
  CHECK(log.size() == 0);
  CHECK(log.read(0).empty());
  CHECK(log.last_sequence() == 2);
  CHECK(seen == std::vector<std::string>{"a", "b"});
}

TEST_CASE("emulator/rotation: builtin:template by spec, twice in a row, in both variants (issue 3 item 7)") {
  for (const auto* spec : {"builtin:template", "builtin:template?remove_pending=true"}) {
    CAPTURE(spec);
    smemu::Service service;
    auto client = service.client("us-east-1");
    REQUIRE(service.register_function(kLambda, spec).ok());
    REQUIRE(client.create_secret({.name = "s", .client_request_token = token(0),
                                  .secret_string = R"({"username":"app","password":"old"})"})
                .ok());
    for (int n = 1; n <= 2; ++n) {
      REQUIRE(client.rotate_secret({.secret_id = "s", .client_request_token = token(n), .rotation_lambda_arn = kLambda})
                  .ok());
      CHECK(service.run_until_idle() == 4);
    }
    const bool removes = std::string(spec).find("remove_pending") != std::string::npos;
    auto stages = client.describe_secret({.secret_id = "s"})->version_ids_to_stages.value();
    CHECK(stages[token(1)] == std::vector<std::string>{"AWSPREVIOUS"});
    CHECK(stages[token(2)] == (removes ? std::vector<std::string>{"AWSCURRENT"}
                                       : std::vector<std::string>{"AWSCURRENT", "AWSPENDING"}));
    auto value = nlohmann::json::parse(*client.get_secret_value({.secret_id = "s"})->secret_string);
    CHECK(value["username"] == "app");
    CHECK(value["password"] != "old");
  }
}

TEST_CASE("emulator/rotation: a bad function spec is InvalidParameterException") {
  smemu::Service service;
  auto bad = service.register_function(kLambda, "builtin:nonesuch");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().name() == "InvalidParameterException");
  CHECK_FALSE(service.has_function(kLambda));
}
