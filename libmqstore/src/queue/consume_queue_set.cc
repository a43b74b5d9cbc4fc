#include "queue/consume_queue_set.h"

#include <charconv>
#include <string>

#include "util/filename.h"

namespace mqstore {
Status ConsumeQueueSet::Load() {
  std::string cq_root = filename::ConsumeQueueRoot(root_);
  MQ_RETURN_IF_ERROR(env_->CreateDir(cq_root));
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> topics, env_->GetChildren(cq_root));
  std::map<Key, std::shared_ptr<ConsumeQueue>, QueueKeyLess> queues;
  for (const auto& topic : topics) {
    if (!ValidateTopic(topic).ok()) continue;  // not ours
    auto ids = env_->GetChildren(cq_root + "/" + topic);
    if (!ids.ok()) continue;  // a stray file, not a topic directory
    for (const auto& id_text : *ids) {
      int32_t id = -1;
      auto [p, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
      // Only the name the store writes ("01" or "-0" would load queue 1 or 0 a second time).
      if (ec != std::errc() || p != id_text.data() + id_text.size() || id < 0 ||
          std::to_string(id) != id_text) {
        continue;
      }
      auto q = std::make_shared<ConsumeQueue>(env_, root_, topic, id, entries_per_file_);
      MQ_RETURN_IF_ERROR(q->Load());
      queues.emplace(Key(topic, id), std::move(q));
    }
  }
  std::unique_lock<std::shared_mutex> l(mu_);
  queues_ = std::move(queues);
  recent_.Clear();
  return Status::OK();
}

Status ConsumeQueueSet::TruncateFrom(int64_t physical_offset, const QueueEntryCheck& trusted) {
  std::shared_lock<std::shared_mutex> l(mu_);
  for (auto& [_, q] : queues_) MQ_RETURN_IF_ERROR(q->TruncateFrom(physical_offset, trusted));
  return Status::OK();
}

Status ConsumeQueueSet::RemoveAll() {
  std::unique_lock<std::shared_mutex> l(mu_);
  for (auto& [key, q] : queues_) MQ_RETURN_IF_ERROR(q->TruncateFrom(0));
  return Status::OK();
}

ConsumeQueue* ConsumeQueueSet::GetOrCreate(std::string_view topic, int32_t queue_id) {
  if (ConsumeQueue* cached = recent_.Find(topic, queue_id)) return cached;
  ConsumeQueue* q = nullptr;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    auto it = queues_.find(QueueKeyLess::View(topic, queue_id));
    if (it != queues_.end()) q = it->second.get();
  }
  if (q == nullptr) {
    auto created = std::make_shared<ConsumeQueue>(env_, root_, std::string(topic), queue_id,
                                                  entries_per_file_);
    q = created.get();
    std::unique_lock<std::shared_mutex> l(mu_);
    queues_.emplace(Key(std::string(topic), queue_id), std::move(created));
  }
  recent_.Remember(topic, queue_id, q);
  return q;
}

Status ConsumeQueueSet::Apply(const RecordSummary& record, int64_t physical_offset) {
  if (!GetsQueueOffset(record.sys_flag)) return Status::OK();
  auto q = GetOrCreate(record.topic, record.queue_id);
  return q->Append(record.queue_offset,
                   QueueEntry{physical_offset, record.total_size, record.tags_code});
}

std::shared_ptr<ConsumeQueue> ConsumeQueueSet::Find(std::string_view topic,
                                                    int32_t queue_id) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = queues_.find(QueueKeyLess::View(topic, queue_id));
  return it == queues_.end() ? nullptr : it->second;
}

void ConsumeQueueSet::ForEach(const std::function<void(ConsumeQueue&)>& fn) const {
  std::vector<std::shared_ptr<ConsumeQueue>> all;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (const auto& [_, q] : queues_) all.push_back(q);
  }
  for (auto& q : all) fn(*q);
}

size_t ConsumeQueueSet::size() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return queues_.size();
}

Status ConsumeQueueSet::SyncAll() {
  Status result;
  ForEach([&](ConsumeQueue& q) {
    if (result.ok()) result = q.Sync();
  });
  return result;
}

Result<size_t> ConsumeQueueSet::ApplyLogMinOffset(int64_t log_min_offset) {
  size_t removed = 0;
  Status first_error;
  ForEach([&](ConsumeQueue& q) {
    auto r = q.ApplyLogMinOffset(log_min_offset);
    if (r.ok()) {
      removed += *r;
    } else if (first_error.ok()) {
      first_error = r.status();
    }
  });
  if (!first_error.ok()) return first_error;
  return removed;
}

}  // namespace mqstore
