// Runner: plays scenario steps against a Service of its own (runner.h, docs/scenarios.md).
#include "smemu/scenarios/runner.h"

#include <algorithm>
#include <iomanip>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "smemu/emulator/builtin_functions.h"
#include "smemu/model/labels.h"
#include "smemu/scenarios/invariants.h"

namespace smemu::scenarios {
namespace {

using nlohmann::json;

constexpr std::uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr std::uint64_t kFnvPrime = 1099511628211ULL;

// The operations whose ClientRequestToken an SDK fills in when the caller leaves it out.
constexpr std::string_view kTokenOperations[] = {"CreateSecret", "PutSecretValue", "UpdateSecret", "RotateSecret"};
// Members that hold secret values: hashed in the trace, never shown in messages (D19).
constexpr std::string_view kValueMembers[] = {"SecretString", "SecretBinary", "RandomPassword"};
constexpr std::string_view kProbeNames[] = {"retry",         "abandonment",        "cancel_mid_rotation",
                                            "quota_purge",   "concurrent_callers", "crash_in_finish",
                                            "duplicate_invocation", "reinvoke"};

std::uint64_t fnv1a(std::uint64_t hash, std::string_view text) {
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnvPrime;
  }
  return hash;
}

std::uint64_t fnv1a_number(std::uint64_t hash, std::uint64_t value) {
  for (int byte = 0; byte < 8; ++byte) {  // little-endian bytes whatever the machine
    hash ^= (value >> (8 * byte)) & 0xffU;
    hash *= kFnvPrime;
  }
  return hash;
}

// Every member of `event`, each ended by a unit separator so that no two events hash alike by
// moving bytes between members. The digest reads the event itself: rendering it as JSON first
// (as the kept trace does) cost about 40% of a scenario's run.
std::uint64_t fnv1a_event(std::uint64_t hash, const Event& event) {
  constexpr std::string_view kEnd = "\x1f";
  hash = fnv1a_number(hash, event.sequence);
  hash = fnv1a_number(hash, static_cast<std::uint64_t>(epoch_ms(event.time)));
  hash = fnv1a_number(hash, static_cast<std::uint64_t>(event.kind));
  for (const std::string_view text : {event.name, std::string_view(event.region), std::string_view(event.secret_arn),
                                      std::string_view(event.version_id), std::string_view(event.step),
                                      std::string_view(event.message)}) {
    hash = fnv1a(fnv1a(hash, text), kEnd);
  }
  hash = fnv1a_number(hash, event.labels.size());
  for (const auto& label : event.labels) hash = fnv1a(fnv1a(hash, label), kEnd);
  hash = fnv1a_number(hash, event.attempt);
  return fnv1a(hash, event.error ? aws_name(*event.error) : std::string_view(kEnd));
}

std::string hex16(std::uint64_t value) {
  std::ostringstream out;
  out << std::hex << std::setw(16) << std::setfill('0') << value;
  return out.str();
}

bool is_value_member(std::string_view name) {
  return std::find(std::begin(kValueMembers), std::end(kValueMembers), name) != std::end(kValueMembers);
}

// `value` with every secret value replaced by a hash of it: the trace still changes when a value
// does, and holds none (D19).
json masked(const json& value) {
  if (value.is_array()) {
    json out = json::array();
    for (const auto& item : value) out.push_back(masked(item));
    return out;
  }
  if (!value.is_object()) return value;
  json out = json::object();
  for (const auto& [name, member] : value.items()) {
    if (is_value_member(name) && member.is_string()) {
      out[name] = "fnv:" + hex16(fnv1a(kFnvOffset, member.get_ref<const std::string&>()));
    } else {
      out[name] = masked(member);
    }
  }
  return out;
}

// One line of JSON that never throws on bytes that are not UTF-8.
std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string error_text(const Error& error) { return std::string(error.name()) + ": " + error.message; }

std::string point_text(const Point& point) {
  // describe() words a point the same way inside "fault ... at POINT".
  const std::string text = describe(Step{ArmFault{Fault{FaultKind::kCrash, point}}, {}, {}});
  return text.substr(std::string_view("fault crash at ").size());
}

std::string labels_text(const LabelTable& table) {
  if (table.empty()) return "no labels";
  std::string text;
  for (const auto& [version, labels] : table) {
    if (!text.empty()) text += ", ";
    text += version + "=[";
    for (std::size_t i = 0; i < labels.size(); ++i) text += (i ? "," : "") + labels[i];
    text += "]";
  }
  return text;
}

std::string names_text(const std::vector<std::string>& names) {
  std::string text = "[";
  for (std::size_t i = 0; i < names.size(); ++i) text += (i ? ", " : "") + names[i];
  return text + "]";
}

LabelTable labels_of(const model::Secret& secret) {
  LabelTable table;
  for (const auto& version : secret.versions()) {
    if (auto labels = secret.labels_of(version); !labels.empty()) table[version.id] = std::move(labels);
  }
  return table;
}

// Whether `got` has every member of `expected` with its value: objects member by member (a
// subset), arrays element by element (the same length), anything else exactly. The first
// difference goes to `difference`.
bool contains(const json& expected, const json& got, const std::string& path, std::string& difference) {
  if (expected.is_object() && got.is_object()) {
    for (const auto& [name, member] : expected.items()) {
      const std::string member_path = path + "." + name;
      const auto found = got.find(name);
      if (found == got.end()) {
        difference = member_path + ": expected " + dump(masked(json::object({{name, member}}))[name]) + ", got nothing";
        return false;
      }
      if (!contains(member, *found, member_path, difference)) return false;
    }
    return true;
  }
  if (expected.is_array() && got.is_array() && expected.size() == got.size()) {
    for (std::size_t i = 0; i < expected.size(); ++i) {
      if (!contains(expected[i], got[i], path + "[" + std::to_string(i) + "]", difference)) return false;
    }
    return true;
  }
  if (expected == got) return true;
  const std::string name = path.substr(path.rfind('.') + 1);
  if (is_value_member(name)) {
    difference = path + ": differs from the expected value (values are not shown)";
  } else {
    difference = path + ": expected " + dump(expected) + ", got " + dump(masked(got));
  }
  return false;
}

std::string report_text(const StepReport& report) {
  std::string text = std::string(model::step_name(report.step)) + " of " + report.secret_arn + " (attempt " +
                     std::to_string(report.attempt) + "): " + std::string(model::outcome_name(report.outcome));
  if (report.discarded) return text + "; discarded, the rotation ended while it ran";
  switch (report.then) {
    case model::Then::kNextStep: text += "; the next step is queued"; break;
    case model::Then::kSucceeded: text += "; the rotation succeeded"; break;
    case model::Then::kAttemptFailed: text += "; the attempt failed: " + report.message; break;
  }
  return text;
}

}  // namespace

std::string label_table(const model::Secret& secret, bool show_values) {
  static constexpr std::string_view kKnown[] = {labels::kCurrent, labels::kPending, labels::kPrevious};
  std::vector<std::string> columns;
  std::vector<std::string> custom;
  for (const auto& version : secret.versions()) {
    for (auto& label : secret.labels_of(version)) {
      const bool known = std::find(std::begin(kKnown), std::end(kKnown), label) != std::end(kKnown);
      if (!known && std::find(custom.begin(), custom.end(), label) == custom.end()) custom.push_back(std::move(label));
    }
  }
  for (const std::string_view label : kKnown) {
    if (secret.holder(label)) columns.emplace_back(label);
  }
  std::sort(custom.begin(), custom.end());
  columns.insert(columns.end(), custom.begin(), custom.end());

  std::size_t id_width = std::string_view("VersionId").size();
  for (const auto& version : secret.versions()) id_width = std::max(id_width, version.id.size());
  std::ostringstream out;
  out << secret.meta.name;
  if (secret.meta.marked_for_deletion()) out << "  (marked for deletion)";
  out << "\n";
  if (secret.versions().empty()) {
    out << "  (no versions)\n";
  } else {
    out << "  " << std::left << std::setw(static_cast<int>(id_width)) << "VersionId";
    for (const auto& column : columns) out << "  " << column;
    out << "  " << std::setw(20) << "Created" << "  Value\n";
    for (const auto& version : secret.versions()) {
      const auto labels = secret.labels_of(version);
      out << "  " << std::setw(static_cast<int>(id_width)) << version.id;
      for (const auto& column : columns) {
        const bool has = std::find(labels.begin(), labels.end(), column) != labels.end();
        out << "  " << std::setw(static_cast<int>(column.size())) << (has ? "X" : "");
      }
      out << "  " << std::setw(20) << iso8601(version.created) << "  ";
      switch (version.value.kind) {
        case model::ValueKind::kNone: out << "(no value)"; break;
        case model::ValueKind::kString: out << (show_values ? dump(json(version.value.bytes)) : "****"); break;
        case model::ValueKind::kBinary:
          out << (show_values ? "(binary, " + std::to_string(version.value.bytes.size()) + " bytes)" : "****");
          break;
      }
      out << "\n";
    }
  }
  if (const auto& run = secret.run()) {
    out << "  rotation " << run->token << ": " << model::step_name(run->step) << ", attempt " << run->attempt << ", "
        << model::phase_name(run->phase) << "\n";
  }
  return out.str();
}

// --- the runner -----------------------------------------------------------------------------

struct Runner::Impl {
  // A step waiting for its point: an armed fault or a call with `during`, in the order armed.
  struct Waiting {
    Step step;
    std::size_t index = 0;
    bool done = false;
    const Point& point() const {
      if (const auto* fault = std::get_if<ArmFault>(&step.action)) return fault->fault.at;
      return *std::get<Call>(step.action).during;
    }
    const ArmFault* fault() const { return std::get_if<ArmFault>(&step.action); }
  };

  // One invocation of a setup function (a duplicate or reinvocation is another, nested one).
  struct Invocation {
    const RotationFunction& inner;
    const FunctionOptions& options;
    const RotationEvent& event;
    Client& client;  // the unhooked client the service gave
    std::optional<model::Step> step;
    std::string secret_name;
    std::map<std::string, std::uint32_t, std::less<>> calls;  // operation -> calls so far
    std::optional<std::string> last_call;  // the call whose "after" point is still to come
    std::optional<std::string> crashed;    // where a crash fault stopped it
  };

  class Hook final : public CallHook {
   public:
    Hook(Impl& impl, Invocation& invocation) : impl_(impl), invocation_(invocation) {}
    Status before_call(std::string_view operation) override { return impl_.before_call(invocation_, operation); }

   private:
    Impl& impl_;
    Invocation& invocation_;
  };

  // What the step being run has seen so far.
  struct Current {
    std::size_t index = 0;
    std::optional<Failure> deferred_failure;  // the first unmet expectation of a deferred call
    std::vector<std::string> notes;           // faults that fired, for the printout
  };

  Impl(const Setup& setup, RunOptions run_options)
      : options(run_options),
        region(setup.region),
        service(ServiceOptions{.seed = setup.seed, .test_plant_bug = setup.test_plant_bug}),
        client(service.client(region)) {
    for (const auto name : kProbeNames) probes[std::string(name)] = 0;
    build(setup);
  }

  void build(const Setup& setup) {
    append_trace("seed=" + std::to_string(setup.seed) + " region=" + region + "\n");
    const Timestamp start = setup.clock.value_or(kVirtualEpoch);
    if (!service.virtual_clock()->set(start)) {
      setup_failure = Failure{0, "setup", "setup.clock: " + iso8601(start) + " is before " + iso8601(kVirtualEpoch) +
                                              ", where the service's virtual clock starts"};
      return;
    }
    for (std::size_t i = 0; i < setup.functions.size(); ++i) {
      const auto& function = setup.functions[i];
      auto built = make_builtin_function(function.spec, service.database());
      if (!built) {
        setup_failure = Failure{0, "setup", "setup.functions[" + std::to_string(i) + "]: " + built.error().message};
        return;
      }
      service.register_function(function.arn, wrap(std::move(built->function), built->options), built->options);
    }
    if (options.check_invariants) checker = std::make_unique<InvariantChecker>(service, region);
    const auto first = service.events().last_sequence();
    for (std::size_t i = 0; i < setup.secrets.size(); ++i) {
      const Call call{"CreateSecret", setup.secrets[i], std::nullopt};
      const auto result = make_call(call);
      append_trace("setup " + describe(Step{call, {}, {}}) + " => " + result_text(result) + "\n");
      if (!result) {
        setup_failure = Failure{0, "setup",
                                "setup.secrets[" + std::to_string(i) + "]: CreateSecret failed: " + error_text(result.error())};
        return;
      }
    }
    trace_events(service.events().read(first));
    if (checker) {
      if (const auto violation = checker->check()) setup_failure = Failure{0, "setup", violation_text(*violation)};
    }
  }

  RotationFunction wrap(RotationFunction inner, FunctionOptions function_options) {
    return [this, inner = std::move(inner), function_options](const RotationEvent& event, Client& given) {
      return invoke(inner, function_options, event, given);
    };
  }

  // --- inside a rotation function ---------------------------------------------------------

  StepResult invoke(const RotationFunction& inner, const FunctionOptions& function_options, const RotationEvent& event,
                    Client& given) {
    Invocation invocation{inner, function_options, event, given, model::parse_step(event.step), {}, {}, {}, {}};
    service.inspect(given.region(), event.secret_id, [&](const model::Secret* secret) {
      if (secret) invocation.secret_name = secret->meta.name;
    });
    Hook hook(*this, invocation);
    Client hooked(given.service(), given.region(), &hook);

    reach(invocation, std::nullopt);  // the point before the function runs
    if (invocation.crashed) return crashed(invocation);
    if (auto* fault = take_fault(invocation, {FaultKind::kFail, FaultKind::kTimeout})) {
      note("fault " + std::string(fault_kind_name(fault->kind)) + " fired at " + event.step + " of " + event.secret_id);
      if (fault->kind == FaultKind::kTimeout) return StepResult::timeout(function_options.timeout);
      return StepResult::error("InjectedFault: the scenario's fault failed " + event.step);
    }
    StepResult result = invocation.inner(event, hooked);
    if (!invocation.crashed && invocation.last_call) {
      const std::string last = *std::exchange(invocation.last_call, std::nullopt);
      reach(invocation, last);
    }
    if (invocation.crashed) return crashed(invocation);
    if (result.outcome == model::Outcome::kOk) {
      if (take_fault(invocation, {FaultKind::kReinvoke})) {
        ++probes["reinvoke"];
        note("fault reinvoke fired: " + event.step + " of " + event.secret_id + " runs again");
        return invoke(inner, function_options, event, given);
      }
    }
    return result;
  }

  StepResult crashed(const Invocation& invocation) {
    return StepResult::error("crashed " + *invocation.crashed + " (a scenario's crash fault)");
  }

  Status before_call(Invocation& invocation, std::string_view operation) {
    if (!invocation.crashed && invocation.last_call) {
      const std::string last = *std::exchange(invocation.last_call, std::nullopt);
      reach(invocation, last);
    }
    if (invocation.crashed) {
      // A crashed function makes no more calls: each one it still tries fails as if it were gone.
      return make_error(ErrorCode::InternalServiceError, "the rotation function crashed " + *invocation.crashed);
    }
    ++invocation.calls[std::string(operation)];
    invocation.last_call = std::string(operation);
    return ok_status();
  }

  bool matches(const Point& point, const Invocation& invocation, const std::optional<std::string>& after_call) const {
    if (!invocation.step || point.step != *invocation.step || point.after_call != after_call) return false;
    if (!point.secret.empty() && point.secret != invocation.secret_name && point.secret != invocation.event.secret_id) {
      return false;
    }
    if (!after_call) return true;
    const auto count = invocation.calls.find(*after_call);
    return count != invocation.calls.end() && count->second == point.occurrence;
  }

  // The invocation reached a point: before the function runs (no call) or right after a call.
  // Runs what waits there — duplicates and deferred calls, in the order they were armed — and
  // marks the invocation crashed when a crash fault waits there too.
  void reach(Invocation& invocation, const std::optional<std::string>& after_call) {
    if (std::all_of(waiting.begin(), waiting.end(), [](const Waiting& entry) { return entry.done; })) return;
    const std::string where = std::string(invocation.event.step) + " of " + invocation.event.secret_id +
                              (after_call ? " after " + *after_call + " #" +
                                                std::to_string(invocation.calls.at(*after_call))
                                          : "");
    for (std::size_t i = 0; i < waiting.size(); ++i) {
      if (waiting[i].done || !matches(waiting[i].point(), invocation, after_call)) continue;
      const ArmFault* fault = waiting[i].fault();
      if (!fault) {
        waiting[i].done = true;
        ++probes["concurrent_callers"];
        run_deferred(waiting[i], where);
      } else if (fault->fault.kind == FaultKind::kDuplicate) {
        waiting[i].done = true;
        ++probes["duplicate_invocation"];
        note("fault duplicate fired at " + where + ": a second invocation runs");
        const auto second = invoke(invocation.inner, invocation.options, invocation.event, invocation.client);
        note("the duplicate invocation ended: " + std::string(model::outcome_name(second.outcome)) +
             (second.message.empty() ? "" : " (" + second.message + ")"));
      } else if (fault->fault.kind == FaultKind::kCrash) {
        waiting[i].done = true;
        if (invocation.step == model::Step::kFinishSecret) ++probes["crash_in_finish"];
        invocation.crashed = (after_call ? "after " + *after_call + " in " : "at the start of ") +
                             std::string(invocation.event.step);
        note("fault crash fired at " + where);
      }
    }
  }

  // The first unspent fault of one of `kinds` waiting for this invocation's step; spends it.
  const Fault* take_fault(const Invocation& invocation, std::initializer_list<FaultKind> kinds) {
    for (auto& entry : waiting) {
      const ArmFault* fault = entry.fault();
      if (entry.done || !fault || std::find(kinds.begin(), kinds.end(), fault->fault.kind) == kinds.end()) continue;
      if (!matches(fault->fault.at, invocation, std::nullopt)) continue;
      entry.done = true;
      return &fault->fault;
    }
    return nullptr;
  }

  void run_deferred(const Waiting& entry, const std::string& where) {
    const auto& call = std::get<Call>(entry.step.action);
    const auto first = service.events().last_sequence();
    const auto result = make_call(call);
    const auto events = service.events().read(first);
    auto failure = check(entry.step, entry.index, &result, nullptr, events);
    const std::string heading = "step " + std::to_string(entry.index) + " (at " + where + ", during step " +
                                std::to_string(current.index) + "): " + describe(entry.step);
    append_trace(heading + " => " + result_text(result) + "\n");
    trace_events(events);
    print(heading, entry.step.note, touched_by(events), {"-> " + sentence(result)}, events);
    if (failure && !current.deferred_failure) {
      failure->message += " (at " + where + ", during step " + std::to_string(current.index) + ")";
      current.deferred_failure = std::move(failure);
    }
  }

  // --- steps --------------------------------------------------------------------------------

  Result<json> make_call(const Call& call) {
    json request = call.request;
    const bool fills_token = std::find(std::begin(kTokenOperations), std::end(kTokenOperations), call.operation) !=
                             std::end(kTokenOperations);
    if (fills_token && !request.contains("ClientRequestToken")) request["ClientRequestToken"] = service.new_request_token();
    bool was_rotating = false;
    if (call.operation == "CancelRotateSecret" && request.contains("SecretId") && request["SecretId"].is_string()) {
      service.inspect(region, request["SecretId"].get<std::string>(),
                      [&](const model::Secret* secret) { was_rotating = secret && secret->run().has_value(); });
    }
    auto result = client.call(call.operation, request);
    append_trace("call " + call.operation + " " + dump(masked(request)) + "\n");
    if (result && was_rotating) ++probes["cancel_mid_rotation"];
    return result;
  }

  StepOutcome run(const Step& step, std::size_t index) {
    current = Current{index, {}, {}};
    const auto first = service.events().last_sequence();
    StepOutcome outcome;
    std::string result;  // for the trace
    std::vector<std::string> lines;  // for the printout
    const Result<json>* response = nullptr;
    std::visit(
        [&](const auto& action) {
          using T = std::decay_t<decltype(action)>;
          if constexpr (std::is_same_v<T, Call>) {
            if (action.during) {
              waiting.push_back(Waiting{step, index, false});
              result = "waits for " + point_text(*action.during);
            } else {
              outcome.response = make_call(action);
              response = &*outcome.response;
              result = result_text(*outcome.response);
            }
            lines.push_back("-> " + (action.during ? result : sentence(*outcome.response)));
          } else if constexpr (std::is_same_v<T, Advance>) {
            service.advance(action.by);
            result = "clock " + iso8601(service.clock().now());
            lines.push_back("-> the clock is at " + iso8601(service.clock().now()));
          } else if constexpr (std::is_same_v<T, RotationStep>) {
            outcome.rotation = service.step();
            result = outcome.rotation ? report_text(*outcome.rotation) : "nothing due";
            lines.push_back("-> " + (outcome.rotation ? report_text(*outcome.rotation) : "no rotation step was due"));
          } else if constexpr (std::is_same_v<T, RunUntilIdle>) {
            const auto steps = service.run_until_idle();
            result = "ran " + std::to_string(steps);
            lines.push_back("-> ran " + std::to_string(steps) + " rotation step" + (steps == 1 ? "" : "s"));
          } else {
            waiting.push_back(Waiting{step, index, false});
            result = "armed";
            lines.push_back("-> armed");
          }
        },
        step.action);
    const auto events = service.events().read(first);
    outcome.touched = touched_by(events);
    // A rotation step touches its secret even when the function's calls were reads (not logged).
    if (outcome.rotation && std::find(outcome.touched.begin(), outcome.touched.end(), outcome.rotation->secret_arn) ==
                                outcome.touched.end()) {
      outcome.touched.insert(outcome.touched.begin(), outcome.rotation->secret_arn);
    }
    count_probes(events);

    // The first failure in the order things happened: a deferred call's, then the invariants
    // (a broken invariant explains an expectation it breaks), then the step's own expectations.
    outcome.failure = std::move(current.deferred_failure);
    if (checker) {
      if (const auto violation = checker->check(); violation && !outcome.failure) {
        outcome.failure = Failure{index, describe(step), violation_text(*violation)};
      }
    }
    // A call that waits for its point is checked when it runs (run_deferred), not now.
    const auto* call = std::get_if<Call>(&step.action);
    if (!outcome.failure && !(call && call->during)) {
      outcome.failure = check(step, index, response, &outcome.rotation, events);
      if (std::holds_alternative<RotationStep>(step.action) && !outcome.rotation && !outcome.failure) {
        outcome.failure = Failure{index, describe(step), "expected a rotation step to be due, none was"};
      }
    }

    const std::string heading = "step " + std::to_string(index) + ": " + describe(step);
    append_trace(heading + " => " + result + "\n");
    trace_events(events);
    for (auto& note_line : current.notes) lines.insert(lines.begin(), "(" + note_line + ")");
    print(heading, step.note, outcome.touched, lines, events);
    return outcome;
  }

  std::optional<Failure> finish() {
    for (const auto& entry : waiting) {
      if (!entry.done && !entry.fault()) {
        return Failure{entry.index, describe(entry.step),
                       "the call waited for " + point_text(entry.point()) + ", which never came"};
      }
    }
    return std::nullopt;
  }

  // --- expectations ---------------------------------------------------------------------------

  // The step's expectations against what happened; the first unmet one. `response` is the call's
  // result (null when the step made no call now), `rotation` what a rotation step did.
  std::optional<Failure> check(const Step& step, std::size_t index, const Result<json>* response,
                               const std::optional<StepReport>* rotation,
                               const std::vector<Event>& events) {
    const Expectation& expect = step.expect;
    auto unmet = [&](std::string message) { return Failure{index, describe(step), std::move(message)}; };
    if (response) {
      const bool ok = response->ok();
      const std::string got = ok ? "it succeeded" : "it failed with " + error_text(response->error());
      if (expect.ok && *expect.ok != ok) return unmet(std::string("expected the call to ") + (*expect.ok ? "succeed" : "fail") + ", " + got);
      if (expect.error && (ok || response->error().name() != *expect.error)) return unmet("expected " + *expect.error + ", " + got);
      if (expect.response) {
        if (!ok) return unmet("expected a response, " + got);
        std::string difference;
        if (!contains(*expect.response, response->value(), "response", difference)) return unmet(difference);
      }
    }
    for (const auto& [secret_id, expected] : expect.labels) {
      std::optional<LabelTable> got;
      service.inspect(region, secret_id, [&](const model::Secret* secret) {
        if (secret) got = labels_of(*secret);
      });
      if (!got) return unmet("labels of " + secret_id + ": no such secret");
      if (*got != expected) {
        return unmet("labels of " + secret_id + ": expected " + labels_text(expected) + ", got " + labels_text(*got));
      }
    }
    for (const auto& [secret_id, by_label] : expect.values) {
      for (const auto& [label, value] : by_label) {
        std::optional<std::string> problem;
        service.inspect(region, secret_id, [&](const model::Secret* secret) {
          const model::SecretVersion* holder = secret ? secret->holder(label) : nullptr;
          if (!secret) {
            problem = "no such secret";
          } else if (!holder) {
            problem = "no version holds " + label;
          } else if (holder->value.kind != model::ValueKind::kString) {
            problem = "version " + holder->id + (holder->value.empty() ? " has no value yet" : " holds a binary value");
          } else if (holder->value.bytes != value) {
            problem = "version " + holder->id + " holds another value than expected (values are not shown)";
          }
        });
        if (problem) return unmet("value of " + secret_id + " at " + label + ": " + *problem);
      }
    }
    if (expect.events) {
      std::vector<std::string> got;
      for (const auto& event : events) {
        if (event.kind != EventKind::kApiCall) got.emplace_back(event.name);
      }
      if (got != *expect.events) return unmet("events: expected " + names_text(*expect.events) + ", got " + names_text(got));
    }
    if (expect.rotation && rotation && *rotation) {
      const StepReport& report = **rotation;
      const auto& want = *expect.rotation;
      if ((want.step && *want.step != report.step) || (want.outcome && *want.outcome != report.outcome)) {
        const std::string wanted = std::string(want.step ? model::step_name(*want.step) : "any step") + " " +
                                   std::string(want.outcome ? model::outcome_name(*want.outcome) : "with any outcome");
        return unmet("rotation step: expected " + wanted + ", got " + report_text(report));
      }
    }
    return std::nullopt;
  }

  std::string violation_text(const Violation& violation) const {
    return "invariant " + std::to_string(violation.invariant) + " violated on " + violation.secret + ": " +
           violation.message;
  }

  // --- what the step touched, probes, trace, printout -----------------------------------------

  // The ARNs of the secrets the events name, in order of first mention; a name or partial ARN
  // is resolved, a secret that no longer exists is kept when the event gave its full ARN.
  std::vector<std::string> touched_by(const std::vector<Event>& events) const {
    std::vector<std::string> touched;
    // A step's events mostly name the same secret the same way: each id is resolved once.
    std::vector<std::pair<const Event*, std::optional<std::string>>> resolved;
    for (const auto& event : events) {
      if (event.secret_arn.empty()) continue;
      const auto same_id = [&](const auto& entry) {
        return entry.first->secret_arn == event.secret_arn && entry.first->region == event.region;
      };
      auto known = std::find_if(resolved.begin(), resolved.end(), same_id);
      if (known == resolved.end()) {
        std::optional<std::string> arn;
        service.inspect(event.region, event.secret_arn, [&](const model::Secret* secret) {
          if (secret) arn = service.arn_of(secret->meta);
        });
        if (!arn && event.secret_arn.starts_with("arn:")) arn = event.secret_arn;
        known = resolved.insert(resolved.end(), {&event, std::move(arn)});
      }
      const auto& arn = known->second;
      if (arn && std::find(touched.begin(), touched.end(), *arn) == touched.end()) touched.push_back(*arn);
    }
    return touched;
  }

  void count_probes(const std::vector<Event>& events) {
    for (const auto& event : events) {
      if (event.kind != EventKind::kServiceEvent) continue;
      if ((event.name == "RotationStarted" || event.name == "TestRotationStarted") && event.attempt > 1) ++probes["retry"];
      if (event.name == "RotationAbandoned") ++probes["abandonment"];
      if (event.name == "EndSecretVersionDelete") ++probes["quota_purge"];
    }
  }

  void append_trace(std::string_view text) {
    digest = fnv1a(digest, text);
    if (options.keep_trace) trace.append(text);
  }

  void trace_events(const std::vector<Event>& events) {
    for (const auto& event : events) {
      digest = fnv1a_event(digest, event);
      if (options.keep_trace) trace.append("  " + dump(to_json(event)) + "\n");
    }
  }

  std::string result_text(const Result<json>& result) const {
    return result ? "ok " + dump(masked(result.value())) : error_text(result.error());
  }

  static std::string sentence(const Result<json>& result) {
    if (!result) return error_text(result.error());
    std::string text = "ok";
    if (const auto version = result->find("VersionId"); version != result->end() && version->is_string()) {
      text += ", VersionId " + version->get<std::string>();
    }
    return text;
  }

  void note(std::string text) {
    append_trace("  note: " + text + "\n");
    current.notes.push_back(std::move(text));
  }

  void print(const std::string& heading, const std::string& step_note, const std::vector<std::string>& touched,
             const std::vector<std::string>& lines, const std::vector<Event>& events) const {
    if (!options.out) return;
    std::ostream& out = *options.out;
    out << heading << "\n";
    if (!step_note.empty()) out << "  # " << step_note << "\n";
    for (const auto& arn : touched) {
      std::string table;
      service.inspect(region, arn, [&](const model::Secret* secret) {
        table = secret ? label_table(*secret, options.show_values) : "";
      });
      if (table.empty()) {
        out << "  " << arn << ": no longer exists\n";
        continue;
      }
      std::istringstream rows(table);
      for (std::string row; std::getline(rows, row);) out << "  " << row << "\n";
    }
    for (const auto& line : lines) out << "  " << line << "\n";
    std::vector<std::string> names;
    for (const auto& event : events) {
      if (event.kind != EventKind::kApiCall) names.emplace_back(event.name);
    }
    if (!names.empty()) {
      out << "  events:";
      for (std::size_t i = 0; i < names.size(); ++i) out << (i ? ", " : " ") << names[i];
      out << "\n";
    }
  }

  RunOptions options;
  std::string region;
  Service service;
  Client client;
  std::unique_ptr<InvariantChecker> checker;
  std::optional<Failure> setup_failure;
  std::vector<Waiting> waiting;
  Current current;
  Probes probes;
  std::uint64_t digest = kFnvOffset;
  std::string trace;
};

Runner::Runner(const Setup& setup, RunOptions options) : impl_(std::make_unique<Impl>(setup, options)) {}
Runner::~Runner() = default;

const std::optional<Failure>& Runner::setup_failure() const { return impl_->setup_failure; }
StepOutcome Runner::run(const Step& step, std::size_t index) { return impl_->run(step, index); }
std::optional<Failure> Runner::finish() { return impl_->finish(); }
Service& Runner::service() { return impl_->service; }
const std::string& Runner::region() const { return impl_->region; }
const Probes& Runner::probes() const { return impl_->probes; }
std::uint64_t Runner::digest() const { return impl_->digest; }
const std::string& Runner::trace() const { return impl_->trace; }

RunReport run_scenario(const Scenario& scenario, const RunOptions& options, RunObserver* observer) {
  RunReport report;
  Runner runner(scenario.setup, options);
  report.failure = runner.setup_failure();
  if (observer) observer->started(runner, report.failure);
  bool stopped = report.failure.has_value();
  for (std::size_t i = 0; !stopped && i < scenario.steps.size(); ++i) {
    auto outcome = runner.run(scenario.steps[i], i + 1);
    if (observer) observer->stepped(scenario.steps[i], i + 1, outcome);
    ++report.steps_run;
    if (outcome.failure && !report.failure) report.failure = std::move(outcome.failure);
    stopped = report.failure && options.stop_at_first_failure;
  }
  std::optional<Failure> unmet;
  if (!stopped) {
    if (auto waiting = runner.finish(); waiting && !report.failure) unmet = report.failure = std::move(waiting);
  }
  if (observer) observer->finished(unmet);
  report.digest = runner.digest();
  report.probes = runner.probes();
  return report;
}

}  // namespace smemu::scenarios
