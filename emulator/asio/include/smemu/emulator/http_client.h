// A small blocking HTTP/1.1 client: what the smemu CLI's admin subcommands (smemu clock, wait,
// events, ...) use to reach a running `smemu serve`. One request per connection; plain http only.
// Thread-safety: the functions share nothing; call them from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smemu {

struct HttpUrl {
  std::string host;  // a name or an address; an IPv6 address without its brackets
  std::uint16_t port = 80;
};

// http://HOST[:PORT] with an optional trailing "/"; nullopt for anything else (https, a path, a
// query, user info, a port outside 1..65535).
std::optional<HttpUrl> parse_http_url(std::string_view url);

struct HttpReply {
  unsigned status = 0;
  std::string body;
};

// Sends one request to `url` and reads the answer; a POST carries Content-Type: application/json.
// `timeout` bounds the whole exchange; zero means no limit.
// Throws std::runtime_error (saying what failed: resolving, connecting, the exchange, the time
// limit) when no answer arrives.
HttpReply http_request(const HttpUrl& url, std::string_view method, std::string_view target, std::string body,
                       std::chrono::milliseconds timeout);

}  // namespace smemu
