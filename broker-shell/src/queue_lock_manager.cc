#include "queue_lock_manager.h"

#include <algorithm>
#include <utility>

namespace mqbroker {

std::vector<MessageQueue> QueueLockManager::TryLockBatch(std::string_view group,
                                                         const std::vector<MessageQueue>& queues,
                                                         std::string_view client_id,
                                                         int64_t now_ms) {
  std::vector<MessageQueue> held;
  if (queues.empty()) return held;
  std::lock_guard<std::mutex> guard(mu_);
  auto group_it = groups_.find(group);
  if (group_it == groups_.end()) group_it = groups_.emplace(std::string(group), GroupLocks()).first;
  GroupLocks& locks = group_it->second;
  for (const MessageQueue& queue : queues) {
    auto [it, inserted] = locks.try_emplace(queue);
    Lock& lock = it->second;
    if (inserted || lock.client_id == client_id || !Live(lock, now_ms)) {
      lock.client_id = std::string(client_id);
      lock.last_lock_ms = now_ms;
      held.push_back(queue);
    }
  }
  std::sort(held.begin(), held.end());
  held.erase(std::unique(held.begin(), held.end()), held.end());
  return held;
}

void QueueLockManager::UnlockBatch(std::string_view group, const std::vector<MessageQueue>& queues,
                                   std::string_view client_id) {
  std::lock_guard<std::mutex> guard(mu_);
  auto group_it = groups_.find(group);
  if (group_it == groups_.end()) return;
  GroupLocks& locks = group_it->second;
  for (const MessageQueue& queue : queues) {
    auto it = locks.find(queue);
    if (it != locks.end() && it->second.client_id == client_id) locks.erase(it);
  }
  if (locks.empty()) groups_.erase(group_it);
}

const QueueLockManager::Lock* QueueLockManager::FindLive(std::string_view group,
                                                         const MessageQueue& queue,
                                                         int64_t now_ms) const {
  auto group_it = groups_.find(group);
  if (group_it == groups_.end()) return nullptr;
  auto it = group_it->second.find(queue);
  if (it == group_it->second.end() || !Live(it->second, now_ms)) return nullptr;
  return &it->second;
}

bool QueueLockManager::IsLockedByOther(std::string_view group, const MessageQueue& queue,
                                       std::string_view client_id, int64_t now_ms) const {
  std::lock_guard<std::mutex> guard(mu_);
  const Lock* lock = FindLive(group, queue, now_ms);
  return lock != nullptr && lock->client_id != client_id;
}

std::optional<std::string> QueueLockManager::Holder(std::string_view group,
                                                    const MessageQueue& queue,
                                                    int64_t now_ms) const {
  std::lock_guard<std::mutex> guard(mu_);
  const Lock* lock = FindLive(group, queue, now_ms);
  if (lock == nullptr) return std::nullopt;
  return lock->client_id;
}

void QueueLockManager::ReleaseClient(std::string_view group, std::string_view client_id) {
  std::lock_guard<std::mutex> guard(mu_);
  auto group_it = groups_.find(group);
  if (group_it == groups_.end()) return;
  std::erase_if(group_it->second,
                [client_id](const auto& entry) { return entry.second.client_id == client_id; });
  if (group_it->second.empty()) groups_.erase(group_it);
}

void QueueLockManager::ReleaseClientEverywhere(std::string_view client_id) {
  std::lock_guard<std::mutex> guard(mu_);
  for (auto group_it = groups_.begin(); group_it != groups_.end();) {
    std::erase_if(group_it->second,
                  [client_id](const auto& entry) { return entry.second.client_id == client_id; });
    group_it = group_it->second.empty() ? groups_.erase(group_it) : std::next(group_it);
  }
}

size_t QueueLockManager::RemoveExpired(int64_t now_ms) {
  size_t removed = 0;
  std::lock_guard<std::mutex> guard(mu_);
  for (auto group_it = groups_.begin(); group_it != groups_.end();) {
    removed += std::erase_if(group_it->second,
                             [&](const auto& entry) { return !Live(entry.second, now_ms); });
    group_it = group_it->second.empty() ? groups_.erase(group_it) : std::next(group_it);
  }
  return removed;
}

size_t QueueLockManager::size() const {
  size_t count = 0;
  std::lock_guard<std::mutex> guard(mu_);
  for (const auto& [group, locks] : groups_) count += locks.size();
  return count;
}

}  // namespace mqbroker
