// smemu serve: the emulator behind an HTTP endpoint, until SIGINT or SIGTERM.
#include <algorithm>
#include <iostream>
#include <memory>
#include <system_error>
#include <utility>

#include "commands.h"
#include "smemu/emulator/clock.h"
#include "smemu/emulator/http_server.h"
#include "smemu/emulator/service.h"

namespace smemu::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: smemu serve [--host HOST] [--port PORT] [--region REGION] [--account ID] [--seed N]\n\n"
    "Serves the Secrets Manager API (AWS JSON 1.1 over HTTP/1.1) until SIGINT or SIGTERM.\n"
    "The first line on standard output is 'smemu listening on http://HOST:PORT'.\n\n"
    "flags:\n"
    "  --host HOST      address to listen on (default 127.0.0.1); requests are not\n"
    "                   authenticated, so anyone who can reach it can read every secret\n"
    "  --port PORT      TCP port (default 4566); 0 picks a free one\n"
    "  --region REGION  region of requests whose signature names none (default us-east-1)\n"
    "  --account ID     12-digit account id in ARNs (default 123456789012)\n"
    "  --seed N         seed of ids, ARN suffixes and passwords (default 0)\n";

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

}  // namespace

int serve_command(Args args) {
  if (wants_help(args)) {
    std::cout << kUsage;
    return kExitOk;
  }
  Flags flags{{"host", "127.0.0.1"}, {"port", "4566"}, {"region", "us-east-1"},
              {"account", "123456789012"}, {"seed", "0"}};
  if (const auto problem = parse_flags(args, flags)) return usage_error(*problem);
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
