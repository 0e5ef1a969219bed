// What `smemu lab` and `smemu walk` share: playing a scenario one step at a time on a Runner,
// keeping what each step changed, and drawing it — the versions x labels table with the changes
// marked, the secret at AWSCURRENT/AWSPENDING/AWSPREVIOUS, the simulated database, the events.
//
// Values are masked unless Style::show_values: a password (the "password" member of a JSON
// object) or a whole value is shown as a short tag of its hash, "pw#1a2b3c" or "#1a2b3c", so
// that equal values have equal tags and none can be read (D19).
//
// Thread-safety: one thread.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "smemu/emulator/event_log.h"
#include "smemu/emulator/simulated_database.h"
#include "smemu/model/result.h"
#include "smemu/model/secret.h"
#include "smemu/scenarios/explain.h"
#include "smemu/scenarios/runner.h"
#include "smemu/scenarios/scenario.h"

namespace smemu::cli::lesson {

struct Style {
  bool colour = false;       // ANSI bold/colour on the changes (stdout is a terminal)
  bool show_values = false;  // --show-secrets
};

// What a frame shows of one secret.
struct SecretView {
  struct Version {
    std::string id;
    std::vector<std::string> labels;  // sorted
    model::SecretValue value;
  };
  std::string name;
  std::string arn;
  std::vector<Version> versions;  // in creation order
  std::string rotation;           // the rotation in flight, in words; empty when none
};

// The state after some step: the clock, every secret of the region (by name), the databases.
struct Frame {
  Timestamp clock{};
  std::vector<SecretView> secrets;
  std::map<SimulatedDatabase::Address, SimulatedDatabase::Database> databases;
};

// One step played: what the lab prints and walk draws. Step 0 is the setup.
struct StepView {
  std::size_t index = 0;
  std::size_t count = 0;  // steps in the scenario
  std::optional<scenarios::Step> step;
  scenarios::StepOutcome outcome;
  Frame before;
  Frame after;
  std::vector<Event> events;  // what the step appended to the event log
  std::string explanation;    // scenarios::explain
};

// A scenario played step by step on its own Runner (invariants checked, nothing printed).
class Lesson {
 public:
  explicit Lesson(scenarios::Scenario scenario);
  const scenarios::Scenario& scenario() const { return scenario_; }
  // The setup as step 0: its failure, if any, is in outcome.failure.
  const StepView& setup() const { return setup_; }
  bool done() const { return next_ > scenario_.steps.size(); }
  // Steps played so far.
  std::size_t played() const { return next_ - 1; }
  // Plays the next step. REQUIRES: !done().
  StepView play();
  // After the last step: a call still waiting for its point (Runner::finish).
  std::optional<scenarios::Failure> finish() { return runner_->finish(); }
  scenarios::Runner& runner() { return *runner_; }
  Service& service() { return runner_->service(); }

 private:
  Frame capture();

  scenarios::Scenario scenario_;
  std::unique_ptr<scenarios::Runner> runner_;
  StepView setup_;
  std::size_t next_ = 1;
};

// The lab's scenario: scenarios/examples/lab.json, embedded at build time.
scenarios::Scenario lab_scenario();

// "pw#1a2b3c" / "#1a2b3c" as above, or the value itself with show_values.
std::string value_text(const model::SecretValue& value, bool show_values);
// The whole value for the "secret at LABEL" lines: a JSON object with its password masked.
std::string full_value_text(const model::SecretValue& value, bool show_values);

// The frame of a step: heading, clock, note, the tables with what changed marked, the
// explanation, the secret at the three labels, the databases, the step's events, an unmet
// expectation.
std::string render_step(const StepView& view, const Style& style);
// One line for an event of the log: "#12 2026-01-01T23:00:00Z RotationStarted lab/rds ...".
std::string event_line(const Event& event);

}  // namespace smemu::cli::lesson
