// Runner: plays a Scenario against a Service of its own, one step at a time, checking the
// step's expectations and (optionally) the invariants after each (invariants.h).
//
// Determinism: everything the run does follows from the scenario and its seed. The runner keeps
// a trace — one line per step with what it did, its response or error, and every event it
// appended, rendered as JSON — and digest() hashes it (FNV-1a, 64 bits; events member by member,
// not their JSON): the same scenario gives the same digest in any process (support/ tests compare
// two processes).
//
// Faults and interleavings: every function of the setup is registered through a wrapper that
// hands it a Client with a CallHook (client.h). At each of the function's calls the hook fires
// armed faults whose Point matches (crash, duplicate invocation) and makes the deferred calls
// whose `during` matches; fail/timeout faults end the step before the function runs; reinvoke
// runs the step again after it succeeded. All of it on the caller's thread: one actor at a time.
//
// Thread-safety: a Runner is used from one thread.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "smemu/emulator/service.h"
#include "smemu/scenarios/scenario.h"

namespace smemu::scenarios {

struct RunOptions {
  // Where to print, after each step, "step N: <describe(step)>", the versions x labels table of
  // each secret the step touched and a sentence on what happened; nullptr prints nothing.
  std::ostream* out = nullptr;
  // Show the values in those tables (smemu replay --show-secrets); masked otherwise (D19).
  bool show_values = false;
  bool check_invariants = true;
  bool stop_at_first_failure = true;
  // Keep the trace text (trace()); the digest is kept either way.
  bool keep_trace = false;
};

// The first unmet expectation or violated invariant.
struct Failure {
  std::size_t step = 0;         // 1-based index in Scenario::steps; 0 for the setup
  std::string step_description; // describe(step)
  std::string message;          // what was expected and what happened, or the invariant broken
};

// How often the rare paths were reached (smemu explore prints these). Names:
//   retry                 a failed attempt was followed by a D1 re-attempt
//   abandonment           RotationAbandoned was logged
//   cancel_mid_rotation   CancelRotateSecret succeeded while a rotation was in flight
//   quota_purge           EndSecretVersionDelete was logged (D8)
//   concurrent_callers    a deferred call ran inside a rotation function's step
//   crash_in_finish       a crash fault fired inside finishSecret
//   duplicate_invocation  a duplicate fault fired
//   reinvoke              a reinvoke fault fired
using Probes = std::map<std::string, std::uint64_t>;

// What one step did.
struct StepOutcome {
  std::optional<Failure> failure;
  std::optional<Result<nlohmann::json>> response;  // for a call made at once
  std::optional<StepReport> rotation;              // for rotation_step, when something was due
  std::vector<std::string> touched;                // ARNs of the secrets the step touched
};

class Runner {
 public:
  // Builds the service from `setup` (seed, region, clock, functions, test_plant_bug) and creates
  // its secrets; setup_failure() says whether that went wrong.
  Runner(const Setup& setup, RunOptions options = {});
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  const std::optional<Failure>& setup_failure() const;
  // Runs step number `index` (1-based, for messages).
  StepOutcome run(const Step& step, std::size_t index);
  // Ends the run after its last step: a call still waiting for its `during` point is unmet (the
  // first such, as a Failure of its own step); nullopt when none waits.
  std::optional<Failure> finish();

  Service& service();
  const std::string& region() const;
  const Probes& probes() const;
  std::uint64_t digest() const;
  const std::string& trace() const;  // empty unless RunOptions::keep_trace

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct RunReport {
  std::optional<Failure> failure;
  std::size_t steps_run = 0;
  std::uint64_t digest = 0;
  Probes probes;
};

// Told about a run_scenario as it goes (replay --html records its timeline with one). Called on
// the running thread; the Runner outlives every call.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  // After the setup; `setup_failure` as Runner::setup_failure().
  virtual void started(Runner& runner, const std::optional<Failure>& setup_failure) = 0;
  // After each step that ran.
  virtual void stepped(const Step& step, std::size_t index, const StepOutcome& outcome) = 0;
  // After the last step; `unmet` is Runner::finish()'s failure when it became the run's failure.
  virtual void finished(const std::optional<Failure>& unmet) = 0;
};

// Runs the whole scenario: the setup, then every step until the first failure (or all of them,
// without stop_at_first_failure, reporting the first).
RunReport run_scenario(const Scenario& scenario, const RunOptions& options = {}, RunObserver* observer = nullptr);

// The versions x labels table of one secret, as replay and walk print it: a row per version
// (creation order, deprecated versions included), a column per label in use, plus the value
// (masked unless show_values) and the version's creation time.
std::string label_table(const model::Secret& secret, bool show_values = false);

}  // namespace smemu::scenarios
