// ProcessQueue: what a push consumer has pulled from one queue and not yet consumed. The pull
// loop adds, consume tasks remove, and the offset to commit is the lowest offset still held
// (or one past the highest pulled once everything is consumed). Committing that and never a
// later one means a crash re-delivers messages but never skips one, whatever order the
// consume threads finish in.
//
// Its sizes drive flow control (pullThresholdForQueue, pullThresholdSizeForQueue,
// consumeConcurrentlyMaxSpan). Dropped when the queue is rebalanced away or the consumer
// stops: then nothing more is pulled or committed for it. Thread-safe.
#ifndef MQCLIENT_PROCESS_QUEUE_H_
#define MQCLIENT_PROCESS_QUEUE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

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

 private:
  mutable std::mutex mu_;
  std::map<int64_t, uint64_t> held_;  // queue offset -> body bytes; guarded by mu_
  uint64_t held_bytes_ = 0;           // guarded by mu_
  int64_t highest_put_ = -1;          // guarded by mu_
  std::atomic<bool> dropped_{false};
};

}  // namespace mqclient

#endif  // MQCLIENT_PROCESS_QUEUE_H_
