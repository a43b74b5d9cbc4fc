// TopicQueueCache: remembers per-queue values of the topic looked up last, by queue id.
//
// Records mostly come from few topics, each spread over its queues in turn (producers pick
// queues round-robin), so a per-record lookup in a map keyed by (topic, queue id) mostly
// asks again for a queue of the topic it just asked for. This answers those with a string
// compare and an array index instead of hashing the topic or searching a tree. A miss is
// answered by the owner's map, which then remembers the result here.
//
// Thread compatibility: not synchronised; the owner uses it from one thread at a time. The
// cached pointers must stay valid until Clear() or destruction.
#ifndef MQSTORE_UTIL_TOPIC_QUEUE_CACHE_H_
#define MQSTORE_UTIL_TOPIC_QUEUE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mqstore {

template <typename T>
class TopicQueueCache {
 public:
  // Queue ids from here on are not cached (RocketMQ topics have a few to a few hundred
  // queues; this bounds the array a stray large id would allocate).
  static constexpr int32_t kMaxCachedQueueId = 1024;

  // The value remembered for topic/queue_id, or null.
  T* Find(std::string_view topic, int32_t queue_id) const {
    if (queue_id < 0 || static_cast<size_t>(queue_id) >= by_id_.size() || topic != topic_) {
      return nullptr;
    }
    return by_id_[static_cast<size_t>(queue_id)];
  }

  // Remembers `value` for topic/queue_id; a different topic than the last replaces what was
  // remembered. Ids at or above kMaxCachedQueueId are not remembered.
  void Remember(std::string_view topic, int32_t queue_id, T* value) {
    if (queue_id < 0 || queue_id >= kMaxCachedQueueId) return;
    if (topic != topic_) {
      topic_.assign(topic);
      by_id_.clear();
    }
    if (by_id_.size() <= static_cast<size_t>(queue_id)) {
      by_id_.resize(static_cast<size_t>(queue_id) + 1, nullptr);
    }
    by_id_[static_cast<size_t>(queue_id)] = value;
  }

  void Clear() {
    topic_.clear();
    by_id_.clear();
  }

 private:
  std::string topic_;
  std::vector<T*> by_id_;  // index: queue id; null where not looked up yet
};

}  // namespace mqstore

#endif  // MQSTORE_UTIL_TOPIC_QUEUE_CACHE_H_
