// `smemu serve --function ARN=SPEC --events FILE` end to end: RotateSecret over HTTP answers at
// once, the server's own worker runs the rotation, and the events file gets one JSON line per
// event, mode 0600, with no secret value in it (D16, D19).
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/cli_child.h"
#include "http/http_client.h"
#include "http/temp_dir.h"

namespace smemu {
namespace {

using test::announced_port;
using test::Child;
using test::HttpConnection;
using test::json_of;
using test::TempDir;

constexpr auto kLambda = "arn:aws:lambda:us-east-1:123456789012:function:rot";
constexpr auto kOldValue = R"({"username":"app","password":"serve-old-password"})";
constexpr auto kCreateToken = "00000000-0000-4000-8000-000000000001";
constexpr auto kRotateToken = "00000000-0000-4000-8000-000000000002";

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_stage(const nlohmann::json& describe, const std::string& version, const std::string& stage) {
  const auto& stages = describe["VersionIdsToStages"];
  if (!stages.contains(version)) return false;
  const auto& list = stages[version];
  return std::find(list.begin(), list.end(), stage) != list.end();
}

TEST_CASE("smemu serve --function runs RotateSecret's rotation on its own worker, --events writes JSON lines") {
  TempDir dir;
  const auto events_path = dir.path() / "events.jsonl";
  Child child({"serve", "--port", "0", "--function", std::string(kLambda) + "=builtin:template", "--events",
               events_path.string()});
  const auto line = child.read_line();
  REQUIRE(line);
  const std::uint16_t port = announced_port(*line);
  REQUIRE_MESSAGE(port != 0, *line);

  std::string new_password;
  {
    HttpConnection connection(port);
    const auto created = connection.call(
        "CreateSecret", {{"Name", "rot"}, {"SecretString", kOldValue}, {"ClientRequestToken", kCreateToken}});
    REQUIRE(created.result_int() == 200);

    const auto rotated = connection.call(
        "RotateSecret", {{"SecretId", "rot"}, {"ClientRequestToken", kRotateToken}, {"RotationLambdaARN", kLambda}});
    REQUIRE_MESSAGE(rotated.result_int() == 200, rotated.body());
    CHECK(json_of(rotated)["VersionId"] == kRotateToken);

    // Nothing drives the emulator from outside: only the server's worker can finish the rotation.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    nlohmann::json describe;
    for (;;) {
      const auto described = connection.call("DescribeSecret", {{"SecretId", "rot"}});
      REQUIRE(described.result_int() == 200);
      describe = json_of(described);
      if (has_stage(describe, kRotateToken, "AWSCURRENT") || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    INFO(describe.dump());
    REQUIRE(has_stage(describe, kRotateToken, "AWSCURRENT"));
    CHECK(has_stage(describe, kCreateToken, "AWSPREVIOUS"));

    const auto value = connection.call("GetSecretValue", {{"SecretId", "rot"}});
    REQUIRE(value.result_int() == 200);
    new_password = nlohmann::json::parse(json_of(value)["SecretString"].get<std::string>())["password"];
    CHECK(new_password != "serve-old-password");
  }

  child.signal(SIGTERM);
  CHECK(child.wait() == std::optional<int>(0));

  struct stat info {};
  REQUIRE(stat(events_path.c_str(), &info) == 0);
  CHECK((info.st_mode & 07777) == 0600);
  std::set<std::string> names;
  for (const auto& event_line : lines_of(events_path)) {
    INFO(event_line);
    const auto event = nlohmann::json::parse(event_line, nullptr, false);
    REQUIRE(event.is_object());
    const std::string name = event.value("eventName", "");
    names.insert(name);
    // Successful reads are not written; the template function's failed GetSecretValue of
    // AWSPENDING (its createSecret step) is.
    if (name == "GetSecretValue" || name == "DescribeSecret") CHECK(event.contains("errorCode"));
    CHECK(event_line.find("serve-old-password") == std::string::npos);
    CHECK(event_line.find(new_password) == std::string::npos);
  }
  CHECK(names.count("CreateSecret") == 1);
  CHECK(names.count("RotateSecret") == 1);
  CHECK(names.count("RotationStarted") == 1);
  CHECK(names.count("RotationSucceeded") == 1);
  CHECK(names.count("DescribeSecret") == 0);
}

TEST_CASE("smemu serve --events narrows an existing file to mode 0600 and truncates it") {
  TempDir dir;
  const auto events_path = dir.path() / "events.jsonl";
  std::ofstream(events_path) << "left over\n";
  std::filesystem::permissions(events_path, std::filesystem::perms(0644));
  Child child({"serve", "--port", "0", "--events", events_path.string()});
  const auto line = child.read_line();
  REQUIRE(line);
  REQUIRE(announced_port(*line) != 0);
  child.signal(SIGTERM);
  CHECK(child.wait() == std::optional<int>(0));
  struct stat info {};
  REQUIRE(stat(events_path.c_str(), &info) == 0);
  CHECK((info.st_mode & 07777) == 0600);
  CHECK(lines_of(events_path).empty());
}

TEST_CASE("smemu serve: a bad --function exits 2 and an --events file it cannot open exits 1, before listening") {
  const std::string bad_spec = std::string(kLambda) + "=builtin:nonesuch";
  {
    Child child({"serve", "--port", "0", "--function", bad_spec});
    CHECK(child.read_all().empty());
    CHECK(child.wait() == std::optional<int>(2));
    CHECK(child.stderr_text().find("smemu serve: --function " + std::string(kLambda) + ": ") != std::string::npos);
  }
  {
    Child child({"serve", "--port", "0", "--function", kLambda});
    CHECK(child.read_all().empty());
    CHECK(child.wait() == std::optional<int>(2));
    CHECK(child.stderr_text().find("--function must be ARN=SPEC") != std::string::npos);
  }
  {
    TempDir dir;
    const auto missing = dir.path() / "no-such-dir" / "events.jsonl";
    Child child({"serve", "--port", "0", "--events", missing.string()});
    CHECK(child.read_all().empty());
    CHECK(child.wait() == std::optional<int>(1));
    CHECK(child.stderr_text().find("smemu serve: --events " + missing.string() + ": ") != std::string::npos);
  }
}

}  // namespace
}  // namespace smemu
