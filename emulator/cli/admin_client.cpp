#include "admin_client.h"

#include <cstdlib>
#include <exception>
#include <iostream>

#include <nlohmann/json.hpp>

namespace smemu::cli {
namespace {

std::optional<std::string> read_admin_args(Args args, std::vector<std::string_view>& positional, Flags& flags) {
  flags.try_emplace("endpoint", "");
  std::vector<std::string_view> flag_args;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (!args[i].starts_with("--")) {
      positional.push_back(args[i]);
      continue;
    }
    flag_args.push_back(args[i]);
    // Every admin flag takes a value; parse_flags says so when it is missing.
    if (args[i].find('=') == std::string_view::npos && i + 1 < args.size()) flag_args.push_back(args[++i]);
  }
  return parse_flags(flag_args, flags);
}

}  // namespace

std::optional<int> start_admin_command(std::string_view command, Args args, std::string_view usage,
                                       std::vector<std::string_view>& positional, Flags& flags) {
  if (wants_help(args)) {
    std::cout << usage;
    return kExitOk;
  }
  if (const auto problem = read_admin_args(args, positional, flags)) return admin_usage_error(command, *problem, usage);
  return std::nullopt;
}

std::optional<HttpReply> admin_request(std::string_view command, const Flags& flags, std::string_view method,
                                       std::string_view target, std::string body, std::chrono::milliseconds timeout) {
  std::string endpoint = flags.at("endpoint");
  if (endpoint.empty()) {
    const char* from_environment = std::getenv("SMEMU_ENDPOINT");
    endpoint = from_environment != nullptr && *from_environment != '\0' ? from_environment : kDefaultEndpoint;
  }
  const auto url = parse_http_url(endpoint);
  if (!url) {
    std::cerr << "smemu " << command << ": the endpoint must be http://HOST:PORT, not '" << endpoint << "'\n";
    return std::nullopt;
  }
  try {
    return http_request(*url, method, target, std::move(body), timeout);
  } catch (const std::exception& error) {
    std::cerr << "smemu " << command << ": " << error.what() << " (is smemu serve running there?)\n";
    return std::nullopt;
  }
}

int report(std::string_view command, const HttpReply& reply) {
  if (reply.status >= 200 && reply.status < 300) {
    std::cout << reply.body << "\n";
    return kExitOk;
  }
  const auto body = nlohmann::json::parse(reply.body, nullptr, false);
  std::cerr << "smemu " << command << ": ";
  if (body.is_object() && body.contains("__type") && body["__type"].is_string() && body.contains("Message") &&
      body["Message"].is_string()) {
    std::cerr << body["__type"].get<std::string>() << ": " << body["Message"].get<std::string>();
  } else {
    std::cerr << "unexpected answer";
  }
  std::cerr << " (HTTP " << reply.status << ")\n";
  return kExitFailure;
}

int admin_usage_error(std::string_view command, std::string_view problem, std::string_view usage) {
  std::cerr << "smemu " << command << ": " << problem << "\n\n" << usage;
  return kExitUsage;
}

}  // namespace smemu::cli
