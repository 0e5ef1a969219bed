// Rotations (issue 3 item 8): full four-step rotations with builtin:template across 10,000
// secrets, and a month of rate(30 days) schedules over 1,000,000 secrets.
#include <fmt/format.h>

#include "bench.h"
#include "smemu/emulator/service.h"

namespace smemu::bench {
namespace {

constexpr std::string_view kRegion = "us-east-1";
constexpr std::string_view kFunction = "arn:aws:lambda:us-east-1:123456789012:function:bench-template";

std::string secret_name(std::size_t i) { return fmt::format("bench/rotating-{:07}", i); }

// RotateSecret on every secret, then run_until_idle() runs the 4 steps of each; a rotation is
// counted when its secret's AWSCURRENT is on the new token at the end.
void rotations(const Options& options, Report& report) {
  const std::size_t secrets = options.quick ? 100 : 10'000;
  Service service;
  auto client = service.client(std::string(kRegion));
  report.check(service.register_function(std::string(kFunction), "builtin:template").ok(), "function registered");
  std::vector<std::string> names(secrets);  // held, as a caller would, rather than formatted per call
  for (std::size_t i = 0; i < secrets; ++i) {
    names[i] = secret_name(i);
    report.check(client.create_secret({.name = names[i], .secret_string = value_of_size(100, i)}).ok(),
                 "CreateSecret succeeded");
  }
  std::vector<std::string> tokens(secrets);
  std::uint64_t rounds = 0;
  std::uint64_t steps = 0;
  const auto run = measure(
      options,
      [&] {
        bool ok = true;
        for (std::size_t i = 0; i < secrets; ++i) {
          auto rotated = client.rotate_secret({.secret_id = names[i], .rotation_lambda_arn = std::string(kFunction)});
          ok = ok && rotated.ok();
          if (rotated.ok()) tokens[i] = *rotated->version_id;
        }
        steps += service.run_until_idle();
        ++rounds;
        return ok;
      },
      1);
  // One "call" of the measurement is a round over every secret: report rotations, not rounds.
  Throughput per_rotation = run;
  per_rotation.calls = run.calls * secrets;
  per_rotation.failures = run.failures * secrets;
  report.throughput("rotations_per_s", per_rotation);
  report.check(steps == rounds * secrets * 4, "every rotation ran its four steps");
  std::size_t finished = 0;
  for (std::size_t i = 0; i < secrets; ++i) {
    auto current = client.get_secret_value({.secret_id = names[i]});
    finished += current.ok() && current->version_id == tokens[i] &&
                current->version_stages == std::vector<std::string>{"AWSCURRENT", "AWSPENDING"};
  }
  report.check(finished == secrets, "every secret's AWSCURRENT is on its last rotation's token");
}

// Every secret gets a rate(30 days) schedule (RotateImmediately=false, so its first rotation is
// the next window, D2); the clock is moved to the next day, then the timed part: advance() 30
// days, in which every secret's window comes and it rotates once.
void month(const Options& options, Report& report) {
  const std::size_t secrets = options.million();
  Service service;
  auto client = service.client(std::string(kRegion));
  report.check(service.register_function(std::string(kFunction), "builtin:template").ok(), "function registered");
  for (std::size_t i = 0; i < secrets; ++i) {
    const auto name = secret_name(i);
    bool ok = client.create_secret({.name = name, .secret_string = value_of_size(100, i)}).ok();
    ok = ok && client
                   .rotate_secret({.secret_id = name, .rotation_lambda_arn = std::string(kFunction),
                                   .rotation_rules = api::RotationRules{.schedule_expression = "rate(30 days)"},
                                   .rotate_immediately = false})
                   .ok();
    report.check(ok, "CreateSecret and RotateSecret succeeded");
  }
  service.advance(days(1));  // the D2 tests run; nothing is due until day 30
  const auto wall_start = std::chrono::steady_clock::now();
  const auto cpu_start = thread_cpu_seconds();
  service.advance(days(30));
  const double cpu = thread_cpu_seconds() - cpu_start;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  report.metric("month_over_1m_secrets_s", cpu);
  report.note(fmt::format("month_over_1m_secrets_s: {} secrets, {:.2f} s of CPU time ({:.2f} s wall)", secrets, cpu, wall));
  std::size_t once = 0;
  for (std::size_t i = 0; i < secrets; ++i) {
    // Rotated exactly once: the first version is AWSPREVIOUS, the one rotation's is AWSCURRENT,
    // and nothing else is there (D2's test version was dropped).
    auto versions = client.list_secret_version_ids({.secret_id = secret_name(i), .include_deprecated = true});
    once += versions.ok() && versions->versions->size() == 2 &&
            client.get_secret_value({.secret_id = secret_name(i), .version_stage = "AWSPREVIOUS"}).ok();
  }
  report.check(once == secrets, "every secret rotated exactly once");
}

SMEMU_BENCHMARK({"rotations_per_s"}, rotations);
SMEMU_BENCHMARK({"month_over_1m_secrets_s"}, month);

}  // namespace
}  // namespace smemu::bench
