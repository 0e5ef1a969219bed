// Function specs: how a rotation function is named when it is registered by text (the CLI,
// scenarios, Service::register_function(arn, spec)).
//
//   SPEC    = SCHEME ":" TARGET [ "?" OPTIONS ]
//   SCHEME  = "builtin" | "exec" | "python"
//   OPTIONS = [ KEY "=" VALUE *( "&" KEY "=" VALUE ) ]
//
// What runs them: builtin:NAME runs in-process, in the library and everywhere else
// (builtin_functions.h); exec:COMMAND and python:PATH[:HANDLER] run as processes that call a
// running endpoint back, so only `smemu serve` runs them (process_function.h,
// Service::set_process_host).
//
// The options start after the LAST "?" of the spec, for every scheme. Built-in names and Python
// paths hold no "?"; an exec COMMAND that contains one must therefore end with "?" (an empty
// option list): `exec:ls a?b?` runs `ls a?b` with no options, `exec:ls a?b` is rejected (option
// "b" has no value).
//
// Options every scheme takes (with_faults applies them to any function):
//   timeout=SECONDS   FunctionOptions::timeout, 1..900 (Lambda's range; default 30 s, D16)
//   step_seconds=N    every step reports N more seconds of virtual time used (StepResult::
//                     time_used), 0..86400: how "each step takes 30 virtual seconds" is said
//   fail_at=STEP      that step fails (StepResult::error naming the injected fault) without the
//                     function being invoked
//   timeout_at=STEP   that step times out (StepResult::timeout with the whole timeout used)
//                     without the function being invoked
// STEP is createSecret, setSecret, testSecret or finishSecret; fail_at and timeout_at name
// different steps. Other keys are the scheme's own (e.g. builtin:template?remove_pending=true);
// the scheme rejects those it does not know (check_scheme_options).
//
// Errors: InvalidParameterException whose message quotes the spec and names what is wrong.
// Thread-safety: plain values and pure functions; the wrapped function is as thread-safe as the
// function it wraps.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "smemu/emulator/rotation_function.h"
#include "smemu/model/result.h"
#include "smemu/model/rotation.h"
#include "smemu/model/time.h"

namespace smemu {

enum class FunctionScheme : std::uint8_t { kBuiltin, kExec, kPython };
std::string_view scheme_name(FunctionScheme scheme);

struct SpecOptions {
  std::optional<Duration> timeout;         // timeout=SECONDS
  Duration step_time{};                    // step_seconds=N
  std::optional<model::Step> fail_at;      // fail_at=STEP
  std::optional<model::Step> timeout_at;   // timeout_at=STEP
  std::map<std::string, std::string, std::less<>> scheme_options;  // every other KEY=VALUE
  bool operator==(const SpecOptions&) const = default;
};

struct ParsedSpec {
  std::string spec;  // as given, for messages
  FunctionScheme scheme = FunctionScheme::kBuiltin;
  std::string target;  // builtin NAME, exec COMMAND, python path
  SpecOptions options;
};

Result<ParsedSpec> parse_function_spec(std::string_view spec);

// InvalidParameterException for a scheme option whose key is not in `known`.
Status check_scheme_options(const ParsedSpec& parsed, std::span<const std::string_view> known);
// A scheme option's value as a boolean: true or false; `fallback` when absent.
// Errors: InvalidParameterException for any other value.
Result<bool> bool_option(const ParsedSpec& parsed, std::string_view key, bool fallback);

// What the options say about how the function is invoked (its timeout).
FunctionOptions function_options(const SpecOptions& options);

// `inner` with the options' faults and step time applied (see the grammar above); `inner`
// itself when there are none.
RotationFunction with_faults(RotationFunction inner, const SpecOptions& options);

}  // namespace smemu
