// CommitMutex: the service's reader/writer lock, whose writers commit before they let go.
//
// A std::shared_mutex, except that unlock() first runs the commit hook, with the lock still held.
// The end of every exclusive section is thus the one place where what it changed is handed on
// (Service::set_change_sink, durable state): in the order the changes happened, and before the
// call that made them answers, since every operation lets go of the lock before it returns.
// Every exclusive section is covered, including those added later, without a call of its own.
//
// Thread-safety: as std::shared_mutex. The hook runs on the thread that unlocks, under the lock;
// it must not throw (unlock() is called from destructors) and must not take the lock itself.
#pragma once

#include <functional>
#include <shared_mutex>
#include <utility>

namespace smemu {

class CommitMutex {
 public:
  void lock() { mutex_.lock(); }
  bool try_lock() { return mutex_.try_lock(); }
  void unlock() {
    if (on_commit_) on_commit_();
    mutex_.unlock();
  }
  void lock_shared() { mutex_.lock_shared(); }
  bool try_lock_shared() { return mutex_.try_lock_shared(); }
  void unlock_shared() { mutex_.unlock_shared(); }

  // REQUIRES: the caller holds the lock exclusively (so no writer reads the hook meanwhile).
  void set_commit_hook(std::function<void()> hook) { on_commit_ = std::move(hook); }

 private:
  std::shared_mutex mutex_;
  std::function<void()> on_commit_;  // read and written only by the exclusive holder
};

}  // namespace smemu
