// smemu walk: an interactive step-through for a class. Each key runs one step of a scenario (an
// operation, or one rotation step) and redraws the versions x labels table with the change
// marked, with a sentence on what happened and why; `b` steps back for real; `q` quits.
//
// Stepping back replays: a fresh Runner plays the scenario from its setup up to the step before,
// which gives back the state, the simulated database, the clock and the event log exactly, since
// everything a run does follows from the scenario and its seed. It costs a replay of the steps
// so far (milliseconds for a class-sized scenario) and needs no snapshot of anything.
//
// Keys come from the terminal in raw mode when standard input is one (restored on exit and on
// SIGINT), else one per line from standard input (an empty line is Enter); --auto reads none.
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "commands.h"
#include "lesson.h"

namespace smemu::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: smemu walk [--scenario FILE] [--auto] [--show-secrets]\n\n"
    "Steps through a scenario (the rotation lab by default, one rotation step at a time), drawing\n"
    "the versions x labels table after each step with the change marked and a sentence on what\n"
    "happened and why.\n\n"
    "Keys: Enter, space or n: next step; b: back one step (state, database and clock as they were);\n"
    "q: quit. When standard input is not a terminal, one key per line (an empty line is Enter).\n\n"
    "  --scenario FILE  walk a scenario file (docs/scenarios.md) instead of the lab\n"
    "  --auto           run every step without reading keys, printing each frame; exits 1 if an\n"
    "                   expectation of the scenario is unmet\n"
    "  --show-secrets   show passwords and values (masked as #<hash> otherwise)\n";

constexpr std::string_view kClearScreen = "\x1b[H\x1b[2J";

enum class Key { kNext, kBack, kQuit, kOther };

// The terminal's settings before raw mode, for the SIGINT handler to put back.
termios saved_terminal;

extern "C" void restore_and_reraise(int signal_number) {
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

// Reads keys: raw single bytes from a terminal, else lines.
class KeyReader {
 public:
  KeyReader() : raw_(isatty(STDIN_FILENO) == 1) {
    if (!raw_ || tcgetattr(STDIN_FILENO, &saved_terminal) != 0) {
      raw_ = false;
      return;
    }
    termios raw = saved_terminal;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    std::signal(SIGINT, restore_and_reraise);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
  }
  ~KeyReader() {
    if (!raw_) return;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
    std::signal(SIGINT, SIG_DFL);
  }
  KeyReader(const KeyReader&) = delete;
  KeyReader& operator=(const KeyReader&) = delete;

  // The next key; nullopt at the end of input.
  std::optional<Key> next() {
    char c = '\n';
    if (raw_) {
      if (read(STDIN_FILENO, &c, 1) != 1 || c == 4) return std::nullopt;  // 4: Ctrl-D
    } else {
      std::string line;
      if (!std::getline(std::cin, line)) return std::nullopt;
      if (!line.empty()) c = line.front();
    }
    switch (c) {
      case '\n': case '\r': case ' ': case 'n': return Key::kNext;
      case 'b': return Key::kBack;
      case 'q': return Key::kQuit;
      default: return Key::kOther;
    }
  }

 private:
  bool raw_;
};

class Walk {
 public:
  Walk(scenarios::Scenario scenario, lesson::Style style, bool clear)
      : scenario_(std::move(scenario)), style_(style), clear_(clear) {
    restart();
  }

  const lesson::StepView& shown() const { return shown_; }
  bool at_end() const { return lesson_->done(); }
  bool unmet() const { return unmet_; }

  void next() {
    shown_ = lesson_->play();
    if (shown_.outcome.failure) unmet_ = true;
    if (lesson_->done()) {
      if (auto waiting = lesson_->finish()) {
        shown_.outcome.failure = std::move(waiting);
        unmet_ = true;
      }
    }
  }

  // Back to the frame of the step before the one shown: replay from the setup up to it.
  void back() {
    const std::size_t target = shown_.index - 1;
    restart();
    while (lesson_->played() < target) next();
  }

  void draw(std::string_view message = {}) const {
    if (clear_) std::cout << kClearScreen;
    std::cout << lesson::render_step(shown_, style_);
    if (!message.empty()) std::cout << message << "\n";
    std::cout << (lesson_->done() ? "[end of the scenario]  b: back  q: quit" : "Enter/space/n: next  b: back  q: quit")
              << "\n\n";
    std::cout.flush();
  }

 private:
  void restart() {
    lesson_ = std::make_unique<lesson::Lesson>(scenario_);
    shown_ = lesson_->setup();
    unmet_ = shown_.outcome.failure.has_value();
  }

  scenarios::Scenario scenario_;
  lesson::Style style_;
  bool clear_;
  std::unique_ptr<lesson::Lesson> lesson_;
  lesson::StepView shown_;
  bool unmet_ = false;
};

}  // namespace

int walk_command(Args args) {
  if (wants_help(args)) {
    std::cout << kUsage;
    return kExitOk;
  }
  bool automatic = false;
  bool show_values = false;
  std::vector<std::string_view> rest;
  for (const std::string_view arg : args) {
    if (arg == "--auto") {
      automatic = true;
    } else if (arg == "--show-secrets") {
      show_values = true;
    } else {
      rest.push_back(arg);
    }
  }
  Flags flags{{"scenario", ""}};
  if (const auto problem = parse_flags(rest, flags)) {
    std::cerr << "smemu walk: " << *problem << "\n\n" << kUsage;
    return kExitUsage;
  }
  scenarios::Scenario scenario;
  if (flags["scenario"].empty()) {
    scenario = lesson::lab_scenario();
  } else {
    auto loaded = scenarios::load_scenario(flags["scenario"]);
    if (!loaded) {
      std::cerr << "smemu walk: " << loaded.error().message << "\n";
      return kExitUsage;
    }
    scenario = std::move(*loaded);
  }
  const bool terminal = isatty(STDOUT_FILENO) == 1;
  Walk walk(std::move(scenario), lesson::Style{.colour = terminal, .show_values = show_values},
            terminal && !automatic);
  walk.draw();
  if (walk.shown().outcome.failure) return kExitFailure;  // the setup failed: nothing to walk
  if (automatic) {
    while (!walk.at_end()) {
      walk.next();
      walk.draw();
    }
    return walk.unmet() ? kExitFailure : kExitOk;
  }
  KeyReader keys;
  while (const auto key = keys.next()) {
    switch (*key) {
      case Key::kNext:
        if (walk.at_end()) {
          walk.draw("That was the last step.");
        } else {
          walk.next();
          walk.draw();
        }
        break;
      case Key::kBack:
        if (walk.shown().index == 0) {
          walk.draw("Already at the start.");
        } else {
          walk.back();
          walk.draw();
        }
        break;
      case Key::kQuit: return kExitOk;
      case Key::kOther: break;
    }
  }
  return kExitOk;
}

}  // namespace smemu::cli
