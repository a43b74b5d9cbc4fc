// StoreInspector: lists the directory once at Open, then hands out readers over it.
#include <memory>

#include "inspect/log_iterator.h"
#include "inspect/log_position.h"
#include "inspect/mapped_store_file.h"
#include "inspect/meta_reader.h"
#include "inspect/queue_slots.h"
#include "inspect/record_lookup.h"
#include "inspect/store_layout.h"
#include "inspect/store_verifier.h"
#include "inspect/timer_reader.h"
#include "meta/meta_codec.h"
#include "mqstore/inspect.h"

namespace mqstore {
namespace {

class InspectorImpl final : public StoreInspector {
 public:
  InspectorImpl(Env* env, StoreLayout layout, CheckpointState checkpoint)
      : cache_(env),
        layout_(std::move(layout)),
        checkpoint_(std::move(checkpoint)),
        meta_readable_(env == Env::Default()) {}

  const StoreLayout& layout() const override { return layout_; }

  Result<CheckpointState> ReadCheckpoint() override {
    return ReadCheckpointState(cache_.env(), layout_.checkpoint_path);
  }

  Result<std::unique_ptr<CommitLogIterator>> NewLogIterator(int64_t offset) override {
    auto it = std::make_unique<LogIteratorImpl>(&cache_, &layout_.segments);
    it->SeekAtOrAfter(offset);
    MQ_RETURN_IF_ERROR(it->status());
    return std::unique_ptr<CommitLogIterator>(std::move(it));
  }

  Result<LogEntry> ReadRecordAt(int64_t offset) override {
    return ReadRecordAtOffset(layout_, &cache_, offset);
  }

  Result<std::unique_ptr<ConsumeQueueIterator>> NewQueueIterator(std::string_view topic,
                                                                 int32_t queue_id,
                                                                 int64_t from) override {
    for (const QueueFiles& q : layout_.queues) {
      if (q.topic != topic || q.queue_id != queue_id) continue;
      MQ_ASSIGN_OR_RETURN(QueueSlots slots, QueueSlots::Open(&cache_, q));
      return std::unique_ptr<ConsumeQueueIterator>(
          std::make_unique<QueueIteratorImpl>(std::move(slots), from));
    }
    return Status::NotFound("no consume queue " + std::string(topic) + "/" +
                            std::to_string(queue_id) + " in " + layout_.dir);
  }

  Result<InspectStats> Stats() override { return ComputeStats(layout_, checkpoint_, &cache_); }

  Result<KeyQueryResult> FindByKey(const KeyQuery& query) override {
    return FindRecordsByKey(layout_, &cache_, query);
  }

  Result<MessageIdLookup> ReadByMessageId(std::string_view id, std::string_view topic) override {
    return FindRecordByMessageId(layout_, &cache_, id, topic);
  }

  Result<MetadataSnapshot> ReadMetadata() override {
    if (!layout_.has_meta) {
      return Status::NotFound(layout_.dir +
                              " has no meta/ (the store was opened without "
                              "enable_metadata, or with an Env other than the POSIX one)");
    }
    if (!meta_readable_) {
      return Status::NotSupported(
          "meta/ is LMDB, which reads only through the POSIX file "
          "system, not through this inspector's Env");
    }
    MQ_ASSIGN_OR_RETURN(RawMetadata raw, ReadRawMetadata(layout_.meta_dir));
    return DecodeMetadata(raw);
  }

  Result<TimerLogSummary> ReadTimerLog() override {
    // The progress is in meta/ when it can be read; the summary says when it could not.
    std::optional<TimerProgress> progress;
    if (layout_.has_meta && meta_readable_) {
      if (Result<RawMetadata> raw = ReadRawMetadata(layout_.meta_dir); raw.ok()) {
        std::vector<ScheduleProgress> schedule;
        for (const RawMetaEntry& e : raw->schedule) {
          ScheduleProgress p;
          if (DecodeScheduleValue(e.key, e.value, &p).ok()) schedule.push_back(std::move(p));
        }
        progress = TimerProgressOf(schedule);
      }
    }
    return SummarizeTimerLog(layout_, &cache_, progress ? &*progress : nullptr);
  }

  Result<VerifySummary> Verify(const VerifyOptions& options) override {
    return StoreVerifier(layout_, checkpoint_, &cache_, meta_readable_).Run(options);
  }

 private:
  FileCache cache_;
  const StoreLayout layout_;
  const CheckpointState checkpoint_;  // as read at Open; Verify and Stats use this one
  const bool meta_readable_;          // LMDB does its own I/O: only with the POSIX Env
};

}  // namespace

const char* SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kNote:
      return "note";
    case Severity::kWarning:
      return "warning";
    case Severity::kCorruption:
      return "corruption";
  }
  return "unknown";
}

Result<std::unique_ptr<StoreInspector>> StoreInspector::Open(const std::string& dir,
                                                             const InspectOptions& options) {
  Env* env = options.env ? options.env : Env::Default();
  MQ_ASSIGN_OR_RETURN(StoreLayout layout, ScanStoreLayout(env, dir));
  MQ_ASSIGN_OR_RETURN(CheckpointState checkpoint, ReadCheckpointState(env, layout.checkpoint_path));
  // The segment size the store was created with: the checkpoint records it; a store that
  // never wrote one has at least its first segment at full size.
  const CheckpointFields* newest = checkpoint.newest();
  if (newest != nullptr && newest->segment_bytes != 0) {
    layout.segment_bytes = newest->segment_bytes;
  } else if (!layout.segments.empty()) {
    layout.segment_bytes = layout.segments.front().file_bytes;
  }
  return std::unique_ptr<StoreInspector>(
      std::make_unique<InspectorImpl>(env, std::move(layout), std::move(checkpoint)));
}

}  // namespace mqstore
