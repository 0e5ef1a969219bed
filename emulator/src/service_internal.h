// Internals shared by the operation files (ops_*.cpp): lookups with their AWS errors, value
// conversion, and the metadata views that DescribeSecret and ListSecrets share.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "smemu/emulator/service.h"

namespace smemu {

// The seeded streams (D16: one seed, a stream per use), behind their own mutex so that token
// generation in Client does not contend with the store lock.
struct Service::Random {
  explicit Random(std::uint64_t seed)
      : token(SeededRandom(seed).split("token")),
        suffix(SeededRandom(seed).split("suffix")),
        password(SeededRandom(seed).split("password")),
        schedule(SeededRandom(seed).split("schedule")) {}

  std::mutex mutex;
  SeededRandom token;
  SeededRandom suffix;
  SeededRandom password;
  SeededRandom schedule;  // the hour of each rotation inside its window
};

// Work the rotation engine has queued: a function step (or D1 re-attempt) of a secret's run, or
// its scheduled rotation. Entries are checked against the secret when they come due, so changes
// in between (a cancel, a reschedule) need not find and remove them.
struct Service::Queued {
  enum class Kind : std::uint8_t { kStep, kSchedule };
  Timestamp due;
  std::uint64_t seq;  // ties run in the order queued
  model::Store::Handle secret;
  Kind kind;
};

// The engine's queue, earliest (due, seq) first. Steps and scheduled rotations wait in two
// heaps, and pop() takes the earlier of their fronts, so the order is that of one queue: with a
// million schedules queued, a rotation's four steps then sift through a heap of the few runs in
// flight instead of through the million (each sift of that heap waited on memory at every level).
class Service::WorkQueue {
 public:
  bool empty() const { return steps_.empty() && schedules_.empty(); }
  // REQUIRES: !empty()
  Timestamp earliest_due() const { return earliest().front().due; }
  void push(Queued entry) { (entry.kind == Queued::Kind::kStep ? steps_ : schedules_).push(std::move(entry)); }
  // Removes and returns the earliest entry. REQUIRES: !empty()
  Queued pop() { return earliest().pop(); }

 private:
  // A binary heap of small keys in one vector, the entries themselves in slots beside it: the
  // sifts touch 24-byte keys (several to a cache line) rather than whole entries or tree nodes,
  // and queueing allocates no node.
  class Heap {
   public:
    struct Key {
      Timestamp due;
      std::uint64_t seq;
      std::uint32_t slot;  // where the entry waits in entries_
    };
    bool empty() const { return heap_.empty(); }
    // REQUIRES: !empty()
    const Key& front() const { return heap_.front(); }
    void push(Queued entry) {
      std::uint32_t slot;
      if (free_slots_.empty()) {
        slot = static_cast<std::uint32_t>(entries_.size());
        entries_.push_back(std::move(entry));
      } else {
        slot = free_slots_.back();
        free_slots_.pop_back();
        entries_[slot] = std::move(entry);
      }
      heap_.push_back(Key{entries_[slot].due, entries_[slot].seq, slot});
      std::push_heap(heap_.begin(), heap_.end(), later);
    }
    // REQUIRES: !empty()
    Queued pop() {
      std::pop_heap(heap_.begin(), heap_.end(), later);
      const auto slot = heap_.back().slot;
      heap_.pop_back();
      free_slots_.push_back(slot);
      return std::move(entries_[slot]);
    }
    // std::*_heap keep the greatest first; ordered by this, the greatest is the earliest.
    static bool later(const Key& a, const Key& b) { return std::tie(b.due, b.seq) < std::tie(a.due, a.seq); }

   private:
    std::vector<Key> heap_;
    std::vector<Queued> entries_;
    std::vector<std::uint32_t> free_slots_;
  };

  // The heap whose front is the earliest entry. REQUIRES: !empty()
  Heap& earliest() { return const_cast<Heap&>(std::as_const(*this).earliest()); }
  const Heap& earliest() const {
    if (steps_.empty()) return schedules_;
    if (schedules_.empty()) return steps_;
    return Heap::later(steps_.front(), schedules_.front()) ? schedules_ : steps_;
  }

  Heap steps_;      // function steps and re-attempts: the rotations in flight
  Heap schedules_;  // scheduled rotations: one per secret with a schedule
};

namespace detail {

Error secret_not_found();

// The secret `secret_id` names in the caller's region, or ResourceNotFoundException.
Result<model::Secret*> find_secret(model::Store& store, const CallContext& context, std::string_view secret_id,
                                   Timestamp now);
Result<const model::Secret*> find_secret(const model::Store& store, const CallContext& context,
                                         std::string_view secret_id, Timestamp now);

// InvalidRequestException while the secret is in its recovery window (spec 6, section 10 #7).
Status check_not_deleted(const model::Secret& secret);
// InvalidParameterException on a replica: writes go to the primary's region (spec 7).
Status check_primary(const model::Secret& secret);
// A write that carries a value must carry a ClientRequestToken (spec 4.2, section 10 #8).
Status check_token(const std::optional<std::string>& token, ErrorCode code);

// The value of a request: SecretString or SecretBinary, not both (InvalidParameterException);
// nullopt when neither is given.
Result<std::optional<model::SecretValue>> request_value(const std::optional<std::string>& secret_string,
                                                        const std::optional<api::Bytes>& secret_binary);

std::vector<api::Tag> to_api(const std::vector<model::Tag>& tags);
api::RotationRules to_api(const model::RotationRules& rules);
// Labelled versions only: deprecated versions are hidden (spec 4.1).
std::map<std::string, std::vector<std::string>> version_stages(const model::Secret& secret);

// Replication (spec 7), defined in ops_replication.cpp.
// AddReplicaRegions checked before anything changes: InvalidParameterException for an entry
// without a Region, a Region listed twice, the primary's own Region, or one it already replicates to.
Status check_replica_regions(const model::Secret& primary, const std::vector<api::ReplicaRegion>& regions);
// A primary's ReplicationStatus, each replica with the date it was last read in its region.
std::vector<api::ReplicationStatus> replication_status(const model::Store& store, const model::Secret& primary,
                                                       Timestamp now);

// The rotation a value write abandoned (spec 4.3 rule 2): the version whose AWSPENDING it removed
// while a rotation was incomplete, or the rotation in flight it ended.
inline std::optional<std::string> abandoned_rotation(const model::WriteOutcome& written) {
  return written.abandoned_pending ? written.abandoned_pending : written.ended_run;
}

// DescribeSecret and ListSecrets entries (spec 3.7, 3.9): each member only when set.
api::DescribeSecretResponse describe(const model::Store& store, const model::Secret& secret, Timestamp now);
api::SecretListEntry list_entry(const model::Store& store, const model::Secret& secret);

}  // namespace detail
}  // namespace smemu
