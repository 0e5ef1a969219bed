// ChangeSink: what receives every change the service commits (Service::set_change_sink), so that
// `smemu serve --state FILE` can make each acknowledged change durable before it is answered
// (state_journal.h).
#pragma once

#include <vector>

#include "smemu/model/store.h"

namespace smemu {

// What one exclusive section of the service changed.
struct ChangeSet {
  // Every secret the section handed out for writing or erased, each once, sorted by region and
  // name (model::Store::take_changes): `secret` as it is now, nullptr when it was erased. Some
  // may be unchanged (a failed call changes nothing but may have looked the secret up).
  std::vector<model::Store::Change> secrets;
  // The section replaced the whole state (Service::reset), or the sink was just attached:
  // `secrets` is empty and `store` is all there is.
  bool everything = false;
  // The whole store, as it is now.
  const model::Store* store = nullptr;
};

class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  // Called at the end of every exclusive section of the service, with its write lock still held:
  // in the order the changes happened, and before the call that made them answers. It must not
  // call into the service (its lock is held; the clock and the SimulatedDatabase may be read),
  // and must not throw. A sink that cannot keep a change must not return normally, or the change
  // would be acknowledged: it stops the process.
  virtual void commit(const ChangeSet& changes) = 0;
};

}  // namespace smemu
