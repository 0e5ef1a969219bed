// AdminApi: smemu's own routes under /_smemu/ (docs/serve.md), apart from any transport: the
// clock, the event log, waiting for a secret's rotation, registering functions, reset and health.
// HttpServer hands it every /_smemu/ request of `smemu serve`; tests may call handle() directly.
//
// Every answer is JSON. Errors have the AWS shape {"__type": NAME, "Message": TEXT}: smemu's own
// are BadRequest (400), Forbidden (403), NotFound (404), MethodNotAllowed (405), RequestTimeout (408),
// UnsupportedMediaType (415) and ServiceUnavailable (503, after shutdown()); the service's own
// (ResourceNotFoundException for an unknown secret, InvalidParameterException for a bad function
// spec) keep their names and statuses. Bad input is answered, never thrown, and changes nothing.
//
// A POST must say Content-Type: application/json. Browsers cannot send that cross-origin without
// asking first (a CORS preflight, which smemu never grants), so a web page the user visits cannot
// move the clock, reset the state or register an exec: function on a local smemu.
//
// Thread-safety: handle() may run on any number of threads at once. POST /_smemu/clock and
// POST /_smemu/wait block (until rotations ran, or until the wait ends): may_block() tells a
// server to run them off the threads that answer the API, whose calls they may be waiting for.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

namespace smemu {

class Service;

struct AdminRequest {
  std::string_view method;        // "GET", "POST", ...
  std::string_view target;        // path and query: /_smemu/events?after=12
  std::string_view content_type;  // the Content-Type header, empty when none
  std::string_view body;
};

struct AdminAnswer {
  unsigned status = 200;
  std::string body;               // JSON
  std::string_view route = "-";   // for a request log: "clock", "events", ...; "-" when none matched
  std::string_view allow;         // with 405: the methods the path takes, for an Allow header
};

class AdminApi {
 public:
  // The admin paths all start with this.
  static constexpr std::string_view kPrefix = "/_smemu/";

  // `default_region`: where POST /_smemu/wait looks for a SecretId that is not an ARN and comes
  // without a Region. The service's clock must be a MovableClock (POST /_smemu/clock moves it).
  AdminApi(Service& service, std::string default_region);
  AdminApi(const AdminApi&) = delete;
  AdminApi& operator=(const AdminApi&) = delete;
  ~AdminApi();

  AdminAnswer handle(const AdminRequest& request);
  // Whether handle() may block on `request` for long (seconds, or a wait's whole timeout).
  static bool may_block(std::string_view method, std::string_view target);
  // Whether POST /_smemu/functions takes specs that run a process (exec:, python:) or only
  // builtin: ones (403 Forbidden otherwise). `smemu serve` allows them on a loopback address only.
  void allow_process_functions(bool allowed) { process_functions_.store(allowed); }
  // Ends every wait in progress, and every later one at once, with ServiceUnavailable (503), so
  // that a server shutting down need not wait for their timeouts.
  void shutdown();

 private:
  struct Signal;  // what waits sleep on: bumped by every event, reset, clock move and shutdown()

  AdminAnswer clock(const AdminRequest& request);
  AdminAnswer events(std::string_view query);
  AdminAnswer wait(std::string_view body);
  AdminAnswer functions(std::string_view body);
  AdminAnswer reset(std::string_view body);
  void wake_waits();

  Service& service_;
  std::string default_region_;
  std::shared_ptr<Signal> signal_;
  std::atomic<bool> process_functions_{true};
};

}  // namespace smemu
