// Store::Handle: how the rotation engine's queue holds on to a secret without its name. A handle
// finds its secret wherever the pool put it, and never a later secret put in the same place.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "smemu/model/secret.h"
#include "smemu/model/store.h"

#include "secret_fixtures.h"

using namespace smemu;
using namespace smemu::model;

namespace {

Secret secret_named(std::string name) { return Secret(testing::meta_named(std::move(name))); }

}  // namespace

TEST_CASE("model/store: a handle finds its secret in every chunk of the pool, until it is erased") {
  Store store("aws", "123456789012");
  std::vector<Store::Handle> handles;
  // 1,000 secrets fill the pool's chunks of 16, 32, 64, ... secrets.
  for (int i = 0; i < 1000; ++i) handles.push_back(store.handle(store.insert(secret_named("s" + std::to_string(i)))));
  for (int i = 0; i < 1000; ++i) {
    const auto* found = store.find(handles[static_cast<std::size_t>(i)]);
    REQUIRE(found != nullptr);
    CHECK(found->meta.name == "s" + std::to_string(i));
  }
  store.erase("us-east-1", "s500");
  CHECK(store.find(handles[500]) == nullptr);
  // The new secret takes the freed place: the old handle still finds nothing, the new one finds it.
  auto& again = store.insert(secret_named("s500"));
  const auto handle = store.handle(again);
  CHECK(handle.index == handles[500].index);
  CHECK(store.find(handles[500]) == nullptr);
  CHECK(store.find(handle) == &again);
  CHECK(store.find(handles[499])->meta.name == "s499");
}
