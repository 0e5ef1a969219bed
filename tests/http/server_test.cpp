// The HTTP endpoint in-process, over real sockets on 127.0.0.1: the AWS JSON 1.1 wire format,
// keep-alive and concurrency, the region from the credential scope, and bad input that is
// answered without crashing or changing anything.
#include <doctest/doctest.h>

#include <boost/beast/http/write.hpp>  // operator<< for messages

#include <atomic>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "http/http_client.h"
#include "smemu/emulator/http_server.h"
#include "smemu/emulator/service.h"

namespace smemu {
namespace {

using test::aws_request;
using test::aws_request_text;
using test::error_type;
using test::header;
using test::HttpConnection;
using test::HttpRequest;
using test::HttpResponse;
using test::json_of;

constexpr std::string_view kAmzJson = "application/x-amz-json-1.1";

// A Service behind an HttpServer on a free port of 127.0.0.1, serving until destroyed.
struct Served {
  explicit Served(HttpServerOptions options = {}) : server(service, with_log(std::move(options))) { server.start(); }
  ~Served() {
    server.stop();
    server.wait();
  }
  HttpServerOptions with_log(HttpServerOptions options) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.log = &log;
    return options;
  }
  HttpConnection connect() const { return HttpConnection(server.port()); }

  Service service;
  std::ostringstream log;
  HttpServer server;
};

std::string token(int n) { return "00000000-0000-4000-8000-" + std::to_string(100000000000 + n); }

HttpResponse create_secret(HttpConnection& connection, const std::string& name, const std::string& value,
                           std::string_view region = {}) {
  static std::atomic<int> tokens{0};
  return connection.call("CreateSecret",
                         {{"Name", name}, {"SecretString", value}, {"ClientRequestToken", token(++tokens)}}, region);
}

std::string to_wire(const HttpRequest& request) {
  std::ostringstream out;
  out << request;
  return out.str();
}

// Everything a client can read in both regions the tests use: ListSecrets, and for each secret
// DescribeSecret, GetSecretValue and ListSecretVersionIds, each as status and body.
nlohmann::json snapshot(std::uint16_t port) {
  HttpConnection connection(port);
  nlohmann::json state;
  auto record = [](const HttpResponse& response) {
    return nlohmann::json{{"status", response.result_int()}, {"body", json_of(response)}};
  };
  for (const std::string region : {"us-east-1", "us-west-2"}) {
    const HttpResponse list = connection.call("ListSecrets", {{"IncludePlannedDeletion", true}}, region);
    REQUIRE(list.result_int() == 200);
    const nlohmann::json listed = json_of(list);
    state[region]["ListSecrets"] = listed;
    for (const auto& secret : listed["SecretList"]) {
      const nlohmann::json id{{"SecretId", secret["ARN"]}};
      const std::string arn = secret["ARN"];
      state[region][arn]["DescribeSecret"] = record(connection.call("DescribeSecret", id, region));
      state[region][arn]["GetSecretValue"] = record(connection.call("GetSecretValue", id, region));
      nlohmann::json versions = id;
      versions["IncludeDeprecated"] = true;
      state[region][arn]["ListSecretVersionIds"] = record(connection.call("ListSecretVersionIds", versions, region));
    }
  }
  return state;
}

TEST_CASE("a call is answered with the operation's JSON, the AWS content type and a request id") {
  Served served;
  auto connection = served.connect();
  const HttpResponse created = create_secret(connection, "app/db", "hunter2");
  REQUIRE(created.result_int() == 200);
  CHECK(header(created, "Content-Type") == kAmzJson);
  CHECK(!header(created, "x-amzn-RequestId").empty());
  CHECK(header(created, "x-amzn-ErrorType").empty());
  CHECK(json_of(created)["Name"] == "app/db");

  const HttpResponse value = connection.call("GetSecretValue", {{"SecretId", "app/db"}});
  REQUIRE(value.result_int() == 200);
  CHECK(json_of(value)["SecretString"] == "hunter2");
  CHECK(json_of(value)["ARN"] == json_of(created)["ARN"]);
  CHECK(header(value, "x-amzn-RequestId") != header(created, "x-amzn-RequestId"));
}

TEST_CASE("an error has the table's status, __type, Message and x-amzn-ErrorType") {
  Served served;
  auto connection = served.connect();
  const HttpResponse missing = connection.call("DescribeSecret", {{"SecretId", "nope"}});
  CHECK(missing.result_int() == 400);
  CHECK(header(missing, "Content-Type") == kAmzJson);
  CHECK(header(missing, "x-amzn-ErrorType") == "ResourceNotFoundException");
  CHECK(!header(missing, "x-amzn-RequestId").empty());
  CHECK(json_of(missing) ==
        nlohmann::json{{"__type", "ResourceNotFoundException"}, {"Message", msg::kSecretNotFound}});
}

TEST_CASE("an empty body reads as {}") {
  Served served;
  auto connection = served.connect();
  REQUIRE(create_secret(connection, "listed", "v").result_int() == 200);
  const HttpResponse list = connection.send(aws_request_text("ListSecrets", std::string()));
  REQUIRE(list.result_int() == 200);
  REQUIRE(json_of(list)["SecretList"].size() == 1);
  CHECK(json_of(list)["SecretList"][0]["Name"] == "listed");
}

TEST_CASE("keep-alive: many requests on one connection, until the client asks to close") {
  Served served;
  auto connection = served.connect();
  for (int i = 0; i < 10; ++i) {
    const HttpResponse created = create_secret(connection, "kept/" + std::to_string(i), "v" + std::to_string(i));
    REQUIRE(created.result_int() == 200);
    CHECK(created.keep_alive());
    const HttpResponse value = connection.call("GetSecretValue", {{"SecretId", "kept/" + std::to_string(i)}});
    REQUIRE(value.result_int() == 200);
    CHECK(json_of(value)["SecretString"] == "v" + std::to_string(i));
  }
  // Errors keep the connection too.
  CHECK(connection.call("DescribeSecret", {{"SecretId", "nope"}}).keep_alive());
  CHECK(connection.call("ListSecrets", nlohmann::json::object()).result_int() == 200);

  SUBCASE("Connection: close") {
    HttpRequest request = aws_request("ListSecrets", nlohmann::json::object());
    request.keep_alive(false);
    const HttpResponse last = connection.send(request);
    CHECK(last.result_int() == 200);
    CHECK(!last.keep_alive());
    CHECK(connection.closed_by_peer());
  }
  SUBCASE("HTTP/1.0 without keep-alive") {
    HttpRequest request = aws_request("ListSecrets", nlohmann::json::object());
    request.version(10);
    const HttpResponse last = connection.send(request);
    CHECK(last.result_int() == 200);
    CHECK(!last.keep_alive());
    CHECK(connection.closed_by_peer());
  }
}

TEST_CASE("several connections are served at once") {
  Served served({.threads = 2});
  constexpr int kConnections = 12;
  constexpr int kPerConnection = 15;
  // Every connection is open before any sends: a server that served one connection at a time
  // would never get past the first.
  std::vector<std::unique_ptr<HttpConnection>> connections;
  for (int c = 0; c < kConnections; ++c) connections.push_back(std::make_unique<HttpConnection>(served.server.port()));

  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kConnections; ++c) {
    // Counted, not checked: doctest's assertions are for the test's own thread.
    clients.emplace_back([&, c] {
      try {
        for (int i = 0; i < kPerConnection; ++i) {
          const std::string name = "conn" + std::to_string(c) + "/secret" + std::to_string(i);
          if (create_secret(*connections[c], name, name).result_int() != 200) return;
          const HttpResponse value = connections[c]->call("GetSecretValue", {{"SecretId", name}});
          if (value.result_int() != 200 || json_of(value)["SecretString"] != name) return;
          ++answered;
        }
      } catch (const std::exception&) {
        // A timeout or a body that is not JSON: the count comes up short.
      }
    });
  }
  for (auto& client : clients) client.join();
  CHECK(answered == kConnections * kPerConnection);

  auto connection = served.connect();
  std::size_t listed = 0;
  nlohmann::json request = nlohmann::json::object();
  for (;;) {
    const HttpResponse page = connection.call("ListSecrets", request);
    REQUIRE(page.result_int() == 200);
    listed += json_of(page)["SecretList"].size();
    if (!json_of(page).contains("NextToken")) break;
    request["NextToken"] = json_of(page)["NextToken"];
  }
  CHECK(listed == kConnections * kPerConnection);
}

TEST_CASE("the region comes from the SigV4 credential scope, else the server's default") {
  SUBCASE("credential scope") {
    Served served;
    auto connection = served.connect();
    const HttpResponse created = create_secret(connection, "west", "v", "us-west-2");
    REQUIRE(created.result_int() == 200);
    CHECK(json_of(created)["ARN"].get<std::string>().starts_with(
        "arn:aws:secretsmanager:us-west-2:123456789012:secret:west-"));

    CHECK(connection.call("DescribeSecret", {{"SecretId", "west"}}, "us-west-2").result_int() == 200);
    CHECK(error_type(connection.call("DescribeSecret", {{"SecretId", "west"}})) == "ResourceNotFoundException");
    CHECK(error_type(connection.call("DescribeSecret", {{"SecretId", "west"}}, "us-east-1")) ==
          "ResourceNotFoundException");
    CHECK(json_of(connection.call("ListSecrets", nlohmann::json::object(), "us-east-1"))["SecretList"].empty());
    const auto west = json_of(connection.call("ListSecrets", nlohmann::json::object(), "us-west-2"))["SecretList"];
    REQUIRE(west.size() == 1);
    CHECK(west[0]["Name"] == "west");

    // An Authorization header without a well-formed credential scope names no region.
    HttpRequest unsigned_request = aws_request("DescribeSecret", nlohmann::json{{"SecretId", "west"}});
    unsigned_request.set(test::http::field::authorization, "AWS4-HMAC-SHA256 Credential=AKID/us-west-2");
    CHECK(error_type(connection.send(unsigned_request)) == "ResourceNotFoundException");
  }
  SUBCASE("the server's default region") {
    Served served({.default_region = "eu-central-1"});
    auto connection = served.connect();
    const HttpResponse created = create_secret(connection, "home", "v");
    REQUIRE(created.result_int() == 200);
    CHECK(json_of(created)["ARN"].get<std::string>().starts_with("arn:aws:secretsmanager:eu-central-1:"));
    CHECK(connection.call("DescribeSecret", {{"SecretId", "home"}}, "eu-central-1").result_int() == 200);
  }
}

// One request that the endpoint must refuse, and what it must answer.
struct BadInput {
  std::string what;
  std::string wire;  // the bytes sent
  unsigned status;
  std::string type;
  std::string message_part;  // a part the Message must contain; empty: any
  bool closes = false;       // the answer ends the connection
};

// The bytes of a call of `operation` with `body`, as an SDK would send it.
std::string call_wire(std::string_view operation, std::string body) {
  return to_wire(aws_request_text(operation, std::move(body)));
}

// A valid CreateSecret, but with X-Amz-Target `target`.
std::string target_wire(std::string_view target, std::string body) {
  HttpRequest request = aws_request_text("CreateSecret", std::move(body));
  request.set("X-Amz-Target", std::string(target));
  return to_wire(request);
}

// A valid call of `operation`, but as `method` on `path`.
std::string method_wire(test::http::verb method, std::string_view path, std::string_view operation,
                        std::string body) {
  HttpRequest request = aws_request_text(operation, std::move(body));
  request.method(method);
  request.target(std::string(path));
  return to_wire(request);
}

std::vector<BadInput> bad_inputs() {
  using test::http::verb;
  const std::string create =
      nlohmann::json{{"Name", "new"}, {"SecretString", "v"}, {"ClientRequestToken", token(9001)}}.dump();
  // A CreateSecret body with a token and the members `members`, byte for byte.
  const auto create_with = [](std::string_view members) {
    return R"({"ClientRequestToken":")" + token(9002) + R"(",)" + std::string(members) + "}";
  };
  const std::string nested = std::string(500000, '[') + std::string(500000, ']');

  HttpRequest no_target = aws_request_text("CreateSecret", create);
  no_target.erase("X-Amz-Target");

  std::string too_large = create;
  too_large.insert(1, std::string(kMaxRequestBody, ' '));  // valid JSON, one MiB of it whitespace

  std::ostringstream chunked;
  chunked << "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: secretsmanager.ListSecrets\r\n"
             "Content-Type: application/x-amz-json-1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
          << std::hex << kMaxRequestBody + 1 << "\r\n{}" << std::string(kMaxRequestBody - 1, ' ')
          << "\r\n0\r\n\r\n";

  HttpRequest huge_header = aws_request_text("ListSecrets", "{}");
  huge_header.set("X-Padding", std::string(16 * 1024, 'x'));

  const std::string ser = "SerializationException";
  const std::string unknown = "UnknownOperationException";
  const std::string too_big = "RequestEntityTooLargeException";
  const std::string invalid = "ValidationException";
  return {
      {"malformed JSON", call_wire("CreateSecret", create.substr(0, create.size() - 1)), 400, ser, ""},
      {"trailing garbage", call_wire("CreateSecret", create + " x"), 400, ser, ""},
      {"JSON with a comment", call_wire("CreateSecret", "/* hi */" + create), 400, ser, ""},
      {"malformed JSON on an existing secret",
       call_wire("PutSecretValue", R"({"SecretId":"alpha","SecretString":"changed")"), 400, ser, ""},
      {"byte 0xFF in a string",
       call_wire("CreateSecret", create_with(R"("Name":"new","SecretString":"v)" "\xff" R"(")")), 400, ser, ""},
      {"overlong UTF-8",
       call_wire("CreateSecret", create_with(R"("Name":"n)" "\xc0\xaf" R"(","SecretString":"v")")), 400, ser, ""},
      {"UTF-8-encoded surrogate",
       call_wire("CreateSecret", create_with(R"("Name":"new","SecretString":")" "\xed\xa0\x80" R"(")")), 400, ser,
       ""},
      {"truncated UTF-8 sequence",
       call_wire("CreateSecret", create_with(R"("Name":"new","SecretString":")" "\xe2\x82" R"(")")), 400, ser, ""},
      {"code point above U+10FFFF",
       call_wire("CreateSecret", create_with(R"("Name":"new","SecretString":")" "\xf4\x90\x80\x80" R"(")")), 400,
       ser, ""},
      {"lone escaped surrogate", call_wire("CreateSecret", create_with(R"("Name":"new","SecretString":"\ud800")")),
       400, ser, ""},
      {"invalid UTF-8 in an update",
       call_wire("PutSecretValue", R"({"SecretId":"alpha","SecretString":")" "\xff\xfe" R"("})"), 400, ser, ""},
      {"array body", call_wire("CreateSecret", "[]"), 400, ser, ""},
      {"string body", call_wire("CreateSecret", R"("CreateSecret")"), 400, ser, ""},
      {"null body", call_wire("DeleteSecret", "null"), 400, ser, ""},
      {"number body", call_wire("DeleteSecret", "42"), 400, ser, ""},
      {"500,000 nested arrays", call_wire("DeleteSecret", nested), 400, ser, ""},
      {"500,000 nested arrays in a member", call_wire("DeleteSecret", R"({"SecretId":)" + nested + "}"), 400, ser,
       "SecretId"},
      {"wrong member type", call_wire("CreateSecret", create_with(R"("Name":5,"SecretString":"v")")), 400, ser,
       "Name"},
      {"wrong member type on an existing secret",
       call_wire("DeleteSecret", R"({"SecretId":"alpha","ForceDeleteWithoutRecovery":"yes"})"), 400, ser, ""},
      {"tags as an object", call_wire("TagResource", R"({"SecretId":"alpha","Tags":{"Key":"k"}})"), 400, ser, ""},
      {"missing required member", call_wire("PutSecretValue", R"({"SecretString":"v"})"), 400, invalid, ""},
      {"empty body where members are required", call_wire("DeleteSecret", ""), 400, invalid, ""},
      {"no ClientRequestToken", call_wire("CreateSecret", R"({"Name":"new","SecretString":"v"})"), 400,
       "InvalidRequestException", std::string(msg::kMissingToken)},
      {"no X-Amz-Target", to_wire(no_target), 400, unknown, "X-Amz-Target"},
      {"another service's target", target_wire("kms.CreateSecret", create), 400, unknown, "kms.CreateSecret"},
      {"unknown operation", target_wire("secretsmanager.CreateSecrets", create), 400, unknown,
       "secretsmanager.CreateSecrets"},
      {"operation in the wrong case", target_wire("secretsmanager.createsecret", create), 400, unknown,
       "secretsmanager.createsecret"},
      {"target without prefix", target_wire("CreateSecret", create), 400, unknown, "CreateSecret"},
      {"empty operation", target_wire("secretsmanager.", create), 400, unknown, "secretsmanager."},
      {"GET /", method_wire(verb::get, "/", "ListSecrets", ""), 400, unknown, "GET"},
      {"PUT / with a valid call", method_wire(verb::put, "/", "CreateSecret", create), 400, unknown, "PUT"},
      {"POST to another path", method_wire(verb::post, "/secrets", "CreateSecret", create), 400, unknown,
       "/secrets"},
      {"unknown admin path", method_wire(verb::post, "/_smemu/reset", "CreateSecret", create), 400, unknown,
       "/_smemu/reset"},
      {"body one byte over 1 MiB", call_wire("CreateSecret", too_large), 413, too_big, "", true},
      // More than the sockets buffer, so the answer is read only if the server drains the rest.
      {"body of 32 MiB", call_wire("ListSecrets", "{}" + std::string(32 * kMaxRequestBody, ' ')), 413, too_big, "",
       true},
      {"chunked body one byte over 1 MiB", chunked.str(), 413, too_big, "", true},
      {"Content-Length of 10 GB, no body",
       "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: secretsmanager.ListSecrets\r\nContent-Length: 10000000000\r\n\r\n",
       413, too_big, "", true},
      {"Expect: 100-continue with a body over 1 MiB",
       "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: secretsmanager.ListSecrets\r\nExpect: 100-continue\r\n"
       "Content-Length: 1048577\r\n\r\n",
       413, too_big, "", true},
      {"a 16 KiB header", to_wire(huge_header), 413, too_big, "", true},
      {"not HTTP", "HELLO THERE\r\n\r\n", 400, ser, "", true},
      {"bad chunk",
       "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: secretsmanager.ListSecrets\r\n"
       "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
       400, ser, "", true},
  };
}

TEST_CASE("bad input is answered with the right error and changes nothing") {
  Served served;
  {
    auto connection = served.connect();
    REQUIRE(create_secret(connection, "alpha", "alpha-value").result_int() == 200);
    REQUIRE(create_secret(connection, "beta", "beta-value").result_int() == 200);
    REQUIRE(create_secret(connection, "gamma", "gamma-value", "us-west-2").result_int() == 200);
    REQUIRE(connection.call("PutSecretValue", {{"SecretId", "alpha"}, {"SecretString", "alpha-2"},
                                               {"ClientRequestToken", token(500)}}).result_int() == 200);
    REQUIRE(connection.call("DeleteSecret", {{"SecretId", "beta"}}).result_int() == 200);
  }
  // Reading a value marks the secret accessed; the first snapshot does that, so that the
  // snapshots compared below differ only if a bad input changed something.
  snapshot(served.server.port());
  const nlohmann::json before = snapshot(served.server.port());

  for (const BadInput& bad : bad_inputs()) {
    INFO(bad.what);
    auto connection = served.connect();
    connection.send_raw(bad.wire);
    const HttpResponse answer = connection.receive();
    CHECK(answer.result_int() == bad.status);
    CHECK(header(answer, "Content-Type") == kAmzJson);
    CHECK(header(answer, "x-amzn-ErrorType") == bad.type);
    const nlohmann::json body = nlohmann::json::parse(answer.body(), nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body["__type"] == bad.type);
    REQUIRE(body["Message"].is_string());
    CHECK(body["Message"].get<std::string>().find(bad.message_part) != std::string::npos);
    if (bad.closes) {
      CHECK(!answer.keep_alive());
      CHECK(connection.closed_by_peer());
    } else {
      CHECK(answer.keep_alive());
      CHECK(connection.call("ListSecrets", nlohmann::json::object()).result_int() == 200);
    }
    CHECK(snapshot(served.server.port()) == before);
  }
}

TEST_CASE("a body of exactly 1 MiB is accepted") {
  Served served;
  auto connection = served.connect();
  std::string body = "{}";
  body.resize(kMaxRequestBody, ' ');
  const HttpResponse list = connection.send(aws_request_text("ListSecrets", body));
  CHECK(list.result_int() == 200);
  CHECK(json_of(list).contains("SecretList"));
}

TEST_CASE("Expect: 100-continue is answered before the body is sent") {
  Served served;
  auto connection = served.connect();
  const std::string body = R"({"Name":"continued","SecretString":"v","ClientRequestToken":")" + token(700) + R"("})";
  connection.send_raw("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: secretsmanager.CreateSecret\r\n"
                      "Content-Type: application/x-amz-json-1.1\r\nExpect: 100-continue\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n");
  CHECK(connection.receive().result_int() == 100);
  connection.send_raw(body);
  const HttpResponse created = connection.receive();
  CHECK(created.result_int() == 200);
  CHECK(json_of(created)["Name"] == "continued");
}

TEST_CASE("GET /_smemu/health") {
  Served served;
  auto connection = served.connect();
  HttpRequest request{test::http::verb::get, "/_smemu/health", 11};
  request.set(test::http::field::host, "127.0.0.1");
  const HttpResponse health = connection.send(request);
  CHECK(health.result_int() == 200);
  CHECK(header(health, "Content-Type") == "application/json");
  CHECK(json_of(health) == nlohmann::json{{"status", "ok"}});
}

TEST_CASE("HEAD is refused without a body, and the connection stays usable") {
  Served served;
  auto connection = served.connect();
  HttpRequest request{test::http::verb::head, "/", 11};
  request.set(test::http::field::host, "127.0.0.1");
  const HttpResponse head = connection.send(request);
  CHECK(head.result_int() == 400);
  CHECK(header(head, "x-amzn-ErrorType") == "UnknownOperationException");
  CHECK(head.body().empty());
  CHECK(connection.call("ListSecrets", nlohmann::json::object()).result_int() == 200);
}

TEST_CASE("the request log names operations and errors, never secret values (D19)") {
  const std::string secret = "s3cr3t-VALUE-d19";
  std::string log;
  {
    Served served;
    auto connection = served.connect();
    REQUIRE(create_secret(connection, "logged", secret).result_int() == 200);
    REQUIRE(connection.call("GetSecretValue", {{"SecretId", "logged"}}).result_int() == 200);
    const std::string put = R"({"SecretId":"logged","SecretString":")";
    const HttpResponse malformed = connection.send(aws_request_text("PutSecretValue", put + secret));
    CHECK(error_type(malformed) == "SerializationException");
    CHECK(malformed.body().find(secret) == std::string::npos);
    const HttpResponse invalid_utf8 =
        connection.send(aws_request_text("PutSecretValue", put + secret + "\xff\"}"));
    CHECK(error_type(invalid_utf8) == "SerializationException");
    CHECK(invalid_utf8.body().find(secret) == std::string::npos);
    served.server.stop();
    served.server.wait();
    log = served.log.str();
  }
  CHECK(log.find("op=CreateSecret status=200") != std::string::npos);
  CHECK(log.find("region=us-east-1 op=GetSecretValue status=200") != std::string::npos);
  CHECK(log.find("op=PutSecretValue status=400 error=SerializationException") != std::string::npos);
  CHECK(log.find(secret) == std::string::npos);
}

TEST_CASE("a taken port is an error") {
  Served served;
  CHECK_THROWS_AS((HttpServer(served.service, {.host = "127.0.0.1", .port = served.server.port()})),
                  std::system_error);
}

TEST_CASE("destroying a server closes its connections") {
  auto served = std::make_unique<Served>();
  auto idle = served->connect();
  auto used = served->connect();
  REQUIRE(used.call("ListSecrets", nlohmann::json::object()).result_int() == 200);
  served.reset();
  CHECK(idle.closed_by_peer());
  CHECK(used.closed_by_peer());
}

TEST_CASE("stop() before start() serves nothing and returns") {
  Service service;
  HttpServer server(service, {});
  CHECK(server.port() != 0);
  CHECK(server.loopback());
  server.stop();
  server.start();
  server.wait();
}

}  // namespace
}  // namespace smemu
