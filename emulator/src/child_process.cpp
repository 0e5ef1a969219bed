#include "child_process.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>

namespace smemu::detail {
namespace {

// The child-side ends of the pipes are moved at or above this before the spawn, so that no
// dup2 onto 0..3 can overwrite an end that a later dup2 still needs.
constexpr int kChildFdFloor = 10;
// Without a pidfd (kernels before 5.3) the child's exit is looked for this often.
constexpr std::int64_t kExitCheckNs = 10'000'000;
constexpr std::size_t kReadChunk = 64 * 1024;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

bool make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return true;
}

// Moves `fd` to a descriptor at or above kChildFdFloor (still close-on-exec).
bool raise_fd(Fd& fd) {
  if (fd.get() >= kChildFdFloor) return true;
  const int raised = fcntl(fd.get(), F_DUPFD_CLOEXEC, kChildFdFloor);
  if (raised < 0) return false;
  fd.reset(raised);
  return true;
}

int poll_timeout_ms(std::int64_t ns) {
  if (ns <= 0) return 0;
  // Rounded up, so that a wait never ends just before the time it waits for.
  return static_cast<int>(std::min<std::int64_t>((ns + 999'999) / 1'000'000, INT_MAX));
}

// What one pipe delivers: lines to on_line, and (per stream) a bounded copy.
struct Stream {
  enum class Keep : std::uint8_t { kNothing, kTail, kHead };
  Fd fd;
  Keep keep = Keep::kNothing;
  bool lines = false;  // standard output and error are logged line by line
  std::string partial;
  std::string kept;
};

void deliver(Stream& stream, std::string_view chunk, const ChildSpec& spec) {
  switch (stream.keep) {
    case Stream::Keep::kNothing: break;
    case Stream::Keep::kTail:
      stream.kept.append(chunk);
      // Trimmed now and then rather than per chunk: amortised linear however much arrives.
      if (stream.kept.size() > 2 * kStderrTailBytes) stream.kept.erase(0, stream.kept.size() - kStderrTailBytes);
      break;
    case Stream::Keep::kHead:
      stream.kept.append(chunk.substr(0, kMaxResultBytes - std::min(kMaxResultBytes, stream.kept.size())));
      break;
  }
  if (!stream.lines || !spec.on_line) return;
  stream.partial.append(chunk);
  std::size_t start = 0;
  for (;;) {
    const auto newline = stream.partial.find('\n', start);
    const auto end = std::min(newline, start + kMaxLineBytes);
    if (end >= stream.partial.size()) break;
    spec.on_line(std::string_view(stream.partial).substr(start, end - start));
    start = end == newline ? end + 1 : end;
  }
  stream.partial.erase(0, start);
}

void finish(Stream& stream, const ChildSpec& spec) {
  stream.fd.reset();
  if (stream.lines && spec.on_line && !stream.partial.empty()) spec.on_line(stream.partial);
  stream.partial.clear();
}

// The end of standard error: the last kStderrTailBytes, starting at a line when that cuts it
// (so never inside a UTF-8 sequence either), without trailing white space.
std::string tail_of(std::string text) {
  if (text.size() > kStderrTailBytes) {
    text.erase(0, text.size() - kStderrTailBytes);
    if (const auto newline = text.find('\n'); newline != std::string::npos) {
      text.erase(0, newline + 1);
    } else {
      // No line start to cut at: at least skip the UTF-8 continuation bytes the cut left first.
      const auto first = std::find_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
      });
      text.erase(text.begin(), first);
    }
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) {
    text.pop_back();
  }
  return text;
}

// Starts the child; its pid, or the errno why not.
std::pair<pid_t, int> spawn(const ChildSpec& spec, const Fd& input, const Fd& output, const Fd& error,
                            const Fd& result) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, input.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, output.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, error.get(), STDERR_FILENO);
  if (result.valid()) posix_spawn_file_actions_adddup2(&actions, result.get(), 3);
  // Whatever else is open in smemu without close-on-exec (sockets of other libraries) stays out.
  posix_spawn_file_actions_addclosefrom_np(&actions, result.valid() ? 4 : 3);

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setpgroup(&attributes, 0);  // a group of its own, led by the child
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  // smemu may ignore signals (SIGPIPE); ignored dispositions would survive the exec.
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv;
  for (const auto& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : spec.env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, spec.program.c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  return {spawned == 0 ? pid : -1, spawned};
}

bool has_exited(pid_t pid) {
  siginfo_t info{};
  // WNOWAIT: the child stays a zombie, so its pid (= the group's id) cannot be reused before the
  // group is killed.
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

}  // namespace

std::int64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

ChildOutcome run_child(const ChildSpec& spec) {
  ChildOutcome outcome;
  const auto started = monotonic_ns();
  const auto not_started = [&](int error) {
    outcome.end = ChildOutcome::End::kNotStarted;
    outcome.code = error;
    return outcome;
  };
  if (spec.input.size() > PIPE_BUF) return not_started(E2BIG);

  Fd input_read, input_write;
  std::array<Stream, 3> streams;  // standard output, standard error, the result pipe
  Stream& output = streams[0];
  Stream& error = streams[1];
  Stream& result = streams[2];
  Fd output_write, error_write, result_write;
  if (!make_pipe(input_read, input_write) || !make_pipe(output.fd, output_write) ||
      !make_pipe(error.fd, error_write) || (spec.result_pipe && !make_pipe(result.fd, result_write))) {
    return not_started(errno);
  }
  output.lines = error.lines = true;
  error.keep = Stream::Keep::kTail;
  result.keep = Stream::Keep::kHead;
  // Written whole before the child exists: at most PIPE_BUF bytes into an empty pipe never block,
  // and with no write after the spawn there is no SIGPIPE to fear when the child ignores stdin.
  if (!spec.input.empty()) {
    const auto written = write(input_write.get(), spec.input.data(), spec.input.size());
    if (written != static_cast<ssize_t>(spec.input.size())) return not_started(written < 0 ? errno : EAGAIN);
  }
  input_write.reset();
  for (Fd* fd : {&input_read, &output_write, &error_write, &result_write}) {
    if (fd->valid() && !raise_fd(*fd)) return not_started(errno);
  }

  const auto [pid, spawn_error] = spawn(spec, input_read, output_write, error_write, result_write);
  input_read.reset();
  output_write.reset();
  error_write.reset();
  result_write.reset();
  if (pid < 0) return not_started(spawn_error);

  // By syscall: glibc 2.36's <sys/pidfd.h> declares pidfd_open without C linkage for C++.
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  bool exited = false;
  bool killed = false;
  bool timed_out = false;
  std::int64_t ended = 0;
  std::int64_t drain_until = 0;
  // Killing while the leader is alive or a zombie (never reaped before this) means -pid can only
  // name this child's group.
  const auto kill_group = [&](std::int64_t now) {
    if (killed) return;
    kill(-pid, SIGKILL);
    killed = true;
    drain_until = now + spec.drain_grace_ns;
  };

  for (;;) {
    const auto now = monotonic_ns();
    if (!killed && now >= spec.deadline_ns) {
      timed_out = true;
      ended = now;
      kill_group(now);
    }
    const bool open = std::any_of(streams.begin(), streams.end(), [](const Stream& s) { return s.fd.valid(); });
    if (killed && (!open || now >= drain_until)) break;

    std::array<pollfd, 4> fds{};
    std::array<Stream*, 4> owners{};
    nfds_t count = 0;
    for (auto& stream : streams) {
      if (!stream.fd.valid()) continue;
      owners[count] = &stream;
      fds[count++] = pollfd{stream.fd.get(), POLLIN, 0};
    }
    const bool watch_pidfd = !exited && pidfd.valid();
    if (watch_pidfd) fds[count++] = pollfd{pidfd.get(), POLLIN, 0};
    auto wait_ns = (killed ? drain_until : spec.deadline_ns) - now;
    if (!exited && !pidfd.valid()) wait_ns = std::min(wait_ns, kExitCheckNs);
    if (poll(fds.data(), count, poll_timeout_ms(wait_ns)) < 0 && errno != EINTR) {
      // Cannot watch it any longer (out of memory): end it rather than wait blind.
      if (ended == 0) ended = monotonic_ns();
      kill_group(ended);
      break;
    }

    for (nfds_t i = 0; i < count; ++i) {
      if (owners[i] == nullptr || fds[i].revents == 0) continue;
      Stream& stream = *owners[i];
      char chunk[kReadChunk];
      const auto n = read(stream.fd.get(), chunk, sizeof chunk);
      if (n > 0) {
        deliver(stream, std::string_view(chunk, static_cast<std::size_t>(n)), spec);
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        finish(stream, spec);
      }
    }
    if (!exited && ((watch_pidfd && fds[count - 1].revents != 0) || (!pidfd.valid() && has_exited(pid)))) {
      exited = true;
      if (!killed) ended = monotonic_ns();
      // Whatever the command left running in its group goes with it.
      kill_group(ended);
    }
  }
  for (auto& stream : streams) finish(stream, spec);

  int status = 0;
  pid_t reaped = -1;
  do {
    reaped = waitpid(pid, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  outcome.elapsed = std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(ended - started));
  outcome.stderr_tail = tail_of(std::move(error.kept));
  outcome.result = std::move(result.kept);
  if (timed_out) {
    outcome.end = ChildOutcome::End::kTimedOut;
  } else if (reaped == pid && WIFSIGNALED(status)) {
    outcome.end = ChildOutcome::End::kSignalled;
    outcome.code = WTERMSIG(status);
  } else {
    // Not reaped only when someone set SIGCHLD to SIG_IGN (the kernel reaped it): status unknown.
    outcome.end = ChildOutcome::End::kExited;
    outcome.code = reaped == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return outcome;
}

}  // namespace smemu::detail
