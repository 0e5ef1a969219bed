// explain(): one sentence on what a scenario step did and why, as smemu walk and smemu lab show
// it under the versions x labels table ("finishSecret of lab/rds (attempt 1) succeeded: it moved
// AWSCURRENT from 11111111 to 22222222; AWSPREVIOUS followed the old one (spec 4.4)").
//
// The sentence comes from the step, what the runner says it did (StepOutcome), the events it
// appended and the labels before and after; it names versions by the first 8 characters of their
// ids and never holds a secret value (D19).
//
// Thread-safety: pure functions, except label_state, which reads the service under its lock.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "smemu/emulator/event_log.h"
#include "smemu/emulator/service.h"
#include "smemu/scenarios/runner.h"
#include "smemu/scenarios/scenario.h"

namespace smemu::scenarios {

// Secret name -> its labels, for every secret of a region.
using LabelState = std::map<std::string, LabelTable>;

// The labels of every secret the operations can find in `region` now.
LabelState label_state(const Service& service, std::string_view region);

// What `step` did and why. `events`: what the step appended to the event log; `before`/`after`:
// label_state around the step.
std::string explain(const Step& step, const StepOutcome& outcome, const std::vector<Event>& events,
                    const LabelState& before, const LabelState& after);

}  // namespace smemu::scenarios
