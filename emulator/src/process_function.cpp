// exec: and python: rotation functions (process_function.h): the environment, the event on
// standard input, and how a process's end becomes a StepResult. Running the process is
// child_process.cpp's; the Python side is emulator/python/smemu_lambda_adapter.py.
#include "smemu/emulator/process_function.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "child_process.h"
#include "python_adapter.h"

extern char** environ;

namespace smemu {
namespace {

// AWS's documentation example keys: obviously fake, and accepted by every SDK's format checks.
constexpr std::string_view kDummyAccessKey = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kDummySecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kDefaultHandler = "lambda_handler";
constexpr std::string_view kSystemPython = "/usr/bin/python3";
// Bounds on what a Python error puts into the RotationFailed message.
constexpr std::size_t kMaxErrorMessageBytes = 4 * 1024;
constexpr std::size_t kMaxStackBytes = 4 * 1024;

Error spec_error(const ParsedSpec& spec, std::string_view what) {
  return make_error(ErrorCode::InvalidParameter,
                    fmt::format("Invalid rotation function spec '{}': {}", spec.spec, what));
}

// What the ARN says: arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER].
struct FunctionName {
  std::string name;    // the whole ARN when it is not a Lambda function ARN
  std::string region;  // empty when it names none
};

FunctionName parse_function_arn(std::string_view arn) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto colon = arn.find(':', start);
    parts.push_back(arn.substr(start, colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function" &&
      !parts[6].empty()) {
    return {std::string(parts[6]), std::string(parts[3])};
  }
  return {std::string(arn), {}};
}

bool is_identifier(std::string_view text) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text.front()))) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Variables that could lead an SDK to real AWS or to credentials: every AWS_* (profiles, role and
// web-identity settings, container and instance metadata endpoints, endpoint overrides, ...) and
// boto's BOTO_* (BOTO_CONFIG can hold credentials). Any case, to be strict.
bool could_reach_aws(std::string_view name) {
  std::string upper(name.substr(0, 5));
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return upper.starts_with("AWS_") || upper.starts_with("BOTO_");
}

// The host of an http://HOST:PORT/ URL, without IPv6 brackets.
std::string url_host(std::string_view url) {
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find('/'));
  if (url.starts_with('[')) return std::string(url.substr(1, url.find(']') - 1));
  return std::string(url.substr(0, url.find(':')));
}

using Environment = std::map<std::string, std::string, std::less<>>;

// smemu's environment as it is now, without what could reach AWS, plus `extra`.
std::vector<std::string> function_environment(const ProcessHost& host, Environment extra) {
  Environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals == std::string_view::npos || could_reach_aws(text.substr(0, equals))) continue;
    env.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));  // first one wins
  }
  // A proxy would otherwise be asked for the endpoint, which it cannot reach.
  const auto endpoint_host = url_host(host.endpoint_url);
  for (const auto name : {"NO_PROXY", "no_proxy"}) {
    auto& value = env[name];
    value += fmt::format("{}{}", value.empty() ? "" : ",", endpoint_host);
  }
  extra.merge(Environment{{"AWS_CONFIG_FILE", "/dev/null"},
                          {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
                          {"AWS_EC2_METADATA_DISABLED", "true"},
                          {"SECRETS_MANAGER_ENDPOINT", host.endpoint_url},
                          {"AWS_ENDPOINT_URL", host.endpoint_url},
                          {"AWS_ENDPOINT_URL_SECRETS_MANAGER", host.endpoint_url},
                          {"AWS_ACCESS_KEY_ID", std::string(kDummyAccessKey)},
                          {"AWS_SECRET_ACCESS_KEY", std::string(kDummySecretKey)}});
  for (auto& [name, value] : extra) env.insert_or_assign(name, std::move(value));
  std::vector<std::string> entries;
  entries.reserve(env.size());
  for (const auto& [name, value] : env) entries.push_back(name + "=" + value);
  return entries;
}

// `text` cut to at most `max` bytes, at the start of a UTF-8 sequence, marked when cut.
std::string bounded(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  auto cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) --cut;
  text.resize(cut);
  return text + " [...]";
}

// Lambda's error shape as the RotationFailed message: "ErrorType: message", then the stack.
std::string python_error_message(const nlohmann::json& error) {
  const auto text = [&](const char* key) {
    const auto found = error.find(key);
    return found != error.end() && found->is_string() ? found->get<std::string>() : std::string();
  };
  auto message = bounded(fmt::format("{}: {}", text("errorType"), text("errorMessage")), kMaxErrorMessageBytes);
  std::vector<std::string> frames;
  if (const auto stack = error.find("stackTrace"); stack != error.end() && stack->is_array()) {
    for (const auto& frame : *stack) {
      if (frame.is_string()) frames.push_back(frame.get<std::string>());
    }
  }
  // The innermost frames matter most: keep as many of the last ones as fit.
  std::string stack;
  for (auto frame = frames.rbegin(); frame != frames.rend() && stack.size() + frame->size() <= kMaxStackBytes;
       ++frame) {
    stack.insert(0, *frame);
  }
  if (!frames.empty()) {
    message += "\nTraceback (most recent call last):\n";
    if (stack.empty()) stack = "  ...\n";
    message += stack;
    while (message.ends_with('\n')) message.pop_back();
  }
  return message;
}

std::string exit_error(const detail::ChildOutcome& outcome) {
  std::string why;
  if (outcome.end == detail::ChildOutcome::End::kSignalled) {
    const char* name = sigabbrev_np(outcome.code);
    why = name != nullptr ? fmt::format("signal: SIG{}", name) : fmt::format("signal: {}", outcome.code);
  } else if (outcome.code < 0) {
    why = "exit status unknown";
  } else {
    why = fmt::format("exit status {}", outcome.code);
  }
  // Lambda's wording for a runtime that ends abnormally, then what the process said last.
  auto message = fmt::format("Runtime.ExitError: Runtime exited with error: {}", why);
  if (!outcome.stderr_tail.empty()) message += "\n" + outcome.stderr_tail;
  return message;
}

// One registered function: everything that does not change between its steps.
struct Invocation {
  std::string name;  // AWS_LAMBDA_FUNCTION_NAME, the log prefix
  std::string arn;
  std::string program;
  std::vector<std::string> argv;  // python: the per-step arguments follow
  std::vector<std::string> env;
  bool python = false;
  Duration timeout{};
  std::ostream* log = nullptr;
};

// Function output lines from concurrent steps stay whole.
std::mutex log_mutex;

StepResult invoke(const Invocation& invocation, const RotationEvent& event) {
  detail::ChildSpec child;
  child.program = invocation.program;
  child.argv = invocation.argv;
  child.env = invocation.env;
  child.input = nlohmann::ordered_json{{"Step", event.step},
                                       {"SecretId", event.secret_id},
                                       {"ClientRequestToken", event.client_request_token},
                                       {"RotationToken", event.rotation_token}}
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  child.deadline_ns = detail::monotonic_ns() + std::chrono::nanoseconds(invocation.timeout).count();
  child.drain_grace_ns = std::chrono::nanoseconds(kDrainGrace).count();
  child.result_pipe = invocation.python;
  if (invocation.python) child.argv.push_back(std::to_string(child.deadline_ns));
  if (invocation.log != nullptr) {
    child.on_line = [&](std::string_view line) {
      const auto text = fmt::format("[{}] {}\n", invocation.name, line);
      std::lock_guard lock(log_mutex);
      invocation.log->write(text.data(), static_cast<std::streamsize>(text.size()));
      invocation.log->flush();
    };
  }

  const auto outcome = detail::run_child(child);
  using End = detail::ChildOutcome::End;
  // A step charged more than its timeout would count as timed out; the kill decides that.
  const auto used = std::min(outcome.elapsed, invocation.timeout - Duration{1});
  switch (outcome.end) {
    case End::kTimedOut: return StepResult::timeout(invocation.timeout);
    case End::kNotStarted:
      return StepResult::error(fmt::format("Runtime.InvalidEntrypoint: {} could not be started: {}",
                                           invocation.program, std::strerror(outcome.code)),
                               used);
    case End::kExited:
    case End::kSignalled: break;
  }
  if (invocation.python && !outcome.result.empty()) {
    const auto result = nlohmann::json::parse(outcome.result, nullptr, /*allow_exceptions=*/false);
    if (result.is_object() && result.contains("errorType")) return StepResult::error(python_error_message(result), used);
  }
  const bool exited_ok = outcome.end == End::kExited && outcome.code == 0;
  if (exited_ok && (!invocation.python || !outcome.result.empty())) return StepResult::ok(used);
  if (exited_ok) {
    return StepResult::error("Runtime.ExitError: the handler's process ended without reporting a result", used);
  }
  return StepResult::error(exit_error(outcome), used);
}

// An executable for `python`: a path as given, a name looked up on PATH.
Result<std::string> find_interpreter(const ParsedSpec& spec, std::string python) {
  if (python.empty()) python = default_python_interpreter();
  const auto usable = [](const std::filesystem::path& path) {
    std::error_code error;
    return std::filesystem::is_regular_file(path, error) && access(path.c_str(), X_OK) == 0;
  };
  if (python.find('/') != std::string::npos) {
    if (usable(python)) return std::filesystem::absolute(python).string();
    return spec_error(spec, fmt::format("the Python interpreter '{}' is not an executable file (choose one with "
                                        "--python or SMEMU_PYTHON).",
                                        python));
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "";
  while (true) {
    const auto colon = dirs.find(':');
    const auto dir = dirs.substr(0, colon);
    const auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / python;
    if (usable(candidate)) return std::filesystem::absolute(candidate).string();
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return spec_error(spec, fmt::format("no Python interpreter '{}' on PATH (choose one with --python or "
                                      "SMEMU_PYTHON).",
                                      python));
}

}  // namespace

std::string default_python_interpreter() {
  if (const char* chosen = std::getenv("SMEMU_PYTHON"); chosen != nullptr && *chosen != '\0') return chosen;
  if (access(kSystemPython.data(), X_OK) == 0) return std::string(kSystemPython);
  return "python3";
}

Result<ProcessFunction> make_process_function(std::string_view arn, const ParsedSpec& spec,
                                              const ProcessHost& host) {
  if (spec.scheme != FunctionScheme::kExec && spec.scheme != FunctionScheme::kPython) {
    return spec_error(spec, "not an exec: or python: spec.");
  }
  if (auto known = check_scheme_options(spec, {}); !known) return std::move(known).error();
  const auto [name, arn_region] = parse_function_arn(arn);
  auto invocation = std::make_shared<Invocation>();
  invocation->name = name;
  invocation->arn = std::string(arn);
  invocation->timeout = function_options(spec.options).timeout;
  invocation->log = host.log;
  const auto& region = arn_region.empty() ? host.region : arn_region;
  Environment extra{{"AWS_REGION", region}, {"AWS_DEFAULT_REGION", region}, {"AWS_LAMBDA_FUNCTION_NAME", name}};

  if (spec.scheme == FunctionScheme::kExec) {
    invocation->program = "/bin/sh";
    invocation->argv = {"sh", "-c", spec.target};
    extra.emplace("_HANDLER", spec.target);
  } else {
    // PATH[:HANDLER]: the text after the last ':' is the handler when it is an identifier.
    std::string path = spec.target;
    std::string handler(kDefaultHandler);
    if (const auto colon = path.rfind(':'); colon != std::string::npos) {
      const auto after = std::string_view(path).substr(colon + 1);
      if (after.empty()) return spec_error(spec, "python: the HANDLER after ':' is empty.");
      if (is_identifier(after)) {
        handler = after;
        path.resize(colon);
      }
    }
    std::error_code error;
    const auto file = std::filesystem::absolute(path, error);
    if (error || !std::filesystem::is_regular_file(file, error)) {
      return spec_error(spec, fmt::format("python: '{}' is not a file.", path));
    }
    auto interpreter = find_interpreter(spec, host.python);
    if (!interpreter) return std::move(interpreter).error();
    invocation->program = std::move(interpreter).value();
    invocation->python = true;
    // -u: the function's prints reach the log as they happen, as Lambda's do.
    invocation->argv = {invocation->program, "-u", "-c", std::string(detail::python_adapter_source()),
                        file.string(), handler, name, std::string(arn)};
    extra.emplace("_HANDLER", fmt::format("{}.{}", file.stem().string(), handler));
    extra.emplace("LAMBDA_TASK_ROOT", file.parent_path().string());
  }
  invocation->env = function_environment(host, std::move(extra));

  RotationFunction function = [invocation](const RotationEvent& event, Client&) {
    return invoke(*invocation, event);
  };
  return ProcessFunction{with_faults(std::move(function), spec.options), function_options(spec.options)};
}

}  // namespace smemu
