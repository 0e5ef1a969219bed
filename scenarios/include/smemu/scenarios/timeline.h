// Timeline: what a run did to the labels, step by step, and the one-page HTML picture of it
// (smemu replay --html, smemu lab --html; docs/scenarios.md).
//
// A TimelineRecorder watches one region of a Service. After each step it takes the state of
// every secret there (its versions in creation order, the labels each holds, the value masked
// unless show_values), the step's description, whether it failed and why, and the events the
// step appended (names, times, the labels that moved: never a value, D19). The recorded setup is
// step 0.
//
// render_timeline_html turns a Timeline into ONE self-contained page: inline CSS and JS only,
// nothing fetched (a Content-Security-Policy forbids it). Per secret, a lane per version and a
// column per step; each label the version holds after that step is a chip in that lane's cell.
// The positions are in the markup itself (the script only highlights a step), with stable
// attributes for tests:
//   <section class="secret" data-secret=NAME data-arn=ARN>
//   <div class="lane" data-secret=NAME data-version=ID data-order=K>   (K: 1-based creation order)
//   <div class="cell" data-step=N data-version=ID data-present="true|false">
//   <span class="label" data-label=LABEL data-step=N data-version=ID [data-moved="true"]>
//   <li class="step" data-step=N [data-failed="true"] [data-unmet="true"]>  (also on the columns' heads)
//   <li class="event" data-step=N data-name=NAME data-kind=api-call|service-event|label-updated>
//   <span class="value" data-step=N data-version=ID>  (**** unless show_values)
// The page is deterministic: the same run gives the same bytes.
//
// Thread-safety: a recorder is used from one thread, between the service's calls (it reads the
// state through Service::inspect_all).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "smemu/emulator/event_log.h"
#include "smemu/emulator/service.h"
#include "smemu/model/result.h"
#include "smemu/model/time.h"
#include "smemu/scenarios/runner.h"
#include "smemu/scenarios/scenario.h"

namespace smemu::scenarios {

// One version of a secret as it stood after a step.
struct TimelineVersion {
  std::string id;
  std::vector<std::string> labels;  // as the secret lists them (labels_of)
  Timestamp created{};
  std::string value;  // "****" (masked), "(no value)", or the value itself with show_values
};

// One secret as it stood after a step.
struct TimelineSecret {
  std::string arn;
  std::string name;
  Timestamp created{};
  bool marked_for_deletion = false;
  std::vector<TimelineVersion> versions;  // creation order, deprecated versions included
  std::string rotation_token;  // the rotation in flight: its token, or empty when none
  std::string rotation;        // and where it is: "setSecret, attempt 1, re-attempt at 2026-...Z"
};

struct TimelineStep {
  std::size_t index = 0;               // 1-based; 0 for the setup
  std::string description;             // describe(step), or what the caller says it did
  std::string note;                    // the scenario's note, if any
  Timestamp time{};                    // the virtual clock after the step
  std::optional<std::string> failed;   // why the step failed: the call's error, the rotation step's
                                       // outcome, or a RotationFailed/RotationAbandoned it caused
  std::optional<std::string> unmet;    // the unmet expectation or broken invariant, if any
  std::vector<Event> events;           // the events the step appended, in order
  std::vector<TimelineSecret> secrets; // every secret in the region after the step, oldest first
                                       // (by creation time, then ARN)
};

struct Timeline {
  std::string title;
  std::string description;
  bool values_shown = false;
  std::vector<TimelineStep> steps;
};

class TimelineRecorder {
 public:
  // Watches `service`'s secrets in `region`; the first record() takes every event logged so far.
  TimelineRecorder(Service& service, std::string region, std::string title, std::string description,
                   bool show_values);
  // The same for a Runner's service and region (the runner must outlive the recorder).
  TimelineRecorder(Runner& runner, std::string title, std::string description, bool show_values);

  // Records a step: `step`'s index, description, note, failed and unmet as given; the events
  // appended since the previous record, the time and the secrets taken now.
  void record(TimelineStep step);
  // Records a Runner's step from what it returned: a failed call, a rotation step whose outcome
  // was not ok, or a rotation failure among its events marks it failed; outcome.failure is unmet.
  void record(const Step& step, std::size_t index, const StepOutcome& outcome);
  // The setup as step 0; its failure, if any, is unmet.
  void record_setup(const std::optional<Failure>& setup_failure);

  const Timeline& timeline() const { return timeline_; }

 private:
  Service& service_;
  std::string region_;
  std::uint64_t last_sequence_ = 0;
  Timeline timeline_;
};

// The page (see above).
std::string render_timeline_html(const Timeline& timeline);

// Writes the page to `path`, created (or narrowed) to mode 0600 like every file smemu writes;
// InvalidParameterException naming the path when it cannot.
Status write_timeline_html(const Timeline& timeline, const std::string& path);

}  // namespace smemu::scenarios
