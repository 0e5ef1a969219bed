// GetRandomPassword (spec 3.15): character types, exclusions, RequireEachIncludedType, lengths,
// the errors for impossible requests, and reproducibility from the seed.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "smemu/emulator/service.h"

namespace {

constexpr std::string_view kLowercase = "abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kUppercase = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kPunctuation = R"chars(!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~)chars";
constexpr int kDraws = 200;

bool has_any(std::string_view password, std::string_view characters) {
  return password.find_first_of(characters) != std::string_view::npos;
}

bool only_from(std::string_view password, std::string_view characters) {
  return password.find_first_not_of(characters) == std::string_view::npos;
}

std::string password_of(smemu::Client& client, smemu::api::GetRandomPasswordRequest request) {
  auto r = client.get_random_password(std::move(request));
  REQUIRE(r.ok());
  REQUIRE(r->random_password);
  return *r->random_password;
}

}  // namespace

TEST_CASE("emulator/password: the default is 32 characters with every type but space") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  const std::string all = std::string(kLowercase) + std::string(kUppercase) + std::string(kDigits) +
                          std::string(kPunctuation);
  for (int i = 0; i < kDraws; ++i) {
    const auto password = password_of(client, {});
    REQUIRE(password.size() == 32);
    CHECK(only_from(password, all));
    CHECK(has_any(password, kLowercase));
    CHECK(has_any(password, kUppercase));
    CHECK(has_any(password, kDigits));
    CHECK(has_any(password, kPunctuation));
  }
}

TEST_CASE("emulator/password: every punctuation character of the documented set is used") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  const auto password =
      password_of(client, {.password_length = 4096, .exclude_numbers = true, .exclude_uppercase = true,
                           .exclude_lowercase = true});
  CHECK(only_from(password, kPunctuation));
  for (const char c : kPunctuation) CHECK_MESSAGE(password.find(c) != std::string::npos, "missing ", c);
}

TEST_CASE("emulator/password: lengths 1 and 4096 are honoured") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  const auto longest = password_of(client, {.password_length = 4096});
  CHECK(longest.size() == 4096);
  CHECK(has_any(longest, kLowercase));
  CHECK(has_any(longest, kPunctuation));

  CHECK(password_of(client, {.password_length = 1, .require_each_included_type = false}).size() == 1);
  // With one type left, one character satisfies RequireEachIncludedType.
  const auto digit = password_of(client, {.password_length = 1, .exclude_punctuation = true,
                                          .exclude_uppercase = true, .exclude_lowercase = true});
  REQUIRE(digit.size() == 1);
  CHECK(only_from(digit, kDigits));
}

TEST_CASE("emulator/password: the model rejects lengths outside 1-4096") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  for (const std::int64_t length : {std::int64_t{0}, std::int64_t{4097}}) {
    auto r = client.get_random_password({.password_length = length});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().name() == "ValidationException");
  }
}

TEST_CASE("emulator/password: each Exclude flag removes its type and keeps the others required") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  struct Case {
    smemu::api::GetRandomPasswordRequest request;
    std::string_view removed;
  };
  const std::array<Case, 4> cases{{
      {{.exclude_numbers = true}, kDigits},
      {{.exclude_punctuation = true}, kPunctuation},
      {{.exclude_uppercase = true}, kUppercase},
      {{.exclude_lowercase = true}, kLowercase},
  }};
  for (const auto& c : cases) {
    CAPTURE(c.removed);
    for (int i = 0; i < kDraws; ++i) {
      const auto password = password_of(client, c.request);
      CHECK_FALSE(has_any(password, c.removed));
      for (const auto type : {kLowercase, kUppercase, kDigits, kPunctuation}) {
        if (type != c.removed) CHECK(has_any(password, type));
      }
    }
  }
}

TEST_CASE("emulator/password: IncludeSpace adds space as a required type") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  for (int i = 0; i < kDraws; ++i) {
    const auto password = password_of(client, {.password_length = 5, .include_space = true});
    CHECK(password.find(' ') != std::string::npos);
    CHECK(has_any(password, kLowercase));
    CHECK(has_any(password, kUppercase));
    CHECK(has_any(password, kDigits));
    CHECK(has_any(password, kPunctuation));
  }
  // Five types need five characters.
  auto r = client.get_random_password({.password_length = 4, .include_space = true});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().name() == "InvalidParameterException");
  CHECK(r.error().message == "Password length is too short based on the required types.");
  // Without IncludeSpace there is never a space.
  for (int i = 0; i < kDraws; ++i) CHECK(password_of(client, {}).find(' ') == std::string::npos);
}

TEST_CASE("emulator/password: ExcludeCharacters never appear") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  const std::string excluded = "aeiouAEIOU01lI|\"'`\\ ";
  for (int i = 0; i < kDraws; ++i) {
    const auto password =
        password_of(client, {.password_length = 64, .exclude_characters = excluded, .include_space = true});
    CHECK_FALSE(has_any(password, excluded));
  }
}

TEST_CASE("emulator/password: a type that ExcludeCharacters empties is no longer required") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  // Decided: every digit excluded means digits count as not included, so three characters suffice
  // for the three remaining types.
  for (int i = 0; i < kDraws; ++i) {
    const auto password = password_of(client, {.password_length = 3, .exclude_characters = std::string(kDigits)});
    REQUIRE(password.size() == 3);
    CHECK(has_any(password, kLowercase));
    CHECK(has_any(password, kUppercase));
    CHECK(has_any(password, kPunctuation));
  }
  // The same with a space excluded by character while IncludeSpace asks for it.
  const auto password =
      password_of(client, {.password_length = 4, .exclude_characters = " ", .include_space = true});
  CHECK(password.find(' ') == std::string::npos);
}

TEST_CASE("emulator/password: RequireEachIncludedType=false allows passwords missing a type") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  CHECK(password_of(client, {.password_length = 2, .require_each_included_type = false}).size() == 2);
  int missing_a_type = 0;
  for (int i = 0; i < kDraws; ++i) {
    const auto password = password_of(client, {.password_length = 4, .require_each_included_type = false});
    if (!has_any(password, kLowercase) || !has_any(password, kUppercase) || !has_any(password, kDigits) ||
        !has_any(password, kPunctuation)) {
      ++missing_a_type;
    }
  }
  // With every type required a 4-character password always holds all four; without, most do not.
  CHECK(missing_a_type > kDraws / 2);
}

TEST_CASE("emulator/password: characters are drawn uniformly") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  std::map<char, int> counts;
  constexpr int kPasswords = 10;
  for (int i = 0; i < kPasswords; ++i) {
    for (const char c : password_of(client, {.password_length = 4096, .exclude_punctuation = true,
                                             .exclude_uppercase = true, .exclude_lowercase = true})) {
      ++counts[c];
    }
  }
  REQUIRE(counts.size() == 10);
  const int expected = kPasswords * 4096 / 10;
  for (const auto& [c, count] : counts) {
    CAPTURE(c);
    CHECK(count > expected * 9 / 10);
    CHECK(count < expected * 11 / 10);
  }
}

TEST_CASE("emulator/password: the required characters land anywhere in the password") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  // One digit among lowercase letters: over many draws it must appear at every position.
  std::set<std::size_t> positions;
  for (int i = 0; i < kDraws; ++i) {
    const auto password = password_of(client, {.password_length = 8, .exclude_characters = "123456789",
                                               .exclude_punctuation = true, .exclude_uppercase = true});
    for (std::size_t p = 0; p < password.size(); ++p) {
      if (password[p] == '0') positions.insert(p);
    }
  }
  CHECK(positions.size() == 8);
}

TEST_CASE("emulator/password: impossible requests are InvalidParameterException") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  SUBCASE("every type excluded") {
    auto r = client.get_random_password(
        {.exclude_numbers = true, .exclude_punctuation = true, .exclude_uppercase = true, .exclude_lowercase = true});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().name() == "InvalidParameterException");
    CHECK(r.error().message.find("no characters are left to choose from") != std::string::npos);
  }
  SUBCASE("ExcludeCharacters removes what the flags leave") {
    auto r = client.get_random_password({.exclude_characters = std::string(kDigits) + " ",
                                         .exclude_punctuation = true, .exclude_uppercase = true,
                                         .exclude_lowercase = true, .include_space = true});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().name() == "InvalidParameterException");
    CHECK(r.error().message.find("no characters are left to choose from") != std::string::npos);
  }
  SUBCASE("length shorter than the required types") {
    auto r = client.get_random_password({.password_length = 3});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().name() == "InvalidParameterException");
    CHECK(r.error().message == "Password length is too short based on the required types.");
    CHECK(password_of(client, {.password_length = 4}).size() == 4);
  }
}

TEST_CASE("emulator/password: the seed reproduces passwords") {
  smemu::Service first(smemu::ServiceOptions{.seed = 42});
  smemu::Service second(smemu::ServiceOptions{.seed = 42});
  smemu::Service other(smemu::ServiceOptions{.seed = 43});
  auto a = first.client("us-east-1");
  auto b = second.client("eu-west-1");
  auto c = other.client("us-east-1");
  // Other draws (tokens, ARN suffixes) come from their own streams and leave passwords alone.
  REQUIRE(b.create_secret({.name = "unrelated", .secret_string = "v"}).ok());
  for (int i = 0; i < 5; ++i) {
    const auto request = smemu::api::GetRandomPasswordRequest{.password_length = 20, .include_space = i % 2 == 0};
    const auto from_a = password_of(a, request);
    CHECK(from_a == password_of(b, request));
    CHECK(from_a != password_of(c, request));
  }
}

TEST_CASE("emulator/password: successive passwords differ") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  std::set<std::string> seen;
  for (int i = 0; i < kDraws; ++i) seen.insert(password_of(client, {}));
  CHECK(seen.size() == kDraws);
}

TEST_CASE("emulator/password: the JSON path answers RandomPassword") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  auto r = client.call("GetRandomPassword", {{"PasswordLength", 20}, {"ExcludePunctuation", true}});
  REQUIRE(r.ok());
  REQUIRE(r->contains("RandomPassword"));
  const auto password = (*r)["RandomPassword"].get<std::string>();
  CHECK(password.size() == 20);
  CHECK_FALSE(has_any(password, kPunctuation));
}
