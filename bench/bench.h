// The benchmark registry of smemu-bench and the helpers every benchmark shares.
//
// A benchmark is a function that reports one or more metrics (their names are contracts: the
// JSON keys of `smemu-bench --json`) and the problems it saw: calls that failed, end states that
// did not hold. Adding one is a few lines in any bench/*.cpp:
//
//   SMEMU_BENCHMARK({"rotations_per_s"}, [](const bench::Options& options, bench::Report& report) {
//     ...
//     const auto run = bench::measure(options, [&] { return client.rotate_secret({...}).ok(); });
//     report.throughput("rotations_per_s", run);
//   });
//
// Benchmarks call the public typed API exactly as a user would; main.cpp runs each one in a
// process of its own, pinned to one core.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smemu::bench {

struct Options {
  // A smoke run: small counts and short runs, to check that every benchmark works (ctest).
  bool quick = false;
  // The shortest measured run of a throughput figure.
  double min_seconds() const { return quick ? 0.01 : 1.0; }
  // How many secrets "1,000,000 secrets" means in this run.
  std::size_t million() const { return quick ? 10'000 : 1'000'000; }
};

// Calls made, calls that failed, and the time they took: CPU time of the calling thread (user
// and system), which is wall time on an idle core but leaves out the time slices other processes
// take on a busy machine; and wall time, for the record.
struct Throughput {
  std::uint64_t calls = 0;
  std::uint64_t failures = 0;
  double cpu_seconds = 0;
  double wall_seconds = 0;
  double per_second() const { return cpu_seconds > 0 ? static_cast<double>(calls) / cpu_seconds : 0; }
  double per_wall_second() const { return wall_seconds > 0 ? static_cast<double>(calls) / wall_seconds : 0; }
};

// What one benchmark found.
class Report {
 public:
  void metric(std::string_view name, double value) { metrics_.emplace_back(std::string(name), value); }
  // The metric `name` as calls per second; failed calls are a problem.
  void throughput(std::string_view name, const Throughput& run);
  // Fails the run when `holds` is false; `what` says which end-state check it was.
  void check(bool holds, std::string_view what);
  void problem(std::string text) { problems_.push_back(std::move(text)); }
  // A line for the human-readable output only (never in the JSON).
  void note(std::string text) { notes_.push_back(std::move(text)); }

  const std::vector<std::pair<std::string, double>>& metrics() const { return metrics_; }
  const std::vector<std::string>& problems() const { return problems_; }
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  std::vector<std::pair<std::string, double>> metrics_;
  std::vector<std::string> problems_;
  std::vector<std::string> notes_;
};

using Run = std::function<void(const Options&, Report&)>;

struct Benchmark {
  std::vector<std::string> metrics;  // the names it reports
  Run run;
};

// Every registered benchmark, in registration order.
std::vector<Benchmark>& registry();

struct Registration {
  Registration(std::initializer_list<std::string_view> metrics, Run run);
};

#define SMEMU_BENCH_CONCAT2(a, b) a##b
#define SMEMU_BENCH_CONCAT(a, b) SMEMU_BENCH_CONCAT2(a, b)
#define SMEMU_BENCHMARK(metrics, ...) \
  static const ::smemu::bench::Registration SMEMU_BENCH_CONCAT(smemu_bench_, __LINE__)(metrics, __VA_ARGS__)

// CPU time consumed by the calling thread so far, in seconds.
double thread_cpu_seconds();

// Calls `call` (which returns whether the call succeeded) in batches until at least
// options.min_seconds() of CPU time have passed. The clocks are read once per batch, not per call.
template <class Call>
Throughput measure(const Options& options, Call&& call, std::uint64_t batch = 1000) {
  using Clock = std::chrono::steady_clock;
  Throughput run;
  const auto wall_start = Clock::now();
  const auto cpu_start = thread_cpu_seconds();
  while (run.cpu_seconds < options.min_seconds()) {
    for (std::uint64_t i = 0; i < batch; ++i) {
      if (!call()) ++run.failures;
    }
    run.calls += batch;
    run.cpu_seconds = thread_cpu_seconds() - cpu_start;
  }
  run.wall_seconds = std::chrono::duration<double>(Clock::now() - wall_start).count();
  return run;
}

// Resident memory of this process in bytes (/proc/self/statm).
std::size_t resident_bytes();

// A secret value of `size` bytes that differs with `seed`.
std::string value_of_size(std::size_t size, std::uint64_t seed);

}  // namespace smemu::bench
