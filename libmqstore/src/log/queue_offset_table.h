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

namespace mqstore {

class QueueOffsetTable {
 public:
  // The counter of topic/queue (starting at 0 when new). Stable until the table is destroyed.
  int64_t* Slot(std::string_view topic, int32_t queue_id) {
    Key probe{std::string(), topic, queue_id};
    auto it = map_.find(probe);
    if (it != map_.end()) return &it->second;
    Key key{std::string(topic), {}, queue_id};
    key.view = key.owned;
    return &map_.emplace(std::move(key), 0).first->second;
  }
  void Set(std::string_view topic, int32_t queue_id, int64_t next) {
    *Slot(topic, queue_id) = next;
  }
  size_t size() const { return map_.size(); }

 private:
  struct Key {
    std::string owned;
    std::string_view view;  // == owned for stored keys; the probe's topic for lookups
    int32_t queue_id;
    Key(std::string o, std::string_view v, int32_t q) : owned(std::move(o)), view(v), queue_id(q) {}
    Key(Key&& other) noexcept
        : owned(std::move(other.owned)), view(owned), queue_id(other.queue_id) {
      if (owned.empty()) view = other.view;
    }
    bool operator==(const Key& o) const { return queue_id == o.queue_id && view == o.view; }
  };
  struct Hash {
    size_t operator()(const Key& k) const {
      return std::hash<std::string_view>()(k.view) * 31 + static_cast<size_t>(k.queue_id);
    }
  };
  std::unordered_map<Key, int64_t, Hash> map_;
};

}  // namespace mqstore

#endif  // MQSTORE_LOG_QUEUE_OFFSET_TABLE_H_
