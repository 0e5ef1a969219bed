// GetRandomPassword (spec 3.15, D19): a password drawn from the seeded "password" stream only, so
// that a seed reproduces every password. The password never appears in an error or a log.
//
// Decided where AWS is vague (decided, not confirmed against AWS):
// - A character type whose every character is listed in ExcludeCharacters counts as not included:
//   RequireEachIncludedType does not require it, and it does not count towards the length check.
// - The characters are drawn uniformly from the union of the included types; with
//   RequireEachIncludedType (the default) one character of each included type is drawn from that
//   type first, then the whole password is shuffled (Fisher-Yates), so the required characters land
//   at uniformly random positions.
#include <array>
#include <utility>

#include "service_internal.h"

namespace smemu {
namespace {

constexpr std::int64_t kDefaultPasswordLength = 32;
constexpr std::string_view kLowercase = "abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kUppercase = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view kDigits = "0123456789";
// The service model's documented set, exactly.
constexpr std::string_view kPunctuation = R"chars(!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~)chars";
static_assert(kPunctuation.size() == 32);
constexpr std::string_view kSpace = " ";

// Room for every character of every type at once.
constexpr std::size_t kAllCharacters =
    kLowercase.size() + kUppercase.size() + kDigits.size() + kPunctuation.size() + kSpace.size();

}  // namespace

Result<api::GetRandomPasswordResponse> Service::get_random_password(const CallContext&,
                                                                    const api::GetRandomPasswordRequest& request) {
  // The types the flags include, in a fixed order so that a seed gives the same password.
  const std::array<std::pair<std::string_view, bool>, 5> types{{
      {kLowercase, !request.exclude_lowercase.value_or(false)},
      {kUppercase, !request.exclude_uppercase.value_or(false)},
      {kDigits, !request.exclude_numbers.value_or(false)},
      {kPunctuation, !request.exclude_punctuation.value_or(false)},
      {kSpace, request.include_space.value_or(false)},
  }};
  std::array<bool, 256> excluded{};
  if (request.exclude_characters) {
    for (const char c : *request.exclude_characters) excluded[static_cast<unsigned char>(c)] = true;
  }
  // The characters ExcludeCharacters leaves of each included type, one type after the other in a
  // fixed buffer (no allocation per call: every rotation asks for a password).
  bool any_type = false;
  std::array<char, kAllCharacters> buffer{};
  std::size_t used = 0;
  std::array<std::string_view, types.size()> included{};
  std::size_t included_count = 0;
  for (const auto& [characters, wanted] : types) {
    if (!wanted) continue;
    any_type = true;
    const std::size_t start = used;
    for (const char c : characters) {
      if (!excluded[static_cast<unsigned char>(c)]) buffer[used++] = c;
    }
    if (used > start) included[included_count++] = std::string_view(buffer.data() + start, used - start);
  }
  const std::string_view allowed(buffer.data(), used);
  if (!any_type) {
    return make_error(ErrorCode::InvalidParameter,
                      "The request excludes every character type, so no characters are left to choose from.");
  }
  if (allowed.empty()) {
    return make_error(ErrorCode::InvalidParameter,
                      "ExcludeCharacters removes every character of the included types, so no characters are left "
                      "to choose from.");
  }
  const bool require_each = request.require_each_included_type.value_or(true);
  const auto length = static_cast<std::size_t>(request.password_length.value_or(kDefaultPasswordLength));
  if (require_each && length < included_count) {
    return make_error(ErrorCode::InvalidParameter, "Password length is too short based on the required types.");
  }

  std::string password;
  password.reserve(length);
  {
    std::lock_guard lock(random_->mutex);
    auto& random = random_->password;
    if (require_each) {
      for (std::size_t i = 0; i < included_count; ++i) {
        password.push_back(included[i][random.below(included[i].size())]);
      }
    }
    while (password.size() < length) password.push_back(allowed[random.below(allowed.size())]);
    for (std::size_t i = password.size(); i > 1; --i) std::swap(password[i - 1], password[random.below(i)]);
  }
  return api::GetRandomPasswordResponse{std::move(password)};
}

}  // namespace smemu
