// ConsumeQueueSet: every consume queue of the store, by (topic, queue id).
//
// The narrow interface the rest of the store uses for queues: find, create on first
// dispatch, apply a dispatched record, sync, truncate. Today each queue is its own set of
// files; a shared sorted index (for millions of queues) can replace it behind this class.
//
// Thread safety: Find/ForEach/List from any thread; Apply from the single dispatching thread;
// ApplyLogMinOffset from one thread at a time, concurrently with both.
#ifndef MQSTORE_QUEUE_CONSUME_QUEUE_SET_H_
#define MQSTORE_QUEUE_CONSUME_QUEUE_SET_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>

#include "log/record_codec.h"
#include "queue/consume_queue.h"
#include "util/topic_queue_cache.h"

namespace mqstore {

// Orders (topic, queue id) keys and lets lookups use a string_view topic without a copy.
struct QueueKeyLess {
  using is_transparent = void;
  using Key = std::pair<std::string, int32_t>;
  using View = std::pair<std::string_view, int32_t>;
  static View AsView(const Key& k) { return {k.first, k.second}; }
  static View AsView(const View& v) { return v; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return AsView(a) < AsView(b);
  }
};

class ConsumeQueueSet {
 public:
  ConsumeQueueSet(Env* env, std::string root, uint32_t entries_per_file)
      : env_(env), root_(std::move(root)), entries_per_file_(entries_per_file) {}

  // Loads every queue found under consumequeue/.
  Status Load();
  // Truncates every queue to entries whose record starts before `physical_offset`, less a
  // tail that `trusted` rejects (ConsumeQueue::TruncateFrom).
  Status TruncateFrom(int64_t physical_offset, const QueueEntryCheck& trusted = nullptr);
  // Removes every queue (the commit log is empty).
  Status RemoveAll();

  // Adds the entry for a dispatched record (no-op for records that get no queue offset).
  Status Apply(const RecordSummary& record, int64_t physical_offset);

  std::shared_ptr<ConsumeQueue> Find(std::string_view topic, int32_t queue_id) const;
  void ForEach(const std::function<void(ConsumeQueue&)>& fn) const;
  size_t size() const;
  // Makes every queue's entries durable.
  Status SyncAll();

  // The commit log now starts at `log_min_offset`: every queue moves its min_offset() up to
  // its first entry at or after it and removes the files wholly below
  // (ConsumeQueue::ApplyLogMinOffset). Called by retention after removing segments, and at
  // open (after a crash the queues may still hold files the log no longer backs). Every
  // queue is visited even when one fails; the first error is returned.
  Result<size_t> ApplyLogMinOffset(int64_t log_min_offset);

 private:
  using Key = std::pair<std::string, int32_t>;
  ConsumeQueue* GetOrCreate(std::string_view topic, int32_t queue_id);

  Env* const env_;
  const std::string root_;
  const uint32_t entries_per_file_;
  mutable std::shared_mutex mu_;
  std::map<Key, std::shared_ptr<ConsumeQueue>, QueueKeyLess> queues_;  // GUARDED_BY(mu_)
  // The dispatcher's queues of the topic it saw last: most lookups take neither mu_ nor a
  // map search. Queues are never removed from queues_ while the dispatcher runs (only Load
  // replaces them, and it clears this).
  TopicQueueCache<ConsumeQueue> recent_;
};

}  // namespace mqstore

#endif  // MQSTORE_QUEUE_CONSUME_QUEUE_SET_H_
