// Secret: one secret of one region, its versions and their staging labels.
//
// Invariants, kept by every member function (a failed call changes nothing):
//   1. A staging label is attached to at most one version.
//   2. Once any version has held AWSCURRENT, exactly one version holds it.
//   3. A version's value is set once (at creation, or when a rotation placeholder is filled) and
//      never changes afterwards.
//   4. VersionIds are unique within the secret.
//   5. At most kMaxLabels distinct labels are attached across the versions.
//   6. After any successful write the secret holds at most kMaxVersions versions (D8).
//   7. A rotation in flight (run()) names a version that holds AWSPENDING — or AWSCURRENT while
//      its finishSecret step runs, since the function moves AWSCURRENT there before it returns.
//      A change that takes AWSPENDING away otherwise ends the run (abandonment, spec 4.3 rule 2).
//
// Time comes in as an argument; new VersionIds are the caller's ClientRequestTokens.
// Thread-safety: a plain value; the owner serialises access.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "smemu/model/result.h"
#include "smemu/model/rotation.h"
#include "smemu/model/time.h"

namespace smemu::model {

inline constexpr std::size_t kMaxVersions = 100;         // D8
inline constexpr std::size_t kMaxLabels = 20;            // spec 4.1 / 11
inline constexpr Duration kPurgeMinAge = days(1);        // D8: younger versions are never purged

enum class ValueKind : std::uint8_t { kNone, kString, kBinary };

// A secret value: a string or binary blob, or nothing yet (a rotation placeholder, spec 5.3).
struct SecretValue {
  ValueKind kind = ValueKind::kNone;
  std::string bytes;

  static SecretValue string(std::string text) { return {ValueKind::kString, std::move(text)}; }
  static SecretValue binary(std::string data) { return {ValueKind::kBinary, std::move(data)}; }
  bool empty() const { return kind == ValueKind::kNone; }
  bool operator==(const SecretValue&) const = default;
};

struct SecretVersion {
  SecretVersion() = default;
  SecretVersion(std::string version_id, SecretValue version_value, Timestamp created_at);

  std::string id;
  SecretValue value;
  Timestamp created{};
  std::optional<Timestamp> last_accessed;  // midnight UTC of the last read (spec 4.6)

 private:
  friend class Secret;
  // A hash of `id`: Secret finds a version by id without reading the ids themselves (a write to a
  // secret at the quota looks for its token among 100 versions). A secret with one version pays
  // nothing for it: the allocator rounds the version's block up past it anyway.
  std::uint32_t id_hash_ = 0;
};

// A label that landed on a version during a change (EventBridge "Secret Label Updated", 12.2).
struct LabelMove {
  std::string label;
  std::string version_id;
  bool operator==(const LabelMove&) const = default;
};

// What a value write did, for the response and the event log.
struct WriteOutcome {
  enum class Kind { kCreated, kFilledPlaceholder, kReplayed };
  Kind kind = Kind::kCreated;
  std::vector<std::string> stages;             // labels on the written version afterwards
  std::optional<std::string> abandoned_pending;  // version whose AWSPENDING a default write removed
  std::vector<std::string> purged_versions;    // removed by the version quota (D8), oldest first
  std::vector<LabelMove> moves;
  std::optional<std::string> ended_run;        // token of the rotation this write ended (invariant 7)
};

struct StageOutcome {
  std::vector<LabelMove> moves;
  std::optional<std::string> ended_run;        // token of the rotation this move ended (invariant 7)
};

struct Tag {
  std::string key;
  std::string value;
  bool operator==(const Tag&) const = default;
};

// An optional kept on the heap: 8 bytes while empty, for the large members most secrets never
// set (1,000,000 secrets must fit in 1 KiB each: docs/performance.md). It reads like
// std::optional and converts to `const std::optional<T>&`.
template <class T>
class HeapOptional {
 public:
  HeapOptional() = default;
  HeapOptional(std::nullopt_t) {}  // NOLINT: implicit, as std::optional's
  HeapOptional(T value) : box_(std::make_unique<std::optional<T>>(std::move(value))) {}  // NOLINT
  HeapOptional(std::optional<T> value) {  // NOLINT
    if (value) box_ = std::make_unique<std::optional<T>>(std::move(value));
  }
  HeapOptional(const HeapOptional& other) : HeapOptional(other.get()) {}
  HeapOptional(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(const HeapOptional& other) {
    if (this != &other) *this = HeapOptional(other);
    return *this;
  }
  HeapOptional& operator=(HeapOptional&&) noexcept = default;

  bool has_value() const { return box_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  const T& operator*() const { return **box_; }
  T& operator*() { return **box_; }
  const T* operator->() const { return &**box_; }
  T* operator->() { return &**box_; }
  const T& value() const { return get().value(); }
  template <class U>
  T value_or(U&& fallback) const {
    return get().value_or(std::forward<U>(fallback));
  }
  template <class... Args>
  T& emplace(Args&&... args) {
    box_ = std::make_unique<std::optional<T>>(std::in_place, std::forward<Args>(args)...);
    return **box_;
  }
  void reset() { box_.reset(); }

  const std::optional<T>& get() const { return box_ ? *box_ : empty(); }
  operator const std::optional<T>&() const { return get(); }  // NOLINT: implicit by design
  friend bool operator==(const HeapOptional& a, const HeapOptional& b) { return a.get() == b.get(); }

 private:
  static const std::optional<T>& empty() {
    static const std::optional<T> none;
    return none;
  }
  std::unique_ptr<std::optional<T>> box_;  // null while empty; never holds an empty optional
};

// Rotation configuration as DescribeSecret reports it (spec 3.7, 5.7).
struct RotationConfig {
  std::optional<bool> enabled;               // absent until rotation is first configured
  std::optional<std::string> lambda_arn;
  HeapOptional<RotationRules> rules;         // on the heap: most secrets never rotate
  std::optional<Timestamp> last_rotated;
  std::optional<Timestamp> next_rotation;
};

// One replica of a primary secret, as the primary reports it (spec 7).
struct ReplicaStatus {
  std::string region;
  std::string kms_key_id;
  std::string status;                        // InSync | Failed | InProgress
  std::optional<std::string> status_message;
};

// Everything about a secret but its versions. Plain data: no invariant ties these fields.
struct SecretMetadata {
  std::string name;
  std::string region;
  std::string suffix;                        // the ARN's 6 random characters
  std::string primary_region;                // == region, except on a replica
  // The members most secrets never set are kept on the heap (HeapOptional: 8 bytes while
  // empty), so that 1,000,000 secrets fit in 1 KiB each (bytes_per_secret, docs/performance.md).
  HeapOptional<std::string> description;
  HeapOptional<std::string> kms_key_id;      // nullopt: the aws/secretsmanager key
  HeapOptional<std::vector<Tag>> tags;       // absent until first tagged; [] after untagging all
  HeapOptional<std::string> resource_policy;
  RotationConfig rotation;
  Timestamp created{};
  std::optional<Timestamp> last_changed;
  std::optional<Timestamp> last_accessed;    // midnight UTC of the last read
  std::optional<Timestamp> deleted;          // DeletedDate: set while in the recovery window
  std::optional<Timestamp> deletion_due;     // DeletionDate: when the recovery window ends
  HeapOptional<std::string> owning_service;
  HeapOptional<std::string> type;
  std::vector<ReplicaStatus> replicas;       // on a primary

  bool is_replica() const { return primary_region != region; }
  bool marked_for_deletion() const { return deleted.has_value(); }
};

// A value write: PutSecretValue, UpdateSecret or CreateSecret with a value.
struct VersionWrite {
  std::string token;                                // the new VersionId (ClientRequestToken)
  SecretValue value;                                // REQUIRES: not empty
  std::optional<std::vector<std::string>> stages;   // nullopt: the default write of spec 4.3 rule 1
};

class Secret {
 private:
  // The version a label is attached to: an index into versions_ (which includes the purged slots
  // before head_). 16 bits are plenty: a secret holds at most kMaxVersions versions.
  using VersionIndex = std::uint16_t;
  static constexpr VersionIndex kNoVersion = 0xFFFF;

  struct LabelEntry {
    std::string label;
    VersionIndex version;
  };

  // Declared before `meta` so that they share a cache line with its name: a read touches both.
  // versions_[head_..] are the versions in creation order; the slots before head_ held versions
  // purged from the front and are reclaimed when versions_ is full, so that the purge of the
  // oldest version at the quota (D8) costs O(1) rather than moving the other 99.
  std::vector<SecretVersion> versions_;
  VersionIndex head_ = 0;
  // AWSCURRENT, AWSPENDING and AWSPREVIOUS (in that order, which is also their sorted order) have
  // fixed places; other labels live in custom_labels_, allocated only when there is one. Most
  // secrets carry only these three, so their labels cost no allocation (bytes_per_secret).
  std::array<VersionIndex, 3> known_labels_{kNoVersion, kNoVersion, kNoVersion};
  std::unique_ptr<std::vector<LabelEntry>> custom_labels_;

 public:
  Secret() = default;
  explicit Secret(SecretMetadata metadata) : meta(std::move(metadata)) {}
  Secret(const Secret& other);
  Secret& operator=(const Secret& other);
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  ~Secret() = default;

  SecretMetadata meta;

  // --- versions and labels ------------------------------------------------------------------
  // In creation order.
  std::span<const SecretVersion> versions() const { return std::span(versions_).subspan(head_); }
  const SecretVersion* find_version(std::string_view id) const;
  // The version holding `label`, or nullptr.
  const SecretVersion* holder(std::string_view label) const;
  // Labels on the version `id`, sorted (as the service lists them: spec 4.3 rule 6, 4.4).
  std::vector<std::string> labels_of(std::string_view id) const;
  // The same for a version of this secret (from versions(), find_version or holder), without
  // looking its id up. REQUIRES: `version` is one of versions().
  std::vector<std::string> labels_of(const SecretVersion& version) const;
  bool has_labels(std::string_view id) const;
  // Versions with at least one label (the service's default listings hide the rest).
  std::size_t labelled_version_count() const;

  // Spec 4.2 and 4.3: create a version (or fill the rotation placeholder with that id, or replay
  // an identical earlier write) and move labels. D3: the first version of a secret with no
  // AWSCURRENT gets it even when `stages` omits it. D8: makes room by purging deprecated
  // versions older than a day, oldest first, or fails with LimitExceededException.
  // `arn` only feeds error messages.
  Result<WriteOutcome> write_version(VersionWrite write, Timestamp now, std::string_view arn);

  // Spec 4.4 with D6, D7: move `label` to `move_to`, or remove it from `remove_from`.
  Result<StageOutcome> update_stage(std::string_view label, const std::optional<std::string>& remove_from,
                                    const std::optional<std::string>& move_to);

  // Spec 5.3 step 1: a version `token` with no value holding AWSPENDING. REQUIRES: no version
  // `token` exists and the rotation checks of 5.2 passed.
  void add_placeholder(const std::string& token, Timestamp now);
  // Drops version `id` and its labels (D2: the temporary AWSPENDING version of a test rotation).
  void drop_version(std::string_view id);

  // Records a read of version `id` at `now` (date resolution). Returns whether anything changed.
  bool touch(std::string_view id, Timestamp now);

  // A hint, no more: starts loading the AWSCURRENT version into the cache. A lookup calls it as
  // soon as it reaches the secret, so that the version arrives while the name is being compared
  // rather than after (GetSecretValue among 1,000,000 secrets waits on memory, not on work).
  void prefetch_current() const {
    if (const auto current = known_labels_[0]; current != kNoVersion && current < versions_.size()) {
      const char* version = reinterpret_cast<const char*>(versions_.data() + current);
      __builtin_prefetch(version);
      __builtin_prefetch(version + sizeof(SecretVersion) - 1);
    }
  }

  // --- rotation (spec 5; the tables in rotation.h; defined in rotation.cpp) --------------------
  const std::optional<RotationRun>& run() const { return run_; }
  // Spec 5.2 checks 4 to 7 in order, then 5.3 step 1 (or D2, or D12's re-attempt): stores the
  // configuration and queues the run at `now`. `invocable` answers check 6 for a function ARN.
  // A new token replaces a run whose version holds AWSCURRENT as well as AWSPENDING (check 7).
  // Errors: InvalidParameterException (rules), InvalidRequestException (no function ARN; a
  // previous rotation not complete), AccessDeniedException (check 6), LimitExceededException
  // (D8, for the placeholder); nothing changes on any of them. `arn` feeds messages only.
  Result<RotateStart> start_rotation(const RotateInput& input,
                                     const std::function<bool(std::string_view)>& invocable, Timestamp now,
                                     std::string_view arn);
  // Hands the due step to the function. REQUIRES: run() in kReady or kRetry.
  StepCall begin_step();
  // The running step's outcome at `at`: the next step, success (the test version of D2 dropped),
  // or a failed attempt with its retry time or stuck (D1, D15). REQUIRES: run() in kRunning.
  StepApplied finish_step(Outcome outcome, std::string_view reason, Timestamp at, const RetryPolicy& retry);
  // A fresh series of attempts of the run, from its first step, due at `now`: D12, and the next
  // scheduled rotation of a stuck run (D1). REQUIRES: run() in kStuck or kRetry.
  void reattempt(Timestamp now);
  // CancelRotateSecret: the run ends; AWSPENDING stays where it is (spec 5.7).
  void cancel_run() { run_.reset(); }
  // Durable state (issue 5): the service stopped while run()'s step was with the function, so its
  // outcome was never heard. The step is due again at `now`, in the same attempt: the calls the
  // function made before the stop stand, and rotation functions are written to be invoked more
  // than once (Lambda may invoke them again; every step of the published templates checks the
  // state first). One case cannot wait for the step again without breaking invariant 7: a
  // finishSecret that already moved AWSCURRENT to the token's version and took AWSPENDING off did
  // what finishSecret does, so the run ends as succeeded at `now` (D15's check after finishSecret
  // passes); returns true then, false when the step is due again. REQUIRES: run() in kRunning.
  bool resume_interrupted(Timestamp now);

  // --- saved state (durable state, issue 5) ----------------------------------------------------
  // The secret as it was saved: `versions` in creation order (ids, values, dates as they were),
  // each of `attached_labels` naming the version its label is on, and the rotation in flight.
  // Checks what the members above keep true: VersionIds unique (invariant 4), each label listed
  // once and on a version that exists (1), at most kMaxLabels labels (5) and kMaxVersions versions
  // (6), a run naming a version that holds AWSPENDING, or AWSCURRENT while its finishSecret runs (7).
  // Errors: InvalidParameterException naming the check that failed (never a value).
  static Result<Secret> restore(SecretMetadata meta, std::vector<SecretVersion> versions,
                                const std::vector<LabelMove>& attached_labels, std::optional<RotationRun> run);

 private:
  std::optional<VersionIndex> index_of(std::string_view id) const;
  // Where `label` records its version: a fixed place for the three known labels (kNoVersion when
  // detached), an entry of custom_labels_ for an attached other label; nullptr otherwise.
  const VersionIndex* label_slot(std::string_view label) const;
  VersionIndex* label_slot(std::string_view label);
  // The version `label` is attached to.
  std::optional<VersionIndex> attached(std::string_view label) const;
  std::size_t attached_count() const;
  bool is_labelled(VersionIndex version) const;
  std::vector<std::string> labels_at(VersionIndex version) const;
  // Calls visit(version) for every attached label's version index, by reference.
  template <class Visit>
  void for_each_label_version(Visit&& visit);
  void attach(std::string_view label, VersionIndex version, std::vector<LabelMove>& moves);
  void detach(std::string_view label);
  std::vector<VersionIndex> purge_candidates(Timestamp now, std::size_t needed) const;
  void erase_versions(std::vector<VersionIndex> indexes);
  // Appends a version, first reclaiming the purged slots before head_ when versions_ is full.
  VersionIndex push_version(SecretVersion version);
  // D8: the versions to purge so that one more fits, or LimitExceededException (`arn` for the
  // message). Changes nothing.
  Result<std::vector<VersionIndex>> room_for_one_more(Timestamp now, std::string_view arn) const;
  // Whether version `id` exists and holds `label`.
  bool has_label(std::string_view id, std::string_view label) const;
  // D2's end of a test rotation: drops its version, unless a caller attached another label to it
  // meanwhile (moved AWSCURRENT there, say): that version is relied on, so only AWSPENDING leaves
  // it. Dropping it would take AWSCURRENT away (invariant 2). REQUIRES: a test-only run.
  void retire_test_version();
  // Invariant 7: ends the run when its version lost AWSPENDING; returns the ended run's token.
  std::optional<std::string> reconcile_run();

  HeapOptional<RotationRun> run_;  // on the heap: most secrets are not rotating
};

}  // namespace smemu::model
