#include "recovery/recovery.h"

#include <algorithm>
#include <functional>
#include <map>
#include <string>

namespace mqstore {

namespace {

// Calls `visit` for every record in [from, to), skipping blanks; kCorruption at the first
// position that holds neither a record (structure only, not the checksums) nor a blank.
Status ForEachRecord(const CommitLog& log, int64_t from, int64_t to,
                     const std::function<Status(const RecordSummary&, int64_t)>& visit) {
  for (int64_t at = from; at < to;) {
    auto seg = log.SegmentFor(at);
    if (!seg) return Status::Corruption("commit log offset " + std::to_string(at) + ": no segment");
    uint64_t in_seg = static_cast<uint64_t>(at - seg->base());
    RecordSummary r;
    std::string problem;
    RecordCheck check = CheckRecord(seg->View(in_seg, seg->size() - in_seg), false, &r, &problem);
    if (check == RecordCheck::kBlank) {
      at = seg->end();
      continue;
    }
    if (check == RecordCheck::kEnd || r.physical_offset != at) {
      return Status::Corruption(
          "commit log offset " + std::to_string(at) + ": " +
          (check == RecordCheck::kEnd
               ? problem
               : "record says it is at " + std::to_string(r.physical_offset)) +
          " (run mqdump verify)");
    }
    MQ_RETURN_IF_ERROR(visit(r, at));
    at += r.total_size;
  }
  return Status::OK();
}

}  // namespace

Result<RecoveryOutcome> RecoverStore(CommitLog* log, ConsumeQueueSet* queues,
                                     const std::optional<CheckpointData>& checkpoint,
                                     bool zero_tail) {
  RecoveryOutcome out;
  auto segments = log->Segments();
  if (segments.empty()) {
    if (checkpoint && checkpoint->log_durable_offset > checkpoint->log_min_offset) {
      return Status::Corruption("the commit log has no segments but the checkpoint says bytes " +
                                std::to_string(checkpoint->log_min_offset) + ".." +
                                std::to_string(checkpoint->log_durable_offset) + " were durable");
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

  // Per queue with a record at or after `start` (filled by pass 1): the queue offset of the
  // first such record, and the offset the next one must have.
  struct QueueScan {
    int64_t first_from_start = 0;
    int64_t next = 0;
  };
  std::map<std::pair<std::string, int32_t>, QueueScan, QueueKeyLess> scans;

  // Queue entries of records below `start` were synced before the checkpoint was written;
  // later ones may be torn or garbage after a crash. So an entry counts only if the log
  // agrees: it points at a record of its queue, with its queue offset and size.
  QueueEntryCheck durable_entry = [&](const ConsumeQueue& q, int64_t queue_offset,
                                      const QueueEntry& e) {
    if (e.physical_offset < log_min) {
      // Retention removed its record, so the log cannot vouch for it. Records never span
      // segments and retention removes whole ones, so a real entry of that kind ends at or
      // before log_min; one running past it is garbage (and would make the next open cut
      // every later entry as out of order). Otherwise it is taken for the durable prefix
      // such entries normally are, unless it claims an offset the log gives to a record at
      // or after `start` (queue offsets follow log order). Garbage at the end of a queue with
      // no record from `start` on is otherwise a known gap: 0005-crash-testing.md.
      if (e.size > log_min - e.physical_offset) return false;
      auto scan = scans.find(QueueKeyLess::View(q.topic(), q.queue_id()));
      return scan == scans.end() || queue_offset < scan->second.first_from_start;
    }
    if (e.physical_offset >= start) return false;
    auto seg = log->SegmentFor(e.physical_offset);
    if (!seg) return false;
    uint64_t in_seg = static_cast<uint64_t>(e.physical_offset - seg->base());
    RecordSummary r;
    if (CheckRecord(seg->View(in_seg, seg->size() - in_seg), false, &r) != RecordCheck::kRecord) {
      return false;
    }
    return r.physical_offset == e.physical_offset && r.total_size == e.size &&
           r.queue_offset == queue_offset && r.queue_id == q.queue_id() && r.topic == q.topic();
  };

  // Pass 1, read-only: find the end. Nothing may change before we know the store is sound.
  // Each queue's next offset is what it will be after truncation to `start`; it is computed
  // at the queue's first record from `start` on, once that record's offset is in `scans`.
  auto next_offset = [&](const RecordSummary& r) -> int64_t& {
    auto it = scans.find(QueueKeyLess::View(r.topic, r.queue_id));
    if (it != scans.end()) return it->second.next;
    it =
        scans
            .emplace(std::make_pair(std::string(r.topic), r.queue_id), QueueScan{r.queue_offset, 0})
            .first;
    auto q = queues->Find(r.topic, r.queue_id);
    it->second.next = q ? q->FirstOffsetAtOrAfter(start, durable_entry) : 0;
    return it->second.next;
  };
  int64_t pos = start;
  std::string problem = "end of the last segment";
  while (pos < log_max) {
    auto seg = log->SegmentFor(pos);
    uint64_t in_seg = static_cast<uint64_t>(pos - seg->base());
    RecordSummary r;
    RecordCheck check = CheckRecord(seg->View(in_seg, seg->size() - in_seg),
                                    /*verify_checksums=*/true, &r, &problem);
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
      int64_t& expected = next_offset(r);
      if (r.queue_offset != expected) {
        problem = "queue offset " + std::to_string(r.queue_offset) + " of " + std::string(r.topic) +
                  "/" + std::to_string(r.queue_id) + ", expected " + std::to_string(expected);
        break;
      }
      ++expected;
    }
    pos += r.total_size;
  }
  if (pos < durable_floor) {
    return Status::Corruption("commit log offset " + std::to_string(pos) + ": " + problem +
                              "; the checkpoint says the log was durable up to " +
                              std::to_string(durable_floor) +
                              ", so acknowledged data is damaged (run mqdump verify)");
  }

  // Pass 2: cut the queues at `start` and re-dispatch [start, end), already validated.
  MQ_RETURN_IF_ERROR(queues->TruncateFrom(start, durable_entry));
  MQ_RETURN_IF_ERROR(ForEachRecord(
      *log, start, pos, [&](const RecordSummary& r, int64_t at) { return queues->Apply(r, at); }));
  MQ_RETURN_IF_ERROR(log->TruncateTo(pos, zero_tail));
  out.start = start;
  out.end = pos;
  out.scanned_bytes = static_cast<uint64_t>(pos - start);
  return out;
}

Status CheckLogRange(const CommitLog& log, int64_t from, int64_t to) {
  return ForEachRecord(log, from, to, [](const RecordSummary&, int64_t) { return Status::OK(); })
      .WithContext("below " + std::to_string(to) + ", where recovery began validating");
}

}  // namespace mqstore
