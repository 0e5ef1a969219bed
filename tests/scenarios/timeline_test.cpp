// The timeline recorder and its page (timeline.h). The page as a browser renders it is checked by
// tests/html/ in headless Chromium; these check what the recorder takes and what the markup holds.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "smemu/scenarios/timeline.h"

namespace {

using nlohmann::json;
using namespace smemu::scenarios;

constexpr const char* kFunction = "arn:aws:lambda:us-east-1:123456789012:function:rotate";
constexpr const char* kV1 = "11111111-1111-4111-8111-111111111111";
constexpr const char* kV2 = "22222222-2222-4222-8222-222222222222";
constexpr const char* kValue = "value-<one>&\"quoted\"";

Scenario scenario_with(json steps, std::string description = "") {
  json file = {{"version", 1},
               {"name", "t<i>tle"},
               {"description", std::move(description)},
               {"setup",
                {{"seed", 3},
                 {"functions", {{{"arn", kFunction}, {"spec", "builtin:template"}}}},
                 {"secrets", {{{"Name", "s"}, {"ClientRequestToken", kV1}, {"SecretString", kValue}}}}}},
               {"steps", std::move(steps)}};
  auto parsed = parse_scenario(file);
  REQUIRE_MESSAGE(parsed.ok(), parsed.error().message);
  return *parsed;
}

Timeline record(const Scenario& scenario, bool show_values) {
  Runner runner(scenario.setup);
  TimelineRecorder recorder(runner, scenario.name, scenario.description, show_values);
  recorder.record_setup(runner.setup_failure());
  for (std::size_t i = 0; i < scenario.steps.size(); ++i) {
    recorder.record(scenario.steps[i], i + 1, runner.run(scenario.steps[i], i + 1));
  }
  return recorder.timeline();
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

const json kRotateAll = json::array({
    {{"call", "RotateSecret"},
     {"request", {{"SecretId", "s"}, {"ClientRequestToken", kV2}, {"RotationLambdaARN", kFunction}}}},
    {{"run_until_idle", true}},
    {{"call", "GetSecretValue"},
     {"request", {{"SecretId", "nope"}}},
     {"expect", {{"error", "ResourceNotFoundException"}}}},
});

}  // namespace

TEST_CASE("scenarios/timeline: the recorder takes every version's labels after each step, and the events") {
  const Timeline timeline = record(scenario_with(kRotateAll), false);
  REQUIRE(timeline.steps.size() == 4);
  CHECK(timeline.steps[0].index == 0);
  REQUIRE(timeline.steps[0].secrets.size() == 1);
  REQUIRE(timeline.steps[0].secrets[0].versions.size() == 1);
  CHECK(timeline.steps[0].secrets[0].versions[0].labels == std::vector<std::string>{"AWSCURRENT"});
  CHECK(timeline.steps[0].secrets[0].versions[0].value == "****");

  const auto& after_rotate = timeline.steps[1].secrets.at(0);
  REQUIRE(after_rotate.versions.size() == 2);
  CHECK(after_rotate.versions[1].id == kV2);
  CHECK(after_rotate.versions[1].labels == std::vector<std::string>{"AWSPENDING"});
  CHECK(after_rotate.versions[1].value == "(no value)");
  CHECK(after_rotate.rotation_token == kV2);
  CHECK(after_rotate.rotation.starts_with("createSecret, attempt 1"));

  const auto& done = timeline.steps[2];
  CHECK(done.secrets.at(0).versions[0].labels == std::vector<std::string>{"AWSPREVIOUS"});
  CHECK(done.secrets.at(0).rotation_token.empty());
  bool succeeded = false;
  for (const auto& event : done.events) succeeded = succeeded || event.name == "RotationSucceeded";
  CHECK(succeeded);

  CHECK_FALSE(timeline.steps[1].failed);
  REQUIRE(timeline.steps[3].failed);
  CHECK(timeline.steps[3].failed->starts_with("ResourceNotFoundException: "));
  CHECK_FALSE(timeline.steps[3].unmet);  // the error was expected
}

TEST_CASE("scenarios/timeline: the page puts each label in its version's lane per step, values masked") {
  const std::string page = render_timeline_html(record(scenario_with(kRotateAll), false));
  CHECK(page.starts_with("<!DOCTYPE html>"));
  CHECK(count(page, "class=\"row lane\"") == 2);
  CHECK(page.find(std::string("data-version=\"") + kV1 + "\" data-order=\"1\"") != std::string::npos);
  CHECK(page.find(std::string("data-version=\"") + kV2 + "\" data-order=\"2\"") != std::string::npos);
  CHECK(page.find(std::string("data-label=\"AWSPREVIOUS\" data-step=\"2\" data-version=\"") + kV1 +
                  "\" data-moved=\"true\"") != std::string::npos);
  CHECK(page.find(std::string("data-label=\"AWSCURRENT\" data-step=\"3\" data-version=\"") + kV2 + "\">") !=
        std::string::npos);
  CHECK(count(page, "data-step=\"3\" data-failed=\"true\"") == 2);  // the step list and the column's head
  CHECK(count(page, "data-step=\"2\" data-failed=\"true\"") == 0);
  CHECK(page.find("value-") == std::string::npos);
  CHECK(page.find("http://") == std::string::npos);
  CHECK(page.find("https://") == std::string::npos);
  CHECK(page.find("t&lt;i&gt;tle") != std::string::npos);
  CHECK(page.find("t<i>tle") == std::string::npos);
}

TEST_CASE("scenarios/timeline: --show-secrets shows values, escaped; the page is the same for the same run") {
  const auto scenario = scenario_with(kRotateAll, "a\"b<script>");
  REQUIRE_FALSE(record(scenario, true).steps[0].unmet);
  const std::string page = render_timeline_html(record(scenario, true));
  CHECK(page.find("value-&lt;one&gt;&amp;&quot;quoted&quot;") != std::string::npos);
  CHECK(page.find(kValue) == std::string::npos);
  CHECK(page.find("a&quot;b&lt;script&gt;") != std::string::npos);
  CHECK(count(page, "<script>") == 1);  // the page's own
  CHECK(page == render_timeline_html(record(scenario, true)));
}

TEST_CASE("scenarios/timeline: the page is written with mode 0600, an existing file narrowed") {
  const auto path = std::filesystem::temp_directory_path() / ("smemu-timeline-" + std::to_string(::getpid()) + ".html");
  { std::ofstream(path) << "old"; }
  std::filesystem::permissions(path, std::filesystem::perms::all);
  const Timeline timeline = record(scenario_with(json::array()), false);
  REQUIRE(write_timeline_html(timeline, path.string()).ok());
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 07777) == 0600);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == render_timeline_html(timeline));
  std::filesystem::remove(path);

  const auto written = write_timeline_html(timeline, "/nonexistent-dir/x.html");
  REQUIRE_FALSE(written.ok());
  CHECK(written.error().message == "/nonexistent-dir/x.html: cannot write the file");
}
