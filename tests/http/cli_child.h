// Child: the `smemu` executable as a child process, for tests that run it end to end (the path
// comes from SMEMU_CLI_PATH); announced_port: the port of its first line.
#pragma once

#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace smemu::test {

inline constexpr std::chrono::seconds kChildTimeout{20};

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
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
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
inline std::uint16_t announced_port(const std::string& line) {
  static const std::regex kListening(R"(smemu listening on http://127\.0\.0\.1:([0-9]{1,5}))");
  std::smatch match;
  if (!std::regex_match(line, match, kListening)) return 0;
  return static_cast<std::uint16_t>(std::stoul(match[1]));
}

}  // namespace smemu::test
