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

void ProcessQueue::PutMessages(std::vector<ReceivedMessage> messages) {
  std::lock_guard<std::mutex> lock(mu_);
  for (ReceivedMessage& message : messages) {
    const int64_t offset = message.queue_offset;
    if (!held_.emplace(offset, message.body.size()).second) continue;
    held_bytes_ += message.body.size();
    highest_put_ = std::max(highest_put_, offset);
    waiting_.emplace(offset, std::move(message));
  }
}

std::vector<ReceivedMessage> ProcessQueue::TakeMessages(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ReceivedMessage> taken;
  while (taken.size() < n && !waiting_.empty()) {
    auto first = waiting_.begin();
    taken.push_back(first->second);
    taken_.insert(waiting_.extract(first));
  }
  return taken;
}

int64_t ProcessQueue::CommitTaken() {
  std::lock_guard<std::mutex> lock(mu_);
  if (taken_.empty()) return -1;
  const int64_t next = taken_.rbegin()->first + 1;
  for (const auto& [offset, message] : taken_) {
    auto it = held_.find(offset);
    if (it == held_.end()) continue;
    held_bytes_ -= it->second;
    held_.erase(it);
  }
  taken_.clear();
  return next;
}

void ProcessQueue::ReturnTaken() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [offset, message] : taken_) {
    ++message.reconsume_times;
    waiting_.emplace(offset, std::move(message));
  }
  taken_.clear();
}

bool ProcessQueue::TryStartConsuming() {
  std::lock_guard<std::mutex> lock(mu_);
  if (consuming_ || waiting_.empty()) return false;
  consuming_ = true;
  return true;
}

bool ProcessQueue::FinishConsumingIfIdle() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!waiting_.empty()) return false;
  consuming_ = false;
  return true;
}

bool ProcessQueue::LockedWithin(std::chrono::milliseconds max_age) const {
  std::lock_guard<std::mutex> lock(mu_);
  return locked_ && std::chrono::steady_clock::now() - locked_at_ <= max_age;
}

void ProcessQueue::set_locked(bool locked) {
  std::lock_guard<std::mutex> lock(mu_);
  locked_ = locked;
  if (locked) locked_at_ = std::chrono::steady_clock::now();
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
