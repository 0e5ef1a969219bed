// The `smemu` executable end to end: `serve` announces its address, answers, and exits 0 on
// SIGTERM and SIGINT; the dispatcher's version, help and usage errors.
#include <doctest/doctest.h>

#include <csignal>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/cli_child.h"
#include "http/http_client.h"
#include "smemu/emulator/http_server.h"
#include "smemu/emulator/service.h"

namespace smemu {
namespace {

using test::announced_port;
using test::Child;
using test::HttpConnection;
using test::json_of;

TEST_CASE("smemu serve announces its address, serves, and exits 0 on SIGTERM or SIGINT") {
  int stop_signal = SIGTERM;
  SUBCASE("SIGTERM") { stop_signal = SIGTERM; }
  SUBCASE("SIGINT") { stop_signal = SIGINT; }
  Child child({"serve", "--host", "127.0.0.1", "--port=0", "--region", "eu-west-1", "--account=111122223333",
               "--seed", "7"});
  const auto line = child.read_line();
  REQUIRE(line);
  const std::uint16_t port = announced_port(*line);
  REQUIRE_MESSAGE(port != 0, *line);

  {
    HttpConnection connection(port);
    const auto created = connection.call(
        "CreateSecret", {{"Name", "cli"}, {"SecretString", "cli-secret-value"},
                         {"ClientRequestToken", "00000000-0000-4000-8000-000000000001"}});
    REQUIRE(created.result_int() == 200);
    CHECK(json_of(created)["ARN"].get<std::string>().starts_with(
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:cli-"));
    const auto value = connection.call("GetSecretValue", {{"SecretId", "cli"}});
    REQUIRE(value.result_int() == 200);
    CHECK(json_of(value)["SecretString"] == "cli-secret-value");
  }

  child.signal(stop_signal);
  CHECK(child.wait() == std::optional<int>(0));
  CHECK(child.read_all().empty());  // nothing after the first line
  const std::string log = child.stderr_text();
  CHECK(log.find("op=CreateSecret status=200") != std::string::npos);
  CHECK(log.find("cli-secret-value") == std::string::npos);
  CHECK(log.find("warning") == std::string::npos);
}

TEST_CASE("smemu serve exits 1 when its port is taken") {
  Service service;
  HttpServer taken(service, {});
  Child child({"serve", "--port", std::to_string(taken.port())});
  CHECK(child.wait() == std::optional<int>(1));
  CHECK(child.read_all().empty());
  CHECK(child.stderr_text().find("cannot listen on 127.0.0.1:" + std::to_string(taken.port())) != std::string::npos);
}

TEST_CASE("smemu --version, --help and no arguments") {
  {
    Child child({"--version"});
    CHECK(child.read_all() == "smemu 0.1.0\n");
    CHECK(child.wait() == std::optional<int>(0));
  }
  {
    Child child({"--help"});
    const std::string help = child.read_all();
    CHECK(help.find("usage: smemu") != std::string::npos);
    CHECK(help.find("serve") != std::string::npos);
    CHECK(child.wait() == std::optional<int>(0));
  }
  {
    Child child({"serve", "--help"});
    CHECK(child.read_all().find("--port") != std::string::npos);
    CHECK(child.wait() == std::optional<int>(0));
  }
  {
    Child child({});
    CHECK(child.read_all().empty());
    CHECK(child.wait() == std::optional<int>(2));
    CHECK(child.stderr_text().find("usage: smemu") != std::string::npos);
  }
}

TEST_CASE("command-line mistakes exit 2 and say what was wrong") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> mistakes{
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"--bogus"}, "unknown command '--bogus'"},
      {{"serve", "--bogus", "1"}, "unknown flag --bogus"},
      {{"serve", "--port"}, "flag --port needs a value"},
      {{"serve", "extra"}, "unexpected argument 'extra'"},
      {{"serve", "--port", "65536"}, "--port must be"},
      {{"serve", "--port=-1"}, "--port must be"},
      {{"serve", "--port="}, "flag --port needs a value"},
      {{"serve", "--seed", "18446744073709551616"}, "--seed must be"},
      {{"serve", "--seed", "x"}, "--seed must be"},
      {{"serve", "--account", "1234"}, "--account must be"},
      {{"serve", "--region", "US_EAST_1"}, "--region must be"},
      {{"serve", "--host="}, "flag --host needs a value"},
      {{"replay", "scenarios/examples/lab.json", "--html="}, "flag --html needs a value"},
      {{"lab", "--html="}, "flag --html needs a value"},
  };
  for (const auto& [args, problem] : mistakes) {
    INFO(args.size(), " args, expecting: ", problem);
    Child child(args);
    CHECK(child.read_all().empty());
    CHECK(child.wait() == std::optional<int>(2));
    CHECK(child.stderr_text().find(problem) != std::string::npos);
  }
}

}  // namespace
}  // namespace smemu
