// LogFlusher: turns appended commit-log bytes into durable ones.
//
// Group commit (FlushMode::kSync): a put waits in WaitDurable(end) while the flusher's own
// thread writes out (CommitLog::WriteOut, buffered mode) and syncs everything appended so far
// (covering every waiter that arrived meanwhile), publishes the new durable offset and wakes them.
// Waiters that arrive during a sync are covered by the next one. So N concurrent puts cost about
// one sync per sync latency, not N syncs; and because no put runs the sync itself, every put can
// honour its timeout even when the disk is stuck. The thread starts on the first wait.
//
// Callbacks (Store::PutAsync in kSync): NotifyWhenDurable(end, deadline, done) registers a
// completion instead of blocking a thread; the sync thread runs the ones each sync covers
// (see durable_callbacks.h).
//
// Periodic flush (both modes): FlushAll() every flush_interval_ms from the store's
// maintenance thread, so that records put without waiting still become durable.
//
// A failed write-out or sync is sticky: after it the store cannot know what reached the disk (the
// kernel may have dropped the dirty pages), so every later wait returns the same error.
#ifndef MQSTORE_LOG_LOG_FLUSHER_H_
#define MQSTORE_LOG_LOG_FLUSHER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "log/commit_log.h"
#include "log/durable_callbacks.h"
#include "mqstore/status.h"
#include "util/event_count.h"

namespace mqstore {

class LogFlusher {
 public:
  // `on_durable` runs on the sync thread after the durable offset advances and before
  // waiters are released (it wakes the dispatcher in kSync mode). It must be quick and must
  // not call back into the flusher.
  // `completion_group` wraps the callbacks (NotifyWhenDurable) each sync completes (see
  // StoreOptions::put_completion_group); may be empty.
  LogFlusher(CommitLog* log, std::function<void()> on_durable,
             DurableCallbacks::GroupRunner completion_group = nullptr)
      : log_(log), on_durable_(std::move(on_durable)), callbacks_(std::move(completion_group)) {}
  ~LogFlusher();  // stops the sync thread

  // Sets the durable offset after recovery (everything below `offset` is on disk).
  void Reset(int64_t offset) { durable_.store(offset, std::memory_order_release); }

  // Returns once log bytes below `offset` are durable. kTimedOut after `timeout_ms` (the
  // bytes stay in the log and become durable later); the sticky sync error if a sync failed.
  // A negative timeout waits for ever.
  Status WaitDurable(int64_t offset, int timeout_ms);
  // Asks for log bytes below `offset` to become durable soon, without waiting (a put that
  // does not wait for the disk still should not sit in the write buffer until the next
  // periodic flush).
  void RequestDurable(int64_t offset);
  // Runs `done` once log bytes below `offset` are durable: OK on the sync thread (or at once
  // when they already are), kTimedOut at `deadline` (the bytes become durable later), or the
  // sticky sync error. `done` must be quick and must not wait for the flusher (no Put,
  // WaitDurable or FlushAll).
  void NotifyWhenDurable(int64_t offset, DurableCallbacks::Clock::time_point deadline,
                         DurableCallbacks::Callback done);
  // Makes everything appended so far durable.
  Status FlushAll() { return WaitDurable(log_->appended(), -1); }

  int64_t durable() const { return durable_.load(std::memory_order_acquire); }
  uint64_t sync_count() const { return sync_count_.load(std::memory_order_relaxed); }
  // Times a WaitDurable call went to sleep (for tests: a put should sleep once per sync
  // it waits for, not be woken by syncs that do not cover it).
  uint64_t waiter_sleeps() const { return waiter_sleeps_.load(std::memory_order_relaxed); }
  // OK, or the sticky error of a failed sync. One atomic load when there is none.
  Status error() const {
    if (!failed_.load(std::memory_order_acquire)) return Status::OK();
    std::lock_guard<std::mutex> l(mu_);
    return error_;
  }

 private:
  void SyncLoop();
  void StartThread();
  // Raises requested_ to `offset`; true when it was lower (the sync thread must look).
  bool Request(int64_t offset);
  // The EventCount a put waiting for `offset` sleeps on: that of the sync under way when
  // it covers `offset`, else that of the next sync (see done_).
  EventCount& DoneEventFor(int64_t offset);
  // Wakes every waiter, whichever sync it waits for (a failed sync, a lowered request).
  void NotifyAllWaiters() {
    done_[0].Notify();
    done_[1].Notify();
  }

  CommitLog* const log_;
  const std::function<void()> on_durable_;
  std::atomic<int64_t> durable_{0};
  std::atomic<int64_t> requested_{0};  // highest offset a waiter or requester needs
  std::atomic<uint64_t> sync_count_{0};
  std::atomic<uint64_t> waiter_sleeps_{0};
  std::atomic<bool> failed_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> started_{false};
  // No mutex on the wait path: waiters and the sync thread meet on these (see event_count.h
  // for why that matters when one sync releases many puts).
  EventCount work_;  // the sync thread sleeps here
  // Waiters sleep on done_[parity of the sync that covers them]; each sync notifies its
  // own. With one EventCount, the puts that arrived during a sync were woken at its end
  // only to find themselves not covered and sleep again: two sleeps and wake-ups per put
  // with many writers, where the wake-ups are what limits a 2-vCPU guest.
  EventCount done_[2];
  // The sync under way, or the last one: (end of the bytes it covers << 1) | its parity.
  // Published after the write-out fixed its end and before the sync.
  std::atomic<int64_t> syncing_{0};
  uint64_t syncs_started_ = 0;  // sync thread only; its low bit is the parity

  DurableCallbacks callbacks_;  // destroyed after the thread stops (declared before it)

  mutable std::mutex mu_;
  Status error_;        // GUARDED_BY(mu_)
  std::thread thread_;  // GUARDED_BY(mu_) for starting and joining
};

}  // namespace mqstore

#endif  // MQSTORE_LOG_LOG_FLUSHER_H_
