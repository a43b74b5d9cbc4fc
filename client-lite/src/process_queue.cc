#include "process_queue.h"

#include <algorithm>

namespace mqclient {

size_t ProcessQueue::Put(const std::vector<Entry>& entries) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t added = 0;
  for (const Entry& entry : entries) {
    if (!held_.emplace(entry.queue_offset, entry.body_bytes).second) continue;
    held_bytes_ += entry.body_bytes;
    highest_put_ = std::max(highest_put_, entry.queue_offset);
    ++added;
  }
  return added;
}

int64_t ProcessQueue::Remove(const std::vector<int64_t>& queue_offsets) {
  std::lock_guard<std::mutex> lock(mu_);
  if (held_.empty()) return -1;
  for (int64_t offset : queue_offsets) {
    auto it = held_.find(offset);
    if (it == held_.end()) continue;
    held_bytes_ -= it->second;
    held_.erase(it);
  }
  return held_.empty() ? highest_put_ + 1 : held_.begin()->first;
}

size_t ProcessQueue::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_.size();
}

uint64_t ProcessQueue::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_bytes_;
}

int64_t ProcessQueue::span() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_.empty() ? 0 : held_.rbegin()->first - held_.begin()->first;
}

}  // namespace mqclient
