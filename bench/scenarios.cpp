// Scenarios (issue 4 item 8): random 50-step scenarios (scenarios/generator.h) run by
// run_scenario with the invariants checked after every step on the secrets the step touched.
// The scenarios are generated before the timed part (a pool, run round-robin): the figure is the
// runner's — a fresh Service per scenario, its setup, every step, every invariant check — and
// leaves out the generator, which plays each scenario once more to steer its draws.
#include <fmt/format.h>

#include "bench.h"
#include "smemu/scenarios/generator.h"
#include "smemu/scenarios/runner.h"

namespace smemu::bench {
namespace {

constexpr std::uint64_t kFirstSeed = 20260101;
constexpr std::size_t kSteps = 50;

void scenarios_per_s(const Options& options, Report& report) {
  const std::size_t pool_size = options.quick ? 8 : 512;
  std::vector<scenarios::Scenario> pool;
  pool.reserve(pool_size);
  scenarios::GeneratorOptions generator;
  generator.steps = kSteps;
  for (std::size_t i = 0; i < pool_size; ++i) pool.push_back(scenarios::random_scenario(kFirstSeed + i, generator));

  std::size_t next = 0;
  std::uint64_t incomplete = 0;
  std::optional<std::string> first_failure;
  const auto run = measure(
      options,
      [&] {
        const auto& scenario = pool[next++ % pool.size()];
        const auto played = scenarios::run_scenario(scenario);
        if (played.steps_run != scenario.steps.size()) ++incomplete;
        if (played.failure && !first_failure) {
          first_failure = fmt::format("seed {}: step {} ({}): {}", scenario.setup.seed, played.failure->step,
                                      played.failure->step_description, played.failure->message);
        }
        return !played.failure;
      },
      options.quick ? 8 : 256);
  report.throughput("scenarios_per_s", run);
  if (first_failure) report.problem("first failing scenario: " + *first_failure);
  report.check(incomplete == 0, "every scenario ran all its steps");
  report.note(fmt::format("scenarios_per_s: {} steps per scenario, {} pre-generated scenarios run round-robin, "
                          "{:.0f} steps/s",
                          kSteps, pool.size(), run.per_second() * static_cast<double>(kSteps)));
}

SMEMU_BENCHMARK({"scenarios_per_s"}, scenarios_per_s);

}  // namespace
}  // namespace smemu::bench
