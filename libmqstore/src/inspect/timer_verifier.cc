#include "inspect/timer_verifier.h"

#include <limits>
#include <vector>

#include "inspect/log_position.h"
#include "inspect/record_lookup.h"
#include "schedule/schedule_names.h"
#include "schedule/schedule_rewrite.h"
#include "schedule/timer_scheduler.h"

namespace mqstore {
namespace {

constexpr auto kEntryBytes = static_cast<int64_t>(kTimerEntrySize);
// What the scheduler does with a log it cannot open.
constexpr const char* kRebuilt =
    ": the next open discards the timer log and rebuilds it from the timer topic";

std::string EntryName(int64_t pos) { return "entry " + std::to_string(pos); }

}  // namespace

Result<TimerFacts> TimerVerifier::Run() {
  TimerFacts facts;
  if (!layout_.has_timer) return facts;
  if (meta_.checked) progress_ = TimerProgressOf(meta_.schedule);
  MQ_ASSIGN_OR_RETURN(TimerLogReader reader, TimerLogReader::Open(layout_, cache_));
  facts.segments = reader.segments().size();
  precision_ms_ = reader.precision_ms();
  if (progress_ && progress_->committed && precision_ms_ > 0) {
    read_slot_ = progress_->ReadSlot(precision_ms_);
  }
  // What the next open keeps: the log below the committed end; nothing without a commit.
  // Without the progress, the log end stands in for it (damage after it is a torn tail).
  if (progress_) {
    cut_from_ = progress_->committed ? progress_->log_end : 0;
  } else {
    cut_from_ = reader.addressable() ? reader.end() : std::numeric_limits<int64_t>::max();
  }

  CheckSegments(reader);
  if (reader.addressable()) MQ_RETURN_IF_ERROR(CheckEntries(reader, &facts));
  CheckProgress(reader);
  return facts;
}

void TimerVerifier::CheckSegments(const TimerLogReader& reader) {
  const auto& segments = reader.segments();
  if (segments.empty()) return;
  const uint64_t size = reader.segment_bytes();
  if (!reader.addressable()) {
    const TimerLogFile& first = *segments.front().file;
    sink_->Report(At(first.base, Severity::kCorruption), first.path, -1,
                  "is " + std::to_string(size) + " bytes: a timer log segment is a multiple of " +
                      std::to_string(kTimerEntrySize) + " bytes of at least two entries" +
                      kRebuilt);
    for (const TimerSegmentReader& s : segments) sink_->Advance(s.file->file_bytes);
    return;
  }
  const auto isize = static_cast<int64_t>(size);
  for (size_t i = 0; i < segments.size(); ++i) {
    const TimerSegmentReader& s = segments[i];
    const TimerLogFile& file = *s.file;
    const Severity severity = At(file.base, Severity::kCorruption);
    auto report = [&](int64_t offset, const std::string& message) {
      sink_->Report(severity, file.path, offset, message + kRebuilt);
    };
    if (file.base % isize != 0) {
      report(-1, "named at log position " + std::to_string(file.base) +
                     ", not a multiple of the segment size " + std::to_string(size));
    } else if (i > 0 && file.base != segments[i - 1].file->base + isize) {
      report(-1, "segments are not contiguous: the one before ends at position " +
                     std::to_string(segments[i - 1].file->base + isize));
    }
    if (file.file_bytes != size) {
      report(-1, "is " + std::to_string(file.file_bytes) + " bytes; the segment size (the " +
                     "first segment's) is " + std::to_string(size));
    }
    if (!s.header_status.ok()) {
      report(0, "header: " + std::string(s.header_status.message()));
      continue;
    }
    if (s.header.base != file.base) {
      report(0, "header names base " + std::to_string(s.header.base) + ", not its own");
    }
    if (s.header.precision_ms <= 0) {
      report(0,
             "header precision " + std::to_string(s.header.precision_ms) + " ms is not positive");
    } else if (s.header.precision_ms != precision_ms_) {
      report(0, "written with precision " + std::to_string(s.header.precision_ms) +
                    " ms, the first segment with " + std::to_string(precision_ms_) + " ms");
    }
    // Bytes 28..43 are reserved (zero); the CRC covers them, so only a writer puts others.
    if (!AllZero(s.map->data().substr(28, 16))) {
      sink_->Report(At(file.base, Severity::kWarning), file.path, 28,
                    "reserved header bytes 28..43 are not zero");
    }
  }
}

Status TimerVerifier::CheckEntries(const TimerLogReader& reader, TimerFacts* facts) {
  const int64_t end = reader.end();
  for (size_t i = 0; i < reader.segments().size(); ++i) {
    const TimerLogFile& file = *reader.segments()[i].file;
    FileProblemReporter report(sink_, file.path);
    // After the end, only zeros: anything else is summarised once per segment.
    uint64_t valid_after = 0, damaged_after = 0;
    int64_t first_valid_after = -1, first_damaged_after = -1;
    for (size_t n = 0; n < reader.EntryCount(i); ++n) {
      const int64_t pos = reader.EntryPosition(i, n);
      const auto file_offset = static_cast<uint64_t>(pos - file.base);
      const std::string_view bytes = reader.EntryBytes(i, n);
      TimerEntry e;
      const TimerEntryState state = DecodeTimerEntry(bytes.data(), &e);
      if (pos < end) {
        if (state == TimerEntryState::kUnused) {
          report.Report(At(pos, Severity::kCorruption), file_offset,
                        EntryName(pos) + " is all zeros, inside the log (it ends at " +
                            std::to_string(end) + ")");
        } else if (state == TimerEntryState::kCorrupt) {
          report.Report(At(pos, Severity::kCorruption), file_offset,
                        EntryName(pos) + ": " + DescribeBadTimerEntry(bytes));
        } else {
          MQ_RETURN_IF_ERROR(CheckEntry(reader, report, pos, file_offset, bytes, e, facts));
        }
        continue;
      }
      if (state == TimerEntryState::kUnused) continue;
      if (pos == end) {
        // Valid entries never follow zeros, so this one is why the log ends here.
        report.Report(
            At(pos, Severity::kCorruption), file_offset,
            EntryName(pos) + ": " + DescribeBadTimerEntry(bytes) + ": the timer log ends here");
      } else if (state == TimerEntryState::kValid) {
        if (valid_after++ == 0) first_valid_after = pos;
        // Still a link in its slot's chain for the entries after it.
        SlotChain& chain = slots_[e.slot];
        chain.newest = pos;
        ++chain.entries;
      } else {
        if (damaged_after++ == 0) first_damaged_after = pos;
      }
    }
    if (valid_after > 0) {
      report.Report(At(first_valid_after, Severity::kCorruption),
                    static_cast<uint64_t>(first_valid_after - file.base),
                    std::to_string(valid_after) + " valid entries from " +
                        EntryName(first_valid_after) + " on follow the end of the log (" +
                        std::to_string(end) + "): the scheduler never reads them");
    }
    if (damaged_after > 0) {
      report.Report(At(first_damaged_after, Severity::kCorruption),
                    static_cast<uint64_t>(first_damaged_after - file.base),
                    std::to_string(damaged_after) + " damaged entries from " +
                        EntryName(first_damaged_after) + " on, after the end of the log (" +
                        std::to_string(end) + ")");
    }
    sink_->Advance(file.file_bytes);
  }
  return Status::OK();
}

Status TimerVerifier::CheckEntry(const TimerLogReader& reader, FileProblemReporter& report,
                                 int64_t pos, uint64_t file_offset, std::string_view bytes,
                                 const TimerEntry& e, TimerFacts* facts) {
  const Severity corrupt = At(pos, Severity::kCorruption);
  ++facts->entries;
  // Bytes 5..7 and 44..47 are reserved (zero); the CRC covers them.
  if (!AllZero(bytes.substr(5, 3)) || !AllZero(bytes.substr(44, 4))) {
    report.Report(At(pos, Severity::kWarning), file_offset,
                  EntryName(pos) + ": reserved bytes are not zero");
  }
  if (precision_ms_ > 0) {
    const int64_t due = TimerScheduler::SlotOf(e.deliver_ms, precision_ms_);
    if (e.type == TimerEntryType::kDeliver && e.slot != due) {
      report.Report(corrupt, file_offset,
                    EntryName(pos) + " is in slot " + std::to_string(e.slot) +
                        ", but its delivery time " + std::to_string(e.deliver_ms) + " at " +
                        std::to_string(precision_ms_) + " ms precision is slot " +
                        std::to_string(due));
    } else if (e.type == TimerEntryType::kRoll && e.slot >= due) {
      report.Report(corrupt, file_offset,
                    EntryName(pos) + " is a roll entry in slot " + std::to_string(e.slot) +
                        ", not before its delivery time's slot " + std::to_string(due) +
                        ": a roll entry waits at the wheel's edge, before its time");
    }
  }
  CheckPrev(reader, report, pos, file_offset, e);
  SlotChain& chain = slots_[e.slot];
  const bool pending = Pending(e.slot, chain.entries);
  chain.newest = pos;
  ++chain.entries;
  if (pending) ++facts->pending;
  return CheckRecord(report, pos, file_offset, e, pending);
}

void TimerVerifier::CheckPrev(const TimerLogReader& reader, FileProblemReporter& report,
                              int64_t pos, uint64_t file_offset, const TimerEntry& e) {
  auto it = slots_.find(e.slot);
  const int64_t expected = it == slots_.end() ? kNoTimerEntry : it->second.newest;
  if (e.prev == expected) return;
  const std::string newest =
      expected == kNoTimerEntry
          ? "the slot has no earlier entry in the log"
          : "the newest earlier entry of the slot is " + std::to_string(expected);
  std::string why;
  if (e.prev == kNoTimerEntry) {
    why = "-1 (first of its slot), but " + newest + ": the chain is cut";
  } else if (e.prev < 0) {
    why = std::to_string(e.prev) + ", outside the log";
  } else if (e.prev >= pos) {
    why = std::to_string(e.prev) + ", not an earlier entry: a link points only backwards";
  } else if (e.prev < reader.start()) {
    if (expected == kNoTimerEntry) return;  // its predecessors' segment was removed
    why = std::to_string(e.prev) + ", before the log's first entry, but " + newest;
  } else {
    std::optional<std::string_view> target = reader.EntryAt(e.prev);
    TimerEntry t;
    if (!target) {
      why = std::to_string(e.prev) + ", not an entry position of the log";
    } else if (DecodeTimerEntry(target->data(), &t) != TimerEntryState::kValid) {
      why = std::to_string(e.prev) + ", not a valid entry";
    } else if (t.slot != e.slot) {
      why = std::to_string(e.prev) + ", an entry of slot " + std::to_string(t.slot);
    } else {
      why = std::to_string(e.prev) + ", but " + newest;
    }
  }
  report.Report(At(pos, Severity::kCorruption), file_offset,
                EntryName(pos) + " (slot " + std::to_string(e.slot) + "): PREV is " + why);
}

Status TimerVerifier::CheckRecord(FileProblemReporter& report, int64_t pos, uint64_t file_offset,
                                  const TimerEntry& e, bool pending) {
  const Severity corrupt = At(pos, Severity::kCorruption);
  const std::string what = EntryName(pos) + " points at the record at commit-log offset " +
                           std::to_string(e.commit_log_offset) + " (" +
                           std::to_string(e.record_size) + " bytes)";
  if (e.commit_log_offset < 0 || e.record_size <= 0) {
    report.Report(corrupt, file_offset, what + ": not a record position and size");
    return Status::OK();
  }
  if (e.commit_log_offset + e.record_size > log_.valid_end) {
    // Once delivered, the record is never read again; before, the message is lost.
    if (pending) {
      report.Report(corrupt, file_offset,
                    what + ", past the end of the commit log (" + std::to_string(log_.valid_end) +
                        "): the timer is not delivered yet and its message is lost");
    }
    return Status::OK();
  }
  if (e.commit_log_offset < log_.log_start) {
    if (pending) {
      report.Report(Severity::kNote, file_offset,
                    what + ", below the start of the commit log (" +
                        std::to_string(log_.log_start) +
                        "): retention removed it; the timer is dropped when it fires");
    }
    return Status::OK();
  }
  Result<LogEntry> found = ReadRecordAtOffset(layout_, cache_, e.commit_log_offset);
  if (!found.ok()) {
    if (!found.status().IsNotFound()) return found.status();
    report.Report(corrupt, file_offset, what + ", but " + std::string(found.status().message()));
    return Status::OK();
  }
  const ParsedRecord& r = found->record;
  if (r.total_size != e.record_size) {
    report.Report(corrupt, file_offset,
                  what + ", but that record is " + std::to_string(r.total_size) + " bytes");
  } else if (r.topic != schedule::kTimerTopic || r.queue_id != schedule::kTimerQueueId) {
    report.Report(corrupt, file_offset,
                  what + ", but that record is in " + std::string(r.topic) + "/" +
                      std::to_string(r.queue_id) + ", not the timer topic");
  } else if (TimerOutMs(r.properties).value_or(0) != e.deliver_ms) {
    report.Report(corrupt, file_offset,
                  what + ", but that record asks for delivery at " +
                      std::to_string(TimerOutMs(r.properties).value_or(0)) + ", not " +
                      std::to_string(e.deliver_ms));
  }
  return Status::OK();
}

bool TimerVerifier::Pending(int64_t slot, uint64_t index) const {
  if (!read_slot_) return true;
  if (slot != *read_slot_) return slot > *read_slot_;
  return index >= static_cast<uint64_t>(progress_->fired_in_slot);
}

void TimerVerifier::CheckProgress(const TimerLogReader& reader) {
  const std::string& dir = layout_.timer_log_dir;
  const bool has_files = !reader.segments().empty();
  if (!progress_) {
    if (has_files) {
      sink_->Report(Severity::kNote, dir, -1,
                    "the timer's committed progress (meta/) was not read: the log end " +
                        std::to_string(reader.end()) + " is taken for the committed end");
    }
    return;
  }
  if (!progress_->committed) {
    if (has_files) {
      sink_->Report(Severity::kNote, dir, -1,
                    "no committed timer progress in meta/: the next open starts the timer "
                    "afresh and removes these files");
    }
    return;
  }
  const int64_t committed = progress_->log_end;
  const std::string name = "the committed timer log end " + std::to_string(committed) +
                           " (meta/ schedule '" + std::string(TimerScheduler::kLogProgress) + "')";
  if (committed == 0) {
    if (has_files) {
      sink_->Report(Severity::kNote, dir, -1, name + ": the next open removes these files");
    }
    return;
  }
  if (!has_files) {
    sink_->Report(Severity::kCorruption, dir, -1,
                  name + ", but there are no timer log segments" + kRebuilt);
    return;
  }
  if (!reader.addressable()) return;  // reported with the files
  const auto size = static_cast<int64_t>(reader.segment_bytes());
  const int64_t in_segment = committed - (committed - 1) / size * size;
  if (committed < 0 || in_segment < kEntryBytes || in_segment % kEntryBytes != 0) {
    sink_->Report(Severity::kCorruption, dir, -1, name + " is not an entry boundary" + kRebuilt);
  } else if (committed > reader.end()) {
    sink_->Report(Severity::kCorruption, dir, -1,
                  name + " is past the end of the timer log (" + std::to_string(reader.end()) +
                      "): committed entries are missing" + kRebuilt);
  } else if (committed < reader.start()) {
    sink_->Report(Severity::kCorruption, dir, -1,
                  name + " is before the log's first entry (" + std::to_string(reader.start()) +
                      ")" + kRebuilt);
  }
  auto queue = log_.queues.find({std::string(schedule::kTimerTopic), schedule::kTimerQueueId});
  if (queue != log_.queues.end() &&
      progress_->next_queue_offset > queue->second.next_queue_offset) {
    sink_->Report(Severity::kNote, dir, -1,
                  "the timer's next queue offset " + std::to_string(progress_->next_queue_offset) +
                      " is past the timer topic's last message (next offset " +
                      std::to_string(queue->second.next_queue_offset) +
                      "): the scheduler resumes there");
  }
}

}  // namespace mqstore
