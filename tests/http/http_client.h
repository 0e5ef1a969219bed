// HttpConnection: a small blocking HTTP/1.1 client on one TCP connection, for tests that talk
// to smemu's endpoint the way an SDK does, and in ways no SDK would (raw bytes, bad headers).
// Every operation gives up after kClientTimeout, so a server that never answers fails the test
// instead of hanging it.
// Thread-safety: none; use one connection per thread.
#pragma once

// Boost 1.74's Asio uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace smemu::test {

namespace http = boost::beast::http;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

inline constexpr std::chrono::seconds kClientTimeout{20};

// A JSON 1.1 request as an SDK sends it: POST / with X-Amz-Target secretsmanager.<operation>
// and, when `region` is not empty, a SigV4 Authorization header whose credential scope names it.
// The body is sent byte for byte, so it need not be JSON.
inline HttpRequest aws_request_text(std::string_view operation, std::string body, std::string_view region = {}) {
  HttpRequest request{http::verb::post, "/", 11};
  request.set(http::field::host, "127.0.0.1");
  request.set("X-Amz-Target", "secretsmanager." + std::string(operation));
  request.set(http::field::content_type, "application/x-amz-json-1.1");
  if (!region.empty()) {
    request.set(http::field::authorization,
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/" + std::string(region) +
                    "/secretsmanager/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                    "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  }
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

inline HttpRequest aws_request(std::string_view operation, const nlohmann::json& body, std::string_view region = {}) {
  return aws_request_text(operation, body.dump(), region);
}

// The parsed body; fails the test (throws) when it is not JSON.
inline nlohmann::json json_of(const HttpResponse& response) { return nlohmann::json::parse(response.body()); }

// The value of header `name`, or "" when there is none.
inline std::string header(const HttpResponse& response, std::string_view name) {
  const auto field = response.find(boost::beast::string_view(name.data(), name.size()));
  return field == response.end() ? std::string() : std::string(field->value());
}

// The `__type` of an error answer, or "" when the body has none.
inline std::string error_type(const HttpResponse& response) {
  const auto body = nlohmann::json::parse(response.body(), nullptr, false);
  return body.is_object() && body.contains("__type") ? body["__type"].get<std::string>() : std::string();
}

class HttpConnection {
 public:
  explicit HttpConnection(std::uint16_t port, std::string_view host = "127.0.0.1") : stream_(context_) {
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(host), port);
    run([&](auto done) { stream_.async_connect(endpoint, done); });
  }

  // Sends `request` (its Content-Length as set) and reads the answer.
  HttpResponse send(const HttpRequest& request) {
    run([&](auto done) { http::async_write(stream_, request, done); });
    return receive(request.method() == http::verb::head);
  }

  // Sends `bytes` as they are, without reading anything.
  void send_raw(std::string_view bytes) {
    run([&](auto done) { boost::asio::async_write(stream_, boost::asio::buffer(bytes.data(), bytes.size()), done); });
  }

  // Reads one answer. `head`: it answers a HEAD request, so it has no body.
  HttpResponse receive(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    parser.skip(head);
    run([&](auto done) { http::async_read(stream_, buffer_, parser, done); });
    return parser.release();
  }

  HttpResponse call(std::string_view operation, const nlohmann::json& body, std::string_view region = {}) {
    return send(aws_request(operation, body, region));
  }

  // Whether the server has closed the connection: a read sees its end, and no data.
  bool closed_by_peer() {
    if (buffer_.size() != 0) return false;
    char byte = 0;
    boost::beast::error_code ec;
    stream_.expires_after(kClientTimeout);
    stream_.async_read_some(boost::asio::buffer(&byte, 1), [&](boost::beast::error_code e, std::size_t) { ec = e; });
    context_.restart();
    context_.run();
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }

 private:
  // Starts one asynchronous operation with `start(handler)` and waits for it, or throws.
  template <class Start>
  void run(Start start) {
    boost::beast::error_code ec;
    stream_.expires_after(kClientTimeout);
    start([&ec](boost::beast::error_code e, auto&&...) { ec = e; });
    context_.restart();
    context_.run();
    if (ec) throw std::runtime_error("HTTP client: " + ec.message());
  }

  boost::asio::io_context context_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace smemu::test
