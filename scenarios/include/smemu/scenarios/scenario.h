// Scenario: a replayable script for the emulator (docs/scenarios.md is the file format).
//
// A scenario file is JSON with a "version" (kFormatVersion), a setup (seed, region, clock,
// rotation functions, secrets to create) and steps. A step is one action — any operation with
// its request, a clock advance, one rotation step of the engine, running everything due, or
// arming a fault — with the expectations checked after it (labels per version, values, the
// call's error or response, the service events it caused, what a rotation step did).
//
// Tokens can be pinned in the file (ClientRequestToken in a request). Where the file leaves one
// out, the runner fills it from the service's token stream; every source of randomness (tokens,
// ARN suffixes, passwords, schedule hours, fault draws) has its own seeded stream, so adding a
// step changes only the draws of its own stream.
//
// Thread-safety: plain values and pure functions.
// Errors: parse_scenario and load_scenario answer InvalidParameterException whose message names
// the place in the file ("steps[3].advance: ...") and what is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "smemu/model/result.h"
#include "smemu/model/rotation.h"
#include "smemu/model/time.h"

namespace smemu::scenarios {

inline constexpr int kFormatVersion = 1;

struct FunctionSetup {
  std::string arn;   // the Lambda ARN RotateSecret names
  std::string spec;  // builtin:NAME[?options] (function_spec.h)
  bool operator==(const FunctionSetup&) const = default;
};

struct Setup {
  std::uint64_t seed = 0;
  std::string region = "us-east-1";
  std::optional<Timestamp> clock;              // "clock": ISO-8601; default 2026-01-01T00:00:00Z
  std::vector<FunctionSetup> functions;
  std::vector<nlohmann::json> secrets;         // CreateSecret requests, run before step 1
  bool test_plant_bug = false;                 // ServiceOptions::test_plant_bug (tests only)
  bool operator==(const Setup&) const = default;
};

// A moment inside a rotation function's step: the step `step` of `secret`'s rotation, before
// the function runs (no after_call) or right after its `occurrence`-th call of `after_call`
// within that step (e.g. after its PutSecretValue in createSecret; between the two
// UpdateSecretVersionStage calls of finishSecret with occurrence 1).
struct Point {
  std::string secret;                      // as the scenario names it; empty: any secret
  model::Step step = model::Step::kCreateSecret;
  std::optional<std::string> after_call;   // an operation name
  std::uint32_t occurrence = 1;
  bool operator==(const Point&) const = default;
};

enum class FaultKind : std::uint8_t {
  kFail,       // "fail": the step fails without the function running
  kTimeout,    // "timeout": the step times out without the function running
  kCrash,      // "crash": the function stops at the point; its calls so far stand; the step fails
  kDuplicate,  // "duplicate": a second invocation of the same step runs at the point, inside the
               // first (Lambda's at-least-once delivery)
  kReinvoke,   // "reinvoke": the step is invoked again right after it succeeded
};
std::string_view fault_kind_name(FaultKind kind);

// A one-shot fault: armed by a step, it fires at the next matching point and is then spent.
struct Fault {
  FaultKind kind = FaultKind::kFail;
  Point at;
  bool operator==(const Fault&) const = default;
};

// "call": any of the 23 operations with its request in the AWS shapes. With `during`, the call
// is not made at once but when a rotation reaches that point (a manual write or a label move
// during a rotation; a second caller on the same secret); its expectations are checked then,
// and the step is unmet if the point never comes within the scenario.
struct Call {
  std::string operation;
  nlohmann::json request = nlohmann::json::object();
  std::optional<Point> during;
  bool operator==(const Call&) const = default;
};
struct Advance {            // "advance": "30d" | "90m" | seconds as a number (durations: s m h d)
  Duration by{};
  bool operator==(const Advance&) const = default;
};
struct RotationStep {       // "rotation_step": one Service::step() (nothing due is unmet)
  bool operator==(const RotationStep&) const = default;
};
struct RunUntilIdle {       // "run_until_idle": Service::run_until_idle()
  bool operator==(const RunUntilIdle&) const = default;
};
struct ArmFault {           // "fault": {...}
  Fault fault;
  bool operator==(const ArmFault&) const = default;
};
using Action = std::variant<Call, Advance, RotationStep, RunUntilIdle, ArmFault>;

// Version id -> its labels, sorted; every version that carries a label, and only those.
using LabelTable = std::map<std::string, std::vector<std::string>>;

struct RotationExpect {     // what a rotation_step did (Service::step's StepReport)
  std::optional<model::Step> step;
  std::optional<model::Outcome> outcome;
  bool operator==(const RotationExpect&) const = default;
};

// Checked after the step; every member is optional.
struct Expectation {
  std::optional<bool> ok;                        // the call succeeded (true) or failed (false)
  std::optional<std::string> error;              // the call's exception name, e.g. "ResourceNotFoundException"
  std::optional<nlohmann::json> response;        // members the call's response must have, with these values
  std::map<std::string, LabelTable> labels;      // secret -> its labels, exactly
  std::map<std::string, std::map<std::string, std::string>> values;  // secret -> label -> SecretString
  std::optional<std::vector<std::string>> events;  // names of the non-API-call events the step appended, in order
  std::optional<RotationExpect> rotation;
  bool operator==(const Expectation&) const = default;
};

struct Step {
  Action action;
  Expectation expect;
  std::string note;  // "note": shown with the step (and in smemu walk)
  bool operator==(const Step&) const = default;
};

struct Scenario {
  int version = kFormatVersion;
  std::string name;
  std::string description;
  Setup setup;
  std::vector<Step> steps;
  bool operator==(const Scenario&) const = default;
};

Result<Scenario> parse_scenario(const nlohmann::json& file);
Result<Scenario> load_scenario(const std::string& path);
// The file's JSON: parse_scenario(to_json(s)) == s for every scenario.
nlohmann::json to_json(const Scenario& scenario);
Status save_scenario(const Scenario& scenario, const std::string& path);

// "30d", "12h", "90m", "45s" (or a bare number of seconds) -> a duration; nullopt otherwise.
std::optional<Duration> parse_duration(std::string_view text);
// A one-line description of a step for tables and messages: "PutSecretValue Name=app/db",
// "advance 30d", "rotation step", "fault crash at finishSecret after UpdateSecretVersionStage".
std::string describe(const Step& step);

}  // namespace smemu::scenarios
