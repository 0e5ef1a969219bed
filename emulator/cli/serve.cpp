// smemu serve: the emulator behind an HTTP endpoint, until SIGINT or SIGTERM.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "smemu/emulator/clock.h"
#include "smemu/emulator/event_log.h"
#include "smemu/emulator/http_server.h"
#include "smemu/emulator/service.h"

namespace smemu::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: smemu serve [--host HOST] [--port PORT] [--region REGION] [--account ID] [--seed N]\n"
    "                   [--function ARN=SPEC]... [--events FILE]\n\n"
    "Serves the Secrets Manager API (AWS JSON 1.1 over HTTP/1.1) until SIGINT or SIGTERM.\n"
    "The first line on standard output is 'smemu listening on http://HOST:PORT'.\n\n"
    "flags:\n"
    "  --host HOST      address to listen on (default 127.0.0.1); requests are not\n"
    "                   authenticated, so anyone who can reach it can read every secret\n"
    "  --port PORT      TCP port (default 4566); 0 picks a free one\n"
    "  --region REGION  region of requests whose signature names none (default us-east-1)\n"
    "  --account ID     12-digit account id in ARNs (default 123456789012)\n"
    "  --seed N         seed of ids, ARN suffixes and passwords (default 0)\n"
    "  --function ARN=SPEC\n"
    "                   registers a rotation function under the Lambda ARN that RotateSecret's\n"
    "                   RotationLambdaARN names; SPEC is builtin:NAME[?option=value&...]\n"
    "                   (builtin:template, builtin:single-user, ...). Repeatable. RotateSecret\n"
    "                   answers at once; the rotation runs in the background\n"
    "  --events FILE    writes every event (writes, failures, rotation steps) to FILE as JSON\n"
    "                   lines, one per event (created with mode 0600; truncated if it exists)\n";

bool is_region(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool is_account(std::string_view text) {
  return text.size() == 12 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int usage_error(std::string_view problem) {
  std::cerr << "smemu serve: " << problem << "\n\n" << kUsage;
  return kExitUsage;
}

// Registers each `--function ARN=SPEC`; returns what is wrong with the first bad one, if any.
std::optional<std::string> register_functions(Service& service, const std::vector<std::string>& functions) {
  for (const auto& function : functions) {
    // ARNs hold no '=', so the first one ends the ARN; the spec's options may hold more.
    const auto equals = function.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == function.size()) {
      return "--function must be ARN=SPEC, e.g. "
             "arn:aws:lambda:us-east-1:123456789012:function:rotate=builtin:template";
    }
    const std::string arn = function.substr(0, equals);
    if (auto registered = service.register_function(arn, std::string_view(function).substr(equals + 1));
        !registered) {
      return "--function " + arn + ": " + registered.error().message;
    }
  }
  return std::nullopt;
}

// `--events FILE`: every event the log records (no successful reads), as one JSON line each,
// written with a single write() so a reader (tail -f) never sees half a line and nothing waits in
// a buffer if the process dies. Subscribers run on whichever thread appended (HTTP handlers, the
// rotation worker), hence the mutex. Events hold no secret values (D19); the file is 0600 anyway,
// as every file smemu writes.
class EventsFile {
 public:
  EventsFile(const EventsFile&) = delete;
  EventsFile& operator=(const EventsFile&) = delete;
  ~EventsFile() {
    events_.unsubscribe(subscription_);
    close(fd_);
  }

  // Opens (creating or truncating) `path` and subscribes; nullptr after printing why it failed.
  static std::unique_ptr<EventsFile> open_and_subscribe(EventLog& events, const std::string& path) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    // O_CREAT's mode applies only to a new file; an existing one is narrowed to 0600 as well.
    if (fd < 0 || fchmod(fd, 0600) != 0) {
      std::cerr << "smemu serve: --events " << path << ": " << std::strerror(errno) << "\n";
      if (fd >= 0) close(fd);
      return nullptr;
    }
    return std::unique_ptr<EventsFile>(new EventsFile(events, fd, path));
  }

 private:
  EventsFile(EventLog& events, int fd, std::string path) : events_(events), fd_(fd), path_(std::move(path)) {
    subscription_ = events_.subscribe([this](const Event& event) { write_line(event); }, /*include_reads=*/false);
  }

  void write_line(const Event& event) {
    // A SecretId as given, or an error message quoting one, need not be valid UTF-8: replace
    // rather than throw on a server thread.
    std::string line = to_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    std::lock_guard lock(mutex_);
    if (failed_) return;
    for (std::size_t written = 0; written < line.size();) {
      const ssize_t n = write(fd_, line.data() + written, line.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // Once a line is lost the file no longer says what happened; say so once and stop.
        failed_ = true;
        std::cerr << "smemu serve: --events " << path_ << ": " << std::strerror(errno)
                  << "; no further events are written\n";
        return;
      }
      written += static_cast<std::size_t>(n);
    }
  }

  EventLog& events_;
  int fd_;
  std::string path_;
  std::uint64_t subscription_ = 0;
  std::mutex mutex_;
  bool failed_ = false;
};

// Runs queued rotation steps on a thread of its own, so RotateSecret answers at once and due work
// (re-attempts, scheduled rotations) runs when its time comes (D16). It sleeps until the earliest
// queued work is due, or until the service queues more. Destroying it stops and joins the thread.
class RotationWorker {
 public:
  explicit RotationWorker(Service& service) : service_(service) {
    service_.set_work_listener([this] {
      {
        std::lock_guard lock(mutex_);
        work_queued_ = true;
      }
      wake_.notify_one();
    });
    thread_ = std::thread([this] { run(); });
  }
  RotationWorker(const RotationWorker&) = delete;
  RotationWorker& operator=(const RotationWorker&) = delete;
  ~RotationWorker() {
    service_.set_work_listener({});
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

 private:
  // The longest sleep: the admin API can move the clock forward (SystemClock::advance) without
  // queueing anything, so work it brought due is noticed within this long.
  static constexpr std::chrono::milliseconds kLongestSleep{1000};

  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      work_queued_ = false;
      lock.unlock();
      service_.run_until_idle();
      const auto due = service_.next_due();
      auto sleep = kLongestSleep;
      if (due) sleep = std::clamp(*due - service_.clock().now(), std::chrono::milliseconds{0}, kLongestSleep);
      lock.lock();
      wake_.wait_for(lock, sleep, [this] { return stopping_ || work_queued_; });
    }
  }

  Service& service_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool work_queued_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

int serve_command(Args args) {
  if (wants_help(args)) {
    std::cout << kUsage;
    return kExitOk;
  }
  Flags flags{{"host", "127.0.0.1"}, {"port", "4566"}, {"region", "us-east-1"},
              {"account", "123456789012"}, {"seed", "0"}, {"events", ""}};
  RepeatedFlags repeated{{"function", {}}};
  if (const auto problem = parse_flags(args, flags, repeated)) return usage_error(*problem);
  const auto port = parse_unsigned(flags["port"], 65535);
  if (!port) return usage_error("--port must be a number from 0 to 65535");
  const auto seed = parse_unsigned(flags["seed"], UINT64_MAX);
  if (!seed) return usage_error("--seed must be an unsigned 64-bit number");
  if (!is_region(flags["region"])) return usage_error("--region must be a region name such as us-east-1");
  if (!is_account(flags["account"])) return usage_error("--account must be 12 digits");
  const std::string& host = flags["host"];
  if (host.empty()) return usage_error("--host must not be empty");

  // D16: serve runs on the real clock, plus whatever the admin API advances it by.
  SystemClock clock;
  ServiceOptions service_options;
  service_options.account = flags["account"];
  service_options.seed = *seed;
  service_options.clock = &clock;
  Service service(std::move(service_options));
  if (const auto problem = register_functions(service, repeated["function"])) return usage_error(*problem);
  // Declared after the service and before the server, so that on the way out the server stops
  // first, then the worker, then the events file, while the service still exists.
  std::unique_ptr<EventsFile> events;
  if (!flags["events"].empty()) {
    events = EventsFile::open_and_subscribe(service.events(), flags["events"]);
    if (!events) return kExitFailure;
  }
  RotationWorker worker(service);
  std::unique_ptr<HttpServer> server;
  try {
    server = std::make_unique<HttpServer>(service, HttpServerOptions{.host = host,
                                                                     .port = static_cast<std::uint16_t>(*port),
                                                                     .default_region = flags["region"],
                                                                     .stop_on_signals = true,
                                                                     .log = &std::cerr});
  } catch (const std::system_error& error) {
    std::cerr << "smemu serve: " << error.what() << "\n";
    return kExitFailure;
  }
  if (!server->loopback()) {
    std::cerr << "smemu serve: warning: " << host << " is not a loopback address; requests are not "
              << "authenticated, so anyone who can reach it can read and change every secret\n";
  }
  // An IPv6 literal needs brackets in a URL.
  const bool ipv6 = host.find(':') != std::string::npos;
  std::cout << "smemu listening on http://" << (ipv6 ? "[" : "") << host << (ipv6 ? "]" : "") << ":"
            << server->port() << std::endl;
  server->start();
  server->wait();
  return kExitOk;
}

}  // namespace smemu::cli
