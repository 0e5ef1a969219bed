// Many clients at once on one Service (issue 5 item 6): 8 threads, a Client each, mixed writes
// on a few shared secrets — PutSecretValue with and without VersionStages, UpdateSecretVersionStage
// moves of AWSCURRENT, AWSPENDING and custom labels, TagResource, RotateSecret with builtin
// functions — while a worker thread runs the rotation engine as `smemu serve`'s does, and two of
// the clients also drive it (step(), run_until_idle()), move the clock and read the event log as
// serve's admin API does. Each thread follows a plan drawn from its own seeded stream, so the
// inputs are the same on every run; the interleaving is the OS's. CI runs this binary under
// ThreadSanitizer (SMEMU_SANITIZE=thread), which reports any data race the interleaving reaches.
//
// Afterwards the state must hold, for every secret: each label on at most one version; exactly
// one AWSCURRENT, on a version with a value; every acknowledged PutSecretValue's VersionId still
// there with its exact value (no secret reaches D8's 100 versions, so nothing is purged); each
// thread's own tag with the value of its last acknowledged TagResource. The scenario layer's
// InvariantChecker is not used: it judges one step at a time from the state before it, and here
// a thousand calls interleave between two looks.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "smemu/emulator/service.h"
#include "smemu/model/labels.h"

namespace {

constexpr std::uint64_t kSeed = 20260105;
constexpr int kThreads = 8;
constexpr int kDrivers = 2;  // the last kDrivers threads also run the engine
constexpr int kSecrets = 4;
constexpr int kOpsPerThread = 300;
// Versions one thread may create in one secret (its puts and its RotateSecret calls): with the
// first version, a secret stays below D8's 100 versions, so no version is ever purged.
constexpr int kVersionBudget = 11;
static_assert(1 + kThreads * kVersionBudget < 100);

constexpr std::array<const char*, 3> kCustomLabels{"blue", "green", "canary"};
constexpr std::array<const char*, 3> kFunctions{
    "arn:aws:lambda:us-east-1:123456789012:function:template",
    "arn:aws:lambda:us-east-1:123456789012:function:template-remove-pending",
    "arn:aws:lambda:us-east-1:123456789012:function:template-fails-set",
};
constexpr std::array<const char*, 3> kFunctionSpecs{
    "builtin:template",
    "builtin:template?remove_pending=true",
    "builtin:template?fail_at=setSecret",
};

std::string secret_name(int index) { return fmt::format("stress/secret-{}", index); }

enum class Op {
  kPut,                 // PutSecretValue without VersionStages
  kPutStaged,           // PutSecretValue with a custom label, and AWSCURRENT half the time
  kMoveCurrent,         // UpdateSecretVersionStage: AWSCURRENT to one of this thread's versions
  kMoveCustom,          // a custom label to one of this thread's versions
  kRemoveLabel,         // a custom label or AWSPENDING off its holder
  kTag,                 // TagResource with this thread's key
  kRotate,              // RotateSecret with one of the builtin functions
  kRead,                // GetSecretValue of AWSCURRENT
  kDrive,               // step(), run_until_idle(), or the clock and the log (drivers only)
};

struct PlannedOp {
  Op op = Op::kRead;
  int secret = 0;
  std::uint64_t pick = 0;  // which label, function, version or value variant
};

std::vector<PlannedOp> plan_for(int thread) {
  auto random = smemu::SeededRandom(kSeed).split(fmt::format("thread-{}", thread));
  const bool driver = thread >= kThreads - kDrivers;
  // Weights per Op, in enum order.
  const std::array<std::uint64_t, 9> weights{16, 14, 14, 14, 6, 10, 10, 10, driver ? 20U : 0U};
  std::uint64_t total = 0;
  for (const auto weight : weights) total += weight;
  std::vector<PlannedOp> plan;
  for (int i = 0; i < kOpsPerThread; ++i) {
    auto roll = random.below(total);
    std::size_t kind = 0;
    while (roll >= weights[kind]) roll -= weights[kind++];
    plan.push_back({static_cast<Op>(kind), static_cast<int>(random.below(kSecrets)), random.next()});
  }
  return plan;
}

struct Acked {
  std::string secret;
  std::string value;
};

// What one thread saw: the writes the service acknowledged and the errors it answered.
struct ThreadLog {
  std::map<std::string, Acked> puts;                    // VersionId → what was written
  std::map<std::string, std::string> last_tag_value;    // secret → value of this thread's tag
  std::map<std::string, int> errors;                    // "Op: ErrorName" → count
  std::vector<std::string> unexpected;                  // failures no race can explain
};

class Worker {
 public:
  Worker(smemu::Service& service, int thread)
      : service_(service), client_(service.client("us-east-1")), thread_(thread),
        random_(smemu::SeededRandom(kSeed).split(fmt::format("tokens-{}", thread))) {}

  ThreadLog run(const std::vector<PlannedOp>& plan) {
    for (std::size_t i = 0; i < plan.size(); ++i) perform(plan[i], i);
    return std::move(log_);
  }

 private:
  void perform(const PlannedOp& planned, std::size_t index) {
    const auto name = secret_name(planned.secret);
    auto& budget = budget_[planned.secret];
    switch (planned.op) {
      case Op::kPut:
      case Op::kPutStaged: {
        if (budget >= kVersionBudget) return read(name);
        ++budget;
        const auto token = random_.uuid();
        const auto value = fmt::format("value of thread {} op {} ({})", thread_, index, planned.pick);
        std::optional<std::vector<std::string>> stages;
        if (planned.op == Op::kPutStaged) {
          stages = std::vector<std::string>{kCustomLabels[planned.pick % kCustomLabels.size()]};
          if ((planned.pick >> 8) % 2 == 0) stages->push_back(std::string(smemu::labels::kCurrent));
        }
        auto put = client_.put_secret_value(
            {.secret_id = name, .client_request_token = token, .secret_string = value, .version_stages = stages});
        if (!put) return unexpected("PutSecretValue", put.error());
        if (put->version_id != token) log_.unexpected.push_back("PutSecretValue answered another VersionId");
        log_.puts.emplace(token, Acked{name, value});
        mine_[planned.secret].push_back(token);
        return;
      }
      case Op::kMoveCurrent:
      case Op::kMoveCustom: {
        const auto& mine = mine_[planned.secret];
        if (mine.empty()) return read(name);
        const std::string label = planned.op == Op::kMoveCurrent
                                      ? std::string(smemu::labels::kCurrent)
                                      : kCustomLabels[planned.pick % kCustomLabels.size()];
        const auto& target = mine[(planned.pick >> 8) % mine.size()];
        return move(name, label, holder_of(name, label), target);
      }
      case Op::kRemoveLabel: {
        const std::string label = planned.pick % 4 == 0 ? std::string(smemu::labels::kPending)
                                                        : kCustomLabels[planned.pick % kCustomLabels.size()];
        if (const auto holder = holder_of(name, label)) move(name, label, holder, std::nullopt);
        return;
      }
      case Op::kTag: {
        const auto value = fmt::format("op-{}", index);
        auto tagged = client_.tag_resource(
            {.secret_id = name, .tags = std::vector<smemu::api::Tag>{{fmt::format("thread-{}", thread_), value}}});
        if (!tagged) return unexpected("TagResource", tagged.error());
        log_.last_tag_value[name] = value;
        return;
      }
      case Op::kRotate: {
        if (budget >= kVersionBudget) return read(name);
        ++budget;
        auto rotated = client_.rotate_secret({
            .secret_id = name,
            .client_request_token = random_.uuid(),
            .rotation_lambda_arn = kFunctions[planned.pick % kFunctions.size()],
            .rotation_rules = smemu::api::RotationRules{.automatically_after_days = 30},
        });
        // Refused while another rotation's AWSPENDING sits on a version other than AWSCURRENT
        // (spec 5.2 check 7): which one won the race is the OS's choice.
        if (!rotated) expected("RotateSecret", rotated.error(), {"InvalidRequestException"});
        return;
      }
      case Op::kRead:
        return read(name);
      case Op::kDrive:
        switch (planned.pick % 3) {
          case 0:
            service_.step();
            return;
          case 1:
            service_.run_until_idle();
            return;
          default:
            // Time moves while others call (the admin API moves serve's clock): reads cross
            // midnight and record LastAccessedDate again; the log is read as the admin API does.
            service_.virtual_clock()->advance(std::chrono::minutes(30));
            (void)service_.next_due();
            if (const auto events = service_.events().read(last_event_, 100); !events.empty()) {
              last_event_ = events.back().sequence;
            }
            return;
        }
    }
  }

  void read(const std::string& name) {
    auto value = client_.get_secret_value({.secret_id = name});
    // The AWSCURRENT version always has a value: puts write one, and a rotation's placeholder
    // gets AWSCURRENT only from its finishSecret, after createSecret wrote its value.
    if (!value) return unexpected("GetSecretValue", value.error());
  }

  // The version holding `label` now, as a client would find it (another thread may move it
  // before this one acts on it).
  std::optional<std::string> holder_of(const std::string& name, const std::string& label) {
    auto listed = client_.list_secret_version_ids({.secret_id = name, .include_deprecated = true});
    if (!listed) {
      unexpected("ListSecretVersionIds", listed.error());
      return std::nullopt;
    }
    for (const auto& version : listed->versions.value_or(std::vector<smemu::api::SecretVersionsListEntry>{})) {
      for (const auto& stage : version.version_stages.value_or(std::vector<std::string>{})) {
        if (stage == label) return version.version_id;
      }
    }
    return std::nullopt;
  }

  void move(const std::string& name, const std::string& label, const std::optional<std::string>& from,
            const std::optional<std::string>& to) {
    auto moved = client_.update_secret_version_stage(
        {.secret_id = name, .version_stage = label, .remove_from_version_id = from, .move_to_version_id = to});
    // Another thread moved the label between the look and the move: RemoveFromVersionId no
    // longer names its holder.
    if (!moved) expected("UpdateSecretVersionStage", moved.error(), {"InvalidParameterException"});
  }

  void expected(const char* operation, const smemu::Error& error, std::initializer_list<std::string_view> names) {
    for (const auto name : names) {
      if (error.name() == name) {
        ++log_.errors[fmt::format("{}: {}", operation, error.name())];
        return;
      }
    }
    unexpected(operation, error);
  }

  void unexpected(const char* operation, const smemu::Error& error) {
    log_.unexpected.push_back(fmt::format("{}: {}: {}", operation, error.name(), error.message));
  }

  smemu::Service& service_;
  smemu::Client client_;
  int thread_;
  smemu::SeededRandom random_;
  std::array<int, kSecrets> budget_{};
  std::array<std::vector<std::string>, kSecrets> mine_;  // this thread's acknowledged VersionIds
  std::uint64_t last_event_ = 0;  // the cursor of this thread's reads of the event log
  ThreadLog log_;
};

}  // namespace

TEST_CASE("concurrency: 8 clients writing shared secrets while the engine runs keep every invariant") {
  smemu::Service service({.seed = kSeed});
  for (std::size_t i = 0; i < kFunctions.size(); ++i) {
    REQUIRE(service.register_function(kFunctions[i], kFunctionSpecs[i]).ok());
  }
  // A worker like `smemu serve`'s: woken by the work listener, runs every step that is due.
  std::mutex worker_mutex;
  std::condition_variable wake;
  int work_notices = 0;  // under worker_mutex
  bool clients_done = false;  // under worker_mutex
  service.set_work_listener([&] {
    {
      const std::lock_guard lock(worker_mutex);
      ++work_notices;
    }
    wake.notify_one();
  });
  std::thread engine([&] {
    std::unique_lock lock(worker_mutex);
    while (!clients_done) {
      lock.unlock();
      service.run_until_idle();
      lock.lock();
      wake.wait_for(lock, std::chrono::milliseconds(5));
    }
  });
  // A subscriber with reads, as `smemu serve --events` subscribes: every call appends an event,
  // and the subscriber runs on the calling thread.
  std::atomic<int> events_seen{0};
  const auto subscription = service.events().subscribe(
      [&](const smemu::Event&) { events_seen.fetch_add(1, std::memory_order_relaxed); }, /*include_reads=*/true);

  auto setup = service.client("us-east-1");
  for (int i = 0; i < kSecrets; ++i) {
    REQUIRE(setup.create_secret({.name = secret_name(i), .secret_string = R"({"password":"initial"})"}).ok());
  }

  std::array<std::vector<PlannedOp>, kThreads> plans;
  for (int t = 0; t < kThreads; ++t) plans[t] = plan_for(t);
  std::array<ThreadLog, kThreads> logs;
  {
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        Worker worker(service, t);
        // Start together, so that the threads overlap rather than run one after another.
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        logs[t] = worker.run(plans[t]);
      });
    }
    for (auto& thread : threads) thread.join();
  }
  {
    const std::lock_guard lock(worker_mutex);
    clients_done = true;
  }
  wake.notify_one();
  engine.join();
  service.set_work_listener({});
  service.run_until_idle();

  std::map<std::string, int> errors;
  for (const auto& log : logs) {
    for (const auto& problem : log.unexpected) FAIL_CHECK(problem);
    for (const auto& [what, count] : log.errors) errors[what] += count;
  }
  for (const auto& [what, count] : errors) MESSAGE(what << " (lost races): " << count);
  service.events().unsubscribe(subscription);
  CHECK(work_notices > 0);
  CHECK(events_seen.load() > 0);
  // Rotations ran to their end, and the function failing at setSecret failed its rotations.
  std::map<std::string_view, int> outcomes;
  for (const auto& event : service.events().read(0)) {
    if (event.kind == smemu::EventKind::kServiceEvent) ++outcomes[event.name];
  }
  for (const auto& [name, count] : outcomes) MESSAGE(name << ": " << count);
  CHECK(outcomes["RotationSucceeded"] > 0);
  CHECK(outcomes["RotationFailed"] > 0);

  for (int i = 0; i < kSecrets; ++i) {
    const auto name = secret_name(i);
    CAPTURE(name);
    service.inspect("us-east-1", name, [&](const smemu::model::Secret* secret) {
      REQUIRE(secret != nullptr);
      CHECK(secret->versions().size() < smemu::model::kMaxVersions);
      std::map<std::string, int> holders;
      for (const auto& version : secret->versions()) {
        for (const auto& label : secret->labels_of(version)) ++holders[label];
      }
      for (const auto& [label, count] : holders) {
        CAPTURE(label);
        CHECK(count == 1);
      }
      CHECK(holders[std::string(smemu::labels::kCurrent)] == 1);
      const auto* current = secret->holder(smemu::labels::kCurrent);
      REQUIRE(current != nullptr);
      CHECK_FALSE(current->value.empty());

      for (const auto& log : logs) {
        for (const auto& [token, acked] : log.puts) {
          if (acked.secret != name) continue;
          CAPTURE(token);
          const auto* version = secret->find_version(token);
          REQUIRE(version != nullptr);
          CHECK(version->value == smemu::model::SecretValue::string(acked.value));
        }
      }

      std::map<std::string, std::string> tags;
      for (const auto& tag : secret->meta.tags.value_or(std::vector<smemu::model::Tag>{})) tags[tag.key] = tag.value;
      for (int t = 0; t < kThreads; ++t) {
        const auto& last = logs[t].last_tag_value;
        if (const auto it = last.find(name); it != last.end()) CHECK(tags[fmt::format("thread-{}", t)] == it->second);
      }
    });
  }
}
