// Redelivery: puts parked records back into the store as the messages they stand for, in
// batches (Store::PutBatch), for DelayScheduler and TimerScheduler.
//
// Each added record is parsed and restored (RestoreForDelivery) at once; Flush puts what
// was added in one PutBatch. A record that cannot be restored, or that the store rejects as
// invalid (say its REAL_TOPIC is not a valid topic), is dropped and counted, never retried:
// one bad message must not stop its queue forever. When a batch is rejected as invalid the
// messages are put one by one to find the culprit.
//
// Thread safety: none; one per scheduler.
#ifndef MQSTORE_SCHEDULE_REDELIVERY_H_
#define MQSTORE_SCHEDULE_REDELIVERY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/message.h"
#include "mqstore/status.h"
#include "mqstore/store.h"

namespace mqstore {

struct RedeliveryOptions {
  // A batch is full at this many messages or record bytes, whichever comes first. Keep
  // the bytes well under StoreOptions::write_buffer_bytes (a SYNC_FLUSH store rejects a batch
  // larger than its write buffer). Defaults: 1024 messages, 1 MiB.
  size_t max_messages = 1024;
  size_t max_bytes = size_t{1} << 20;
};

class Redelivery {
 public:
  Redelivery(Store& store, const RedeliveryOptions& options);
  Redelivery(const Redelivery&) = delete;
  Redelivery& operator=(const Redelivery&) = delete;

  // Restores `record` into the batch; `pin` keeps `record`'s bytes valid until the next
  // Flush. A record that does not parse or restore is dropped (counted), and Add still
  // returns OK. REQUIRES: !full().
  void Add(std::string_view record, std::shared_ptr<const void> pin);
  // The same for a record the caller has parsed already (its views point into the pinned
  // bytes).
  void Add(const ParsedRecord& record, std::shared_ptr<const void> pin);
  // Counts a parked message that is gone (e.g. removed by retention) as dropped.
  void Drop() { ++dropped_; }
  // Forgets what was added and not flushed (after an error, before the pins go away).
  void Discard() { Clear(); }
  bool full() const { return count_ >= options_.max_messages || bytes_ >= options_.max_bytes; }
  bool empty() const { return count_ == 0; }

  // Puts every added message and empties the batch, also on failure. On an error other
  // than an invalid message (kIOError, kResourceExhausted, kFailedPrecondition, ...) some
  // of the batch may have been put; the caller must not count any of it as delivered.
  Status Flush();

  // Messages put / dropped so far.
  uint64_t delivered() const { return delivered_; }
  uint64_t dropped() const { return dropped_; }

 private:
  void Clear();

  Store& store_;
  RedeliveryOptions options_;
  std::vector<std::string> properties_;  // one per slot, reused across batches
  std::vector<MessageView> views_;
  std::vector<std::shared_ptr<const void>> pins_;
  size_t count_ = 0;
  size_t bytes_ = 0;
  uint64_t delivered_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace mqstore

#endif  // MQSTORE_SCHEDULE_REDELIVERY_H_
