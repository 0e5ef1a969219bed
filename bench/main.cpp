// smemu-bench: the emulator's throughput and memory figures (docs/performance.md).
//
//   smemu-bench [--json] [--only NAME[,NAME...]] [--quick]
//
// --json   the last line of output is one JSON object {"metric": value, ...}
// --only   runs the benchmarks that report these metrics, and reports only these
// --quick  a smoke run: small counts, short runs (the bench_smoke test)
//
// Every benchmark runs in a child process of its own, so that none inherits another's heap (which
// would distort bytes_per_secret) or caches; all are pinned to CPU 0, the "one core" of the figures,
// except the HTTP figures (http.cpp), whose generator and `smemu serve` child share every core.
// Exit status: 0 when every call succeeded and every end-state check held, 1 otherwise, 2 on a
// usage error.
#include <sched.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "bench.h"

namespace smemu::bench {

std::vector<Benchmark>& registry() {
  static std::vector<Benchmark> benchmarks;
  return benchmarks;
}

Registration::Registration(std::initializer_list<std::string_view> metrics, Run run) {
  registry().push_back(Benchmark{{metrics.begin(), metrics.end()}, std::move(run)});
}

void Report::throughput(std::string_view name, const Throughput& run) {
  metric(name, run.per_second());
  note(fmt::format("{}: {} calls in {:.2f} s of CPU time ({:.2f} s wall: {:.0f}/s)", name, run.calls, run.cpu_seconds,
                   run.wall_seconds, run.per_wall_second()));
  if (run.failures > 0) problem(fmt::format("{}: {} of {} calls failed", name, run.failures, run.calls));
}

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

void Report::check(bool holds, std::string_view what) {
  if (!holds) problem(fmt::format("end state: {}", what));
}

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size_pages = 0;
  std::size_t resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

std::string value_of_size(std::size_t size, std::uint64_t seed) {
  auto text = fmt::format("{{\"username\":\"user-{}\",\"password\":\"", seed);
  while (text.size() + 2 < size) text.push_back(static_cast<char>('a' + (seed + text.size()) % 26));
  text += "\"}";
  text.resize(size, '}');
  return text;
}

namespace {

struct Args {
  bool json = false;
  Options options;
  std::set<std::string> only;  // empty: everything
};

bool parse(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--json") {
      args.json = true;
    } else if (arg == "--quick") {
      args.options.quick = true;
    } else if (arg == "--only" && i + 1 < argc) {
      std::stringstream names(argv[++i]);
      for (std::string name; std::getline(names, name, ',');) {
        if (!name.empty()) args.only.insert(name);
      }
    } else {
      return false;
    }
  }
  return true;
}

bool selected(const Args& args, const Benchmark& benchmark) {
  if (args.only.empty()) return true;
  for (const auto& name : benchmark.metrics) {
    if (args.only.contains(name)) return true;
  }
  return false;
}

// Child → parent, one record per line: "M <name> <value>", "P <problem>" or "N <note>".
void send(int fd, const Report& report) {
  std::string out;
  for (const auto& [name, value] : report.metrics()) out += fmt::format("M {} {:.17g}\n", name, value);
  const auto lines = [&](char kind, const std::vector<std::string>& texts) {
    for (auto text : texts) {
      std::replace(text.begin(), text.end(), '\n', ' ');
      out += fmt::format("{} {}\n", kind, text);
    }
  };
  lines('P', report.problems());
  lines('N', report.notes());
  std::string_view rest = out;
  while (!rest.empty()) {
    const auto written = write(fd, rest.data(), rest.size());
    if (written <= 0) break;
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
}

Report receive(int fd) {
  std::string in;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) in.append(buffer, static_cast<std::size_t>(n));
  Report report;
  std::stringstream lines(in);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("M ")) {
      const auto space = line.rfind(' ');
      report.metric(line.substr(2, space - 2), std::strtod(line.c_str() + space + 1, nullptr));
    } else if (line.starts_with("P ")) {
      report.problem(line.substr(2));
    } else if (line.starts_with("N ")) {
      report.note(line.substr(2));
    }
  }
  return report;
}

// Runs `benchmark` in a child process and collects its report.
Report run_isolated(const Benchmark& benchmark, const Options& options) {
  int fds[2];
  if (pipe(fds) != 0) {
    Report report;
    report.problem("pipe() failed");
    return report;
  }
  std::fflush(stdout);
  std::cout.flush();
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    Report report;
    benchmark.run(options, report);
    send(fds[1], report);
    close(fds[1]);
    std::fflush(stdout);
    std::cout.flush();
    _exit(0);
  }
  close(fds[1]);
  Report report = child > 0 ? receive(fds[0]) : Report{};
  close(fds[0]);
  int status = 0;
  if (child < 0) {
    report.problem("fork() failed");
  } else if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    report.problem(fmt::format("{} crashed (wait status {})", fmt::join(benchmark.metrics, ","), status));
  }
  return report;
}

}  // namespace
}  // namespace smemu::bench

int main(int argc, char** argv) {
  using namespace smemu::bench;
  Args args;
  if (!parse(argc, argv, args)) {
    std::cerr << "usage: smemu-bench [--json] [--only NAME[,NAME...]] [--quick]\n";
    return 2;
  }
  std::set<std::string> known;
  for (const auto& benchmark : registry()) known.insert(benchmark.metrics.begin(), benchmark.metrics.end());
  for (const auto& name : args.only) {
    if (!known.contains(name)) {
      std::cerr << "smemu-bench: unknown metric " << name << "; known: " << fmt::format("{}", fmt::join(known, ", "))
                << "\n";
      return 2;
    }
  }

  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(0, &cpus);
  if (sched_setaffinity(0, sizeof cpus, &cpus) != 0) std::cout << "warning: could not pin to CPU 0\n";
  std::cout << fmt::format("smemu-bench{}: one core (CPU 0)\n", args.options.quick ? " --quick" : "");

  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  int problems = 0;
  for (const auto& benchmark : registry()) {
    if (!selected(args, benchmark)) continue;
    const auto report = run_isolated(benchmark, args.options);
    for (const auto& [name, value] : report.metrics()) {
      if (!args.only.empty() && !args.only.contains(name)) continue;
      std::cout << fmt::format("{:<36} {:>16.0f}\n", name, value);
      metrics[name] = std::round(value);
    }
    for (const auto& note : report.notes()) std::cout << "  " << note << "\n";
    for (const auto& problem : report.problems()) {
      std::cout << "FAILED: " << problem << "\n";
      ++problems;
    }
  }
  if (args.json) std::cout << metrics.dump() << "\n";
  return problems == 0 ? 0 : 1;
}
