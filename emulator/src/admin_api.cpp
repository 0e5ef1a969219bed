#include "smemu/emulator/admin_api.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "smemu/emulator/service.h"
#include "smemu/model/rotation.h"
#include "smemu/model/secret.h"

namespace smemu {
namespace {

using nlohmann::json;

// The latest time the clock may be moved to: 9999-12-31T23:59:59Z, the last second an ISO-8601
// timestamp (events, DescribeSecret dates) can show.
constexpr std::int64_t kMaxEpochSeconds = 253'402'300'799;
constexpr std::int64_t kDefaultWaitSeconds = 30;
constexpr std::int64_t kMaxWaitSeconds = 3600;
constexpr std::uint64_t kDefaultEventLimit = 1000;
constexpr std::uint64_t kMaxEventLimit = 100'000;

struct Route {
  std::string_view path;
  std::string_view name;
  std::string_view methods;  // as an Allow header lists them
};

constexpr std::array kRoutes{
    Route{"/_smemu/health", "health", "GET"},
    Route{"/_smemu/clock", "clock", "GET, POST"},
    Route{"/_smemu/events", "events", "GET"},
    Route{"/_smemu/wait", "wait", "POST"},
    Route{"/_smemu/functions", "functions", "POST"},
    Route{"/_smemu/reset", "reset", "POST"},
};

bool takes(const Route& route, std::string_view method) {
  std::string_view methods = route.methods;
  while (!methods.empty()) {
    const auto comma = methods.find(", ");
    if (methods.substr(0, comma) == method) return true;
    methods = comma == std::string_view::npos ? std::string_view{} : methods.substr(comma + 2);
  }
  return false;
}

std::string dump(const json& value) {
  // Messages may quote a SecretId or a query as given, which need not be UTF-8.
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

AdminAnswer answer(json body) {
  AdminAnswer out;
  out.body = dump(body);
  return out;
}

AdminAnswer error(unsigned status, std::string_view type, std::string message) {
  AdminAnswer out;
  out.status = status;
  out.body = dump(json{{"__type", type}, {"Message", std::move(message)}});
  return out;
}

AdminAnswer bad_request(std::string message) { return error(400, "BadRequest", std::move(message)); }

AdminAnswer aws_error(const Error& failure) {
  return error(static_cast<unsigned>(http_status(failure.code)), failure.name(), failure.message);
}

double epoch_seconds(Timestamp time) { return static_cast<double>(epoch_ms(time)) / 1000.0; }

// A JSON number of seconds in [0, kMaxEpochSeconds] as milliseconds (rounded); nullopt otherwise.
std::optional<std::int64_t> milliseconds_of(const json& value) {
  if (!value.is_number()) return std::nullopt;
  const double seconds = value.get<double>();
  if (!std::isfinite(seconds) || seconds < 0 || seconds > static_cast<double>(kMaxEpochSeconds)) return std::nullopt;
  return std::llround(seconds * 1000.0);
}

// A POST body: a JSON object (an empty body reads as {}) whose members are all in `allowed`; the
// answer to give instead when it is not one.
std::optional<AdminAnswer> read_object(std::string_view body, std::initializer_list<std::string_view> allowed,
                                       json& out) {
  out = json::object();
  if (!body.empty()) {
    out = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (out.is_discarded()) return bad_request("The request body is not well-formed JSON in UTF-8.");
    if (!out.is_object()) return bad_request("The request body must be a JSON object.");
  }
  for (const auto& [key, value] : out.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string names;
      for (const auto name : allowed) names += (names.empty() ? "" : ", ") + std::string(name);
      return bad_request(fmt::format("Unknown member \"{}\"; this route takes {}.", key,
                                     names.empty() ? std::string("none") : names));
    }
  }
  return std::nullopt;
}

// A non-empty string member, or the answer to give when it is missing or not one.
std::optional<AdminAnswer> read_string(const json& object, std::string_view name, std::string& out) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return bad_request(fmt::format("\"{}\" must be a non-empty string.", name));
  }
  out = it->get<std::string>();
  return std::nullopt;
}

// The events query: after=CURSOR and limit=N, each at most once, decimal.
std::optional<AdminAnswer> read_events_query(std::string_view query, std::uint64_t& after, std::uint64_t& limit) {
  bool seen_after = false;
  bool seen_limit = false;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto equals = pair.find('=');
    const std::string_view key = pair.substr(0, equals);
    const std::string_view text = equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1);
    const bool is_after = key == "after";
    if (!is_after && key != "limit") {
      return bad_request(fmt::format("Unknown query parameter \"{}\"; /_smemu/events takes after and limit.", key));
    }
    bool& seen = is_after ? seen_after : seen_limit;
    if (seen) return bad_request(fmt::format("The query parameter \"{}\" is given twice.", key));
    seen = true;
    std::uint64_t number = 0;
    bool digits = !text.empty() && text.size() <= 19;
    for (const char c : text) {
      digits = digits && c >= '0' && c <= '9';
      if (digits) number = number * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (is_after) {
      if (!digits) return bad_request("after must be an event cursor: a whole number, 0 for the first event.");
      after = number;
    } else {
      if (!digits || number == 0 || number > kMaxEventLimit) {
        return bad_request(fmt::format("limit must be a whole number from 1 to {}.", kMaxEventLimit));
      }
      limit = number;
    }
  }
  return std::nullopt;
}

// Whether `content_type` is application/json, with or without parameters (charset=utf-8).
bool is_json_media_type(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  constexpr std::string_view kJson = "application/json";
  return type.size() == kJson.size() && std::equal(type.begin(), type.end(), kJson.begin(), [](char a, char b) {
           return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
         });
}

// The region of an ARN (arn:PARTITION:secretsmanager:REGION:...); empty when `id` is none.
std::string_view arn_region(std::string_view id) {
  if (!id.starts_with("arn:")) return {};
  std::size_t start = 0;
  for (int field = 0; field < 3; ++field) {
    start = id.find(':', start);
    if (start == std::string_view::npos) return {};
    ++start;
  }
  const auto end = id.find(':', start);
  return end == std::string_view::npos ? std::string_view{} : id.substr(start, end - start);
}

}  // namespace

struct AdminApi::Signal {
  std::mutex mutex;
  std::condition_variable changed;
  std::uint64_t generation = 0;  // under mutex
  bool stopping = false;         // under mutex

  void bump() {
    {
      std::lock_guard lock(mutex);
      ++generation;
    }
    changed.notify_all();
  }
};

AdminApi::AdminApi(Service& service, std::string default_region)
    : service_(service), default_region_(std::move(default_region)), signal_(std::make_shared<Signal>()) {}

AdminApi::~AdminApi() = default;

bool AdminApi::may_block(std::string_view method, std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return method == "POST" && (path == "/_smemu/clock" || path == "/_smemu/wait");
}

void AdminApi::shutdown() {
  {
    std::lock_guard lock(signal_->mutex);
    signal_->stopping = true;
  }
  signal_->changed.notify_all();
}

void AdminApi::wake_waits() { signal_->bump(); }

AdminAnswer AdminApi::handle(const AdminRequest& request) {
  const auto question = request.target.find('?');
  const std::string_view path = request.target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view{} : request.target.substr(question + 1);
  const auto* route = std::find_if(kRoutes.begin(), kRoutes.end(), [&](const Route& r) { return r.path == path; });
  if (route == kRoutes.end()) {
    return error(404, "NotFound", fmt::format("smemu has no admin route {}; docs/serve.md lists them.", path));
  }
  AdminAnswer out = [&] {
    if (!takes(*route, request.method)) {
      auto refused = error(405, "MethodNotAllowed", fmt::format("{} takes {}, not {}.", path, route->methods,
                                                                request.method));
      refused.allow = route->methods;
      return refused;
    }
    if (request.method == "POST" && !is_json_media_type(request.content_type)) {
      return error(415, "UnsupportedMediaType", "A POST to /_smemu/ must have Content-Type: application/json.");
    }
    if (route->name == "events") return events(query);
    if (!query.empty()) return bad_request(fmt::format("{} takes no query parameters.", path));
    if (route->name == "health") return answer({{"status", "ok"}});
    if (route->name == "clock") return clock(request);
    if (route->name == "wait") return wait(request.body);
    if (route->name == "functions") return functions(request.body);
    return reset(request.body);
  }();
  out.route = route->name;
  return out;
}

AdminAnswer AdminApi::clock(const AdminRequest& request) {
  if (request.method == "GET") return answer({{"now", epoch_seconds(service_.clock().now())}});
  json body;
  if (auto bad = read_object(request.body, {"advance_seconds", "set"}, body)) return *bad;
  const bool advance = body.contains("advance_seconds");
  if (advance == body.contains("set")) {
    return bad_request("POST /_smemu/clock takes {\"advance_seconds\": SECONDS} or {\"set\": EPOCH_SECONDS}.");
  }
  if (dynamic_cast<MovableClock*>(&service_.clock()) == nullptr) {
    return error(500, "InternalServiceError", "This service's clock cannot be moved.");
  }
  const auto ms = milliseconds_of(advance ? body["advance_seconds"] : body["set"]);
  const auto now = service_.clock().now();
  if (!ms) {
    return bad_request(advance ? fmt::format("advance_seconds must be a number of seconds from 0 to {}: the "
                                             "clock never moves backwards.", kMaxEpochSeconds)
                               : fmt::format("set must be a time in seconds since 1970-01-01T00:00:00Z, from 0 "
                                             "to {}.", kMaxEpochSeconds));
  }
  const Timestamp target = advance ? now + Duration{*ms} : from_epoch_ms(*ms);
  if (epoch_ms(target) > kMaxEpochSeconds * 1000) {
    return bad_request(fmt::format("The clock cannot move past {} (9999-12-31T23:59:59Z).", kMaxEpochSeconds));
  }
  const bool moved = service_.advance_to(target);
  if (!moved && !advance) {
    return bad_request(fmt::format("set {:.3f} is before the clock's time {:.3f}: the clock never moves "
                                   "backwards.", epoch_seconds(target), epoch_seconds(service_.clock().now())));
  }
  // Real time (SystemClock) may have passed an advance's target already: what is due still runs.
  if (!moved) service_.settle();
  wake_waits();
  return answer({{"now", epoch_seconds(service_.clock().now())}});
}

AdminAnswer AdminApi::events(std::string_view query) {
  std::uint64_t after = 0;
  std::uint64_t limit = kDefaultEventLimit;
  if (auto bad = read_events_query(query, after, limit)) return *bad;
  const auto read = service_.events().read(after, limit);
  json list = json::array();
  for (const auto& event : read) list.push_back(to_json(event));
  return answer({{"events", std::move(list)}, {"cursor", read.empty() ? after : read.back().sequence}});
}

AdminAnswer AdminApi::wait(std::string_view body_text) {
  json body;
  if (auto bad = read_object(body_text, {"SecretId", "timeout_seconds", "Region"}, body)) return *bad;
  std::string secret_id;
  if (auto bad = read_string(body, "SecretId", secret_id)) return *bad;
  std::string region = default_region_;
  if (body.contains("Region")) {
    if (auto bad = read_string(body, "Region", region)) return *bad;
  }
  if (const auto from_arn = arn_region(secret_id); !from_arn.empty()) region = std::string(from_arn);
  std::int64_t timeout_ms = kDefaultWaitSeconds * 1000;
  if (body.contains("timeout_seconds")) {
    const auto ms = milliseconds_of(body["timeout_seconds"]);
    if (!ms || *ms > kMaxWaitSeconds * 1000) {
      return bad_request(fmt::format("timeout_seconds must be a number of seconds from 0 to {}.", kMaxWaitSeconds));
    }
    timeout_ms = *ms;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);

  // Every change that can end a rotation's flight records an event (RotationSucceeded,
  // RotationFailed, RotationAbandoned, or the API call that cancelled or deleted), so waking on
  // each event (and on reset, clock moves and shutdown) misses none; the subscription lasts only
  // as long as this wait, so the log pays nothing while nobody waits.
  const auto signal = signal_;
  const auto subscription = service_.events().subscribe([signal](const Event&) { signal->bump(); });
  struct Unsubscribe {
    EventLog& log;
    std::uint64_t id;
    ~Unsubscribe() { log.unsubscribe(id); }
  } unsubscribe{service_.events(), subscription};

  std::unique_lock lock(signal->mutex);
  for (;;) {
    if (signal->stopping) return error(503, "ServiceUnavailable", "smemu is shutting down.");
    const auto generation = signal->generation;
    lock.unlock();
    bool found = false;
    std::optional<model::RotationRun> run;
    service_.inspect(region, secret_id, [&](const model::Secret* secret) {
      found = secret != nullptr;
      if (secret) run = secret->run();
    });
    if (!found) return aws_error(Error{ErrorCode::ResourceNotFound, std::string(msg::kSecretNotFound)});
    using Phase = model::RotationRun::Phase;
    if (!run) return answer({{"state", "idle"}});
    if (run->phase == Phase::kRetry) return answer({{"state", "failed"}, {"retry_at", epoch_seconds(run->due)}});
    if (run->phase == Phase::kStuck) return answer({{"state", "failed"}});
    lock.lock();
    if (!signal->changed.wait_until(lock, deadline,
                                    [&] { return signal->stopping || signal->generation != generation; })) {
      return error(408, "RequestTimeout",
                   fmt::format("A step of the rotation of {} is still running or queued after {:.3f} seconds.",
                               secret_id, static_cast<double>(timeout_ms) / 1000.0));
    }
  }
}

AdminAnswer AdminApi::functions(std::string_view body_text) {
  json body;
  if (auto bad = read_object(body_text, {"arn", "spec"}, body)) return *bad;
  std::string arn;
  std::string spec;
  if (auto bad = read_string(body, "arn", arn)) return *bad;
  if (auto bad = read_string(body, "spec", spec)) return *bad;
  if (!process_functions_.load() && !spec.starts_with("builtin:")) {
    return error(403, "Forbidden", "This server listens beyond loopback, so the admin API registers builtin: "
                                   "functions only; give exec: and python: ones to smemu serve with --function "
                                   "or --functions.");
  }
  if (auto registered = service_.register_function(arn, spec); !registered) return aws_error(registered.error());
  return answer({{"arn", arn}});
}

AdminAnswer AdminApi::reset(std::string_view body_text) {
  json body;
  if (auto bad = read_object(body_text, {}, body)) return *bad;
  service_.reset();
  wake_waits();
  return answer({{"status", "ok"}});
}

}  // namespace smemu
