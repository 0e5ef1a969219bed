// What durable state (issue 5) asks of the model: Secret::restore rebuilds a saved secret and
// refuses one that breaks the Secret's invariants; resume_interrupted picks up a run whose step
// never answered; Store reports which secrets were handed out for writing or erased.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "smemu/model/labels.h"
#include "smemu/model/secret.h"
#include "smemu/model/store.h"

#include "secret_fixtures.h"

using namespace smemu;
using namespace smemu::model;
using smemu::model::testing::meta_named;

namespace {

const Timestamp kT0 = kVirtualEpoch;

std::vector<SecretVersion> two_versions() {
  SecretVersion first("v1", SecretValue::string("one"), kT0);
  first.last_accessed = day_floor(kT0);
  return {std::move(first), SecretVersion("v2", SecretValue::binary(std::string("\0\1", 2)), kT0 + days(1))};
}

RotationRun run_at(std::string token, RotationRun::Phase phase, Step step) {
  return RotationRun{std::move(token), "arn:aws:lambda:us-east-1:123456789012:function:f", RotationRun::Kind::kRotate,
                     phase, step, 2, kT0};
}

}  // namespace

TEST_CASE("model/saved state: restore rebuilds versions in order, labels (custom ones too) and the run") {
  auto restored = Secret::restore(meta_named("s"), two_versions(),
                                  {{"AWSPREVIOUS", "v1"}, {"CUSTOM", "v1"}, {"AWSCURRENT", "v2"}, {"AWSPENDING", "v2"}},
                                  run_at("v2", RotationRun::Phase::kRetry, Step::kCreateSecret));
  REQUIRE(restored.ok());
  const auto& secret = restored.value();
  REQUIRE(secret.versions().size() == 2);
  CHECK(secret.versions()[0].id == "v1");
  CHECK(secret.versions()[0].last_accessed == day_floor(kT0));
  CHECK(secret.versions()[1].value == SecretValue::binary(std::string("\0\1", 2)));
  CHECK(secret.versions()[1].created == kT0 + days(1));
  CHECK(secret.labels_of("v1") == std::vector<std::string>{"AWSPREVIOUS", "CUSTOM"});
  CHECK(secret.labels_of("v2") == std::vector<std::string>{"AWSCURRENT", "AWSPENDING"});
  CHECK(secret.find_version("v2") == secret.holder(labels::kCurrent));
  CHECK(secret.run() == run_at("v2", RotationRun::Phase::kRetry, Step::kCreateSecret));
}

TEST_CASE("model/saved state: restore refuses what breaks an invariant") {
  auto refused = [](Result<Secret> result, const std::string& why) {
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::InvalidParameter);
    CHECK_MESSAGE(result.error().message.find(why) != std::string::npos, result.error().message);
  };
  auto twice = two_versions();
  twice.push_back(SecretVersion("v1", SecretValue::string("again"), kT0));
  refused(Secret::restore(meta_named("s"), std::move(twice), {}, std::nullopt), "lists version v1 twice");
  refused(Secret::restore(meta_named("s"), two_versions(), {{"AWSCURRENT", "v1"}, {"AWSCURRENT", "v2"}}, std::nullopt),
          "lists staging label AWSCURRENT twice");
  refused(Secret::restore(meta_named("s"), two_versions(), {{"X", "v9"}}, std::nullopt), "which it does not hold");
  std::vector<LabelMove> many;
  for (int i = 0; i < 21; ++i) many.push_back({"L" + std::to_string(i), "v1"});
  refused(Secret::restore(meta_named("s"), two_versions(), many, std::nullopt), "at most 20");
  refused(Secret::restore(meta_named("s"), two_versions(), {{"AWSCURRENT", "v2"}},
                          run_at("v2", RotationRun::Phase::kReady, Step::kSetSecret)),
          "holds neither AWSPENDING");
  // While finishSecret runs, AWSCURRENT without AWSPENDING is a run's due state (invariant 7).
  CHECK(Secret::restore(meta_named("s"), two_versions(), {{"AWSCURRENT", "v2"}},
                        run_at("v2", RotationRun::Phase::kRunning, Step::kFinishSecret))
            .ok());
}

TEST_CASE("model/saved state: an interrupted step is due again; an interrupted finished finishSecret succeeded") {
  auto pending = Secret::restore(meta_named("s"), two_versions(), {{"AWSCURRENT", "v1"}, {"AWSPENDING", "v2"}},
                                 run_at("v2", RotationRun::Phase::kRunning, Step::kTestSecret));
  REQUIRE(pending.ok());
  CHECK_FALSE(pending->resume_interrupted(kT0 + days(5)));
  auto expected = run_at("v2", RotationRun::Phase::kReady, Step::kTestSecret);
  expected.due = kT0 + days(5);
  CHECK(pending->run() == expected);

  auto finished = Secret::restore(meta_named("s"), two_versions(), {{"AWSPREVIOUS", "v1"}, {"AWSCURRENT", "v2"}},
                                  run_at("v2", RotationRun::Phase::kRunning, Step::kFinishSecret));
  REQUIRE(finished.ok());
  CHECK(finished->resume_interrupted(kT0 + days(5)));
  CHECK_FALSE(finished->run().has_value());
  CHECK(finished->meta.rotation.last_rotated == kT0 + days(5));
}

TEST_CASE("model/saved state: the store reports each secret handed out for writing or erased, once") {
  Store store("aws", "123456789012");
  store.insert(Secret(meta_named("before")));
  store.track_changes(true);
  CHECK(store.take_changes().empty());
  store.insert(Secret(meta_named("added")));
  CHECK(store.find("us-east-1", "before", kT0) != nullptr);
  CHECK(store.find_by_name("us-east-1", "before") != nullptr);
  const Store& reader = store;
  CHECK(reader.find("us-east-1", "added", kT0) != nullptr);  // a read hands nothing out
  auto changes = store.take_changes();
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].name == "added");
  CHECK(changes[0].secret == reader.find("us-east-1", "added", kT0));
  CHECK(changes[1].name == "before");
  CHECK(store.take_changes().empty());

  store.erase("us-east-1", "added");
  changes = store.take_changes();
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].region == "us-east-1");
  CHECK(changes[0].name == "added");
  CHECK(changes[0].secret == nullptr);

  store.track_changes(false);
  store.insert(Secret(meta_named("untracked")));
  CHECK(store.take_changes().empty());
  std::size_t stored = 0;
  store.for_each_stored([&](const Secret&) { ++stored; });
  CHECK(stored == 2);
}
