#include "support/json_support.h"

#include <fmt/format.h>

namespace smemu {

Error unknown_operation(std::string_view operation) {
  return make_error(ErrorCode::UnknownOperation, fmt::format("The operation '{}' is not supported by Secrets Manager.",
                                                             operation));
}

Error not_an_object() {
  return make_error(ErrorCode::Serialization, "The request body must be a JSON object.");
}

namespace api {
Error type_error(const std::string& path, std::string_view expected) {
  return make_error(ErrorCode::Serialization, fmt::format("Unexpected value type at '{}': expected {}.", path, expected));
}
}  // namespace api

}  // namespace smemu
