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

// Where a member is, as the message names it ("secretId", "rotationRules.duration",
// "tags.1.member": AWS numbers list elements from 1). Only pieces and a link to the enclosing
// path: the text is built when a violation needs it, so a valid request (the usual one) pays
// nothing for it. A path must not outlive the one it extends.
class MemberPath {
 public:
  explicit MemberPath(std::string_view member) : member_(member) {}  // a member of the request
  MemberPath(const MemberPath& structure, std::string_view member) : parent_(&structure), member_(member) {}
  MemberPath(const MemberPath& list, std::size_t index) : parent_(&list), element_(index + 1) {}
  std::string text() const;

 private:
  const MemberPath* parent_ = nullptr;
  std::string_view member_;
  std::size_t element_ = 0;  // from 1: an element of the list parent_ names; 0: a member
};

class Violations {
 public:
  void missing(const MemberPath& path);
  void add(std::string violation) { items_.push_back(std::move(violation)); }
  std::optional<Error> to_error() const;

 private:
  std::vector<std::string> items_;
};

void check_length(Violations& errors, const std::string& value, const MemberPath& path, std::int64_t min,
                  std::int64_t max, bool sensitive, LengthUnit unit);
void check_pattern(Violations& errors, const std::string& value, const MemberPath& path, std::string_view pattern,
                   bool sensitive);
void check_enum(Violations& errors, const std::string& value, const MemberPath& path,
                std::initializer_list<std::string_view> allowed);
void check_range(Violations& errors, std::int64_t value, const MemberPath& path, std::int64_t min, std::int64_t max);
void check_size(Violations& errors, std::size_t size, const MemberPath& path, std::int64_t min, std::int64_t max);

// Unicode characters in a UTF-8 string (continuation bytes are not counted).
std::size_t utf8_length(std::string_view text);

}  // namespace smemu::api
