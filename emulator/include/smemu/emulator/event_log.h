// EventLog: what happened, in order — API calls that wrote or failed, the service's own events
// (RotationStarted, RotationSucceeded, RotationFailed, RotationAbandoned, TestRotation*,
// EndSecretVersionDelete) and EventBridge's "Secret Label Updated" (spec 12).
//
// Events are kept as small structs and rendered to CloudTrail-style JSON (docs/events.md) only
// when read. The log is a bounded buffer: past its capacity the oldest events are dropped, and a
// cursor that points before the oldest kept event reads from the oldest. Successful reads
// (GetSecretValue, DescribeSecret, List*) are recorded only while someone subscribes with
// include_reads, since a busy reader would otherwise crowd out everything else.
// Secret values never enter an event (D19): there is no field that could hold one.
//
// Thread-safety: every member may be called from any thread. Subscribers are called after the
// log's lock is released, on the thread that appended, in sequence order per appending thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "smemu/model/error.h"
#include "smemu/model/time.h"

namespace smemu {

enum class EventKind : std::uint8_t {
  kApiCall,       // "AWS API Call via CloudTrail"
  kServiceEvent,  // "AWS Service Event via CloudTrail"
  kLabelUpdated,  // EventBridge "Secret Label Updated"
};

struct Event {
  std::uint64_t sequence = 0;  // set by the log
  Timestamp time{};
  EventKind kind = EventKind::kApiCall;
  std::string_view name{};     // operation or event name; points at a string literal
  std::string region{};
  std::string secret_arn{};    // or the SecretId as given, when no secret matched
  std::string version_id{};    // ClientRequestToken / VersionId / rotation token, when one applies
  std::vector<std::string> labels{};  // VersionStages of the request, or the label that moved
  std::string step{};          // rotation step, for rotation events
  std::uint32_t attempt = 0;   // rotation attempt, 1-based
  std::optional<ErrorCode> error{};
  std::string message{};       // error message, or the reason a rotation failed
};

// An event as append() takes it: the members of Event, viewing the caller's strings, which the
// log copies. Appending costs no allocation of the caller's.
struct EventFields {
  Timestamp time{};
  EventKind kind = EventKind::kApiCall;
  std::string_view name{};  // must outlive the log (a string literal)
  std::string_view region{};
  std::string_view secret_arn{};
  std::string_view version_id{};
  std::span<const std::string> labels{};
  std::string_view step{};
  std::uint32_t attempt = 0;
  std::optional<ErrorCode> error{};
  std::string_view message{};
};

class EventLog {
 public:
  static constexpr std::size_t kDefaultCapacity = 1'000'000;
  // `partition` and `account` are the service's: an event's secret ARN of that form is kept
  // without its "arn:<partition>:secretsmanager:<region>:<account>:secret:" (a third of a record)
  // and given back whole. Empty: ARNs are kept as they are.
  explicit EventLog(std::size_t capacity = kDefaultCapacity, std::string_view partition = {},
                    std::string_view account = {});
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Appends the event, giving it the next sequence number; returns that number.
  std::uint64_t append(const EventFields& event);
  std::uint64_t append(const Event& event);  // its sequence is ignored
  // Whether a successful read should be recorded: only while a subscriber asked for reads.
  // Lock-free: it is asked on every read.
  bool wants_reads() const { return read_subscribers_.load(std::memory_order_relaxed) > 0; }

  // Events with a sequence number greater than `after`, at most `limit` of them.
  std::vector<Event> read(std::uint64_t after, std::size_t limit = SIZE_MAX) const;
  // The sequence number of the newest event (0 when none).
  std::uint64_t last_sequence() const;
  std::size_t size() const;

  using Subscriber = std::function<void(const Event&)>;
  // Calls `subscriber` for every event appended from now on; returns an id for unsubscribe().
  std::uint64_t subscribe(Subscriber subscriber, bool include_reads = false);
  void unsubscribe(std::uint64_t id);

 private:
  struct Subscription {
    std::uint64_t id;
    bool include_reads;
    std::shared_ptr<Subscriber> callback;
  };
  // Where a kept event's record starts: the chunk, counted from the first ever modulo 2^32 (the
  // differences the log takes stay right as long as fewer than 2^32 chunks are kept), and the
  // offset in it.
  struct Place {
    std::uint32_t chunk;
    std::uint32_t offset;
  };
  struct Chunk {
    std::unique_ptr<std::byte[]> bytes;
    std::size_t size;  // room
    std::size_t used;
  };

  // REQUIRES for all: mutex_ held.
  // Room for a record of `bytes` at the end of the newest chunk (a new chunk when it is full).
  Place reserve(std::size_t bytes);
  // Drops the oldest kept event, and its chunk once no kept event is in it.
  void drop_oldest();
  Event decode(Place place, std::uint64_t sequence) const;
  // arn_head_ region arn_tail_: what a record leaves out of a secret ARN that starts with it.
  std::size_t prefix_size(std::string_view region) const {
    return arn_head_.size() + region.size() + arn_tail_.size();
  }
  bool has_own_prefix(std::string_view region, std::string_view arn) const;

  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::string arn_head_;  // "arn:<partition>:secretsmanager:"; empty: ARNs are kept whole
  std::string arn_tail_;  // ":<account>:secret:"
  // The kept events are records (a fixed header, then their strings) packed one after another in
  // chunks of bytes: an append allocates nothing but, now and then, a chunk, and nothing moves
  // when the log grows. places_ is a ring of where each kept event starts, oldest at oldest_.
  std::deque<Chunk> chunks_;
  std::uint32_t first_chunk_ = 0;  // the number of chunks_.front()
  std::optional<Chunk> spare_;     // a dropped chunk, reused by the next one needed
  std::vector<Place> places_;
  std::size_t oldest_ = 0;
  std::size_t kept_ = 0;
  std::uint64_t next_sequence_ = 1;
  std::uint64_t next_subscription_ = 1;
  std::vector<Subscription> subscriptions_;
  std::atomic<std::size_t> read_subscribers_{0};
};

// The CloudTrail-style JSON of one event (docs/events.md): eventVersion, eventTime, eventSource,
// eventName, eventType, awsRegion, eventID (the sequence number), requestParameters,
// responseElements, errorCode/errorMessage, additionalEventData; for kLabelUpdated the EventBridge
// shape (detail-type "Secret Label Updated", resources, detail {name, labelUpdated, versionId}).
nlohmann::json to_json(const Event& event);

// ISO-8601 UTC with seconds: 2026-01-01T00:00:00Z (CloudTrail's eventTime).
std::string iso8601(Timestamp time);

}  // namespace smemu
