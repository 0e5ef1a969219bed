// Every constraint of the vendored service model, exercised through the JSON dispatch.
//
// The model is read here at run time, on its own terms rather than through the generator: for
// each operation and each input member with a constraint (required, length, range, pattern,
// enum, list size), nested structures and list elements included, an otherwise valid request is
// sent with the member just outside each bound, at each bound, breaking its pattern, outside its
// enum, and absent. Every check that ran is recorded; the test fails when the model holds an
// operation or a constraint that was not exercised, so a model update cannot slip past the
// validation unnoticed.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "smemu/emulator/client.h"
#include "smemu/emulator/service.h"

namespace {

using nlohmann::json;

constexpr std::size_t kModelOperationCount = 23;

json load_model() {
  std::ifstream in(std::string(SMEMU_TEST_DATA) + "/botocore-data/secretsmanager/2017-10-17/service-2.json");
  REQUIRE(in.good());
  return json::parse(in);
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

std::string base64(std::string_view bytes) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                   static_cast<unsigned char>(bytes[i + 2]);
    for (const int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 0x3F];
  }
  if (i + 1 == bytes.size()) {
    const auto n = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 0x3F];
    out += kAlphabet[(n >> 12) & 0x3F];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 0x3F];
    out += kAlphabet[(n >> 12) & 0x3F];
    out += kAlphabet[(n >> 6) & 0x3F];
    out += '=';
  }
  return out;
}

std::string repeat(std::string_view unit, std::size_t times) {
  std::string out;
  out.reserve(unit.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}

// AWS names members in validation messages in lowerCamel: SecretId -> secretId.
std::string lower_camel(std::string name) {
  name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[0])));
  return name;
}

std::optional<std::int64_t> bound(const json& shape, const char* key) {
  if (!shape.contains(key)) return std::nullopt;
  return shape[key].get<std::int64_t>();
}

// The model's patterns are Java regular expressions that must match the whole value; the few
// the model has read the same in std::regex's ECMAScript grammar.
bool conforms_to_pattern(const json& shape, const std::string& value) {
  return !shape.contains("pattern") || std::regex_match(value, std::regex(shape["pattern"].get<std::string>()));
}

// A string of `length` ASCII characters that satisfies the shape's pattern, or nullopt when
// none of the forms tried fits (e.g. a region pattern at length 1).
std::optional<std::string> conforming_string(const json& shape, std::size_t length) {
  std::vector<std::string> candidates = {std::string(length, 'a'), std::string(length, '1')};
  if (length >= 2) candidates.push_back(std::string(length - 1, '1') + "h");   // durations: 12h
  if (length >= 3) candidates.push_back(std::string(length - 2, 'a') + "-1");  // regions: aa-1
  for (auto& candidate : candidates) {
    if (conforms_to_pattern(shape, candidate)) return candidate;
  }
  return std::nullopt;
}

// The shortest conforming string the shape's bounds allow (at least one character).
std::optional<std::string> shortest_conforming_string(const json& shape) {
  const auto min = std::max<std::int64_t>(bound(shape, "min").value_or(0), 1);
  const auto max = std::min<std::int64_t>(bound(shape, "max").value_or(min + 8), min + 8);
  for (auto length = min; length <= max; ++length) {
    if (auto value = conforming_string(shape, static_cast<std::size_t>(length))) return value;
  }
  return std::nullopt;
}

// One step from a request down to a member: a member of a structure, or the first element of a
// list (an empty `member`).
struct Step {
  std::string member;
};

// A constrained input member of one operation.
struct Target {
  std::string operation;
  std::string input_shape;
  std::vector<Step> steps;
  std::string shape;
  bool required = false;
  std::string path;  // as the messages name it: tags.1.member.key
};

class Model {
 public:
  explicit Model(json model) : model_(std::move(model)) {}

  const json& operations() const { return model_.at("operations"); }
  const json& shape(const std::string& name) const { return model_.at("shapes").at(name); }

  // Every member of every operation's input that is required or has a constraint, depth first.
  std::vector<Target> targets() const {
    std::vector<Target> out;
    for (const auto& [operation, definition] : operations().items()) {
      const auto input = definition.at("input").at("shape").get<std::string>();
      walk(out, Target{operation, input, {}, input, false, ""});
    }
    return out;
  }

  // The constraint kinds the model gives `target`: required, min, max, pattern, enum.
  std::vector<std::string> kinds(const Target& target) const {
    const json& s = shape(target.shape);
    std::vector<std::string> out;
    if (target.required) out.emplace_back("required");
    for (const char* key : {"min", "max", "pattern", "enum"}) {
      if (s.contains(key)) out.emplace_back(key);
    }
    return out;
  }

  // A value that satisfies every constraint of `name`; structures get all their members.
  json valid_value(const std::string& name) const {
    const json& s = shape(name);
    const auto type = s.at("type").get<std::string>();
    if (type == "string") {
      if (s.contains("enum")) return s["enum"][0];
      auto value = shortest_conforming_string(s);
      REQUIRE_MESSAGE(value.has_value(), "no conforming value for shape " << name);
      return *value;
    }
    if (type == "blob") {
      return base64(std::string(static_cast<std::size_t>(std::max<std::int64_t>(bound(s, "min").value_or(1), 1)), 'a'));
    }
    if (type == "integer" || type == "long") return bound(s, "min").value_or(1);
    if (type == "boolean") return false;
    if (type == "list") {
      json list = json::array();
      const auto count = std::max<std::int64_t>(bound(s, "min").value_or(1), 1);
      for (std::int64_t i = 0; i < count; ++i) list.push_back(valid_value(s["member"]["shape"].get<std::string>()));
      return list;
    }
    if (type == "structure") {
      json object = json::object();
      for (const auto& [member, definition] : s["members"].items()) {
        object[member] = valid_value(definition["shape"].get<std::string>());
      }
      return object;
    }
    FAIL("input shape " << name << " has type " << type << ", which this test cannot fill");
    return nullptr;
  }

  // The smallest valid request: its required members, plus the idempotency token a raw request
  // would otherwise lack.
  json base_request(const std::string& input_shape) const {
    const json& s = shape(input_shape);
    json request = json::object();
    const auto required = s.value("required", json::array());
    for (const auto& [member, definition] : s["members"].items()) {
      const bool is_required = std::find(required.begin(), required.end(), member) != required.end();
      if (is_required || definition.value("idempotencyToken", false)) {
        request[member] = valid_value(definition["shape"].get<std::string>());
      }
    }
    return request;
  }

  // `request` with the member at `steps` set to `value`; structures and list elements on the way
  // are created valid when absent.
  json with_value(json request, const Target& target, const json& value) const {
    place(request, target.input_shape, target.steps, value);
    return request;
  }

  // `request` with the member at `steps` removed (its parents present and valid).
  json without(json request, const Target& target) const {
    place(request, target.input_shape, target.steps, valid_value(target.shape));
    json* parent = &request;
    for (std::size_t i = 0; i + 1 < target.steps.size(); ++i) {
      parent = target.steps[i].member.empty() ? &(*parent)[0] : &(*parent)[target.steps[i].member];
    }
    parent->erase(target.steps.back().member);
    return request;
  }

 private:
  void walk(std::vector<Target>& out, const Target& at) const {
    const json& s = shape(at.shape);
    const auto type = s.at("type").get<std::string>();
    if (type == "structure") {
      const auto required = s.value("required", json::array());
      for (const auto& [member, definition] : s["members"].items()) {
        Target child = at;
        child.steps.push_back(Step{member});
        child.shape = definition["shape"].get<std::string>();
        child.required = std::find(required.begin(), required.end(), member) != required.end();
        child.path = at.path.empty() ? lower_camel(member) : at.path + "." + lower_camel(member);
        visit(out, child);
      }
    } else if (type == "list") {
      Target element = at;
      element.steps.push_back(Step{});
      element.shape = s["member"]["shape"].get<std::string>();
      element.required = false;
      element.path = at.path + ".1.member";
      visit(out, element);
    } else if (type == "map") {
      FAIL("input shape " << at.shape << " is a map, which this test does not walk");
    }
  }

  void visit(std::vector<Target>& out, const Target& target) const {
    if (!kinds(target).empty()) out.push_back(target);
    walk(out, target);
  }

  void place(json& node, const std::string& shape_name, std::span<const Step> steps, const json& value) const {
    const json& s = shape(shape_name);
    const Step& step = steps.front();
    json* child = nullptr;
    std::string child_shape;
    if (step.member.empty()) {
      child_shape = s["member"]["shape"].get<std::string>();
      if (node.empty()) node.push_back(valid_value(child_shape));
      child = &node[0];
    } else {
      child_shape = s["members"][step.member]["shape"].get<std::string>();
      if (!node.contains(step.member)) node[step.member] = valid_value(child_shape);
      child = &node[step.member];
    }
    if (steps.size() == 1) {
      *child = value;
    } else {
      place(*child, child_shape, steps.subspan(1), value);
    }
  }

  json model_;
};

std::string message_of(const smemu::Result<json>& result) { return result.ok() ? "" : result.error().message; }

// Failure reports carry values of up to 64 KiB; the start of each is enough to tell them apart.
std::string shorten(const std::string& text) {
  constexpr std::size_t kShown = 300;
  return text.size() <= kShown ? text : text.substr(0, kShown) + "... (" + std::to_string(text.size()) + " bytes)";
}

std::string outcome(const smemu::Result<json>& result) {
  return result.ok() ? std::string("success") : std::string(result.error().name()) + ": " + shorten(message_of(result));
}

// One violation, as the service words it: "<value clause> at '<path>' failed to satisfy
// constraint: Member must <constraint>".
struct Violation {
  std::string value_clause;  // Value 'x' | Value | Value null | Value with N items
  std::string path;
  std::string constraint;
  // The request breaks nothing else, so the message must be exactly this one violation.
  bool alone = true;
  // A sensitive member's value, which the message must not echo.
  std::optional<std::string> secret;

  std::string text() const {
    return value_clause + " at '" + path + "' failed to satisfy constraint: Member must " + constraint;
  }
};

Violation violation(std::string value_clause, const std::string& path, std::string constraint, bool alone = true,
                    std::optional<std::string> secret = std::nullopt) {
  Violation out;
  out.value_clause = std::move(value_clause);
  out.path = path;
  out.constraint = std::move(constraint);
  out.alone = alone;
  out.secret = std::move(secret);
  return out;
}

void expect_violation(const smemu::Result<json>& result, const Violation& expected) {
  INFO("expected: " << shorten(expected.text()));
  INFO("got: " << outcome(result));
  CHECK_FALSE(result.ok());
  if (result.ok()) return;
  CHECK(result.error().name() == "ValidationException");
  const auto& message = result.error().message;
  if (expected.alone) {
    CHECK(message == "1 validation error detected: " + expected.text());
  } else {
    CHECK(std::regex_search(message, std::regex("^[0-9]+ validation errors? detected: ")));
    CHECK(contains(message, expected.text()));
  }
  if (expected.secret && !expected.secret->empty()) CHECK_FALSE(contains(message, *expected.secret));
}

// A value at a bound is accepted: no ValidationException names the member. When the value
// cannot satisfy the member's other constraints (a region pattern at length 1), only the
// constraint under test must stay silent.
void expect_accepted(const smemu::Result<json>& result, const std::string& path, bool conforming,
                     std::string_view constraint) {
  INFO("got: " << outcome(result));
  if (result.ok() || result.error().name() != "ValidationException") return;
  const auto named = "at '" + path + "'";
  if (conforming) {
    CHECK_FALSE(contains(message_of(result), named));
  } else {
    CHECK_FALSE(
        contains(message_of(result), named + " failed to satisfy constraint: Member must " + std::string(constraint)));
  }
}

class Exerciser {
 public:
  explicit Exerciser(const Model& model) : model_(model) {}

  std::set<std::string>& covered() { return covered_; }

  void operation(const std::string& operation) {
    INFO("operation " << operation);
    const auto input = model_.operations()[operation]["input"]["shape"].get<std::string>();
    const auto result = client_.call(operation, model_.base_request(input));
    INFO("base request: " << shorten(model_.base_request(input).dump()));
    INFO("got: " << outcome(result));
    CHECK_FALSE((!result.ok() && result.error().name() == "ValidationException"));
    covered_.insert(operation);
  }

  void target(const Target& target) {
    INFO("operation " << target.operation << ", member " << target.path);
    const json& s = model_.shape(target.shape);
    const auto type = s.at("type").get<std::string>();
    if (target.required) required(target);
    if (type == "string" || type == "blob") {
      string_bounds(target, s, type == "blob");
      if (s.contains("pattern")) pattern(target, s);
      if (s.contains("enum")) enumeration(target, s);
    } else if (type == "integer" || type == "long") {
      range(target, s);
    } else if (type == "list") {
      list_size(target, s);
    }
  }

 private:
  smemu::Result<json> send(const Target& target, const json& value) {
    const auto input = model_.operations()[target.operation]["input"]["shape"].get<std::string>();
    return client_.call(target.operation, model_.with_value(model_.base_request(input), target, value));
  }

  void cover(const Target& target, std::string_view kind) {
    covered_.insert(target.operation + " " + target.path + " " + std::string(kind));
  }

  void required(const Target& target) {
    INFO("case: member absent");
    const auto input = model_.operations()[target.operation]["input"]["shape"].get<std::string>();
    const auto result = client_.call(target.operation, model_.without(model_.base_request(input), target));
    expect_violation(result, violation("Value null", target.path, "not be null"));
    cover(target, "required");
  }

  // Strings are filled with ASCII, so characters and bytes agree here; the units themselves are
  // checked by the direct cases below.
  void string_bounds(const Target& target, const json& s, bool blob) {
    const bool sensitive = s.value("sensitive", false);
    const auto text = [&](std::int64_t length) {
      const auto n = static_cast<std::size_t>(length);
      return blob ? std::string(n, 'a') : conforming_string(s, n).value_or(std::string(n, 'a'));
    };
    const auto wire = [&](const std::string& value) { return blob ? json(base64(value)) : json(value); };
    const auto length_violation = [&](const std::string& value, const std::string& constraint) {
      return violation(sensitive ? "Value" : "Value '" + value + "'", target.path, constraint,
                       conforms_to_pattern(s, value), sensitive ? std::optional(value) : std::nullopt);
    };
    if (const auto min = bound(s, "min")) {
      if (*min > 0) {
        INFO("case: length " << *min - 1 << ", below the minimum " << *min);
        const auto value = text(*min - 1);
        expect_violation(send(target, wire(value)),
                         length_violation(value, "have length greater than or equal to " + std::to_string(*min)));
      }
      {
        INFO("case: length " << *min << ", the minimum");
        const auto value = text(*min);
        expect_accepted(send(target, wire(value)), target.path, conforms_to_pattern(s, value), "have length");
      }
      cover(target, "min");
    }
    if (const auto max = bound(s, "max")) {
      {
        INFO("case: length " << *max << ", the maximum");
        const auto value = text(*max);
        expect_accepted(send(target, wire(value)), target.path, conforms_to_pattern(s, value), "have length");
      }
      {
        INFO("case: length " << *max + 1 << ", above the maximum " << *max);
        const auto value = text(*max + 1);
        expect_violation(send(target, wire(value)),
                         length_violation(value, "have length less than or equal to " + std::to_string(*max)));
      }
      cover(target, "max");
    }
  }

  // A value of valid length that breaks the pattern in its first character.
  void pattern(const Target& target, const json& s) {
    const auto valid = shortest_conforming_string(s);
    if (!valid) return;  // left uncovered: the coverage check reports it
    std::optional<std::string> broken;
    for (const char c : std::string_view("~%^`")) {
      auto candidate = *valid;
      candidate[0] = c;
      if (!conforms_to_pattern(s, candidate)) {
        broken = candidate;
        break;
      }
    }
    if (!broken) return;
    INFO("case: '" << *broken << "' breaks the pattern");
    const bool sensitive = s.value("sensitive", false);
    const auto pattern_text = s["pattern"].get<std::string>();
    expect_violation(send(target, *broken),
                     violation(sensitive ? "Value" : "Value '" + *broken + "'", target.path,
                               "satisfy regular expression pattern: " + pattern_text, true,
                               sensitive ? std::optional(*broken) : std::nullopt));
    {
      INFO("case: '" << *valid << "' matches the pattern");
      expect_accepted(send(target, *valid), target.path, true, "satisfy regular expression pattern");
    }
    cover(target, "pattern");
  }

  void enumeration(const Target& target, const json& s) {
    std::string allowed;
    for (const auto& value : s["enum"]) {
      INFO("case: '" << value.get<std::string>() << "' is in the enum");
      expect_accepted(send(target, value), target.path, true, "satisfy enum value set");
      allowed += (allowed.empty() ? "" : ", ") + value.get<std::string>();
    }
    INFO("case: a value outside the enum");
    expect_violation(send(target, "not-in-the-set"),
                     violation("Value 'not-in-the-set'", target.path, "satisfy enum value set: [" + allowed + "]"));
    cover(target, "enum");
  }

  void range(const Target& target, const json& s) {
    if (const auto min = bound(s, "min")) {
      {
        INFO("case: " << *min - 1 << ", below the minimum");
        expect_violation(send(target, *min - 1),
                         violation("Value '" + std::to_string(*min - 1) + "'", target.path,
                                   "have value greater than or equal to " + std::to_string(*min)));
      }
      {
        INFO("case: " << *min << ", the minimum");
        expect_accepted(send(target, *min), target.path, true, "have value");
      }
      cover(target, "min");
    }
    if (const auto max = bound(s, "max")) {
      {
        INFO("case: " << *max << ", the maximum");
        expect_accepted(send(target, *max), target.path, true, "have value");
      }
      {
        INFO("case: " << *max + 1 << ", above the maximum");
        expect_violation(send(target, *max + 1),
                         violation("Value '" + std::to_string(*max + 1) + "'", target.path,
                                   "have value less than or equal to " + std::to_string(*max)));
      }
      cover(target, "max");
    }
  }

  void list_size(const Target& target, const json& s) {
    const auto element = model_.valid_value(s["member"]["shape"].get<std::string>());
    const auto list = [&](std::int64_t size) {
      json out = json::array();
      for (std::int64_t i = 0; i < size; ++i) out.push_back(element);
      return out;
    };
    const auto items = [](std::int64_t size) { return "Value with " + std::to_string(size) + " items"; };
    if (const auto min = bound(s, "min")) {
      if (*min > 0) {
        INFO("case: " << *min - 1 << " items, below the minimum");
        expect_violation(send(target, list(*min - 1)),
                         violation(items(*min - 1), target.path,
                                   "have length greater than or equal to " + std::to_string(*min)));
      }
      {
        INFO("case: " << *min << " items, the minimum");
        expect_accepted(send(target, list(*min)), target.path, true, "have length");
      }
      cover(target, "min");
    }
    if (const auto max = bound(s, "max")) {
      {
        INFO("case: " << *max << " items, the maximum");
        expect_accepted(send(target, list(*max)), target.path, true, "have length");
      }
      {
        INFO("case: " << *max + 1 << " items, above the maximum");
        expect_violation(send(target, list(*max + 1)),
                         violation(items(*max + 1), target.path,
                                   "have length less than or equal to " + std::to_string(*max)));
      }
      cover(target, "max");
    }
  }

  const Model& model_;
  smemu::Service service_;
  smemu::Client client_ = service_.client("us-east-1");
  std::set<std::string> covered_;
};

std::string joined(const std::set<std::string>& items) {
  std::ostringstream out;
  for (const auto& item : items) out << "\n  " << item;
  return out.str();
}

}  // namespace

TEST_CASE("the generated client knows exactly the model's 23 operations") {
  const Model model(load_model());
  std::set<std::string> in_model;
  for (const auto& [operation, definition] : model.operations().items()) in_model.insert(operation);
  CHECK(in_model.size() == kModelOperationCount);
  const std::set<std::string> in_client(std::begin(smemu::kOperationNames), std::end(smemu::kOperationNames));
  std::set<std::string> missing;
  std::set_difference(in_model.begin(), in_model.end(), in_client.begin(), in_client.end(),
                      std::inserter(missing, missing.end()));
  CHECK_MESSAGE(missing.empty(), "operations of the model missing from kOperationNames:" << joined(missing));
  CHECK(in_client == in_model);
}

TEST_CASE("every constrained input member of the model is validated through the JSON dispatch") {
  const Model model(load_model());
  std::set<std::string> expected;
  for (const auto& [operation, definition] : model.operations().items()) expected.insert(operation);
  const auto targets = model.targets();
  for (const auto& target : targets) {
    for (const auto& kind : model.kinds(target)) expected.insert(target.operation + " " + target.path + " " + kind);
  }

  Exerciser exerciser(model);
  for (const auto& [operation, definition] : model.operations().items()) exerciser.operation(operation);
  for (const auto& target : targets) exerciser.target(target);

  std::set<std::string> missing;
  std::set_difference(expected.begin(), expected.end(), exerciser.covered().begin(), exerciser.covered().end(),
                      std::inserter(missing, missing.end()));
  CHECK_MESSAGE(missing.empty(), "operations and constraints of the model not exercised:" << joined(missing));
  // The walk reaches nested structures and list elements (a sample the model is known to hold).
  CHECK(expected.count("TagResource tags.1.member.key min") == 1);
  CHECK(expected.count("ListSecrets filters.1.member.values.1.member pattern") == 1);
  CHECK(expected.count("RotateSecret rotationRules.automaticallyAfterDays max") == 1);
}

TEST_CASE("an invalid secret name gets the service's message verbatim (spec 10 #13)") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  const auto result = client.call("CreateSecret",
                           {{"Name", "has space"}, {"ClientRequestToken", std::string(32, 'a')}});
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().name() == "ValidationException");
  CHECK(result.error().message ==
        "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!");
}

TEST_CASE("a model constraint is reported in the AWS form (spec 10 #14)") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  const auto result = client.call("GetRandomPassword", {{"PasswordLength", 0}});
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().name() == "ValidationException");
  CHECK(result.error().message ==
        "1 validation error detected: Value '0' at 'passwordLength' failed to satisfy constraint: Member must have "
        "value greater than or equal to 1");
}

TEST_CASE("several violations are counted and all reported") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  const auto result =
      client.call("GetRandomPassword", {{"PasswordLength", 4097}, {"ExcludeCharacters", std::string(4097, 'x')}});
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().name() == "ValidationException");
  const auto& message = result.error().message;
  CHECK(message.starts_with("2 validation errors detected: "));
  CHECK(contains(message, "Value '4097' at 'passwordLength' failed to satisfy constraint: Member must have value "
                          "less than or equal to 4096"));
  CHECK(contains(message, "at 'excludeCharacters' failed to satisfy constraint: Member must have length less than "
                          "or equal to 4096"));
}

TEST_CASE("list elements are numbered from 1 in member paths") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  const json tags = json::array({{{"Key", "fine"}, {"Value", "v"}}, {{"Key", ""}, {"Value", "v"}}});
  const auto result = client.call("TagResource", {{"SecretId", "s"}, {"Tags", tags}});
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().name() == "ValidationException");
  CHECK(result.error().message ==
        "1 validation error detected: Value '' at 'tags.2.member.key' failed to satisfy constraint: Member must have "
        "length greater than or equal to 1");
}

TEST_CASE("string lengths count Unicode characters") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  // "é" is one character and two UTF-8 bytes: 2048 of them fit a 2048-character description.
  const auto at_max = client.call("UpdateSecret", {{"SecretId", "s"}, {"Description", repeat("é", 2048)}});
  INFO("got: " << outcome(at_max));
  CHECK_FALSE((!at_max.ok() && at_max.error().name() == "ValidationException"));

  const auto above = client.call("UpdateSecret", {{"SecretId", "s"}, {"Description", repeat("é", 2049)}});
  REQUIRE_FALSE(above.ok());
  CHECK(above.error().message == "1 validation error detected: Value '" + repeat("é", 2049) +
                                     "' at 'description' failed to satisfy constraint: Member must have length "
                                     "less than or equal to 2048");
}

TEST_CASE("secret values are measured in bytes and never echoed (D19, D20)") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  const json base = {{"Name", "sized"}, {"ClientRequestToken", std::string(32, 'b')}};

  SUBCASE("SecretString counts UTF-8 bytes") {
    auto request = base;
    request["SecretString"] = repeat("é", 32768);  // 65,536 bytes
    const auto at_max = client.call("CreateSecret", request);
    INFO("got: " << outcome(at_max));
    CHECK(at_max.ok());

    request["SecretString"] = repeat("é", 32769);  // 32,769 characters, 65,538 bytes
    const auto above = client.call("CreateSecret", request);
    REQUIRE_FALSE(above.ok());
    CHECK(above.error().message ==
          "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length "
          "less than or equal to 65536");
  }

  SUBCASE("SecretBinary counts the decoded bytes, not the base64 text") {
    auto request = base;
    request["SecretBinary"] = base64(std::string(65536, '\xff'));
    const auto at_max = client.call("CreateSecret", request);
    INFO("got: " << outcome(at_max));
    CHECK(at_max.ok());

    request["SecretBinary"] = base64(std::string(65537, '\xff'));
    const auto above = client.call("CreateSecret", request);
    REQUIRE_FALSE(above.ok());
    CHECK(above.error().message ==
          "1 validation error detected: Value at 'secretBinary' failed to satisfy constraint: Member must have length "
          "less than or equal to 65536");
  }

  SUBCASE("a RotationToken that breaks its pattern is not echoed") {
    const std::string token = "secret-rotation-token-with-a-$-inside-it";
    const auto result =
        client.call("PutSecretValue", {{"SecretId", "s"}, {"SecretString", "v"}, {"RotationToken", token}});
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().name() == "ValidationException");
    CHECK_FALSE(contains(result.error().message, token));
    CHECK(contains(result.error().message, "Value at 'rotationToken' failed to satisfy constraint"));
  }
}

TEST_CASE("a member of the wrong JSON type is a SerializationException naming it") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  const auto result = client.call("DescribeSecret", {{"SecretId", 42}});
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().name() == "SerializationException");
  CHECK(contains(result.error().message, "SecretId"));
}
