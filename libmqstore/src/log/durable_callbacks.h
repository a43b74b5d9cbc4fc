// DurableCallbacks: completions waiting for the commit log to be durable up to an offset.
// This is how Store::PutAsync acknowledges in FlushMode::kSync without a blocked thread per
// waiting put: a server keeps thousands of sends in flight on a few threads, and one sync
// releases all of them (group commit).
//
// The flusher calls Release(durable) after each sync; the callbacks it covers run there, in
// offset order. A callback whose deadline passes first runs on this class's own timer thread
// with kTimedOut: a stuck sync must not hold every answer back, which is what the deadline is
// for. Fail(status) fails every waiting callback, and every later Add, with the flusher's
// sticky sync error. Each callback runs exactly once and never under the registry's lock, so
// it may call Add.
#ifndef MQSTORE_LOG_DURABLE_CALLBACKS_H_
#define MQSTORE_LOG_DURABLE_CALLBACKS_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "mqstore/status.h"

namespace mqstore {

class DurableCallbacks {
 public:
  using Callback = std::function<void(Status)>;
  using Clock = std::chrono::steady_clock;

  // Runs the callbacks one Release covers: called with a function that runs them.
  using GroupRunner = std::function<void(const std::function<void()>& run_callbacks)>;

  DurableCallbacks() = default;
  // `group` (may be empty) wraps the callbacks of each Release.
  explicit DurableCallbacks(GroupRunner group) : group_(std::move(group)) {}
  // Fails what is still waiting with kAborted and stops the timer thread.
  ~DurableCallbacks();
  DurableCallbacks(const DurableCallbacks&) = delete;
  DurableCallbacks& operator=(const DurableCallbacks&) = delete;

  // Runs `done` once bytes below `offset` are released (OK), at `deadline` (kTimedOut), or on
  // failure. Runs it at once, on the caller's thread, when `offset` was already released or
  // after Fail.
  void Add(int64_t offset, Clock::time_point deadline, Callback done);
  // Everything below `durable` is durable: runs the callbacks it covers with OK.
  void Release(int64_t durable);
  // Runs every waiting callback, and every later one, with `error`.
  void Fail(const Status& error);
  size_t waiting() const;

 private:
  struct Entry {
    Clock::time_point deadline;
    Callback done;
  };
  void TimerLoop();

  const GroupRunner group_;
  mutable std::mutex mu_;
  std::condition_variable timer_wake_;
  std::multimap<int64_t, Entry> waiting_;                   // GUARDED_BY(mu_), by offset
  int64_t released_ = 0;                                    // GUARDED_BY(mu_)
  std::optional<Status> failed_;                            // GUARDED_BY(mu_)
  Clock::time_point timer_due_ = Clock::time_point::max();  // GUARDED_BY(mu_)
  bool stop_ = false;                                       // GUARDED_BY(mu_)
  std::thread timer_;                                       // started by the first Add
};

}  // namespace mqstore

#endif  // MQSTORE_LOG_DURABLE_CALLBACKS_H_
