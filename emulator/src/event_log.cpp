#include "smemu/emulator/event_log.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <type_traits>
#include <chrono>
#include <memory>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace smemu {

namespace {

// Each new chunk is twice the size of the one before, up to the largest: a small log stays
// small, and a large one asks the allocator for a chunk rarely (glibc consolidates its free
// lists at every large request: with 64 KiB chunks that was about a tenth of a month over
// 1,000,000 secrets).
constexpr std::size_t kFirstChunkBytes = std::size_t{1} << 16;
constexpr std::size_t kLargestChunkBytes = std::size_t{1} << 22;

// The fixed part of a kept event's record; then label_count label sizes (std::uint32_t), then the
// bytes of region, secret_arn, version_id, step, message and the labels, one after another. The
// sequence number is not stored: it follows from the record's place in the ring.
struct RecordHeader {
  Timestamp time;
  const char* name;  // a string literal's
  std::uint32_t name_size;
  std::uint32_t attempt;
  std::array<std::uint32_t, 5> sizes;  // region, secret_arn (as stored), version_id, step, message
  std::uint32_t label_count;
  EventKind kind;
  bool has_error;
  bool arn_prefix_left_out;  // secret_arn is stored without the log's ARN prefix for region
  ErrorCode error;
};
static_assert(std::is_trivially_copyable_v<RecordHeader>);

std::size_t aligned(std::size_t bytes) { return (bytes + 7) & ~std::size_t{7}; }

std::array<std::string_view, 5> texts_of(const EventFields& event) {
  return {event.region, event.secret_arn, event.version_id, event.step, event.message};
}

Event materialize(const EventFields& fields, std::uint64_t sequence) {
  Event event{.sequence = sequence,
              .time = fields.time,
              .kind = fields.kind,
              .name = fields.name,
              .region = std::string(fields.region),
              .secret_arn = std::string(fields.secret_arn),
              .version_id = std::string(fields.version_id),
              .labels = {fields.labels.begin(), fields.labels.end()},
              .step = std::string(fields.step),
              .attempt = fields.attempt,
              .error = fields.error,
              .message = std::string(fields.message)};
  return event;
}

}  // namespace

std::uint64_t EventLog::append(const Event& event) {
  return append(EventFields{.time = event.time,
                            .kind = event.kind,
                            .name = event.name,
                            .region = event.region,
                            .secret_arn = event.secret_arn,
                            .version_id = event.version_id,
                            .labels = event.labels,
                            .step = event.step,
                            .attempt = event.attempt,
                            .error = event.error,
                            .message = event.message});
}

std::uint64_t EventLog::append(const EventFields& event) {
  std::vector<std::shared_ptr<Subscriber>> to_call;
  std::uint64_t sequence;
  {
    std::lock_guard lock(mutex_);
    sequence = next_sequence_++;
    for (const auto& s : subscriptions_) to_call.push_back(s.callback);
    if (capacity_ > 0) {
      if (kept_ == capacity_) drop_oldest();
      auto texts = texts_of(event);
      const bool short_arn = has_own_prefix(event.region, event.secret_arn);
      if (short_arn) texts[1].remove_prefix(prefix_size(event.region));
      RecordHeader header{.time = event.time,
                          .name = event.name.data(),
                          .name_size = static_cast<std::uint32_t>(event.name.size()),
                          .attempt = event.attempt,
                          .sizes = {},
                          .label_count = static_cast<std::uint32_t>(event.labels.size()),
                          .kind = event.kind,
                          .has_error = event.error.has_value(),
                          .arn_prefix_left_out = short_arn,
                          .error = event.error.value_or(ErrorCode{})};
      std::size_t text_bytes = 0;
      for (std::size_t i = 0; i < texts.size(); ++i) {
        header.sizes[i] = static_cast<std::uint32_t>(texts[i].size());
        text_bytes += texts[i].size();
      }
      for (const auto& label : event.labels) text_bytes += label.size();
      const std::size_t label_sizes_bytes = event.labels.size() * sizeof(std::uint32_t);
      const auto place = reserve(aligned(sizeof header + label_sizes_bytes + text_bytes));
      std::byte* out = chunks_[static_cast<std::uint32_t>(place.chunk - first_chunk_)].bytes.get() + place.offset;
      std::memcpy(out, &header, sizeof header);
      out += sizeof header;
      for (const auto& label : event.labels) {
        const auto size = static_cast<std::uint32_t>(label.size());
        std::memcpy(out, &size, sizeof size);
        out += sizeof size;
      }
      const auto put = [&out](std::string_view text) {
        if (text.empty()) return;
        std::memcpy(out, text.data(), text.size());
        out += text.size();
      };
      for (const auto text : texts) put(text);
      for (const auto& label : event.labels) put(label);
      // Grown by hand so that the ring never holds more room than capacity_ asks for.
      if (places_.size() < capacity_) {
        if (places_.size() == places_.capacity()) {
          places_.reserve(std::min(capacity_, std::max<std::size_t>(64, places_.size() * 2)));
        }
        places_.push_back(place);
      } else {
        places_[(oldest_ + kept_) % capacity_] = place;
      }
      ++kept_;
    }
    if (to_call.empty()) return sequence;
  }
  // Called without the lock: a subscriber may read the log or append to it.
  const Event copy = materialize(event, sequence);
  for (const auto& callback : to_call) (*callback)(copy);
  return sequence;
}

EventLog::Place EventLog::reserve(std::size_t bytes) {
  if (chunks_.empty() || chunks_.back().used + bytes > chunks_.back().size) {
    if (spare_ && spare_->size >= bytes) {
      chunks_.push_back(std::move(*spare_));
      spare_.reset();
      chunks_.back().used = 0;
    } else {
      const auto grown = chunks_.empty() ? kFirstChunkBytes : std::min(kLargestChunkBytes, 2 * chunks_.back().size);
      const auto size = std::max(grown, bytes);
      chunks_.push_back(Chunk{std::make_unique_for_overwrite<std::byte[]>(size), size, 0});
    }
  }
  auto& chunk = chunks_.back();
  const Place place{static_cast<std::uint32_t>(first_chunk_ + chunks_.size() - 1),
                    static_cast<std::uint32_t>(chunk.used)};
  chunk.used += bytes;
  return place;
}

void EventLog::drop_oldest() {
  oldest_ = (oldest_ + 1) % places_.size();
  --kept_;
  // The chunks before the one the oldest kept event is in hold only dropped events. With none
  // kept, the newest chunk stays: the next record goes there.
  const auto needed_from = kept_ > 0 ? static_cast<std::uint32_t>(places_[oldest_].chunk - first_chunk_)
                                     : static_cast<std::uint32_t>(chunks_.size() - 1);
  for (std::uint32_t dropped = 0; dropped < needed_from; ++dropped) {
    if (!spare_) spare_ = std::move(chunks_.front());
    chunks_.pop_front();
    ++first_chunk_;
  }
}

EventLog::EventLog(std::size_t capacity, std::string_view partition, std::string_view account)
    : capacity_(capacity) {
  if (partition.empty()) return;
  arn_head_ = "arn:" + std::string(partition) + ":secretsmanager:";
  arn_tail_ = ":" + std::string(account) + ":secret:";
}

bool EventLog::has_own_prefix(std::string_view region, std::string_view arn) const {
  return !arn_head_.empty() && arn.size() >= prefix_size(region) && arn.starts_with(arn_head_) &&
         arn.substr(arn_head_.size(), region.size()) == region &&
         arn.substr(arn_head_.size() + region.size(), arn_tail_.size()) == arn_tail_;
}

Event EventLog::decode(Place place, std::uint64_t sequence) const {
  const std::byte* in = chunks_[static_cast<std::uint32_t>(place.chunk - first_chunk_)].bytes.get() + place.offset;
  RecordHeader header;
  std::memcpy(&header, in, sizeof header);
  in += sizeof header;
  std::vector<std::uint32_t> label_sizes(header.label_count);
  if (header.label_count > 0) std::memcpy(label_sizes.data(), in, label_sizes.size() * sizeof(std::uint32_t));
  in += label_sizes.size() * sizeof(std::uint32_t);
  const auto take = [&in](std::size_t size) {
    std::string text(reinterpret_cast<const char*>(in), size);
    in += size;
    return text;
  };
  Event event{.sequence = sequence,
              .time = header.time,
              .kind = header.kind,
              .name = std::string_view(header.name, header.name_size)};
  event.region = take(header.sizes[0]);
  event.secret_arn = take(header.sizes[1]);
  if (header.arn_prefix_left_out) {
    std::string arn;
    arn.reserve(prefix_size(event.region) + event.secret_arn.size());
    arn.append(arn_head_).append(event.region).append(arn_tail_).append(event.secret_arn);
    event.secret_arn = std::move(arn);
  }
  event.version_id = take(header.sizes[2]);
  event.step = take(header.sizes[3]);
  event.message = take(header.sizes[4]);
  event.attempt = header.attempt;
  if (header.has_error) event.error = header.error;
  event.labels.reserve(label_sizes.size());
  for (const auto size : label_sizes) event.labels.push_back(take(size));
  return event;
}

std::vector<Event> EventLog::read(std::uint64_t after, std::size_t limit) const {
  std::lock_guard lock(mutex_);
  std::vector<Event> out;
  if (kept_ == 0) return out;
  const auto place_of = [&](std::size_t age) { return places_[(oldest_ + age) % places_.size()]; };
  const std::uint64_t first = next_sequence_ - kept_;
  const std::size_t start = after < first ? 0 : static_cast<std::size_t>(after - first + 1);
  for (std::size_t i = start; i < kept_ && out.size() < limit; ++i) out.push_back(decode(place_of(i), first + i));
  return out;
}

std::uint64_t EventLog::last_sequence() const {
  std::lock_guard lock(mutex_);
  return next_sequence_ - 1;
}

std::size_t EventLog::size() const {
  std::lock_guard lock(mutex_);
  return kept_;
}

std::uint64_t EventLog::subscribe(Subscriber subscriber, bool include_reads) {
  std::lock_guard lock(mutex_);
  const auto id = next_subscription_++;
  subscriptions_.push_back(Subscription{id, include_reads, std::make_shared<Subscriber>(std::move(subscriber))});
  if (include_reads) read_subscribers_.fetch_add(1, std::memory_order_relaxed);
  return id;
}

void EventLog::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  std::erase_if(subscriptions_, [&](const Subscription& s) {
    if (s.id == id && s.include_reads) read_subscribers_.fetch_sub(1, std::memory_order_relaxed);
    return s.id == id;
  });
}

std::string iso8601(Timestamp time) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::floor<std::chrono::seconds>(time));
}

namespace {

// The service's own name for a label or version parameter, as CloudTrail spells it.
nlohmann::json request_parameters(const Event& event) {
  nlohmann::json params = nlohmann::json::object();
  if (!event.secret_arn.empty()) params["secretId"] = event.secret_arn;
  if (!event.version_id.empty()) params["clientRequestToken"] = event.version_id;
  if (!event.labels.empty()) params["versionStages"] = event.labels;
  return params;
}

}  // namespace

nlohmann::json to_json(const Event& event) {
  if (event.kind == EventKind::kLabelUpdated) {
    return {{"version", "0"},
            {"id", std::to_string(event.sequence)},
            {"detail-type", "Secret Label Updated"},
            {"source", "aws.secretsmanager"},
            {"time", iso8601(event.time)},
            {"region", event.region},
            {"resources", nlohmann::json::array({event.secret_arn})},
            {"detail",
             {{"name", event.secret_arn},
              {"labelUpdated", event.labels.empty() ? std::string() : event.labels.front()},
              {"versionId", event.version_id}}}};
  }
  nlohmann::json out = {{"eventVersion", "1.08"},
                        {"eventTime", iso8601(event.time)},
                        {"eventSource", "secretsmanager.amazonaws.com"},
                        {"eventName", event.name},
                        {"awsRegion", event.region},
                        {"eventID", std::to_string(event.sequence)}};
  if (event.kind == EventKind::kApiCall) {
    out["eventType"] = "AwsApiCall";
    out["detail-type"] = "AWS API Call via CloudTrail";
    out["requestParameters"] = request_parameters(event);
    if (event.error) {
      out["errorCode"] = std::string(aws_name(*event.error));
      out["errorMessage"] = event.message;
      out["responseElements"] = nullptr;
    } else {
      nlohmann::json response = nlohmann::json::object();
      if (!event.secret_arn.empty()) response["arn"] = event.secret_arn;
      out["responseElements"] = response;
    }
    return out;
  }
  out["eventType"] = "AwsServiceEvent";
  out["detail-type"] = "AWS Service Event via CloudTrail";
  out["requestParameters"] = nullptr;
  out["responseElements"] = nullptr;
  nlohmann::json extra = {{"SecretId", event.secret_arn}};
  if (!event.version_id.empty()) extra["VersionId"] = event.version_id;
  if (!event.step.empty()) extra["Step"] = event.step;
  if (event.attempt > 0) extra["Attempt"] = event.attempt;
  if (!event.message.empty()) extra["Reason"] = event.message;
  out["additionalEventData"] = extra;
  return out;
}

}  // namespace smemu
