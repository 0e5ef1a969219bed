// run_child: one short-lived child process run to its end, for the process functions
// (process_function.cpp). The child gets a process group of its own, default signal dispositions,
// an empty signal mask, `input` on standard input, pipes for standard output and error (and
// optionally fd 3), and no other descriptor. Its output is read as it comes (poll over every
// pipe, so a full pipe never blocks it); at the deadline, or as soon as the child itself has
// exited, the whole group is killed with SIGKILL, the pipes are drained and the child is reaped.
//
// Thread-safety: any number of run_child calls may run at once; every descriptor smemu opens is
// close-on-exec, so no child inherits another's pipes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "smemu/model/time.h"

namespace smemu::detail {

// CLOCK_MONOTONIC in nanoseconds: the deadline's clock (Python's time.monotonic_ns() reads it
// too, which is how the adapter's get_remaining_time_in_millis() sees the same deadline).
std::int64_t monotonic_ns();

struct ChildSpec {
  std::string program;            // an absolute path
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> env;   // KEY=VALUE, the child's whole environment
  // Standard input, then end of file. REQUIRES: at most PIPE_BUF bytes (written into the pipe
  // before the child starts, which never blocks at that size).
  std::string input;
  bool result_pipe = false;          // fd 3 is a pipe whose content is ChildOutcome::result
  std::int64_t deadline_ns = 0;      // on monotonic_ns()
  std::int64_t drain_grace_ns = 0;   // how long to drain the pipes after the kill
  // Each line of standard output and error (without its newline; a line longer than
  // kMaxLineBytes arrives in pieces), on the calling thread.
  std::function<void(std::string_view line)> on_line;
};

inline constexpr std::size_t kMaxLineBytes = 8 * 1024;
inline constexpr std::size_t kStderrTailBytes = 4 * 1024;
inline constexpr std::size_t kMaxResultBytes = 64 * 1024;

struct ChildOutcome {
  enum class End : std::uint8_t { kExited, kSignalled, kTimedOut, kNotStarted };
  End end = End::kNotStarted;
  int code = 0;             // exit status (kExited), signal (kSignalled), errno (kNotStarted)
  std::string stderr_tail;  // the last kStderrTailBytes at most, from a line's start when cut
  std::string result;       // fd 3's content, the first kMaxResultBytes at most
  Duration elapsed{};       // from just before the spawn to the child's end
};

ChildOutcome run_child(const ChildSpec& spec);

}  // namespace smemu::detail
