// InvariantChecker (invariants.h) and the rules it applies (invariant_rules.h).
#include "smemu/scenarios/invariants.h"

#include <algorithm>
#include <functional>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "invariant_rules.h"
#include "smemu/model/labels.h"

namespace smemu::scenarios {
namespace rules {
namespace {

constexpr std::string_view kEndSecretVersionDelete = "EndSecretVersionDelete";
constexpr std::string_view kTestRotationSucceeded = "TestRotationSucceeded";
constexpr std::string_view kTestRotationFailed = "TestRotationFailed";
constexpr std::string_view kRotationFailed = "RotationFailed";

// Operations that only read (their successful calls change nothing the rules look at;
// GetSecretValue's LastAccessedDate is not among it).
bool is_read(std::string_view operation) {
  static constexpr std::string_view kReads[] = {"BatchGetSecretValue", "DescribeSecret", "GetRandomPassword",
                                                "GetResourcePolicy",   "GetSecretValue", "ListSecretVersionIds",
                                                "ListSecrets",         "ValidateResourcePolicy"};
  return std::find(std::begin(kReads), std::end(kReads), operation) != std::end(kReads);
}

bool is_value_write(std::string_view operation) {
  return operation == "PutSecretValue" || operation == "UpdateSecret" || operation == "CreateSecret";
}

bool succeeded_call(const Event& event) { return event.kind == EventKind::kApiCall && !event.error; }

bool has_label(const std::vector<std::string>& labels, std::string_view label) {
  return std::find(labels.begin(), labels.end(), label) != labels.end();
}

bool lands_current(const Event& event) {
  return event.kind == EventKind::kLabelUpdated && event.labels.size() == 1 && event.labels[0] == labels::kCurrent;
}

// D8's purge and D2's drop are the two ways a version leaves a secret that still exists; both name
// the version in an event.
bool retired_in_step(const StepFacts& step, std::string_view id) {
  return std::any_of(step.events.begin(), step.events.end(), [&](const Event& event) {
    return event.kind == EventKind::kServiceEvent && event.version_id == id &&
           (event.name == kEndSecretVersionDelete || event.name == kTestRotationSucceeded ||
            event.name == kTestRotationFailed);
  });
}

std::string holder_id(const SecretState& state, std::string_view label) {
  const auto* version = holder(state, label);
  return version ? version->id : std::string();
}

std::string or_none(const std::string& id) { return id.empty() ? std::string("no version") : "version " + id; }

// "v1=[AWSPREVIOUS] v2=[AWSCURRENT]": the labelled versions, for messages.
std::string label_summary(const SecretState& state) {
  std::string out;
  for (const auto& version : state.versions) {
    if (version.labels.empty()) continue;
    if (!out.empty()) out += ' ';
    out += fmt::format("{}=[{}]", version.id, fmt::join(version.labels, ","));
  }
  return out.empty() ? std::string("no labelled version") : out;
}

// Finds versions of a state by id. Asked in creation order (a walk over `before`, or over the
// listing) it finds each one at or after the last, since versions keep their order: linear in
// the versions rather than quadratic for a secret near the quota of 100.
class VersionFinder {
 public:
  explicit VersionFinder(const SecretState& state) : versions_(state.versions) {}
  const VersionState* find(std::string_view id) {
    const auto count = versions_.size();
    for (std::size_t k = 0; k < count; ++k) {
      const auto i = (next_ + k) % count;
      if (versions_[i].id == id) {
        next_ = i + 1;
        return &versions_[i];
      }
    }
    return nullptr;
  }

 private:
  const std::vector<VersionState>& versions_;
  std::size_t next_ = 0;
};

Violation violation(int invariant, const SecretState& state, std::string message) {
  return Violation{invariant, state.arn, std::move(message)};
}

}  // namespace

std::uint64_t value_hash(const model::SecretValue& value) {
  if (value.empty()) return 0;
  // Compared within the process only, never written out: the standard hash will do.
  const auto hash = static_cast<std::uint64_t>(std::hash<std::string_view>{}(value.bytes)) * 3 +
                    static_cast<std::uint64_t>(value.kind);
  return hash == 0 ? 1 : hash;
}

SecretState snapshot(const model::Secret& secret, std::string arn) {
  SecretState state;
  state.arn = std::move(arn);
  const auto versions = secret.versions();
  state.versions.reserve(versions.size());
  for (const auto& version : versions) {
    state.versions.push_back(
        VersionState{version.id, version.value.kind, value_hash(version.value), version.created, secret.labels_of(version)});
  }
  if (const auto& run = secret.run()) {
    state.run = RunState{run->token, run->phase == model::RotationRun::Phase::kRunning &&
                                         run->step == model::Step::kFinishSecret};
  }
  state.replica = secret.meta.is_replica();
  state.had_current = secret.holder(labels::kCurrent) != nullptr;
  state.next_rotation = secret.meta.rotation.next_rotation;
  return state;
}

const VersionState* find_version(const SecretState& state, std::string_view id) {
  for (const auto& version : state.versions) {
    if (version.id == id) return &version;
  }
  return nullptr;
}

const VersionState* holder(const SecretState& state, std::string_view label) {
  for (const auto& version : state.versions) {
    if (has_label(version.labels, label)) return &version;
  }
  return nullptr;
}

std::optional<Violation> labels_unique(const SecretState& after) {
  // (label, version index), sorted: a label held twice shows as two neighbours.
  std::vector<std::pair<std::string_view, std::size_t>> held;
  for (std::size_t i = 0; i < after.versions.size(); ++i) {
    for (const auto& label : after.versions[i].labels) held.emplace_back(label, i);
  }
  std::sort(held.begin(), held.end());
  const auto twice = std::adjacent_find(held.begin(), held.end(),
                                        [](const auto& a, const auto& b) { return a.first == b.first; });
  if (twice == held.end()) return std::nullopt;
  return violation(1, after,
                   fmt::format("label {} is on two versions, {} and {}; a label is attached to at most one version "
                               "(spec 4.1)",
                               twice->first, after.versions[twice->second].id, after.versions[(twice + 1)->second].id));
}

std::optional<Violation> one_current(bool had_current, const SecretState& after) {
  const auto count = std::count_if(after.versions.begin(), after.versions.end(),
                                   [](const VersionState& version) { return has_label(version.labels, labels::kCurrent); });
  if (count == 1 || (count == 0 && !had_current)) return std::nullopt;
  return violation(2, after,
                   fmt::format("{} versions hold AWSCURRENT ({}); once a secret has had an AWSCURRENT version it "
                               "has exactly one",
                               count, label_summary(after)));
}

std::optional<Violation> values_immutable(const SecretState& before, const SecretState& after) {
  VersionFinder in_after(after);
  for (const auto& old : before.versions) {
    if (old.kind == model::ValueKind::kNone) continue;  // a placeholder may still be filled
    const auto* now = in_after.find(old.id);
    if (!now || now->created != old.created) continue;  // gone (rule 10) or re-created (rule 7)
    if (now->kind != old.kind || now->value_hash != old.value_hash) {
      return violation(3, after,
                       fmt::format("the value of version {} changed{}; a version's value never changes once set", old.id,
                                   now->kind == model::ValueKind::kNone ? " (it has none now)" : ""));
    }
  }
  return std::nullopt;
}

std::optional<Violation> previous_follows_current(const SecretState* before, const SecretState& after,
                                                  const StepFacts& step) {
  // Follow AWSCURRENT through the step: where it started (when known) and every landing.
  bool known = before != nullptr;
  std::string current = known ? holder_id(*before, labels::kCurrent) : std::string();
  std::optional<std::size_t> landing;
  bool left_known = false;
  std::string left;
  for (std::size_t i = 0; i < step.events.size(); ++i) {
    if (!lands_current(step.events[i])) continue;
    landing = i;
    left_known = known;
    left = current;
    current = step.events[i].version_id;
    known = true;
  }
  // D17: AWSCURRENT landing where no version held it leaves nothing behind.
  if (!landing || !left_known || left.empty() || left == current) return std::nullopt;
  // The call that moved it: its Secret Label Updated event comes before the call's own event.
  auto cause = std::find_if(step.events.begin() + static_cast<std::ptrdiff_t>(*landing) + 1, step.events.end(),
                            [](const Event& event) { return event.kind == EventKind::kApiCall; });
  if (cause == step.events.end()) return std::nullopt;
  for (auto it = cause; it != step.events.end(); ++it) {
    // A call that places AWSPREVIOUS itself (this one or a later one) decides where it ends up.
    if (succeeded_call(*it) && (it->name == "UpdateSecretVersionStage" || is_value_write(it->name)) &&
        has_label(it->labels, labels::kPrevious)) {
      return std::nullopt;
    }
    // D2 dropped the version AWSCURRENT left, with whatever it held.
    if (it->kind == EventKind::kServiceEvent && it->version_id == left &&
        (it->name == kTestRotationSucceeded || it->name == kTestRotationFailed)) {
      return std::nullopt;
    }
  }
  const auto previous = holder_id(after, labels::kPrevious);
  if (previous == left) return std::nullopt;
  return violation(4, after,
                   fmt::format("{} moved AWSCURRENT from version {} to {}, so AWSPREVIOUS should be on version {}, "
                               "but it is on {} (now {})",
                               cause->name, left, current, left, or_none(previous), label_summary(after)));
}

std::optional<Violation> current_stays_on_failure(const SecretState* before, const SecretState& after,
                                                  const StepFacts& step) {
  // (a) Only failed calls (and reads): nothing may differ. Needs the exact state before the step.
  if (before && step.before_exact) {
    const Event* failed = nullptr;
    bool only_failures = true;
    for (const auto& event : step.events) {
      if (event.kind != EventKind::kApiCall || (!event.error && !is_read(event.name))) {
        only_failures = false;
        break;
      }
      if (event.error && !failed) failed = &event;
    }
    if (failed && only_failures) {
      const auto same = [](const VersionState& a, const VersionState& b) {
        return a.id == b.id && a.kind == b.kind && a.value_hash == b.value_hash && a.labels == b.labels;
      };
      if (!std::equal(before->versions.begin(), before->versions.end(), after.versions.begin(), after.versions.end(),
                      same)) {
        return violation(5, after,
                         fmt::format("the failed call {} ({}) changed the secret: before {}, after {}; a failed call "
                                     "changes nothing",
                                     failed->name, aws_name(*failed->error), label_summary(*before),
                                     label_summary(after)));
      }
    }
  }
  // (b) AWSCURRENT moves only with a call that moved it (its Secret Label Updated event).
  std::optional<std::string> expected;
  if (before) expected = holder_id(*before, labels::kCurrent);
  for (const auto& event : step.events) {
    if (lands_current(event)) expected = event.version_id;
  }
  if (!expected) return std::nullopt;
  const auto actual = holder_id(after, labels::kCurrent);
  if (actual == *expected) return std::nullopt;
  const auto failed_rotation = std::find_if(step.events.begin(), step.events.end(), [](const Event& event) {
    return event.kind == EventKind::kServiceEvent && (event.name == kRotationFailed || event.name == kTestRotationFailed);
  });
  return violation(5, after,
                   fmt::format("AWSCURRENT is on {}, but the last call that moved it left it on {}{}; the service never "
                               "moves AWSCURRENT itself",
                               or_none(actual), or_none(*expected),
                               failed_rotation == step.events.end()
                                   ? std::string()
                                   : fmt::format(" (the step's rotation attempt failed: {})", failed_rotation->message)));
}

std::optional<Violation> default_listing(const SecretState& after, const std::vector<ListedVersion>& listing) {
  VersionFinder in_after(after);
  for (const auto& entry : listing) {
    if (entry.labels.empty()) {
      return violation(6, after,
                       fmt::format("ListSecretVersionIds without IncludeDeprecated shows version {}, which has no labels",
                                   entry.id));
    }
    const auto* version = in_after.find(entry.id);
    if (!version || version->labels != entry.labels) {
      return violation(6, after,
                       fmt::format("ListSecretVersionIds shows version {} with [{}], but the secret holds {}", entry.id,
                                   fmt::join(entry.labels, ","), label_summary(after)));
    }
  }
  for (const auto& version : after.versions) {
    if (version.labels.empty()) continue;
    const bool listed = std::any_of(listing.begin(), listing.end(),
                                    [&](const ListedVersion& entry) { return entry.id == version.id; });
    if (!listed) {
      return violation(6, after,
                       fmt::format("ListSecretVersionIds does not show version {}, which holds [{}]", version.id,
                                   fmt::join(version.labels, ",")));
    }
  }
  return std::nullopt;
}

std::optional<Violation> version_ids(const SecretState* before, const SecretState& after, const StepFacts& step) {
  std::vector<std::string_view> ids;
  ids.reserve(after.versions.size());
  for (const auto& version : after.versions) ids.emplace_back(version.id);
  std::sort(ids.begin(), ids.end());
  if (const auto twice = std::adjacent_find(ids.begin(), ids.end()); twice != ids.end()) {
    return violation(7, after, fmt::format("two versions have the VersionId {}", *twice));
  }
  if (!before) return std::nullopt;
  VersionFinder in_after(after);
  for (const auto& old : before->versions) {
    const auto* now = in_after.find(old.id);
    if (!now || now->created == old.created) continue;
    const bool other_value = now->kind != old.kind || now->value_hash != old.value_hash;
    if (other_value && !retired_in_step(step, old.id)) {
      return violation(7, after,
                       fmt::format("VersionId {} now names another version with another value (created {} instead "
                                   "of {}); a VersionId is never reused for another value",
                                   old.id, iso8601(now->created), iso8601(old.created)));
    }
  }
  return std::nullopt;
}

std::optional<Violation> rotate_refusal(const SecretState& before, const StepFacts& step) {
  for (std::size_t i = 0; i < step.events.size(); ++i) {
    const auto& call = step.events[i];
    if (call.kind != EventKind::kApiCall || call.name != "RotateSecret" || call.version_id.empty()) continue;
    // The one call of the step that can change the secret: the others failed, only read, or are
    // D8 purges (which take no labels); anything else leaves `before` behind the state it met.
    bool alone = true;
    for (std::size_t j = 0; j < step.events.size() && alone; ++j) {
      const auto& other = step.events[j];
      if (j == i) continue;
      alone = other.kind == EventKind::kApiCall ? (other.error.has_value() || is_read(other.name))
                                                : (other.kind == EventKind::kServiceEvent &&
                                                   other.name == kEndSecretVersionDelete);
    }
    if (!alone) continue;
    // A new token: neither a version's id (ResourceExists-like refusal after check 7) nor the
    // token of the rotation in flight (D12).
    if (find_version(before, call.version_id) || (before.run && before.run->token == call.version_id)) continue;
    const auto pending = holder_id(before, labels::kPending);
    const auto current = holder_id(before, labels::kCurrent);
    const bool blocked = !pending.empty() && pending != current;
    const std::string why = blocked ? fmt::format("AWSPENDING is on version {} and AWSCURRENT on {}", pending,
                                                  or_none(current))
                                    : fmt::format("AWSPENDING is {}", pending.empty() ? "on no version"
                                                                                      : "on AWSCURRENT's version");
    const bool refused_incomplete = call.error == ErrorCode::InvalidRequest &&
                                    call.message == msg::kPreviousRotationIncomplete;
    // Checks 1-6 of spec 5.2 come first, so another refusal says nothing — except D8's quota for
    // the placeholder, which comes after check 7.
    const bool past_check_7 = !call.error || call.error == ErrorCode::LimitExceeded;
    if (blocked && past_check_7) {
      return violation(8, before,
                       fmt::format("RotateSecret with the new token {} {}, but {}: it must be refused with "
                                   "InvalidRequestException \"{}\"",
                                   call.version_id, call.error ? "failed with " + std::string(aws_name(*call.error))
                                                               : std::string("succeeded"),
                                   why, msg::kPreviousRotationIncomplete));
    }
    if (!blocked && refused_incomplete) {
      return violation(8, before,
                       fmt::format("RotateSecret with the new token {} was refused (\"{}\"), but {}",
                                   call.version_id, msg::kPreviousRotationIncomplete, why));
    }
  }
  return std::nullopt;
}

std::optional<Violation> run_names_pending(const SecretState& after) {
  if (!after.run) return std::nullopt;
  const auto* version = find_version(after, after.run->token);
  if (version && (has_label(version->labels, labels::kPending) ||
                  (after.run->finishing && has_label(version->labels, labels::kCurrent)))) {
    return std::nullopt;
  }
  return violation(9, after,
                   fmt::format("the rotation in flight names version {}, which {}; it must hold AWSPENDING{} (now {})",
                               after.run->token,
                               version ? fmt::format("holds [{}]", fmt::join(version->labels, ","))
                                       : std::string("does not exist"),
                               after.run->finishing ? " or AWSCURRENT" : "", label_summary(after)));
}

std::optional<Violation> no_write_lost(const SecretState* before, const SecretState& after, const StepFacts& step) {
  if (before) {
    VersionFinder in_after(after);
    for (const auto& old : before->versions) {
      if (in_after.find(old.id) || retired_in_step(step, old.id)) continue;
      return violation(10, after,
                       fmt::format("version {}{} is gone without a D8 purge (EndSecretVersionDelete) or D2's drop",
                                   old.id,
                                   old.labels.empty() ? std::string() : fmt::format(" ([{}])", fmt::join(old.labels, ","))));
    }
  }
  for (const auto& event : step.events) {
    // PutSecretValue always writes a value (UpdateSecret and CreateSecret may carry a token and
    // none, which the event does not say).
    if (!succeeded_call(event) || event.name != "PutSecretValue" || event.version_id.empty()) continue;
    const auto* version = find_version(after, event.version_id);
    if ((version && version->kind != model::ValueKind::kNone) || retired_in_step(step, event.version_id)) continue;
    return violation(10, after,
                     fmt::format("PutSecretValue succeeded with ClientRequestToken {}, but {}", event.version_id,
                                 version ? "that version holds no value" : "no version has that id"));
  }
  return std::nullopt;
}

bool same_versions_and_labels(const SecretState& a, const SecretState& b) {
  return std::equal(a.versions.begin(), a.versions.end(), b.versions.begin(), b.versions.end(),
                    [](const VersionState& x, const VersionState& y) { return x.id == y.id && x.labels == y.labels; });
}

std::optional<Violation> check_step(const SecretState* before, const SecretState& after, const StepFacts& step,
                                    const std::vector<ListedVersion>* listing) {
  // A replica is written from its primary's region: its changes come without events here, so the
  // rules that compare with the state before say nothing about it.
  const SecretState* comparable = before && !before->replica && !after.replica ? before : nullptr;
  if (auto found = labels_unique(after)) return found;
  if (auto found = one_current((before && before->had_current) || after.had_current, after)) return found;
  if (comparable) {
    if (auto found = values_immutable(*comparable, after)) return found;
  }
  if (!after.replica) {
    if (auto found = previous_follows_current(comparable, after, step)) return found;
    if (auto found = current_stays_on_failure(comparable, after, step)) return found;
  }
  if (listing) {
    if (auto found = default_listing(after, *listing)) return found;
  }
  if (auto found = version_ids(comparable, after, step)) return found;
  if (comparable && step.before_exact) {
    if (auto found = rotate_refusal(*comparable, step)) return found;
  }
  if (auto found = run_names_pending(after)) return found;
  if (!after.replica) {
    if (auto found = no_write_lost(comparable, after, step)) return found;
  }
  return std::nullopt;
}

}  // namespace rules

struct InvariantChecker::Impl {
  Service& service;
  std::string region;
  std::uint64_t cursor;    // the last event looked at
  struct Known {
    rules::SecretState state;
    bool listed = false;  // its default listing was read and checked (invariant 6)
  };
  // The state each secret of the region had at its last check, by ARN (an ARN names one secret:
  // a secret created again under the same name gets a new suffix).
  std::map<std::string, Known, std::less<>> known;

  Impl(Service& s, std::string r)
      : service(s),
        region(std::move(r)),
        cursor(s.events().last_sequence()) {
    const auto now = service.clock().now();
    remember_all(now, is_settled(now));
  }

  // Starts over from the region as it is now.
  void remember_all(Timestamp now, bool settled) {
    auto previous = std::move(known);
    known.clear();
    service.inspect_all(region, [&](const model::Secret& secret) {
      auto state = rules::snapshot(secret, service.arn_of(secret.meta));
      const auto it = previous.find(state.arn);
      complete(state, it != previous.end() ? &it->second.state : nullptr, now, settled);
      auto arn = state.arn;
      known.emplace(std::move(arn), Known{std::move(state)});
    });
  }

  // No queued work is due: every entry due by `now` has run.
  bool is_settled(Timestamp now) const {
    const auto due = service.next_due();
    return !due || *due > now;
  }

  static void complete(rules::SecretState& state, const rules::SecretState* before, Timestamp now, bool settled) {
    state.had_current = state.had_current || (before && before->had_current);
    state.schedule_spent = state.next_rotation && *state.next_rotation <= now && settled;
  }

  // The ARN of the secret `secret_id` names: one known (even if gone since), else the one the
  // operations find now.
  std::optional<std::string> resolve(const std::string& secret_id) const {
    if (known.contains(secret_id)) return secret_id;
    std::optional<std::string> arn;
    service.inspect(region, secret_id, [&](const model::Secret* secret) {
      if (secret) arn = service.arn_of(secret->meta);
    });
    return arn;
  }

  // The default listing, read straight from the operation: through a Client it would be logged
  // while someone subscribes to reads, and the run's trace would change with the checking.
  std::vector<rules::ListedVersion> listing(const std::string& arn) {
    std::vector<rules::ListedVersion> out;
    api::ListSecretVersionIdsRequest request;
    request.secret_id = arn;
    for (;;) {
      auto page = service.list_secret_version_ids(CallContext{region}, request);
      if (!page) break;
      if (page->versions) {
        for (auto& entry : *page->versions) {
          out.push_back(rules::ListedVersion{std::move(entry.version_id).value_or(""),
                                             std::move(entry.version_stages).value_or(std::vector<std::string>{})});
        }
      }
      if (!page->next_token) break;
      request.next_token = std::move(page->next_token);
    }
    return out;
  }
};

InvariantChecker::InvariantChecker(Service& service, std::string region)
    : impl_(std::make_unique<Impl>(service, std::move(region))) {}
InvariantChecker::~InvariantChecker() = default;

std::optional<Violation> InvariantChecker::check(std::vector<std::string>* touched) {
  auto& impl = *impl_;
  if (touched) touched->clear();
  auto events = impl.service.events().read(impl.cursor);
  // Past its capacity the log drops its oldest events: then what the step did is not all known,
  // and no state remembered can be trusted as the one the step started from.
  const bool lost = !events.empty() && events.front().sequence > impl.cursor + 1;
  if (!events.empty()) impl.cursor = events.back().sequence;

  // The step's events per secret, secrets in the order the step first named them.
  std::vector<std::pair<std::string, rules::StepFacts>> steps;
  std::map<std::string, std::optional<std::string>, std::less<>> resolved;
  for (auto& event : events) {
    if (event.region != impl.region || event.secret_arn.empty()) continue;
    auto [it, inserted] = resolved.try_emplace(event.secret_arn);
    if (inserted) it->second = impl.resolve(event.secret_arn);
    if (!it->second) continue;
    auto step = std::find_if(steps.begin(), steps.end(), [&](const auto& entry) { return entry.first == *it->second; });
    if (step == steps.end()) step = steps.insert(steps.end(), {*it->second, rules::StepFacts{}});
    step->second.events.push_back(std::move(event));
  }

  const auto now = impl.service.clock().now();
  const bool settled = impl.is_settled(now);
  std::optional<Violation> first;
  for (auto& [arn, facts] : steps) {
    if (touched) touched->push_back(arn);
    std::optional<rules::SecretState> after;
    impl.service.inspect(impl.region, arn, [&](const model::Secret* secret) {
      if (secret) after = rules::snapshot(*secret, arn);
    });
    const auto known = impl.known.find(arn);
    if (!after) {
      // Gone: only a deletion takes a secret out of the store (DeleteSecret with
      // ForceDeleteWithoutRecovery, the end of its recovery window, the removal of a replica or its
      // replacement under ForceOverwriteReplicaSecret), and invariant 10 excepts it.
      if (known != impl.known.end()) impl.known.erase(known);
      continue;
    }
    const rules::SecretState* before = known != impl.known.end() && !lost ? &known->second.state : nullptr;
    rules::SecretState created;
    created.arn = arn;
    const bool creates = std::any_of(facts.events.begin(), facts.events.end(), [](const Event& event) {
      return event.kind == EventKind::kApiCall && event.name == "CreateSecret" && !event.error;
    });
    if (!before && creates) before = &created;
    // See SecretState::next_rotation: a scheduled rotation may have started without an event.
    facts.before_exact =
        before && !(before->next_rotation && *before->next_rotation <= now && !before->schedule_spent);
    Impl::complete(*after, before, now, settled);
    bool listed = false;
    if (!first) {
      // The listing costs more than all the rules together; it is a function of the versions and
      // their labels, so a state whose versions and labels were listed at the last check is not
      // listed again.
      const bool listed_before = known != impl.known.end() && known->second.listed &&
                                 before == &known->second.state && rules::same_versions_and_labels(*before, *after);
      const auto listing = listed_before ? std::vector<rules::ListedVersion>{} : impl.listing(arn);
      first = rules::check_step(before, *after, facts, listed_before ? nullptr : &listing);
      listed = !first;
    }
    impl.known.insert_or_assign(arn, Impl::Known{std::move(*after), listed});
  }
  if (lost) impl.remember_all(now, settled);
  return first;
}

}  // namespace smemu::scenarios
