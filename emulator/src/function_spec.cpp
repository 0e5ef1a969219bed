#include "smemu/emulator/function_spec.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <utility>

#include <fmt/format.h>

namespace smemu {
namespace {

constexpr std::string_view kCommonKeys[] = {"timeout", "step_seconds", "fail_at", "timeout_at"};
constexpr std::int64_t kMaxTimeoutSeconds = 900;      // Lambda's limit
constexpr std::int64_t kMaxStepSeconds = 24 * 60 * 60;

Error spec_error(std::string_view spec, std::string_view what) {
  return make_error(ErrorCode::InvalidParameter, fmt::format("Invalid rotation function spec '{}': {}", spec, what));
}

std::optional<FunctionScheme> parse_scheme(std::string_view name) {
  for (const auto scheme : {FunctionScheme::kBuiltin, FunctionScheme::kExec, FunctionScheme::kPython}) {
    if (scheme_name(scheme) == name) return scheme;
  }
  return std::nullopt;
}

// A whole decimal number in [min, max].
std::optional<std::int64_t> parse_seconds(std::string_view text, std::int64_t min, std::int64_t max) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < min || value > max) return std::nullopt;
  return value;
}

Result<model::Step> parse_step_option(std::string_view spec, std::string_view key, std::string_view value) {
  if (auto step = model::parse_step(value)) return *step;
  return spec_error(spec, fmt::format("{} must name a rotation step (createSecret, setSecret, testSecret or "
                                      "finishSecret), not '{}'.",
                                      key, value));
}

// Applies one common option; false when `key` is not one of them.
Result<bool> apply_common(std::string_view spec, std::string_view key, std::string_view value, SpecOptions& out) {
  if (key == "timeout") {
    const auto seconds = parse_seconds(value, 1, kMaxTimeoutSeconds);
    if (!seconds) {
      return spec_error(spec, fmt::format("timeout must be a whole number of seconds from 1 to {}, not '{}'.",
                                          kMaxTimeoutSeconds, value));
    }
    out.timeout = std::chrono::seconds(*seconds);
    return true;
  }
  if (key == "step_seconds") {
    const auto seconds = parse_seconds(value, 0, kMaxStepSeconds);
    if (!seconds) {
      return spec_error(spec, fmt::format("step_seconds must be a whole number of seconds from 0 to {}, not '{}'.",
                                          kMaxStepSeconds, value));
    }
    out.step_time = std::chrono::seconds(*seconds);
    return true;
  }
  if (key == "fail_at" || key == "timeout_at") {
    auto step = parse_step_option(spec, key, value);
    if (!step) return std::move(step).error();
    (key == "fail_at" ? out.fail_at : out.timeout_at) = *step;
    return true;
  }
  return false;
}

Result<SpecOptions> parse_options(std::string_view spec, std::string_view text) {
  SpecOptions options;
  std::map<std::string, bool, std::less<>> seen;
  while (!text.empty()) {
    const auto amp = text.find('&');
    const auto item = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (amp != std::string_view::npos && text.empty()) {
      return spec_error(spec, "an option list must not end with '&'.");
    }
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size()) {
      return spec_error(spec, fmt::format("option '{}' is not KEY=VALUE; options follow the last '?' and are "
                                          "separated by '&' (an exec command containing '?' ends with '?').",
                                          item));
    }
    const auto key = item.substr(0, eq);
    const auto value = item.substr(eq + 1);
    if (!seen.try_emplace(std::string(key), true).second) {
      return spec_error(spec, fmt::format("option '{}' is given twice.", key));
    }
    auto common = apply_common(spec, key, value, options);
    if (!common) return std::move(common).error();
    if (!*common) options.scheme_options.emplace(std::string(key), std::string(value));
  }
  if (options.fail_at && options.fail_at == options.timeout_at) {
    return spec_error(spec, "fail_at and timeout_at name the same step; a step either fails or times out.");
  }
  return options;
}

}  // namespace

std::string_view scheme_name(FunctionScheme scheme) {
  switch (scheme) {
    case FunctionScheme::kBuiltin: return "builtin";
    case FunctionScheme::kExec: return "exec";
    case FunctionScheme::kPython: return "python";
  }
  return "builtin";
}

Result<ParsedSpec> parse_function_spec(std::string_view spec) {
  const auto colon = spec.find(':');
  const auto scheme = colon == std::string_view::npos ? std::nullopt : parse_scheme(spec.substr(0, colon));
  if (!scheme) {
    return spec_error(spec, "expected SCHEME:TARGET[?OPTIONS] with SCHEME builtin, exec or python.");
  }
  auto rest = spec.substr(colon + 1);
  const auto question = rest.rfind('?');
  const auto target = rest.substr(0, question);
  if (target.empty()) return spec_error(spec, fmt::format("{}: needs a target.", scheme_name(*scheme)));
  auto options =
      parse_options(spec, question == std::string_view::npos ? std::string_view{} : rest.substr(question + 1));
  if (!options) return std::move(options).error();
  return ParsedSpec{std::string(spec), *scheme, std::string(target), std::move(options).value()};
}

Status check_scheme_options(const ParsedSpec& parsed, std::span<const std::string_view> known) {
  for (const auto& [key, value] : parsed.options.scheme_options) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string all;
    for (const auto name : kCommonKeys) all += fmt::format("{}{}", all.empty() ? "" : ", ", name);
    for (const auto name : known) all += fmt::format(", {}", name);
    return spec_error(parsed.spec, fmt::format("unknown option '{}' for {}:{}; known options: {}.", key,
                                               scheme_name(parsed.scheme), parsed.target, all));
  }
  return ok_status();
}

Result<bool> bool_option(const ParsedSpec& parsed, std::string_view key, bool fallback) {
  const auto found = parsed.options.scheme_options.find(key);
  if (found == parsed.options.scheme_options.end()) return fallback;
  if (found->second == "true") return true;
  if (found->second == "false") return false;
  return spec_error(parsed.spec, fmt::format("{} must be true or false, not '{}'.", key, found->second));
}

FunctionOptions function_options(const SpecOptions& options) {
  FunctionOptions result;
  if (options.timeout) result.timeout = *options.timeout;
  return result;
}

RotationFunction with_faults(RotationFunction inner, const SpecOptions& options) {
  if (!options.fail_at && !options.timeout_at && options.step_time == Duration{}) return inner;
  return [inner = std::move(inner), fail_at = options.fail_at, timeout_at = options.timeout_at,
          step_time = options.step_time,
          timeout = function_options(options).timeout](const RotationEvent& event, Client& client) {
    const auto step = model::parse_step(event.step);
    // A timed-out invocation is charged its whole timeout, as Lambda bills a function it stops.
    if (step && step == timeout_at) return StepResult::timeout(timeout);
    if (step && step == fail_at) {
      return StepResult::error(
          fmt::format("InjectedFault: the function spec's fail_at={} failed this step", event.step), step_time);
    }
    auto result = inner(event, client);
    result.time_used += step_time;
    return result;
  };
}

}  // namespace smemu
