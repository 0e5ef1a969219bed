// smemu demo: a short walk through the version and label lifecycle on a virtual clock: create,
// a default put, a put with a custom label, a label move and back, and one rotation by the
// built-in template function, step by step, with the versions x labels table after each.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>

#include "commands.h"
#include "smemu/emulator/service.h"

namespace smemu::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: smemu demo [--seed N]\n\n"
    "Walks through Secrets Manager's version and label lifecycle offline, on a virtual clock that\n"
    "starts at 2026-01-01T00:00:00Z, and prints the versions x labels table after each step.\n";
constexpr std::string_view kSecret = "demo/database";
constexpr std::string_view kFunction = "arn:aws:lambda:us-east-1:123456789012:function:demo-rotation";

// Versions as rows (newest last), labels as columns; deprecated versions marked as such.
void print_table(Client& client) {
  auto listed = client.list_secret_version_ids({.secret_id = std::string(kSecret), .include_deprecated = true});
  if (!listed) return;
  auto versions = listed->versions.value_or(std::vector<api::SecretVersionsListEntry>{});
  std::reverse(versions.begin(), versions.end());  // the listing is newest first
  std::vector<std::string> columns{"AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"};
  for (const auto& version : versions) {
    for (const auto& label : version.version_stages.value_or(std::vector<std::string>{})) {
      if (std::find(columns.begin(), columns.end(), label) == columns.end()) columns.push_back(label);
    }
  }
  std::cout << "    " << std::left << std::setw(38) << "VersionId";
  for (const auto& column : columns) std::cout << std::setw(static_cast<int>(column.size()) + 2) << column;
  std::cout << "\n";
  for (const auto& version : versions) {
    const auto labels = version.version_stages.value_or(std::vector<std::string>{});
    std::cout << "    " << std::setw(38) << *version.version_id;
    for (const auto& column : columns) {
      const bool has = std::find(labels.begin(), labels.end(), column) != labels.end();
      std::cout << std::setw(static_cast<int>(column.size()) + 2) << (has ? "  x" : "  .");
    }
    if (labels.empty()) std::cout << "(deprecated)";
    std::cout << "\n";
  }
}

template <class Response>
bool report(std::string_view what, const Result<Response>& result) {
  std::cout << "\n$ " << what << "\n";
  if (!result) {
    std::cout << "  -> " << result.error().name() << ": " << result.error().message << "\n";
    return false;
  }
  return true;
}

}  // namespace

int demo_command(Args args) {
  if (wants_help(args)) {
    std::cout << kUsage;
    return kExitOk;
  }
  Flags flags{{"seed", "0"}};
  if (const auto problem = parse_flags(args, flags)) {
    std::cerr << "smemu demo: " << *problem << "\n\n" << kUsage;
    return kExitUsage;
  }
  const auto seed = parse_unsigned(flags["seed"], UINT64_MAX);
  if (!seed) {
    std::cerr << "smemu demo: --seed must be an unsigned 64-bit number\n";
    return kExitUsage;
  }
  ServiceOptions options;
  options.seed = *seed;
  Service service(std::move(options));
  Client client = service.client("us-east-1");
  const std::string secret(kSecret);
  // One virtual second between steps, so that versions list in the order they were made.
  auto tick = [&] { service.virtual_clock()->advance(std::chrono::seconds(1)); };
  std::cout << "smemu demo: AWS Secrets Manager versions and staging labels, offline (seed " << *seed
            << ", virtual clock at 2026-01-01T00:00:00Z). Secret values are not printed.\n";

  bool ok = report("CreateSecret --name demo/database --secret-string '{...}'",
                   client.create_secret({.name = secret, .secret_string = R"({"username":"app","password":"first"})"}));
  print_table(client);
  tick();
  ok = ok && report("PutSecretValue (no stages): the new version becomes AWSCURRENT, the old one AWSPREVIOUS",
                    client.put_secret_value({.secret_id = secret, .secret_string = R"({"username":"app","password":"second"})"}));
  print_table(client);
  tick();
  auto staged = client.put_secret_value({.secret_id = secret, .secret_string = R"({"username":"app","password":"third"})",
                                         .version_stages = std::vector<std::string>{"CANARY"}});
  ok = ok && report("PutSecretValue --version-stages CANARY: AWSCURRENT stays where it is", staged);
  print_table(client);
  tick();
  auto current = client.get_secret_value({.secret_id = secret});
  auto previous = client.get_secret_value({.secret_id = secret, .version_stage = "AWSPREVIOUS"});
  if (current && previous) {
    ok = ok && report("UpdateSecretVersionStage AWSCURRENT back to AWSPREVIOUS's version (a rollback)",
                      client.update_secret_version_stage({.secret_id = secret, .version_stage = "AWSCURRENT",
                                                          .remove_from_version_id = current->version_id,
                                                          .move_to_version_id = previous->version_id}));
    print_table(client);
  }

  if (auto registered = service.register_function(std::string(kFunction), "builtin:template"); !registered) {
    std::cerr << "smemu demo: " << registered.error().message << "\n";
    return kExitFailure;
  }
  tick();
  auto rotated = client.rotate_secret({.secret_id = secret, .rotation_lambda_arn = std::string(kFunction),
                                       .rotation_rules = api::RotationRules{.automatically_after_days = 30}});
  ok = ok && report("RotateSecret with builtin:template: the AWSPENDING placeholder appears, with no value yet",
                    rotated);
  print_table(client);
  while (auto step = service.step()) {
    std::cout << "\n  rotation step " << model::step_name(step->step) << ": " << model::outcome_name(step->outcome)
              << (step->message.empty() ? "" : " (" + step->message + ")") << "\n";
    print_table(client);
  }
  auto described = client.describe_secret({.secret_id = secret});
  if (described && described->next_rotation_date) {
    std::cout << "\n  next rotation: " << iso8601(*described->next_rotation_date) << "\n";
  }
  std::cout << "\nevent log:\n";
  for (const auto& event : service.events().read(0)) {
    std::cout << "  #" << event.sequence << " " << iso8601(event.time) << " " << event.name;
    if (event.kind == EventKind::kLabelUpdated) std::cout << " " << event.labels.front() << " -> " << event.version_id;
    if (event.error) std::cout << " (" << aws_name(*event.error) << ")";
    std::cout << "\n";
  }
  return ok ? kExitOk : kExitFailure;
}

}  // namespace smemu::cli
