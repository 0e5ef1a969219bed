// exec: rotation functions (process_function.h) against an in-process endpoint: the event on
// standard input, success and failure by exit status with the end of standard error, the real-time
// timeout killing the whole process group, the scrubbed environment, no leaked descriptors, and
// several invocations at once. The Service runs on the real clock, as in `smemu serve` (D16).
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/temp_dir.h"
#include "smemu/emulator/clock.h"
#include "smemu/emulator/http_server.h"
#include "smemu/emulator/process_function.h"
#include "smemu/emulator/service.h"
#include "smemu/model/labels.h"

namespace smemu {
namespace {

using test::TempDir;

constexpr auto kLambda = "arn:aws:lambda:eu-west-1:123456789012:function:rotator";
constexpr auto kSecretToken = "00000000-0000-4000-8000-0000000000a1";
constexpr auto kRotateToken = "00000000-0000-4000-8000-0000000000b2";

ServiceOptions real_time(SystemClock& clock) {
  ServiceOptions options;
  options.clock = &clock;
  return options;
}

// A Service on the real clock behind an HttpServer on 127.0.0.1 (a port the kernel picks), with
// process functions pointed at it and their output lines in `log`.
struct Endpoint {
  SystemClock clock;
  Service service{real_time(clock)};
  HttpServer server{service, HttpServerOptions{.host = "127.0.0.1", .port = 0}};
  std::ostringstream log;  // written by the thread that runs step(): the test's
  Client client = service.client("us-east-1");

  Endpoint() {
    server.start();
    service.set_process_host(ProcessHost{.endpoint_url = url(), .region = "us-east-1", .python = {}, .log = &log});
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server.port()); }

  // Registers `spec` under kLambda; creates secret "db" with a value.
  std::string setup(const std::string& spec) {
    const auto registered = service.register_function(kLambda, spec);
    REQUIRE_MESSAGE(registered.ok(), registered.error().message);
    const auto created = client.create_secret({.name = "db", .client_request_token = kSecretToken,
                                               .secret_string = R"({"password":"old-value"})"});
    REQUIRE(created.ok());
    return *created->arn;
  }

  void rotate(bool immediately) {
    const auto rotated = client.rotate_secret({.secret_id = "db", .client_request_token = kRotateToken,
                                               .rotation_lambda_arn = kLambda, .rotate_immediately = immediately});
    REQUIRE_MESSAGE(rotated.ok(), rotated.error().message);
  }

  // Runs the queued steps until nothing is due within a second (D1's re-attempts come an hour
  // later). A step's next one is due when it ended, which the real clock may not show for a
  // millisecond yet, hence the short waits between polls.
  std::vector<StepReport> drive() {
    std::vector<StepReport> reports;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < give_up) {
      if (auto report = service.step()) {
        reports.push_back(std::move(*report));
        continue;
      }
      const auto due = service.next_due();
      if (!due || *due > clock.now() + std::chrono::seconds(1)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return reports;
  }

  std::vector<std::string> stages_of(const std::string& version) {
    const auto described = client.describe_secret({.secret_id = "db"});
    REQUIRE(described.ok());
    const auto& stages = *described->version_ids_to_stages;
    const auto found = stages.find(version);
    return found == stages.end() ? std::vector<std::string>{} : found->second;
  }

  std::vector<Event> service_events(std::string_view name) {
    std::vector<Event> found;
    for (const auto& event : service.events().read(0)) {
      if (event.name == name) found.push_back(event);
    }
    return found;
  }
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// '...' for /bin/sh.
std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Whether process `pid` is gone (or a zombie: dead, waiting for whoever adopted it to reap it).
bool process_gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close_paren = text.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < text.size() &&
         (text[close_paren + 2] == 'Z' || text[close_paren + 2] == 'X');
}

pid_t read_pid(const std::filesystem::path& path) {
  const auto text = read_file(path);
  REQUIRE_MESSAGE(!text.empty(), path.string());
  return static_cast<pid_t>(std::stol(text));
}

TEST_CASE("exec: the event arrives as JSON on standard input and exit status 0 is success") {
  Endpoint endpoint;
  TempDir dir;
  const auto event_file = dir.path() / "event.json";
  const auto arn = endpoint.setup("exec:cat > " + quoted(event_file));
  endpoint.rotate(/*immediately=*/false);  // D2: only testSecret, so the command need not rotate

  const auto reports = endpoint.drive();
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].step == model::Step::kTestSecret);
  CHECK(reports[0].outcome == model::Outcome::kOk);
  CHECK(reports[0].then == model::Then::kSucceeded);
  CHECK(endpoint.service_events("TestRotationSucceeded").size() == 1);

  const auto text = read_file(event_file);
  CHECK(text.starts_with(R"({"Step":"testSecret","SecretId":")"));  // Lambda's member order
  const auto event = nlohmann::json::parse(text);
  CHECK(event.size() == 4);
  CHECK(event["Step"] == "testSecret");
  CHECK(event["SecretId"] == arn);
  CHECK(event["ClientRequestToken"] == kRotateToken);
  CHECK(!event["RotationToken"].get<std::string>().empty());
}

TEST_CASE("exec: a command rotates through SECRETS_MANAGER_ENDPOINT, four steps, AWSCURRENT moves") {
  Endpoint endpoint;
  TempDir dir;
  // The template's logic in plain Python (no SDK): the endpoint is all it is told.
  const auto script = dir.path() / "rotate.py";
  std::ofstream(script) << R"(import json, os, sys, urllib.request
event = json.load(sys.stdin)
def call(operation, body):
    request = urllib.request.Request(os.environ["SECRETS_MANAGER_ENDPOINT"], data=json.dumps(body).encode(),
        headers={"X-Amz-Target": "secretsmanager." + operation, "Content-Type": "application/x-amz-json-1.1"})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)
arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
if step == "createSecret":
    password = call("GetRandomPassword", {"PasswordLength": 24})["RandomPassword"]
    call("PutSecretValue", {"SecretId": arn, "ClientRequestToken": token, "SecretString": password,
                            "VersionStages": ["AWSPENDING"]})
elif step == "finishSecret":
    stages = call("DescribeSecret", {"SecretId": arn})["VersionIdsToStages"]
    current = next(version for version, labels in stages.items() if "AWSCURRENT" in labels)
    call("UpdateSecretVersionStage", {"SecretId": arn, "VersionStage": "AWSCURRENT", "MoveToVersionId": token,
                                      "RemoveFromVersionId": current})
print("finished", step)
)";
  endpoint.setup("exec:/usr/bin/python3 -I " + quoted(script));
  endpoint.rotate(/*immediately=*/true);

  const auto reports = endpoint.drive();
  REQUIRE(reports.size() == 4);
  for (const auto& report : reports) CHECK_MESSAGE(report.outcome == model::Outcome::kOk, report.message);
  CHECK(reports.back().then == model::Then::kSucceeded);
  CHECK(has(endpoint.stages_of(kRotateToken), std::string(labels::kCurrent)));
  CHECK(has(endpoint.stages_of(kSecretToken), std::string(labels::kPrevious)));
  CHECK(endpoint.service_events("RotationSucceeded").size() == 1);
  // Standard output reached the log, a line at a time, under the function's name.
  CHECK(endpoint.log.str().find("[rotator] finished createSecret\n") != std::string::npos);
  CHECK(endpoint.log.str().find("[rotator] finished finishSecret\n") != std::string::npos);
}

TEST_CASE("exec: a non-zero exit fails the step with the end of standard error, however much was written") {
  Endpoint endpoint;
  // 1.2 MB on standard output and 70 KB on standard error, interleaved: more than either pipe
  // holds, so the command finishes only if both are read as it writes.
  endpoint.setup(
      "exec:seq 1 200000; for i in $(seq 1 5000); do echo \"noise line $i\" >&2; done; "
      "echo 'fatal: cannot reach the database' >&2; exit 3");
  endpoint.rotate(/*immediately=*/true);

  const auto reports = endpoint.drive();
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].step == model::Step::kCreateSecret);
  CHECK(reports[0].outcome == model::Outcome::kError);
  CHECK(reports[0].then == model::Then::kAttemptFailed);
  const auto& message = reports[0].message;
  CHECK(message.starts_with("Runtime.ExitError: Runtime exited with error: exit status 3\n"));
  CHECK(message.ends_with("noise line 5000\nfatal: cannot reach the database"));
  CHECK(message.find("noise line 1\n") == std::string::npos);
  CHECK(message.size() <= 4096 + 100);
  const auto failed = endpoint.service_events("RotationFailed");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].message == message);
  CHECK(failed[0].step == "createSecret");
  // D1: AWSCURRENT stays where it was.
  CHECK(has(endpoint.stages_of(kSecretToken), std::string(labels::kCurrent)));
  // Both streams reached the log, whole lines under the function's name.
  CHECK(endpoint.log.str().find("\n[rotator] 200000\n") != std::string::npos);
  CHECK(endpoint.log.str().find("\n[rotator] fatal: cannot reach the database\n") != std::string::npos);
}

TEST_CASE("exec: a command killed by a signal fails the step naming the signal") {
  Endpoint endpoint;
  endpoint.setup("exec:echo about to stop >&2; kill -USR1 $$");
  endpoint.rotate(/*immediately=*/true);
  const auto reports = endpoint.drive();
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].outcome == model::Outcome::kError);
  CHECK(reports[0].message == "Runtime.ExitError: Runtime exited with error: signal: SIGUSR1\nabout to stop");
}

TEST_CASE("exec: past its timeout the whole process group is killed, the pipes drained, and the step times out") {
  Endpoint endpoint;
  TempDir dir;
  const auto shell_pid = dir.path() / "shell.pid";
  const auto background_pid = dir.path() / "background.pid";
  // A background grandchild holding standard output and error open, and a foreground sleep.
  endpoint.setup("exec:echo $$ > " + quoted(shell_pid) + "; sleep 100 & echo $! > " + quoted(background_pid) +
                 "; echo waiting; sleep 100?timeout=1");
  endpoint.rotate(/*immediately=*/true);

  const auto started = std::chrono::steady_clock::now();
  const auto reports = endpoint.drive();
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].outcome == model::Outcome::kTimeout);
  CHECK(reports[0].message == "Task timed out after 1.00 seconds");
  CHECK(reports[0].finished - reports[0].started == std::chrono::seconds(1));  // charged its whole timeout
  CHECK(took < std::chrono::seconds(10));  // not the 100 s the sleeps asked for
  CHECK(endpoint.log.str().find("[rotator] waiting\n") != std::string::npos);

  // The shell was smemu's child and has been reaped: no zombie left.
  const auto shell = read_pid(shell_pid);
  CHECK(waitpid(shell, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
  CHECK(process_gone(shell));
  // The grandchild died with its group. It is not smemu's to reap (its adopter does that), so it
  // may linger a moment as a zombie; it must not be running.
  const auto background = read_pid(background_pid);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!process_gone(background) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(process_gone(background));
}

TEST_CASE("exec: the environment is smemu's without anything that could reach AWS, plus the endpoint's") {
  TempDir dir;
  const std::map<std::string, std::string> leaks{
      {"AWS_PROFILE", "production"},
      {"AWS_ACCESS_KEY_ID", "AKIAREALKEYREALKEY00"},
      {"AWS_SECRET_ACCESS_KEY", "real-secret-key"},
      {"AWS_SESSION_TOKEN", "real-session-token"},
      {"AWS_ROLE_ARN", "arn:aws:iam::999999999999:role/admin"},
      {"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"},
      {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.2/creds"},
      {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254"},
      {"AWS_CONFIG_FILE", "/home/someone/.aws/config"},
      {"AWS_DEFAULT_PROFILE", "production"},
      {"aws_secret_access_key", "lower-case-too"},
      {"BOTO_CONFIG", "/etc/boto.cfg"}};
  for (const auto& [name, value] : leaks) REQUIRE(setenv(name.c_str(), value.c_str(), 1) == 0);
  REQUIRE(setenv("SMEMU_TEST_KEPT", "kept", 1) == 0);
  REQUIRE(setenv("NO_PROXY", "example.com", 1) == 0);
  REQUIRE(unsetenv("no_proxy") == 0);

  Endpoint endpoint;
  const auto env_file = dir.path() / "env.txt";
  const auto fds_file = dir.path() / "fds.txt";
  // The environment is taken when the function is registered.
  const std::string command = "env > " + quoted(env_file) + "; ls /proc/self/fd > " + quoted(fds_file);
  endpoint.setup("exec:" + command);
  for (const auto& [name, value] : leaks) unsetenv(name.c_str());
  endpoint.rotate(/*immediately=*/false);
  const auto reports = endpoint.drive();
  REQUIRE(reports.size() == 1);
  REQUIRE_MESSAGE(reports[0].outcome == model::Outcome::kOk, reports[0].message);

  std::map<std::string, std::string> env;
  std::istringstream lines(read_file(env_file));
  for (std::string line; std::getline(lines, line);) {
    if (const auto equals = line.find('='); equals != std::string::npos) {
      env[line.substr(0, equals)] = line.substr(equals + 1);
    }
  }
  const std::map<std::string, std::string> expected_aws{
      {"AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"},
      {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
      {"AWS_CONFIG_FILE", "/dev/null"},
      {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
      {"AWS_EC2_METADATA_DISABLED", "true"},
      {"AWS_ENDPOINT_URL", endpoint.url()},
      {"AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint.url()},
      {"AWS_REGION", "eu-west-1"},  // the function's, from its ARN, as Lambda sets it
      {"AWS_DEFAULT_REGION", "eu-west-1"},
      {"AWS_LAMBDA_FUNCTION_NAME", "rotator"}};
  std::map<std::string, std::string> aws;
  for (const auto& [name, value] : env) {
    std::string upper = name;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    if (upper.starts_with("AWS_") || upper.starts_with("BOTO_")) aws[name] = value;
  }
  CHECK(aws == expected_aws);
  CHECK(env["SECRETS_MANAGER_ENDPOINT"] == endpoint.url());
  CHECK(env["_HANDLER"] == command);
  CHECK(env["SMEMU_TEST_KEPT"] == "kept");
  CHECK(env["NO_PROXY"] == "example.com,127.0.0.1");
  CHECK(env["no_proxy"] == "127.0.0.1");
  CHECK(env.count("PATH") == 1);

  // Descriptors: standard input, output and error, and the one ls opened to list them; nothing of
  // smemu's (the server's sockets, other pipes).
  CHECK(read_file(fds_file) == "0\n1\n2\n3\n");
}

TEST_CASE("exec: invocations from several threads at once each get their own event and outcome") {
  Endpoint endpoint;
  TempDir dir;
  // Writes the event's token to a file of that name; tokens ending in "odd" fail.
  const auto made = make_process_function(
      kLambda,
      *parse_function_spec("exec:t=$(sed 's/.*\"ClientRequestToken\":\"\\([^\"]*\\)\".*/\\1/'); echo \"$t\" > " +
                           quoted(dir.path()) + "/\"$t\"; case $t in *odd) echo \"$t failed\" >&2; exit 1;; esac"),
      ProcessHost{.endpoint_url = endpoint.url(), .region = "us-east-1", .python = {}, .log = nullptr});
  REQUIRE(made.ok());
  constexpr int kThreads = 8;
  std::vector<StepResult> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto client = endpoint.service.client("us-east-1");
      const RotationEvent event{"createSecret", "arn", "token-" + std::to_string(i) + (i % 2 ? "-odd" : "-even"),
                                "rotation"};
      results[static_cast<std::size_t>(i)] = made->function(event, client);
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kThreads; ++i) {
    const auto token = "token-" + std::to_string(i) + (i % 2 ? "-odd" : "-even");
    const auto& result = results[static_cast<std::size_t>(i)];
    CHECK(read_file(dir.path() / token) == token + "\n");
    if (i % 2) {
      CHECK(result.outcome == model::Outcome::kError);
      CHECK(result.message == "Runtime.ExitError: Runtime exited with error: exit status 1\n" + token + " failed");
    } else {
      CHECK_MESSAGE(result.outcome == model::Outcome::kOk, result.message);
    }
  }
}

TEST_CASE("exec: and python: need a running endpoint, and their specs are checked when registered") {
  SUBCASE("the library alone refuses them, saying why") {
    Service service;
    for (const std::string spec : {"exec:true", "python:rotate.py"}) {
      const auto registered = service.register_function(kLambda, spec);
      REQUIRE_FALSE(registered.ok());
      CHECK(registered.error().name() == "InvalidParameterException");
      CHECK(registered.error().message ==
            "Rotation function spec '" + spec + "': " + spec.substr(0, spec.find(':')) +
                ": functions run as processes that call a running Secrets Manager endpoint; only smemu serve "
                "runs them (use builtin: here).");
      CHECK_FALSE(service.has_function(kLambda));
    }
  }
  SUBCASE("with a host, bad specs are refused") {
    Endpoint endpoint;
    TempDir dir;
    const auto handler_file = dir.path() / "handler.py";
    std::ofstream(handler_file) << "def lambda_handler(event, context):\n    pass\n";
    const std::vector<std::pair<std::string, std::string>> cases{
        {"exec:true?memory=128", "unknown option 'memory' for exec:true; known options: timeout, step_seconds, "
                                 "fail_at, timeout_at."},
        {"python:" + (dir.path() / "missing.py").string(),
         "python: '" + (dir.path() / "missing.py").string() + "' is not a file."},
        {"python:" + handler_file.string() + ":", "python: the HANDLER after ':' is empty."},
        {"python:" + handler_file.string() + ":handler-name", "python: '" + handler_file.string() +
                                                                   ":handler-name' is not a file."}};
    for (const auto& [spec, problem] : cases) {
      const auto registered = endpoint.service.register_function(kLambda, spec);
      REQUIRE_FALSE(registered.ok());
      CHECK(registered.error().name() == "InvalidParameterException");
      CHECK(registered.error().message == "Invalid rotation function spec '" + spec + "': " + problem);
    }
    setenv("SMEMU_PYTHON", (dir.path() / "no-such-python").c_str(), 1);
    const auto no_python = endpoint.service.register_function(kLambda, "python:" + handler_file.string());
    unsetenv("SMEMU_PYTHON");
    REQUIRE_FALSE(no_python.ok());
    CHECK(no_python.error().message.ends_with("the Python interpreter '" + (dir.path() / "no-such-python").string() +
                                              "' is not an executable file (choose one with --python or "
                                              "SMEMU_PYTHON)."));
    CHECK(endpoint.service.register_function(kLambda, "python:" + handler_file.string() + ":lambda_handler").ok());
  }
}

}  // namespace
}  // namespace smemu
