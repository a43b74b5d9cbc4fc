// StoreInspector: lists the directory once at Open, then hands out readers over it.
#include <memory>

#include "inspect/log_iterator.h"
#include "inspect/log_position.h"
#include "inspect/mapped_store_file.h"
#include "inspect/queue_slots.h"
#include "inspect/store_layout.h"
#include "inspect/store_verifier.h"
#include "mqstore/inspect.h"

namespace mqstore {
namespace {

class InspectorImpl final : public StoreInspector {
 public:
  InspectorImpl(Env* env, StoreLayout layout, CheckpointState checkpoint)
      : cache_(env), layout_(std::move(layout)), checkpoint_(std::move(checkpoint)) {}

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
    const SegmentFile* seg = FindSegment(layout_.segments, offset);
    if (seg == nullptr) {
      return Status::NotFound("no segment holds commit-log offset " + std::to_string(offset));
    }
    MQ_ASSIGN_OR_RETURN(auto file, cache_.Get(seg->path));
    LogEntry e = DescribeLogPosition(*seg, file->data(), offset);
    if (e.kind != LogEntryKind::kRecord) {
      std::string what = e.kind == LogEntryKind::kBlank ? "a blank record" : e.problem;
      return Status::NotFound("no record starts at offset " + std::to_string(offset) + " (" + what +
                              ")");
    }
    return e;
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

  Result<VerifySummary> Verify(const VerifyOptions& options) override {
    return StoreVerifier(layout_, checkpoint_, &cache_).Run(options);
  }

 private:
  FileCache cache_;
  const StoreLayout layout_;
  const CheckpointState checkpoint_;  // as read at Open; Verify and Stats use this one
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
