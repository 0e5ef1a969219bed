// InvariantChecker: the properties every state of the service must have (issue 4 item 4),
// checked after each step on the secrets that step touched.
//
//   1. At most one version holds each label.
//   2. Once a secret has had an AWSCURRENT version, it has exactly one.
//   3. A version's value never changes once set.
//   4. When AWSCURRENT moves by UpdateSecretVersionStage or a default write, AWSPREVIOUS lands on
//      the version it left.
//   5. The service never moves AWSCURRENT on a failure: a failed call changes nothing, and a
//      failed rotation step leaves AWSCURRENT where the function's own calls put it.
//   6. Default listings (ListSecretVersionIds without IncludeDeprecated) never show a version
//      without labels.
//   7. VersionIds are unique, and never reused for another value.
//   8. RotateSecret with a new token is refused exactly when AWSPENDING sits on a version other
//      than AWSCURRENT.
//   9. The engine's record of a rotation in flight names a version that carries AWSPENDING (or
//      AWSCURRENT while its finishSecret runs: model/secret.h invariant 7).
//  10. No acknowledged write is lost, except by the D8 purge (EndSecretVersionDelete) or a
//      deletion of the secret.
//
// What a step did comes from the service's event log (the calls, including a rotation
// function's own, and the service events since the last check) and from the state before it,
// which the checker remembers per secret from its previous check.
//
// Thread-safety: used from one thread, between steps (no call may be running).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "smemu/emulator/service.h"

namespace smemu::scenarios {

struct Violation {
  int invariant = 0;      // its number above
  std::string secret;     // the secret's ARN
  std::string message;    // what was expected and what is there, naming versions and labels
};

class InvariantChecker {
 public:
  // Starts from the service as it is now: events before this point are not looked at.
  InvariantChecker(Service& service, std::string region);
  ~InvariantChecker();
  InvariantChecker(const InvariantChecker&) = delete;
  InvariantChecker& operator=(const InvariantChecker&) = delete;

  // Checks the secrets touched since the last check (named by the events appended since); the
  // first violation, or nullopt. `touched` receives their ARNs when not null.
  std::optional<Violation> check(std::vector<std::string>* touched = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smemu::scenarios
