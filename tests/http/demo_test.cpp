// `smemu demo` end to end: the README's first command runs it.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "http/cli_child.h"

namespace smemu {
namespace {

using test::Child;

TEST_CASE("smemu demo walks the lifecycle and one rotation, prints no secret value, exits 0") {
  Child child({"demo"});
  const std::string out = child.read_all();
  CHECK(child.wait() == std::optional<int>(0));
  for (const auto* expected : {"$ CreateSecret", "CANARY", "(a rollback)", "rotation step createSecret: ok",
                               "rotation step finishSecret: ok", "(deprecated)", "next rotation: 2026-01-31",
                               "RotationStarted", "RotationSucceeded"}) {
    CHECK_MESSAGE(out.find(expected) != std::string::npos, expected);
  }
  for (const auto* value : {"first", "second", "third"}) CHECK(out.find(value) == std::string::npos);
}

TEST_CASE("smemu demo is deterministic for a seed") {
  Child first({"demo", "--seed", "7"});
  Child second({"demo", "--seed", "7"});
  const auto a = first.read_all();
  CHECK(a == second.read_all());
  CHECK(first.wait() == std::optional<int>(0));
  CHECK(second.wait() == std::optional<int>(0));
}

}  // namespace
}  // namespace smemu
