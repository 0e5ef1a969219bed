// The reference model's rules, each next to the sentence of the spec it implements.
#include "reference_model.h"

#include <algorithm>
#include <utility>

namespace smemu::properties {
namespace {

constexpr std::string_view kNotFound = "ResourceNotFoundException";
constexpr std::string_view kExists = "ResourceExistsException";
constexpr std::string_view kInvalidParameter = "InvalidParameterException";
constexpr std::string_view kInvalidRequest = "InvalidRequestException";
constexpr std::string_view kAccessDenied = "AccessDeniedException";
constexpr std::string_view kLimitExceeded = "LimitExceededException";

constexpr int kMaxAttempts = 1 + static_cast<int>(std::size(kRetryDelays));

bool listed(const std::optional<std::vector<std::string>>& stages, std::string_view label) {
  return stages && std::find(stages->begin(), stages->end(), label) != stages->end();
}

RotationStepName next_step(RotationStepName step) {
  return static_cast<RotationStepName>(static_cast<int>(step) + 1);
}

}  // namespace

std::string_view step_name(RotationStepName step) {
  switch (step) {
    case RotationStepName::kCreateSecret: return "createSecret";
    case RotationStepName::kSetSecret: return "setSecret";
    case RotationStepName::kTestSecret: return "testSecret";
    case RotationStepName::kFinishSecret: return "finishSecret";
  }
  return "createSecret";
}

// --- SecretState ------------------------------------------------------------------------------

const Version* SecretState::find(std::string_view id) const {
  for (const auto& version : versions) {
    if (version.id == id) return &version;
  }
  return nullptr;
}

Version* SecretState::find(std::string_view id) {
  return const_cast<Version*>(std::as_const(*this).find(id));
}

const Version* SecretState::holder(std::string_view label) const {
  for (const auto& version : versions) {
    if (version.has(label)) return &version;
  }
  return nullptr;
}

Version* SecretState::holder(std::string_view label) {
  return const_cast<Version*>(std::as_const(*this).holder(label));
}

void SecretState::attach(std::string_view label, Version& version) {
  detach(label);
  version.labels.insert(std::string(label));
}

void SecretState::detach(std::string_view label) {
  for (auto& version : versions) version.labels.erase(std::string(label));
}

// --- preconditions: where the spec gives an answer ------------------------------------------

const SecretState* Reference::secret(const std::string& name) const {
  const auto found = secrets_.find(name);
  return found == secrets_.end() ? nullptr : &found->second;
}

SecretState* Reference::find_secret(const std::string& name) {
  const auto found = secrets_.find(name);
  return found == secrets_.end() ? nullptr : &found->second;
}

bool Reference::create_is_specified(const std::string& name, const std::string& token,
                                    const std::optional<std::string>& value) const {
  const auto* secret = this->secret(name);
  if (!secret) return true;
  // Spec 4.2: a token that is no version of the existing secret is ResourceExistsException; the
  // same token and value as an existing version is ignored. Other mixes are not recorded.
  const auto* version = secret->find(token);
  if (!version) return true;
  return value && version->value_state == Version::Value::kKnown && version->value == *value;
}

bool Reference::put_is_specified(const std::string& name, const std::string& token,
                                 const std::optional<std::vector<std::string>>& stages) const {
  const auto* secret = this->secret(name);
  if (!secret) return true;
  // Rule 3 says nothing of a write listing AWSCURRENT and AWSPREVIOUS together, or a label twice.
  if (listed(stages, kCurrent) && listed(stages, kPrevious)) return false;
  if (stages && std::set<std::string>(stages->begin(), stages->end()).size() != stages->size()) return false;
  const auto* version = secret->find(token);
  if (version && !version->has_value()) {
    // Filling a rotation placeholder (spec 4.2) is recorded as the function's createSecret does
    // it: AWSPENDING listed, or a default write; and on a secret that has a current version
    // (whether D3 applies to a placeholder of an empty secret is not said).
    if (!secret->holder(kCurrent)) return false;
    if (stages && !listed(stages, kPending)) return false;
  }
  if (!version && secret->versions.size() >= kMaxVersions) {
    // D8 says "older than 24 h": a version exactly a day old is on the edge.
    for (const auto& old : secret->versions) {
      if (old.labels.empty() && now_ - old.created == kPurgeAge) return false;
    }
  }
  return true;
}

bool Reference::stage_update_is_specified(const std::string& name, const std::string& label,
                                          const std::optional<std::string>& remove_from,
                                          const std::optional<std::string>& move_to) const {
  if (!remove_from && !move_to) return false;
  const auto* secret = this->secret(name);
  if (!secret || !move_to || label != kCurrent) return true;
  // AWSCURRENT onto a version without a value (a placeholder) is not in the spec.
  const auto* target = secret->find(*move_to);
  return !target || target->has_value();
}

bool Reference::get_is_specified(const std::string& name, const std::optional<std::string>& version_id,
                                 const std::optional<std::string>& stage) const {
  const auto* secret = this->secret(name);
  if (!secret || !version_id) return true;
  const auto* version = secret->find(*version_id);
  // An unknown VersionId together with a stage: which error comes first is not said.
  if (!version) return !stage;
  // Whether a deprecated version can still be read by id is unconfirmed (spec 4.5).
  return !version->labels.empty();
}

bool Reference::rotate_is_specified(const std::string& name, const std::string& token) const {
  const auto* secret = this->secret(name);
  if (!secret) return true;
  // The placeholder at the version quota: whether 5.2's checks or D8 answer first is not said.
  if (secret->versions.size() >= kMaxVersions) return false;
  // D12 covers the same token while that rotation is stuck; a token of another version is not said.
  if (secret->rotation && secret->rotation->token == token) return secret->rotation->phase == Rotation::Phase::kStuck;
  return secret->find(token) == nullptr;
}

bool Reference::one_step_due() const {
  std::size_t due = 0;
  for (const auto& [name, secret] : secrets_) {
    const auto& rotation = secret.rotation;
    if (rotation && rotation->phase != Rotation::Phase::kStuck && rotation->due <= now_) ++due;
  }
  return due == 1;
}

// --- the operations ----------------------------------------------------------------------------

Answer Reference::create_secret(const std::string& name, const std::string& token,
                                const std::optional<std::string>& value) {
  if (const auto* existing = secret(name)) {
    // Spec 4.2: the same token and value again is ignored; anything else on an existing name is
    // ResourceExistsException.
    const auto* version = existing->find(token);
    if (value && version && version->value_state == Version::Value::kKnown && version->value == *value) {
      return Answer{.name = name};
    }
    return Answer::failure(kExists);
  }
  SecretState created;
  // Spec 3.1: a value makes the first version, with AWSCURRENT, its id the token.
  if (value) created.versions.push_back(Version{token, Version::Value::kKnown, *value, {std::string(kCurrent)}, now_});
  secrets_.emplace(name, std::move(created));
  Answer answer{.name = name};
  if (value) {
    answer.version_id = token;
  } else {
    answer.no_version_id = true;
  }
  return answer;
}

Answer Reference::put_secret_value(const std::string& name, const std::string& token, const std::string& value,
                                   const std::optional<std::vector<std::string>>& stages) {
  auto* secret = find_secret(name);
  if (!secret) return Answer::failure(kNotFound);
  if (const auto* version = secret->find(token); version && version->has_value()) {
    // Spec 4.2: the same token with the same value succeeds and does nothing; with another value
    // (a generated password is never one of the test's values) it is ResourceExistsException.
    if (version->value_state == Version::Value::kKnown && version->value == value) {
      return Answer{.name = name, .version_id = token};
    }
    return Answer::failure(kExists);
  }
  if (!secret->find(token)) {
    // D8: at the quota, purge or refuse (nothing changes).
    if (secret->versions.size() >= kMaxVersions && !make_room(*secret)) return Answer::failure(kLimitExceeded);
    secret->versions.push_back(Version{token, Version::Value::kNone, {}, {}, now_});
  }
  // A new version, or the rotation placeholder with that id receiving its value (spec 4.2).
  Version& written = *secret->find(token);
  written.value_state = Version::Value::kKnown;
  written.value = value;

  if (!stages) {
    // Rule 2: a default write removes an outstanding AWSPENDING. Rule 1: the new version gets
    // AWSCURRENT, and the version that had it gets AWSPREVIOUS (taking it from its holder).
    secret->detach(kPending);
    if (auto* current = secret->holder(kCurrent); current && current != &written) secret->attach(kPrevious, *current);
    secret->attach(kCurrent, written);
  } else {
    // Rule 3: exactly the listed labels are attached, each taken off any other version; AWSCURRENT
    // moves only when listed, and then the version it left gets AWSPREVIOUS. D3: on a secret with
    // no AWSCURRENT yet, AWSCURRENT is attached as well.
    std::set<std::string> labels(stages->begin(), stages->end());
    if (!secret->holder(kCurrent)) labels.insert(std::string(kCurrent));
    if (auto* current = secret->holder(kCurrent); labels.count(std::string(kCurrent)) && current && current != &written) {
      secret->attach(kPrevious, *current);
    }
    for (const auto& label : labels) secret->attach(label, written);
  }
  Answer answer{.name = name, .version_id = token, .stages = written.labels};
  end_rotation_without_pending(*secret);
  return answer;
}

Answer Reference::update_secret_version_stage(const std::string& name, const std::string& label,
                                              const std::optional<std::string>& remove_from,
                                              const std::optional<std::string>& move_to) {
  auto* secret = find_secret(name);
  if (!secret) return Answer::failure(kNotFound);
  // D7: an unknown version id.
  Version* to = move_to ? secret->find(*move_to) : nullptr;
  Version* from = remove_from ? secret->find(*remove_from) : nullptr;
  if ((move_to && !to) || (remove_from && !from)) return Answer::failure(kInvalidParameter);
  Version* held = secret->holder(label);
  if (!to) {
    // Removing: the label must be on that version (spec 10 #16); never AWSCURRENT (D6).
    if (held != from || label == kCurrent) return Answer::failure(kInvalidParameter);
    secret->detach(label);
  } else {
    // Spec 4.4: a label held elsewhere moves only with RemoveFromVersionId naming its holder; a
    // RemoveFromVersionId given must name the holder. D17: an unheld AWSCURRENT needs none.
    if (held && held != to && from != held) return Answer::failure(kInvalidParameter);
    if (from && from != held) return Answer::failure(kInvalidParameter);
    // Spec 4.4: moving AWSCURRENT puts AWSPREVIOUS on the version it left.
    if (label == kCurrent && held && held != to) secret->attach(kPrevious, *held);
    secret->attach(label, *to);
  }
  end_rotation_without_pending(*secret);
  return Answer{.name = name};
}

Answer Reference::get_secret_value(const std::string& name, const std::optional<std::string>& version_id,
                                   const std::optional<std::string>& stage) {
  const auto* secret = this->secret(name);
  if (!secret) return Answer::failure(kNotFound);
  const Version* version = nullptr;
  if (version_id) {
    // Spec 10 #5 and #6: an unknown id; an id and a stage naming different versions.
    version = secret->find(*version_id);
    if (!version) return Answer::failure(kNotFound);
    if (stage && secret->holder(*stage) != version) return Answer::failure(kInvalidRequest);
  } else {
    // Spec 3.5: AWSCURRENT unless a stage is named; 10 #4: no version holds it.
    version = secret->holder(stage ? std::string_view(*stage) : kCurrent);
    if (!version) return Answer::failure(kNotFound);
  }
  // Spec 5.3 step 1: a placeholder has no value to read yet.
  if (!version->has_value()) return Answer::failure(kNotFound);
  Answer answer{.name = name, .version_id = version->id, .stages = version->labels};
  if (version->value_state == Version::Value::kKnown) answer.value = version->value;
  return answer;
}

Answer Reference::list_secret_version_ids(const std::string& name, bool include_deprecated) {
  const auto* secret = this->secret(name);
  if (!secret) return Answer::failure(kNotFound);
  // Spec 4.1 and 3.8: versions without labels are deprecated, listed only with IncludeDeprecated
  // and then without VersionStages.
  std::set<Answer::Listed> versions;
  for (const auto& version : secret->versions) {
    if (version.labels.empty() && !include_deprecated) continue;
    versions.insert(Answer::Listed{version.id, version.labels.empty() ? std::nullopt
                                                                      : std::optional(version.labels)});
  }
  return Answer{.name = name, .versions = std::move(versions)};
}

Answer Reference::rotate_secret(const std::string& name, const std::string& token,
                                const std::optional<std::string>& function) {
  auto* secret = find_secret(name);
  if (!secret) return Answer::failure(kNotFound);
  // Spec 5.2 in order: 5. a function ARN, given or stored; 6. one the service can invoke.
  const auto chosen = function && !function->empty() ? function : secret->function;
  if (!chosen) return Answer::failure(kInvalidRequest);
  if (!functions_.count(*chosen)) return Answer::failure(kAccessDenied);
  if (secret->rotation && secret->rotation->token == token) {
    // D12: the same token while that rotation is stuck starts it again, from its first step.
    secret->function = chosen;
    auto& rotation = *secret->rotation;
    rotation.function = *chosen;
    rotation.phase = Rotation::Phase::kReady;
    rotation.step = RotationStepName::kCreateSecret;
    rotation.attempt = 1;
    queue(rotation, now_);
    return Answer{.name = name, .version_id = token};
  }
  // 7. refused exactly when AWSPENDING is on a version other than AWSCURRENT's.
  const auto* pending = secret->holder(kPending);
  if (pending && pending != secret->holder(kCurrent)) return Answer::failure(kInvalidRequest);
  // 8. and 5.3 step 1: the configuration is stored; a placeholder version, the token as its id,
  // holds AWSPENDING and no value; the rotation starts now (D17: even with no AWSCURRENT).
  secret->function = chosen;
  secret->versions.push_back(Version{token, Version::Value::kNone, {}, {}, now_});
  secret->attach(kPending, secret->versions.back());
  secret->rotation = Rotation{token, *chosen, Rotation::Phase::kReady, RotationStepName::kCreateSecret, 1, now_, 0};
  queue(*secret->rotation, now_);
  return Answer{.name = name, .version_id = token};
}

void Reference::arm_fault(const std::string& name, ArmedFault fault) { secrets_[name].fault = std::move(fault); }

// --- rotations --------------------------------------------------------------------------------

bool Reference::make_room(SecretState& secret) {
  const std::size_t needed = secret.versions.size() + 1 - kMaxVersions;
  std::vector<std::string> purge;
  for (const auto& version : secret.versions) {
    if (purge.size() < needed && version.labels.empty() && now_ - version.created > kPurgeAge) {
      purge.push_back(version.id);
    }
  }
  if (purge.size() < needed) return false;
  std::erase_if(secret.versions, [&](const Version& version) {
    return std::find(purge.begin(), purge.end(), version.id) != purge.end();
  });
  return true;
}

void Reference::end_rotation_without_pending(SecretState& secret) {
  if (!secret.rotation) return;
  const auto* version = secret.find(secret.rotation->token);
  if (!version || !version->has(kPending)) secret.rotation.reset();
}

void Reference::queue(Rotation& rotation, Millis due) {
  rotation.due = due;
  rotation.queued = next_queued_++;
}

std::string Reference::earliest_due(Millis until) const {
  std::string earliest;
  const Rotation* best = nullptr;
  for (const auto& [name, secret] : secrets_) {
    const auto& rotation = secret.rotation;
    if (!rotation || rotation->phase == Rotation::Phase::kStuck || rotation->due > until) continue;
    if (!best || std::pair(rotation->due, rotation->queued) < std::pair(best->due, best->queued)) {
      best = &*rotation;
      earliest = name;
    }
  }
  return earliest;
}

StepDone Reference::rotation_step() {
  const auto name = earliest_due(now_);
  return execute_step(name, secrets_.at(name));
}

void Reference::run_until_idle() {
  for (auto name = earliest_due(now_); !name.empty(); name = earliest_due(now_)) execute_step(name, secrets_.at(name));
}

void Reference::advance(Millis by) {
  // D16: everything that comes due on the way runs at its due time, in due order.
  const Millis target = now_ + by;
  for (auto name = earliest_due(target); !name.empty(); name = earliest_due(target)) {
    auto& secret = secrets_.at(name);
    now_ = std::max(now_, secret.rotation->due);
    execute_step(name, secret);
  }
  now_ = target;
}

StepDone Reference::execute_step(const std::string& name, SecretState& secret) {
  auto& rotation = *secret.rotation;
  const auto step = rotation.step;
  const auto [outcome, used] = run_function(secret, rotation, step);
  const Millis finished = now_ + used;
  StepDone done{name, step, outcome};

  const auto* version = secret.find(rotation.token);
  bool failed = outcome != StepOutcome::kOk;
  // D15: after createSecret the token's version holds a value and AWSPENDING; after finishSecret
  // it holds AWSCURRENT, and the rotation has succeeded.
  if (!failed && step == RotationStepName::kCreateSecret) failed = !(version->has_value() && version->has(kPending));
  if (!failed && step == RotationStepName::kFinishSecret) {
    if (version->has(kCurrent)) {
      secret.rotation.reset();
      return done;
    }
    failed = true;
  }
  if (!failed) {
    rotation.step = next_step(step);
    queue(rotation, finished);
  } else if (rotation.attempt < kMaxAttempts) {
    // D1: the whole rotation again with the same token, 1 h and then 2 h after a failed attempt.
    const Millis delay = kRetryDelays[rotation.attempt - 1];
    rotation.phase = Rotation::Phase::kRetry;
    rotation.step = RotationStepName::kCreateSecret;
    ++rotation.attempt;
    queue(rotation, finished + delay);
  } else {
    rotation.phase = Rotation::Phase::kStuck;
  }
  // A function that removed AWSPENDING and then failed (a crash at the end of finishSecret)
  // leaves no rotation in flight: it names a version with AWSPENDING, or AWSCURRENT only while
  // its finishSecret runs (the invariant 9).
  end_rotation_without_pending(secret);
  return done;
}

std::pair<StepOutcome, Millis> Reference::run_function(SecretState& secret, Rotation& rotation,
                                                       RotationStepName step) {
  constexpr std::pair kOk{StepOutcome::kOk, Millis{0}};
  constexpr std::pair kFailed{StepOutcome::kError, Millis{0}};
  // A fault at the start of the step: the function does not run.
  if (secret.fault && secret.fault->step == step && !secret.fault->after_call) {
    const auto type = secret.fault->type;
    secret.fault.reset();
    if (type == FaultType::kTimeout) return {StepOutcome::kTimeout, kFunctionTimeout};
    return kFailed;
  }
  // Each call the function makes; false once a crash armed right after it fired.
  std::map<std::string, int, std::less<>> calls;
  auto call = [&](std::string_view operation) {
    const int count = ++calls[std::string(operation)];
    const auto& fault = secret.fault;
    if (fault && fault->type == FaultType::kCrash && fault->step == step && fault->after_call == operation &&
        fault->occurrence == count) {
      secret.fault.reset();
      return false;
    }
    return true;
  };

  // Spec 5.3 step 4, every step: DescribeSecret; the token's version must be listed; a version
  // already AWSCURRENT means done; otherwise it must hold AWSPENDING.
  if (!call("DescribeSecret")) return kFailed;
  auto* version = secret.find(rotation.token);
  if (!version || version->labels.empty()) return kFailed;
  if (version->has(kCurrent)) return kOk;
  if (!version->has(kPending)) return kFailed;
  switch (step) {
    case RotationStepName::kCreateSecret: {
      // AWSCURRENT's value must be readable; the token's version keeps a value it has, else
      // gets a generated password with AWSPENDING (which it holds already).
      if (!call("GetSecretValue")) return kFailed;
      const auto* current = secret.holder(kCurrent);
      if (!current || !current->has_value()) return kFailed;
      if (!call("GetSecretValue")) return kFailed;
      if (version->has_value()) return kOk;
      if (!call("GetRandomPassword")) return kFailed;
      version->value_state = Version::Value::kGenerated;
      if (!call("PutSecretValue")) return kFailed;
      return kOk;
    }
    case RotationStepName::kSetSecret:
    case RotationStepName::kTestSecret:
      return kOk;
    case RotationStepName::kFinishSecret: {
      // AWSCURRENT moves to the token's version (AWSPREVIOUS to the version it left, spec 4.4);
      // remove_pending then removes AWSPENDING from it.
      if (!call("DescribeSecret")) return kFailed;
      if (auto* current = secret.holder(kCurrent)) secret.attach(kPrevious, *current);
      secret.attach(kCurrent, *version);
      if (!call("UpdateSecretVersionStage")) return kFailed;
      if (!functions_.at(rotation.function)) return kOk;
      secret.detach(kPending);
      if (!call("UpdateSecretVersionStage")) return kFailed;
      return kOk;
    }
  }
  return kOk;
}

}  // namespace smemu::properties
