// SeededRandom's UUIDs (the ClientRequestTokens the SDKs would fill in, and RotationTokens): the
// text Boost writes for the same 16 bytes, version 4 and the RFC 4122 variant, reproducible from
// the seed.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include <boost/uuid/string_generator.hpp>
#include <boost/uuid/uuid.hpp>
#include <boost/uuid/uuid_io.hpp>

#include "smemu/emulator/random.h"

TEST_CASE("uuid() writes version 4 UUIDs as Boost writes them, the same from the same seed") {
  smemu::SeededRandom random(20261122);
  smemu::SeededRandom again(20261122);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto text = random.uuid();
    CHECK(text == again.uuid());
    const auto parsed = boost::uuids::string_generator()(text);
    CHECK(boost::uuids::to_string(parsed) == text);
    CHECK(parsed.version() == boost::uuids::uuid::version_random_number_based);
    CHECK(parsed.variant() == boost::uuids::uuid::variant_rfc_4122);
    seen.insert(text);
  }
  CHECK(seen.size() == 1000);
}
