// The built-in rotation functions (builtin:template, builtin:single-user,
// builtin:alternating-users), the function spec grammar and its fault options, driven through
// the rotation engine and, for the checks every step makes, by invoking a function directly.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "smemu/emulator/builtin_functions.h"
#include "smemu/emulator/function_spec.h"
#include "smemu/emulator/service.h"

namespace {

using Stages = std::map<std::string, std::vector<std::string>>;
using Json = nlohmann::json;
using namespace std::chrono_literals;
using smemu::model::Outcome;
using smemu::model::Step;

constexpr const char* kLambda = "arn:aws:lambda:us-east-1:123456789012:function:rotator";
constexpr std::string_view kSteps[] = {"createSecret", "setSecret", "testSecret", "finishSecret"};

std::string token(int n) { return "rotation-token-" + std::string(20, '0') + std::to_string(100 + n); }

const smemu::SimulatedDatabase::Address kAddress{"postgres", "db.example.internal", 5432, "app"};

Json user_secret(const std::string& username, const std::string& password) {
  return {{"engine", "postgres"}, {"host", "db.example.internal"}, {"port", 5432},
          {"dbname", "app"},      {"username", username},          {"password", password}};
}

struct Fixture {
  smemu::Service service;
  smemu::Client client = service.client("us-east-1");

  explicit Fixture(smemu::ServiceOptions options = {}) : service(std::move(options)) {}

  smemu::BuiltinFunction make(const std::string& spec) {
    auto made = smemu::make_builtin_function(spec, service.database());
    REQUIRE(made.ok());
    return std::move(made).value();
  }
  void install(const std::string& spec) {
    auto made = make(spec);
    service.register_function(kLambda, made.function, made.options);
  }
  std::string create(const std::string& name, std::optional<std::string> value) {
    auto r = client.create_secret({.name = name, .client_request_token = token(0), .secret_string = std::move(value)});
    REQUIRE(r.ok());
    return *r->arn;
  }
  smemu::Result<smemu::api::RotateSecretResponse> rotate(int n, const std::string& name = "s") {
    return client.rotate_secret({.secret_id = name, .client_request_token = token(n), .rotation_lambda_arn = kLambda});
  }
  // RotateSecret, then every step, each of which must succeed.
  void rotate_fully(int n, const std::string& name = "s") {
    REQUIRE(rotate(n, name).ok());
    while (auto report = service.step()) {
      INFO(smemu::model::step_name(report->step), ": ", report->message);
      REQUIRE(report->outcome == Outcome::kOk);
    }
  }
  Stages stages(const std::string& name = "s") {
    return client.describe_secret({.secret_id = name})->version_ids_to_stages.value_or(Stages{});
  }
  std::string value(const std::string& stage, const std::string& name = "s") {
    auto r = client.get_secret_value({.secret_id = name, .version_stage = stage});
    REQUIRE(r.ok());
    return r->secret_string.value_or("");
  }
  Json json(const std::string& stage, const std::string& name = "s") { return Json::parse(value(stage, name)); }
  std::vector<smemu::Event> failures() {
    std::vector<smemu::Event> out;
    for (const auto& e : service.events().read(0)) {
      if (e.name == "RotationFailed") out.push_back(e);
    }
    return out;
  }
};

}  // namespace

// --- specs ---------------------------------------------------------------------------------------

TEST_CASE("emulator/builtin: a spec is SCHEME:TARGET with options after the last '?'") {
  auto plain = smemu::parse_function_spec("builtin:template");
  REQUIRE(plain.ok());
  CHECK(plain->scheme == smemu::FunctionScheme::kBuiltin);
  CHECK(plain->target == "template");
  CHECK(plain->options == smemu::SpecOptions{});
  CHECK(smemu::function_options(plain->options).timeout == 30s);

  auto full = smemu::parse_function_spec("builtin:single-user?timeout=60&step_seconds=30&fail_at=setSecret");
  REQUIRE(full.ok());
  CHECK(full->target == "single-user");
  CHECK(full->options.timeout == smemu::Duration(60s));
  CHECK(full->options.step_time == 30s);
  CHECK(full->options.fail_at == Step::kSetSecret);
  CHECK_FALSE(full->options.timeout_at.has_value());
  CHECK(smemu::function_options(full->options).timeout == 60s);

  auto scheme_option = smemu::parse_function_spec("builtin:template?remove_pending=true&timeout_at=finishSecret");
  REQUIRE(scheme_option.ok());
  using SchemeOptions = std::map<std::string, std::string, std::less<>>;
  CHECK(scheme_option->options.scheme_options == SchemeOptions{{"remove_pending", "true"}});
  CHECK(scheme_option->options.timeout_at == Step::kFinishSecret);

  SUBCASE("an exec command keeps its own '?' when it ends with '?'") {
    auto exec = smemu::parse_function_spec("exec:ls /tmp/a?b?");
    REQUIRE(exec.ok());
    CHECK(exec->scheme == smemu::FunctionScheme::kExec);
    CHECK(exec->target == "ls /tmp/a?b");
    CHECK(exec->options == smemu::SpecOptions{});
    auto with_options = smemu::parse_function_spec("exec:./rotate.sh --glob 'a?' ?timeout=5");
    REQUIRE(with_options.ok());
    CHECK(with_options->target == "./rotate.sh --glob 'a?' ");
    CHECK(with_options->options.timeout == smemu::Duration(5s));
  }
  SUBCASE("python") {
    auto python = smemu::parse_function_spec("python:rotators/db.py?timeout_at=testSecret");
    REQUIRE(python.ok());
    CHECK(python->scheme == smemu::FunctionScheme::kPython);
    CHECK(python->target == "rotators/db.py");
    CHECK(python->options.timeout_at == Step::kTestSecret);
  }
}

TEST_CASE("emulator/builtin: bad specs are InvalidParameterException naming the problem") {
  smemu::SimulatedDatabase database;
  const std::vector<std::pair<std::string, std::string>> cases{
      {"template", "expected SCHEME:TARGET[?OPTIONS] with SCHEME builtin, exec or python."},
      {"lambda:rotator", "expected SCHEME:TARGET[?OPTIONS] with SCHEME builtin, exec or python."},
      {"builtin:", "builtin: needs a target."},
      {"builtin:?timeout=5", "builtin: needs a target."},
      {"builtin:nope", "unknown built-in function 'nope'; the built-ins are template, single-user and "
                       "alternating-users."},
      {"exec:rotate.sh", "not a builtin: spec (scheme exec)."},
      {"builtin:template?remove_pending=yes", "remove_pending must be true or false, not 'yes'."},
      {"builtin:single-user?remove_pending=true",
       "unknown option 'remove_pending' for builtin:single-user; known options: timeout, step_seconds, fail_at, "
       "timeout_at."},
      {"builtin:template?colour=red",
       "unknown option 'colour' for builtin:template; known options: timeout, step_seconds, fail_at, timeout_at, "
       "remove_pending."},
      {"builtin:template?timeout=0", "timeout must be a whole number of seconds from 1 to 900, not '0'."},
      {"builtin:template?timeout=901", "timeout must be a whole number of seconds from 1 to 900, not '901'."},
      {"builtin:template?timeout=1.5", "timeout must be a whole number of seconds from 1 to 900, not '1.5'."},
      {"builtin:template?step_seconds=-1",
       "step_seconds must be a whole number of seconds from 0 to 86400, not '-1'."},
      {"builtin:template?fail_at=create",
       "fail_at must name a rotation step (createSecret, setSecret, testSecret or finishSecret), not 'create'."},
      {"builtin:template?timeout_at=setsecret",
       "timeout_at must name a rotation step (createSecret, setSecret, testSecret or finishSecret), not "
       "'setsecret'."},
      {"builtin:template?fail_at=setSecret&timeout_at=setSecret",
       "fail_at and timeout_at name the same step; a step either fails or times out."},
      {"builtin:template?timeout=5&timeout=6", "option 'timeout' is given twice."},
      {"builtin:template?timeout",
       "option 'timeout' is not KEY=VALUE; options follow the last '?' and are separated by '&' (an exec command "
       "containing '?' ends with '?')."},
      {"builtin:template?timeout=", "option 'timeout=' is not KEY=VALUE; options follow the last '?' and are "
                                    "separated by '&' (an exec command containing '?' ends with '?')."},
      {"builtin:template?timeout=5&", "an option list must not end with '&'."},
  };
  for (const auto& [spec, what] : cases) {
    CAPTURE(spec);
    auto made = smemu::make_builtin_function(spec, database);
    REQUIRE_FALSE(made.ok());
    CHECK(made.error().name() == "InvalidParameterException");
    CHECK(made.error().message == "Invalid rotation function spec '" + spec + "': " + what);
  }
  auto exec = smemu::parse_function_spec("exec:ls a?b");
  REQUIRE_FALSE(exec.ok());
  CHECK(exec.error().message ==
        "Invalid rotation function spec 'exec:ls a?b': option 'b' is not KEY=VALUE; options follow the last '?' and "
        "are separated by '&' (an exec command containing '?' ends with '?').");
}

// --- the checks every step makes -------------------------------------------------------------------

TEST_CASE("emulator/builtin: every step checks rotation is enabled and the token's version is AWSPENDING") {
  for (const auto* spec : {"builtin:template", "builtin:single-user", "builtin:alternating-users"}) {
    CAPTURE(spec);
    Fixture f;
    auto made = f.make(spec);
    const auto arn = f.create("s", user_secret("alice", "pw-0").dump());
    const auto invoke = [&](const std::string& step, const std::string& version) {
      return made.function({step, arn, version, "rotation-token"}, f.client);
    };

    auto disabled = invoke("createSecret", token(1));
    CHECK(disabled.outcome == Outcome::kError);
    CHECK(disabled.message == "ValueError: Secret " + arn + " is not enabled for rotation");

    f.install(spec);
    REQUIRE(f.rotate(1).ok());  // queued, not run: token(1) is the placeholder with AWSPENDING
    auto unknown = invoke("setSecret", token(7));
    CHECK(unknown.message == "ValueError: Secret version " + token(7) + " has no stage for rotation of secret " +
                                 arn + ".");
    REQUIRE(f.client.put_secret_value({.secret_id = "s", .client_request_token = token(8), .secret_string = "x",
                                       .version_stages = std::vector<std::string>{"LABEL"}})
                .ok());
    auto not_pending = invoke("setSecret", token(8));
    CHECK(not_pending.message == "ValueError: Secret version " + token(8) +
                                     " not set as AWSPENDING for rotation of secret " + arn + ".");
    auto bogus = invoke("bogusStep", token(1));
    CHECK(bogus.outcome == Outcome::kError);
    CHECK(bogus.message == (std::string(spec) == "builtin:template"
                                ? std::string("ValueError: Invalid step parameter")
                                : "ValueError: Invalid step parameter bogusStep for secret " + arn));
    // The version that already holds AWSCURRENT: every step returns at once, changing nothing.
    const auto before = f.stages();
    for (const auto step : kSteps) {
      CHECK(invoke(std::string(step), token(0)).outcome == Outcome::kOk);
    }
    CHECK(f.stages() == before);
  }
}

// --- builtin:template ------------------------------------------------------------------------------

TEST_CASE("emulator/builtin: template leaves AWSPENDING on the new current version, twice in a row") {
  Fixture f;
  f.install("builtin:template");
  f.create("s", "initial");
  f.rotate_fully(1);
  CHECK(f.stages() == Stages{{token(0), {"AWSPREVIOUS"}}, {token(1), {"AWSCURRENT", "AWSPENDING"}}});
  const auto first = f.value("AWSCURRENT");
  CHECK(first.size() == 32);
  CHECK(first.find_first_of("/@\"'\\") == std::string::npos);
  f.rotate_fully(2);
  CHECK(f.stages() == Stages{{token(1), {"AWSPREVIOUS"}}, {token(2), {"AWSCURRENT", "AWSPENDING"}}});
  CHECK(f.value("AWSCURRENT") != first);
  CHECK(f.value("AWSPREVIOUS") == first);
  CHECK(f.failures().empty());
}

TEST_CASE("emulator/builtin: template?remove_pending=true leaves AWSPENDING on no version, twice in a row") {
  Fixture f;
  f.install("builtin:template?remove_pending=true");
  f.create("s", "initial");
  f.rotate_fully(1);
  CHECK(f.stages() == Stages{{token(0), {"AWSPREVIOUS"}}, {token(1), {"AWSCURRENT"}}});
  f.rotate_fully(2);
  CHECK(f.stages() == Stages{{token(1), {"AWSPREVIOUS"}}, {token(2), {"AWSCURRENT"}}});
  CHECK(f.failures().empty());
}

TEST_CASE("emulator/builtin: template puts the call sequence of the published template through the Client") {
  Fixture f;
  f.install("builtin:template?remove_pending=true");
  f.create("s", "initial");
  std::vector<std::string> calls;
  const auto id = f.service.events().subscribe(
      [&](const smemu::Event& e) {
        if (e.kind == smemu::EventKind::kApiCall) calls.push_back(std::string(e.name));
      },
      /*include_reads=*/true);
  f.rotate_fully(1);
  f.service.events().unsubscribe(id);
  CHECK(calls == std::vector<std::string>{"RotateSecret",
                                          // createSecret
                                          "DescribeSecret", "GetSecretValue", "GetSecretValue", "GetRandomPassword",
                                          "PutSecretValue",
                                          // setSecret, testSecret: the checks only
                                          "DescribeSecret", "DescribeSecret",
                                          // finishSecret
                                          "DescribeSecret", "DescribeSecret", "UpdateSecretVersionStage",
                                          "UpdateSecretVersionStage"});
}

TEST_CASE("emulator/builtin: template replaces the password of a JSON value and keeps its other fields") {
  Fixture f;
  f.install("builtin:template");
  f.create("s", R"({"username":"alice","password":"pw-0","note":"kept"})");
  f.rotate_fully(1);
  const auto current = f.json("AWSCURRENT");
  CHECK(current["username"] == "alice");
  CHECK(current["note"] == "kept");
  CHECK(current["password"] != "pw-0");
  CHECK(current["password"].get<std::string>().size() == 32);
  CHECK(f.value("AWSCURRENT").starts_with(R"({"username":"alice","password":)"));  // the order is kept
}

// The new value is what ordered_json gives (parse, set "password", dump) whatever the current
// value looks like: compact flat objects are rewritten in place, everything else is parsed.
TEST_CASE("emulator/builtin: template writes the value ordered_json would, for every shape of current value") {
  using Ordered = nlohmann::ordered_json;
  const std::vector<std::string> values{
      R"({"username":"alice","password":"pw-0","note":"kept"})",
      R"({"password":"x"})",
      R"({"a":1,"password":-12,"b":true,"c":null,"d":false,"e":0,"f":-7})",
      R"({"password":"p","port":123456789012345678})",
      R"({"password":"p","big":1234567890123456789012})",
      R"({"user": "bob", "password": "pw"})",
      R"({"password":"p","nested":{"k":[1,2.5]}})",
      R"({"password":"p\u00e9","x":"caf\u00e9"})",
      "{\"k\":\"caf\xc3\xa9\",\"password\":\"p\"}",
      R"({"password":"a","password":"b"})",
      R"({"n":1.50,"password":"p"})",
      R"({"n":1e3,"password":"p"})",
      R"({"n":-0,"password":"p"})",
      R"({"n":007,"password":"p"})",
      R"({"password":"p"} )",
      R"({"k":"v","password":"p"}x)",
      R"({"k":"v"}})",
      R"({"username":"alice"})",
      R"({})",
      R"(["password"])",
      R"("a {string} value")",
      "plain-text-password",
  };
  Fixture f;
  f.install("builtin:template");
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto name = "s" + std::to_string(i);
    f.create(name, values[i]);
    f.rotate_fully(1, name);
    const auto written = f.value("AWSCURRENT", name);
    INFO("current value ", values[i], ", new value ", written);
    auto expected = Ordered::parse(values[i], nullptr, false);
    if (expected.is_object() && expected.contains("password")) {
      const auto password = Ordered::parse(written, nullptr, false);
      REQUIRE(password.is_object());
      REQUIRE(password.contains("password"));
      CHECK(password["password"].get<std::string>().size() == 32);
      expected["password"] = password["password"];
      CHECK(written == expected.dump());
    } else {
      CHECK(written.size() == 32);  // the bare password
      CHECK(written.find_first_of("/@\"'\\") == std::string::npos);
    }
  }
}

TEST_CASE("emulator/builtin: template on a secret with no AWSCURRENT fails createSecret, as the sample does (D17)") {
  smemu::ServiceOptions options;
  options.retry.delays = {};
  Fixture f(options);
  f.install("builtin:template");
  f.create("s", std::nullopt);
  REQUIRE(f.rotate(1).ok());
  auto report = f.service.step();
  REQUIRE(report);
  CHECK(report->step == Step::kCreateSecret);
  CHECK(report->outcome == Outcome::kError);
  CHECK(report->message ==
        "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager "
        "can't find the specified secret value for staging label: AWSCURRENT");
  CHECK_FALSE(f.service.step().has_value());
  CHECK(f.stages() == Stages{{token(1), {"AWSPENDING"}}});
}

// --- builtin:single-user ---------------------------------------------------------------------------

TEST_CASE("emulator/builtin: single-user changes the user's own password and the database accepts only the new one") {
  Fixture f;
  f.install("builtin:single-user");
  f.create("s", user_secret("alice", "pw-0").dump());
  f.rotate_fully(1);
  CHECK(f.service.database().users(kAddress) == std::vector<std::string>{"alice"});
  f.rotate_fully(2);
  CHECK(f.stages() == Stages{{token(1), {"AWSPREVIOUS"}}, {token(2), {"AWSCURRENT", "AWSPENDING"}}});

  const auto current = f.json("AWSCURRENT");
  const auto previous = f.json("AWSPREVIOUS");
  CHECK(current["username"] == "alice");
  CHECK(current["engine"] == "postgres");
  CHECK(current["host"] == "db.example.internal");
  CHECK(current["port"] == 5432);
  CHECK(current["dbname"] == "app");
  auto& database = f.service.database();
  CHECK(database.users(kAddress) == std::vector<std::string>{"alice"});
  CHECK(database.login(kAddress, "alice", current["password"]));
  CHECK_FALSE(database.login(kAddress, "alice", previous["password"]));
  CHECK_FALSE(database.login(kAddress, "alice", "pw-0"));
  const auto password = current["password"].get<std::string>();
  CHECK(password.size() == 32);
  CHECK(password.find_first_of(":/@\"'\\") == std::string::npos);
}

TEST_CASE("emulator/builtin: single-user logs in with AWSPREVIOUS when AWSCURRENT no longer works") {
  Fixture f;
  f.install("builtin:single-user");
  f.create("s", user_secret("alice", "pw-0").dump());
  f.rotate_fully(1);
  // The database goes back to before the rotation (a restore from backup): only pw-0, now
  // AWSPREVIOUS, logs in.
  auto& database = f.service.database();
  database.restore({{kAddress, {{{"alice", "pw-0"}}, {}}}});
  f.rotate_fully(2);
  CHECK(database.login(kAddress, "alice", f.json("AWSCURRENT")["password"]));
  CHECK_FALSE(database.login(kAddress, "alice", "pw-0"));
}

TEST_CASE("emulator/builtin: single-user fails setSecret when no credentials log in, naming no password (D19)") {
  smemu::ServiceOptions options;
  options.retry.delays = {};
  Fixture f(options);
  f.install("builtin:single-user");
  const auto arn = f.create("s", user_secret("alice", "pw-0").dump());
  f.service.database().ensure(kAddress, "alice", "changed-elsewhere");
  REQUIRE(f.rotate(1).ok());
  f.service.run_until_idle();
  const auto failed = f.failures();
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].step == "setSecret");
  CHECK(failed[0].message ==
        "ValueError: Unable to log into database with previous, current, or pending secret of secret arn " + arn);
  auto pending = f.client.get_secret_value({.secret_id = "s", .version_stage = "AWSPENDING"});
  REQUIRE(pending.ok());
  const auto pending_password = Json::parse(*pending->secret_string)["password"].get<std::string>();
  for (const auto& e : f.service.events().read(0)) {
    CHECK(e.message.find("pw-0") == std::string::npos);
    CHECK(e.message.find(pending_password) == std::string::npos);
  }
  CHECK(f.stages() == Stages{{token(0), {"AWSCURRENT"}}, {token(1), {"AWSPENDING"}}});
}

TEST_CASE("emulator/builtin: the database samples need JSON with their fields") {
  smemu::ServiceOptions options;
  options.retry.delays = {};
  Fixture f(options);
  f.install("builtin:single-user");
  auto incomplete = user_secret("alice", "pw-0");
  incomplete.erase("host");
  f.create("s", incomplete.dump());
  f.create("t", "not json pw-0");
  REQUIRE(f.rotate(1, "s").ok());
  REQUIRE(f.rotate(2, "t").ok());
  f.service.run_until_idle();
  const auto failed = f.failures();
  REQUIRE(failed.size() == 2);
  CHECK(failed[0].message == "KeyError: 'host key is missing from secret JSON'");
  CHECK(failed[1].message == "JSONDecodeError: SecretString is not valid JSON");

  auto port =
      smemu::database_credentials(R"({"engine":"mysql","host":"h","port":"3306","username":"u","password":"p"})");
  REQUIRE(port.ok());
  CHECK(port->address == smemu::SimulatedDatabase::Address{"mysql", "h", 3306, ""});
  auto bad_port =
      smemu::database_credentials(R"({"engine":"mysql","host":"h","port":"x","username":"u","password":"p"})");
  REQUIRE_FALSE(bad_port.ok());
  CHECK(bad_port.error().message == "ValueError: port in secret JSON must be a whole number");
  auto typed = smemu::database_credentials(R"({"engine":"mysql","host":"h","username":7,"password":"p"})");
  REQUIRE_FALSE(typed.ok());
  CHECK(typed.error().message == "ValueError: username in secret JSON must be a string");
}

TEST_CASE("emulator/builtin: RotateImmediately=false tests the database login without changing it (D2)") {
  for (const auto* spec : {"builtin:single-user", "builtin:template"}) {
    CAPTURE(spec);
    Fixture f;
    f.install(spec);
    f.create("s", user_secret("alice", "pw-0").dump());
    REQUIRE(f.client
                .rotate_secret({.secret_id = "s", .client_request_token = token(1), .rotation_lambda_arn = kLambda,
                                .rotate_immediately = false})
                .ok());
    f.service.run_until_idle();
    std::vector<std::string> service_events;
    for (const auto& e : f.service.events().read(0)) {
      if (e.kind == smemu::EventKind::kServiceEvent) service_events.push_back(std::string(e.name));
    }
    CHECK(service_events == std::vector<std::string>{"TestRotationStarted", "TestRotationSucceeded"});
    CHECK(f.stages() == Stages{{token(0), {"AWSCURRENT"}}});
    CHECK(f.value("AWSCURRENT") == user_secret("alice", "pw-0").dump());
    if (std::string(spec) == "builtin:single-user") {  // testSecret made first contact
      CHECK(f.service.database().users(kAddress) == std::vector<std::string>{"alice"});
    }
  }
}

// --- builtin:alternating-users ---------------------------------------------------------------------

TEST_CASE("emulator/builtin: alternating-users switches between NAME and NAME_clone, the other keeping its password") {
  Fixture f;
  f.install("builtin:alternating-users");
  Json admin = user_secret("master", "master-pw-0");
  admin.erase("dbname");
  const auto admin_arn = f.create("admin", admin.dump());
  auto secret = user_secret("alice", "pw-0");
  secret["masterarn"] = admin_arn;
  f.create("s", secret.dump());
  auto& database = f.service.database();

  f.rotate_fully(1);
  auto current = f.json("AWSCURRENT");
  CHECK(current["username"] == "alice_clone");
  CHECK(current["masterarn"] == admin_arn);
  CHECK(database.users(kAddress) == std::vector<std::string>{"alice", "alice_clone", "master"});
  CHECK(database.login(kAddress, "alice_clone", current["password"]));
  CHECK(database.login(kAddress, "alice", "pw-0"));  // the old user still works, with its old password

  f.rotate_fully(2);
  current = f.json("AWSCURRENT");
  auto previous = f.json("AWSPREVIOUS");
  CHECK(current["username"] == "alice");
  CHECK(previous["username"] == "alice_clone");
  CHECK(database.login(kAddress, "alice", current["password"]));
  CHECK(database.login(kAddress, "alice_clone", previous["password"]));
  CHECK_FALSE(database.login(kAddress, "alice", "pw-0"));

  f.rotate_fully(3);
  current = f.json("AWSCURRENT");
  previous = f.json("AWSPREVIOUS");
  CHECK(current["username"] == "alice_clone");
  CHECK(previous["username"] == "alice");
  CHECK(database.login(kAddress, "alice_clone", current["password"]));
  CHECK(database.login(kAddress, "alice", previous["password"]));
  CHECK(database.users(kAddress) == std::vector<std::string>{"alice", "alice_clone", "master"});
  CHECK(database.login(kAddress, "master", "master-pw-0"));  // the admin is never rotated here
}

TEST_CASE("emulator/builtin: alternating-users needs masterarn and an admin that logs in") {
  smemu::ServiceOptions options;
  options.retry.delays = {};
  Fixture f(options);
  f.install("builtin:alternating-users");
  auto without_master = user_secret("alice", "pw-0");
  without_master["dbname"] = "other";
  f.create("s", without_master.dump());
  Json admin = user_secret("master", "master-pw-0");
  const auto admin_arn = f.create("admin", admin.dump());
  auto with_master = user_secret("bob", "pw-0");
  with_master["masterarn"] = admin_arn;
  f.create("t", with_master.dump());
  // The admin's password changed behind the secret's back.
  f.service.database().ensure(kAddress, {{"bob", "pw-0"}, {"master", "master-pw-new"}});

  REQUIRE(f.rotate(1, "s").ok());
  REQUIRE(f.rotate(2, "t").ok());
  f.service.run_until_idle();
  const auto failed = f.failures();
  REQUIRE(failed.size() == 2);
  CHECK(failed[0].step == "setSecret");
  CHECK(failed[0].message == "KeyError: 'masterarn'");
  CHECK(failed[1].step == "setSecret");
  CHECK(failed[1].message == "ValueError: Unable to log into database using credentials in master secret " +
                                 admin_arn);
}

// --- faults ----------------------------------------------------------------------------------------

TEST_CASE("emulator/builtin: fail_at fails exactly the named step, without invoking the function there") {
  for (const auto step : kSteps) {
    CAPTURE(step);
    smemu::ServiceOptions options;
    options.retry.delays = {};
    Fixture f(options);
    f.install("builtin:template?fail_at=" + std::string(step));
    f.create("s", "initial");
    REQUIRE(f.rotate(1).ok());
    std::vector<std::pair<std::string, Outcome>> seen;
    while (auto report = f.service.step()) {
      seen.emplace_back(std::string(smemu::model::step_name(report->step)), report->outcome);
      if (report->outcome != Outcome::kOk) {
        CHECK(report->message == "InjectedFault: the function spec's fail_at=" + std::string(step) +
                                     " failed this step");
      }
    }
    REQUIRE_FALSE(seen.empty());
    CHECK(seen.back() == std::pair{std::string(step), Outcome::kError});
    for (std::size_t i = 0; i + 1 < seen.size(); ++i) CHECK(seen[i].second == Outcome::kOk);
    CHECK(seen.size() == static_cast<std::size_t>(std::find(std::begin(kSteps), std::end(kSteps), step) -
                                                  std::begin(kSteps)) + 1);
    // finishSecret was not invoked, so AWSCURRENT never moved.
    CHECK(f.stages()[token(0)] == std::vector<std::string>{"AWSCURRENT"});
  }
}

TEST_CASE("emulator/builtin: timeout_at times out exactly the named step, charged its whole timeout") {
  for (const auto step : kSteps) {
    CAPTURE(step);
    smemu::ServiceOptions options;
    options.retry.delays = {};
    Fixture f(options);
    f.install("builtin:template?timeout=5&step_seconds=2&timeout_at=" + std::string(step));
    f.create("s", "initial");
    REQUIRE(f.rotate(1).ok());
    std::optional<smemu::StepReport> last;
    std::size_t steps = 0;
    for (;;) {
      if (auto report = f.service.step()) {
        ++steps;
        CHECK(report->finished - report->started == (report->outcome == Outcome::kOk ? 2s : 5s));
        last = report;
        continue;
      }
      const auto due = f.service.next_due();
      if (!due) break;
      f.service.virtual_clock()->set(*due);  // the next step waits for the time the last one used
    }
    REQUIRE(last);
    CHECK(smemu::model::step_name(last->step) == step);
    CHECK(last->outcome == Outcome::kTimeout);
    CHECK(steps == static_cast<std::size_t>(std::find(std::begin(kSteps), std::end(kSteps), step) -
                                            std::begin(kSteps)) + 1);
    const auto failed = f.failures();
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].message == "Task timed out after 5.00 seconds");
  }
}

TEST_CASE("emulator/builtin: step_seconds spreads a rotation over virtual time: 4 steps of 30 s") {
  Fixture f;
  f.install("builtin:single-user?step_seconds=30");
  f.create("s", user_secret("alice", "pw-0").dump());
  const auto start = f.service.clock().now();
  REQUIRE(f.rotate(1).ok());
  f.service.advance(89s);
  CHECK(f.stages()[token(0)] == std::vector<std::string>{"AWSCURRENT"});
  f.service.advance(1s);
  CHECK(f.stages()[token(1)] == std::vector<std::string>{"AWSCURRENT", "AWSPENDING"});
  CHECK(f.client.describe_secret({.secret_id = "s"})->last_rotated_date == start + 120s);
}

TEST_CASE("emulator/builtin: with_faults wraps any function") {
  smemu::Service service;
  auto client = service.client("us-east-1");
  std::vector<std::string> invoked;
  smemu::RotationFunction inner = [&](const smemu::RotationEvent& event, smemu::Client&) {
    invoked.push_back(event.step);
    return smemu::StepResult::ok(1s);
  };
  auto spec = smemu::parse_function_spec("python:rotator.py?step_seconds=3&fail_at=testSecret");
  REQUIRE(spec.ok());
  auto wrapped = smemu::with_faults(inner, spec->options);
  for (const auto step : kSteps) {
    const auto result = wrapped({std::string(step), "arn", "token", "rotation-token"}, client);
    CHECK(result.outcome == (step == "testSecret" ? Outcome::kError : Outcome::kOk));
    CHECK(result.time_used == (step == "testSecret" ? 3s : 4s));
  }
  CHECK(invoked == std::vector<std::string>{"createSecret", "setSecret", "finishSecret"});
}
