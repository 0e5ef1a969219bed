// The property tests (issue 4 item 5): random sequences of operations, rotations driven step by
// step and to the end, faults and clock advances, each step checked against the Reference
// (reference_model.h) and the invariants (the Runner checks them after every step); a failure is
// shrunk and written as a scenario file (property_run.h). The last test plants a known bug and
// checks that all of this finds it.
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

#include "property_run.h"

namespace smemu::properties {
namespace {

void operations_rotations_faults(Sut& sut) { rc::state::check(initial_reference(), sut, any_command); }

TEST_CASE("properties: every step answers as the reference model says and keeps the invariants") {
  const auto result = check_property("operations", property_setup(false), configured_params(),
                                     operations_rotations_faults);
  CHECK_MESSAGE(result.held, result.message);
}

TEST_CASE("properties: at the version quota a write purges the oldest day-old deprecated version or is refused") {
  // Every case starts with a hundred writes, so it runs a tenth of the cases.
  const auto result = check_property("version-quota", property_setup(false), configured_params(10), [](Sut& sut) {
    Reference model = initial_reference();
    const auto prefix = quota_prefix(model, *rc::gen::inRange(96, 104));
    rc::state::runAll(prefix, initial_reference(), sut);
    rc::state::check(model, sut, quota_command);
  });
  CHECK_MESSAGE(result.held, result.message);
}

TEST_CASE("properties: the planted bug is found, shrunk to at most 10 steps, and its file replays the failure") {
  // ServiceOptions::test_plant_bug: UpdateSecretVersionStage moving AWSCURRENT leaves no AWSPREVIOUS.
  const auto result = check_property("planted-bug", property_setup(true), configured_params(),
                                     operations_rotations_faults);
  CHECK_FALSE(result.held);
  REQUIRE(result.file);
  CHECK(result.steps <= 10);
  CHECK_MESSAGE(result.message.find(std::string(kPrevious)) != std::string::npos, result.message);

  const std::string replay = std::string(SMEMU_CLI_PATH) + " replay --quiet '" + *result.file + "'";
  const int status = std::system(replay.c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
}

}  // namespace
}  // namespace smemu::properties
