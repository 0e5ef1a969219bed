// Helpers shared by the generated JSON mapping (generated/api_json.cpp, generated/client.cpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "smemu/model/error.h"
#include "smemu/model/time.h"
#include "support/base64.h"

namespace smemu::api {

// Member paths in SerializationException messages use the AWS member names: Tags[0].Key.
inline std::string join_path(const std::string& path, std::string_view member) {
  return path.empty() ? std::string(member) : path + "." + std::string(member);
}
inline std::string element_path(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

// A member whose JSON type is not the model's: SerializationException naming the member.
Error type_error(const std::string& path, std::string_view expected);

// Timestamps travel as epoch seconds with millisecond fractions (spec section 1).
inline double epoch_seconds(Timestamp t) { return static_cast<double>(epoch_ms(t)) / 1000.0; }

template <class List, class Convert>
nlohmann::json list_to_json(const List& list, Convert convert) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& element : list) out.push_back(convert(element));
  return out;
}

template <class Map, class Convert>
nlohmann::json map_to_json(const Map& map, Convert convert) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : map) out[key] = convert(value);
  return out;
}

}  // namespace smemu::api

namespace smemu {
Error unknown_operation(std::string_view operation);
Error not_an_object();
}  // namespace smemu
