#include "commands.h"

#include <array>
#include <cstdio>
#include <ostream>

#include "smemu/model/rotation.h"

namespace smemu::properties {
namespace {

using nlohmann::json;
using scenarios::Action;

// The service's own seed (ARN suffixes, generated passwords): any will do; the files record it.
constexpr std::uint64_t kServiceSeed = 4;
constexpr std::array<std::string_view, 3> kNames{"app/a", "app/b", "app/c"};
constexpr std::array<std::string_view, 6> kValues{"v0", "v1", "v2", "v3", "v4", "v5"};
constexpr std::array<std::string_view, 5> kLabels{kCurrent, kPending, kPrevious, "blue", "green"};
// A VersionId no secret has: minted tokens count up from 0 and never get this far.
constexpr std::string_view kUnknownVersion = "00000000-0000-4000-8000-ffffffffffff";

// Tokens are UUID-shaped (ClientRequestToken takes 32-64 characters) and number the mint.
std::string token_for(std::uint64_t number) {
  char text[40];
  std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012llu", static_cast<unsigned long long>(number));
  return text;
}

// Both enums list the four steps in their order (spec 5.3).
model::Step to_model(RotationStepName step) { return static_cast<model::Step>(static_cast<int>(step)); }

model::Outcome to_model(StepOutcome outcome) {
  switch (outcome) {
    case StepOutcome::kOk: return model::Outcome::kOk;
    case StepOutcome::kError: return model::Outcome::kError;
    case StepOutcome::kTimeout: return model::Outcome::kTimeout;
  }
  return model::Outcome::kOk;
}

// --- choosing arguments (inside a generator: `*gen` draws) ------------------------------------

// Mostly a secret that exists; now and then any of the names (ResourceNotFoundException).
std::string pick_secret(const Reference& model) {
  std::vector<std::string> existing;
  for (const auto& [name, secret] : model.secrets()) existing.push_back(name);
  if (existing.empty() || *rc::gen::inRange(0, 10) == 0) return std::string(*rc::gen::elementOf(kNames));
  return *rc::gen::elementOf(existing);
}

// Mostly a version of the secret; now and then one it does not have.
std::string pick_version(const SecretState* secret) {
  if (!secret || secret->versions.empty() || *rc::gen::inRange(0, 10) == 0) return std::string(kUnknownVersion);
  return secret->versions[*rc::gen::inRange<std::size_t>(0, secret->versions.size())].id;
}

std::string pick_value() { return std::string(*rc::gen::elementOf(kValues)); }
std::string pick_label() { return std::string(*rc::gen::elementOf(kLabels)); }

std::optional<std::vector<std::string>> pick_stages() {
  if (*rc::gen::inRange(0, 2) == 0) return std::nullopt;
  std::vector<std::string> stages{pick_label()};
  if (*rc::gen::inRange(0, 3) == 0) {
    if (auto second = pick_label(); second != stages.front()) stages.push_back(std::move(second));
  }
  return stages;
}

json step_json(const scenarios::Step& step) {
  scenarios::Scenario scenario;
  scenario.steps.push_back(step);
  return scenarios::to_json(scenario)["steps"][0];
}

// --- the expectation of a step: what the Reference answered and how it looks afterwards -------

struct Expected {
  std::optional<Answer> call;
  std::optional<StepDone> rotation;
};

scenarios::Expectation expectation(const Expected& expected, const Reference& after) {
  scenarios::Expectation expect;
  if (expected.call) {
    const Answer& answer = *expected.call;
    expect.ok = !answer.error;
    if (answer.error) {
      expect.error = *answer.error;
    } else {
      json response = json::object();
      if (answer.name) response["Name"] = *answer.name;
      if (answer.version_id) response["VersionId"] = *answer.version_id;
      if (answer.value) response["SecretString"] = *answer.value;
      expect.response = std::move(response);
    }
  }
  if (expected.rotation) {
    expect.rotation = scenarios::RotationExpect{to_model(expected.rotation->step), to_model(expected.rotation->outcome)};
  }
  for (const auto& [name, secret] : after.secrets()) {
    auto& table = expect.labels[name];
    for (const auto& version : secret.versions) {
      if (version.labels.empty()) continue;
      table[version.id] = std::vector<std::string>(version.labels.begin(), version.labels.end());
      if (version.value_state != Version::Value::kKnown) continue;
      for (const auto& label : version.labels) expect.values[name][label] = version.value;
    }
  }
  return expect;
}

std::optional<std::set<std::string>> stages_of(const json& entry) {
  const auto found = entry.find("VersionStages");
  if (found == entry.end()) return std::nullopt;
  return found->get<std::set<std::string>>();
}

json sorted(const std::set<std::string>& stages) { return json(std::vector<std::string>(stages.begin(), stages.end())); }

// What the Runner's expectations cannot say, compared here: VersionStages and the listed
// versions as sets, a VersionId that must be absent. The difference, or nullopt; `amend` gets
// the expected response members that make a replay of the steps fail at this step as well.
std::optional<std::string> compare_unordered(const Answer& answer, const json& response, json& amend) {
  if (answer.no_version_id && response.contains("VersionId")) {
    amend["VersionId"] = nullptr;
    return "the response has a VersionId; a CreateSecret without a value creates no version";
  }
  if (answer.stages && stages_of(response) != answer.stages) {
    amend["VersionStages"] = sorted(*answer.stages);
    return "VersionStages: expected " + sorted(*answer.stages).dump() + ", got " +
           response.value("VersionStages", json()).dump();
  }
  if (answer.versions) {
    const auto entries = response.value("Versions", json::array());
    std::set<Answer::Listed> got;
    for (const auto& entry : entries) got.insert(Answer::Listed{entry.value("VersionId", ""), stages_of(entry)});
    if (got != *answer.versions || entries.size() != got.size()) {
      json expected = json::array();
      for (const auto& listed : *answer.versions) {
        json entry{{"VersionId", listed.id}};
        if (listed.stages) entry["VersionStages"] = sorted(*listed.stages);
        expected.push_back(std::move(entry));
      }
      amend["Versions"] = expected;
      return "Versions: expected (in any order) " + expected.dump() + ", got " + response.value("Versions", json()).dump();
    }
  }
  return std::nullopt;
}

// How the step changed the rotations in flight, for the coverage report.
void note_rotations(const Reference& before, const Reference& after, Sut& sut) {
  for (const auto& [name, secret] : before.secrets()) {
    const auto& was = secret.rotation;
    if (!was) continue;
    const auto* now = after.secret(name);
    const auto& is = now->rotation;
    if (!is || is->token != was->token) {
      const auto* version = now->find(was->token);
      sut.reached(version && version->has(kCurrent) ? "rotation ended, its version AWSCURRENT"
                                                    : "rotation ended, its version not AWSCURRENT");
    } else if (is->phase == Rotation::Phase::kStuck && was->phase != Rotation::Phase::kStuck) {
      sut.reached("rotation stuck after its last attempt");
    } else if (was->phase == Rotation::Phase::kStuck && is->phase != Rotation::Phase::kStuck) {
      sut.reached("stuck rotation re-attempted (D12)");
    }
  }
}

// --- the commands --------------------------------------------------------------------------------

class StepCommand : public Command {
 public:
  void apply(Reference& model) const final { perform(model); }

  void run(const Reference& before, Sut& sut) const final {
    Reference after = before;
    const Expected expected = perform(after);
    const auto outcome = sut.run(scenarios::Step{action(), expectation(expected, after), {}});
    if (outcome.failure) {
      const std::string message = "step " + std::to_string(outcome.failure->step) + " (" +
                                  outcome.failure->step_description + "): " + outcome.failure->message;
      sut.record_failure(message);
      RC_FAIL(message);
    }
    const auto* called = std::get_if<scenarios::Call>(&sut.steps().back().action);
    if (expected.call && called) {
      sut.reached(called->operation + " -> " + expected.call->error.value_or("ok"));
    }
    if (expected.rotation) {
      sut.reached("rotation step -> " + std::string(model::outcome_name(to_model(expected.rotation->outcome))));
    }
    note_rotations(before, after, sut);
    if (expected.call && outcome.response && outcome.response->ok()) {
      json amend = json::object();
      if (auto difference = compare_unordered(*expected.call, outcome.response->value(), amend)) {
        const std::string message = "step " + std::to_string(sut.steps().size()) + " (" +
                                    scenarios::describe(sut.steps().back()) + "): " + *difference;
        sut.amend_last(amend, message);
        sut.record_failure(message);
        RC_FAIL(message);
      }
    }
  }

  void show(std::ostream& out) const final { out << step_json(scenarios::Step{action(), {}, {}}).dump(); }

 protected:
  virtual Expected perform(Reference& model) const = 0;
  virtual Action action() const = 0;
};

scenarios::Call call(std::string operation, json request) {
  return scenarios::Call{std::move(operation), std::move(request), std::nullopt};
}

class CreateSecretCommand final : public StepCommand {
 public:
  explicit CreateSecretCommand(const Reference& model) {
    name_ = std::string(*rc::gen::elementOf(kNames));
    const auto* secret = model.secret(name_);
    if (secret && !secret->versions.empty() && *rc::gen::inRange(0, 3) == 0) {
      // The same request again (spec 4.2).
      const auto& version = secret->versions[*rc::gen::inRange<std::size_t>(0, secret->versions.size())];
      token_ = version.id;
      if (version.value_state == Version::Value::kKnown) value_ = version.value;
    } else {
      minted_ = model.minted();
      token_ = token_for(*minted_);
      if (*rc::gen::inRange(0, 4) != 0) value_ = pick_value();
    }
  }
  // A secret created with a value and a fresh token (the D8 property's secret).
  CreateSecretCommand(std::string name, std::uint64_t minted, std::string value)
      : name_(std::move(name)), token_(token_for(minted)), value_(std::move(value)), minted_(minted) {}
  void checkPreconditions(const Reference& model) const override {
    RC_PRE(model.create_is_specified(name_, token_, value_));
  }

 protected:
  Expected perform(Reference& model) const override {
    if (minted_) model.note_minted(*minted_);
    return {model.create_secret(name_, token_, value_), {}};
  }
  Action action() const override {
    json request{{"Name", name_}, {"ClientRequestToken", token_}};
    if (value_) request["SecretString"] = *value_;
    return call("CreateSecret", std::move(request));
  }

 private:
  std::string name_;
  std::string token_;
  std::optional<std::string> value_;
  std::optional<std::uint64_t> minted_;
};

class PutSecretValueCommand final : public StepCommand {
 public:
  explicit PutSecretValueCommand(const Reference& model) {
    secret_ = pick_secret(model);
    const auto* secret = model.secret(secret_);
    value_ = pick_value();
    if (secret && !secret->versions.empty() && *rc::gen::inRange(0, 4) == 0) {
      // A token in use: the same write again, another value, or the rotation placeholder's.
      const auto& version = secret->versions[*rc::gen::inRange<std::size_t>(0, secret->versions.size())];
      token_ = version.id;
      if (version.value_state == Version::Value::kKnown && *rc::gen::inRange(0, 2) == 0) value_ = version.value;
    } else {
      minted_ = model.minted();
      token_ = token_for(*minted_);
    }
    stages_ = pick_stages();
  }
  // A default write with a fresh token (the D8 property's writes).
  PutSecretValueCommand(std::string secret, std::uint64_t minted, std::string value)
      : secret_(std::move(secret)), token_(token_for(minted)), value_(std::move(value)), minted_(minted) {}

  void checkPreconditions(const Reference& model) const override {
    RC_PRE(model.put_is_specified(secret_, token_, stages_));
  }

 protected:
  Expected perform(Reference& model) const override {
    if (minted_) model.note_minted(*minted_);
    return {model.put_secret_value(secret_, token_, value_, stages_), {}};
  }
  Action action() const override {
    json request{{"SecretId", secret_}, {"ClientRequestToken", token_}, {"SecretString", value_}};
    if (stages_) request["VersionStages"] = *stages_;
    return call("PutSecretValue", std::move(request));
  }

 private:
  std::string secret_;
  std::string token_;
  std::string value_;
  std::optional<std::vector<std::string>> stages_;
  std::optional<std::uint64_t> minted_;
};

class UpdateSecretVersionStageCommand final : public StepCommand {
 public:
  explicit UpdateSecretVersionStageCommand(const Reference& model) {
    secret_ = pick_secret(model);
    const auto* secret = model.secret(secret_);
    label_ = pick_label();
    // Mostly from the label's holder, so that most moves are allowed.
    const Version* holder = secret ? secret->holder(label_) : nullptr;
    auto from = [&] { return holder && *rc::gen::inRange(0, 5) != 0 ? holder->id : pick_version(secret); };
    switch (*rc::gen::inRange(0, 3)) {
      case 0: move_to_ = pick_version(secret); break;
      case 1: remove_from_ = from(); break;
      default:
        remove_from_ = from();
        move_to_ = pick_version(secret);
        break;
    }
  }
  void checkPreconditions(const Reference& model) const override {
    RC_PRE(model.stage_update_is_specified(secret_, label_, remove_from_, move_to_));
  }

 protected:
  Expected perform(Reference& model) const override {
    return {model.update_secret_version_stage(secret_, label_, remove_from_, move_to_), {}};
  }
  Action action() const override {
    json request{{"SecretId", secret_}, {"VersionStage", label_}};
    if (remove_from_) request["RemoveFromVersionId"] = *remove_from_;
    if (move_to_) request["MoveToVersionId"] = *move_to_;
    return call("UpdateSecretVersionStage", std::move(request));
  }

 private:
  std::string secret_;
  std::string label_;
  std::optional<std::string> remove_from_;
  std::optional<std::string> move_to_;
};

class GetSecretValueCommand final : public StepCommand {
 public:
  explicit GetSecretValueCommand(const Reference& model) {
    secret_ = pick_secret(model);
    const auto* secret = model.secret(secret_);
    const int form = *rc::gen::inRange(0, 4);  // neither, a stage, a version, both
    if (form & 1) stage_ = pick_label();
    if (form & 2) version_id_ = pick_version(secret);
  }
  void checkPreconditions(const Reference& model) const override {
    RC_PRE(model.get_is_specified(secret_, version_id_, stage_));
  }

 protected:
  Expected perform(Reference& model) const override {
    return {model.get_secret_value(secret_, version_id_, stage_), {}};
  }
  Action action() const override {
    json request{{"SecretId", secret_}};
    if (version_id_) request["VersionId"] = *version_id_;
    if (stage_) request["VersionStage"] = *stage_;
    return call("GetSecretValue", std::move(request));
  }

 private:
  std::string secret_;
  std::optional<std::string> version_id_;
  std::optional<std::string> stage_;
};

class ListSecretVersionIdsCommand final : public StepCommand {
 public:
  explicit ListSecretVersionIdsCommand(const Reference& model)
      : secret_(pick_secret(model)), include_deprecated_(*rc::gen::arbitrary<bool>()) {}

 protected:
  Expected perform(Reference& model) const override {
    return {model.list_secret_version_ids(secret_, include_deprecated_), {}};
  }
  Action action() const override {
    json request{{"SecretId", secret_}};
    if (include_deprecated_) request["IncludeDeprecated"] = true;
    return call("ListSecretVersionIds", std::move(request));
  }

 private:
  std::string secret_;
  bool include_deprecated_ = false;
};

class RotateSecretCommand final : public StepCommand {
 public:
  explicit RotateSecretCommand(const Reference& model) {
    secret_ = pick_secret(model);
    const auto* secret = model.secret(secret_);
    const auto& rotation = secret ? secret->rotation : std::nullopt;
    if (rotation && rotation->phase == Rotation::Phase::kStuck && *rc::gen::inRange(0, 2) == 0) {
      token_ = rotation->token;  // D12
    } else {
      minted_ = model.minted();
      token_ = token_for(*minted_);
    }
    switch (*rc::gen::inRange(0, 10)) {
      case 0: break;  // the stored function, if any
      case 1: function_ = std::string(kUnregisteredArn); break;
      case 2: case 3: case 4: case 5: function_ = std::string(kTemplateArn); break;
      default: function_ = std::string(kRemovePendingArn); break;
    }
  }
  void checkPreconditions(const Reference& model) const override {
    RC_PRE(model.rotate_is_specified(secret_, token_));
  }

 protected:
  Expected perform(Reference& model) const override {
    if (minted_) model.note_minted(*minted_);
    return {model.rotate_secret(secret_, token_, function_), {}};
  }
  Action action() const override {
    json request{{"SecretId", secret_}, {"ClientRequestToken", token_}};
    if (function_) request["RotationLambdaARN"] = *function_;
    return call("RotateSecret", std::move(request));
  }

 private:
  std::string secret_;
  std::string token_;
  std::optional<std::string> function_;
  std::optional<std::uint64_t> minted_;
};

class RotationStepCommand final : public StepCommand {
 public:
  explicit RotationStepCommand(const Reference& model) { RC_PRE(model.one_step_due()); }
  void checkPreconditions(const Reference& model) const override { RC_PRE(model.one_step_due()); }

 protected:
  Expected perform(Reference& model) const override { return {{}, model.rotation_step()}; }
  Action action() const override { return scenarios::RotationStep{}; }
};

class RunUntilIdleCommand final : public StepCommand {
 public:
  explicit RunUntilIdleCommand(const Reference& /*model*/) {}

 protected:
  Expected perform(Reference& model) const override {
    model.run_until_idle();
    return {};
  }
  Action action() const override { return scenarios::RunUntilIdle{}; }
};

class AdvanceCommand final : public StepCommand {
 public:
  explicit AdvanceCommand(Millis by) : by_(by) {}

 protected:
  Expected perform(Reference& model) const override {
    model.advance(by_);
    return {};
  }
  Action action() const override { return scenarios::Advance{Duration{by_}}; }

 private:
  Millis by_;
};

// Where a crash can stop builtin:template: before its first call, or right after one of the
// calls it makes in that step (reference_model.cpp, run_function).
struct CrashPoint {
  RotationStepName step;
  std::optional<std::string_view> after_call;
  int occurrence;
};
const std::array<CrashPoint, 13> kCrashPoints{{
    {RotationStepName::kCreateSecret, std::nullopt, 1},
    {RotationStepName::kCreateSecret, "DescribeSecret", 1},
    {RotationStepName::kCreateSecret, "GetSecretValue", 1},
    {RotationStepName::kCreateSecret, "GetSecretValue", 2},
    {RotationStepName::kCreateSecret, "GetRandomPassword", 1},
    {RotationStepName::kCreateSecret, "PutSecretValue", 1},
    {RotationStepName::kSetSecret, std::nullopt, 1},
    {RotationStepName::kSetSecret, "DescribeSecret", 1},
    {RotationStepName::kTestSecret, "DescribeSecret", 1},
    {RotationStepName::kFinishSecret, std::nullopt, 1},
    {RotationStepName::kFinishSecret, "DescribeSecret", 2},
    {RotationStepName::kFinishSecret, "UpdateSecretVersionStage", 1},
    {RotationStepName::kFinishSecret, "UpdateSecretVersionStage", 2},
}};

class ArmFaultCommand final : public StepCommand {
 public:
  explicit ArmFaultCommand(const Reference& model) {
    // Mostly on a secret that is rotating, where the fault can fire soon.
    std::vector<std::string> rotating;
    for (const auto& [name, secret] : model.secrets()) {
      if (secret.rotation) rotating.push_back(name);
    }
    secret_ = !rotating.empty() && *rc::gen::inRange(0, 10) < 7 ? *rc::gen::elementOf(rotating) : pick_secret(model);
    RC_PRE(armable(model));
    const int kind = *rc::gen::inRange(0, 4);
    if (kind >= 2) {
      const auto& point = kCrashPoints[*rc::gen::inRange<std::size_t>(0, kCrashPoints.size())];
      fault_.type = FaultType::kCrash;
      fault_.step = point.step;
      if (point.after_call) fault_.after_call = std::string(*point.after_call);
      fault_.occurrence = point.occurrence;
    } else {
      fault_.type = kind == 0 ? FaultType::kFail : FaultType::kTimeout;
      fault_.step = static_cast<RotationStepName>(*rc::gen::inRange(0, 4));
    }
  }
  // One armed fault per secret: which of two at the same point fires first is the runner's
  // business, not the service's.
  void checkPreconditions(const Reference& model) const override { RC_PRE(armable(model)); }

 protected:
  Expected perform(Reference& model) const override {
    model.arm_fault(secret_, fault_);
    return {};
  }
  Action action() const override {
    static constexpr scenarios::FaultKind kKinds[] = {scenarios::FaultKind::kFail, scenarios::FaultKind::kTimeout,
                                                      scenarios::FaultKind::kCrash};
    scenarios::Point point{secret_, to_model(fault_.step), fault_.after_call,
                           static_cast<std::uint32_t>(fault_.occurrence)};
    return scenarios::ArmFault{scenarios::Fault{kKinds[static_cast<int>(fault_.type)], std::move(point)}};
  }

 private:
  bool armable(const Reference& model) const {
    const auto* secret = model.secret(secret_);
    return secret && !secret->fault;
  }

  std::string secret_;
  ArmedFault fault_;
};

template <class T>
rc::Gen<CommandPtr> make(const Reference& model) {
  return rc::gen::exec([model] { return CommandPtr(std::make_shared<T>(model)); });
}

rc::Gen<CommandPtr> advance_by(std::vector<Millis> choices) {
  return rc::gen::map(rc::gen::elementOf(std::move(choices)),
                      [](Millis by) { return CommandPtr(std::make_shared<AdvanceCommand>(by)); });
}

}  // namespace

// --- the setup and the Sut --------------------------------------------------------------------

scenarios::Setup property_setup(bool plant_bug) {
  scenarios::Setup setup;
  setup.seed = kServiceSeed;
  setup.functions = {{std::string(kTemplateArn), "builtin:template"},
                     {std::string(kRemovePendingArn), "builtin:template?remove_pending=true"}};
  setup.test_plant_bug = plant_bug;
  return setup;
}

Reference initial_reference() {
  return Reference({{std::string(kTemplateArn), false}, {std::string(kRemovePendingArn), true}});
}

Sut::Sut(const scenarios::Setup& setup) : runner_(setup) {}

scenarios::StepOutcome Sut::run(scenarios::Step step) {
  steps_.push_back(std::move(step));
  return runner_.run(steps_.back(), steps_.size());
}

std::set<std::string> Sut::coverage() const {
  auto paths = reached_;
  for (const auto& [probe, count] : runner_.probes()) {
    if (count > 0) paths.insert("probe " + probe);
  }
  return paths;
}

void Sut::amend_last(const json& response, const std::string& note) {
  auto& expect = steps_.back().expect;
  if (!expect.response) expect.response = json::object();
  expect.response->update(response);
  steps_.back().note = note;
}

// --- the generators ---------------------------------------------------------------------------

rc::Gen<CommandPtr> any_command(const Reference& model) {
  const bool empty = model.secrets().empty();
  return rc::gen::weightedOneOf<CommandPtr>({
      {empty ? 12u : 2u, make<CreateSecretCommand>(model)},
      {8, make<PutSecretValueCommand>(model)},
      {6, make<UpdateSecretVersionStageCommand>(model)},
      {4, make<GetSecretValueCommand>(model)},
      {2, make<ListSecretVersionIdsCommand>(model)},
      {5, make<RotateSecretCommand>(model)},
      {model.one_step_due() ? 6u : 0u, make<RotationStepCommand>(model)},
      {2, make<RunUntilIdleCommand>(model)},
      {2, advance_by({kMinute, 30 * kMinute, kHour, 90 * kMinute, 3 * kHour, kDay})},
      {empty ? 0u : 3u, make<ArmFaultCommand>(model)},
  });
}

std::vector<CommandPtr> quota_prefix(Reference& model, int count) {
  const std::string name(kNames.front());
  std::vector<CommandPtr> prefix;
  auto add = [&](CommandPtr command) {
    command->checkPreconditions(model);
    command->apply(model);
    prefix.push_back(std::move(command));
  };
  add(std::make_shared<CreateSecretCommand>(name, model.minted(), "v0"));
  for (int i = 1; i <= count; ++i) {
    add(std::make_shared<PutSecretValueCommand>(name, model.minted(), std::string(kValues[i % kValues.size()])));
  }
  return prefix;
}

rc::Gen<CommandPtr> quota_command(const Reference& model) {
  return rc::gen::weightedOneOf<CommandPtr>({
      {10, make<PutSecretValueCommand>(model)},
      {3, make<UpdateSecretVersionStageCommand>(model)},
      {2, make<GetSecretValueCommand>(model)},
      {2, make<ListSecretVersionIdsCommand>(model)},
      {3, advance_by({5 * kHour, 13 * kHour, 25 * kHour})},
  });
}

}  // namespace smemu::properties
