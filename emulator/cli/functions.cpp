// smemu functions add: registers a rotation function on a running `smemu serve`; and the
// `--functions FILE` list that `smemu serve` registers at start (functions_file.h).
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "admin_client.h"
#include "functions_file.h"

namespace smemu::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: smemu functions add ARN SPEC [--endpoint URL]\n\n"
    "Registers a rotation function under the Lambda ARN that RotateSecret's RotationLambdaARN\n"
    "names, replacing any earlier one, and prints the server's JSON answer {\"arn\": ARN}.\n"
    "SPEC is builtin:NAME[?option=value&...], exec:COMMAND or python:PATH[:HANDLER], with\n"
    "?timeout=SECONDS on any (docs/serve.md).\n\n"
    "flags:\n";

}  // namespace

int functions_command(Args args) {
  const std::string usage = std::string(kUsage) + std::string(kEndpointHelp);
  std::vector<std::string_view> positional;
  Flags flags;
  if (const auto done = start_admin_command("functions", args, usage, positional, flags)) return *done;
  if (positional.size() != 3 || positional[0] != "add") {
    return admin_usage_error("functions", "expected 'add ARN SPEC'", usage);
  }
  const nlohmann::json body{{"arn", positional[1]}, {"spec", positional[2]}};
  const auto reply = admin_request("functions", flags, "POST", "/_smemu/functions", body.dump());
  return reply ? report("functions", *reply) : kExitFailure;
}

std::optional<std::string> read_functions_file(const std::string& path, std::vector<FunctionEntry>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read " + path;
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json list;
  try {
    list = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& error) {
    // The parser's own text quotes the last token read; the position is what helps, and is enough.
    return path + ": not JSON: the error is at byte " + std::to_string(error.byte);
  }
  if (!list.is_array()) return path + ": must be a JSON list of {\"arn\": ARN, \"spec\": SPEC}";
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& entry = list[i];
    const std::string where = path + ": entry " + std::to_string(i) + " (counting from 0)";
    if (!entry.is_object()) return where + " must be an object {\"arn\": ARN, \"spec\": SPEC}";
    for (const auto& [key, value] : entry.items()) {
      if (key != "arn" && key != "spec") return where + " has an unknown member \"" + key + "\"";
    }
    for (const char* member : {"arn", "spec"}) {
      if (!entry.contains(member) || !entry[member].is_string() || entry[member].get_ref<const std::string&>().empty()) {
        return where + ": \"" + member + "\" must be a non-empty string";
      }
    }
    out.push_back(FunctionEntry{entry["arn"].get<std::string>(), entry["spec"].get<std::string>()});
  }
  return std::nullopt;
}

}  // namespace smemu::cli
