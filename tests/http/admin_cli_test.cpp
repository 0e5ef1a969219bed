// The admin subcommands of the `smemu` executable (clock, events, wait, functions, reset,
// health) against a served child, and `smemu serve --functions FILE`, good and bad.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/cli_child.h"
#include "http/http_client.h"

namespace smemu {
namespace {

using nlohmann::json;
using test::announced_port;
using test::Child;
using test::HttpConnection;
using test::json_of;

constexpr auto kLambda = "arn:aws:lambda:us-east-1:123456789012:function:rot";
constexpr auto kFailing = "arn:aws:lambda:us-east-1:123456789012:function:fails";
constexpr auto kValue = R"({"username":"app","password":"cli-old-password"})";

// A file under the temp directory with `text` in it, removed at the end.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    std::string pattern = (std::filesystem::temp_directory_path() / "smemu-admin-cli-XXXXXX").string();
    const int fd = mkstemp(pattern.data());
    REQUIRE(fd >= 0);
    close(fd);
    path_ = pattern;
    std::ofstream(path_, std::ios::binary) << text;
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

struct Run {
  std::optional<int> status;
  std::string out;
  std::string err;
};

// `smemu ARGS...` to its end.
Run run(const std::vector<std::string>& args) {
  Child child(args);
  Run result;
  result.out = child.read_all();
  result.status = child.wait();
  result.err = child.stderr_text();
  return result;
}

std::string token(int n) { return "00000000-0000-4000-8000-" + std::to_string(100000000000 + n); }

// The version that holds `stage`, or "" when none does.
std::string holder(const json& described, const std::string& stage) {
  for (const auto& [version, stages] : described["VersionIdsToStages"].items()) {
    if (std::find(stages.begin(), stages.end(), stage) != stages.end()) return version;
  }
  return {};
}

TEST_CASE("smemu clock, wait, events, functions, reset and health against smemu serve --functions FILE") {
  const TempFile functions(json::array({{{"arn", kLambda}, {"spec", "builtin:template"}},
                                        {{"arn", kFailing}, {"spec", "builtin:template?fail_at=setSecret"}}})
                               .dump());
  Child server({"serve", "--port", "0", "--functions", functions.path()});
  const auto line = server.read_line();
  REQUIRE(line);
  const std::uint16_t port = announced_port(*line);
  REQUIRE_MESSAGE(port != 0, *line);
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(port);
  HttpConnection connection(port);

  // health, with --endpoint and with SMEMU_ENDPOINT (which the child inherits).
  auto result = run({"health", "--endpoint", endpoint});
  CHECK(result.status == std::optional<int>(0));
  CHECK(json::parse(result.out) == json{{"status", "ok"}});
  REQUIRE(setenv("SMEMU_ENDPOINT", endpoint.c_str(), 1) == 0);
  result = run({"health"});
  unsetenv("SMEMU_ENDPOINT");
  CHECK(result.status == std::optional<int>(0));

  result = run({"clock", "--endpoint=" + endpoint});
  REQUIRE(result.status == std::optional<int>(0));
  const double start = json::parse(result.out)["now"].get<double>();

  // A secret rotated daily from the file's function; two days on, its scheduled rotation ran
  // before `smemu clock advance` came back.
  REQUIRE(connection.call("CreateSecret", {{"Name", "rot"}, {"SecretString", kValue}, {"ClientRequestToken", token(1)}})
              .result_int() == 200);
  REQUIRE(connection
              .call("RotateSecret", {{"SecretId", "rot"},
                                     {"ClientRequestToken", token(2)},
                                     {"RotationLambdaARN", kLambda},
                                     {"RotationRules", {{"AutomaticallyAfterDays", 1}}}})
              .result_int() == 200);
  result = run({"clock", "advance", "2d", "--endpoint", endpoint});
  INFO(result.err);
  REQUIRE(result.status == std::optional<int>(0));
  const double now = json::parse(result.out)["now"].get<double>();
  CHECK(now >= start + 2 * 86400);
  const json described = json_of(connection.call("DescribeSecret", {{"SecretId", "rot"}}));
  INFO(described.dump());
  const std::string current = holder(described, "AWSCURRENT");
  // The template function, as AWS's sample, leaves AWSPENDING beside AWSCURRENT.
  const std::string pending = holder(described, "AWSPENDING");
  CHECK((pending.empty() || pending == current));
  CHECK(current != token(1));
  CHECK(current != token(2));
  CHECK(described["NextRotationDate"].get<double>() > now);

  result = run({"wait", "rot", "--timeout", "5", "--endpoint", endpoint});
  CHECK(result.status == std::optional<int>(0));
  CHECK(json::parse(result.out) == json{{"state", "idle"}});

  // A rotation whose setSecret fails: wait exits 3 and says when D1 re-attempts it.
  REQUIRE(connection.call("CreateSecret", {{"Name", "bad"}, {"SecretString", kValue}, {"ClientRequestToken", token(3)}})
              .result_int() == 200);
  REQUIRE(connection.call("RotateSecret", {{"SecretId", "bad"}, {"ClientRequestToken", token(4)}, {"RotationLambdaARN", kFailing}})
              .result_int() == 200);
  result = run({"wait", "bad", "--endpoint", endpoint});
  CHECK(result.status == std::optional<int>(3));
  const json failed = json::parse(result.out);
  CHECK(failed["state"] == "failed");
  CHECK(failed["retry_at"].get<double>() > now);

  result = run({"wait", "nonesuch", "--endpoint", endpoint});
  CHECK(result.status == std::optional<int>(1));
  CHECK(result.err.find("ResourceNotFoundException") != std::string::npos);

  // Backwards is refused, with the server's reason.
  result = run({"clock", "set", "1000", "--endpoint", endpoint});
  CHECK(result.status == std::optional<int>(1));
  CHECK(result.err.find("never moves backwards") != std::string::npos);
  CHECK(result.err.find("HTTP 400") != std::string::npos);
  const std::int64_t later = static_cast<std::int64_t>(now) + 60;
  result = run({"clock", "set", std::to_string(later), "--endpoint", endpoint});
  CHECK(result.status == std::optional<int>(0));
  CHECK(json::parse(result.out)["now"].get<double>() >= static_cast<double>(later));

  result = run({"events", "--after", "0", "--endpoint", endpoint});
  REQUIRE(result.status == std::optional<int>(0));
  const json events = json::parse(result.out);
  CHECK(!events["events"].empty());
  const auto cursor = events["cursor"].get<std::uint64_t>();
  result = run({"events", "--after", std::to_string(cursor), "--endpoint", endpoint});
  CHECK(json::parse(result.out) == json{{"events", json::array()}, {"cursor", cursor}});

  constexpr auto kAdded = "arn:aws:lambda:us-east-1:123456789012:function:added";
  result = run({"functions", "add", kAdded, "builtin:template", "--endpoint", endpoint});
  CHECK(result.status == std::optional<int>(0));
  CHECK(json::parse(result.out) == json{{"arn", kAdded}});
  result = run({"functions", "add", kAdded, "builtin:nonesuch", "--endpoint", endpoint});
  CHECK(result.status == std::optional<int>(1));
  CHECK(result.err.find("InvalidParameterException") != std::string::npos);

  result = run({"reset", "--endpoint", endpoint});
  CHECK(result.status == std::optional<int>(0));
  CHECK(json_of(connection.call("ListSecrets", json::object()))["SecretList"].empty());
  // With nothing left to rotate, a jump to the far future is quick.
  result = run({"clock", "set", "9999-01-01T00:00:00Z", "--endpoint", endpoint});
  CHECK(result.status == std::optional<int>(0));
  CHECK(json::parse(result.out)["now"].get<double>() >= 253370764800.0);

  server.signal(SIGTERM);
  CHECK(server.wait() == std::optional<int>(0));

  // No server there any more.
  result = run({"health", "--endpoint", endpoint});
  CHECK(result.status == std::optional<int>(1));
  CHECK(result.err.find("smemu health: cannot connect") != std::string::npos);
}

TEST_CASE("smemu admin subcommands: bad command lines exit 2 before sending anything") {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"clock", "advance", "3x"},
           {"clock", "advance", "-1d"},
           {"clock", "advance", "1d30"},
           {"clock", "set", "yesterday"},
           {"clock", "set", "2026-02-30T00:00:00Z"},
           {"clock", "rewind", "1d"},
           {"wait"},
           {"wait", "a", "--timeout", "3601"},
           {"events", "--after", "x"},
           {"events", "--limit", "0"},
           {"functions", "add", "only-arn"},
           {"reset", "extra"},
           {"health", "--nonesuch", "1"},
           {"clock", "--endpoint", "https://127.0.0.1:1"},
       }) {
    INFO(args.front() << " " << (args.size() > 1 ? args[1] : ""));
    const auto result = run(args);
    // A bad endpoint URL is found when connecting: exit 1; everything else is a usage error.
    CHECK(result.status == std::optional<int>(args.back().starts_with("https:") ? 1 : 2));
    CHECK(result.out.empty());
    CHECK(!result.err.empty());
  }
  const auto help = run({"clock", "--help"});
  CHECK(help.status == std::optional<int>(0));
  CHECK(help.out.find("--endpoint URL") != std::string::npos);
}

TEST_CASE("smemu serve --functions: a bad file exits 2 naming the byte or the entry") {
  struct Case {
    std::string text;
    std::string expected;
  };
  for (const Case& bad : std::vector<Case>{
           {"[{\"arn\": \"a\", ", "not JSON: the error is at byte"},
           {"{\"arn\": \"a\"}", "must be a JSON list"},
           {"[{\"arn\": \"a\", \"spec\": \"builtin:template\"}, {\"arn\": \"b\"}]", "entry 1 (counting from 0): \"spec\""},
           {"[7]", "entry 0 (counting from 0) must be an object"},
           {"[{\"arn\": \"a\", \"spec\": \"builtin:template\", \"x\": 1}]", "unknown member \"x\""},
           {std::string("[{\"arn\": \"") + kLambda + "\", \"spec\": \"builtin:nonesuch\"}]",
            std::string("entry 0 (") + kLambda + "): "},
       }) {
    INFO(bad.text);
    const TempFile file(bad.text);
    const auto result = run({"serve", "--port", "0", "--functions", file.path()});
    CHECK(result.status == std::optional<int>(2));
    CHECK(result.out.empty());
    CHECK(result.err.find(bad.expected) != std::string::npos);
    CHECK(result.err.find(file.path()) != std::string::npos);
  }
  const auto missing = run({"serve", "--port", "0", "--functions", "/nonexistent/functions.json"});
  CHECK(missing.status == std::optional<int>(2));
  CHECK(missing.err.find("cannot read /nonexistent/functions.json") != std::string::npos);
}

}  // namespace
}  // namespace smemu
