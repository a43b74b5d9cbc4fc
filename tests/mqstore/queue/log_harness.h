// LogHarness: a commit log and its consume queues on an Env, driven by hand (no store, no
// background threads), for the queue, dispatcher and recovery tests. Also small helpers to
// read and damage files of an Env.
#ifndef MQSTORE_TESTS_MQSTORE_QUEUE_LOG_HARNESS_H_
#define MQSTORE_TESTS_MQSTORE_QUEUE_LOG_HARNESS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "log/commit_log.h"
#include "log/queue_offset_table.h"
#include "log/record_codec.h"
#include "mqstore/env.h"
#include "queue/consume_queue_set.h"
#include "recovery/checkpoint.h"
#include "support/test_util.h"
#include "util/filename.h"

namespace mqstore::test {

inline const std::string kStoreRoot = "/store";

// The current contents of `path` (not what a crash would leave).
inline Result<std::string> ReadWholeFile(Env* env, const std::string& path) {
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(path, OpenMode::kReadOnly));
  MQ_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  std::string out(size, '\0');
  size_t n = 0;
  MQ_RETURN_IF_ERROR(file->Read(0, out.size(), out.data(), &n));
  out.resize(n);
  return out;
}

// Writes `bytes` at `offset` of an existing file and syncs it (the damage is durable).
inline Status OverwriteFile(Env* env, const std::string& path, uint64_t offset,
                            std::string_view bytes) {
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(path, OpenMode::kReadWrite));
  MQ_RETURN_IF_ERROR(file->Write(offset, bytes));
  return file->Sync();
}

class LogHarness {
 public:
  explicit LogHarness(Env* env, uint64_t segment_bytes = 4096, uint32_t entries_per_file = 4,
                      std::string root = kStoreRoot)
      : env_(env),
        root_(std::move(root)),
        log_(env, root_, LogOptions(segment_bytes, &clock_)),
        queues_(env, root_, entries_per_file) {}

  // Maps what exists (both components), as the store does before recovery.
  Status Load() {
    MQ_RETURN_IF_ERROR(env_->CreateDir(root_));
    MQ_RETURN_IF_ERROR(log_.Load());
    return queues_.Load();
  }

  // Appends one message with the next queue offset of its queue.
  Result<AppendedRecord> Append(const Message& m) {
    std::string props;
    MessageView view = m.View(&props);
    PreparedRecord prepared;
    MQ_RETURN_IF_ERROR(
        PrepareRecord(view, SocketAddress::V4(127, 0, 0, 1, 10911), 1 << 20, &prepared));
    AppendedRecord out;
    int64_t ts = 0;
    MQ_RETURN_IF_ERROR(log_.Append({&prepared, 1}, &offsets_, {&out, 1}, &ts));
    appended_.push_back(out);
    return out;
  }
  // Appends `m` with queue offset `queue_offset` whatever its queue's counter says (to build
  // logs with gaps); the counter continues after it.
  Result<AppendedRecord> AppendAt(const Message& m, int64_t queue_offset) {
    offsets_.Set(m.topic, m.queue_id, queue_offset);
    return Append(m);
  }
  // Appends `count` messages "<topic>-<i>" to topic/queue.
  Status AppendMany(const std::string& topic, int32_t queue_id, int count,
                    size_t body_bytes = 100) {
    for (int i = 0; i < count; ++i) {
      std::string body = topic + "-" + std::to_string(appended_.size()) + "-";
      body.resize(body_bytes, static_cast<char>('a' + i % 26));
      MQ_RETURN_IF_ERROR(Append(MakeMessage(topic, queue_id, body, "tag")).status());
    }
    return Status::OK();
  }

  // Applies every record in [dispatched(), end) to the consume queues, as the dispatcher does.
  Status DispatchUpTo(int64_t end) {
    while (dispatched_ < end) {
      auto seg = log_.SegmentFor(dispatched_);
      if (!seg) return Status::Corruption("no segment for " + std::to_string(dispatched_));
      uint64_t in_seg = static_cast<uint64_t>(dispatched_ - seg->base());
      RecordSummary r;
      RecordCheck check = CheckRecord(seg->View(in_seg, seg->size() - in_seg), true, &r);
      if (check == RecordCheck::kBlank) {
        dispatched_ = seg->end();
        continue;
      }
      if (check != RecordCheck::kRecord) return Status::Corruption("no record to dispatch");
      MQ_RETURN_IF_ERROR(queues_.Apply(r, dispatched_));
      dispatched_ += r.total_size;
    }
    return Status::OK();
  }
  Status DispatchAll() { return DispatchUpTo(log_.appended()); }

  // Makes the whole log durable.
  Status SyncLog() { return log_.Sync(log_.min_offset(), log_.appended()); }

  // After recovery: the next queue offsets continue from the queues, like the store does.
  void ResumeAfterRecovery(int64_t end) {
    queues_.ForEach(
        [&](ConsumeQueue& q) { offsets_.Set(q.topic(), q.queue_id(), q.max_offset()); });
    dispatched_ = end;
  }

  CheckpointData Checkpoint(int64_t log_durable, int64_t dispatch_durable) const {
    CheckpointData d;
    d.log_durable_offset = log_durable;
    d.dispatch_durable_offset = dispatch_durable;
    d.log_min_offset = log_.min_offset();
    d.segment_bytes = log_.segment_bytes();
    return d;
  }

  std::string SegmentPath(int64_t base) const { return filename::CommitLogSegment(root_, base); }
  std::string QueueFilePath(const std::string& topic, int32_t queue_id, int64_t base) const {
    return filename::ConsumeQueueFile(root_, topic, queue_id, base);
  }

  CommitLog& log() { return log_; }
  ConsumeQueueSet& queues() { return queues_; }
  const std::vector<AppendedRecord>& appended() const { return appended_; }
  int64_t dispatched() const { return dispatched_; }
  const std::string& root() const { return root_; }

 private:
  static CommitLog::Options LogOptions(uint64_t segment_bytes, Clock* clock) {
    CommitLog::Options o;
    o.segment_bytes = segment_bytes;
    o.store_host = SocketAddress::V4(127, 0, 0, 1, 10911);
    o.clock = clock;
    return o;
  }

  Env* const env_;
  const std::string root_;
  ManualClock clock_;
  CommitLog log_;
  ConsumeQueueSet queues_;
  QueueOffsetTable offsets_;
  std::vector<AppendedRecord> appended_;
  int64_t dispatched_ = 0;
};

// The entries [0, max_offset) of `queue`.
inline std::vector<QueueEntry> AllEntries(const ConsumeQueue& queue) {
  std::vector<QueueEntry> out;
  queue.ReadEntries(queue.min_offset(), static_cast<size_t>(queue.max_offset()), &out);
  return out;
}

inline bool SameEntry(const QueueEntry& a, const QueueEntry& b) {
  return a.physical_offset == b.physical_offset && a.size == b.size && a.tags_code == b.tags_code;
}

}  // namespace mqstore::test

#endif  // MQSTORE_TESTS_MQSTORE_QUEUE_LOG_HARNESS_H_
