// Downtime, measured (issue 6): an application that lives at a SimulatedDatabase, reads its
// credentials from AWSCURRENT through a cache with a TTL and logs in at a fixed cadence, while
// rotations run on the virtual clock. Counting its failed logins per rotation shows what a
// rotation strategy costs: single-user rotation changes the password the application still
// holds, so it fails until its cache expires; alternating users leaves the cached user alone.
//
// The runner uses only the public API: a Client (GetSecretValue, RotateSecret, DescribeSecret),
// Service::advance and Service::database().
//
// Thread-safety: an application and a run belong to one thread; the service is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smemu/emulator/simulated_database.h"
#include "smemu/model/result.h"
#include "smemu/model/time.h"

namespace smemu {

class Service;

// The application: logs in with the AWSCURRENT credentials of `secret_id` as it last read them,
// reading them again (GetSecretValue, AWSCURRENT) when it holds none or they are `cache_ttl` old.
class CachedApplication {
 public:
  CachedApplication(Service& service, std::string region, std::string secret_id, Duration cache_ttl);

  // One login at the service's clock time, counted. Result: whether the database let it in.
  // Errors: the GetSecretValue failure, or a value without connection fields (builtin_functions.h,
  // database_credentials); nothing is counted then.
  Result<bool> login();

  // The version the cache holds (empty before the first read) and when it was read.
  const std::string& cached_version() const { return version_id_; }
  Timestamp cached_at() const { return read_at_; }
  SimulatedDatabase::LoginCounts counts() const { return counts_; }

 private:
  Service* service_;
  std::string region_;
  std::string secret_id_;
  Duration cache_ttl_;
  std::optional<SimulatedDatabase::Credentials> credentials_;
  std::string version_id_;
  Timestamp read_at_{};
  SimulatedDatabase::LoginCounts counts_;
};

struct DowntimeOptions {
  std::string region = "us-east-1";
  Duration cache_ttl = std::chrono::minutes(5);
  Duration login_every = std::chrono::seconds(10);
  int rotations = 3;
  // Passed to RotateSecret; absent: the function the secret is configured with.
  std::optional<std::string> rotation_lambda_arn;
  // A rotation whose window has not closed this long after it started ends the run.
  Duration give_up_after = std::chrono::hours(1);
};

// The logins attributed to one rotation. Its window opens when the runner calls RotateSecret
// (the login right after that call is its first) and closes with the first login made with
// credentials read from the rotation's own version, i.e. once the application's cache caught up
// after finishSecret made that version AWSCURRENT (that login is its last).
struct RotationLogins {
  std::string version_id;  // the rotation's token
  std::uint64_t attempted = 0;
  std::uint64_t failed = 0;
  bool completed = false;  // the token's version holds AWSCURRENT at the window's end
  Timestamp started{};     // RotateSecret
  Timestamp ended{};       // the window's last login
};

// Runs `options.rotations` rotations of `secret_id` one after another, with the application
// logging in every `login_every`: first contact with the database (ensure_database), one login
// that warms the cache (attributed to no rotation), then per rotation a tick of `login_every`,
// RotateSecret and a login, and ticks of advance(login_every) then a login until the window
// closes. The run stops early, with the unfinished rotation last (its window closed by
// give_up_after), when a rotation has not caught up in time.
// REQUIRES: the service runs on its own virtual clock (ServiceOptions::clock == nullptr).
// Errors: what RotateSecret, first contact or the application's reads answer; InvalidRequest
// without a virtual clock or with rotations < 1 or a zero cadence.
Result<std::vector<RotationLogins>> measure_downtime(Service& service, std::string_view secret_id,
                                                     const DowntimeOptions& options = {});

}  // namespace smemu
