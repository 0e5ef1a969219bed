// explain(): the sentence smemu walk and smemu lab print under a step (explain.h).
#include "smemu/scenarios/explain.h"

#include <algorithm>
#include <set>

#include "smemu/model/labels.h"

namespace smemu::scenarios {
namespace {

// Version ids as sentences name them: their first 8 characters, or as many more as it takes to
// tell them from the other versions named (scenarios pin ids such as aaaaaaaa-...-000000000001).
class ShortIds {
 public:
  ShortIds(const LabelTable& before, const LabelTable& after) {
    for (const auto* table : {&before, &after}) {
      for (const auto& [version, labels] : *table) ids_.insert(version);
    }
  }
  std::string operator()(const std::string& id) const {
    std::size_t length = 8;
    for (const auto& other : ids_) {
      if (other == id) continue;
      const auto differ = std::mismatch(id.begin(), id.end(), other.begin(), other.end()).first;
      length = std::max(length, static_cast<std::size_t>(differ - id.begin()) + 1);
    }
    return id.substr(0, length);
  }

 private:
  std::set<std::string> ids_;
};

// The version holding `label` in `table`, or "" when none does.
std::string holder_of(const LabelTable& table, const std::string& label) {
  for (const auto& [version, labels] : table) {
    if (std::find(labels.begin(), labels.end(), label) != labels.end()) return version;
  }
  return {};
}

// How the labels of one secret moved, as clauses: "AWSCURRENT moved from 11111111 to 22222222",
// "AWSPENDING went onto 22222222", "AWSPENDING left 22222222"; AWSPREVIOUS landing on the version
// AWSCURRENT left is said as following it (spec 4.3, 4.4).
std::vector<std::string> label_moves(const LabelTable& before, const LabelTable& after) {
  std::set<std::string> labels;
  for (const auto* table : {&before, &after}) {
    for (const auto& [version, names] : *table) labels.insert(names.begin(), names.end());
  }
  // AWSCURRENT first, then the other two, then custom labels alphabetically: how people read them.
  std::vector<std::string> order{std::string(labels::kCurrent), std::string(labels::kPending),
                                 std::string(labels::kPrevious)};
  for (const auto& label : labels) {
    if (std::find(order.begin(), order.end(), label) == order.end()) order.push_back(label);
  }
  const ShortIds short_id(before, after);
  const std::string old_current = holder_of(before, std::string(labels::kCurrent));
  const std::string new_current = holder_of(after, std::string(labels::kCurrent));
  std::vector<std::string> clauses;
  for (const auto& label : order) {
    const std::string from = holder_of(before, label);
    const std::string to = holder_of(after, label);
    if (from == to) continue;
    if (label == labels::kPrevious && !to.empty() && to == old_current && old_current != new_current) {
      clauses.push_back("AWSPREVIOUS followed the old one (" + short_id(to) + ", spec 4.4)");
    } else if (from.empty()) {
      clauses.push_back(label + " went onto " + short_id(to));
    } else if (to.empty()) {
      clauses.push_back(label + " left " + short_id(from));
    } else {
      clauses.push_back(label + " moved from " + short_id(from) + " to " + short_id(to));
    }
  }
  return clauses;
}

std::string joined(const std::vector<std::string>& parts, std::string_view separator) {
  std::string text;
  for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? std::string(separator) : "") + parts[i];
  return text;
}

// Every label move of every secret; the secret's name leads when there is more than one.
std::string moves_text(const LabelState& before, const LabelState& after) {
  std::set<std::string> names;
  for (const auto* state : {&before, &after}) {
    for (const auto& [name, table] : *state) names.insert(name);
  }
  static const LabelTable kNone;
  std::vector<std::pair<std::string, std::vector<std::string>>> moved;
  for (const auto& name : names) {
    const auto b = before.find(name);
    const auto a = after.find(name);
    auto clauses = label_moves(b == before.end() ? kNone : b->second, a == after.end() ? kNone : a->second);
    if (!clauses.empty()) moved.emplace_back(name, std::move(clauses));
  }
  std::vector<std::string> parts;
  for (auto& [name, clauses] : moved) {
    parts.push_back((names.size() > 1 ? name + ": " : "") + joined(clauses, ", "));
  }
  return joined(parts, "; ");
}

std::string service_events(const std::vector<Event>& events) {
  std::vector<std::string> names;
  for (const auto& event : events) {
    if (event.kind == EventKind::kServiceEvent) names.emplace_back(event.name);
  }
  return joined(names, ", ");
}

// Why a rotation step that succeeded did what it did (spec 5.3, the published templates).
std::string_view step_purpose(model::Step step) {
  switch (step) {
    case model::Step::kCreateSecret:
      return "it put a new password (GetRandomPassword) into the token's version under AWSPENDING; AWSCURRENT "
             "still holds the old one, so clients keep working (spec 5.3)";
    case model::Step::kSetSecret:
      return "this is where the function sets the AWSPENDING credentials on the database or service the secret "
             "is for; it leaves the labels alone (spec 5.3)";
    case model::Step::kTestSecret:
      return "this is where the function checks that the AWSPENDING credentials work; it leaves the labels alone "
             "(spec 5.3)";
    case model::Step::kFinishSecret:
      return "finishSecret moves AWSCURRENT to the token's version (spec 5.3)";
  }
  return "";
}

std::string rotation_sentence(const StepReport& report, const std::string& moves) {
  std::string text = std::string(model::step_name(report.step)) + " (attempt " + std::to_string(report.attempt) + ")";
  if (report.discarded) return text + " ran after its rotation ended, so its result was discarded";
  if (report.outcome != model::Outcome::kOk) {
    text += report.outcome == model::Outcome::kTimeout ? " timed out" : " failed";
    if (!report.message.empty()) text += ": " + report.message;
    return text + "; AWSPENDING stays where it is and AWSCURRENT does not move, the service re-attempts the "
                  "whole rotation later (D1)" + (moves.empty() ? "" : "; " + moves);
  }
  text += " succeeded: ";
  if (report.step == model::Step::kFinishSecret && !moves.empty()) {
    text += moves;
  } else {
    text += std::string(step_purpose(report.step)) + (moves.empty() ? "" : "; meanwhile " + moves);
  }
  if (report.then == model::Then::kSucceeded) text += "; the rotation succeeded";
  if (report.then == model::Then::kAttemptFailed) text += "; but the attempt failed: " + report.message;
  return text;
}

// Why a call did what it did, where the spec has a rule for it.
std::string_view call_reason(std::string_view operation) {
  if (operation == "RotateSecret") {
    return "it stored the rotation settings, turned rotation on and created the token's version with no value "
           "under AWSPENDING; the function's steps are queued (spec 5.2, 5.3)";
  }
  if (operation == "PutSecretValue" || operation == "UpdateSecret") return "a new version (spec 4.3)";
  if (operation == "UpdateSecretVersionStage") return "labels moved by hand (spec 4.4)";
  if (operation == "CancelRotateSecret") return "rotation is off; AWSPENDING stays where it was (spec 5.7)";
  return "";
}

}  // namespace

LabelState label_state(const Service& service, std::string_view region) {
  LabelState state;
  service.inspect_all(region, [&](const model::Secret& secret) {
    LabelTable& table = state[secret.meta.name];
    for (const auto& version : secret.versions()) {
      if (auto labels = secret.labels_of(version); !labels.empty()) table[version.id] = std::move(labels);
    }
  });
  return state;
}

std::string explain(const Step& step, const StepOutcome& outcome, const std::vector<Event>& events,
                    const LabelState& before, const LabelState& after) {
  const std::string moves = moves_text(before, after);
  const std::string happened = service_events(events);
  std::string text = std::visit(
      [&](const auto& action) -> std::string {
        using T = std::decay_t<decltype(action)>;
        if constexpr (std::is_same_v<T, Call>) {
          if (action.during) return action.operation + " waits until a rotation reaches its point";
          const auto& response = *outcome.response;
          if (!response) {
            return action.operation + " was refused with " + std::string(response.error().name()) + ": " +
                   response.error().message + " Nothing changed.";
          }
          const std::string_view reason = call_reason(action.operation);
          std::string said = action.operation + " succeeded";
          if (!moves.empty()) return said + ": " + moves + (reason.empty() ? "" : " — " + std::string(reason));
          if (!reason.empty()) return said + ": " + std::string(reason);
          return said + "; no label moved";
        } else if constexpr (std::is_same_v<T, Advance>) {
          std::string said = "The clock moved forward";
          if (happened.empty()) return said + "; nothing came due" + (moves.empty() ? "" : "; " + moves);
          return said + " and what came due on the way ran (" + happened + ")" + (moves.empty() ? "" : ": " + moves);
        } else if constexpr (std::is_same_v<T, RotationStep>) {
          if (!outcome.rotation) return std::string("No rotation step was due");
          return rotation_sentence(*outcome.rotation, moves);
        } else if constexpr (std::is_same_v<T, RunUntilIdle>) {
          if (happened.empty() && moves.empty()) return std::string("Everything due ran; no label moved");
          return "Everything due ran (" + happened + ")" + (moves.empty() ? "" : ": " + moves);
        } else {
          return "Armed a " + std::string(fault_kind_name(action.fault.kind)) +
                 " fault: it fires the next time a rotation reaches its point";
        }
      },
      step.action);
  if (!text.empty() && text.back() != '.') text += '.';
  return text;
}

}  // namespace smemu::scenarios
