// Random scenarios (generator.h): the fault plan and random_scenario. Shrinking is in
// generator_shrink.cpp.
//
// The generator steers by a simulation: it plays each step it draws on a Runner of its own (the
// invariants off) and looks at the service before drawing the next, so that it only asks for a
// rotation step when one is due, names versions that exist, aims faults at rotations in flight
// and targets secrets as they are. Every draw comes from a SeededRandom stream of its own
// purpose, split from the seed, so the same seed gives the same scenario on every platform.
//
// Two rules of the scenario format shape it:
//   - "rotation_step" with nothing due is an unmet step: it is drawn only when work is due.
//   - A call with `during` whose point never comes is an unmet step. At most one such call is
//     pending at a time; one that has not run when the scenario ends is taken out again (it
//     changed nothing: it never ran) and a step that drives no rotation takes its place.
#include "smemu/scenarios/generator.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "smemu/emulator/random.h"
#include "smemu/model/labels.h"
#include "smemu/model/secret.h"

namespace smemu::scenarios {
namespace {

using nlohmann::json;

// The fault sites of generator.h, in the order they are drawn.
constexpr std::array<std::string_view, 11> kSites{
    "function.fail",  "function.timeout",  "function.crash", "function.duplicate", "function.reinvoke",
    "manual.write",   "manual.label_move", "manual.cancel",  "manual.delete",      "manual.restore",
    "clock.jump",
};
// A switched-on site fires at one of these rates per opportunity (one opportunity per step).
constexpr std::array<double, 4> kRates{0.05, 0.1, 0.2, 0.35};
// One in kSiteOdds sites is switched on per scenario (BUGGIFY's 1/4).
constexpr std::uint64_t kSiteOdds = 4;
// Rates are compared against draws in [0, kRateScale).
constexpr std::uint64_t kRateScale = 1'000'000;

constexpr std::string_view kMissingSecret = "gen/no-such-secret";

// The D8 quota burst: enough default puts to one secret to pass 100 versions, with a clock
// advance of more than a day every kBurstAdvanceEvery steps so that old versions can be purged.
constexpr std::size_t kBurstLength = 110;
constexpr std::size_t kBurstAdvanceEvery = 35;

// The calls each step of builtin:template makes, in order (builtin_functions.cpp): the points a
// crash, a duplicate invocation or a deferred call can name.
struct CallPoint {
  std::string_view operation;
  std::uint32_t occurrence;
};
constexpr CallPoint kCreateCalls[] = {{"DescribeSecret", 1}, {"GetSecretValue", 1}, {"GetSecretValue", 2},
                                      {"GetRandomPassword", 1}, {"PutSecretValue", 1}};
constexpr CallPoint kCheckCalls[] = {{"DescribeSecret", 1}};
// The second UpdateSecretVersionStage only happens with remove_pending=true.
constexpr CallPoint kFinishCalls[] = {{"DescribeSecret", 1}, {"UpdateSecretVersionStage", 1},
                                      {"UpdateSecretVersionStage", 2}};

std::span<const CallPoint> calls_of(model::Step step) {
  switch (step) {
    case model::Step::kCreateSecret: return kCreateCalls;
    case model::Step::kFinishSecret: return kFinishCalls;
    case model::Step::kSetSecret:
    case model::Step::kTestSecret: break;
  }
  return kCheckCalls;
}

std::string_view pick_of(SeededRandom& random, std::span<const std::string_view> options) {
  return options[random.below(options.size())];
}

// An index drawn with the given weights; a zero weight is never drawn. REQUIRES: a weight > 0.
std::size_t weighted(SeededRandom& random, std::span<const std::uint64_t> weights) {
  std::uint64_t total = 0;
  for (const auto w : weights) total += w;
  auto r = random.below(total);
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (r < weights[i]) return i;
    r -= weights[i];
  }
  return weights.size() - 1;
}

// What the generator sees of one secret in the simulation.
struct SecretView {
  bool exists = false;
  bool deleted = false;
  bool rotation_configured = false;
  std::vector<std::string> versions;                  // creation order
  std::map<std::string, std::string> strings;         // version -> SecretString
  std::map<std::string, std::string> holders;         // label -> version
  std::optional<model::RotationRun> run;
  std::optional<Duration> period;                     // of its rotation schedule, if any
};

// The period of a schedule the generator draws (rotate()): AutomaticallyAfterDays N, rate(N
// hours|days), and the daily cron.
std::optional<Duration> period_of(const model::RotationRules& rules) {
  if (rules.automatically_after_days) return days(*rules.automatically_after_days);
  if (!rules.schedule_expression) return std::nullopt;
  const std::string_view text = *rules.schedule_expression;
  if (!text.starts_with("rate(")) return days(1);
  std::int64_t count = 0;
  std::size_t i = 5;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) count = count * 10 + (text[i] - '0');
  if (text.substr(i).starts_with(" hour")) return std::chrono::hours(count);
  return days(count);
}

// The step kinds a scenario mixes, with their weights. Each is drawn only where it applies.
enum class Kind : std::uint8_t {
  kPutDefault,
  kPutStages,
  kPutReplay,
  kLabel,
  kRotate,
  kRotateSameToken,
  kRotationStep,
  kRunUntilIdle,
  kAdvance,
  kCancel,
  kDelete,
  kRestore,
  kRecreate,
  kRead,
  kMissing,
  kCount,
};
constexpr std::array<std::uint64_t, static_cast<std::size_t>(Kind::kCount)> kWeights{
    10,  // kPutDefault
    4,   // kPutStages
    2,   // kPutReplay
    10,  // kLabel
    10,  // kRotate
    3,   // kRotateSameToken
    16,  // kRotationStep
    6,   // kRunUntilIdle
    8,   // kAdvance
    3,   // kCancel
    2,   // kDelete
    4,   // kRestore
    4,   // kRecreate
    4,   // kRead
    1,   // kMissing
};
// Kinds that never make a rotation function run (the filler after an unused `during` call).
constexpr bool drives_functions(Kind kind) {
  return kind == Kind::kRotationStep || kind == Kind::kRunUntilIdle || kind == Kind::kAdvance;
}

class Generator {
 public:
  Generator(std::uint64_t seed, const GeneratorOptions& options)
      : seed_(seed),
        options_(options),
        root_(SeededRandom(seed).split("generator")),
        setup_random_(root_.split("setup")),
        tokens_(root_.split("tokens")),
        values_(root_.split("values")),
        kinds_(root_.split("kinds")),
        targets_(root_.split("targets")),
        labels_(root_.split("labels")),
        rules_(root_.split("rules")),
        clock_(root_.split("clock")),
        points_(root_.split("points")),
        burst_(root_.split("burst")) {
    if (options.faults) plan_ = draw_fault_plan(seed);
    for (const auto site : kSites) fire_.emplace(std::string(site), root_.split("fire/" + std::string(site)));
  }

  Scenario generate() {
    Scenario scenario;
    scenario.name = "random-" + std::to_string(seed_);
    scenario.description = describe_plan();
    scenario.setup = make_setup();
    sim_.emplace(scenario.setup, RunOptions{.check_invariants = false});
    plan_burst();

    while (scenario.steps.size() < options_.steps) {
      position_ = scenario.steps.size();
      Step step = (burst_start_ && position_ >= *burst_start_ && position_ < *burst_start_ + kBurstLength)
                      ? burst_step(position_ - *burst_start_)
                      : next_step();
      no_rotation_step_ = !play(step, scenario);
      if (!no_rotation_step_) scenario.steps.push_back(std::move(step));
    }
    if (pending_during_) {
      // Never ran, so it changed nothing: drop it and fill its place with a step that cannot run it.
      scenario.steps.erase(scenario.steps.begin() + static_cast<std::ptrdiff_t>(*pending_during_));
      filler_only_ = true;
      Step step = normal_step();
      (void)play(step, scenario);
      scenario.steps.push_back(std::move(step));
    }
    return scenario;
  }

 private:
  // --- setup -----------------------------------------------------------------------------------
  std::string lambda_arn(std::string_view name) const {
    return "arn:aws:lambda:" + region_ + ":123456789012:function:" + std::string(name);
  }

  Setup make_setup() {
    Setup setup;
    setup.seed = seed_;
    region_ = setup.region;
    setup.functions.push_back({lambda_arn("smemu-template"), "builtin:template"});
    setup.functions.push_back({lambda_arn("smemu-template-remove"), "builtin:template?remove_pending=true"});
    if (setup_random_.one_in(3)) {
      static constexpr std::string_view kSteps[] = {"createSecret", "setSecret", "testSecret", "finishSecret"};
      const std::string fail_at(pick_of(setup_random_, kSteps));
      setup.functions.push_back({lambda_arn("smemu-template-flaky"), "builtin:template?fail_at=" + fail_at});
    }
    for (const auto& function : setup.functions) functions_.push_back(function.arn);

    const auto most = static_cast<std::int64_t>(std::max<std::size_t>(options_.secrets, 1));
    const auto count = static_cast<std::size_t>(setup_random_.pick(1, most + 1));
    for (std::size_t i = 0; i < count; ++i) {
      names_.push_back("app/secret-" + std::to_string(i + 1));
      json request{{"Name", names_.back()}, {"ClientRequestToken", token()}};
      // An empty secret now and then: its first rotation has no AWSCURRENT to read (D17).
      if (!setup_random_.one_in(6)) request["SecretString"] = value();
      setup.secrets.push_back(std::move(request));
    }
    return setup;
  }

  std::string describe_plan() const {
    std::string text = "random scenario, seed " + std::to_string(seed_) + "; fault sites: ";
    if (plan_.rates.empty()) return text + "none";
    bool first = true;
    for (const auto& [site, rate] : plan_.rates) {
      text += (first ? "" : ", ") + site + "=" + std::to_string(static_cast<int>(rate * 100)) + "%";
      first = false;
    }
    return text;
  }

  void plan_burst() {
    if (options_.steps < kBurstLength || !burst_.one_in(3)) return;
    burst_start_ = static_cast<std::size_t>(burst_.below(options_.steps - kBurstLength + 1));
    burst_secret_ = names_[burst_.below(names_.size())];
  }

  // --- draws ------------------------------------------------------------------------------------
  // A ClientRequestToken: 32 to 64 characters (ClientRequestTokenType).
  std::string token() {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string text(static_cast<std::size_t>(tokens_.pick(32, 65)), '0');
    for (auto& c : text) c = kDigits[tokens_.below(kDigits.size())];
    return text;
  }

  // A SecretString: a plain string, or now and then a JSON object with a password, which the
  // template rotates field by field.
  std::string value() {
    const auto id = std::to_string(values_.next() % 1'000'000'000);
    if (values_.one_in(4)) return json{{"username", "app"}, {"password", "pw-" + id}}.dump();
    return "value-" + id;
  }

  bool fires(std::string_view site) {
    const auto rate = plan_.rates.find(std::string(site));
    if (rate == plan_.rates.end()) return false;
    return static_cast<double>(fire_.at(std::string(site)).below(kRateScale)) <
           rate->second * static_cast<double>(kRateScale);
  }

  // --- the simulation ---------------------------------------------------------------------------
  // Plays `step` on the simulation; false when it was a rotation step that found nothing to run
  // (the simulation is then rebuilt without it, and the caller draws another step).
  bool play(const Step& step, const Scenario& scenario) {
    const auto before = concurrent_callers();
    const auto outcome = sim_->run(step, scenario.steps.size() + 1);
    if (std::holds_alternative<RotationStep>(step.action) && !outcome.rotation) {
      replay(scenario);
      return false;
    }
    if (pending_during_ && concurrent_callers() > before) pending_during_.reset();
    return true;
  }

  // A fresh simulation that has played `scenario`'s steps.
  void replay(const Scenario& scenario) {
    sim_.emplace(scenario.setup, RunOptions{.check_invariants = false});
    pending_during_.reset();
    for (std::size_t i = 0; i < scenario.steps.size(); ++i) {
      const auto before = concurrent_callers();
      (void)sim_->run(scenario.steps[i], i + 1);
      if (std::holds_alternative<Call>(scenario.steps[i].action) && std::get<Call>(scenario.steps[i].action).during) {
        pending_during_ = i;
      } else if (pending_during_ && concurrent_callers() > before) {
        pending_during_.reset();
      }
    }
  }

  std::uint64_t concurrent_callers() const {
    const auto& probes = sim_->probes();
    const auto found = probes.find("concurrent_callers");
    return found == probes.end() ? 0 : found->second;
  }

  SecretView view(const std::string& name) {
    SecretView seen;
    sim_->service().inspect(region_, name, [&](const model::Secret* secret) {
      if (secret == nullptr) return;
      seen.exists = true;
      seen.deleted = secret->meta.marked_for_deletion();
      seen.rotation_configured = secret->meta.rotation.lambda_arn.has_value();
      for (const auto& version : secret->versions()) {
        seen.versions.push_back(version.id);
        if (version.value.kind == model::ValueKind::kString) seen.strings[version.id] = version.value.bytes;
        for (auto& label : secret->labels_of(version)) seen.holders[std::move(label)] = version.id;
      }
      seen.run = secret->run();
      if (const auto& rules = secret->meta.rotation.rules; rules && secret->meta.rotation.enabled.value_or(false)) {
        seen.period = period_of(*rules);
      }
    });
    return seen;
  }

  // Whether Service::step() would run something: a rotation whose next step (or next attempt) is
  // due. Scheduled rotations never wait here: advancing the clock runs them when they come due.
  bool work_due(const std::vector<SecretView>& seen) {
    if (no_rotation_step_) return false;
    const auto now = sim_->service().clock().now();
    return std::any_of(seen.begin(), seen.end(), [&](const SecretView& secret) {
      using Phase = model::RotationRun::Phase;
      return secret.run && (secret.run->phase == Phase::kReady || secret.run->phase == Phase::kRetry) &&
             secret.run->due <= now;
    });
  }

  // --- steps ------------------------------------------------------------------------------------
  static Step step_of(Action action) {
    Step step;
    step.action = std::move(action);
    return step;
  }
  static Step call(std::string operation, json request) {
    Call made;
    made.operation = std::move(operation);
    made.request = std::move(request);
    return step_of(std::move(made));
  }
  static Step advance(Duration by) { return step_of(Advance{by}); }

  Step burst_step(std::size_t offset) {
    if (offset % kBurstAdvanceEvery == kBurstAdvanceEvery - 1) return advance(std::chrono::hours(25));
    if (view(burst_secret_).deleted) return call("RestoreSecret", {{"SecretId", burst_secret_}});
    return call("PutSecretValue", {{"SecretId", burst_secret_}, {"ClientRequestToken", token()},
                                   {"SecretString", value()}});
  }

  Step next_step() {
    for (const auto site : kSites) {
      if (!fires(site)) continue;
      if (auto step = fault_step(site)) return std::move(*step);
    }
    return normal_step();
  }

  // The secret a step aims at: uniformly, or (prefer_rotating) one with a rotation in flight
  // when there is one.
  std::string target(bool prefer_rotating = false) {
    if (prefer_rotating) {
      std::vector<std::string> rotating;
      for (const auto& name : names_) {
        if (view(name).run) rotating.push_back(name);
      }
      if (!rotating.empty()) return rotating[targets_.below(rotating.size())];
    }
    return names_[targets_.below(names_.size())];
  }

  // A point of a rotation of `name`: its next step or a later one, before the function runs or
  // after one of its calls (with_call); now and then any secret's.
  Point point(const std::string& name, bool with_call) {
    Point at;
    at.secret = points_.one_in(8) ? std::string() : name;
    const auto seen = view(name);
    auto first = model::Step::kCreateSecret;
    if (seen.run) {
      const bool fresh = seen.run->phase == model::RotationRun::Phase::kReady ||
                         seen.run->phase == model::RotationRun::Phase::kRunning;
      first = fresh ? seen.run->step : seen.run->first_step();
    }
    const auto lowest = static_cast<std::int64_t>(first);
    at.step = static_cast<model::Step>(points_.pick(lowest, static_cast<std::int64_t>(model::Step::kFinishSecret) + 1));
    if (with_call) {
      const auto calls = calls_of(at.step);
      const auto& chosen = calls[points_.below(calls.size())];
      at.after_call = std::string(chosen.operation);
      at.occurrence = chosen.occurrence;
    }
    return at;
  }

  std::optional<Step> fault_step(std::string_view site) {
    if (site == "clock.jump") {
      // Across several (2 to 5) periods of the longest schedule a secret has; days without one.
      std::optional<Duration> period;
      for (const auto& name : names_) {
        if (const auto own = view(name).period; own && (!period || *own > *period)) period = own;
      }
      return advance(period.value_or(days(1)) * points_.pick(2, 6) + std::chrono::hours(points_.pick(0, 4)));
    }
    const auto name = target(/*prefer_rotating=*/true);
    if (site.starts_with("function.")) {
      Fault fault;
      if (site == "function.fail") {
        fault = {.kind = FaultKind::kFail, .at = point(name, false)};
      } else if (site == "function.timeout") {
        fault = {.kind = FaultKind::kTimeout, .at = point(name, false)};
      } else if (site == "function.crash") {
        fault = {.kind = FaultKind::kCrash, .at = point(name, true)};
      } else if (site == "function.duplicate") {
        fault = {.kind = FaultKind::kDuplicate, .at = point(name, points_.one_in(2))};
      } else {
        fault = {.kind = FaultKind::kReinvoke, .at = point(name, false)};
      }
      return step_of(ArmFault{std::move(fault)});
    }
    if (pending_during_ || filler_only_) return std::nullopt;
    auto step = manual_call(site, name);
    // What the call will meet when its point comes is not known now: no expectations.
    step.expect = Expectation{};
    std::get<Call>(step.action).during = point(name, points_.one_in(2));
    pending_during_ = position_;
    return step;
  }

  // The call a manual.* site makes during a rotation of `name`.
  Step manual_call(std::string_view site, const std::string& name) {
    if (site == "manual.write") {
      json request{{"SecretId", name}, {"ClientRequestToken", token()}, {"SecretString", value()}};
      if (labels_.one_in(4)) request["VersionStages"] = json::array({labels_.one_in(2) ? "AWSPENDING" : "custom-a"});
      return call("PutSecretValue", std::move(request));
    }
    if (site == "manual.label_move") return label_move(name, view(name));
    if (site == "manual.cancel") return call("CancelRotateSecret", {{"SecretId", name}});
    if (site == "manual.delete") return call("DeleteSecret", {{"SecretId", name}, {"RecoveryWindowInDays", 7}});
    return call("RestoreSecret", {{"SecretId", name}});
  }

  Step normal_step() {
    std::vector<SecretView> seen;
    for (const auto& name : names_) seen.push_back(view(name));
    const auto any = [&](auto&& predicate) { return std::any_of(seen.begin(), seen.end(), predicate); };
    const bool some_rotating = any([](const SecretView& s) { return s.run.has_value(); });
    const bool some_deleted = any([](const SecretView& s) { return s.deleted; });
    const bool some_gone = any([](const SecretView& s) { return !s.exists; });
    const bool some_strings = any([](const SecretView& s) { return !s.strings.empty(); });

    auto weights = kWeights;
    const auto off = [&](Kind kind) { weights[static_cast<std::size_t>(kind)] = 0; };
    if (!work_due(seen)) off(Kind::kRotationStep);
    if (!some_rotating) off(Kind::kRotateSameToken);
    if (!some_deleted) off(Kind::kRestore);
    if (!some_gone) off(Kind::kRecreate);
    if (!some_strings) off(Kind::kPutReplay);
    if (filler_only_) {
      for (std::size_t k = 0; k < weights.size(); ++k) {
        if (drives_functions(static_cast<Kind>(k))) weights[k] = 0;
      }
    }
    const auto kind = static_cast<Kind>(weighted(kinds_, weights));

    switch (kind) {
      case Kind::kPutDefault: {
        const auto name = target();
        return call("PutSecretValue", {{"SecretId", name}, {"ClientRequestToken", token()}, {"SecretString", value()}});
      }
      case Kind::kPutStages: {
        static constexpr std::string_view kStages[][2] = {{"AWSPENDING", ""},  {"AWSCURRENT", ""}, {"custom-a", ""},
                                                          {"AWSCURRENT", "custom-b"}, {"AWSPREVIOUS", ""}};
        const auto& stages = kStages[labels_.below(std::size(kStages))];
        json list = json::array({stages[0]});
        if (!stages[1].empty()) list.push_back(stages[1]);
        return call("PutSecretValue", {{"SecretId", target()}, {"ClientRequestToken", token()},
                                       {"SecretString", value()}, {"VersionStages", std::move(list)}});
      }
      case Kind::kPutReplay: {
        // The same token again: with the same value a no-op, with another a ResourceExistsException.
        std::vector<std::size_t> with_strings;
        for (std::size_t i = 0; i < seen.size(); ++i) {
          if (!seen[i].strings.empty()) with_strings.push_back(i);
        }
        const auto i = with_strings[targets_.below(with_strings.size())];
        auto version = seen[i].strings.begin();
        std::advance(version, static_cast<std::ptrdiff_t>(targets_.below(seen[i].strings.size())));
        return call("PutSecretValue", {{"SecretId", names_[i]}, {"ClientRequestToken", version->first},
                                       {"SecretString", values_.one_in(2) ? version->second : value()}});
      }
      case Kind::kLabel: {
        const auto name = target();
        return label_move(name, view(name));
      }
      case Kind::kRotate: return rotate(target());
      case Kind::kRotateSameToken: {
        // D12: the same token again, the re-attempt of a stuck rotation.
        const auto name = target(/*prefer_rotating=*/true);
        const auto run = view(name).run;
        return call("RotateSecret", {{"SecretId", name}, {"ClientRequestToken", run ? run->token : token()}});
      }
      case Kind::kRotationStep: return step_of(RotationStep{});
      case Kind::kRunUntilIdle: return step_of(RunUntilIdle{});
      case Kind::kAdvance: {
        // Small moves, and now and then past the retry delays (1 h, 2 h) or a day.
        switch (clock_.below(4)) {
          case 0: return advance(std::chrono::minutes(clock_.pick(1, 60)));
          case 1: return advance(std::chrono::hours(clock_.pick(1, 4)));
          case 2: return advance(std::chrono::hours(clock_.pick(4, 24)));
          default: return advance(days(1) + std::chrono::hours(clock_.pick(0, 3)));
        }
      }
      case Kind::kCancel: return call("CancelRotateSecret", {{"SecretId", target(/*prefer_rotating=*/true)}});
      case Kind::kDelete: {
        const auto name = target();
        if (targets_.one_in(8)) return call("DeleteSecret", {{"SecretId", name}, {"ForceDeleteWithoutRecovery", true}});
        return call("DeleteSecret", {{"SecretId", name}, {"RecoveryWindowInDays", targets_.pick(7, 31)}});
      }
      case Kind::kRestore: {
        std::vector<std::string> deleted;
        for (std::size_t i = 0; i < seen.size(); ++i) {
          if (seen[i].deleted) deleted.push_back(names_[i]);
        }
        return call("RestoreSecret", {{"SecretId", deleted[targets_.below(deleted.size())]}});
      }
      case Kind::kRecreate: {
        std::vector<std::string> gone;
        for (std::size_t i = 0; i < seen.size(); ++i) {
          if (!seen[i].exists) gone.push_back(names_[i]);
        }
        return call("CreateSecret", {{"Name", gone[targets_.below(gone.size())]}, {"ClientRequestToken", token()},
                                     {"SecretString", value()}});
      }
      case Kind::kRead: return read(target());
      case Kind::kMissing: {
        Step step = call("GetSecretValue", {{"SecretId", std::string(kMissingSecret)}});
        step.expect.ok = false;
        step.expect.error = "ResourceNotFoundException";
        return step;
      }
      case Kind::kCount: break;
    }
    return step_of(RunUntilIdle{});
  }

  // UpdateSecretVersionStage on `name`: a label moved to a version (from where it is, or with a
  // wrong or missing RemoveFromVersionId), or removed; now and then an unknown version (D7).
  Step label_move(const std::string& name, const SecretView& seen) {
    static constexpr std::string_view kLabels[] = {"AWSCURRENT", "AWSCURRENT", "AWSCURRENT", "AWSPREVIOUS",
                                                   "AWSPENDING", "custom-a",   "custom-b"};
    const std::string label(pick_of(labels_, kLabels));
    json request{{"SecretId", name}, {"VersionStage", label}};
    const auto holder = seen.holders.find(label);
    const bool held = holder != seen.holders.end();
    const bool remove = held && labels_.one_in(4);
    if (remove) {
      request["RemoveFromVersionId"] = holder->second;
      Step step = call("UpdateSecretVersionStage", std::move(request));
      // D6: AWSCURRENT cannot be removed without being moved.
      if (label == labels::kCurrent && seen.exists && !seen.deleted) {
        step.expect.ok = false;
        step.expect.error = "InvalidParameterException";
      }
      return step;
    }
    std::string to = seen.versions.empty() || labels_.one_in(20)
                         ? token()  // not a version of this secret (D7)
                         : seen.versions[labels_.below(seen.versions.size())];
    request["MoveToVersionId"] = to;
    if (held && !labels_.one_in(6)) {
      // Now and then a version that may not hold the label.
      const bool wrong = labels_.one_in(10) && !seen.versions.empty();
      request["RemoveFromVersionId"] = wrong ? seen.versions[labels_.below(seen.versions.size())] : holder->second;
    }
    return call("UpdateSecretVersionStage", std::move(request));
  }

  Step rotate(const std::string& name) {
    json request{{"SecretId", name}, {"ClientRequestToken", token()}};
    const auto seen = view(name);
    if (!seen.rotation_configured || !rules_.one_in(3)) {
      request["RotationLambdaARN"] = functions_[rules_.below(functions_.size())];
    }
    switch (rules_.below(6)) {
      case 0: request["RotationRules"] = {{"AutomaticallyAfterDays", rules_.pick(1, 4)}}; break;
      case 1: request["RotationRules"] = {{"ScheduleExpression", "rate(4 hours)"}}; break;
      case 2: request["RotationRules"] = {{"ScheduleExpression", "rate(1 day)"}}; break;
      case 3: request["RotationRules"] = {{"ScheduleExpression", "cron(0 8 * * ? *)"}}; break;
      default: break;  // the schedule it has, if any
    }
    if (rules_.one_in(6)) request["RotateImmediately"] = false;
    return call("RotateSecret", std::move(request));
  }

  Step read(const std::string& name) {
    switch (targets_.below(4)) {
      case 0: {
        static constexpr std::string_view kStages[] = {"AWSCURRENT", "AWSPREVIOUS", "AWSPENDING", "custom-a"};
        return call("GetSecretValue", {{"SecretId", name}, {"VersionStage", pick_of(targets_, kStages)}});
      }
      case 1: {
        const auto seen = view(name);
        if (seen.versions.empty()) return call("GetSecretValue", {{"SecretId", name}});
        return call("GetSecretValue", {{"SecretId", name},
                                       {"VersionId", seen.versions[targets_.below(seen.versions.size())]}});
      }
      case 2: {
        Step step = call("DescribeSecret", {{"SecretId", name}});
        if (view(name).exists) step.expect.ok = true;  // a secret in its recovery window too
        return step;
      }
      default:
        return call("ListSecretVersionIds", {{"SecretId", name}, {"IncludeDeprecated", targets_.one_in(2)}});
    }
  }

  std::uint64_t seed_;
  GeneratorOptions options_;
  FaultPlan plan_;
  SeededRandom root_;
  SeededRandom setup_random_, tokens_, values_, kinds_, targets_, labels_, rules_, clock_, points_, burst_;
  std::map<std::string, SeededRandom, std::less<>> fire_;

  std::string region_;
  std::vector<std::string> names_;
  std::vector<std::string> functions_;
  std::optional<Runner> sim_;
  std::optional<std::size_t> burst_start_;
  std::string burst_secret_;
  std::optional<std::size_t> pending_during_;  // index of the `during` call that has not run yet
  bool filler_only_ = false;
  bool no_rotation_step_ = false;  // the last rotation step drawn here found nothing to run
  std::size_t position_ = 0;  // index of the step being drawn
};

}  // namespace

FaultPlan draw_fault_plan(std::uint64_t seed) {
  auto random = SeededRandom(seed).split("fault_plan");
  FaultPlan plan;
  for (const auto site : kSites) {
    // Both draws happen for every site, so that one site's switch leaves the others' draws alone.
    const bool on = random.one_in(kSiteOdds);
    const auto rate = kRates[random.below(kRates.size())];
    if (on) plan.rates.emplace(std::string(site), rate);
  }
  return plan;
}

Scenario random_scenario(std::uint64_t seed, const GeneratorOptions& options) {
  return Generator(seed, options).generate();
}

}  // namespace smemu::scenarios
