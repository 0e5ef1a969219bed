// Each serving thread runs an io_context of its own, and each connection is one coroutine on one
// of them (accepted round robin), so its reads, writes and timer never run at once without a
// strand, and a request never hops between threads (the hand-offs of a shared io_context cost
// about a fifth of the server's CPU per request: docs/performance.md). Connections run in
// parallel on the different threads; a handler that blocks holds up the connections of its own
// thread only.
#include "smemu/emulator/http_server.h"

// Boost 1.74's Asio uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <deque>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "endpoint.h"
#include "smemu/emulator/admin_api.h"

namespace smemu {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// How long a kept-alive connection may sit idle, and how long one request may take to arrive
// or its answer to leave, before the connection is dropped.
constexpr std::chrono::seconds kIdleTimeout{60};
constexpr std::chrono::seconds kTransferTimeout{30};
// How long a connection answered with an error that ends it keeps draining what the client
// still sends, so that closing does not reset the connection before the answer is read.
constexpr std::chrono::seconds kLingerTimeout{5};
// What a connection reads into at once.
constexpr std::size_t kReadBuffer = 16 * 1024;
// How long accepting pauses after it failed.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

constexpr auto kAwaitable = asio::use_awaitable;
// Threads for admin requests that block (admin_api.h): that many can wait at once; more queue.
constexpr std::size_t kAdminThreads = 4;

unsigned thread_count(unsigned requested) {
  if (requested != 0) return requested;
  return std::clamp(std::thread::hardware_concurrency(), 1U, 4U);
}

tcp::endpoint resolve(asio::io_context& context, const std::string& host, std::uint16_t port) {
  tcp::resolver resolver(context);
  // Throws when the host resolves to nothing; a non-empty result is never empty.
  return *resolver.resolve(host, std::to_string(port), tcp::resolver::passive).begin();
}

bool expects_continue(const http_endpoint::Request& request) {
  const auto expect = request[http::field::expect];
  return beast::iequals(expect, "100-continue");
}

// The AWS error for a request that could not be read, or nullopt when the connection just
// ended (closed, reset or timed out) and there is nobody to answer.
std::optional<Error> unreadable(const beast::error_code& ec) {
  if (ec == http::error::body_limit) {
    return make_error(ErrorCode::RequestTooLarge,
                      "The request body is larger than " + std::to_string(kMaxRequestBody) + " bytes.");
  }
  if (ec == http::error::header_limit) {
    return make_error(ErrorCode::RequestTooLarge, "The request header is too large.");
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
  if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
    return make_error(ErrorCode::Serialization, "The request is not well-formed HTTP/1.1.");
  }
  return std::nullopt;
}

}  // namespace

struct HttpServer::Impl {
  Impl(Service& service, HttpServerOptions options)
      : options_(std::move(options)),
        endpoint_(service, options_.default_region, options_.log, options_.admin),
        contexts_(thread_count(options_.threads)),
        acceptor_(contexts_.front(), resolve(contexts_.front(), options_.host, options_.port)),
        // Kept, so that port() and loopback() never touch the acceptor the pool is using.
        local_(acceptor_.local_endpoint()) {
    if (options_.admin != nullptr) admin_pool_.emplace(kAdminThreads);
    if (options_.stop_on_signals) {
      signals_.emplace(contexts_.front(), SIGINT, SIGTERM);
      signals_->async_wait([this](const beast::error_code& ec, int) {
        if (!ec) stop();
      });
    }
  }

  asio::awaitable<void> accept() {
    for (;;) {
      beast::error_code ec;
      asio::io_context& context = contexts_[next_context_++ % contexts_.size()];
      tcp::socket socket = co_await acceptor_.async_accept(context, asio::redirect_error(kAwaitable, ec));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) {
        // Out of descriptors, say: pause rather than spin, then keep serving.
        asio::steady_timer pause(contexts_.front(), kAcceptRetryDelay);
        co_await pause.async_wait(asio::redirect_error(kAwaitable, ec));
        continue;
      }
      auto executor = socket.get_executor();
      asio::co_spawn(executor, serve(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }

  asio::awaitable<void> serve(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    // Room for a whole request in one read. Grown only as reads need, the buffer stays near
    // Beast's 512-byte minimum read, and an SDK's request (about 600 bytes) takes two.
    buffer.prepare(kReadBuffer);
    beast::error_code ec;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxRequestBody);
      stream.expires_after(kIdleTimeout);
      co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(kAwaitable, ec));
      if (!ec && !parser.is_done() && expects_continue(parser.get())) {
        http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
        co_await http::async_write(stream, go_on, asio::redirect_error(kAwaitable, ec));
      }
      if (!ec && !parser.is_done()) {
        stream.expires_after(kTransferTimeout);
        co_await http::async_read(stream, buffer, parser, asio::redirect_error(kAwaitable, ec));
      }
      if (ec) {
        if (const auto error = unreadable(ec)) co_await answer_and_linger(stream, *error);
        co_return;
      }

      // An admin request that waits (for rotations, whose functions may call this server) runs
      // on admin_pool_, so that the threads answering the API stay free.
      // (Not a conditional expression: GCC 12 miscompiles co_await inside one.)
      http_endpoint::Response response;
      if (endpoint_.blocks(parser.get())) {
        response = co_await asio::co_spawn(*admin_pool_, handle_blocking(parser.get()), kAwaitable);
      } else {
        response = endpoint_.handle(parser.get());
      }
      stream.expires_after(kTransferTimeout);
      co_await http::async_write(stream, response, asio::redirect_error(kAwaitable, ec));
      if (ec) co_return;
      if (!response.keep_alive()) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  asio::awaitable<http_endpoint::Response> handle_blocking(const http_endpoint::Request& request) {
    co_return endpoint_.handle(request);
  }

  // Answers `error` and closes the connection; the rest of the request is read and dropped.
  asio::awaitable<void> answer_and_linger(beast::tcp_stream& stream, const Error& error) {
    beast::error_code ec;
    http_endpoint::Response response = endpoint_.reject(error);
    stream.expires_after(kTransferTimeout);
    co_await http::async_write(stream, response, asio::redirect_error(kAwaitable, ec));
    if (ec) co_return;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.expires_after(kLingerTimeout);
    std::array<char, 16 * 1024> scratch;
    while (!ec) {
      co_await stream.async_read_some(asio::buffer(scratch), asio::redirect_error(kAwaitable, ec));
    }
  }

  void stop() {
    for (auto& context : contexts_) context.stop();
  }

  HttpServerOptions options_;
  http_endpoint::Endpoint endpoint_;
  // One per serving thread; the first also accepts. Destroyed after everything below, which uses
  // them.
  std::deque<asio::io_context> contexts_;
  std::size_t next_context_ = 0;  // the context of the next accepted connection (accept() only)
  // Destroyed (joined) before contexts_, to which its finished requests post their answers.
  std::optional<asio::thread_pool> admin_pool_;
  tcp::acceptor acceptor_;
  tcp::endpoint local_;
  std::optional<asio::signal_set> signals_;
  std::vector<std::thread> threads_;
  std::mutex threads_mutex_;
};

HttpServer::HttpServer(Service& service, HttpServerOptions options) {
  const std::string address = options.host + ":" + std::to_string(options.port);
  try {
    impl_ = std::make_unique<Impl>(service, std::move(options));
  } catch (const boost::system::system_error& error) {
    throw std::system_error(error.code(), "cannot listen on " + address);
  }
}

HttpServer::~HttpServer() {
  stop();
  wait();
  // Admin requests still waiting end now, so that joining admin_pool_ waits for no timeout.
  if (impl_->options_.admin != nullptr) impl_->options_.admin->shutdown();
}

std::uint16_t HttpServer::port() const { return impl_->local_.port(); }

bool HttpServer::loopback() const { return impl_->local_.address().is_loopback(); }

void HttpServer::start() {
  asio::co_spawn(impl_->contexts_.front(), impl_->accept(), asio::detached);
  const std::lock_guard lock(impl_->threads_mutex_);
  for (auto& context : impl_->contexts_) {
    impl_->threads_.emplace_back([&context] {
      // A context with no connection yet must keep running until stop().
      const auto keep_running = asio::make_work_guard(context);
      context.run();
    });
  }
}

void HttpServer::stop() { impl_->stop(); }

void HttpServer::wait() {
  const std::lock_guard lock(impl_->threads_mutex_);
  for (auto& thread : impl_->threads_) thread.join();
  impl_->threads_.clear();
}

}  // namespace smemu
