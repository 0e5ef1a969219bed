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
#include "functions_file.h"
#include "smemu/emulator/admin_api.h"
#include "smemu/emulator/clock.h"
#include "smemu/emulator/event_log.h"
#include "smemu/emulator/http_server.h"
#include "smemu/emulator/process_function.h"
#include "smemu/emulator/service.h"
#include "smemu/emulator/state_journal.h"

namespace smemu::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: smemu serve [--host HOST] [--port PORT] [--region REGION] [--account ID] [--seed N]\n"
    "                   [--function ARN=SPEC]... [--functions FILE] [--events FILE]\n"
    "                   [--python PATH] [--state FILE]\n\n"
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
    "                   (builtin:template, builtin:single-user, ...), exec:COMMAND (run by\n"
    "                   /bin/sh -c per step, the event JSON on standard input) or\n"
    "                   python:PATH[:HANDLER] (a Lambda-style handler, default lambda_handler);\n"
    "                   ?timeout=SECONDS on any (default 30). exec: and python: functions get\n"
    "                   SECRETS_MANAGER_ENDPOINT and AWS_ENDPOINT_URL (this server), dummy\n"
    "                   credentials and no AWS_* variable of smemu's; their output goes to\n"
    "                   standard error. Repeatable. RotateSecret answers at once; the rotation\n"
    "                   runs in the background\n"
    "  --functions FILE registers each {\"arn\": ARN, \"spec\": SPEC} of the JSON list in FILE,\n"
    "                   before any --function (so that a --function for the same ARN wins)\n"
    "  --events FILE    writes every event (writes, failures, rotation steps) to FILE as JSON\n"
    "                   lines, one per event (created with mode 0600; truncated if it exists)\n"
    "  --python PATH    the interpreter of python: functions (default: $SMEMU_PYTHON, else\n"
    "                   /usr/bin/python3 when it exists, else python3 on PATH)\n"
    "  --state FILE     keeps the state in FILE (mode 0600; FILE.lock beside it): loads it at\n"
    "                   start and makes every change durable before answering. Functions are\n"
    "                   not kept: give the ones saved rotations use on the command line again\n";

bool is_region(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool is_account(std::string_view text) {
  return text.size() == 12 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The URL exec: and python: functions call back: the server's own address, or loopback when it
// listens on every address.
std::string callback_url(const std::string& host, std::uint16_t port) {
  std::string address = host;
  if (address == "0.0.0.0") address = "127.0.0.1";
  if (address == "::" || address == "[::]") address = "::1";
  const bool ipv6 = address.find(':') != std::string::npos && !address.starts_with('[');
  return "http://" + (ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
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

// Registers the functions `--functions FILE` lists; returns what is wrong with the file or its
// first bad entry, if anything.
std::optional<std::string> register_functions_file(Service& service, const std::string& path) {
  if (path.empty()) return std::nullopt;
  std::vector<FunctionEntry> entries;
  if (auto problem = read_functions_file(path, entries)) return "--functions " + *problem;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (auto registered = service.register_function(entries[i].arn, entries[i].spec); !registered) {
      return "--functions " + path + ": entry " + std::to_string(i) + " (" + entries[i].arn +
             "): " + registered.error().message;
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
  // The longest sleep. Admin clock moves run what they bring due themselves (Service::advance_to);
  // this bounds how late the worker notices real time passing a due time it computed before a
  // clock move shortened the wait.
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
              {"account", "123456789012"}, {"seed", "0"}, {"events", ""}, {"functions", ""}, {"python", ""},
              {"state", ""}};
  RepeatedFlags repeated{{"function", {}}};
  if (const auto problem = parse_flags(args, flags, repeated)) return usage_error(*problem);
  const auto port = parse_unsigned(flags["port"], 65535);
  if (!port) return usage_error("--port must be a number from 0 to 65535");
  const auto seed = parse_unsigned(flags["seed"], UINT64_MAX);
  if (!seed) return usage_error("--seed must be an unsigned 64-bit number");
  if (!is_region(flags["region"])) return usage_error("--region must be a region name such as us-east-1");
  if (!is_account(flags["account"])) return usage_error("--account must be 12 digits");
  const std::string& host = flags["host"];

  // D16: serve runs on the real clock, plus whatever the admin API advances it by.
  SystemClock clock;
  ServiceOptions service_options;
  service_options.account = flags["account"];
  service_options.seed = *seed;
  service_options.clock = &clock;
  Service service(std::move(service_options));
  // Declared after the service and before the server, so that on the way out the server stops
  // first, then the worker, then the events file, while the service still exists.
  std::unique_ptr<EventsFile> events;
  if (!flags["events"].empty()) {
    events = EventsFile::open_and_subscribe(service.events(), flags["events"]);
    if (!events) return kExitFailure;
  }
  // Opened below, once the functions saved rotations call are registered; declared here so that
  // it is closed after the server and the worker, which commit changes through it, have stopped.
  std::unique_ptr<StateJournal> state;
  RotationWorker worker(service);
  // /_smemu/ (docs/serve.md); it outlives the server, which shuts its waits down on the way out.
  AdminApi admin(service, flags["region"]);
  std::unique_ptr<HttpServer> server;
  try {
    server = std::make_unique<HttpServer>(service, HttpServerOptions{.host = host,
                                                                     .port = static_cast<std::uint16_t>(*port),
                                                                     .default_region = flags["region"],
                                                                     .stop_on_signals = true,
                                                                     .log = &std::cerr,
                                                                     .admin = &admin});
  } catch (const std::system_error& error) {
    std::cerr << "smemu serve: " << error.what() << "\n";
    return kExitFailure;
  }
  if (!server->loopback()) {
    std::cerr << "smemu serve: warning: " << host << " is not a loopback address; requests are not "
              << "authenticated, so anyone who can reach it can read and change every secret\n";
  }
  // Anyone who can reach a non-loopback address could otherwise run commands as this user.
  admin.allow_process_functions(server->loopback());
  // Functions are registered once the port is bound: exec: and python: ones are told the endpoint.
  service.set_process_host(ProcessHost{.endpoint_url = callback_url(host, server->port()),
                                       .region = flags["region"],
                                       .python = flags["python"],
                                       .log = &std::cerr});
  if (const auto problem = register_functions_file(service, flags["functions"])) return usage_error(*problem);
  if (const auto problem = register_functions(service, repeated["function"])) return usage_error(*problem);
  if (!flags["state"].empty()) {
    // Before the server starts: nothing is answered from a state that is not loaded yet.
    auto opened = StateJournal::open(flags["state"], service);
    if (!opened) {
      std::cerr << "smemu serve: --state: " << opened.error().message << "\n";
      return kExitFailure;
    }
    state = std::move(opened.value());
    const auto& loaded = state->load_report();
    if (loaded.torn_tail_at) {
      std::cerr << "smemu serve: warning: --state " << flags["state"] << ": the last record, at byte "
                << *loaded.torn_tail_at << ", is incomplete (a write cut short); loaded the " << loaded.records
                << " whole records before it and left out its " << loaded.torn_bytes << " bytes\n";
    }
    std::cerr << "smemu serve: --state " << flags["state"] << ": "
              << (loaded.created ? std::string("new state file")
                                 : "loaded " + std::to_string(loaded.secrets) + " secrets; " +
                                       std::to_string(loaded.resumed_runs) + " interrupted rotation steps resumed")
              << "\n";
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
