#include "endpoint.h"

#include <algorithm>
#include <array>
#include <exception>
#include <ostream>

#include <boost/beast/http/verb.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "smemu/emulator/admin_api.h"
#include "smemu/emulator/client.h"
#include "smemu/emulator/service.h"

namespace smemu::http_endpoint {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kTargetHeader = "X-Amz-Target";
constexpr std::string_view kTargetPrefix = "secretsmanager.";
constexpr std::string_view kAmzJson = "application/x-amz-json-1.1";
constexpr std::string_view kAdminPrefix = "/_smemu/";

std::string_view view(boost::beast::string_view text) { return {text.data(), text.size()}; }
boost::beast::string_view beast_view(std::string_view text) { return {text.data(), text.size()}; }

bool is_region_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

// The service's name for `target` ("secretsmanager.<Operation>"), empty when it names none.
std::string_view operation_named(std::string_view target) {
  if (!target.starts_with(kTargetPrefix)) return {};
  target.remove_prefix(kTargetPrefix.size());
  const auto* found = std::find(std::begin(kOperationNames), std::end(kOperationNames), target);
  return found == std::end(kOperationNames) ? std::string_view{} : *found;
}

Error unknown_operation(std::string message) { return make_error(ErrorCode::UnknownOperation, std::move(message)); }

void set_error(Response& response, const Error& error) {
  response.result(static_cast<unsigned>(http_status(error.code)));
  response.set("x-amzn-ErrorType", beast_view(error.name()));
  // The message may quote a client's header or path, which need not be UTF-8.
  response.body() = nlohmann::json{{"__type", error.name()}, {"Message", error.message}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string_view region_from_authorization(std::string_view authorization) {
  constexpr std::string_view kCredential = "Credential=";
  const auto at = authorization.find(kCredential);
  if (at == std::string_view::npos) return {};
  std::string_view scope = authorization.substr(at + kCredential.size());
  scope = scope.substr(0, scope.find_first_of(", "));
  // AKID / DATE / REGION / SERVICE / aws4_request
  std::array<std::string_view, 5> parts;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto slash = scope.find('/');
    if ((slash == std::string_view::npos) != (i + 1 == parts.size())) return {};
    parts[i] = scope.substr(0, slash);
    scope = slash == std::string_view::npos ? std::string_view{} : scope.substr(slash + 1);
  }
  const std::string_view region = parts[2];
  if (region.empty() || !std::all_of(region.begin(), region.end(), is_region_char)) return {};
  return region;
}

Endpoint::Endpoint(Service& service, std::string default_region, std::ostream* log, AdminApi* admin)
    : service_(service), default_region_(std::move(default_region)), log_(log), admin_(admin) {}

bool Endpoint::blocks(const Request& request) const {
  return admin_ != nullptr && AdminApi::may_block(view(request.method_string()), view(request.target()));
}

void Endpoint::answer_admin(const Request& request, Response& response, Outcome& outcome) {
  AdminAnswer answer = admin_->handle(AdminRequest{view(request.method_string()), view(request.target()),
                                                   view(request[http::field::content_type]), request.body()});
  outcome.operation = answer.route;
  outcome.plain_json = true;
  response.result(answer.status);
  if (!answer.allow.empty()) response.set(http::field::allow, beast_view(answer.allow));
  response.body() = std::move(answer.body);
}

Response Endpoint::handle(const Request& request) {
  Outcome outcome;
  Response response{http::status::ok, request.version()};
  try {
    if (admin_ != nullptr && view(request.target()).starts_with(AdminApi::kPrefix)) {
      answer_admin(request, response, outcome);
    } else if (auto result = route(request, outcome)) {
      response.body() = result->dump();
    } else {
      set_error(response, result.error());
    }
  } catch (const std::exception&) {
    // A broken invariant somewhere below; its text may quote the request, so it is not passed on.
    set_error(response, make_error(ErrorCode::InternalServiceError, "smemu failed to process the request."));
  }
  response.keep_alive(request.keep_alive());
  finish(response, outcome);
  if (request.method() == http::verb::head) {
    // A HEAD answer announces the body it leaves out.
    const auto size = response.body().size();
    response.body().clear();
    response.content_length(size);
  }
  return response;
}

Response Endpoint::reject(const Error& error) {
  Response response{http::status::ok, 11};
  set_error(response, error);
  response.keep_alive(false);
  finish(response, Outcome{});
  return response;
}

Result<nlohmann::json> Endpoint::route(const Request& request, Outcome& outcome) {
  std::string_view path = view(request.target());
  path = path.substr(0, path.find('?'));
  if (path.starts_with(kAdminPrefix)) {
    if (path == "/_smemu/health" && request.method() == http::verb::get) {
      outcome.operation = "health";
      outcome.plain_json = true;
      return nlohmann::json{{"status", "ok"}};
    }
    return unknown_operation(fmt::format("smemu has no admin endpoint {} {}.",
                                         view(request.method_string()), path));
  }
  if (path != "/" || request.method() != http::verb::post) {
    return unknown_operation(fmt::format(
        "{} {} is not an operation: AWS JSON 1.1 calls are POST / with an X-Amz-Target header.",
        view(request.method_string()), path));
  }

  const std::string_view region = region_from_authorization(view(request[http::field::authorization]));
  outcome.region = region.empty() ? std::string_view{default_region_} : region;

  const auto target = request.find(beast_view(kTargetHeader));
  if (target == request.end()) return unknown_operation("The request has no X-Amz-Target header.");
  const std::string_view operation = operation_named(view(target->value()));
  if (operation.empty()) return unknown_operation(fmt::format("Unknown operation {}.", view(target->value())));
  outcome.operation = operation;

  nlohmann::json body = nlohmann::json::object();
  if (!request.body().empty()) {
    // The parser rejects ill-formed UTF-8 as well as malformed JSON; its error text is not
    // passed on, as it quotes the body (D19).
    body = nlohmann::json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) {
      return make_error(ErrorCode::Serialization, "The request body is not well-formed JSON in UTF-8.");
    }
  }
  return service_.client(std::string(outcome.region)).call(operation, body);
}

void Endpoint::finish(Response& response, const Outcome& outcome) {
  const std::uint64_t number = requests_.fetch_add(1, std::memory_order_relaxed) + 1;
  response.set("x-amzn-RequestId", fmt::format("00000000-0000-4000-8000-{:012x}", number));
  response.set(http::field::content_type,
               beast_view(outcome.plain_json ? std::string_view{"application/json"} : kAmzJson));
  response.prepare_payload();
  if (log_ == nullptr) return;
  const auto error = response.find("x-amzn-ErrorType");
  const std::string line = fmt::format("smemu: request {} region={} op={} status={}{}{}\n", number,
      outcome.region, outcome.operation, response.result_int(), error == response.end() ? "" : " error=",
      error == response.end() ? std::string_view{} : view(error->value()));
  const std::lock_guard lock(log_mutex_);
  *log_ << line << std::flush;
}

}  // namespace smemu::http_endpoint
