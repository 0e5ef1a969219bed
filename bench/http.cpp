// GetSecretValue over HTTP (issue 5 item 7): the real `smemu serve` as a child process on
// 127.0.0.1, driven by a keep-alive load generator here — plain POSIX sockets and one epoll loop
// on one thread (bench/ never includes Asio) — over 1, 8 and 64 connections, each with one request
// in flight at a time. The figures are requests answered per wall-clock second: the server and
// the generator share the machine's cores, as a load test with wrk would, so this benchmark
// undoes main.cpp's pinning to CPU 0 for itself and the server.
//
// Every answer must be 200 with the body of the secret's value: the first is parsed (SecretString
// and VersionId as written), every later one must be byte for byte the same. Anything else, a
// connection the server closed or a server that did not stop cleanly is a problem of the run.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench.h"

extern char** environ;

namespace smemu::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kSecretName = "bench/http";
constexpr std::string_view kToken = "00000000-0000-4000-8000-000000000001";
constexpr std::size_t kValueSize = 100;
// How long a figure runs, after a warm-up of its own connections; and how long a single answer
// may take before the run gives up on it.
constexpr std::chrono::milliseconds kWarmUp{300};
constexpr std::chrono::milliseconds kRun{3000};
constexpr std::chrono::milliseconds kQuickWarmUp{20};
constexpr std::chrono::milliseconds kQuickRun{100};
constexpr std::chrono::seconds kAnswerTimeout{10};

// The request an SDK sends: SigV4 headers for us-east-1 (smemu reads the region from the
// credential scope and verifies no signature).
std::string aws_request(std::string_view operation, std::string_view body, std::uint16_t port) {
  return fmt::format(
      "POST / HTTP/1.1\r\n"
      "Host: 127.0.0.1:{}\r\n"
      "Accept-Encoding: identity\r\n"
      "X-Amz-Target: secretsmanager.{}\r\n"
      "Content-Type: application/x-amz-json-1.1\r\n"
      "User-Agent: smemu-bench/1.0 (keep-alive load generator)\r\n"
      "X-Amz-Date: 20260101T000000Z\r\n"
      "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/secretsmanager/"
      "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
      "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7\r\n"
      "Content-Length: {}\r\n"
      "\r\n"
      "{}",
      port, operation, body.size(), body);
}

// One HTTP/1.1 response taken off the front of `buffer`: status and body; nullopt while it is
// incomplete. `malformed` is set when the bytes cannot be a response.
struct Answer {
  int status = 0;
  std::string_view body;
  std::size_t size = 0;  // bytes of `buffer` it used
};

std::optional<Answer> take_answer(std::string_view buffer, bool& malformed) {
  const auto header_end = buffer.find("\r\n\r\n");
  if (header_end == std::string_view::npos) return std::nullopt;
  const auto headers = buffer.substr(0, header_end + 2);
  Answer answer;
  if (!headers.starts_with("HTTP/1.1 ") || headers.size() < 12) {
    malformed = true;
    return std::nullopt;
  }
  answer.status = (headers[9] - '0') * 100 + (headers[10] - '0') * 10 + (headers[11] - '0');
  std::optional<std::size_t> length;
  for (std::size_t at = headers.find("\r\n") + 2; at < headers.size();) {
    const auto end = headers.find("\r\n", at);
    const auto line = headers.substr(at, end - at);
    at = end + 2;
    constexpr std::string_view kLength = "content-length:";
    if (line.size() <= kLength.size()) continue;
    bool is_length = true;
    for (std::size_t i = 0; i < kLength.size() && is_length; ++i) {
      is_length = static_cast<char>(std::tolower(static_cast<unsigned char>(line[i]))) == kLength[i];
    }
    if (!is_length) continue;
    std::size_t value = 0;
    for (const char c : line.substr(kLength.size())) {
      if (c >= '0' && c <= '9') value = value * 10 + static_cast<std::size_t>(c - '0');
    }
    length = value;
  }
  if (!length) {
    malformed = true;  // smemu always sends Content-Length
    return std::nullopt;
  }
  const auto body_start = header_end + 4;
  if (buffer.size() < body_start + *length) return std::nullopt;
  answer.body = buffer.substr(body_start, *length);
  answer.size = body_start + *length;
  return answer;
}

int connect_to(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// One request and its answer on a blocking connection (setting up, checking).
std::optional<std::string> call_once(int fd, const std::string& request, int& status) {
  if (!write_all(fd, request)) return std::nullopt;
  std::string buffer;
  char chunk[16 * 1024];
  for (;;) {
    bool malformed = false;
    if (const auto answer = take_answer(buffer, malformed)) {
      status = answer->status;
      return std::string(answer->body);
    }
    if (malformed) return std::nullopt;
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, static_cast<int>(std::chrono::milliseconds(kAnswerTimeout).count())) != 1) return std::nullopt;
    const auto n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return std::nullopt;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

// `smemu serve --port 0` as a child: standard output is read for the announced port, standard
// error (the request log) goes to /dev/null. SIGTERM stops it.
class Server {
 public:
  explicit Server(Report& report) : report_(report) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
      report_.problem("pipe2() failed");
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::vector<std::string> args{SMEMU_CLI_PATH, "serve", "--port", "0", "--seed", "1"};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int spawned = posix_spawn(&pid_, SMEMU_CLI_PATH, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (spawned != 0) {
      pid_ = -1;
      close(out[0]);
      report_.problem(fmt::format("cannot run {}: {}", SMEMU_CLI_PATH, std::strerror(spawned)));
      return;
    }
    port_ = announced_port(out[0]);
    close(out[0]);
    if (port_ == 0) report_.problem("smemu serve announced no port");
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // Stops the server; a problem unless it exits with status 0 in time.
  ~Server() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + kAnswerTimeout;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        report_.problem("smemu serve did not stop on SIGTERM");
        return;
      }
      usleep(10'000);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      report_.problem(fmt::format("smemu serve ended with wait status {}", status));
    }
  }

  std::uint16_t port() const { return port_; }

  // CPU time the server has used so far (user and system, all its threads), in seconds.
  double cpu_seconds() const {
    std::ifstream stat(fmt::format("/proc/{}/stat", pid_));
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // The fields after the command name, which is in parentheses and may hold spaces.
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; fields >> field && i <= 15; ++i) {
      if (i >= 14) ticks += std::strtod(field.c_str(), nullptr);  // utime (14) and stime (15)
    }
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  }

 private:
  // The port of the first line, `smemu listening on http://127.0.0.1:PORT`; 0 when none comes.
  static std::uint16_t announced_port(int fd) {
    std::string line;
    char c = 0;
    while (line.size() < 200) {
      pollfd ready{fd, POLLIN, 0};
      if (poll(&ready, 1, static_cast<int>(std::chrono::milliseconds(kAnswerTimeout).count())) != 1) return 0;
      if (read(fd, &c, 1) != 1 || c == '\n') break;
      line.push_back(c);
    }
    static const std::regex kListening(R"(smemu listening on http://127\.0\.0\.1:([0-9]{1,5}))");
    std::smatch match;
    if (!std::regex_match(line, match, kListening)) return 0;
    return static_cast<std::uint16_t>(std::stoul(match[1]));
  }

  Report& report_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

struct Connection {
  int fd = -1;
  std::string in;
  bool waiting = false;  // a request is in flight
};

struct LoadResult {
  std::uint64_t answered = 0;  // inside the measured window
  std::uint64_t failures = 0;
  double wall_seconds = 0;
  double cpu_seconds = 0;  // the generator's
  double server_cpu_seconds = 0;
};

// Keeps `connections` keep-alive connections busy with `request` for warm_up + run; counts the
// answers that arrive in the run. Every answer must be 200 with body `expected`.
LoadResult drive(const Server& server, std::size_t connections, const std::string& request, const std::string& expected,
                 std::chrono::milliseconds warm_up, std::chrono::milliseconds run, Report& report) {
  const auto port = server.port();
  LoadResult result;
  const int epoll = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Connection> open(connections);
  const auto fail = [&](std::string what) {
    if (result.failures++ == 0) report.problem(fmt::format("http ({} connections): {}", connections, what));
  };
  std::size_t in_flight = 0;  // connections waiting for an answer
  const auto send_request = [&](std::size_t i) {
    if (!write_all(open[i].fd, request)) return fail("a request could not be sent");
    open[i].waiting = true;
    ++in_flight;
  };
  for (std::size_t i = 0; i < connections; ++i) {
    open[i].fd = connect_to(port);
    if (open[i].fd < 0) {
      fail("cannot connect");
      continue;
    }
    fcntl(open[i].fd, F_SETFL, fcntl(open[i].fd, F_GETFL) | O_NONBLOCK);
    epoll_event interest{};
    interest.events = EPOLLIN;
    interest.data.u64 = i;
    epoll_ctl(epoll, EPOLL_CTL_ADD, open[i].fd, &interest);
    send_request(i);
  }

  const auto start = Clock::now();
  const auto measured_from = start + warm_up;
  const auto stop_at = measured_from + run;
  double cpu_at_measure = -1;
  double server_cpu_at_measure = -1;
  std::uint64_t answered_before = 0;
  std::uint64_t answered = 0;
  bool measuring = false;
  std::vector<epoll_event> ready(connections);
  std::vector<char> chunk(64 * 1024);
  auto last_progress = Clock::now();
  while (in_flight > 0) {
    const auto now = Clock::now();
    if (!measuring && now >= measured_from) {
      measuring = true;
      answered_before = answered;
      cpu_at_measure = thread_cpu_seconds();
      server_cpu_at_measure = server.cpu_seconds();
    }
    if (now - last_progress > kAnswerTimeout) {
      fail(fmt::format("{} answers did not come within {} s", in_flight, kAnswerTimeout.count()));
      break;
    }
    const int count = epoll_wait(epoll, ready.data(), static_cast<int>(ready.size()), 100);
    const bool stopping = Clock::now() >= stop_at;
    if (stopping && result.wall_seconds == 0) {
      result.wall_seconds = std::chrono::duration<double>(Clock::now() - measured_from).count();
      result.answered = answered - answered_before;
      result.cpu_seconds = thread_cpu_seconds() - cpu_at_measure;
      result.server_cpu_seconds = server.cpu_seconds() - server_cpu_at_measure;
    }
    for (int e = 0; e < count; ++e) {
      auto& connection = open[ready[e].data.u64];
      const auto n = recv(connection.fd, chunk.data(), chunk.size(), 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        fail("the server closed a connection");
        epoll_ctl(epoll, EPOLL_CTL_DEL, connection.fd, nullptr);
        if (connection.waiting) --in_flight;
        connection.waiting = false;
        continue;
      }
      connection.in.append(chunk.data(), static_cast<std::size_t>(n));
      bool malformed = false;
      const auto answer = take_answer(connection.in, malformed);
      if (malformed) fail("an answer is not HTTP/1.1 with a Content-Length");
      if (!answer) continue;
      last_progress = Clock::now();
      if (answer->status != 200) {
        fail(fmt::format("status {}", answer->status));
      } else if (answer->body != expected) {
        fail("an answer's body differs from the first one's");
      }
      ++answered;
      connection.in.erase(0, answer->size);
      connection.waiting = false;
      --in_flight;
      if (!connection.in.empty()) fail("bytes after an answer (none was asked for)");
      if (!stopping) send_request(static_cast<std::size_t>(&connection - open.data()));
    }
  }
  for (auto& connection : open) {
    if (connection.fd >= 0) close(connection.fd);
  }
  close(epoll);
  return result;
}

void http_get_secret_value(const Options& options, Report& report) {
  // Both cores for the server and this generator (main.cpp pins to CPU 0; the server inherits it).
  cpu_set_t every_cpu;
  CPU_ZERO(&every_cpu);
  for (long cpu = 0; cpu < sysconf(_SC_NPROCESSORS_ONLN) && cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &every_cpu);
  sched_setaffinity(0, sizeof every_cpu, &every_cpu);

  Server server(report);
  if (server.port() == 0) return;
  const auto value = value_of_size(kValueSize, 1);

  const int setup = connect_to(server.port());
  if (setup < 0) return report.problem("cannot connect to smemu serve");
  int status = 0;
  const auto created = call_once(setup,
      aws_request("CreateSecret", nlohmann::json{{"Name", kSecretName}, {"ClientRequestToken", kToken},
                                                 {"SecretString", value}}.dump(), server.port()),
      status);
  report.check(created && status == 200, "CreateSecret over HTTP answered 200");
  const auto request = aws_request("GetSecretValue", nlohmann::json{{"SecretId", kSecretName}}.dump(), server.port());
  const auto first = call_once(setup, request, status);
  close(setup);
  if (!first || status != 200) return report.problem("the first GetSecretValue over HTTP did not answer 200");
  const auto body = nlohmann::json::parse(*first, nullptr, false);
  report.check(!body.is_discarded() && body.value("SecretString", "") == value && body.value("VersionId", "") == kToken,
               "GetSecretValue over HTTP answers the value and VersionId written");

  const auto warm_up = options.quick ? kQuickWarmUp : kWarmUp;
  const auto run = options.quick ? kQuickRun : kRun;
  for (const auto& [connections, name] : {std::pair<std::size_t, std::string_view>{1, "http_get_secret_value_per_s_1_connection"},
                                          {8, "http_get_secret_value_per_s_8_connections"},
                                          {64, "http_get_secret_value_per_s_64_connections"}}) {
    const auto load = drive(server, connections, request, *first, warm_up, run, report);
    const double per_second = load.wall_seconds > 0 ? static_cast<double>(load.answered) / load.wall_seconds : 0;
    report.metric(name, per_second);
    report.note(fmt::format("{}: {} answers in {:.2f} s wall ({} failed); CPU: the server {:.2f} s ({:.1f} us per "
                            "answer), the generator {:.2f} s",
                            name, load.answered, load.wall_seconds, load.failures, load.server_cpu_seconds,
                            load.answered > 0 ? load.server_cpu_seconds * 1e6 / static_cast<double>(load.answered) : 0,
                            load.cpu_seconds));
  }
}

}  // namespace

SMEMU_BENCHMARK({"http_get_secret_value_per_s_1_connection", "http_get_secret_value_per_s_8_connections",
                 "http_get_secret_value_per_s_64_connections"},
                http_get_secret_value);

}  // namespace smemu::bench
