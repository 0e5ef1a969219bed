// The checks behind generated/api_validate.cpp: the service model's constraints (required,
// length, range, pattern, enum, list size), reported as one ValidationException in the AWS form
// "N validation error(s) detected: Value '<v>' at '<member>' failed to satisfy constraint: ...".
// Sensitive members (SecretString, SecretBinary, RotationToken) never echo their value (D19).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smemu/model/error.h"

namespace smemu::api {

inline constexpr std::int64_t kNoMax = std::numeric_limits<std::int64_t>::max();
inline constexpr std::int64_t kNoMin = std::numeric_limits<std::int64_t>::min();

// Strings are measured in Unicode characters; secret values in bytes (D20).
enum class LengthUnit { kChars, kBytes };

class Violations {
 public:
  void missing(const std::string& path);
  void add(std::string violation) { items_.push_back(std::move(violation)); }
  std::optional<Error> to_error() const;

 private:
  std::vector<std::string> items_;
};

// "tags.1.member": AWS numbers list elements from 1.
std::string member_path(const std::string& path, std::size_t index);

void check_length(Violations& errors, const std::string& value, const std::string& path, std::int64_t min,
                  std::int64_t max, bool sensitive, LengthUnit unit);
void check_pattern(Violations& errors, const std::string& value, const std::string& path, std::string_view pattern,
                   bool sensitive);
void check_enum(Violations& errors, const std::string& value, const std::string& path,
                std::initializer_list<std::string_view> allowed);
void check_range(Violations& errors, std::int64_t value, const std::string& path, std::int64_t min, std::int64_t max);
void check_size(Violations& errors, std::size_t size, const std::string& path, std::int64_t min, std::int64_t max);

// Unicode characters in a UTF-8 string (continuation bytes are not counted).
std::size_t utf8_length(std::string_view text);

}  // namespace smemu::api
