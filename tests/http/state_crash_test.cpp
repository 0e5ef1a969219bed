// `smemu serve --state FILE` survives SIGKILL (issue 5 item 5): rounds of a storm of writes, label
// moves and rotations (builtin:template, some slowed to a second per step so that kills land in
// the middle of them), each ended by SIGKILL at a seeded random moment, then a restart on the same
// file and a check of everything acknowledged before the kill.
//
// What "acknowledged" means here: a call answered 200. Such a call's change must be there after
// the restart. A call answered 4xx changed nothing. A call whose answer the kill cut off (at most
// one per client thread) may or may not have happened; both outcomes are accepted, and the
// restart's state says which. Rotation steps run in the server's background, so the labels they
// move are not acknowledged to anyone: AWSCURRENT may sit on the last version a PutSecretValue
// put it on, or on the token of a rotation started since the last check (or whose answer was cut
// off); custom labels, which rotations never touch, must sit exactly where the last acknowledged
// call (or the cut-off one) left them. Invariants checked at every restart: a label on at most one
// version, exactly one AWSCURRENT, every value exactly as first seen, VersionIds unique, ARNs
// unique. Rotations in flight at a kill must resume (Service::load_secrets): at the end, after a
// last restart, every rotation finishes, none stays stuck or waits for a D1 retry.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/cli_child.h"
#include "http/http_client.h"
#include "http/temp_dir.h"
#include "smemu/emulator/random.h"

namespace smemu {
namespace {

using nlohmann::json;
using test::announced_port;
using test::Child;
using test::HttpConnection;
using test::json_of;
using test::TempDir;

constexpr int kRounds = 20;
constexpr int kThreads = 2;
constexpr std::size_t kSecretsPerThread = 5;
constexpr std::size_t kMaxVersions = 40;  // well under the quota of 100 (D8)
constexpr std::uint64_t kSeed = 20260105;
constexpr auto kFast = "arn:aws:lambda:us-east-1:123456789012:function:fast";
constexpr auto kSlow = "arn:aws:lambda:us-east-1:123456789012:function:slow";
const std::vector<std::string> kCustomLabels{"MINE-A", "MINE-B"};

// What the test knows about one secret.
struct Known {
  bool rotated = false;                         // rotations run on it, PutSecretValue without stages does not
  bool exists = false;                          // its CreateSecret was acknowledged (or seen)
  std::map<std::string, std::string> values;    // VersionId -> value, as first seen or written
  std::set<std::string> acknowledged;           // versions our acknowledged calls created
  std::set<std::string> rotation_tokens;        // acknowledged RotateSecret tokens: versions that must exist
  std::string current;                          // AWSCURRENT, as last acknowledged or seen
  std::map<std::string, std::string> custom;    // custom label -> version, as last acknowledged or seen
  std::set<std::string> rotations;              // rotation tokens that may have taken AWSCURRENT since
  std::size_t versions = 0;
};

// The call a kill cut off.
struct CutOff {
  enum class Kind { kCreate, kPut, kPutLabel, kMove, kRotate } kind;
  std::string secret;
  std::string token;  // the version it creates or moves a label to
  std::string value;
  std::string label;
};

// One client thread: its own secrets, each written by it alone.
struct Writer {
  int index = 0;
  std::map<std::string, Known> secrets;
  std::optional<CutOff> cut_off;
  std::size_t made = 0;        // secrets created
  std::uint64_t counter = 0;   // for tokens and values
  std::vector<std::string> problems;  // unexpected answers (doctest is not thread-safe)

  std::string next_token(int round) {
    std::string token = "tok-" + std::to_string(round) + "-" + std::to_string(index) + "-" + std::to_string(counter++);
    token.resize(36, 'x');
    return token;
  }

  // Sends `body` as `operation`; true when answered 200. A 5xx is a problem; a cut-off connection
  // throws, leaving `cut` as the call that may or may not have happened.
  bool call(HttpConnection& connection, std::string_view operation, const json& body, const CutOff& cut) {
    cut_off = cut;
    const auto response = connection.call(operation, body);
    cut_off.reset();
    if (response.result_int() >= 500) problems.push_back(std::string(operation) + " answered " + response.body());
    return response.result_int() == 200;
  }

  void storm(std::uint16_t port, int round, SeededRandom random, const std::atomic<bool>& stop) {
    try {
      HttpConnection connection(port);
      while (!stop.load()) {
        const auto existing = std::count_if(secrets.begin(), secrets.end(), [](const auto& s) { return s.second.exists; });
        if (made < kSecretsPerThread && (existing < 2 || random.one_in(8))) {
          // Alternately a secret that is rotated and one written by hand: a PutSecretValue without
          // stages would abandon a rotation (spec 4.3), and a function then still writing its
          // version would leave AWSPENDING behind with no rotation to finish it, as AWS does.
          const bool rotated = made % 2 == 1;
          const auto name = std::string(rotated ? "crash-rotated-" : "crash-written-") + std::to_string(index) + "-" +
                            std::to_string(made);
          const auto token = next_token(round);
          const auto value = "value-" + token;
          ++made;
          auto& known = secrets[name];
          known.rotated = rotated;
          if (call(connection, "CreateSecret", {{"Name", name}, {"ClientRequestToken", token}, {"SecretString", value}},
                   {CutOff::Kind::kCreate, name, token, value, {}})) {
            known.exists = true;
            known.values[token] = value;
            known.acknowledged.insert(token);
            known.current = token;
            known.versions = 1;
          }
          continue;
        }
        auto it = secrets.begin();
        std::advance(it, static_cast<long>(random.below(secrets.size())));
        const auto& name = it->first;
        auto& known = it->second;
        if (!known.exists) continue;
        // Written secrets: 56% PutSecretValue, 19% with a custom label, 25% label moves. Rotated
        // ones: 27% PutSecretValue with a custom label, 36% label moves, 36% RotateSecret.
        const auto choice = known.rotated ? 45 + random.below(55) : random.below(80);
        const auto token = next_token(round);
        const auto value = "value-" + token;
        const bool room = known.versions < kMaxVersions;
        if (choice < 45 && room) {
          if (call(connection, "PutSecretValue", {{"SecretId", name}, {"ClientRequestToken", token}, {"SecretString", value}},
                   {CutOff::Kind::kPut, name, token, value, {}})) {
            known.values[token] = value;
            known.acknowledged.insert(token);
            known.current = token;
            ++known.versions;
          }
        } else if (choice < 60 && room) {
          const auto& label = kCustomLabels[random.below(kCustomLabels.size())];
          if (call(connection, "PutSecretValue",
                   {{"SecretId", name}, {"ClientRequestToken", token}, {"SecretString", value},
                    {"VersionStages", {label}}},
                   {CutOff::Kind::kPutLabel, name, token, value, label})) {
            known.values[token] = value;
            known.acknowledged.insert(token);
            known.custom[label] = token;
            ++known.versions;
          }
        } else if (choice < 80) {
          const auto& label = kCustomLabels[random.below(kCustomLabels.size())];
          auto target = known.acknowledged.begin();
          std::advance(target, static_cast<long>(random.below(known.acknowledged.size())));
          json body{{"SecretId", name}, {"VersionStage", label}, {"MoveToVersionId", *target}};
          if (const auto holder = known.custom.find(label); holder != known.custom.end()) {
            body["RemoveFromVersionId"] = holder->second;
          }
          if (call(connection, "UpdateSecretVersionStage", body, {CutOff::Kind::kMove, name, *target, {}, label})) {
            known.custom[label] = *target;
          }
        } else if (room) {
          const auto* lambda = random.one_in(4) ? kSlow : kFast;
          known.rotations.insert(token);  // from the moment it is sent, it may run
          if (call(connection, "RotateSecret",
                   {{"SecretId", name}, {"ClientRequestToken", token}, {"RotationLambdaARN", lambda}},
                   {CutOff::Kind::kRotate, name, token, {}, {}})) {
            known.rotation_tokens.insert(token);
            ++known.versions;
          } else {
            known.rotations.erase(token);  // refused: nothing started
          }
        }
      }
    } catch (const std::exception&) {
      // The kill closed the connection; cut_off holds the call that was on its way, if any.
    }
  }
};

// DescribeSecret's VersionIdsToStages, checked: no label on two versions, and exactly one
// AWSCURRENT. Returns label -> version.
std::map<std::string, std::string> labels_of(const json& described, const std::string& name) {
  std::map<std::string, std::string> holders;
  const auto stages_by_version = described.value("VersionIdsToStages", json::object());
  for (const auto& [version, stages] : stages_by_version.items()) {
    for (const auto& stage : stages) {
      const auto label = stage.get<std::string>();
      CHECK_MESSAGE(holders.emplace(label, version).second, name << ": label " << label << " on two versions");
    }
  }
  CHECK_MESSAGE(holders.count("AWSCURRENT") == 1, name << ": no AWSCURRENT");
  return holders;
}

struct RoundFindings {
  std::size_t rotations_in_flight = 0;  // secrets whose rotation had not finished when looked at
};

// Checks one writer's secrets against the restarted server, then makes what is seen the known state.
void check_writer(HttpConnection& connection, Writer& writer, std::set<std::string>& arns, RoundFindings& findings) {
  const auto cut = writer.cut_off;
  writer.cut_off.reset();
  for (auto& [name, known] : writer.secrets) {
    const bool cut_here = cut && cut->secret == name;
    const auto described = connection.call("DescribeSecret", {{"SecretId", name}});
    if (described.result_int() != 200) {
      // Only a CreateSecret the kill cut off may be missing.
      CHECK_MESSAGE(!known.exists, name << " is gone: " << described.body());
      continue;
    }
    const auto description = json_of(described);
    if (!known.exists) {
      REQUIRE_MESSAGE(cut_here, name << " exists although it was never created");
      REQUIRE(cut->kind == CutOff::Kind::kCreate);
      known.exists = true;
      known.values[cut->token] = cut->value;
      known.acknowledged.insert(cut->token);
      known.current = cut->token;
    }
    CHECK_MESSAGE(arns.insert(description["ARN"].get<std::string>()).second, name << ": ARN used twice");
    const auto holders = labels_of(description, name);

    // AWSCURRENT: where the last acknowledged write put it, or where a rotation started since (or
    // the cut-off call) moved it.
    const auto current = holders.count("AWSCURRENT") ? holders.at("AWSCURRENT") : std::string();
    const bool cut_current = cut_here && (cut->kind == CutOff::Kind::kPut || cut->kind == CutOff::Kind::kCreate) &&
                             cut->token == current;
    CHECK_MESSAGE((current == known.current || cut_current || known.rotations.count(current) > 0),
                  name << ": AWSCURRENT on " << current << ", acknowledged on " << known.current);
    // Custom labels: exactly where the last acknowledged call left them.
    for (const auto& label : kCustomLabels) {
      const auto actual = holders.count(label) ? holders.at(label) : std::string();
      const auto expected = known.custom.count(label) ? known.custom.at(label) : std::string();
      const bool cut_label = cut_here &&
                             (cut->kind == CutOff::Kind::kMove || cut->kind == CutOff::Kind::kPutLabel) &&
                             cut->label == label && cut->token == actual;
      CHECK_MESSAGE((actual == expected || cut_label),
                    name << ": " << label << " on '" << actual << "', acknowledged on '" << expected << "'");
    }

    // Every version: ids unique, every acknowledged one there, every value as first seen.
    const auto listed = json_of(connection.call("ListSecretVersionIds", {{"SecretId", name}, {"IncludeDeprecated", true}}));
    CHECK_FALSE(listed.contains("NextToken"));
    std::set<std::string> ids;
    for (const auto& version : listed["Versions"]) {
      CHECK_MESSAGE(ids.insert(version["VersionId"].get<std::string>()).second, name << ": VersionId listed twice");
    }
    for (const auto& id : known.acknowledged) CHECK_MESSAGE(ids.count(id) == 1, name << ": version " << id << " lost");
    for (const auto& id : known.rotation_tokens) {
      CHECK_MESSAGE(ids.count(id) == 1, name << ": rotation version " << id << " lost");
    }
    if (cut_here && (cut->kind == CutOff::Kind::kPut || cut->kind == CutOff::Kind::kPutLabel) && ids.count(cut->token)) {
      known.values.emplace(cut->token, cut->value);  // the cut-off write happened: its value must be ours
      known.acknowledged.insert(cut->token);
    }
    for (const auto& id : ids) {
      const auto got = connection.call("GetSecretValue", {{"SecretId", name}, {"VersionId", id}});
      if (got.result_int() != 200) {
        // Only a rotation's placeholder has no value yet.
        CHECK_MESSAGE(known.values.count(id) == 0, name << ": version " << id << " lost its value: " << got.body());
        continue;
      }
      const auto value = json_of(got)["SecretString"].get<std::string>();
      const auto [it, first_seen] = known.values.emplace(id, value);
      CHECK_MESSAGE(it->second == value, name << ": version " << id << " changed its value");
    }

    // From here on, what was seen is what is known.
    const auto pending = holders.count("AWSPENDING") ? holders.at("AWSPENDING") : std::string();
    const bool rotating = !pending.empty() && pending != current;
    if (rotating) ++findings.rotations_in_flight;
    known.current = current;
    known.custom.clear();
    for (const auto& label : kCustomLabels) {
      if (holders.count(label)) known.custom[label] = holders.at(label);
    }
    known.rotations.clear();
    if (rotating) known.rotations.insert(pending);
    known.versions = ids.size();
  }
}

// How many secrets have a rotation that has not finished: AWSPENDING on a version other than
// AWSCURRENT's.
std::size_t unfinished_rotations(HttpConnection& connection, const std::vector<Writer>& writers) {
  std::size_t unfinished = 0;
  for (const auto& writer : writers) {
    for (const auto& [name, known] : writer.secrets) {
      if (!known.exists) continue;
      const auto holders = labels_of(json_of(connection.call("DescribeSecret", {{"SecretId", name}})), name);
      const auto pending = holders.find("AWSPENDING");
      if (pending != holders.end() && pending->second != holders.at("AWSCURRENT")) ++unfinished;
    }
  }
  return unfinished;
}

std::size_t resumed_steps(const std::string& server_stderr) {
  static const std::regex kResumed(R"(; ([0-9]+) interrupted rotation steps resumed)");
  std::smatch match;
  return std::regex_search(server_stderr, match, kResumed) ? std::stoul(match[1]) : 0;
}

}  // namespace

TEST_CASE("serve --state: SIGKILL at random moments of a storm loses nothing acknowledged; rotations resume") {
  TempDir dir;
  const auto state = (dir.path() / "state").string();
  const std::vector<std::string> args{"serve",      "--port",     "0", "--state", state, "--function",
                                      std::string(kFast) + "=builtin:template",
                                      "--function", std::string(kSlow) + "=builtin:template?step_seconds=1"};

  std::vector<Writer> writers(kThreads);
  for (int i = 0; i < kThreads; ++i) writers[static_cast<std::size_t>(i)].index = i;
  const SeededRandom seeds(kSeed);
  auto kills = seeds.split("kills");
  RoundFindings findings;
  std::size_t resumed = 0;
  std::size_t torn_tails = 0;

  for (int round = 0; round <= kRounds; ++round) {
    Child server(args);
    const auto line = server.read_line();
    REQUIRE_MESSAGE(line.has_value(), server.stderr_text());
    const auto port = announced_port(*line);
    REQUIRE(port != 0);
    {
      HttpConnection connection(port);
      std::set<std::string> arns;
      for (auto& writer : writers) check_writer(connection, writer, arns, findings);
    }
    const auto text = server.stderr_text();
    CHECK_MESSAGE(text.find(round == 0 ? "new state file" : "secrets;") != std::string::npos, text);
    resumed += resumed_steps(text);
    if (text.find("is incomplete") != std::string::npos) ++torn_tails;
    for (const auto& writer : writers) {
      for (const auto& problem : writer.problems) FAIL_CHECK(problem);
    }
    if (round == kRounds) {
      // The last restart: every rotation left in flight by a kill finishes (slow ones take a few
      // seconds), none is stuck or waiting for a D1 retry.
      HttpConnection connection(port);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
      while (unfinished_rotations(connection, writers) > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      CHECK(unfinished_rotations(connection, writers) == 0);
      std::set<std::string> arns;
      for (auto& writer : writers) check_writer(connection, writer, arns, findings);
      server.signal(SIGTERM);
      CHECK(server.wait() == 0);
      break;
    }

    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (auto& writer : writers) {
      auto random = seeds.split("round " + std::to_string(round) + " writer " + std::to_string(writer.index));
      threads.emplace_back([&writer, port, round, random, &stop] { writer.storm(port, round, random, stop); });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kills.pick(20, 400)));
    server.signal(SIGKILL);
    CHECK_FALSE(server.wait().has_value());  // killed, not exited
    stop = true;
    for (auto& thread : threads) thread.join();
  }

  std::size_t secrets = 0;
  std::size_t versions = 0;
  for (const auto& writer : writers) {
    for (const auto& [name, known] : writer.secrets) {
      secrets += known.exists ? 1 : 0;
      versions += known.values.size();
    }
  }
  MESSAGE("secrets " << secrets << ", versions " << versions << ", rotations in flight at a restart "
                     << findings.rotations_in_flight << ", steps resumed " << resumed << ", torn tails " << torn_tails);
  CHECK(secrets >= 4);
  CHECK(versions >= 50);
  // The kills did land in the middle of rotations, and those rotations resumed.
  CHECK(findings.rotations_in_flight > 0);
}

namespace {

// A state file with a few secrets, written by a server that was then stopped.
std::string saved_state(const std::filesystem::path& dir) {
  const auto state = (dir / "state").string();
  Child server({"serve", "--port", "0", "--state", state});
  const auto port = announced_port(server.read_line().value_or(""));
  REQUIRE(port != 0);
  HttpConnection connection(port);
  for (int i = 0; i < 10; ++i) {
    const auto response = connection.call(
        "CreateSecret", {{"Name", "kept-" + std::to_string(i)},
                         {"ClientRequestToken", "00000000-0000-4000-8000-00000000000" + std::to_string(i)},
                         {"SecretString", "value-" + std::to_string(i)}});
    REQUIRE(response.result_int() == 200);
  }
  server.signal(SIGTERM);
  REQUIRE(server.wait() == 0);
  return state;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace

TEST_CASE("serve --state: a last record cut short loads the records before it, with a warning naming its offset") {
  TempDir dir;
  const auto state = saved_state(dir.path());
  const auto bytes = read_file(state);
  write_file(state, bytes.substr(0, bytes.size() - 3));
  Child server({"serve", "--port", "0", "--state", state});
  const auto port = announced_port(server.read_line().value_or(""));
  REQUIRE_MESSAGE(port != 0, server.stderr_text());
  const auto text = server.stderr_text();
  CHECK_MESSAGE(text.find("smemu serve: warning: --state " + state + ": the last record, at byte ") != std::string::npos,
                text);
  CHECK_MESSAGE(text.find("loaded 9 secrets") != std::string::npos, text);
  HttpConnection connection(port);
  CHECK(connection.call("DescribeSecret", {{"SecretId", "kept-8"}}).result_int() == 200);
  CHECK(connection.call("DescribeSecret", {{"SecretId", "kept-9"}}).result_int() == 400);
  server.signal(SIGTERM);
  CHECK(server.wait() == 0);
}

TEST_CASE("serve --state: a damaged record before the end stops serve with its byte offset; the file stays") {
  TempDir dir;
  const auto state = saved_state(dir.path());
  auto bytes = read_file(state);
  const auto at = bytes.size() / 3;
  bytes[at] = static_cast<char>(bytes[at] ^ 0x20);
  write_file(state, bytes);
  Child server({"serve", "--port", "0", "--state", state});
  CHECK_FALSE(server.read_line().has_value());
  CHECK(server.wait() == 1);
  const auto text = server.stderr_text();
  const std::regex damaged("smemu serve: --state: " + state + R"(: record [0-9]+ at byte ([0-9]+) is damaged)");
  std::smatch match;
  REQUIRE_MESSAGE(std::regex_search(text, match, damaged), text);
  CHECK(std::stoul(match[1]) <= at);
  CHECK(read_file(state) == bytes);
}

}  // namespace smemu
