// shrink (generator.h): delta debugging over a failing scenario. First whole chunks of steps go,
// halving the chunk size down to single steps (repeated until no single step can go); then each
// remaining piece is simplified on its own — a deferred call made at once, a fault's call point
// dropped, an optional request member, an expectation, a setup secret or function — and the
// single-step pass runs again if anything changed. Only candidates for which `still_fails`
// holds are kept, and candidates are tried in a fixed order, so the result is deterministic.
#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "smemu/scenarios/generator.h"

namespace smemu::scenarios {
namespace {

using StillFails = std::function<bool(const Scenario&)>;

// Keeps `candidate` in `current` when it still fails.
bool try_candidate(Scenario& current, Scenario candidate, const StillFails& still_fails) {
  if (!still_fails(candidate)) return false;
  current = std::move(candidate);
  return true;
}

// Removes chunks of steps, halving the chunk size; at single steps, until a pass removes nothing.
// Returns whether anything was removed.
bool remove_steps(Scenario& current, const StillFails& still_fails, std::size_t chunk) {
  bool any = false;
  for (;;) {
    bool removed = false;
    for (std::size_t start = 0; start < current.steps.size();) {
      Scenario candidate = current;
      const auto first = candidate.steps.begin() + static_cast<std::ptrdiff_t>(start);
      const auto count = std::min(chunk, candidate.steps.size() - start);
      candidate.steps.erase(first, first + static_cast<std::ptrdiff_t>(count));
      if (try_candidate(current, std::move(candidate), still_fails)) {
        removed = true;
      } else {
        start += chunk;
      }
    }
    any = any || removed;
    if (chunk > 1) {
      chunk /= 2;
    } else if (!removed) {
      return any;
    }
  }
}

// The request members a call keeps: without them it would name no secret.
bool is_identity(const std::string& member) { return member == "SecretId" || member == "Name"; }

// One pass of simplifications, each tried alone; returns whether any was kept.
bool simplify(Scenario& current, const StillFails& still_fails) {
  bool changed = false;
  for (std::size_t i = 0; i < current.steps.size(); ++i) {
    if (const auto* deferred = std::get_if<Call>(&current.steps[i].action); deferred && deferred->during) {
      Scenario candidate = current;
      std::get<Call>(candidate.steps[i].action).during.reset();
      changed |= try_candidate(current, std::move(candidate), still_fails);
    }
    if (const auto* armed = std::get_if<ArmFault>(&current.steps[i].action); armed && armed->fault.at.after_call) {
      Scenario candidate = current;
      auto& at = std::get<ArmFault>(candidate.steps[i].action).fault.at;
      at.after_call.reset();
      at.occurrence = 1;
      changed |= try_candidate(current, std::move(candidate), still_fails);
    }
    if (const auto* made = std::get_if<Call>(&current.steps[i].action); made && made->request.is_object()) {
      std::vector<std::string> members;
      for (const auto& item : made->request.items()) {
        if (!is_identity(item.key())) members.push_back(item.key());
      }
      for (const auto& member : members) {
        Scenario candidate = current;
        std::get<Call>(candidate.steps[i].action).request.erase(member);
        changed |= try_candidate(current, std::move(candidate), still_fails);
      }
    }
    if (current.steps[i].expect != Expectation{}) {
      Scenario candidate = current;
      candidate.steps[i].expect = Expectation{};
      changed |= try_candidate(current, std::move(candidate), still_fails);
    }
  }
  for (std::size_t i = current.setup.secrets.size(); i-- > 0;) {
    Scenario candidate = current;
    candidate.setup.secrets.erase(candidate.setup.secrets.begin() + static_cast<std::ptrdiff_t>(i));
    changed |= try_candidate(current, std::move(candidate), still_fails);
  }
  for (std::size_t i = current.setup.functions.size(); i-- > 0;) {
    Scenario candidate = current;
    candidate.setup.functions.erase(candidate.setup.functions.begin() + static_cast<std::ptrdiff_t>(i));
    changed |= try_candidate(current, std::move(candidate), still_fails);
  }
  return changed;
}

}  // namespace

Scenario shrink(Scenario failing, const StillFails& still_fails) {
  remove_steps(failing, still_fails, std::max<std::size_t>(failing.steps.size() / 2, 1));
  // Every simplification kept removes something, so this ends.
  while (simplify(failing, still_fails)) remove_steps(failing, still_fails, 1);
  return failing;
}

}  // namespace smemu::scenarios
