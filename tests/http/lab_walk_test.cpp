// `smemu lab` and `smemu walk` end to end: the README's first command runs the lab; walk steps
// forward and back on keys read from standard input (not a terminal here, so no colour).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "http/cli_child.h"

namespace smemu {
namespace {

using test::Child;

// Standard input of the children started while it lives: a file holding `text`.
class StdinFrom {
 public:
  explicit StdinFrom(const std::string& text) {
    std::string pattern = (std::filesystem::temp_directory_path() / "smemu-walk-keys-XXXXXX").string();
    const int file = mkstemp(pattern.data());
    REQUIRE(file >= 0);
    path_ = pattern;
    REQUIRE(write(file, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    REQUIRE(lseek(file, 0, SEEK_SET) == 0);
    saved_ = dup(STDIN_FILENO);
    REQUIRE(saved_ >= 0);
    REQUIRE(dup2(file, STDIN_FILENO) == STDIN_FILENO);
    close(file);
  }
  StdinFrom(const StdinFrom&) = delete;
  StdinFrom& operator=(const StdinFrom&) = delete;
  ~StdinFrom() {
    dup2(saved_, STDIN_FILENO);
    close(saved_);
    std::filesystem::remove(path_);
  }

 private:
  std::filesystem::path path_;
  int saved_ = -1;
};

struct Run {
  std::string out;
  std::optional<int> code;
};

Run run(const std::vector<std::string>& args, const std::string& keys = "") {
  StdinFrom input(keys);
  Child child(args);
  Run result;
  result.out = child.read_all();
  result.code = child.wait();
  if (result.code != std::optional<int>(0)) MESSAGE(child.stderr_text());
  return result;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The frames walk drew, each from its "== step" heading to the next.
std::vector<std::string> frames(const std::string& out) {
  std::vector<std::string> found;
  std::size_t at = out.find("== step ");
  while (at != std::string::npos) {
    const std::size_t next = out.find("== step ", at + 1);
    found.push_back(out.substr(at, next == std::string::npos ? std::string::npos : next - at));
    at = next;
  }
  return found;
}

// The first "pw#xxxxxx" tag on the line of `label` in `frame`.
std::string tag_at(const std::string& frame, const std::string& label) {
  static const std::regex kTag("pw#[0-9a-f]{6}");
  std::smatch match;
  const std::regex line("\n    " + label + " +[0-9a-f-]{36}  [^\n]*");
  if (!std::regex_search(frame, match, line)) return {};
  const std::string text = match.str();
  if (!std::regex_search(text, match, kTag)) return {};
  return match.str();
}

TEST_CASE("smemu lab runs the rotation lab end to end and checks its claims") {
  const auto lab = run({"lab"});
  REQUIRE(lab.code == std::optional<int>(0));
  const std::string& out = lab.out;
  // The secret, with tags, and the function.
  CHECK(has(out, "Tags: team=payments, environment=lab"));
  CHECK(has(out, "rds-single-user = builtin:single-user registered"));
  // The IAM section, per step.
  CHECK(has(out, "== IAM: what the rotation function needs (spec 9.1) =="));
  CHECK(has(out, "secretsmanager.amazonaws.com"));
  CHECK(has(out, "lambda:InvokeFunction"));
  CHECK(std::regex_search(out, std::regex("\n  createSecret +[^\n]*secretsmanager:GetRandomPassword \\(on \\*\\)[^\n]*"
                                          "secretsmanager:PutSecretValue")));
  CHECK(std::regex_search(out, std::regex("\n  finishSecret +[^\n]*secretsmanager:UpdateSecretVersionStage")));
  for (const auto* step : {"setSecret", "testSecret"}) {
    CHECK(std::regex_search(out, std::regex(std::string("\n  ") + step + " +secretsmanager:DescribeSecret")));
  }
  CHECK(has(out, "ec2:CreateNetworkInterface"));
  CHECK(has(out, "kms:Decrypt, kms:GenerateDataKey"));
  CHECK(has(out, "secretsmanager:resource/AllowRotationLambdaArn"));
  // The four steps, each with its table and the secret at the three labels.
  const auto steps = frames(out);
  REQUIRE(steps.size() == 9);  // the setup and the eight steps of lab.json
  const char* names[] = {"createSecret", "setSecret", "testSecret", "finishSecret"};
  for (int i = 0; i < 4; ++i) {
    const std::string& frame = steps[static_cast<std::size_t>(3 + i)];
    CHECK(has(frame, "rotation step =="));
    CHECK(has(frame, std::string("-> ") + names[i] + " (attempt 1) succeeded"));
    CHECK(std::regex_search(frame, std::regex("VersionId +AWSCURRENT  AWSPENDING")));
    for (const auto* label : {"\n    AWSCURRENT  ", "\n    AWSPENDING  ", "\n    AWSPREVIOUS "}) CHECK(has(frame, label));
  }
  CHECK(has(steps[6], "AWSCURRENT moved from 11111111 to 22222222, AWSPREVIOUS followed the old one"));
  // Masked, consistently: the initial password's tag moves from AWSCURRENT to AWSPREVIOUS.
  CHECK_FALSE(has(out, "initial-password"));
  const std::string initial = tag_at(steps[0], "AWSCURRENT");
  REQUIRE_FALSE(initial.empty());
  CHECK(tag_at(steps[6], "AWSPREVIOUS") == initial);
  CHECK(tag_at(steps[6], "AWSCURRENT") != initial);
  CHECK(tag_at(steps[6], "AWSCURRENT") == tag_at(steps[6], "AWSPENDING"));
  // The database takes only the new password, after the rotation and after the scheduled one.
  CHECK(std::regex_search(out, std::regex("ok: the old password \\(AWSPREVIOUS, app / pw#[0-9a-f]{6}\\) is refused: refused")));
  CHECK(std::regex_search(out, std::regex("ok: the new password \\(AWSCURRENT, app / pw#[0-9a-f]{6}\\) is accepted: accepted")));
  // 30 days later, the scheduled rotation.
  CHECK(has(steps[8], "advance 30d"));
  CHECK(has(steps[8], "clock 2026-01-31T23:00:00Z"));
  CHECK(has(out, "ok: the scheduled rotation ran while the clock moved 30 days"));
  CHECK(has(out, "ok: it made a third version, which now holds AWSCURRENT"));
  // The event log, in order.
  const auto log = out.find("== Event log ==");
  REQUIRE(log != std::string::npos);
  std::size_t at = log;
  for (const auto* name : {" RotationStarted ", " PutSecretValue ", " Secret Label Updated ", " RotationSucceeded ",
                           " RotationStarted ", " RotationSucceeded "}) {
    at = out.find(name, at);
    CHECK_MESSAGE(at != std::string::npos, name);
    if (at == std::string::npos) break;
  }
  CHECK_FALSE(has(out, "FAILED"));
  CHECK(std::regex_search(out, std::regex("\nlab: ok, 8 steps, [0-9]+ checks\n$")));
  CHECK_FALSE(has(out, "\x1b["));  // not a terminal: no escapes
}

TEST_CASE("smemu lab --show-secrets shows the passwords") {
  const auto lab = run({"lab", "--show-secrets"});
  REQUIRE(lab.code == std::optional<int>(0));
  CHECK(has(lab.out, "\"password\":\"initial-password\""));
  CHECK(has(lab.out, "app / initial-password) is refused"));
  CHECK_FALSE(has(lab.out, "pw#"));
}

TEST_CASE("smemu lab is deterministic") {
  CHECK(run({"lab"}).out == run({"lab"}).out);
}

TEST_CASE("smemu walk --auto runs every step of the lab without colour") {
  const auto walk = run({"walk", "--auto"});
  REQUIRE(walk.code == std::optional<int>(0));
  const auto drawn = frames(walk.out);
  REQUIRE(drawn.size() == 9);
  CHECK(has(drawn[0], "== step 0/8: setup =="));
  CHECK(has(drawn[8], "== step 8/8: advance 30d =="));
  CHECK(has(drawn[8], "[end of the scenario]"));
  CHECK(has(drawn[1], "\n+   22222222-2222-4222-8222-222222222222  "));  // the new version is marked
  CHECK(has(drawn[6], "(+ new version, +X label arrived, - label left, * new value)"));
  CHECK(std::regex_search(drawn[6], std::regex("\n    11111111-1111-4111-8111-111111111111  -  +\\.  +\\+X ")));
  CHECK_FALSE(has(walk.out, "\x1b["));
}

TEST_CASE("smemu walk reads keys from standard input and b steps back for real") {
  const auto walk = run({"walk"}, "n\nn\nb\nq\n");
  REQUIRE(walk.code == std::optional<int>(0));
  const auto drawn = frames(walk.out);
  REQUIRE(drawn.size() == 4);
  CHECK(has(drawn[1], "== step 1/8: RotateSecret"));
  CHECK(has(drawn[2], "== step 2/8: RotateSecret"));
  CHECK(has(drawn[2], "was refused with InvalidRequestException"));
  CHECK(drawn[3] == drawn[1]);  // the table, the clock, the database, the events: as before step 2
  CHECK_FALSE(has(walk.out, "\x1b["));
}

TEST_CASE("smemu walk: stepping back over the 30-day advance puts the clock and the database back") {
  const auto walk = run({"walk"}, "n\nn\nn\nn\nn\nn\nn\nn\nb\nq\n");
  REQUIRE(walk.code == std::optional<int>(0));
  const auto drawn = frames(walk.out);
  REQUIRE(drawn.size() == 10);
  CHECK(has(drawn[8], "clock 2026-01-31T23:00:00Z"));
  CHECK(has(drawn[9], "== step 7/8: DescribeSecret"));
  CHECK(has(drawn[9], "clock 2026-01-01T23:00:00Z"));
  CHECK(drawn[9] == drawn[7]);
}

TEST_CASE("smemu walk --scenario walks an example file and an empty line is Enter") {
  const std::string file = std::string(SMEMU_SOURCE_ROOT) + "/scenarios/examples/rollback.json";
  const auto automatic = run({"walk", "--auto", "--scenario", file});
  REQUIRE(automatic.code == std::optional<int>(0));
  CHECK_FALSE(has(automatic.out, "UNMET"));
  CHECK(has(automatic.out, "[end of the scenario]"));
  const auto keyed = run({"walk", "--scenario", file}, "\n\nq\n");
  REQUIRE(keyed.code == std::optional<int>(0));
  CHECK(frames(keyed.out).size() == 3);
}

TEST_CASE("smemu walk --scenario with a missing file is a usage error") {
  Child child({"walk", "--scenario", "/nonexistent/scenario.json", "--auto"});
  child.read_all();
  CHECK(child.wait() == std::optional<int>(2));
}

}  // namespace
}  // namespace smemu
