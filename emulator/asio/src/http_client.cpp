#include "smemu/emulator/http_client.h"

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

#include <charconv>
#include <stdexcept>

namespace smemu {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

}  // namespace

std::optional<HttpUrl> parse_http_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  if (url.ends_with('/')) url.remove_suffix(1);
  if (url.empty() || url.find_first_of("/?#@ ") != std::string_view::npos) return std::nullopt;
  HttpUrl out;
  std::string_view port;
  if (url.front() == '[') {
    const auto close = url.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    out.host = std::string(url.substr(1, close - 1));
    const std::string_view rest = url.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || rest.size() == 1)) return std::nullopt;
    if (!rest.empty()) port = rest.substr(1);
  } else {
    const auto colon = url.find(':');
    out.host = std::string(url.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = url.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
  }
  if (out.host.empty()) return std::nullopt;
  if (!port.empty()) {
    unsigned number = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (error != std::errc{} || end != port.data() + port.size() || number == 0 || number > 65535) {
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(number);
  }
  return out;
}

HttpReply http_request(const HttpUrl& url, std::string_view method, std::string_view target, std::string body,
                       std::chrono::milliseconds timeout) {
  asio::io_context context;
  beast::tcp_stream stream(context);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Runs one asynchronous step to its end, within what is left of the time limit.
  const auto run = [&](std::string_view what, auto start) {
    beast::error_code ec;
    if (timeout.count() > 0) {
      stream.expires_at(deadline);
    } else {
      stream.expires_never();
    }
    start([&ec](beast::error_code e, auto&&...) { ec = e; });
    context.restart();
    context.run();
    if (ec == beast::error::timeout) {
      throw std::runtime_error(std::string(what) + ": no answer within " + std::to_string(timeout.count()) + " ms");
    }
    if (ec) throw std::runtime_error(std::string(what) + ": " + ec.message());
  };

  const std::string address = url.host + ":" + std::to_string(url.port);
  tcp::resolver resolver(context);
  beast::error_code resolved;
  const auto endpoints = resolver.resolve(url.host, std::to_string(url.port), resolved);
  if (resolved) throw std::runtime_error("cannot resolve " + url.host + ": " + resolved.message());
  run("cannot connect to " + address, [&](auto done) { stream.async_connect(endpoints, done); });

  http::request<http::string_body> request{http::string_to_verb(beast::string_view(method.data(), method.size())),
                                           beast::string_view(target.data(), target.size()), 11};
  request.set(http::field::host, address);
  if (method == "POST") request.set(http::field::content_type, "application/json");
  request.body() = std::move(body);
  request.prepare_payload();
  run("request to " + address, [&](auto done) { http::async_write(stream, request, done); });

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  run("answer from " + address, [&](auto done) { http::async_read(stream, buffer, parser, done); });
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return HttpReply{parser.get().result_int(), std::move(parser.get().body())};
}

}  // namespace smemu
