#include "inspect/store_verifier.h"

#include <algorithm>

#include "inspect/index_verifier.h"
#include "inspect/log_iterator.h"
#include "inspect/log_verifier.h"
#include "inspect/meta_verifier.h"
#include "inspect/queue_slots.h"
#include "inspect/queue_verifier.h"
#include "inspect/timer_verifier.h"
#include "recovery/checkpoint.h"

namespace mqstore {

Result<VerifySummary> StoreVerifier::Run(const VerifyOptions& options) {
  uint64_t total = 0;
  for (const auto& s : layout_.segments) total += s.file_bytes;
  for (const auto& q : layout_.queues) {
    for (const auto& f : q.files) total += f.file_bytes;
  }
  for (const auto& f : layout_.index_files) total += f.file_bytes;
  for (const auto& f : layout_.timer_segments) total += f.file_bytes;
  ProblemSink sink(options, total);
  sink.Flush();
  CheckDirectory(&sink);
  CheckCheckpoint(&sink);

  LogVerifier log_verifier(layout_, cache_, checkpoint_.newest(), &sink);
  MQ_ASSIGN_OR_RETURN(LogFacts facts, log_verifier.Run());
  QueueVerifier queue_verifier(layout_, cache_, facts, &sink);
  MQ_ASSIGN_OR_RETURN(uint64_t entries, queue_verifier.Run());
  IndexVerifier index_verifier(layout_, cache_, facts, &sink);
  MQ_ASSIGN_OR_RETURN(IndexFacts index, index_verifier.Run());
  MetaVerifier meta_verifier(layout_, meta_readable_, facts, &sink);
  MQ_ASSIGN_OR_RETURN(MetaFacts meta, meta_verifier.Run());
  TimerVerifier timer_verifier(layout_, cache_, facts, meta, &sink);
  MQ_ASSIGN_OR_RETURN(TimerFacts timer, timer_verifier.Run());
  sink.Flush();

  VerifySummary summary;
  summary.segments = layout_.segments.size();
  summary.records = facts.records;
  summary.blanks = facts.blanks;
  summary.queues = layout_.queues.size();
  summary.queue_entries = entries;
  summary.log_start = facts.log_start;
  summary.log_end = facts.valid_end;
  summary.index_files = index.files;
  summary.index_entries = index.entries;
  summary.metadata_checked = meta.checked;
  summary.metadata_entries = meta.entries;
  summary.timer_segments = timer.segments;
  summary.timer_entries = timer.entries;
  summary.timer_pending = timer.pending;
  summary.notes = sink.notes();
  summary.warnings = sink.warnings();
  summary.corruptions = sink.corruptions();
  return summary;
}

void StoreVerifier::CheckDirectory(ProblemSink* sink) {
  for (const StrayFile& f : layout_.stray) {
    sink->Report(Severity::kWarning, f.path, -1, "ignored by the store: " + f.why);
  }
  if (layout_.has_abort_marker) {
    sink->Report(Severity::kNote, layout_.dir + "/abort", -1,
                 "abort marker present: the store is open now, or its last run crashed; the "
                 "next open runs crash recovery");
  }
}

void StoreVerifier::CheckCheckpoint(ProblemSink* sink) {
  const CheckpointState& cp = checkpoint_;
  if (!cp.exists) {
    sink->Report(Severity::kWarning, cp.path, -1,
                 "no checkpoint: the next open rebuilds every queue from the whole log");
    return;
  }
  if (cp.newest_slot < 0) {
    std::string why;
    for (size_t i = 0; i < cp.slots.size(); ++i) {
      why += (i ? "; slot " : "slot ") + std::to_string(i) + ": " + cp.slots[i].problem;
    }
    sink->Report(Severity::kCorruption, cp.path, 0, "no valid checkpoint slot (" + why + ")");
    return;
  }
  for (size_t i = 0; i < cp.slots.size(); ++i) {
    const CheckpointSlot& slot = cp.slots[i];
    // A blank slot is normal: the first checkpoint a store writes goes to slot 1.
    if (slot.valid || slot.blank) continue;
    sink->Report(Severity::kWarning, cp.path, static_cast<int64_t>(i * kCheckpointSlotSize),
                 "slot " + std::to_string(i) + " is damaged (" + slot.problem + "); slot " +
                     std::to_string(cp.newest_slot) + " is used");
  }
}

Result<InspectStats> ComputeStats(const StoreLayout& layout, const CheckpointState& checkpoint,
                                  FileCache* cache) {
  InspectStats stats;
  stats.segment_bytes = layout.segment_bytes;
  stats.segment_count = layout.segments.size();
  stats.abort_marker = layout.has_abort_marker;
  if (const CheckpointFields* newest = checkpoint.newest()) stats.checkpoint = *newest;
  if (!layout.segments.empty()) {
    const SegmentFile& last = layout.segments.back();
    stats.log_min_offset = layout.segments.front().base_offset;
    stats.log_files_end = last.base_offset + static_cast<int64_t>(last.file_bytes);
    // Where recovery starts validating; the log end is where that walk stops.
    int64_t start = stats.log_min_offset;
    if (stats.checkpoint) {
      start = std::clamp(
          std::min(stats.checkpoint->dispatch_durable_offset, stats.checkpoint->log_durable_offset),
          stats.log_min_offset, stats.log_files_end);
    }
    LogIteratorImpl it(cache, &layout.segments);
    it.SeekExact(start);
    while (it.Valid() && it.entry().kind != LogEntryKind::kEnd && it.entry().problem.empty()) {
      it.Next();
    }
    MQ_RETURN_IF_ERROR(it.status());
    stats.log_end = it.Valid() ? it.entry().offset : stats.log_files_end;
  }
  for (const QueueFiles& queue : layout.queues) {
    MQ_ASSIGN_OR_RETURN(QueueSlots slots, QueueSlots::Open(cache, queue));
    QueueSlots::LoadedEnd end = slots.FindLoadedEnd();
    QueueStats q;
    q.topic = queue.topic;
    q.queue_id = queue.queue_id;
    q.min_offset = slots.first_offset();
    q.max_offset = end.max_offset;
    q.file_count = queue.files.size();
    q.last_record_end = end.last_record_end;
    stats.queue_entries += static_cast<uint64_t>(q.max_offset - q.min_offset);
    stats.queues.push_back(std::move(q));
  }
  return stats;
}

}  // namespace mqstore
