// Durable state (issue 5): the service's side of `smemu serve --state FILE`. Every exclusive
// section commits what it changed to the change sink as it lets go of the lock (CommitMutex);
// saved secrets come back through load_secrets, with their rotations queued again.
#include <string>

#include "service_internal.h"

namespace smemu {

void Service::set_change_sink(ChangeSink* sink) {
  std::unique_lock lock(mutex_);
  change_sink_ = sink;
  mutex_.set_commit_hook(sink ? std::function<void()>([this] { commit_changes(); }) : std::function<void()>());
  // Off, so that this section's commit (as the lock is let go) hands the sink the whole state.
  store_.track_changes(false);
}

void Service::commit_changes() {
  if (!change_sink_) return;
  ChangeSet changes;
  changes.store = &store_;
  if (store_.tracking_changes()) {
    changes.secrets = store_.take_changes();
  } else {
    // Tracking is off after set_change_sink, and in a store put in place wholesale (reset()):
    // what changed is everything.
    store_.track_changes(true);
    changes.everything = true;
  }
  change_sink_->commit(changes);
}

std::size_t Service::load_secrets(std::vector<model::Secret> secrets) {
  const auto now = this->now();
  std::size_t resumed = 0;
  {
    std::unique_lock lock(mutex_);
    for (auto& secret : secrets) {
      const std::string region = secret.meta.region;
      const std::string name = secret.meta.name;
      if (store_.find_by_name(region, name)) store_.erase(region, name);
      auto& stored = store_.insert(std::move(secret));
      using Phase = model::RotationRun::Phase;
      bool scheduled = false;
      if (stored.run() && stored.run()->phase == Phase::kRunning) {
        ++resumed;
        const auto token = stored.run()->token;
        const auto attempt = stored.run()->attempt;
        if (stored.resume_interrupted(now)) {
          // finishSecret had done its work before the stop: the rotation succeeded, said as step()
          // says it (the event name is rotation_engine.cpp's kRotationSucceeded).
          emit_service_event("RotationSucceeded", stored, store_.arn(stored), token, {}, attempt, {}, now);
          schedule_next(stored, now, now);
          scheduled = true;
        }
      }
      if (const auto& run = stored.run(); run && (run->phase == Phase::kReady || run->phase == Phase::kRetry)) {
        enqueue_step(stored, run->due);
      }
      const auto& rotation = stored.meta.rotation;
      if (!scheduled && rotation.enabled.value_or(false) && rotation.next_rotation) {
        queue_->push(Queued{*rotation.next_rotation, next_queue_seq_++, store_.handle(stored), Queued::Kind::kSchedule});
      }
    }
  }
  notify_work();
  return resumed;
}

void Service::reseed(std::string_view name) {
  random_ = std::make_unique<Random>(SeededRandom(options_.seed).split(name).next());
}

}  // namespace smemu
