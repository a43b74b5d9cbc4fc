// QueueOffsetTable: the next queue offset of every (topic, queue), assigned at append time.
//
// Thread compatibility: not synchronised. The commit log uses it only under its append lock;
// recovery fills it before the store accepts puts.
#ifndef MQSTORE_LOG_QUEUE_OFFSET_TABLE_H_
#define MQSTORE_LOG_QUEUE_OFFSET_TABLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "util/topic_queue_cache.h"

namespace mqstore {

class QueueOffsetTable {
 public:
  QueueOffsetTable() = default;
  // A copy would keep pointers into the original's map in its cache.
  QueueOffsetTable(const QueueOffsetTable&) = delete;
  QueueOffsetTable& operator=(const QueueOffsetTable&) = delete;

  // The counter of topic/queue (starting at 0 when new). Stable until the table is destroyed
  // (unordered_map never moves its values). Looking up an existing queue allocates nothing.
  int64_t* Slot(std::string_view topic, int32_t queue_id) {
    if (int64_t* cached = recent_.Find(topic, queue_id)) return cached;
    auto it = map_.find(View{topic, queue_id});
    if (it == map_.end()) it = map_.emplace(Key{std::string(topic), queue_id}, 0).first;
    recent_.Remember(topic, queue_id, &it->second);
    return &it->second;
  }
  void Set(std::string_view topic, int32_t queue_id, int64_t next) {
    *Slot(topic, queue_id) = next;
  }
  size_t size() const { return map_.size(); }

 private:
  using Key = std::pair<std::string, int32_t>;
  using View = std::pair<std::string_view, int32_t>;
  struct Hash {
    using is_transparent = void;
    size_t operator()(const View& k) const {
      return std::hash<std::string_view>()(k.first) * 31 + static_cast<size_t>(k.second);
    }
    size_t operator()(const Key& k) const { return (*this)(View{k.first, k.second}); }
  };
  struct Equal {
    using is_transparent = void;
    static View AsView(const Key& k) { return {k.first, k.second}; }
    static View AsView(const View& v) { return v; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return AsView(a) == AsView(b);
    }
  };
  std::unordered_map<Key, int64_t, Hash, Equal> map_;
  // The slots of the topic asked for last (appends mostly go round-robin over one topic's
  // queues): most appends neither hash the topic nor search the map. Entries are never
  // removed from map_, so the cached slots stay valid.
  TopicQueueCache<int64_t> recent_;
};

}  // namespace mqstore

#endif  // MQSTORE_LOG_QUEUE_OFFSET_TABLE_H_
