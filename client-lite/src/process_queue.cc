#include "process_queue.h"

#include <algorithm>

namespace mqclient {

ProcessQueue::Held ProcessQueue::HeldBytes(uint64_t body_bytes) {
  Held held;
  held.body_bytes = body_bytes;
  return held;
}

size_t ProcessQueue::Put(const std::vector<Entry>& entries) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t added = 0;
  for (const Entry& entry : entries) {
    if (!held_.try_emplace(entry.queue_offset, HeldBytes(entry.body_bytes)).second) continue;
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
    held_bytes_ -= it->second.body_bytes;
    held_.erase(it);
  }
  return held_.empty() ? highest_put_ + 1 : held_.begin()->first;
}

void ProcessQueue::BeginConsume(const std::vector<ReceivedMessage>& messages,
                                Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const ReceivedMessage& message : messages) {
    auto it = held_.find(message.queue_offset);
    if (it == held_.end() || it->second.expired) continue;
    Held& held = it->second;
    held.in_call = true;
    held.consume_started = now;
    // What a send-back needs, without the body and properties (which may be large).
    auto slim = std::make_unique<ReceivedMessage>();
    slim->topic = message.topic;
    slim->queue_id = message.queue_id;
    slim->queue_offset = message.queue_offset;
    slim->commit_log_offset = message.commit_log_offset;
    slim->msg_id = message.msg_id;
    slim->unique_id = message.unique_id;
    slim->reconsume_times = message.reconsume_times;
    held.message = std::move(slim);
  }
}

std::vector<int64_t> ProcessQueue::EndConsume(const std::vector<int64_t>& queue_offsets) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<int64_t> own;
  for (int64_t offset : queue_offsets) {
    auto it = held_.find(offset);
    if (it == held_.end() || it->second.expired) continue;
    it->second.in_call = false;
    it->second.message.reset();
    own.push_back(offset);
  }
  return own;
}

std::vector<ReceivedMessage> ProcessQueue::TakeExpired(Clock::time_point now,
                                                       std::chrono::milliseconds timeout,
                                                       size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ReceivedMessage> expired;
  for (auto& [offset, held] : held_) {
    if (expired.size() >= max) break;
    if (!held.expired && !(held.in_call && now - held.consume_started >= timeout)) continue;
    held.expired = true;
    expired.push_back(*held.message);  // set: it was in a call when first taken
  }
  return expired;
}

void ProcessQueue::TakeOver(const ProcessQueue& previous) {
  consume_mutex_ = previous.consume_mutex_;
  std::scoped_lock lock(mu_, previous.mu_);
  locked_ = previous.locked_;
  locked_at_ = previous.locked_at_;
}

void ProcessQueue::PutMessages(std::vector<ReceivedMessage> messages) {
  std::lock_guard<std::mutex> lock(mu_);
  for (ReceivedMessage& message : messages) {
    const int64_t offset = message.queue_offset;
    if (!held_.try_emplace(offset, HeldBytes(message.body.size())).second) continue;
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
    held_bytes_ -= it->second.body_bytes;
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
