// smemu: dispatches on the subcommand named by the first argument.
#include <iostream>
#include <string_view>
#include <vector>

#include "commands.h"

namespace {

using smemu::cli::Args;

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(Args args);
};

constexpr Command kCommands[] = {
    {"clock", "read or move a running server's clock (admin API)", &smemu::cli::clock_command},
    {"events", "read a running server's event log (admin API)", &smemu::cli::events_command},
    {"explore", "run random scenarios with faults, check the invariants, shrink a failure", &smemu::cli::explore_command},
    {"functions", "register a rotation function on a running server (admin API)", &smemu::cli::functions_command},
    {"health", "check that a server answers (admin API)", &smemu::cli::health_command},
    {"lab", "the rotation lab: an RDS-style secret rotated step by step, checked end to end", &smemu::cli::lab_command},
    {"replay", "run a scenario file step by step, checking its expectations", &smemu::cli::replay_command},
    {"reset", "empty a running server's state (admin API)", &smemu::cli::reset_command},
    {"serve", "serve the Secrets Manager API (AWS JSON 1.1) over HTTP", &smemu::cli::serve_command},
    {"wait", "wait for a secret's rotation on a running server (admin API)", &smemu::cli::wait_command},
    {"walk", "step through the lab or a scenario, one key per step, with b to step back", &smemu::cli::walk_command},
};

void print_usage(std::ostream& out) {
  out << "usage: smemu <command> [flags]\n"
         "       smemu --version | --help\n\n"
         "An offline, deterministic emulator of AWS Secrets Manager.\n\n"
         "commands:\n";
  for (const Command& command : kCommands) out << "  " << command.name << "    " << command.summary << "\n";
  out << "\nRun 'smemu <command> --help' for the flags of a command.\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_usage(std::cerr);
    return smemu::cli::kExitUsage;
  }
  const std::string_view name = args.front();
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(std::cout);
    return smemu::cli::kExitOk;
  }
  if (name == "--version") {
    std::cout << "smemu " << SMEMU_VERSION << "\n";
    return smemu::cli::kExitOk;
  }
  for (const Command& command : kCommands) {
    if (command.name == name) return command.run(Args(args).subspan(1));
  }
  std::cerr << "smemu: unknown command '" << name << "'\n\n";
  print_usage(std::cerr);
  return smemu::cli::kExitUsage;
}
