#include "recovery/recovery.h"

#include <algorithm>

namespace mqstore {

Result<RecoveryOutcome> RecoverStore(CommitLog* log, ConsumeQueueSet* queues,
                                     const std::optional<CheckpointData>& checkpoint,
                                     bool zero_tail) {
  RecoveryOutcome out;
  auto segments = log->Segments();
  if (segments.empty()) {
    if (checkpoint && checkpoint->log_durable_offset > checkpoint->log_min_offset) {
      return Status::Corruption("the commit log has no segments but the checkpoint says bytes " +
                                std::to_string(checkpoint->log_min_offset) + ".." +
                                std::to_string(checkpoint->log_durable_offset) +
                                " were durable");
    }
    MQ_RETURN_IF_ERROR(queues->RemoveAll());
    int64_t end = checkpoint ? checkpoint->log_durable_offset : 0;
    MQ_RETURN_IF_ERROR(log->TruncateTo(end, false));
    out.start = out.end = end;
    return out;
  }
  int64_t log_min = segments.front()->base();
  int64_t log_max = segments.back()->end();
  int64_t durable_floor = 0;
  int64_t start = log_min;
  if (checkpoint) {
    durable_floor = checkpoint->log_durable_offset;
    start = std::min(checkpoint->dispatch_durable_offset, checkpoint->log_durable_offset);
  }
  start = std::clamp(start, log_min, log_max);
  MQ_RETURN_IF_ERROR(queues->TruncateFrom(start));

  int64_t pos = start;
  std::string problem;
  while (pos < log_max) {
    auto seg = log->SegmentFor(pos);
    uint64_t in_seg = static_cast<uint64_t>(pos - seg->base());
    RecordSummary r;
    RecordCheck check =
        CheckRecord(seg->View(in_seg, seg->size() - in_seg), /*verify_checksums=*/true, &r,
                    &problem);
    if (check == RecordCheck::kBlank) {
      pos = seg->end();
      continue;
    }
    if (check == RecordCheck::kEnd) break;
    if (r.physical_offset != pos) {
      problem = "record says it is at offset " + std::to_string(r.physical_offset);
      break;
    }
    if (GetsQueueOffset(r.sys_flag)) {
      auto q = queues->Find(r.topic, r.queue_id);
      int64_t expected = q ? q->max_offset() : 0;
      if (r.queue_offset != expected) {
        problem = "queue offset " + std::to_string(r.queue_offset) + " of " +
                  std::string(r.topic) + "/" + std::to_string(r.queue_id) + ", expected " +
                  std::to_string(expected);
        break;
      }
    }
    MQ_RETURN_IF_ERROR(queues->Apply(r, pos));
    pos += r.total_size;
  }
  if (pos < durable_floor) {
    return Status::Corruption("commit log offset " + std::to_string(pos) + ": " + problem +
                              "; the checkpoint says the log was durable up to " +
                              std::to_string(durable_floor) +
                              ", so acknowledged data is damaged (run mqdump verify)");
  }
  MQ_RETURN_IF_ERROR(log->TruncateTo(pos, zero_tail));
  out.start = start;
  out.end = pos;
  out.scanned_bytes = static_cast<uint64_t>(pos - start);
  return out;
}

}  // namespace mqstore
