// What `smemu lab` and `smemu walk` share (lesson.h).
#include "lesson.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <iomanip>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "lab_json.h"
#include "smemu/model/labels.h"

namespace smemu::cli::lesson {
namespace {

using nlohmann::json;

constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kGreen = "\x1b[1;32m";
constexpr std::string_view kRed = "\x1b[1;31m";
constexpr std::string_view kYellow = "\x1b[1;33m";
constexpr std::string_view kReset = "\x1b[0m";

// `text` in `colour` when the style has colour.
std::string paint(const Style& style, std::string_view colour, const std::string& text) {
  if (!style.colour) return text;
  return std::string(colour) + text + std::string(kReset);
}

// Six hex digits of a hash: enough that the few values of a lesson do not collide, too few to
// say anything about the value.
std::string tag(std::string_view text) {
  char out[8];
  std::snprintf(out, sizeof out, "%06zx", std::hash<std::string_view>{}(text) & 0xffffffU);
  return std::string("#") + out;
}

std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// The "password" member of a JSON object value, when the value is one and has it.
std::optional<std::string> password_of(const model::SecretValue& value) {
  if (value.kind != model::ValueKind::kString) return std::nullopt;
  const json parsed = json::parse(value.bytes, nullptr, false);
  if (!parsed.is_object()) return std::nullopt;
  const auto found = parsed.find("password");
  if (found == parsed.end() || !found->is_string()) return std::nullopt;
  return found->get<std::string>();
}

std::string password_text(const std::string& password, bool show_values) {
  return show_values ? password : "pw" + tag(password);
}

// The name in a secret ARN (arn:...:secret:NAME-abcdef), or the text as it is.
std::string secret_name(std::string_view arn) {
  const auto at = arn.find(":secret:");
  if (at == std::string_view::npos) return std::string(arn);
  std::string_view rest = arn.substr(at + 8);
  if (rest.size() > 7 && rest[rest.size() - 7] == '-') rest.remove_suffix(7);
  return std::string(rest);
}

const SecretView* find_secret(const Frame& frame, const std::string& name) {
  for (const auto& secret : frame.secrets) {
    if (secret.name == name) return &secret;
  }
  return nullptr;
}

const SecretView::Version* find_version(const SecretView* secret, const std::string& id) {
  if (!secret) return nullptr;
  for (const auto& version : secret->versions) {
    if (version.id == id) return &version;
  }
  return nullptr;
}

bool has_label(const SecretView::Version* version, const std::string& label) {
  return version && std::find(version->labels.begin(), version->labels.end(), label) != version->labels.end();
}

const SecretView::Version* holder(const SecretView& secret, std::string_view label) {
  for (const auto& version : secret.versions) {
    if (std::find(version.labels.begin(), version.labels.end(), label) != version.labels.end()) return &version;
  }
  return nullptr;
}

// The columns of a secret's table: the three AWS labels in use before or after, then the others
// alphabetically.
std::vector<std::string> columns_of(const SecretView& after, const SecretView* before) {
  std::set<std::string> used;
  for (const auto* secret : {&after, before}) {
    if (!secret) continue;
    for (const auto& version : secret->versions) used.insert(version.labels.begin(), version.labels.end());
  }
  std::vector<std::string> columns;
  for (const std::string_view known : {labels::kCurrent, labels::kPending, labels::kPrevious}) {
    if (used.erase(std::string(known))) columns.emplace_back(known);
  }
  columns.insert(columns.end(), used.begin(), used.end());
  return columns;
}

// The versions x labels table of `after`, marking what changed since `before` (nullptr: the
// secret is new, or there is nothing to compare with when `compare` is false).
std::string render_table(const SecretView& after, const SecretView* before, bool compare, const Style& style,
                         bool& marked) {
  std::ostringstream out;
  out << paint(style, kBold, after.name) << "  " << after.arn << "\n";
  if (after.versions.empty()) {
    out << "    (no versions)\n";
    return out.str();
  }
  const auto columns = columns_of(after, before);
  std::size_t id_width = std::string_view("VersionId").size();
  for (const auto& version : after.versions) id_width = std::max(id_width, version.id.size());
  out << "    " << std::left << std::setw(static_cast<int>(id_width)) << "VersionId";
  for (const auto& column : columns) out << "  " << column;
  out << "  Value\n";
  for (const auto& version : after.versions) {
    const auto* old = find_version(before, version.id);
    const bool new_row = compare && !old;
    marked = marked || new_row;
    out << (new_row ? paint(style, kGreen, "+ ") : "  ") << "  "
        << (new_row ? paint(style, kGreen, version.id) : version.id)
        << std::string(id_width - version.id.size(), ' ');
    for (const auto& column : columns) {
      const bool has = has_label(&version, column);
      const bool had = compare && has_label(old, column);
      std::string cell = has ? "X" : ".";
      std::string_view colour;
      if (compare && has && !had) {
        cell = "+X";
        colour = kGreen;
      } else if (compare && !has && had) {
        cell = "-";
        colour = kRed;
      }
      if (!colour.empty()) marked = true;
      const std::string padded = cell + std::string(column.size() - std::min(column.size(), cell.size()), ' ');
      out << "  " << (colour.empty() ? padded : paint(style, colour, cell) + padded.substr(cell.size()));
    }
    std::string value = version.value.empty() ? "(no value)" : value_text(version.value, style.show_values);
    if (compare && old && old->value != version.value) {
      value = paint(style, kYellow, value + " *");
      marked = true;
    }
    out << "  " << value << "\n";
  }
  if (!after.rotation.empty()) out << "    " << after.rotation << "\n";
  return out.str();
}

// "AWSCURRENT   22222222  {...}" for the three AWS labels.
std::string render_labels(const SecretView& secret, const Style& style) {
  std::ostringstream out;
  for (const std::string_view label : {labels::kCurrent, labels::kPending, labels::kPrevious}) {
    out << "    " << std::left << std::setw(12) << label;
    if (const auto* version = holder(secret, label)) {
      out << version->id << "  "
          << (version->value.empty() ? "(no value yet)" : full_value_text(version->value, style.show_values));
    } else {
      out << "(on no version)";
    }
    out << "\n";
  }
  return out.str();
}

std::string database_name(const SimulatedDatabase::Address& address) {
  std::string name = address.engine + "://" + address.host;
  if (address.port != 0) name += ":" + std::to_string(address.port);
  if (!address.dbname.empty()) name += "/" + address.dbname;
  return name;
}

std::string render_databases(const Frame& after, const Frame& before, bool compare, const Style& style) {
  std::ostringstream out;
  for (const auto& [address, database] : after.databases) {
    const auto old = before.databases.find(address);
    out << "  database " << database_name(address) << ":";
    for (const auto& [user, password] : database.passwords) {
      std::string text = user + " " + password_text(password, style.show_values);
      const bool changed = compare && (old == before.databases.end() || !old->second.passwords.contains(user) ||
                                       old->second.passwords.at(user) != password);
      out << "  " << (changed ? paint(style, kYellow, text + " *") : text);
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace

// --- values ---------------------------------------------------------------------------------

std::string value_text(const model::SecretValue& value, bool show_values) {
  if (value.empty()) return "(no value)";
  if (const auto password = password_of(value)) return password_text(*password, show_values);
  if (value.kind == model::ValueKind::kBinary) {
    return show_values ? "(binary, " + std::to_string(value.bytes.size()) + " bytes)" : "bin" + tag(value.bytes);
  }
  return show_values ? dump(json(value.bytes)) : tag(value.bytes);
}

std::string full_value_text(const model::SecretValue& value, bool show_values) {
  if (value.kind != model::ValueKind::kString) return value_text(value, show_values);
  if (show_values) return value.bytes;
  if (!password_of(value)) return value_text(value, show_values);
  json parsed = json::parse(value.bytes, nullptr, false);
  parsed["password"] = password_text(parsed["password"].get<std::string>(), false);
  return dump(parsed);
}

// --- the lesson -----------------------------------------------------------------------------

scenarios::Scenario lab_scenario() {
  // The file is checked when it is built in (tests/replay runs it); a parse failure here would
  // be a build that bypassed CMake.
  auto scenario = scenarios::parse_scenario(json::parse(kLabJson));
  if (!scenario) throw std::logic_error("the embedded lab.json does not parse: " + scenario.error().message);
  return std::move(*scenario);
}

Lesson::Lesson(scenarios::Scenario scenario)
    : scenario_(std::move(scenario)), runner_(std::make_unique<scenarios::Runner>(scenario_.setup)) {
  setup_.count = scenario_.steps.size();
  setup_.before.clock = service().clock().now();
  setup_.outcome.failure = runner_->setup_failure();
  setup_.after = capture();
  setup_.events = service().events().read(0);
  std::vector<std::string> functions;
  for (const auto& function : scenario_.setup.functions) functions.push_back(function.arn + " = " + function.spec);
  setup_.explanation = "Set up: the virtual clock starts at " + iso8601(setup_.after.clock) + "; " +
                       std::to_string(scenario_.setup.secrets.size()) + " secret(s) created";
  if (!functions.empty()) {
    setup_.explanation += "; rotation function";
    for (std::size_t i = 0; i < functions.size(); ++i) setup_.explanation += (i ? ", " : " ") + functions[i];
    setup_.explanation += " registered";
  }
  setup_.explanation += ".";
}

StepView Lesson::play() {
  StepView view;
  view.index = next_;
  view.count = scenario_.steps.size();
  view.step = scenario_.steps[next_ - 1];
  view.before = capture();
  const auto labels_before = scenarios::label_state(service(), runner_->region());
  const auto first = service().events().last_sequence();
  view.outcome = runner_->run(*view.step, next_);
  ++next_;
  view.events = service().events().read(first);
  view.after = capture();
  view.explanation = scenarios::explain(*view.step, view.outcome, view.events, labels_before,
                                        scenarios::label_state(service(), runner_->region()));
  return view;
}

Frame Lesson::capture() {
  Frame frame;
  frame.clock = service().clock().now();
  service().inspect_all(runner_->region(), [&](const model::Secret& secret) {
    SecretView view;
    view.name = secret.meta.name;
    view.arn = service().arn_of(secret.meta);
    for (const auto& version : secret.versions()) {
      view.versions.push_back({version.id, secret.labels_of(version), version.value});
    }
    if (const auto& run = secret.run()) {
      view.rotation = "rotation " + run->token + ": " + std::string(model::step_name(run->step)) +
                      " next, attempt " + std::to_string(run->attempt) + ", " + std::string(model::phase_name(run->phase));
    } else if (const auto& next = secret.meta.rotation.next_rotation; next && secret.meta.rotation.enabled.value_or(false)) {
      view.rotation = "next scheduled rotation: " + iso8601(*next);
    }
    frame.secrets.push_back(std::move(view));
  });
  std::sort(frame.secrets.begin(), frame.secrets.end(),
            [](const SecretView& a, const SecretView& b) { return a.name < b.name; });
  frame.databases = service().database().snapshot();
  return frame;
}

// --- drawing --------------------------------------------------------------------------------

std::string event_line(const Event& event) {
  std::ostringstream out;
  out << "#" << event.sequence << " " << iso8601(event.time) << " " << event.name;
  if (!event.secret_arn.empty()) out << " " << secret_name(event.secret_arn);
  if (event.kind == EventKind::kLabelUpdated && !event.labels.empty()) {
    out << ": " << event.labels.front() << " -> " << event.version_id;
  } else if (!event.version_id.empty()) {
    out << " version " << event.version_id;
  }
  if (event.attempt > 0) out << " attempt " << event.attempt;
  if (!event.step.empty()) out << " at " << event.step;
  if (event.error) out << " (" << aws_name(*event.error) << ")";
  if (event.kind == EventKind::kServiceEvent && !event.message.empty()) out << ": " << event.message;
  return out.str();
}

std::string render_step(const StepView& view, const Style& style) {
  std::ostringstream out;
  const std::string what = view.step ? scenarios::describe(*view.step) : "setup";
  out << paint(style, kBold, "== step " + std::to_string(view.index) + "/" + std::to_string(view.count) + ": " + what +
                                 " ==")
      << "\n";
  out << "clock " << iso8601(view.after.clock) << "\n";
  if (view.step && !view.step->note.empty()) out << "# " << view.step->note << "\n";
  const bool compare = view.index > 0;
  bool marked = false;
  for (const auto& secret : view.after.secrets) {
    out << render_table(secret, compare ? find_secret(view.before, secret.name) : nullptr, compare, style, marked);
  }
  if (marked) out << "    (+ new version, +X label arrived, - label left, * new value)\n";
  out << "-> " << view.explanation << "\n";
  for (const auto& secret : view.after.secrets) {
    if (view.after.secrets.size() > 1) out << "  " << secret.name << "\n";
    out << render_labels(secret, style);
  }
  out << render_databases(view.after, view.before, compare, style);
  for (const auto& event : view.events) out << "  event " << event_line(event) << "\n";
  if (view.outcome.failure) out << paint(style, kRed, "UNMET: " + view.outcome.failure->message) << "\n";
  return out.str();
}

}  // namespace smemu::cli::lesson
