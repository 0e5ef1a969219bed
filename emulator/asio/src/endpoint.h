// Endpoint: what HttpServer answers to one HTTP request, apart from the sockets: routing,
// X-Amz-Target and body checks, the region from the credential scope, the JSON dispatch, the
// AWS error shape and the request log. The contract is HttpServer's (http_server.h).
// Thread-safety: handle() and reject() may run on any number of threads at once.
#pragma once

// Boost 1.74's Asio, pulled in by Beast, uses std::exchange without including <utility>.
#include <utility>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "smemu/model/error.h"
#include "smemu/model/result.h"

namespace smemu {

class AdminApi;
class Service;

namespace http_endpoint {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// The region in a SigV4 Authorization header's credential scope
// (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`); empty when the header names no
// well-formed one.
std::string_view region_from_authorization(std::string_view authorization);

class Endpoint {
 public:
  // `admin`, when not nullptr, answers every path under /_smemu/ (admin_api.h).
  Endpoint(Service& service, std::string default_region, std::ostream* log, AdminApi* admin = nullptr);

  // The answer to a complete request.
  Response handle(const Request& request);
  // Whether handle() may block on `request` for long (AdminApi::may_block): a server runs those
  // off the threads that answer the API.
  bool blocks(const Request& request) const;
  // The answer to a request that could not be read whole (too large, or not HTTP); it closes
  // the connection.
  Response reject(const Error& error);

 private:
  // What one request did, for the log line. Holds no body and no header value (D19).
  struct Outcome {
    std::string_view region = "-";
    std::string_view operation = "-";
    // smemu's own answers (the admin API's) are plain JSON; AWS answers and every error are
    // AWS JSON 1.1.
    bool plain_json = false;
  };

  // The response body of a request, or the error it is answered with.
  Result<nlohmann::json> route(const Request& request, Outcome& outcome);
  void answer_admin(const Request& request, Response& response, Outcome& outcome);
  // Sets the headers every answer carries and logs the request.
  void finish(Response& response, const Outcome& outcome);

  Service& service_;
  std::string default_region_;
  std::ostream* log_;
  AdminApi* admin_;
  std::mutex log_mutex_;
  std::atomic<std::uint64_t> requests_{0};
};

}  // namespace http_endpoint
}  // namespace smemu
