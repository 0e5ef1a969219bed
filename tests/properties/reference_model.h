// Reference: a deliberately naive model of what Secrets Manager answers, written from the spec
// sheet (../shared/spec/aws-semantics.md sections 4 and 5, decisions D1, D3, D6-D8, D12, D15-D17)
// and the invariants, for the property tests to hold smemu against. It shares no code with
// model/ or emulator/ (testing smemu against itself would prove nothing): a secret is a vector of
// versions, each with an id, a value and a set of labels, and every rule is a few lines that read
// like the sentence they come from.
//
// It answers only what the tests generate. Where the spec is silent the generators do not go,
// and each command's preconditions (commands.h) say so; the questions below (`*_is_specified`)
// are how they ask. The rotation function it knows is builtin:template (spec 5.3 step 4), with
// or without removing AWSPENDING in finishSecret, and the faults a scenario can arm (fail,
// timeout, crash at a point of a step).
//
// Thread-safety: a plain value.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace smemu::properties {

// Time: milliseconds since the scenario started (the virtual clock never moves on its own, D16).
using Millis = std::int64_t;
inline constexpr Millis kSecond = 1000;
inline constexpr Millis kMinute = 60 * kSecond;
inline constexpr Millis kHour = 60 * kMinute;
inline constexpr Millis kDay = 24 * kHour;

inline constexpr std::string_view kCurrent = "AWSCURRENT";
inline constexpr std::string_view kPending = "AWSPENDING";
inline constexpr std::string_view kPrevious = "AWSPREVIOUS";

inline constexpr std::size_t kMaxVersions = 100;       // D8
inline constexpr Millis kPurgeAge = kDay;              // D8: younger deprecated versions stay
inline constexpr Millis kFunctionTimeout = 30 * kSecond;  // D16's default; a timed-out step used it all
inline constexpr Millis kRetryDelays[] = {kHour, 2 * kHour};  // D1: attempts 2 and 3

// The four steps of a rotation, in order (spec 5.3).
enum class RotationStepName : std::uint8_t { kCreateSecret, kSetSecret, kTestSecret, kFinishSecret };
enum class StepOutcome : std::uint8_t { kOk, kError, kTimeout };
enum class FaultType : std::uint8_t { kFail, kTimeout, kCrash };

// A one-shot fault armed on a secret: it fires at the next step `step` of that secret's rotation,
// before the function runs (no after_call) or right after its `occurrence`-th `after_call`.
struct ArmedFault {
  FaultType type = FaultType::kFail;
  RotationStepName step = RotationStepName::kCreateSecret;
  std::optional<std::string> after_call;
  int occurrence = 1;
};

struct Version {
  enum class Value : std::uint8_t {
    kNone,       // a rotation placeholder: no value yet (spec 5.3 step 1)
    kKnown,      // written by the test: `value`
    kGenerated,  // the rotation function's password: the reference does not know it
  };
  std::string id;
  Value value_state = Value::kNone;
  std::string value;
  std::set<std::string> labels;
  Millis created = 0;

  bool has_value() const { return value_state != Value::kNone; }
  bool has(std::string_view label) const { return labels.count(std::string(label)) > 0; }
};

// A rotation in flight (spec 5.3, D1): the step due next, or waiting to retry, or stuck.
struct Rotation {
  enum class Phase : std::uint8_t { kReady, kRetry, kStuck };
  std::string token;
  std::string function;
  Phase phase = Phase::kReady;
  RotationStepName step = RotationStepName::kCreateSecret;
  int attempt = 1;           // the attempt under way; a retry starts attempt + 1
  Millis due = 0;
  std::uint64_t queued = 0;  // issue order, for ties (D16)
};

struct SecretState {
  std::vector<Version> versions;     // in creation order
  std::optional<std::string> function;  // the stored RotationLambdaARN
  std::optional<Rotation> rotation;
  std::optional<ArmedFault> fault;

  const Version* find(std::string_view id) const;
  Version* find(std::string_view id);
  const Version* holder(std::string_view label) const;
  Version* holder(std::string_view label);
  // A label is on at most one version (spec 4.1): attaching takes it off any other.
  void attach(std::string_view label, Version& version);
  void detach(std::string_view label);
};

// What the service answers to a call. Members the reference cannot know stay empty and are not
// compared.
struct Answer {
  std::optional<std::string> error{};  // the exception name; nullopt: success
  std::optional<std::string> name{};
  std::optional<std::string> version_id{};
  bool no_version_id = false;        // the response has no VersionId (CreateSecret without a value)
  std::optional<std::set<std::string>> stages{};  // VersionStages, as a set (their order is not specified)
  std::optional<std::string> value{};  // SecretString
  struct Listed {
    std::string id;
    std::optional<std::set<std::string>> stages{};  // absent for a deprecated version (spec 3.8)
    bool operator<(const Listed& other) const { return id < other.id; }
    bool operator==(const Listed&) const = default;
  };
  std::optional<std::set<Listed>> versions{};  // ListSecretVersionIds, as a set (the order is not specified)

  static Answer failure(std::string_view error_name) { return Answer{.error = std::string(error_name)}; }
};

// What one rotation step did (Service::step()).
struct StepDone {
  std::string secret;
  RotationStepName step = RotationStepName::kCreateSecret;
  StepOutcome outcome = StepOutcome::kOk;
};

class Reference {
 public:
  // `functions`: the registered rotation functions, by ARN, each builtin:template with or without
  // remove_pending.
  explicit Reference(std::map<std::string, bool> functions) : functions_(std::move(functions)) {}

  // --- the operations ------------------------------------------------------------------------
  Answer create_secret(const std::string& name, const std::string& token, const std::optional<std::string>& value);
  Answer put_secret_value(const std::string& name, const std::string& token, const std::string& value,
                          const std::optional<std::vector<std::string>>& stages);
  Answer update_secret_version_stage(const std::string& name, const std::string& label,
                                     const std::optional<std::string>& remove_from,
                                     const std::optional<std::string>& move_to);
  Answer get_secret_value(const std::string& name, const std::optional<std::string>& version_id,
                          const std::optional<std::string>& stage);
  Answer list_secret_version_ids(const std::string& name, bool include_deprecated);
  Answer rotate_secret(const std::string& name, const std::string& token, const std::optional<std::string>& function);
  // One Service::step(): the earliest due step. REQUIRES: one_step_due().
  StepDone rotation_step();
  void run_until_idle();
  void advance(Millis by);
  void arm_fault(const std::string& name, ArmedFault fault);

  // --- where the reference has an answer (the commands' preconditions) -----------------------
  bool create_is_specified(const std::string& name, const std::string& token,
                           const std::optional<std::string>& value) const;
  bool put_is_specified(const std::string& name, const std::string& token,
                        const std::optional<std::vector<std::string>>& stages) const;
  bool stage_update_is_specified(const std::string& name, const std::string& label,
                                 const std::optional<std::string>& remove_from,
                                 const std::optional<std::string>& move_to) const;
  bool get_is_specified(const std::string& name, const std::optional<std::string>& version_id,
                        const std::optional<std::string>& stage) const;
  bool rotate_is_specified(const std::string& name, const std::string& token) const;
  // Exactly one secret has a rotation step due now (which of two due at once runs first is the
  // engine's queue order, not compared).
  bool one_step_due() const;

  const std::map<std::string, SecretState>& secrets() const { return secrets_; }
  const SecretState* secret(const std::string& name) const;
  Millis now() const { return now_; }
  // Tokens the generators have minted so far (each command mints from this counter).
  std::uint64_t minted() const { return minted_; }
  void note_minted(std::uint64_t number) { minted_ = std::max(minted_, number + 1); }

 private:
  SecretState* find_secret(const std::string& name);
  // D8: room for one more version by purging deprecated versions older than a day, oldest first;
  // false (nothing purged) when there is none to purge.
  bool make_room(SecretState& secret);
  // Invariant 9 / spec 4.3 rule 2: a rotation whose version lost AWSPENDING has ended.
  static void end_rotation_without_pending(SecretState& secret);
  void queue(Rotation& rotation, Millis due);
  // The due rotation with the earliest (due, issue order) at or before `until`.
  std::string earliest_due(Millis until) const;
  StepDone execute_step(const std::string& name, SecretState& secret);
  // builtin:template's step (spec 5.3 step 4) with the armed fault; the outcome and the time used.
  std::pair<StepOutcome, Millis> run_function(SecretState& secret, Rotation& rotation, RotationStepName step);

  std::map<std::string, bool> functions_;
  std::map<std::string, SecretState> secrets_;
  Millis now_ = 0;
  std::uint64_t next_queued_ = 0;
  std::uint64_t minted_ = 0;
};

std::string_view step_name(RotationStepName step);

}  // namespace smemu::properties
