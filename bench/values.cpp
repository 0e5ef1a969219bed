// Reads, writes and memory of secret values: GetSecretValue on one secret and at random among
// 1,000,000, default PutSecretValue, and resident memory per secret (issue 2 item 9).
#include <fmt/format.h>

#include "bench.h"
#include "smemu/emulator/service.h"

namespace smemu::bench {
namespace {

constexpr std::size_t kValueSize = 100;
constexpr std::string_view kRegion = "us-east-1";

// "bench/secret-0000042" (i < 10,000,000). Built by hand rather than read from a table of
// 1,000,000 names, which would add a cache miss of the benchmark's own to every read it times.
std::string secret_name(std::size_t i) {
  std::string name = "bench/secret-0000000";
  for (auto digit = name.rbegin(); i > 0; ++digit, i /= 10) *digit = static_cast<char>('0' + i % 10);
  return name;
}
// An explicit ClientRequestToken (UUID-shaped), as a user who sets its own would pass.
std::string token_of(std::size_t i) { return fmt::format("00000000-0000-4000-8000-{:012}", i); }

bool accessed_today(Client& client, Service& service, const std::string& id) {
  const auto described = client.describe_secret({.secret_id = id});
  return described.ok() && described->last_accessed_date == day_floor(service.clock().now());
}

// One secret, read again and again. The first read of the day records LastAccessedDate; the
// others find it recorded.
void get_one(const Options& options, Report& report) {
  Service service;
  auto client = service.client(std::string(kRegion));
  const auto name = secret_name(0);
  const auto value = value_of_size(kValueSize, 0);
  const auto created = client.create_secret({.name = name, .client_request_token = token_of(0), .secret_string = value});
  report.check(created.ok(), "CreateSecret succeeded");

  const auto run = measure(options, [&] { return client.get_secret_value({.secret_id = name}).ok(); });
  report.throughput("get_secret_value_per_s", run);

  const auto last = client.get_secret_value({.secret_id = name});
  report.check(last.ok() && last->secret_string == value, "the value read equals the value written");
  report.check(last.ok() && last->version_id == token_of(0) &&
                   last->version_stages == std::vector<std::string>{"AWSCURRENT"},
               "the read returns the AWSCURRENT version");
  report.check(accessed_today(client, service, name), "LastAccessedDate is today");
}

// Default puts (no stages, token filled in by the client) on one secret. The clock moves a day
// every kPutsPerDay puts, so that once the secret holds 100 versions each put purges the oldest
// deprecated one (D8) instead of failing with LimitExceededException.
void put(const Options& options, Report& report) {
  constexpr std::uint64_t kPutsPerDay = 50;
  Service service;
  auto client = service.client(std::string(kRegion));
  const auto name = secret_name(0);
  const auto value = value_of_size(kValueSize, 0);
  const auto created = client.create_secret({.name = name, .client_request_token = token_of(0), .secret_string = value});
  report.check(created.ok(), "CreateSecret succeeded");

  std::string previous;
  std::string current = token_of(0);
  std::uint64_t puts = 0;
  const auto run = measure(options, [&] {
    if (++puts % kPutsPerDay == 0) service.virtual_clock()->advance(days(1));
    auto r = client.put_secret_value({.secret_id = name, .secret_string = value});
    if (!r.ok()) return false;
    previous = std::move(current);
    current = std::move(*r->version_id);
    return true;
  });
  report.throughput("put_secret_value_per_s", run);

  const auto versions = client.list_secret_version_ids({.secret_id = name, .max_results = 100, .include_deprecated = true});
  report.check(versions.ok() && !versions->next_token && versions->versions->size() <= 100,
               "the secret holds at most 100 versions");
  const auto stages = client.describe_secret({.secret_id = name});
  const std::map<std::string, std::vector<std::string>> expected{{current, {"AWSCURRENT"}},
                                                                 {previous, {"AWSPREVIOUS"}}};
  report.check(stages.ok() && stages->version_ids_to_stages == expected,
               "AWSCURRENT is on the last put's version and AWSPREVIOUS on the one before");
  const auto last = client.get_secret_value({.secret_id = name});
  report.check(last.ok() && last->version_id == current && last->secret_string == value,
               "GetSecretValue returns the last put");
}

// Creates secrets 0..count-1 with one 100-byte SecretString version each; returns the failures.
std::uint64_t create_secrets(Client& client, std::size_t count) {
  std::uint64_t failures = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const auto created = client.create_secret(
        {.name = secret_name(i), .client_request_token = token_of(i), .secret_string = value_of_size(kValueSize, i)});
    if (!created.ok()) ++failures;
  }
  return failures;
}

// 1,000,000 secrets with one 100-byte version each: resident memory per secret, then reads of a
// secret picked uniformly at random (SeededRandom) for each call.
void million(const Options& options, Report& report) {
  const auto count = options.million();
  const auto per_secret = [&](std::size_t before) {
    return static_cast<double>(resident_bytes() - before) / static_cast<double>(count);
  };

  // First the same secrets in a service that keeps no event log, left standing so that the
  // measured service below grows into fresh memory: the share of the event log, for the record.
  ServiceOptions no_log;
  no_log.event_capacity = 0;
  Service bare(no_log);
  auto bare_client = bare.client(std::string(kRegion));
  const auto bare_before = resident_bytes();
  const auto bare_failures = create_secrets(bare_client, count);
  const auto bare_bytes = per_secret(bare_before);

  Service service;
  auto client = service.client(std::string(kRegion));
  const auto before = resident_bytes();
  const auto failures = create_secrets(client, count);
  const auto bytes = per_secret(before);
  report.metric("bytes_per_secret", bytes);
  report.note(fmt::format("bytes_per_secret: {:.0f} with the default event log ({} events kept), {:.0f} without one",
                          bytes, service.events().size(), bare_bytes));
  if (failures + bare_failures > 0) {
    report.problem(fmt::format("{} of {} CreateSecret calls failed", failures + bare_failures, 2 * count));
  }

  SeededRandom random(1);
  const auto run = measure(options, [&] {
    return client.get_secret_value({.secret_id = secret_name(random.below(count))}).ok();
  });
  report.throughput("get_secret_value_per_s_1m_secrets", run);

  for (const std::size_t i : {std::size_t{0}, count / 2, count - 1}) {
    const auto name = secret_name(i);
    const auto got = client.get_secret_value({.secret_id = name});
    report.check(got.ok() && got->secret_string == value_of_size(kValueSize, i) && got->version_id == token_of(i),
                 fmt::format("secret {} reads back its own value", i));
    report.check(accessed_today(client, service, name), fmt::format("secret {} has LastAccessedDate today", i));
  }
}

SMEMU_BENCHMARK({"get_secret_value_per_s"}, get_one);
SMEMU_BENCHMARK({"get_secret_value_per_s_1m_secrets", "bytes_per_secret"}, million);
SMEMU_BENCHMARK({"put_secret_value_per_s"}, put);

}  // namespace
}  // namespace smemu::bench
