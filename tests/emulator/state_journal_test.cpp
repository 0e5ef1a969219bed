// Durable state (issue 5 item 5): StateJournal keeps a service's state in a file; a new service
// loads it back exactly. Round trips compare what the API answers (DescribeSecret,
// ListSecretVersionIds, GetSecretValue) and the rotation runs; damaged files are built by hand
// from the record framing state_journal.h documents.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "smemu/emulator/builtin_functions.h"
#include "smemu/emulator/service.h"
#include "smemu/emulator/state_journal.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kLambda = "arn:aws:lambda:us-east-1:123456789012:function:rotator";
constexpr const char* kFailing = "arn:aws:lambda:us-east-1:123456789012:function:failing";
const std::vector<std::string> kRegions{"us-east-1", "eu-west-1"};

// A directory of its own for each test, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "smemu-state-test-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

std::unique_ptr<smemu::StateJournal> open_journal(const std::string& path, smemu::Service& service,
                                                  smemu::StateJournalOptions options = {}) {
  auto opened = smemu::StateJournal::open(path, service, options);
  REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message));
  return std::move(opened.value());
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Where each record starts, walking the framing: u32 length, two u32 checksums, payload.
std::vector<std::size_t> record_offsets(const std::string& bytes) {
  std::vector<std::size_t> offsets;
  std::size_t at = 0;
  while (at + smemu::kStateRecordHeaderBytes <= bytes.size()) {
    offsets.push_back(at);
    std::uint32_t length = 0;
    for (int i = 0; i < 4; ++i) length |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
    at += smemu::kStateRecordHeaderBytes + length;
  }
  return offsets;
}

// Everything the API says about every secret, in a fixed order: DescribeSecret, every version
// (deprecated ones too) and each version's value. Reads record access dates, so two services
// compared this way must be read in the same order at the same time.
json api_state(smemu::Service& service) {
  json out = json::object();
  for (const auto& region : kRegions) {
    std::set<std::string> names;
    service.inspect_all(region, [&](const smemu::model::Secret& secret) { names.insert(secret.meta.name); });
    auto client = service.client(region);
    for (const auto& name : names) {
      json entry;
      entry["describe"] = client.call("DescribeSecret", {{"SecretId", name}}).value();
      entry["versions"] =
          client.call("ListSecretVersionIds", {{"SecretId", name}, {"IncludeDeprecated", true}}).value();
      json values = json::object();
      for (const auto& version : entry["versions"]["Versions"]) {
        const auto id = version["VersionId"].get<std::string>();
        auto got = client.call("GetSecretValue", {{"SecretId", name}, {"VersionId", id}});
        values[id] = got.ok() ? got.value() : json(std::string(got.error().name()));
      }
      entry["values"] = std::move(values);
      out[region + "/" + name] = std::move(entry);
    }
  }
  return out;
}

std::vector<std::optional<smemu::model::RotationRun>> runs(smemu::Service& service) {
  std::vector<std::optional<smemu::model::RotationRun>> out;
  for (const auto& region : kRegions) {
    std::vector<std::pair<std::string, std::optional<smemu::model::RotationRun>>> named;
    service.inspect_all(region, [&](const smemu::model::Secret& secret) {
      named.emplace_back(secret.meta.name, secret.run());
    });
    std::sort(named.begin(), named.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [name, run] : named) out.push_back(std::move(run));
  }
  return out;
}

std::string token(int n) { return "state-token-" + std::string(22, '0') + std::to_string(100 + n); }

// A service with a bit of everything: values of both kinds, several versions, custom labels,
// tags (and a secret untagged back to none), a policy, a replica, a secret in its recovery
// window, a rotation half way, one waiting for its D1 retry, one finished, and an access date.
void build_varied_state(smemu::Service& service) {
  REQUIRE(service.register_function(kLambda, "builtin:template").ok());
  REQUIRE(service.register_function(kFailing, "builtin:template?fail_at=setSecret").ok());
  service.advance(smemu::days(3));  // so that a clock that did not come back would show
  auto client = service.client("us-east-1");
  REQUIRE(client.create_secret({.name = "plain", .client_request_token = token(1), .description = "first",
                                .kms_key_id = "alias/mine", .secret_string = "one",
                                .tags = std::vector<smemu::api::Tag>{{"team", "a"}, {"env", ""}}})
              .ok());
  REQUIRE(client.put_secret_value({.secret_id = "plain", .client_request_token = token(2), .secret_string = "two"}).ok());
  REQUIRE(client.put_secret_value({.secret_id = "plain", .client_request_token = token(3), .secret_string = "three",
                                   .version_stages = std::vector<std::string>{"CUSTOM", "OTHER"}})
              .ok());
  REQUIRE(client.put_secret_value({.secret_id = "plain", .client_request_token = token(4), .secret_string = "four"}).ok());
  REQUIRE(client.create_secret({.name = "binary", .client_request_token = token(5),
                                .secret_binary = std::string("\x00\xff\x01 bytes", 9)})
              .ok());
  REQUIRE(client.tag_resource({.secret_id = "binary", .tags = std::vector<smemu::api::Tag>{{"k", "v"}}}).ok());
  REQUIRE(client.untag_resource({.secret_id = "binary", .tag_keys = std::vector<std::string>{"k"}}).ok());
  REQUIRE(client.put_resource_policy({.secret_id = "binary",
                                      .resource_policy = R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny",)"
                                                         R"("Principal":{"AWS":"arn:aws:iam::123456789012:root"},)"
                                                         R"("Action":"secretsmanager:DeleteSecret","Resource":"*"}]})"})
              .ok());
  REQUIRE(client.create_secret({.name = "empty"}).ok());
  REQUIRE(client.create_secret({.name = "doomed", .client_request_token = token(6), .secret_string = "x"}).ok());
  REQUIRE(client.delete_secret({.secret_id = "doomed", .recovery_window_in_days = 7}).ok());
  REQUIRE(client.create_secret({.name = "replicated", .client_request_token = token(7), .secret_string = "r"}).ok());
  REQUIRE(client.replicate_secret_to_regions(
                    {.secret_id = "replicated",
                     .add_replica_regions = std::vector<smemu::api::ReplicaRegion>{{.region = "eu-west-1"}}})
              .ok());

  for (const char* name : {"rotated", "rotating", "retrying"}) {
    REQUIRE(client.create_secret({.name = name, .client_request_token = token(8), .secret_string = "start"}).ok());
  }
  REQUIRE(client.rotate_secret({.secret_id = "rotated", .client_request_token = token(9), .rotation_lambda_arn = kLambda,
                                .rotation_rules = smemu::api::RotationRules{.schedule_expression = "rate(10 days)"}})
              .ok());
  service.run_until_idle();
  REQUIRE(client.rotate_secret({.secret_id = "retrying", .client_request_token = token(10),
                                .rotation_lambda_arn = kFailing})
              .ok());
  service.run_until_idle();
  REQUIRE(client.rotate_secret({.secret_id = "rotating", .client_request_token = token(11),
                                .rotation_lambda_arn = kLambda})
              .ok());
  REQUIRE(service.step().has_value());  // createSecret of "rotating"; setSecret is due next
  REQUIRE(client.get_secret_value({.secret_id = "plain"}).ok());
}

}  // namespace

TEST_CASE("emulator/state: a saved state loads back exactly: secrets, versions, values, labels, runs") {
  TempDir dir;
  const auto path = dir.file("state");
  smemu::Service saved;
  auto journal = open_journal(path, saved);
  CHECK(journal->load_report().created);
  build_varied_state(saved);
  journal.reset();  // detaches: what follows is not saved

  smemu::Service loaded;
  auto reloaded = open_journal(path, loaded);
  const auto& report = reloaded->load_report();
  CHECK_FALSE(report.created);
  CHECK(report.secrets == 9);  // 8 in us-east-1, the replica in eu-west-1
  CHECK_FALSE(report.torn_tail_at.has_value());
  CHECK(report.resumed_runs == 0);
  // The clock carries on from the last commit.
  CHECK(loaded.clock().now() == saved.clock().now());

  CHECK(runs(loaded) == runs(saved));
  using Phase = smemu::model::RotationRun::Phase;
  loaded.inspect("us-east-1", "rotating", [](const smemu::model::Secret* secret) {
    CHECK((secret->run()->phase == Phase::kReady && secret->run()->step == smemu::model::Step::kSetSecret));
  });
  loaded.inspect("us-east-1", "retrying", [](const smemu::model::Secret* secret) {
    CHECK(secret->run()->phase == Phase::kRetry);
  });
  CHECK(loaded.next_due() == saved.next_due());
  const auto before = api_state(saved);
  const auto after = api_state(loaded);
  CHECK(after == before);
  CHECK(after.contains("eu-west-1/replicated"));
  CHECK(after["us-east-1/binary"]["values"][token(5)]["SecretBinary"] ==
        saved.client("us-east-1").call("GetSecretValue", {{"SecretId", "binary"}}).value()["SecretBinary"]);

  // The rotations carry on: the half-done one finishes with the function registered again.
  REQUIRE(loaded.register_function(kLambda, "builtin:template").ok());
  loaded.run_until_idle();
  auto stages = loaded.client("us-east-1").describe_secret({.secret_id = "rotating"})->version_ids_to_stages.value();
  CHECK(std::find(stages[token(11)].begin(), stages[token(11)].end(), "AWSCURRENT") != stages[token(11)].end());
}

TEST_CASE("emulator/state: the file is mode 0600, compaction keeps everything, unchanged lookups append nothing") {
  TempDir dir;
  const auto path = dir.file("state");
  smemu::Service saved;
  auto journal = open_journal(path, saved, {.compact_after_bytes = 1});
  auto client = saved.client("us-east-1");
  REQUIRE(client.create_secret({.name = "s", .client_request_token = token(0), .secret_string = "v0"}).ok());
  for (int i = 1; i <= 60; ++i) {
    REQUIRE(client.put_secret_value({.secret_id = "s", .client_request_token = token(i),
                                     .secret_string = "v" + std::to_string(i)})
                .ok());
  }
  CHECK(journal->snapshots() > 2);
  CHECK_FALSE(fs::exists(path + ".tmp"));
  struct stat status {};
  REQUIRE(stat(path.c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0600);
  REQUIRE(stat((path + ".lock").c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0600);

  // Calls that change nothing write nothing, however much real time passes meanwhile (a virtual
  // clock does not move with it).
  const auto size = fs::file_size(path);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK(client.describe_secret({.secret_id = "s"}).ok());
  CHECK_FALSE(client.put_secret_value({.secret_id = "s", .client_request_token = token(3), .secret_string = "other"}).ok());
  CHECK_FALSE(client.put_secret_value({.secret_id = "missing", .client_request_token = token(3), .secret_string = "x"}).ok());
  CHECK(fs::file_size(path) == size);
  journal.reset();

  smemu::Service loaded;
  auto reloaded = open_journal(path, loaded);
  CHECK(reloaded->load_report().secrets == 1);
  CHECK(api_state(loaded) == api_state(saved));
  auto versions = loaded.client("us-east-1").list_secret_version_ids({.secret_id = "s", .include_deprecated = true});
  CHECK(versions->versions->size() == 61);
}

TEST_CASE("emulator/state: a journal whose last record is cut short loads every whole record and says where") {
  TempDir dir;
  const auto path = dir.file("state");
  {
    smemu::Service saved;
    auto journal = open_journal(path, saved);
    auto client = saved.client("us-east-1");
    REQUIRE(client.create_secret({.name = "s", .client_request_token = token(1), .secret_string = "kept"}).ok());
    REQUIRE(client.put_secret_value({.secret_id = "s", .client_request_token = token(2), .secret_string = "lost"}).ok());
  }
  const auto bytes = read_bytes(path);
  const auto offsets = record_offsets(bytes);
  REQUIRE(offsets.size() >= 3);
  const auto last = offsets.back();

  auto check_loads_first_version_only = [&](const std::string& damaged, std::uint64_t torn_at) {
    write_bytes(path, damaged);
    smemu::Service loaded;
    auto journal = open_journal(path, loaded);
    const auto& report = journal->load_report();
    REQUIRE(report.torn_tail_at.has_value());
    CHECK(*report.torn_tail_at == torn_at);
    CHECK(report.torn_bytes == damaged.size() - torn_at);
    CHECK(report.records == offsets.size() - 1);
    auto client = loaded.client("us-east-1");
    CHECK(client.get_secret_value({.secret_id = "s"})->secret_string == "kept");
    CHECK_FALSE(client.get_secret_value({.secret_id = "s", .version_id = token(2)}).ok());
    journal.reset();
    // The file was rewritten without the tail: it loads cleanly now.
    smemu::Service again;
    CHECK_FALSE(open_journal(path, again)->load_report().torn_tail_at.has_value());
  };

  SUBCASE("inside the payload") { check_loads_first_version_only(bytes.substr(0, bytes.size() - 3), last); }
  SUBCASE("inside the record header") { check_loads_first_version_only(bytes.substr(0, last + 5), last); }
  SUBCASE("with a checksum that fails on the last record") {
    auto damaged = bytes;
    damaged[damaged.size() - 1] = static_cast<char>(damaged[damaged.size() - 1] ^ 0x40);
    check_loads_first_version_only(damaged, last);
  }
  SUBCASE("zeros after the last whole record") {
    smemu::Service saved_whole;
    write_bytes(path, bytes + std::string(100, '\0'));
    auto journal = open_journal(path, saved_whole);
    CHECK(journal->load_report().torn_tail_at == bytes.size());
    CHECK(journal->load_report().torn_bytes == 100);
    CHECK(saved_whole.client("us-east-1").get_secret_value({.secret_id = "s"})->secret_string == "lost");
  }
}

TEST_CASE("emulator/state: a damaged record before the end is refused with its byte offset") {
  TempDir dir;
  const auto path = dir.file("state");
  {
    smemu::Service saved;
    auto journal = open_journal(path, saved);
    auto client = saved.client("us-east-1");
    for (int i = 0; i < 4; ++i) {
      REQUIRE(client.create_secret({.name = "s" + std::to_string(i), .client_request_token = token(i),
                                    .secret_string = "v"})
                  .ok());
    }
  }
  const auto bytes = read_bytes(path);
  const auto offsets = record_offsets(bytes);
  REQUIRE(offsets.size() >= 4);
  const auto middle = offsets[offsets.size() - 2];

  auto check_refused = [&](std::string damaged, const std::string& why) {
    write_bytes(path, damaged);
    smemu::Service loaded;
    auto opened = smemu::StateJournal::open(path, loaded);
    REQUIRE_FALSE(opened.ok());
    const auto& message = opened.error().message;
    CHECK_MESSAGE(message.find("at byte " + std::to_string(middle) + " is damaged") != std::string::npos, message);
    CHECK_MESSAGE(message.find(why) != std::string::npos, message);
    CHECK_MESSAGE(message.find(path) != std::string::npos, message);
    // Nothing was loaded, and the file is left as it was for whoever looks at it.
    CHECK(read_bytes(path) == damaged);
    std::size_t secrets = 0;
    loaded.inspect_all("us-east-1", [&](const smemu::model::Secret&) { ++secrets; });
    CHECK(secrets == 0);
  };

  SUBCASE("in its payload") {
    auto damaged = bytes;
    damaged[middle + smemu::kStateRecordHeaderBytes + 3] = static_cast<char>(damaged[middle + smemu::kStateRecordHeaderBytes + 3] ^ 0x01);
    check_refused(damaged, "contents do not match their checksum");
  }
  SUBCASE("in its length") {
    auto damaged = bytes;
    damaged[middle + 1] = static_cast<char>(damaged[middle + 1] ^ 0x10);
    check_refused(damaged, "length does not match its checksum");
  }
}

TEST_CASE("emulator/state: a file that is not a state file is refused; a second journal on one file is refused") {
  TempDir dir;
  const auto path = dir.file("state");
  write_bytes(path, "{\"not\": \"a state file\"}\n");
  smemu::Service service;
  auto opened = smemu::StateJournal::open(path, service);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().message.find("damaged") != std::string::npos);

  fs::remove(path);
  auto first = open_journal(path, service);
  smemu::Service other;
  auto second = smemu::StateJournal::open(path, other);
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().message.find("another smemu") != std::string::npos);
}

TEST_CASE("emulator/state: after a restart ids are drawn from new streams, deletes and resets stay") {
  TempDir dir;
  const auto path = dir.file("state");
  std::set<std::string> drawn;
  {
    smemu::Service saved;
    auto journal = open_journal(path, saved);
    for (int i = 0; i < 20; ++i) drawn.insert(saved.new_request_token());
    auto client = saved.client("us-east-1");
    REQUIRE(client.create_secret({.name = "kept", .secret_string = "v"}).ok());
    REQUIRE(client.create_secret({.name = "gone", .secret_string = "v"}).ok());
    REQUIRE(client.delete_secret({.secret_id = "gone", .force_delete_without_recovery = true}).ok());
  }
  {
    smemu::Service loaded;  // the same seed
    auto journal = open_journal(path, loaded);
    for (int i = 0; i < 20; ++i) CHECK(drawn.insert(loaded.new_request_token()).second);
    auto client = loaded.client("us-east-1");
    CHECK(client.describe_secret({.secret_id = "kept"}).ok());
    CHECK(client.describe_secret({.secret_id = "gone"}).error().name() == "ResourceNotFoundException");
    REQUIRE(loaded.database().ensure({"postgres", "db.internal", 5432, "app"}, "app", "pw"));
    REQUIRE(client.tag_resource({.secret_id = "kept", .tags = std::vector<smemu::api::Tag>{{.key = "k", .value = "v"}}})
                .ok());  // a commit that saves the database
    loaded.reset();      // nothing after it: the reset's own commit must keep the emptied databases
  }
  smemu::Service after_reset;
  auto journal = open_journal(path, after_reset);
  CHECK(journal->load_report().secrets == 0);
  CHECK(after_reset.database().snapshot().empty());
  for (int i = 0; i < 20; ++i) CHECK(drawn.insert(after_reset.new_request_token()).second);
}

namespace {

// The published template (builtin:template?remove_pending=true), which copies the state file
// while one step is with it: the copy is the state a server killed at that moment left behind.
struct CopyingFunction {
  smemu::RotationFunction inner;
  std::string step;
  bool after;  // copy after the step did its calls, rather than before
  std::string path;
  std::string copy;
  std::vector<std::string>* calls;

  smemu::StepResult operator()(const smemu::RotationEvent& event, smemu::Client& client) {
    calls->push_back(event.step);
    if (event.step == step && !after) fs::copy_file(path, copy, fs::copy_options::overwrite_existing);
    auto result = inner(event, client);
    if (event.step == step && after) fs::copy_file(path, copy, fs::copy_options::overwrite_existing);
    return result;
  }
};

}  // namespace

TEST_CASE("emulator/state: a rotation whose step was running when the state was saved resumes at that step") {
  TempDir dir;
  const auto path = dir.file("state");
  const auto copy = dir.file("copy");
  smemu::Service saved;
  std::vector<std::string> calls;
  auto builtin = smemu::make_builtin_function("builtin:template?remove_pending=true", saved.database());
  REQUIRE(builtin.ok());

  SUBCASE("setSecret: run again") {
    saved.register_function(kLambda, CopyingFunction{builtin->function, "setSecret", false, path, copy, &calls});
    auto journal = open_journal(path, saved);
    auto client = saved.client("us-east-1");
    REQUIRE(client.create_secret({.name = "s", .client_request_token = token(1), .secret_string = "v"}).ok());
    REQUIRE(client.rotate_secret({.secret_id = "s", .client_request_token = token(2), .rotation_lambda_arn = kLambda}).ok());
    saved.run_until_idle();
    journal.reset();

    smemu::Service loaded;
    std::vector<std::string> resumed_calls;
    auto resumed = smemu::make_builtin_function("builtin:template?remove_pending=true", loaded.database());
    loaded.register_function(kLambda, CopyingFunction{resumed->function, "", false, copy, copy, &resumed_calls});
    auto reloaded = open_journal(copy, loaded);
    CHECK(reloaded->load_report().resumed_runs == 1);
    loaded.inspect("us-east-1", "s", [](const smemu::model::Secret* secret) {
      REQUIRE(secret->run().has_value());
      CHECK(secret->run()->phase == smemu::model::RotationRun::Phase::kReady);
      CHECK(secret->run()->step == smemu::model::Step::kSetSecret);
      CHECK(secret->run()->attempt == 1);
    });
    loaded.run_until_idle();
    CHECK(resumed_calls == std::vector<std::string>{"setSecret", "testSecret", "finishSecret"});
    auto current = loaded.client("us-east-1").get_secret_value({.secret_id = "s"});
    CHECK(current->version_id == token(2));
  }
  SUBCASE("finishSecret after it moved AWSCURRENT and removed AWSPENDING: succeeded") {
    saved.register_function(kLambda, CopyingFunction{builtin->function, "finishSecret", true, path, copy, &calls});
    auto journal = open_journal(path, saved);
    auto client = saved.client("us-east-1");
    REQUIRE(client.create_secret({.name = "s", .client_request_token = token(1), .secret_string = "v"}).ok());
    REQUIRE(client.rotate_secret({.secret_id = "s", .client_request_token = token(2), .rotation_lambda_arn = kLambda}).ok());
    saved.run_until_idle();
    journal.reset();

    smemu::Service loaded;
    auto reloaded = open_journal(copy, loaded);
    CHECK(reloaded->load_report().resumed_runs == 1);
    loaded.inspect("us-east-1", "s", [](const smemu::model::Secret* secret) { CHECK_FALSE(secret->run().has_value()); });
    CHECK_FALSE(loaded.next_due().has_value());
    auto described = loaded.client("us-east-1").describe_secret({.secret_id = "s"});
    CHECK(described->last_rotated_date.has_value());
    CHECK(described->version_ids_to_stages->at(token(2)) == std::vector<std::string>{"AWSCURRENT"});
  }
}
