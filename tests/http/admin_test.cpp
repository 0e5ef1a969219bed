// The admin API (/_smemu/, docs/serve.md) in-process over real sockets: each route, bad input
// answered with a JSON error and no change, the clock never moving backwards, rotations that
// came due run before POST /_smemu/clock answers (also those another thread is in the middle
// of), waits for idle, failed and timed out rotations, the event cursor, reset and functions.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/http_client.h"
#include "smemu/emulator/admin_api.h"
#include "smemu/emulator/builtin_functions.h"
#include "smemu/emulator/http_server.h"
#include "smemu/emulator/service.h"

namespace smemu {
namespace {

using test::error_type;
using test::header;
using test::HttpConnection;
using test::HttpRequest;
using test::HttpResponse;
using test::json_of;
namespace http = boost::beast::http;
using nlohmann::json;

constexpr auto kLambda = "arn:aws:lambda:us-east-1:123456789012:function:rot";
constexpr auto kFailing = "arn:aws:lambda:us-east-1:123456789012:function:fails";
constexpr auto kValue = R"({"username":"app","password":"admin-old-password"})";
constexpr double kEpoch = 1767225600.0;  // 2026-01-01T00:00:00Z, where the virtual clock starts

// A Service (on its own virtual clock) behind an HttpServer with an AdminApi, on a free port.
struct Served {
  Served() : admin(service, "us-east-1"), server(service, options(admin)) {
    REQUIRE(service.register_function(kLambda, "builtin:template"));
    REQUIRE(service.register_function(kFailing, "builtin:template?fail_at=setSecret"));
    server.start();
  }
  ~Served() {
    server.stop();
    server.wait();
  }
  static HttpServerOptions options(AdminApi& admin) {
    HttpServerOptions out;
    out.host = "127.0.0.1";
    out.port = 0;
    out.admin = &admin;
    return out;
  }
  HttpConnection connect() const { return HttpConnection(server.port()); }

  Service service;
  AdminApi admin;
  HttpServer server;
};

// Runs the service's due steps on a thread of its own, as `smemu serve`'s worker does.
class Worker {
 public:
  explicit Worker(Service& service)
      : thread_([this, &service] {
          while (!stop_) {
            service.run_until_idle();
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
          }
        }) {}
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

HttpRequest admin_request(http::verb method, std::string target, std::string body = {},
                          std::string_view content_type = "application/json") {
  HttpRequest request{method, std::move(target), 11};
  request.set(http::field::host, "127.0.0.1");
  if (!content_type.empty()) request.set(http::field::content_type, std::string(content_type));
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

HttpResponse get(HttpConnection& connection, std::string target) {
  return connection.send(admin_request(http::verb::get, std::move(target), {}, {}));
}

HttpResponse post(HttpConnection& connection, std::string target, const json& body) {
  return connection.send(admin_request(http::verb::post, std::move(target), body.dump()));
}

double clock_now(HttpConnection& connection) {
  const auto answer = get(connection, "/_smemu/clock");
  REQUIRE(answer.result_int() == 200);
  return json_of(answer)["now"].get<double>();
}

std::string token(int n) { return "00000000-0000-4000-8000-" + std::to_string(100000000000 + n); }

void create(HttpConnection& connection, const std::string& name, int token_number) {
  const auto created = connection.call(
      "CreateSecret", {{"Name", name}, {"SecretString", kValue}, {"ClientRequestToken", token(token_number)}});
  REQUIRE_MESSAGE(created.result_int() == 200, created.body());
}

void rotate(HttpConnection& connection, const std::string& name, const std::string& lambda, int token_number,
            const json& rules = nullptr) {
  json body{{"SecretId", name}, {"ClientRequestToken", token(token_number)}, {"RotationLambdaARN", lambda}};
  if (!rules.is_null()) body["RotationRules"] = rules;
  const auto rotated = connection.call("RotateSecret", body);
  REQUIRE_MESSAGE(rotated.result_int() == 200, rotated.body());
}

json describe(HttpConnection& connection, const std::string& name) {
  const auto described = connection.call("DescribeSecret", {{"SecretId", name}});
  REQUIRE_MESSAGE(described.result_int() == 200, described.body());
  return json_of(described);
}

// A rotation of `described` that ended: AWSCURRENT on `current`, AWSPENDING nowhere else (the
// template function, as AWS's sample, leaves AWSPENDING beside AWSCURRENT), AWSPREVIOUS elsewhere.
std::string holder(const json& described, const std::string& stage);
bool rotated_to(const json& described, const std::string& current) {
  const std::string pending = holder(described, "AWSPENDING");
  const std::string previous = holder(described, "AWSPREVIOUS");
  return holder(described, "AWSCURRENT") == current && (pending.empty() || pending == current) &&
         !previous.empty() && previous != current;
}

// The version that holds `stage`, or "" when none does.
std::string holder(const json& described, const std::string& stage) {
  for (const auto& [version, stages] : described["VersionIdsToStages"].items()) {
    if (std::find(stages.begin(), stages.end(), stage) != stages.end()) return version;
  }
  return {};
}

// An event's sequence number: its eventID, or id in EventBridge's shape, as a decimal string.
std::uint64_t sequence_of(const json& event) {
  return std::stoull(event.contains("eventID") ? event["eventID"].get<std::string>() : event["id"].get<std::string>());
}

std::vector<json> all_events(HttpConnection& connection) {
  const auto answer = get(connection, "/_smemu/events?after=0&limit=100000");
  REQUIRE(answer.result_int() == 200);
  return json_of(answer)["events"].get<std::vector<json>>();
}

std::size_t count_named(const std::vector<json>& events, std::string_view name) {
  return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](const json& event) {
    return event.value("eventName", "") == name;
  }));
}

TEST_CASE("admin: health, GET clock, and the errors for unknown routes, methods and media types") {
  Served served;
  auto connection = served.connect();

  const auto health = get(connection, "/_smemu/health");
  CHECK(health.result_int() == 200);
  CHECK(header(health, "Content-Type") == "application/json");
  CHECK(json_of(health) == json{{"status", "ok"}});
  CHECK(clock_now(connection) == kEpoch);

  const auto unknown = get(connection, "/_smemu/nonesuch");
  CHECK(unknown.result_int() == 404);
  CHECK(error_type(unknown) == "NotFound");

  const auto wrong_method = get(connection, "/_smemu/wait");
  CHECK(wrong_method.result_int() == 405);
  CHECK(error_type(wrong_method) == "MethodNotAllowed");
  CHECK(header(wrong_method, "Allow") == "POST");
  CHECK(header(connection.send(admin_request(http::verb::put, "/_smemu/clock", "{}")), "Allow") == "GET, POST");

  // A browser can send text/plain cross-origin without asking first; the admin API refuses it.
  const auto plain = connection.send(admin_request(http::verb::post, "/_smemu/reset", "{}", "text/plain"));
  CHECK(plain.result_int() == 415);
  CHECK(error_type(plain) == "UnsupportedMediaType");
  const auto none = connection.send(admin_request(http::verb::post, "/_smemu/reset", {}, {}));
  CHECK(none.result_int() == 415);
  const auto with_charset =
      connection.send(admin_request(http::verb::post, "/_smemu/reset", {}, "Application/JSON; charset=utf-8"));
  CHECK(with_charset.result_int() == 200);

  const auto query = get(connection, "/_smemu/health?x=1");
  CHECK(query.result_int() == 400);
  CHECK(error_type(query) == "BadRequest");

  // The connection stays usable after every error, and the AWS API still answers on it.
  CHECK(connection.call("ListSecrets", json::object()).result_int() == 200);
}

TEST_CASE("admin: POST clock moves forward only, and refuses bad bodies without moving") {
  Served served;
  auto connection = served.connect();

  auto advanced = post(connection, "/_smemu/clock", {{"advance_seconds", 90}});
  REQUIRE(advanced.result_int() == 200);
  CHECK(json_of(advanced)["now"].get<double>() == kEpoch + 90);
  advanced = post(connection, "/_smemu/clock", {{"advance_seconds", 0.25}});
  REQUIRE(advanced.result_int() == 200);
  CHECK(json_of(advanced)["now"].get<double>() == kEpoch + 90.25);

  const auto set = post(connection, "/_smemu/clock", {{"set", kEpoch + 3600}});
  REQUIRE(set.result_int() == 200);
  CHECK(json_of(set)["now"].get<double>() == kEpoch + 3600);
  // Setting the time it already is moves nothing and is not an error.
  CHECK(post(connection, "/_smemu/clock", {{"set", kEpoch + 3600}}).result_int() == 200);

  const auto backwards = post(connection, "/_smemu/clock", {{"set", kEpoch}});
  CHECK(backwards.result_int() == 400);
  CHECK(error_type(backwards) == "BadRequest");
  CHECK(json_of(backwards)["Message"].get<std::string>().find("never moves backwards") != std::string::npos);

  for (const json& bad : {json{{"advance_seconds", -1}}, json{{"advance_seconds", "60"}}, json::object(),
                          json{{"advance_seconds", 1}, {"set", kEpoch + 7200}}, json{{"advance", 1}},
                          json{{"set", 1e13}}, json{{"advance_seconds", nullptr}}}) {
    INFO(bad.dump());
    const auto refused = post(connection, "/_smemu/clock", bad);
    CHECK(refused.result_int() == 400);
    CHECK(error_type(refused) == "BadRequest");
  }
  for (const std::string bad : {"{", "[1]", "\"x\"", "{\"set\": 1", "\xff"}) {
    INFO(bad);
    const auto refused = connection.send(admin_request(http::verb::post, "/_smemu/clock", bad));
    CHECK(refused.result_int() == 400);
  }
  CHECK(clock_now(connection) == kEpoch + 3600);
}

TEST_CASE("admin: POST clock answers after every scheduled rotation that came due ran, once per window") {
  Served served;
  auto connection = served.connect();
  create(connection, "scheduled", 1);
  rotate(connection, "scheduled", kLambda, 2, {{"AutomaticallyAfterDays", 1}});
  const std::string original = token(1);

  const auto advanced = post(connection, "/_smemu/clock", {{"advance_seconds", 2 * 86400}});
  REQUIRE(advanced.result_int() == 200);
  const double now = json_of(advanced)["now"].get<double>();
  CHECK(now == kEpoch + 2 * 86400);

  // Checked at once: nothing else drives this service, so only the clock move can have run them.
  const auto described = describe(connection, "scheduled");
  INFO(described.dump());
  const std::string current = holder(described, "AWSCURRENT");
  CHECK(rotated_to(described, current));
  CHECK(current != original);
  CHECK(current != token(2));  // the immediate rotation ran, and a scheduled one after it
  CHECK(described["NextRotationDate"].get<double>() > now);
  REQUIRE(served.service.next_due().has_value());
  CHECK(epoch_ms(*served.service.next_due()) > static_cast<std::int64_t>(now * 1000));

  const auto events = all_events(connection);
  const std::size_t started = count_named(events, "RotationStarted");
  CHECK(count_named(events, "RotationSucceeded") == started);
  // The immediate rotation, and one per daily window passed: two days cross at most two windows.
  CHECK(started >= 2);
  CHECK(started <= 3);
  std::string previous_time;
  for (const auto& event : events) {
    // CloudTrail's eventTime, or EventBridge's time for label moves (docs/events.md).
    const std::string time = event.value("eventTime", event.value("time", ""));
    CHECK(time >= previous_time);  // in due order
    previous_time = time;
  }

  // Several missed windows run once each: ten more days, about ten more rotations, not one.
  const auto later = post(connection, "/_smemu/clock", {{"advance_seconds", 10 * 86400}});
  REQUIRE(later.result_int() == 200);
  const std::size_t more = count_named(all_events(connection), "RotationSucceeded") - started;
  CHECK(more >= 9);
  CHECK(more <= 11);
}

TEST_CASE("admin: POST clock waits for a step another thread is in the middle of") {
  Served served;
  // The template function, slowed down in createSecret, so the worker is mid-step when the
  // clock request arrives.
  auto made = make_builtin_function("builtin:template", served.service.database());
  REQUIRE(made);
  constexpr auto kSlow = "arn:aws:lambda:us-east-1:123456789012:function:slow";
  served.service.register_function(
      kSlow,
      [function = made->function](const RotationEvent& event, Client& client) {
        if (event.step == "createSecret") std::this_thread::sleep_for(std::chrono::milliseconds(300));
        return function(event, client);
      },
      made->options);
  Worker worker(served.service);
  auto connection = served.connect();
  create(connection, "slow", 1);
  rotate(connection, "slow", kSlow, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the worker has started createSecret

  const auto settled = post(connection, "/_smemu/clock", {{"advance_seconds", 0}});
  REQUIRE(settled.result_int() == 200);
  const auto described = describe(connection, "slow");
  INFO(described.dump());
  CHECK(rotated_to(described, token(2)));
}

TEST_CASE("admin: wait answers idle, failed with retry_at while a D1 re-attempt is queued, and 408") {
  Served served;
  auto connection = served.connect();
  create(connection, "quiet", 1);
  create(connection, "failing", 2);
  create(connection, "queued", 3);

  auto waited = post(connection, "/_smemu/wait", {{"SecretId", "quiet"}, {"timeout_seconds", 1}});
  REQUIRE(waited.result_int() == 200);
  CHECK(json_of(waited) == json{{"state", "idle"}});

  // Nothing runs the queued rotation (no worker, no clock move): it stays in flight.
  rotate(connection, "queued", kLambda, 4);
  const auto before = std::chrono::steady_clock::now();
  waited = post(connection, "/_smemu/wait", {{"SecretId", "queued"}, {"timeout_seconds", 0.3}});
  CHECK(std::chrono::steady_clock::now() - before >= std::chrono::milliseconds(300));
  CHECK(waited.result_int() == 408);
  CHECK(error_type(waited) == "RequestTimeout");

  rotate(connection, "failing", kFailing, 5);
  REQUIRE(post(connection, "/_smemu/clock", {{"advance_seconds", 0}}).result_int() == 200);
  waited = post(connection, "/_smemu/wait", {{"SecretId", "failing"}});
  REQUIRE(waited.result_int() == 200);
  CHECK(json_of(waited) == json{{"state", "failed"}, {"retry_at", kEpoch + 3600}});
  // The ARN works as well as the name; the D1 re-attempts fail too, and the last leaves none queued.
  const std::string arn = describe(connection, "failing")["ARN"];
  REQUIRE(post(connection, "/_smemu/clock", {{"advance_seconds", 3 * 3600}}).result_int() == 200);
  waited = post(connection, "/_smemu/wait", {{"SecretId", arn}});
  REQUIRE(waited.result_int() == 200);
  CHECK(json_of(waited) == json{{"state", "failed"}});

  const auto unknown = post(connection, "/_smemu/wait", {{"SecretId", "nonesuch"}});
  CHECK(unknown.result_int() == 400);
  CHECK(error_type(unknown) == "ResourceNotFoundException");
  const auto other_region = post(connection, "/_smemu/wait", {{"SecretId", "quiet"}, {"Region", "eu-west-1"}});
  CHECK(error_type(other_region) == "ResourceNotFoundException");
  for (const json& bad : {json::object(), json{{"SecretId", ""}}, json{{"SecretId", 7}},
                          json{{"SecretId", "quiet"}, {"timeout_seconds", -1}},
                          json{{"SecretId", "quiet"}, {"timeout_seconds", 3601}},
                          json{{"SecretId", "quiet"}, {"extra", 1}}}) {
    INFO(bad.dump());
    const auto refused = post(connection, "/_smemu/wait", bad);
    CHECK(refused.result_int() == 400);
    CHECK(error_type(refused) == "BadRequest");
  }
}

TEST_CASE("admin: wait wakes when a worker finishes the rotation, and the labels have moved") {
  Served served;
  Worker worker(served.service);
  auto connection = served.connect();
  create(connection, "worked", 1);
  rotate(connection, "worked", kLambda, 2);
  const auto waited = post(connection, "/_smemu/wait", {{"SecretId", "worked"}, {"timeout_seconds", 10}});
  REQUIRE(waited.result_int() == 200);
  CHECK(json_of(waited) == json{{"state", "idle"}});
  const auto described = describe(connection, "worked");
  CHECK(rotated_to(described, token(2)));
}

TEST_CASE("admin: a wait in progress ends with 503 when the server shuts down") {
  auto served = std::make_unique<Served>();
  auto connection = served->connect();
  create(connection, "queued", 1);
  rotate(connection, "queued", kLambda, 2);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    served->admin.shutdown();
  });
  const auto before = std::chrono::steady_clock::now();
  const auto waited = post(connection, "/_smemu/wait", {{"SecretId", "queued"}, {"timeout_seconds", 60}});
  stopper.join();
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(30));
  CHECK(waited.result_int() == 503);
  CHECK(error_type(waited) == "ServiceUnavailable");
}

TEST_CASE("admin: events read on from a cursor") {
  Served served;
  auto connection = served.connect();
  auto answer = get(connection, "/_smemu/events");
  REQUIRE(answer.result_int() == 200);
  CHECK(json_of(answer) == json{{"events", json::array()}, {"cursor", 0}});

  create(connection, "one", 1);
  create(connection, "two", 2);
  answer = get(connection, "/_smemu/events?after=0");
  REQUIRE(answer.result_int() == 200);
  auto body = json_of(answer);
  const auto listed = body["events"].get<std::vector<json>>();
  // Each CreateSecret, and the Secret Label Updated event of its AWSCURRENT, in sequence.
  CHECK(count_named(listed, "CreateSecret") == 2);
  REQUIRE(listed.size() == 4);
  for (std::size_t i = 0; i < listed.size(); ++i) CHECK(sequence_of(listed[i]) == i + 1);
  const auto cursor = body["cursor"].get<std::uint64_t>();
  CHECK(cursor == sequence_of(listed.back()));

  answer = get(connection, "/_smemu/events?after=" + std::to_string(cursor));
  CHECK(json_of(answer) == json{{"events", json::array()}, {"cursor", cursor}});
  create(connection, "three", 3);
  body = json_of(get(connection, "/_smemu/events?after=" + std::to_string(cursor)));
  const auto after_cursor = body["events"].get<std::vector<json>>();
  REQUIRE(count_named(after_cursor, "CreateSecret") == 1);
  const auto created = std::find_if(after_cursor.begin(), after_cursor.end(),
                                    [](const json& event) { return event.value("eventName", "") == "CreateSecret"; });
  CHECK((*created)["requestParameters"].value("secretId", "").find(":secret:three-") != std::string::npos);
  CHECK(sequence_of(body["events"][0]) == cursor + 1);
  CHECK(body["cursor"].get<std::uint64_t>() == sequence_of(body["events"].back()));

  body = json_of(get(connection, "/_smemu/events?limit=1"));
  CHECK(body["events"].size() == 1);
  CHECK(body["cursor"].get<std::uint64_t>() == sequence_of(body["events"][0]));

  for (const std::string bad : {"after=x", "after=-1", "after=", "limit=0", "limit=100001", "after=1&after=2",
                                "since=1"}) {
    INFO(bad);
    const auto refused = get(connection, "/_smemu/events?" + bad);
    CHECK(refused.result_int() == 400);
    CHECK(error_type(refused) == "BadRequest");
  }
}

TEST_CASE("admin: functions registers a spec; reset empties the state but keeps functions and the clock") {
  Served served;
  auto connection = served.connect();
  constexpr auto kAdded = "arn:aws:lambda:us-east-1:123456789012:function:added";
  create(connection, "target", 1);

  // Not registered yet: RotateSecret cannot invoke it (spec 5.2 check 6).
  auto rotated = connection.call("RotateSecret",
                                 {{"SecretId", "target"}, {"ClientRequestToken", token(2)}, {"RotationLambdaARN", kAdded}});
  CHECK(error_type(rotated) == "AccessDeniedException");

  const auto added = post(connection, "/_smemu/functions", {{"arn", kAdded}, {"spec", "builtin:template"}});
  REQUIRE(added.result_int() == 200);
  CHECK(json_of(added) == json{{"arn", kAdded}});
  rotate(connection, "target", kAdded, 2);
  REQUIRE(post(connection, "/_smemu/clock", {{"advance_seconds", 60}}).result_int() == 200);
  CHECK(rotated_to(describe(connection, "target"), token(2)));

  const auto bad_spec = post(connection, "/_smemu/functions", {{"arn", kAdded}, {"spec", "builtin:nonesuch"}});
  CHECK(bad_spec.result_int() == 400);
  CHECK(error_type(bad_spec) == "InvalidParameterException");
  for (const json& bad : {json{{"arn", kAdded}}, json{{"spec", "builtin:template"}},
                          json{{"arn", ""}, {"spec", "builtin:template"}},
                          json{{"arn", kAdded}, {"spec", "builtin:template"}, {"x", 1}}}) {
    INFO(bad.dump());
    CHECK(error_type(post(connection, "/_smemu/functions", bad)) == "BadRequest");
  }
  served.admin.allow_process_functions(false);
  const auto forbidden = post(connection, "/_smemu/functions", {{"arn", kAdded}, {"spec", "exec:true"}});
  CHECK(forbidden.result_int() == 403);
  CHECK(error_type(forbidden) == "Forbidden");
  CHECK(post(connection, "/_smemu/functions", {{"arn", kAdded}, {"spec", "builtin:template"}}).result_int() == 200);

  // Queue a rotation that nothing has run yet, then reset: the secret and its queued work go.
  create(connection, "pending", 3);
  rotate(connection, "pending", kLambda, 4);
  const double before = clock_now(connection);
  CHECK(error_type(post(connection, "/_smemu/reset", {{"x", 1}})) == "BadRequest");
  const auto reset = post(connection, "/_smemu/reset", json::object());
  REQUIRE(reset.result_int() == 200);
  CHECK(json_of(reset) == json{{"status", "ok"}});
  CHECK(json_of(connection.call("ListSecrets", {{"IncludePlannedDeletion", true}}))["SecretList"].empty());
  CHECK(!served.service.next_due().has_value());
  CHECK(served.service.database().snapshot().empty());
  CHECK(clock_now(connection) == before);
  CHECK(error_type(post(connection, "/_smemu/wait", {{"SecretId", "pending"}})) == "ResourceNotFoundException");
  // The name is free again, and the registered functions still run.
  create(connection, "target", 5);
  rotate(connection, "target", kAdded, 6);
  REQUIRE(post(connection, "/_smemu/clock", {{"advance_seconds", 0}}).result_int() == 200);
  CHECK(rotated_to(describe(connection, "target"), token(6)));
}

TEST_CASE("admin: without an AdminApi the server still answers health, and nothing else under /_smemu/") {
  Service service;
  HttpServerOptions options;
  options.host = "127.0.0.1";
  HttpServer server(service, options);
  server.start();
  HttpConnection connection(server.port());
  CHECK(json_of(get(connection, "/_smemu/health")) == json{{"status", "ok"}});
  CHECK(error_type(get(connection, "/_smemu/clock")) == "UnknownOperationException");
  server.stop();
  server.wait();
}

}  // namespace
}  // namespace smemu
