// Scenario files: parsing and writing (scenario.h, docs/scenarios.md).
#include "smemu/scenarios/scenario.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "smemu/emulator/client.h"
#include "smemu/emulator/event_log.h"

namespace smemu::scenarios {
namespace {

using nlohmann::json;

constexpr std::string_view kFaultKindNames[] = {"fail", "timeout", "crash", "duplicate", "reinvoke"};
constexpr FaultKind kFaultKinds[] = {FaultKind::kFail, FaultKind::kTimeout, FaultKind::kCrash, FaultKind::kDuplicate,
                                     FaultKind::kReinvoke};
constexpr model::Outcome kOutcomes[] = {model::Outcome::kOk, model::Outcome::kError, model::Outcome::kTimeout};
// The members of a step that name its action; exactly one of them is present.
constexpr std::string_view kActionMembers[] = {"call", "advance", "rotation_step", "run_until_idle", "fault"};

Error invalid(const std::string& path, std::string_view what) {
  return make_error(ErrorCode::InvalidParameter, path + ": " + std::string(what));
}

std::string type_name(const json& value) { return value.type_name(); }

// Reads the members of one JSON object, remembering the first thing wrong with the file (later
// reads then answer defaults and are ignored) and which members were read, so that finish() can
// name the first member nobody asked for. Keeps the parser free of exceptions and early returns.
class Reader {
 public:
  Reader(const json& object, std::string path, std::optional<Error>& error)
      : object_(object), path_(std::move(path)), error_(error) {
    if (!error_ && !object_.is_object()) fail(path_, "expected an object, got " + type_name(object_));
  }

  const std::string& path() const { return path_; }
  std::string member_path(std::string_view name) const { return path_.empty() ? std::string(name) : path_ + "." + std::string(name); }
  bool failed() const { return error_.has_value(); }
  void fail(const std::string& path, std::string_view what) {
    if (!error_) error_ = invalid(path, what);
  }

  // The member `name`, or nullptr when absent (or after an error).
  const json* find(std::string_view name) {
    if (failed()) return nullptr;
    seen_.insert(std::string(name));
    const auto it = object_.find(std::string(name));
    return it == object_.end() ? nullptr : &*it;
  }
  bool has(std::string_view name) const { return !failed() && object_.contains(std::string(name)); }

  const json* required(std::string_view name) {
    const json* value = find(name);
    if (!value) fail(member_path(name), "missing");
    return value;
  }

  std::optional<std::string> string(std::string_view name, bool needed = false) {
    const json* value = needed ? required(name) : find(name);
    if (!value) return std::nullopt;
    if (!value->is_string()) {
      fail(member_path(name), "expected a string, got " + type_name(*value));
      return std::nullopt;
    }
    return value->get<std::string>();
  }

  std::optional<bool> boolean(std::string_view name) {
    const json* value = find(name);
    if (!value) return std::nullopt;
    if (!value->is_boolean()) {
      fail(member_path(name), "expected true or false, got " + type_name(*value));
      return std::nullopt;
    }
    return value->get<bool>();
  }

  // A JSON integer in [min, max].
  std::optional<std::uint64_t> unsigned_integer(std::string_view name, std::uint64_t min, std::uint64_t max) {
    const json* value = find(name);
    if (!value) return std::nullopt;
    const bool in_range = value->is_number_unsigned() ||
                          (value->is_number_integer() && value->get<std::int64_t>() >= 0);
    if (!in_range || value->get<std::uint64_t>() < min || value->get<std::uint64_t>() > max) {
      fail(member_path(name), "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
      return std::nullopt;
    }
    return value->get<std::uint64_t>();
  }

  // `true`, for the members whose presence is the whole statement ("rotation_step": true).
  void must_be_true(std::string_view name) {
    const json* value = find(name);
    if (value && !(value->is_boolean() && value->get<bool>())) fail(member_path(name), "expected true");
  }

  // Names the first member that was not read, if any.
  void finish() {
    if (failed()) return;
    for (const auto& [name, value] : object_.items()) {
      if (!seen_.contains(name)) {
        fail(member_path(name), "unknown member");
        return;
      }
    }
  }

 private:
  const json& object_;
  std::string path_;
  std::optional<Error>& error_;
  std::set<std::string, std::less<>> seen_;
};

std::string index_path(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

// --- time ----------------------------------------------------------------------------------

bool read_digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) return false;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return std::from_chars(text.data() + at, text.data() + at + count, out).ec == std::errc{};
}

// YYYY-MM-DDTHH:MM:SS[.fff]Z: UTC only, so that a file means the same moment everywhere.
std::optional<Timestamp> parse_iso8601(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!read_digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' || !read_digits(text, 5, 2, month) ||
      text[7] != '-' || !read_digits(text, 8, 2, day) || text[10] != 'T' || !read_digits(text, 11, 2, hour) ||
      text[13] != ':' || !read_digits(text, 14, 2, minute) || text[16] != ':' || !read_digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  std::size_t at = 19;
  if (text[at] == '.') {
    if (!read_digits(text, at + 1, 3, millis)) return std::nullopt;
    at += 4;
  }
  if (at + 1 != text.size() || text[at] != 'Z') return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  return Timestamp{std::chrono::sys_days{date}} + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second) + Duration(millis);
}

std::string format_iso8601(Timestamp time) {
  std::string text = iso8601(time);  // whole seconds, "...:SSZ"
  const auto millis = epoch_ms(time) - epoch_ms(std::chrono::floor<std::chrono::seconds>(time));
  if (millis != 0) {
    std::string fraction = std::to_string(1000 + millis).substr(1);
    text.insert(text.size() - 1, "." + fraction);
  }
  return text;
}

// --- durations -----------------------------------------------------------------------------

struct Unit {
  char suffix;
  std::int64_t millis;
};
constexpr Unit kUnits[] = {{'d', 86'400'000}, {'h', 3'600'000}, {'m', 60'000}, {'s', 1'000}};

// A number of seconds, whole or with up to three decimals (milliseconds).
std::optional<Duration> parse_seconds(std::string_view text) {
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::int64_t seconds = 0;
  if (whole.empty() || std::from_chars(whole.data(), whole.data() + whole.size(), seconds).ptr !=
                           whole.data() + whole.size() || whole.front() == '-' || whole.front() == '+') {
    return std::nullopt;
  }
  std::int64_t millis = 0;
  if (dot != std::string_view::npos) {
    const std::string_view fraction = text.substr(dot + 1);
    if (fraction.empty() || fraction.size() > 3) return std::nullopt;
    for (char c : fraction) {
      if (c < '0' || c > '9') return std::nullopt;
      millis = millis * 10 + (c - '0');
    }
    for (std::size_t i = fraction.size(); i < 3; ++i) millis *= 10;
  }
  // Ten thousand years is far beyond any scenario; the bound keeps the arithmetic exact.
  if (seconds > 315'360'000'000) return std::nullopt;
  return Duration(seconds * 1000 + millis);
}

json duration_json(Duration duration) {
  const auto millis = duration.count();
  for (const Unit& unit : kUnits) {
    if (millis != 0 && millis % unit.millis == 0) return std::to_string(millis / unit.millis) + unit.suffix;
  }
  if (millis == 0) return "0s";
  return std::to_string(millis / 1000) + "." + std::to_string(1000 + millis % 1000).substr(1);
}

std::string duration_text(Duration duration) { return duration_json(duration).get<std::string>(); }

// --- points, faults, expectations -----------------------------------------------------------

std::optional<model::Step> read_rotation_step(Reader& reader, std::string_view name, bool needed) {
  const auto text = reader.string(name, needed);
  if (!text) return std::nullopt;
  const auto step = model::parse_step(*text);
  if (!step) reader.fail(reader.member_path(name), "expected createSecret, setSecret, testSecret or finishSecret");
  return step;
}

bool is_operation(std::string_view name) {
  return std::find(std::begin(kOperationNames), std::end(kOperationNames), name) != std::end(kOperationNames);
}

Point read_point(const json& value, const std::string& path, std::optional<Error>& error) {
  Reader reader(value, path, error);
  Point point;
  point.secret = reader.string("secret").value_or("");
  point.step = read_rotation_step(reader, "step", true).value_or(model::Step::kCreateSecret);
  point.after_call = reader.string("after_call");
  if (point.after_call && !is_operation(*point.after_call)) {
    reader.fail(reader.member_path("after_call"), "'" + *point.after_call + "' is not an operation");
  }
  if (reader.has("occurrence") && !point.after_call) {
    reader.fail(reader.member_path("occurrence"), "counts calls of after_call, which is absent");
  }
  point.occurrence = static_cast<std::uint32_t>(reader.unsigned_integer("occurrence", 1, UINT32_MAX).value_or(1));
  reader.finish();
  return point;
}

json point_json(const Point& point) {
  json out = json::object();
  if (!point.secret.empty()) out["secret"] = point.secret;
  out["step"] = model::step_name(point.step);
  if (point.after_call) {
    out["after_call"] = *point.after_call;
    if (point.occurrence != 1) out["occurrence"] = point.occurrence;
  }
  return out;
}

Fault read_fault(const json& value, const std::string& path, std::optional<Error>& error) {
  Reader reader(value, path, error);
  Fault fault;
  if (const auto kind = reader.string("kind", true)) {
    const auto* found = std::find(std::begin(kFaultKindNames), std::end(kFaultKindNames), *kind);
    if (found == std::end(kFaultKindNames)) {
      reader.fail(reader.member_path("kind"), "expected fail, timeout, crash, duplicate or reinvoke");
    } else {
      fault.kind = kFaultKinds[found - std::begin(kFaultKindNames)];
    }
  }
  if (const json* at = reader.required("at")) fault.at = read_point(*at, reader.member_path("at"), error);
  // These three act on a whole invocation of a step, not between two of the function's calls.
  const bool whole_step = fault.kind == FaultKind::kFail || fault.kind == FaultKind::kTimeout ||
                          fault.kind == FaultKind::kReinvoke;
  if (whole_step && fault.at.after_call) {
    reader.fail(reader.member_path("at.after_call"),
                "a " + std::string(fault_kind_name(fault.kind)) + " fault acts on the whole step, not after a call");
  }
  reader.finish();
  return fault;
}

LabelTable read_label_table(const json& value, const std::string& path, std::optional<Error>& error) {
  LabelTable table;
  Reader reader(value, path, error);
  if (reader.failed()) return table;
  for (const auto& [version, labels] : value.items()) {
    const std::string version_path = reader.member_path(version);
    reader.find(version);
    if (!labels.is_array() || labels.empty()) {
      reader.fail(version_path, "expected a non-empty array of labels (list only versions that carry one)");
      break;
    }
    std::vector<std::string> sorted;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (!labels[i].is_string()) {
        reader.fail(index_path(version_path, i), "expected a string, got " + type_name(labels[i]));
        break;
      }
      sorted.push_back(labels[i].get<std::string>());
    }
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      reader.fail(version_path, "a label is listed twice");
    }
    table[version] = std::move(sorted);
  }
  return table;
}

Expectation read_expectation(const json& value, const std::string& path, const Action& action,
                             std::optional<Error>& error) {
  Reader reader(value, path, error);
  Expectation expect;
  expect.ok = reader.boolean("ok");
  expect.error = reader.string("error");
  if (const json* response = reader.find("response")) {
    if (!response->is_object()) {
      reader.fail(reader.member_path("response"), "expected an object, got " + type_name(*response));
    }
    expect.response = *response;
  }
  if (expect.ok.value_or(false) && expect.error) {
    reader.fail(reader.member_path("error"), "contradicts \"ok\": true");
  }
  if ((expect.ok || expect.error || expect.response) && !std::holds_alternative<Call>(action)) {
    reader.fail(path, "ok, error and response are the result of a call; this step makes none");
  }
  if (const json* labels = reader.find("labels")) {
    Reader secrets(*labels, reader.member_path("labels"), error);
    if (!secrets.failed()) {
      for (const auto& [secret, table] : labels->items()) {
        secrets.find(secret);
        expect.labels[secret] = read_label_table(table, secrets.member_path(secret), error);
      }
    }
  }
  if (const json* values = reader.find("values")) {
    Reader secrets(*values, reader.member_path("values"), error);
    if (!secrets.failed()) {
      for (const auto& [secret, by_label] : values->items()) {
        secrets.find(secret);
        Reader labels(by_label, secrets.member_path(secret), error);
        if (labels.failed()) break;
        for (const auto& [label, text] : by_label.items()) {
          if (const auto string = labels.string(label)) expect.values[secret][label] = *string;
        }
      }
    }
  }
  if (const json* events = reader.find("events")) {
    std::vector<std::string> names;
    if (!events->is_array()) reader.fail(reader.member_path("events"), "expected an array of event names");
    for (std::size_t i = 0; !reader.failed() && i < events->size(); ++i) {
      if (!(*events)[i].is_string()) {
        reader.fail(index_path(reader.member_path("events"), i), "expected a string");
      } else {
        names.push_back((*events)[i].get<std::string>());
      }
    }
    expect.events = std::move(names);
  }
  if (const json* rotation = reader.find("rotation")) {
    if (!std::holds_alternative<RotationStep>(action)) {
      reader.fail(reader.member_path("rotation"), "only a rotation_step step runs a rotation step");
    }
    Reader fields(*rotation, reader.member_path("rotation"), error);
    RotationExpect rotation_expect;
    rotation_expect.step = read_rotation_step(fields, "step", false);
    if (const auto outcome = fields.string("outcome")) {
      const auto* found = std::find_if(std::begin(kOutcomes), std::end(kOutcomes),
                                       [&](model::Outcome o) { return model::outcome_name(o) == *outcome; });
      if (found == std::end(kOutcomes)) {
        fields.fail(fields.member_path("outcome"), "expected ok, error or timeout");
      } else {
        rotation_expect.outcome = *found;
      }
    }
    fields.finish();
    expect.rotation = rotation_expect;
  }
  reader.finish();
  return expect;
}

json expectation_json(const Expectation& expect) {
  json out = json::object();
  if (expect.ok) out["ok"] = *expect.ok;
  if (expect.error) out["error"] = *expect.error;
  if (expect.response) out["response"] = *expect.response;
  if (!expect.labels.empty()) {
    json& labels = out["labels"] = json::object();
    for (const auto& [secret, table] : expect.labels) {
      labels[secret] = json::object();
      for (const auto& [version, names] : table) labels[secret][version] = names;
    }
  }
  if (!expect.values.empty()) out["values"] = expect.values;
  if (expect.events) out["events"] = *expect.events;
  if (expect.rotation) {
    json& rotation = out["rotation"] = json::object();
    if (expect.rotation->step) rotation["step"] = model::step_name(*expect.rotation->step);
    if (expect.rotation->outcome) rotation["outcome"] = model::outcome_name(*expect.rotation->outcome);
  }
  return out;
}

// --- steps and setup -----------------------------------------------------------------------

Step read_step(const json& value, const std::string& path, std::optional<Error>& error) {
  Reader reader(value, path, error);
  Step step;
  if (reader.failed()) return step;
  std::vector<std::string_view> actions;
  for (std::string_view member : kActionMembers) {
    if (reader.has(member)) actions.push_back(member);
  }
  if (actions.size() != 1) {
    reader.fail(path, actions.empty() ? "expected one of call, advance, rotation_step, run_until_idle, fault"
                                      : "has both " + std::string(actions[0]) + " and " + std::string(actions[1]));
    return step;
  }
  const std::string_view action = actions.front();
  if (action == "call") {
    Call call;
    call.operation = reader.string("call").value_or("");
    if (!reader.failed() && !is_operation(call.operation)) {
      reader.fail(reader.member_path("call"), "'" + call.operation + "' is not an operation");
    }
    if (const json* request = reader.find("request")) {
      if (!request->is_object()) reader.fail(reader.member_path("request"), "expected an object");
      call.request = *request;
    }
    if (const json* during = reader.find("during")) call.during = read_point(*during, reader.member_path("during"), error);
    step.action = std::move(call);
  } else if (action == "advance") {
    const json* by = reader.find("advance");
    std::optional<Duration> duration;
    if (by->is_string()) {
      duration = parse_duration(by->get<std::string>());
    } else if (by->is_number() && by->get<double>() >= 0 && by->get<double>() < 315'360'000'000.0) {
      duration = Duration(std::llround(by->get<double>() * 1000));
    }
    if (!duration) {
      reader.fail(reader.member_path("advance"),
                  "expected a duration such as \"30d\", \"12h\", \"90m\", \"45s\" or a number of seconds");
    }
    step.action = Advance{duration.value_or(Duration{})};
  } else if (action == "rotation_step") {
    reader.must_be_true("rotation_step");
    step.action = RotationStep{};
  } else if (action == "run_until_idle") {
    reader.must_be_true("run_until_idle");
    step.action = RunUntilIdle{};
  } else {
    step.action = ArmFault{read_fault(*reader.find("fault"), reader.member_path("fault"), error)};
  }
  if (reader.has("during") && action != "call") reader.fail(reader.member_path("during"), "only a call can wait");
  if (reader.has("request") && action != "call") reader.fail(reader.member_path("request"), "only a call has one");
  if (const json* expect = reader.find("expect")) {
    step.expect = read_expectation(*expect, reader.member_path("expect"), step.action, error);
  }
  step.note = reader.string("note").value_or("");
  reader.finish();
  return step;
}

json step_json(const Step& step) {
  json out = json::object();
  std::visit(
      [&](const auto& action) {
        using T = std::decay_t<decltype(action)>;
        if constexpr (std::is_same_v<T, Call>) {
          out["call"] = action.operation;
          out["request"] = action.request;
          if (action.during) out["during"] = point_json(*action.during);
        } else if constexpr (std::is_same_v<T, Advance>) {
          out["advance"] = duration_json(action.by);
        } else if constexpr (std::is_same_v<T, RotationStep>) {
          out["rotation_step"] = true;
        } else if constexpr (std::is_same_v<T, RunUntilIdle>) {
          out["run_until_idle"] = true;
        } else {
          out["fault"] = {{"kind", fault_kind_name(action.fault.kind)}, {"at", point_json(action.fault.at)}};
        }
      },
      step.action);
  if (const json expect = expectation_json(step.expect); !expect.empty()) out["expect"] = expect;
  if (!step.note.empty()) out["note"] = step.note;
  return out;
}

Setup read_setup(const json& value, const std::string& path, std::optional<Error>& error) {
  Reader reader(value, path, error);
  Setup setup;
  setup.seed = reader.unsigned_integer("seed", 0, UINT64_MAX).value_or(0);
  setup.region = reader.string("region").value_or(setup.region);
  if (const auto clock = reader.string("clock")) {
    setup.clock = parse_iso8601(*clock);
    if (!setup.clock) reader.fail(reader.member_path("clock"), "expected a UTC time such as 2026-01-01T00:00:00Z");
  }
  if (const json* functions = reader.find("functions")) {
    if (!functions->is_array()) reader.fail(reader.member_path("functions"), "expected an array");
    for (std::size_t i = 0; !reader.failed() && i < functions->size(); ++i) {
      Reader function((*functions)[i], index_path(reader.member_path("functions"), i), error);
      FunctionSetup entry;
      entry.arn = function.string("arn", true).value_or("");
      entry.spec = function.string("spec", true).value_or("");
      function.finish();
      setup.functions.push_back(std::move(entry));
    }
  }
  if (const json* secrets = reader.find("secrets")) {
    if (!secrets->is_array()) reader.fail(reader.member_path("secrets"), "expected an array");
    for (std::size_t i = 0; !reader.failed() && i < secrets->size(); ++i) {
      if (!(*secrets)[i].is_object()) {
        reader.fail(index_path(reader.member_path("secrets"), i), "expected a CreateSecret request (an object)");
      }
      setup.secrets.push_back((*secrets)[i]);
    }
  }
  setup.test_plant_bug = reader.boolean("test_plant_bug").value_or(false);
  reader.finish();
  return setup;
}

json setup_json(const Setup& setup) {
  json out = {{"seed", setup.seed}, {"region", setup.region}};
  if (setup.clock) out["clock"] = format_iso8601(*setup.clock);
  if (!setup.functions.empty()) {
    json& functions = out["functions"] = json::array();
    for (const auto& function : setup.functions) functions.push_back({{"arn", function.arn}, {"spec", function.spec}});
  }
  if (!setup.secrets.empty()) out["secrets"] = setup.secrets;
  if (setup.test_plant_bug) out["test_plant_bug"] = true;
  return out;
}

std::string point_text(const Point& point) {
  std::string text(model::step_name(point.step));
  if (!point.secret.empty()) text += " of " + point.secret;
  if (point.after_call) {
    text += " after " + *point.after_call;
    if (point.occurrence != 1) text += " #" + std::to_string(point.occurrence);
  }
  return text;
}

}  // namespace

std::string_view fault_kind_name(FaultKind kind) { return kFaultKindNames[static_cast<std::size_t>(kind)]; }

std::optional<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (const Unit& unit : kUnits) {
    if (text.back() != unit.suffix) continue;
    const std::string_view number = text.substr(0, text.size() - 1);
    std::int64_t count = 0;
    const auto [end, problem] = std::from_chars(number.data(), number.data() + number.size(), count);
    if (number.empty() || problem != std::errc{} || end != number.data() + number.size() || count < 0 ||
        number.front() == '-' || count > 315'360'000'000'000 / unit.millis) {
      return std::nullopt;
    }
    return Duration(count * unit.millis);
  }
  return parse_seconds(text);
}

Result<Scenario> parse_scenario(const nlohmann::json& file) {
  std::optional<Error> error;
  Scenario scenario;
  Reader reader(file, "", error);
  if (reader.failed()) return invalid("scenario", "expected a JSON object, got " + type_name(file));
  const json* version = reader.find("version");
  if (!version) {
    reader.fail("version", "missing (this format is version " + std::to_string(kFormatVersion) + ")");
  } else if (!version->is_number_integer() || version->get<std::int64_t>() != kFormatVersion) {
    reader.fail("version", "unsupported " + version->dump() + " (this smemu reads version " +
                               std::to_string(kFormatVersion) + ")");
  }
  scenario.name = reader.string("name").value_or("");
  scenario.description = reader.string("description").value_or("");
  if (const json* setup = reader.find("setup")) scenario.setup = read_setup(*setup, "setup", error);
  if (const json* steps = reader.find("steps")) {
    if (!steps->is_array()) reader.fail("steps", "expected an array");
    for (std::size_t i = 0; !reader.failed() && i < steps->size(); ++i) {
      scenario.steps.push_back(read_step((*steps)[i], index_path("steps", i), error));
    }
  }
  reader.finish();
  if (error) return std::move(*error);
  return scenario;
}

Result<Scenario> load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::InvalidParameter, path + ": cannot open the file");
  std::ostringstream text;
  text << in.rdbuf();
  const json file = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (file.is_discarded()) return make_error(ErrorCode::InvalidParameter, path + ": not valid JSON");
  auto scenario = parse_scenario(file);
  if (!scenario) return make_error(ErrorCode::InvalidParameter, path + ": " + scenario.error().message);
  return scenario;
}

nlohmann::json to_json(const Scenario& scenario) {
  json out = {{"version", scenario.version}};
  if (!scenario.name.empty()) out["name"] = scenario.name;
  if (!scenario.description.empty()) out["description"] = scenario.description;
  out["setup"] = setup_json(scenario.setup);
  json& steps = out["steps"] = json::array();
  for (const auto& step : scenario.steps) steps.push_back(step_json(step));
  return out;
}

Status save_scenario(const Scenario& scenario, const std::string& path) {
  // A scenario holds secret values: the file is created readable by its owner only (D19).
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorCode::InvalidParameter, path + ": cannot write the file");
  const bool private_mode = ::fchmod(fd, 0600) == 0;  // a file that existed keeps its mode otherwise
  ::close(fd);
  if (!private_mode) return make_error(ErrorCode::InvalidParameter, path + ": cannot make the file private");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(ErrorCode::InvalidParameter, path + ": cannot write the file");
  out << to_json(scenario).dump(2) << "\n";
  out.flush();
  if (!out) return make_error(ErrorCode::InvalidParameter, path + ": cannot write the file");
  return ok_status();
}

std::string describe(const Step& step) {
  return std::visit(
      [](const auto& action) -> std::string {
        using T = std::decay_t<decltype(action)>;
        if constexpr (std::is_same_v<T, Call>) {
          std::string text = action.operation;
          // The members that say what the call acts on; never a value (D19).
          for (const char* member : {"SecretId", "Name", "VersionStage", "MoveToVersionId", "RemoveFromVersionId"}) {
            const auto it = action.request.find(member);
            if (it != action.request.end() && it->is_string()) text += " " + std::string(member) + "=" + it->template get<std::string>();
          }
          if (action.during) text += " during " + point_text(*action.during);
          return text;
        } else if constexpr (std::is_same_v<T, Advance>) {
          return "advance " + duration_text(action.by);
        } else if constexpr (std::is_same_v<T, RotationStep>) {
          return "rotation step";
        } else if constexpr (std::is_same_v<T, RunUntilIdle>) {
          return "run until idle";
        } else {
          return "fault " + std::string(fault_kind_name(action.fault.kind)) + " at " + point_text(action.fault.at);
        }
      },
      step.action);
}

}  // namespace smemu::scenarios
