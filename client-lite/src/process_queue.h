// ProcessQueue: what a push consumer has pulled from one queue and not yet consumed. The pull
// loop adds, consume tasks remove, and the offset to commit is the lowest offset still held
// (or one past the highest pulled once everything is consumed). Committing that and never a
// later one means a crash re-delivers messages but never skips one, whatever order the
// consume threads finish in.
//
// Its sizes drive flow control (pullThresholdForQueue, pullThresholdSizeForQueue,
// consumeConcurrentlyMaxSpan). Dropped when the queue is rebalanced away or the consumer
// stops: then nothing more is pulled or committed for it. Thread-safe.
//
// Orderly consumption keeps the messages themselves here: one consume task at a time takes
// them in offset order, then commits or returns them; the broker lock on the queue and the
// consume mutex (held while the listener runs) let a rebalance hand the queue over only once
// no listener call is running.
#ifndef MQCLIENT_PROCESS_QUEUE_H_
#define MQCLIENT_PROCESS_QUEUE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "mqclient/message.h"

namespace mqclient {

class ProcessQueue {
 public:
  // A pulled message: its queue offset and body size.
  struct Entry {
    int64_t queue_offset = 0;
    uint64_t body_bytes = 0;
  };

  // Adds pulled messages; offsets already held are ignored. Returns how many were added.
  size_t Put(const std::vector<Entry>& entries);

  // Removes consumed offsets (those not held are ignored) and returns the offset to commit:
  // the lowest offset still held, or one past the highest ever put when none is left; -1
  // when nothing was held to begin with (nothing to commit).
  int64_t Remove(const std::vector<int64_t>& queue_offsets);

  size_t count() const;
  uint64_t bytes() const;
  // Highest minus lowest offset held; 0 when empty.
  int64_t span() const;

  bool dropped() const { return dropped_.load(std::memory_order_acquire); }
  void set_dropped() { dropped_.store(true, std::memory_order_release); }

  // ---- Orderly consumption ----

  // Adds pulled messages (Put's accounting included); offsets already held are ignored.
  void PutMessages(std::vector<ReceivedMessage> messages);
  // Up to `n` waiting messages from the lowest offset, now being consumed; empty when none
  // waits. Only the task that holds the consume turn calls it (see TryStartConsuming).
  std::vector<ReceivedMessage> TakeMessages(size_t n);
  // The taken messages are consumed: they leave. Returns the offset to commit (one past the
  // highest taken; everything below was consumed in order), -1 when nothing was taken.
  int64_t CommitTaken();
  // The taken messages go back to be taken again, each with reconsume_times + 1.
  void ReturnTaken();
  // The consume turn: at most one consume task per queue. TryStartConsuming takes the turn
  // when messages wait and nobody has it; FinishConsumingIfIdle gives it back unless
  // messages arrived meanwhile (then the caller keeps it and goes on).
  bool TryStartConsuming();
  bool FinishConsumingIfIdle();

  // The broker lock on this queue (clustering orderly): held, and when last granted.
  bool LockedWithin(std::chrono::milliseconds max_age) const;
  void set_locked(bool locked);
  // Held while a listener runs on this queue's messages.
  std::mutex& consume_mutex() { return consume_mutex_; }

 private:
  mutable std::mutex mu_;
  std::map<int64_t, uint64_t> held_;  // queue offset -> body bytes; guarded by mu_
  uint64_t held_bytes_ = 0;           // guarded by mu_
  int64_t highest_put_ = -1;          // guarded by mu_
  std::atomic<bool> dropped_{false};

  std::map<int64_t, ReceivedMessage> waiting_;       // orderly: pulled, not taken; guarded by mu_
  std::map<int64_t, ReceivedMessage> taken_;         // orderly: being consumed; guarded by mu_
  bool consuming_ = false;                           // orderly: a task has the turn; guarded by mu_
  bool locked_ = false;                              // guarded by mu_
  std::chrono::steady_clock::time_point locked_at_;  // guarded by mu_
  std::mutex consume_mutex_;
};

}  // namespace mqclient

#endif  // MQCLIENT_PROCESS_QUEUE_H_
