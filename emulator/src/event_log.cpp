#include "smemu/emulator/event_log.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace smemu {

std::uint64_t EventLog::append(Event event) {
  std::vector<std::shared_ptr<Subscriber>> to_call;
  std::optional<Event> copy;  // what the subscribers see, taken before the log may drop it
  std::uint64_t sequence;
  {
    std::lock_guard lock(mutex_);
    sequence = next_sequence_++;
    event.sequence = sequence;
    for (const auto& s : subscriptions_) to_call.push_back(s.callback);
    if (!to_call.empty()) copy = event;
    if (events_.size() < capacity_) {
      // Grown by hand so that the ring never holds more room than capacity_ asks for.
      if (events_.size() == events_.capacity()) {
        events_.reserve(std::min(capacity_, std::max<std::size_t>(64, events_.size() * 2)));
      }
      events_.push_back(std::move(event));
    } else if (capacity_ > 0) {
      events_[oldest_] = std::move(event);
      oldest_ = (oldest_ + 1) % capacity_;
    }
    if (to_call.empty()) return sequence;
  }
  // Called without the lock: a subscriber may read the log or append to it.
  for (const auto& callback : to_call) (*callback)(*copy);
  return sequence;
}

std::vector<Event> EventLog::read(std::uint64_t after, std::size_t limit) const {
  std::lock_guard lock(mutex_);
  std::vector<Event> out;
  if (events_.empty()) return out;
  const std::uint64_t first = kept(0).sequence;
  const std::size_t start = after < first ? 0 : static_cast<std::size_t>(after - first + 1);
  for (std::size_t i = start; i < events_.size() && out.size() < limit; ++i) out.push_back(kept(i));
  return out;
}

std::uint64_t EventLog::last_sequence() const {
  std::lock_guard lock(mutex_);
  return next_sequence_ - 1;
}

std::size_t EventLog::size() const {
  std::lock_guard lock(mutex_);
  return events_.size();
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
