// Downtime, measured (issue 6): an application reading AWSCURRENT through a 5-minute cache and
// logging in every 10 virtual seconds, while rotations whose steps take 30 virtual seconds run.
// Single-user rotation locks it out until its cache expires; alternating users never does.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "smemu/emulator/builtin_functions.h"
#include "smemu/emulator/downtime.h"
#include "smemu/emulator/service.h"

namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kLambda = "arn:aws:lambda:us-east-1:123456789012:function:rotator";
const smemu::SimulatedDatabase::Address kAddress{"postgres", "db.example.internal", 5432, "app"};

Json user_secret(const std::string& username, const std::string& password) {
  return {{"engine", "postgres"}, {"host", "db.example.internal"}, {"port", 5432},
          {"dbname", "app"},      {"username", username},          {"password", password}};
}

struct Fixture {
  smemu::Service service;
  smemu::Client client = service.client("us-east-1");

  void install(const std::string& spec) {
    auto made = smemu::make_builtin_function(spec, service.database());
    REQUIRE(made.ok());
    service.register_function(kLambda, made->function, made->options);
  }
  void create(const std::string& name, const Json& value) {
    REQUIRE(client.create_secret({.name = name, .secret_string = value.dump()}).ok());
  }
  smemu::DowntimeOptions options() {
    smemu::DowntimeOptions options;
    options.rotation_lambda_arn = kLambda;
    return options;
  }
};

}  // namespace

TEST_CASE("emulator/downtime: single-user rotation locks the cached application out until its cache expires") {
  Fixture f;
  f.install("builtin:single-user?step_seconds=30");
  f.create("s", user_secret("alice", "pw-0"));
  const auto start = f.service.clock().now();
  auto runs = smemu::measure_downtime(f.service, "s", f.options());
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 3);
  for (std::size_t i = 0; i < runs->size(); ++i) {
    const auto& run = (*runs)[i];
    CAPTURE(i);
    CHECK(run.completed);
    CHECK(run.failed > 0);
    // The cache was read 5 minutes before the window closes and 10 s before RotateSecret; the
    // window opens with RotateSecret at +10 s: logins at +10 s ... +300 s, 30 of them.
    // setSecret runs 30 s after createSecret and changes the password the application holds:
    // every login from +40 s until the cache is read again at +300 s fails, 26 of them.
    CHECK(run.attempted == 30);
    CHECK(run.failed == 26);
    CHECK(run.started == start + 10s + std::chrono::seconds(300 * i));
    CHECK(run.ended == run.started + 290s);
  }
  CHECK(f.service.database().users(kAddress) == std::vector<std::string>{"alice"});
}

TEST_CASE("emulator/downtime: alternating users keeps the cached application logged in over 3 rotations") {
  Fixture f;
  f.install("builtin:alternating-users?step_seconds=30");
  auto admin = user_secret("master", "master-pw");
  admin.erase("dbname");
  f.create("admin", admin);
  auto secret = user_secret("alice", "pw-0");
  secret["masterarn"] = *f.client.describe_secret({.secret_id = "admin"})->arn;
  f.create("s", secret);
  auto runs = smemu::measure_downtime(f.service, "s", f.options());
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 3);
  for (const auto& run : *runs) {
    CHECK(run.completed);
    CHECK(run.attempted == 30);
    CHECK(run.failed == 0);
  }
  auto current = Json::parse(*f.client.get_secret_value({.secret_id = "s"})->secret_string);
  CHECK(current["username"] == "alice_clone");  // three switches: alice_clone, alice, alice_clone
  CHECK(f.service.database().users(kAddress) == std::vector<std::string>{"alice", "alice_clone", "master"});
}

TEST_CASE("emulator/downtime: the application reads AWSCURRENT again only when its cache is TTL old") {
  Fixture f;
  f.install("builtin:template");
  f.create("s", user_secret("alice", "pw-0"));
  f.service.database().ensure(kAddress, "alice", "pw-0");
  smemu::CachedApplication app(f.service, "us-east-1", "s", 5min);
  REQUIRE(app.login().ok());
  const auto first_read = app.cached_at();
  const auto first_version = app.cached_version();
  f.service.advance(299s);
  CHECK(*app.login());
  CHECK(app.cached_at() == first_read);
  f.service.advance(1s);
  CHECK(*app.login());
  CHECK(app.cached_at() == first_read + 300s);
  CHECK(app.cached_version() == first_version);
  CHECK(app.counts() == smemu::SimulatedDatabase::LoginCounts{3, 0});
}

TEST_CASE("emulator/downtime: a rotation that does not finish ends the run, reported as not completed") {
  Fixture f;
  f.install("builtin:single-user?fail_at=testSecret&step_seconds=30");
  f.create("s", user_secret("alice", "pw-0"));
  auto options = f.options();
  options.give_up_after = 30min;
  auto runs = smemu::measure_downtime(f.service, "s", options);
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 1);
  CHECK_FALSE(runs->front().completed);
  CHECK(runs->front().ended - runs->front().started == 30min);
  // setSecret changed the password before testSecret failed: the application, still reading the
  // old AWSCURRENT, is locked out from then (30 s after RotateSecret) to the end: logins at 0 s,
  // 10 s, ... 1800 s, the last 178 failed.
  CHECK(runs->front().attempted == 181);
  CHECK(runs->front().failed == 178);
}

TEST_CASE("emulator/downtime: the runner needs the service's own virtual clock") {
  smemu::VirtualClock clock;
  smemu::ServiceOptions options;
  options.clock = &clock;
  smemu::Service service(options);
  auto runs = smemu::measure_downtime(service, "s");
  REQUIRE_FALSE(runs.ok());
  CHECK(runs.error().name() == "InvalidRequestException");
}
