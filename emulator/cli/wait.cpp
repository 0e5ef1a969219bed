// smemu wait: blocks until no step of a secret's rotation is running or queued on a running
// `smemu serve`, and says how the rotation stands.
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "admin_client.h"

namespace smemu::cli {
namespace {

// Exit codes of smemu wait beyond kExitOk (idle), kExitFailure (no answer, an unknown secret, a
// bad request) and kExitUsage.
constexpr int kExitRotationFailed = 3;
constexpr int kExitTimedOut = 4;
// How much longer than the server's wait the client waits for the answer.
constexpr std::chrono::seconds kAnswerMargin{30};

constexpr std::string_view kUsage =
    "usage: smemu wait SECRET_ID [--timeout SECONDS] [--region REGION] [--endpoint URL]\n\n"
    "Waits until no step of the secret's rotation is running or queued, then prints the\n"
    "server's JSON answer: {\"state\": \"idle\"}, or {\"state\": \"failed\"} when the last attempt\n"
    "failed, with \"retry_at\" (epoch seconds) when a re-attempt is queued (D1). A rotation\n"
    "waiting for its re-attempt is not in flight.\n\n"
    "exit status: 0 idle; 3 failed; 4 still in flight after the timeout; 1 no answer, an\n"
    "unknown secret or another error; 2 a bad command line.\n\n"
    "flags:\n"
    "  --timeout SECONDS  how long to wait, 0 to 3600 (default 30)\n"
    "  --region REGION    the secret's region when SECRET_ID is not an ARN (default: the\n"
    "                     server's --region)\n";

}  // namespace

int wait_command(Args args) {
  const std::string usage = std::string(kUsage) + std::string(kEndpointHelp);
  std::vector<std::string_view> positional;
  Flags flags{{"timeout", "30"}, {"region", ""}};
  if (const auto done = start_admin_command("wait", args, usage, positional, flags)) return *done;
  if (positional.size() != 1) return admin_usage_error("wait", "expected one SECRET_ID", usage);
  const auto timeout = parse_unsigned(flags["timeout"], 3600);
  if (!timeout) return admin_usage_error("wait", "--timeout must be a whole number of seconds from 0 to 3600", usage);
  nlohmann::json body{{"SecretId", positional[0]}, {"timeout_seconds", *timeout}};
  if (!flags["region"].empty()) body["Region"] = flags["region"];
  const auto reply = admin_request("wait", flags, "POST", "/_smemu/wait", body.dump(),
                                   std::chrono::seconds(*timeout) + kAnswerMargin);
  if (!reply) return kExitFailure;
  if (reply->status == 408) {
    report("wait", *reply);
    return kExitTimedOut;
  }
  const int reported = report("wait", *reply);
  if (reported != kExitOk) return reported;
  const auto answer = nlohmann::json::parse(reply->body, nullptr, false);
  return answer.is_object() && answer.value("state", "") == "idle" ? kExitOk : kExitRotationFailed;
}

}  // namespace smemu::cli
