// The `smemu` executable end to end: `serve` announces its address, answers, and exits 0 on
// SIGTERM and SIGINT; the dispatcher's version, help and usage errors.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http/http_client.h"
#include "smemu/emulator/http_server.h"
#include "smemu/emulator/service.h"

extern char** environ;

namespace smemu {
namespace {

using namespace std::chrono_literals;
using test::HttpConnection;
using test::json_of;

constexpr auto kChildTimeout = 20s;

// `smemu` with `args` as a child process: standard output is a pipe the test reads, standard
// error goes to a file. The child is killed if the test leaves it running.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    std::string pattern = (std::filesystem::temp_directory_path() / "smemu-cli-test-XXXXXX").string();
    const int stderr_file = mkstemp(pattern.data());
    REQUIRE(stderr_file >= 0);
    stderr_path_ = pattern;
    int out[2];
    REQUIRE(pipe2(out, O_CLOEXEC) == 0);
    stdout_ = out[0];

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, stderr_file, STDERR_FILENO);
    // The test runner may block or ignore the signals the child must act on.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none;
    sigemptyset(&none);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &stop_signals);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<std::string> argv_strings{SMEMU_CLI_PATH};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : argv_strings) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int spawned = posix_spawn(&pid_, SMEMU_CLI_PATH, &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    close(out[1]);
    close(stderr_file);
    REQUIRE(spawned == 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (!status_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(stdout_);
    std::filesystem::remove(stderr_path_);
  }

  // The next line of standard output, without its newline; nullopt when none comes in time.
  std::optional<std::string> read_line() {
    for (;;) {
      if (const auto newline = stdout_text_.find('\n'); newline != std::string::npos) {
        std::string line = stdout_text_.substr(0, newline);
        stdout_text_.erase(0, newline + 1);
        return line;
      }
      if (!read_some()) return std::nullopt;
    }
  }

  // The rest of standard output, up to its end.
  std::string read_all() {
    while (read_some()) {
    }
    return std::exchange(stdout_text_, {});
  }

  void signal(int number) { REQUIRE(kill(pid_, number) == 0); }

  // The exit code, or nullopt when the child did not exit normally in time.
  std::optional<int> wait() {
    const auto deadline = std::chrono::steady_clock::now() + kChildTimeout;
    while (!status_ && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        status_ = status;
      } else {
        std::this_thread::sleep_for(10ms);
      }
    }
    if (!status_ || !WIFEXITED(*status_)) return std::nullopt;
    return WEXITSTATUS(*status_);
  }

  std::string stderr_text() const {
    std::ifstream in(stderr_path_);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  // Reads what standard output has; false at its end or when nothing comes in time.
  bool read_some() {
    pollfd ready{stdout_, POLLIN, 0};
    if (poll(&ready, 1, static_cast<int>(std::chrono::milliseconds(kChildTimeout).count())) != 1) return false;
    char chunk[4096];
    const ssize_t n = read(stdout_, chunk, sizeof chunk);
    if (n <= 0) return false;
    stdout_text_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int stdout_ = -1;
  std::string stdout_text_;
  std::filesystem::path stderr_path_;
  std::optional<int> status_;
};

// The port of a `smemu listening on http://127.0.0.1:PORT` line; 0 when the line is not one.
std::uint16_t announced_port(const std::string& line) {
  static const std::regex kListening(R"(smemu listening on http://127\.0\.0\.1:([0-9]{1,5}))");
  std::smatch match;
  if (!std::regex_match(line, match, kListening)) return 0;
  return static_cast<std::uint16_t>(std::stoul(match[1]));
}

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
      {{"serve", "--port="}, "--port must be"},
      {{"serve", "--seed", "18446744073709551616"}, "--seed must be"},
      {{"serve", "--seed", "x"}, "--seed must be"},
      {{"serve", "--account", "1234"}, "--account must be"},
      {{"serve", "--region", "US_EAST_1"}, "--region must be"},
      {{"serve", "--host="}, "--host must not be empty"},
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
