// Queue locks for orderly consumption (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ): within a consumer
// group, at most one client consumes a queue at a time. A client takes a lock and renews it
// by asking again (Java clients do every 20 s); a lock not renewed for lock_max_live_ms
// (RocketMQ's rebalance.lockMaxLiveTime, 60 s) is free for anyone.
//
// Locks live only in memory: after a restart clients simply lock again. Time is passed in
// (now_ms). Thread-safe: one internal mutex.
#ifndef MQBROKER_QUEUE_LOCK_MANAGER_H_
#define MQBROKER_QUEUE_LOCK_MANAGER_H_

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "remoting/lock_batch_body.h"

namespace mqbroker {

// Queues are named as on the wire (topic, broker name, queue id).
using mqremoting::MessageQueue;

inline constexpr int64_t kDefaultLockMaxLiveMs = 60'000;

class QueueLockManager {
 public:
  explicit QueueLockManager(int64_t lock_max_live_ms = kDefaultLockMaxLiveMs)
      : lock_max_live_ms_(lock_max_live_ms) {}
  QueueLockManager(const QueueLockManager&) = delete;
  QueueLockManager& operator=(const QueueLockManager&) = delete;

  int64_t lock_max_live_ms() const { return lock_max_live_ms_; }

  // Locks what it can of `queues` for `client_id` in `group`: queues the client already
  // holds are renewed, free or expired ones are taken, ones live-held by another client are
  // left. Returns the queues the client now holds, sorted, without duplicates.
  std::vector<MessageQueue> TryLockBatch(std::string_view group,
                                         const std::vector<MessageQueue>& queues,
                                         std::string_view client_id, int64_t now_ms);

  // Releases those of `queues` that `client_id` holds; other holders' locks stay.
  void UnlockBatch(std::string_view group, const std::vector<MessageQueue>& queues,
                   std::string_view client_id);

  // Whether another client holds a live lock on `queue`.
  bool IsLockedByOther(std::string_view group, const MessageQueue& queue,
                       std::string_view client_id, int64_t now_ms) const;
  // The client holding a live lock on `queue`, if any.
  std::optional<std::string> Holder(std::string_view group, const MessageQueue& queue,
                                    int64_t now_ms) const;

  // Releases every lock of `client_id` in `group` (the client unregistered or left).
  void ReleaseClient(std::string_view group, std::string_view client_id);
  // Releases every lock of `client_id` in all groups (its connection closed or expired).
  void ReleaseClientEverywhere(std::string_view client_id);

  // Forgets expired locks (they are already free; this only bounds memory). Returns how
  // many were dropped.
  size_t RemoveExpired(int64_t now_ms);
  // Locks stored, live or expired.
  size_t size() const;

 private:
  struct Lock {
    std::string client_id;
    int64_t last_lock_ms = 0;
  };
  using GroupLocks = std::map<MessageQueue, Lock>;

  bool Live(const Lock& lock, int64_t now_ms) const {
    return now_ms - lock.last_lock_ms <= lock_max_live_ms_;
  }
  // The live lock on `queue`, or null.
  const Lock* FindLive(std::string_view group, const MessageQueue& queue, int64_t now_ms) const;

  const int64_t lock_max_live_ms_;
  mutable std::mutex mu_;
  std::map<std::string, GroupLocks, std::less<>> groups_;
};

}  // namespace mqbroker

#endif  // MQBROKER_QUEUE_LOCK_MANAGER_H_
