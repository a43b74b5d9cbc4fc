#include "inspect/log_verifier.h"

#include <algorithm>

#include "inspect/log_position.h"
#include "log/record_codec.h"
#include "util/filename.h"

namespace mqstore {
namespace {

constexpr uint64_t kProgressStep = 4u << 20;

std::string QueueName(std::string_view topic, int32_t queue_id) {
  return std::string(topic) + "/" + std::to_string(queue_id);
}

int64_t End(const SegmentFile& s) { return s.base_offset + static_cast<int64_t>(s.file_bytes); }

}  // namespace

Result<LogFacts> LogVerifier::Run() {
  LogFacts facts;
  std::vector<const SegmentFile*> run = CheckSegmentFiles();
  if (run.empty()) {
    int64_t end = checkpoint_ ? checkpoint_->log_durable_offset : 0;
    facts.log_start = facts.valid_end = facts.restart = end;
    // Recovery refuses a store whose checkpoint promises bytes no segment holds.
    if (checkpoint_ && checkpoint_->log_durable_offset > checkpoint_->log_min_offset) {
      sink_->Report(Severity::kCorruption, filename::CommitLogDir(layout_.dir), -1,
                    "the commit log has no segments, but the checkpoint says offsets " +
                        std::to_string(checkpoint_->log_min_offset) + ".." +
                        std::to_string(checkpoint_->log_durable_offset) + " were durable");
    }
    return facts;
  }
  facts.log_start = run.front()->base_offset;
  int64_t run_end = End(*run.back());
  facts.restart = facts.log_start;
  if (checkpoint_) {
    facts.restart =
        std::clamp(std::min(checkpoint_->dispatch_durable_offset, checkpoint_->log_durable_offset),
                   facts.log_start, run_end);
  }
  size_t stop_segment = run.size();
  std::string why;
  MQ_RETURN_IF_ERROR(Walk(run, &facts, &stop_segment, &why));
  MQ_RETURN_IF_ERROR(ClassifyEnd(run, stop_segment, why, facts));
  return facts;
}

std::vector<const SegmentFile*> LogVerifier::CheckSegmentFiles() {
  const auto& segments = layout_.segments;
  const uint64_t size = layout_.segment_bytes;
  std::vector<const SegmentFile*> run;
  bool after_gap = false;
  for (size_t i = 0; i < segments.size(); ++i) {
    const SegmentFile& s = segments[i];
    bool last = i + 1 == segments.size();
    if (after_gap) {
      sink_->Advance(s.file_bytes);
      continue;
    }
    if (s.file_bytes != size) {
      // CommitLog::Load removes a wrong-sized last segment (a crash while creating it), but
      // refuses to open a store with any other wrong-sized segment.
      if (last && (i > 0 || s.file_bytes == 0)) {
        sink_->Report(Severity::kNote, s.path, -1,
                      "is " + std::to_string(s.file_bytes) + " bytes, not the segment size " +
                          std::to_string(size) +
                          ": a crash while it was being created; the next open removes it");
        sink_->Advance(s.file_bytes);
        continue;
      }
      sink_->Report(Severity::kCorruption, s.path, -1,
                    "is " + std::to_string(s.file_bytes) + " bytes, but the store's segments are " +
                        std::to_string(size) + " bytes: the store will not open");
    }
    if (size != 0 && s.base_offset % static_cast<int64_t>(size) != 0) {
      sink_->Report(Severity::kCorruption, s.path, -1,
                    "its name (base offset " + std::to_string(s.base_offset) +
                        ") is not a multiple of the segment size " + std::to_string(size));
    }
    if (!run.empty() && s.base_offset != End(*run.back())) {
      sink_->Report(Severity::kCorruption, s.path, -1,
                    "the commit log has a gap: no segment holds offsets " +
                        std::to_string(End(*run.back())) + ".." + std::to_string(s.base_offset) +
                        "; this and later segments are not " + "checked");
      after_gap = true;
      sink_->Advance(s.file_bytes);
      continue;
    }
    run.push_back(&s);
  }
  return run;
}

Status LogVerifier::Walk(const std::vector<const SegmentFile*>& run, LogFacts* facts,
                         size_t* stop_segment, std::string* why) {
  for (size_t i = 0; i < run.size(); ++i) {
    const SegmentFile& seg = *run[i];
    MQ_ASSIGN_OR_RETURN(auto file, cache_->Get(seg.path));
    std::string_view data = file->data();
    uint64_t pos = 0, reported = 0;
    bool closed = false;  // by a blank
    while (!closed) {
      int64_t offset = seg.base_offset + static_cast<int64_t>(pos);
      PositionCheck check =
          ExaminePosition(data.substr(std::min<size_t>(pos, data.size())), offset);
      if (check.kind == PositionKind::kBlank) {
        ++facts->blanks;
        closed = true;
      } else if (check.kind == PositionKind::kRecord) {
        OnRecord(seg, offset, check.record, facts);
        pos += static_cast<uint64_t>(check.size);
        if (pos - reported >= kProgressStep) {
          sink_->Advance(pos - reported);
          reported = pos;
        }
      } else {
        facts->valid_end = offset;
        *stop_segment = i;
        *why = check.problem;
        sink_->Advance(pos - reported);
        return Status::OK();
      }
    }
    sink_->Advance(seg.file_bytes - reported);
    file->Release();
  }
  facts->valid_end = End(*run.back());
  *stop_segment = run.size();
  return Status::OK();
}

void LogVerifier::OnRecord(const SegmentFile& segment, int64_t offset, const ParsedRecord& r,
                           LogFacts* facts) {
  ++facts->records;
  if (!GetsQueueOffset(r.sys_flag)) return;
  QueueLogSpan& span = facts->queues[{std::string(r.topic), r.queue_id}];
  // A queue's numbering starts at 0 unless older segments were deleted.
  int64_t expected = span.records > 0        ? span.next_queue_offset
                     : facts->log_start == 0 ? 0
                                             : r.queue_offset;
  if (r.queue_offset != expected) {
    sink_->Report(Severity::kCorruption, segment.path, offset - segment.base_offset,
                  "record at offset " + std::to_string(offset) + " has queue offset " +
                      std::to_string(r.queue_offset) + " in " + QueueName(r.topic, r.queue_id) +
                      ", expected " + std::to_string(expected) +
                      " (queue offsets must be contiguous in log order)");
  }
  if (span.records == 0) span.first_queue_offset = r.queue_offset;
  ++span.records;
  span.next_queue_offset = r.queue_offset + 1;
  if (offset < facts->restart) span.next_below_restart = span.next_queue_offset;
}

Result<LogVerifier::ChainAfterEnd> LogVerifier::FollowChain(
    const std::vector<const SegmentFile*>& run, size_t stop_segment, int64_t end) {
  ChainAfterEnd chain;
  chain.reach = end;
  constexpr size_t kMaxListed = 20;
  bool first = true;
  for (size_t i = stop_segment; i < run.size(); ++i) {
    const SegmentFile& seg = *run[i];
    MQ_ASSIGN_OR_RETURN(auto file, cache_->Get(seg.path));
    std::string_view data = file->data();
    uint64_t pos = static_cast<uint64_t>(chain.reach - seg.base_offset);
    while (true) {
      int64_t offset = seg.base_offset + static_cast<int64_t>(pos);
      PositionCheck check =
          ExaminePosition(data.substr(std::min<size_t>(pos, data.size())), offset);
      if (check.kind == PositionKind::kBlank) break;
      if (check.kind == PositionKind::kEnd ||
          (first && check.kind != PositionKind::kDamagedRecord)) {
        return chain;
      }
      if (!first && check.kind == PositionKind::kRecord) ++chain.intact;
      if (!first && check.kind == PositionKind::kDamagedRecord) {
        ++chain.damaged;
        if (offset < durable_floor() && chain.damaged_durable.size() < kMaxListed) {
          chain.damaged_durable.push_back(Problem{Severity::kCorruption, seg.path,
                                                  static_cast<int64_t>(pos),
                                                  "record at offset " + std::to_string(offset) +
                                                      " is damaged too (" + check.problem + ")"});
        } else if (offset < durable_floor()) {
          ++chain.damaged_durable_unlisted;
        }
      }
      first = false;
      pos += static_cast<uint64_t>(check.size);
      chain.reach = seg.base_offset + static_cast<int64_t>(pos);
    }
    chain.reach = seg.base_offset + static_cast<int64_t>(seg.file_bytes);
    if (i + 1 < run.size() && run[i + 1]->base_offset != chain.reach) break;
  }
  return chain;
}

Status LogVerifier::ClassifyEnd(const std::vector<const SegmentFile*>& run, size_t stop_segment,
                                const std::string& why, const LogFacts& facts) {
  const int64_t end = facts.valid_end;
  if (stop_segment == run.size()) {
    // The walk ran to the end of the last segment. Missing segments at the end can still
    // take durable bytes with them.
    if (end < durable_floor()) {
      sink_->Report(Severity::kCorruption, layout_.checkpoint_path, -1,
                    "the commit log ends with its last segment at offset " + std::to_string(end) +
                        ", but the checkpoint says it was durable up to " +
                        std::to_string(durable_floor()));
    }
    return Status::OK();
  }
  const SegmentFile& seg = *run[stop_segment];
  const int64_t in_file = end - seg.base_offset;

  // How far non-zero bytes reach past the end, and whether valid records start again in a
  // later segment. Past the durable offset both are a torn tail: mmap writeback after a power
  // cut can persist a later page (even a later segment) and lose an earlier one.
  MQ_ASSIGN_OR_RETURN(auto file, cache_->Get(seg.path));
  std::string_view after =
      file->data().substr(std::min<size_t>(static_cast<size_t>(in_file), file->data().size()));
  int64_t reach = end + static_cast<int64_t>(NonZeroExtent(after));
  sink_->Advance(after.size());
  file->Release();
  const SegmentFile* resumed = nullptr;
  for (size_t i = stop_segment + 1; i < run.size(); ++i) {
    MQ_ASSIGN_OR_RETURN(auto later, cache_->Get(run[i]->path));
    PositionCheck first = ExaminePosition(later->data(), run[i]->base_offset);
    if (resumed == nullptr &&
        (first.kind == PositionKind::kRecord || first.kind == PositionKind::kBlank)) {
      resumed = run[i];
    }
    size_t extent = NonZeroExtent(later->data());
    if (extent > 0) reach = run[i]->base_offset + static_cast<int64_t>(extent);
    sink_->Advance(run[i]->file_bytes);
    later->Release();
  }

  MQ_ASSIGN_OR_RETURN(ChainAfterEnd chain, FollowChain(run, stop_segment, end));
  std::string at = "offset " + std::to_string(end) + " (" + why;
  if (chain.intact + chain.damaged > 0) {
    at += "; " + std::to_string(chain.intact) + " intact and " + std::to_string(chain.damaged) +
          " damaged records follow, up to offset " + std::to_string(chain.reach);
  }
  at += ")";
  if (end < durable_floor()) {
    sink_->Report(Severity::kCorruption, seg.path, in_file,
                  "the commit log is valid only up to " + at +
                      ", but the checkpoint says it was durable up to " +
                      std::to_string(durable_floor()) +
                      ": acknowledged records are damaged or lost");
    for (Problem& p : chain.damaged_durable) {
      sink_->Report(p.severity, std::move(p.path), p.file_offset, std::move(p.message));
    }
    for (uint64_t i = 0; i < chain.damaged_durable_unlisted; ++i) {
      sink_->Count(Severity::kCorruption);
    }
  } else if (reach > end) {
    std::string resumed_note;
    if (resumed != nullptr) {
      resumed_note = "; valid-looking records start again at offset " +
                     std::to_string(resumed->base_offset) + ", past the durable offset";
    }
    sink_->Report(Severity::kNote, seg.path, in_file,
                  "torn tail of " + std::to_string(reach - end) + " bytes at " + at +
                      resumed_note + ": recovery will drop it");
  }
  return Status::OK();
}

}  // namespace mqstore
