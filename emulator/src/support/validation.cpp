#include "support/validation.h"

#include <map>
#include <mutex>
#include <regex>

#include <fmt/format.h>

namespace smemu::api {
namespace {

std::string value_clause(const std::string& value, bool sensitive) {
  return sensitive ? std::string("Value") : fmt::format("Value '{}'", value);
}

std::string violation(std::string_view value_part, const MemberPath& path, std::string_view constraint) {
  return fmt::format("{} at '{}' failed to satisfy constraint: Member must {}", value_part, path.text(), constraint);
}

// The model's patterns are Java regular expressions matched against the whole value. The few it
// has are compiled once and shared; std::regex objects are safe to use concurrently once built.
const std::regex& compiled(std::string_view pattern) {
  static std::mutex mutex;
  static std::map<std::string, std::regex, std::less<>> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(pattern);
  if (it == cache.end()) it = cache.emplace(std::string(pattern), std::regex(std::string(pattern))).first;
  return it->second;
}

}  // namespace

std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

void Violations::missing(const MemberPath& path) { add(violation("Value null", path, "not be null")); }

std::optional<Error> Violations::to_error() const {
  if (items_.empty()) return std::nullopt;
  return make_error(ErrorCode::Validation,
                    fmt::format("{} validation error{} detected: {}", items_.size(), items_.size() == 1 ? "" : "s",
                                fmt::join(items_, "; ")));
}

std::string MemberPath::text() const {
  if (!parent_) return std::string(member_);
  if (element_ > 0) return fmt::format("{}.{}.member", parent_->text(), element_);
  return fmt::format("{}.{}", parent_->text(), member_);
}

void check_length(Violations& errors, const std::string& value, const MemberPath& path, std::int64_t min,
                  std::int64_t max, bool sensitive, LengthUnit unit) {
  const auto bytes = static_cast<std::int64_t>(value.size());
  // A UTF-8 character takes 1 to 4 bytes: most values are within bounds by their size alone,
  // without counting characters.
  if (bytes <= max && (unit == LengthUnit::kBytes ? bytes : (bytes + 3) / 4) >= min) return;
  const auto length = unit == LengthUnit::kBytes ? bytes : static_cast<std::int64_t>(utf8_length(value));
  if (length < min) {
    errors.add(violation(value_clause(value, sensitive), path, fmt::format("have length greater than or equal to {}", min)));
  } else if (length > max) {
    errors.add(violation(value_clause(value, sensitive), path, fmt::format("have length less than or equal to {}", max)));
  }
}

void check_pattern(Violations& errors, const std::string& value, const MemberPath& path, std::string_view pattern,
                   bool sensitive) {
  if (!std::regex_match(value, compiled(pattern))) {
    errors.add(violation(value_clause(value, sensitive), path,
                         fmt::format("satisfy regular expression pattern: {}", pattern)));
  }
}

void check_enum(Violations& errors, const std::string& value, const MemberPath& path,
                std::initializer_list<std::string_view> allowed) {
  for (const auto candidate : allowed) {
    if (candidate == value) return;
  }
  errors.add(violation(value_clause(value, false), path,
                       fmt::format("satisfy enum value set: [{}]", fmt::join(allowed, ", "))));
}

void check_range(Violations& errors, std::int64_t value, const MemberPath& path, std::int64_t min, std::int64_t max) {
  if (value < min) {
    errors.add(violation(fmt::format("Value '{}'", value), path, fmt::format("have value greater than or equal to {}", min)));
  } else if (value > max) {
    errors.add(violation(fmt::format("Value '{}'", value), path, fmt::format("have value less than or equal to {}", max)));
  }
}

void check_size(Violations& errors, std::size_t size, const MemberPath& path, std::int64_t min, std::int64_t max) {
  const auto n = static_cast<std::int64_t>(size);
  if (n < min) {
    errors.add(violation(fmt::format("Value with {} items", n), path, fmt::format("have length greater than or equal to {}", min)));
  } else if (n > max) {
    errors.add(violation(fmt::format("Value with {} items", n), path, fmt::format("have length less than or equal to {}", max)));
  }
}

}  // namespace smemu::api
