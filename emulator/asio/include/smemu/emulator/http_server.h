// HttpServer: the HTTP endpoint of `smemu serve`. It speaks the AWS JSON 1.1 protocol over
// HTTP/1.1 with keep-alive (spec section 1): `POST /` with `X-Amz-Target:
// secretsmanager.<Operation>` is answered by Client::call in the request's region, which is the
// one in the SigV4 Authorization header's credential scope, else default_region (D18).
// Signatures are accepted, not verified. Paths under /_smemu/ go to the AdminApi in the options
// (admin_api.h); without one, `GET /_smemu/health` answers {"status":"ok"} and the rest of
// /_smemu/ is UnknownOperationException. Admin requests that block run on a small pool of their
// own, never on the threads serving the API.
//
// Errors: a bad request is answered, never thrown, and changes nothing. The answer has the
// status http_status(code), the body {"__type": "<AWS name>", "Message": "..."} and the header
// x-amzn-ErrorType. A body over kMaxRequestBody is RequestEntityTooLargeException (413, and the
// connection closes); malformed JSON or UTF-8 is SerializationException; a missing or unknown
// X-Amz-Target, another method or another path is UnknownOperationException; an empty body
// reads as {}. An exception escaping the service is answered with InternalServiceError (500).
// Logging: one line per request to `log` (request id, region, operation, status, error name).
// Never a body or a header value, so secret values cannot reach it (D19).
//
// Lifetime: the constructor binds and listens, so port() is known and connections queue before
// start(); it throws std::system_error when the address cannot be used. start() serves on a
// pool of threads and returns. stop() ends serving: requests in flight go unanswered, and open
// connections are closed when the server is destroyed. wait() blocks until serving has ended.
// The destructor stops and waits. The Service (and `log`, and `admin`) must outlive the server.
// Thread-safety: port(), loopback(), stop() and wait() may be called from any thread;
// start() once, before wait().
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>

namespace smemu {

class AdminApi;
class Service;

// Bodies larger than this are rejected with RequestEntityTooLargeException.
inline constexpr std::size_t kMaxRequestBody = 1024 * 1024;

struct HttpServerOptions {
  // An IP address or a host name; the first address it resolves to is bound.
  std::string host = "127.0.0.1";
  // 0 picks a free port; port() tells which.
  std::uint16_t port = 0;
  // The region of requests whose Authorization header names none.
  std::string default_region = "us-east-1";
  // Threads serving connections; 0 means hardware_concurrency, capped at 4.
  unsigned threads = 0;
  // SIGINT and SIGTERM call stop(). Process-wide, so meant for the `smemu` executable only.
  bool stop_on_signals = false;
  // Where the request log goes; nullptr logs nothing. Lines are written whole, under a lock.
  std::ostream* log = nullptr;
  // Answers /_smemu/; nullptr: health only. It must outlive the server, which shuts it down
  // (AdminApi::shutdown) when destroyed.
  AdminApi* admin = nullptr;
};

class HttpServer {
 public:
  HttpServer(Service& service, HttpServerOptions options);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  // The bound port (the chosen one when options.port was 0).
  std::uint16_t port() const;
  // Whether the bound address is a loopback address (127.0.0.0/8 or ::1).
  bool loopback() const;

  void start();
  // Idempotent; also valid before start(), which then serves nothing.
  void stop();
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smemu
