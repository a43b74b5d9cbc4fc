#include "consumer_offset_manager.h"

#include <set>
#include <utility>

#include "mqstore/thread_name.h"

namespace mqbroker {

using mqstore::Status;

ConsumerOffsetManager::ConsumerOffsetManager(mqstore::MetadataStore* metadata,
                                             std::chrono::milliseconds persist_interval)
    : metadata_(metadata), persist_interval_(persist_interval) {
  thread_ = std::thread([this] {
    mqstore::NameThisThread("mq-offset-save");
    PersistLoop();
  });
}

ConsumerOffsetManager::~ConsumerOffsetManager() { Close().IgnoreError(); }

void ConsumerOffsetManager::Commit(std::string_view group, std::string_view topic, int32_t queue_id,
                                   int64_t offset) {
  if (offset < 0) return;
  Key key{std::string(group), std::string(topic), queue_id};
  std::lock_guard<std::mutex> lock(mu_);
  latest_[key] = offset;
  pending_[std::move(key)] = offset;
}

std::optional<int64_t> ConsumerOffsetManager::Query(std::string_view group, std::string_view topic,
                                                    int32_t queue_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = latest_.find(Key{std::string(group), std::string(topic), queue_id});
    if (it != latest_.end()) return it->second;
  }
  mqstore::Result<int64_t> stored = metadata_->GetOffset(group, topic, queue_id);
  if (!stored.ok()) return std::nullopt;
  return *stored;
}

std::map<std::pair<std::string, int32_t>, int64_t> ConsumerOffsetManager::GroupOffsets(
    std::string_view group) {
  std::map<std::pair<std::string, int32_t>, int64_t> offsets;
  mqstore::Result<std::vector<mqstore::ConsumerOffset>> stored = metadata_->GetGroupOffsets(group);
  if (stored.ok()) {
    for (const mqstore::ConsumerOffset& o : *stored) offsets[{o.topic, o.queue_id}] = o.offset;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = latest_.lower_bound(Key{std::string(group), "", INT32_MIN});
       it != latest_.end() && std::get<0>(it->first) == group; ++it) {
    offsets[{std::get<1>(it->first), std::get<2>(it->first)}] = it->second;
  }
  return offsets;
}

std::vector<std::string> ConsumerOffsetManager::GroupsOfTopic(std::string_view topic) {
  std::set<std::string> groups;
  mqstore::Result<std::vector<std::string>> stored = metadata_->GetGroupsOfTopic(topic);
  if (stored.ok()) groups.insert(stored->begin(), stored->end());
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, offset] : latest_) {
    if (std::get<1>(key) == topic) groups.insert(std::get<0>(key));
  }
  return {groups.begin(), groups.end()};
}

Status ConsumerOffsetManager::DeleteGroup(std::string_view group) {
  // Under persist_mu_ no Persist holds a batch of this group that could land after the delete.
  std::lock_guard<std::mutex> persist_lock(persist_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto* table : {&latest_, &pending_}) {
      auto first = table->lower_bound(Key{std::string(group), "", INT32_MIN});
      auto last = first;
      while (last != table->end() && std::get<0>(last->first) == group) ++last;
      table->erase(first, last);
    }
  }
  mqstore::Result<uint64_t> deleted = metadata_->DeleteGroupOffsets(group);
  return deleted.ok() ? Status::OK() : deleted.status();
}

Status ConsumerOffsetManager::Persist() {
  std::lock_guard<std::mutex> persist_lock(persist_mu_);
  std::map<Key, int64_t, std::less<>> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(pending_);
  }
  Status first_error;
  // One LMDB transaction per group: a group's offsets move together.
  auto it = batch.begin();
  while (it != batch.end()) {
    const std::string& group = std::get<0>(it->first);
    std::vector<mqstore::ConsumerOffset> offsets;
    auto group_end = it;
    for (; group_end != batch.end() && std::get<0>(group_end->first) == group; ++group_end) {
      offsets.push_back(
          {std::get<1>(group_end->first), std::get<2>(group_end->first), group_end->second});
    }
    Status s = metadata_->CommitOffsets(group, offsets);
    if (!s.ok()) {
      // One bad entry (a topic deleted meanwhile) must not block the group's other queues.
      for (const mqstore::ConsumerOffset& one : offsets) {
        Status single = metadata_->CommitOffsets(group, std::span(&one, 1));
        if (!single.ok() && first_error.ok()) {
          first_error = single.WithContext("persisting the offsets of group " + group);
        }
      }
    }
    it = group_end;
  }
  return first_error;
}

Status ConsumerOffsetManager::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  return Persist();
}

void ConsumerOffsetManager::PersistLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!closing_) {
    wake_.wait_for(lock, persist_interval_, [this] { return closing_; });
    if (closing_) break;
    lock.unlock();
    Persist().IgnoreError();  // reported again by the next Persist or Close if it persists
    lock.lock();
  }
}

}  // namespace mqbroker
