// `smemu serve --functions FILE`: a JSON list of {"arn": ARN, "spec": SPEC}, each registered as
// `--function ARN=SPEC` would be (docs/serve.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace smemu::cli {

struct FunctionEntry {
  std::string arn;
  std::string spec;
};

// Appends the file's entries to `out`, in order. Returns what is wrong with the file, if
// anything, naming the byte where the JSON breaks or the index of the bad entry; `out` is then
// incomplete. Whether a SPEC is valid is for Service::register_function to say.
std::optional<std::string> read_functions_file(const std::string& path, std::vector<FunctionEntry>& out);

}  // namespace smemu::cli
