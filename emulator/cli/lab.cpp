// smemu lab: the classic rotation lab end to end, offline: an RDS-style database secret rotated
// by builtin:single-user against the simulated database, one rotation step at a time, then the
// scheduled rotation 30 days on. The steps are scenarios/examples/lab.json (embedded), played on
// the scenario runner; around them the lab prints what a class needs (the IAM permissions per
// step, the tables, the secret at each label, the database logins, the event log) and checks its
// own claims: it exits 0 only when every step did what the lab says.
#include <unistd.h>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <vector>

#include "commands.h"
#include "lesson.h"
#include "smemu/emulator/builtin_functions.h"
#include "smemu/model/labels.h"
#include "smemu/scenarios/timeline.h"

namespace smemu::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: smemu lab [--show-secrets] [--html OUT]\n\n"
    "Runs the classic Secrets Manager rotation lab offline, on a virtual clock: creates an RDS-style\n"
    "database secret, registers the single-user rotation function (builtin:single-user) against a\n"
    "simulated database, prints the IAM permissions it needs per step, turns rotation on every 30\n"
    "days and rotates at once, one step at a time with the versions x labels table after each,\n"
    "checks that the database takes only the new password, advances the clock 30 days to the\n"
    "scheduled rotation and prints the event log. Exits 0 when every step did what the lab says.\n\n"
    "  --show-secrets  show passwords (masked as pw#<hash> otherwise: equal passwords, equal tags)\n"
    "  --html OUT      also write the lab's steps as one self-contained HTML page to OUT (mode 0600):\n"
    "                  a lane per version, the labels moving between them, the events (docs/scenarios.md)\n";

// What spec 9.1 grants the execution role of a single-user function: on the secret, and
// GetRandomPassword, which names no secret, on "*".
constexpr std::string_view kOnSecret[] = {"DescribeSecret", "GetSecretValue", "PutSecretValue",
                                          "UpdateSecretVersionStage"};
constexpr std::string_view kOnAnything = "GetRandomPassword";

// The lab's claims as it checks them: each is printed, and one that fails fails the lab.
class Claims {
 public:
  void check(bool holds, const std::string& claim) {
    ++checked_;
    if (!holds) failed_.push_back(claim);
    std::cout << "  " << (holds ? "ok: " : "FAILED: ") << claim << "\n";
  }
  std::size_t checked() const { return checked_; }
  const std::vector<std::string>& failed() const { return failed_; }

 private:
  std::size_t checked_ = 0;
  std::vector<std::string> failed_;
};

std::string joined(const std::vector<std::string>& parts, std::string_view separator) {
  std::string text;
  for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? std::string(separator) : "") + parts[i];
  return text;
}

// The operations the rotation function called in each of its steps, found by playing the lab
// once beforehand with reads logged (the event log leaves reads out unless asked).
std::map<model::Step, std::vector<std::string>> calls_per_step(const scenarios::Scenario& scenario) {
  lesson::Lesson dry_run(scenario);
  const auto subscription = dry_run.service().events().subscribe([](const Event&) {}, true);
  std::map<model::Step, std::vector<std::string>> calls;
  while (!dry_run.done()) {
    const auto view = dry_run.play();
    if (!view.outcome.rotation) continue;
    auto& names = calls[view.outcome.rotation->step];
    for (const auto& event : view.events) {
      if (event.kind != EventKind::kApiCall) continue;
      if (std::find(names.begin(), names.end(), event.name) == names.end()) names.emplace_back(event.name);
    }
  }
  dry_run.service().events().unsubscribe(subscription);
  return calls;
}

void print_iam(const scenarios::Scenario& scenario, const std::string& secret_arn, const std::string& account,
               Claims& claims) {
  const std::string function = scenario.setup.functions.front().arn;
  std::cout << "\n== IAM: what the rotation function needs (spec 9.1) ==\n"
            << "Lambda resource policy on " << function << " (lets Secrets Manager invoke it):\n"
            << "  Allow  Principal {\"Service\": \"secretsmanager.amazonaws.com\"}  Action lambda:InvokeFunction\n"
            << "         Condition StringEquals aws:SourceAccount = " << account
            << "  (aws:SourceArn would tie the function to one secret)\n"
            << "Execution role, per step (the calls " << scenario.setup.functions.front().spec
            << " makes, seen in a dry run of this lab):\n";
  const auto calls = calls_per_step(scenario);
  for (const auto step : {model::Step::kCreateSecret, model::Step::kSetSecret, model::Step::kTestSecret,
                          model::Step::kFinishSecret}) {
    const auto found = calls.find(step);
    std::vector<std::string> actions;
    if (found != calls.end()) {
      for (const auto& name : found->second) actions.push_back("secretsmanager:" + name + (name == kOnAnything ? " (on *)" : ""));
    }
    std::cout << "  " << std::left << std::setw(13) << model::step_name(step) << joined(actions, ", ") << "\n";
  }
  std::vector<std::string> on_secret;
  for (const auto name : kOnSecret) on_secret.push_back("secretsmanager:" + std::string(name));
  std::cout << "As a policy:\n"
            << "  Allow  " << joined(on_secret, ", ") << "\n"
            << "         on " << secret_arn << "\n"
            << "         Condition StringEquals secretsmanager:resource/AllowRotationLambdaArn = " << function << "\n"
            << "  Allow  secretsmanager:" << kOnAnything << "  on *  (it names no secret)\n"
            << "  In a VPC, also: ec2:CreateNetworkInterface, ec2:DeleteNetworkInterface, "
               "ec2:DescribeNetworkInterfaces, ec2:DetachNetworkInterface on *\n"
            << "  With a customer-managed KMS key, also: kms:Decrypt, kms:GenerateDataKey on that key\n"
            << "  (alternating-users also reads the admin secret: secretsmanager:GetSecretValue on its ARN)\n"
            << "Whoever turns rotation on needs secretsmanager:RotateSecret and lambda:InvokeFunction.\n"
            << "smemu records these permissions for the lab; it does not enforce IAM.\n";
  bool covered = calls.size() == 4;
  for (const auto& [step, names] : calls) {
    for (const auto& name : names) {
      covered = covered && (name == kOnAnything ||
                            std::find(std::begin(kOnSecret), std::end(kOnSecret), name) != std::end(kOnSecret));
    }
  }
  claims.check(covered, "every call of the four steps is one the policy above allows");
}

// A login to the database as the version at `label` says; nullopt when no version holds it.
std::optional<bool> login_with(lesson::Lesson& lab, const std::string& secret, std::string_view label,
                               std::string& shown, bool show_values) {
  std::optional<model::SecretValue> value;
  lab.service().inspect(lab.runner().region(), secret, [&](const model::Secret* found) {
    if (const auto* version = found ? found->holder(label) : nullptr) value = version->value;
  });
  if (!value || value->kind != model::ValueKind::kString) return std::nullopt;
  const auto credentials = database_credentials(value->bytes);
  if (!credentials) return std::nullopt;
  shown = credentials->username + " / " + lesson::value_text(*value, show_values);
  return lab.service().database().login(*credentials);
}

// The database takes the AWSCURRENT password and refuses the AWSPREVIOUS one.
void check_database(lesson::Lesson& lab, const std::string& secret, bool show_values, Claims& claims) {
  std::cout << "Database check: log in with each password\n";
  std::string previous_shown;
  std::string current_shown;
  const auto previous = login_with(lab, secret, labels::kPrevious, previous_shown, show_values);
  const auto current = login_with(lab, secret, labels::kCurrent, current_shown, show_values);
  claims.check(previous == std::optional<bool>(false),
               "the old password (AWSPREVIOUS, " + previous_shown + ") is refused: " +
                   (previous ? (*previous ? "accepted" : "refused") : "no such version"));
  claims.check(current == std::optional<bool>(true),
               "the new password (AWSCURRENT, " + current_shown + ") is accepted: " +
                   (current ? (*current ? "accepted" : "refused") : "no such version"));
}

std::vector<std::string> service_event_names(const std::vector<Event>& events) {
  std::vector<std::string> names;
  for (const auto& event : events) {
    if (event.kind == EventKind::kServiceEvent) names.emplace_back(event.name);
  }
  return names;
}

}  // namespace

int lab_command(Args args) {
  if (wants_help(args)) {
    std::cout << kUsage;
    return kExitOk;
  }
  bool show_values = false;
  std::vector<std::string_view> rest;
  for (const std::string_view arg : args) {
    if (arg == "--show-secrets") {
      show_values = true;
    } else {
      rest.push_back(arg);
    }
  }
  Flags flags{{"html", ""}};
  if (const auto problem = parse_flags(rest, flags)) {
    std::cerr << "smemu lab: " << *problem << "\n\n" << kUsage;
    return kExitUsage;
  }
  const lesson::Style style{.colour = isatty(STDOUT_FILENO) == 1, .show_values = show_values};
  const auto scenario = lesson::lab_scenario();
  const std::string secret = scenario.setup.secrets.front().at("Name").get<std::string>();
  Claims claims;

  std::cout << "smemu lab: rotating an RDS-style database secret, offline on a virtual clock ("
            << "scenarios/examples/lab.json, seed " << scenario.setup.seed << ").\n"
            << (show_values ? "Passwords are shown (--show-secrets).\n"
                            : "Passwords are masked as pw#<hash>: equal passwords have equal tags; --show-secrets "
                              "shows them.\n")
            << "\n== The secret and the rotation function ==\n";
  lesson::Lesson lab(scenario);
  // --html: the recorder takes the state after each step (the page masks values as ****).
  std::optional<scenarios::TimelineRecorder> timeline;
  if (const auto& html = flags.at("html"); !html.empty()) {
    timeline.emplace(lab.runner(), "smemu lab", scenario.description, show_values);
    timeline->record_setup(lab.setup().outcome.failure);
  }
  std::cout << lesson::render_step(lab.setup(), style);
  if (lab.setup().outcome.failure) {
    std::cerr << "smemu lab: setup: " << lab.setup().outcome.failure->message << "\n";
    return kExitFailure;
  }
  std::string secret_arn;
  std::vector<std::string> tags;
  lab.service().inspect(lab.runner().region(), secret, [&](const model::Secret* found) {
    if (!found) return;
    secret_arn = lab.setup().after.secrets.front().arn;
    if (found->meta.tags) {
      for (const auto& tag : *found->meta.tags) tags.push_back(tag.key + "=" + tag.value);
    }
  });
  std::cout << "Tags: " << joined(tags, ", ") << "\n";
  claims.check(!tags.empty(), "the secret was created with tags");
  print_iam(scenario, secret_arn, lab.service().options().account, claims);

  std::cout << "\n== Rotation: turned on every 30 days, rotating now, one step at a time ==\n";
  std::vector<std::string> all_events;
  while (!lab.done()) {
    // One step, and everything it changed in `view`: what is printed here and checked below.
    const lesson::StepView view = lab.play();
    if (timeline) timeline->record(*view.step, view.index, view.outcome);
    std::cout << "\n" << lesson::render_step(view, style);
    if (view.outcome.failure) claims.check(false, "step " + std::to_string(view.index) + ": " + view.outcome.failure->message);
    const bool rotated = view.outcome.rotation && view.outcome.rotation->then == model::Then::kSucceeded;
    const bool scheduled = std::holds_alternative<scenarios::Advance>(view.step->action);
    if (scheduled) {
      const auto names = service_event_names(view.events);
      claims.check(std::find(names.begin(), names.end(), "RotationSucceeded") != names.end(),
                   "the scheduled rotation ran while the clock moved 30 days");
      const auto* before = view.before.secrets.empty() ? nullptr : &view.before.secrets.front();
      const auto* after = view.after.secrets.empty() ? nullptr : &view.after.secrets.front();
      claims.check(before && after && after->versions.size() == before->versions.size() + 1,
                   "it made a third version, which now holds AWSCURRENT");
    }
    if (rotated || scheduled) check_database(lab, secret, show_values, claims);
  }
  if (const auto unmet = lab.finish()) claims.check(false, unmet->message);

  std::cout << "\n== Event log ==\n";
  const auto events = lab.service().events().read(0);
  for (const auto& event : events) std::cout << "  " << lesson::event_line(event) << "\n";
  claims.check(service_event_names(events) ==
                   std::vector<std::string>{"RotationStarted", "RotationSucceeded", "RotationStarted", "RotationSucceeded"},
               "the log has RotationStarted ... RotationSucceeded for the rotation now and the scheduled one");

  if (timeline) {
    if (const auto written = scenarios::write_timeline_html(timeline->timeline(), flags.at("html")); !written) {
      std::cerr << "smemu lab: --html " << written.error().message << "\n";
      return kExitUsage;
    }
  }
  if (!claims.failed().empty()) {
    std::cout << "\nlab: FAILED " << claims.failed().size() << " of " << claims.checked() << " checks\n";
    return kExitFailure;
  }
  std::cout << "\nlab: ok, " << scenario.steps.size() << " steps, " << claims.checked() << " checks\n";
  return kExitOk;
}

}  // namespace smemu::cli
