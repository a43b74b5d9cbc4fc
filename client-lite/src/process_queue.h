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
// Concurrent consumption marks the messages a listener call is running on, so that one whose
// call has run longer than the consume timeout can be taken over (sent back for retry and
// removed) without the call's eventual result counting for it a second time.
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
#include <memory>
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
  // An offset reset replaced this process queue with a fresh one: listener calls still
  // running on its messages must not record an offset any more. Set and read under the
  // consumer's offset mutex, so that no such record can land after the reset's.
  bool replaced() const { return replaced_.load(std::memory_order_acquire); }
  void set_replaced() { replaced_.store(true, std::memory_order_release); }

  // ---- Concurrent consumption: the consume timeout ----

  using Clock = std::chrono::steady_clock;
  // A listener call on `messages` (held ones) starts at `now`.
  void BeginConsume(const std::vector<ReceivedMessage>& messages, Clock::time_point now);
  // The listener call on `queue_offsets` returned: those still its own, i.e. held and not
  // taken by TakeExpired meanwhile (their result is for the caller to apply).
  std::vector<int64_t> EndConsume(const std::vector<int64_t>& queue_offsets);
  // Up to `max` messages, lowest offsets first, whose listener call started at or before
  // now - timeout and has not returned, plus those taken before and still held (their send-
  // back failed). Taken: EndConsume no longer returns them; the caller sends them back and
  // Removes them. Each is what SendBack needs (no body, no properties).
  std::vector<ReceivedMessage> TakeExpired(Clock::time_point now, std::chrono::milliseconds timeout,
                                           size_t max);

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
  std::mutex& consume_mutex() { return *consume_mutex_; }
  // This process queue replaces `previous` (of the same queue, after an offset reset): it
  // shares its consume mutex, so no listener call on it starts while one on `previous` still
  // runs (Java keeps one such lock per queue), and takes its broker lock state. Before this
  // process queue is shared with other threads.
  void TakeOver(const ProcessQueue& previous);

 private:
  struct Held {
    uint64_t body_bytes = 0;
    // Concurrent: a listener call runs on it since `consume_started`; `expired` once
    // TakeExpired took it; `message` is what SendBack needs, kept only while in a call (most
    // held messages wait for a thread, and a ReceivedMessage is some 400 bytes).
    bool in_call = false;
    bool expired = false;
    Clock::time_point consume_started;
    std::unique_ptr<ReceivedMessage> message;
  };
  static Held HeldBytes(uint64_t body_bytes);

  mutable std::mutex mu_;
  std::map<int64_t, Held> held_;  // by queue offset; guarded by mu_
  uint64_t held_bytes_ = 0;       // guarded by mu_
  int64_t highest_put_ = -1;      // guarded by mu_
  std::atomic<bool> dropped_{false};
  std::atomic<bool> replaced_{false};

  std::map<int64_t, ReceivedMessage> waiting_;       // orderly: pulled, not taken; guarded by mu_
  std::map<int64_t, ReceivedMessage> taken_;         // orderly: being consumed; guarded by mu_
  bool consuming_ = false;                           // orderly: a task has the turn; guarded by mu_
  bool locked_ = false;                              // guarded by mu_
  std::chrono::steady_clock::time_point locked_at_;  // guarded by mu_
  std::shared_ptr<std::mutex> consume_mutex_ = std::make_shared<std::mutex>();
};

}  // namespace mqclient

#endif  // MQCLIENT_PROCESS_QUEUE_H_
