#include "inspect/timer_reader.h"

#include <algorithm>
#include <map>

#include "schedule/timer_scheduler.h"
#include "mqstore/coding.h"
#include "util/crc32.h"

namespace mqstore {
namespace {

constexpr auto kEntryBytes = static_cast<int64_t>(kTimerEntrySize);

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

}  // namespace

Result<TimerLogReader> TimerLogReader::Open(const StoreLayout& layout, FileCache* cache) {
  TimerLogReader reader;
  for (const TimerLogFile& file : layout.timer_segments) {
    TimerSegmentReader segment;
    segment.file = &file;
    MQ_ASSIGN_OR_RETURN(segment.map, cache->Get(file.path));
    if (segment.map->data().size() < kTimerEntrySize) {
      segment.header_status = Status::Corruption("is " + std::to_string(file.file_bytes) +
                                                 " bytes, too short for a header");
    } else {
      segment.header_status = DecodeTimerLogHeader(segment.map->data().data(), &segment.header);
    }
    if (segment.header_status.ok() && reader.precision_ms_ == 0) {
      reader.precision_ms_ = segment.header.precision_ms;
    }
    reader.segments_.push_back(std::move(segment));
  }
  if (reader.segments_.empty()) return reader;
  reader.segment_bytes_ = reader.segments_.front().file->file_bytes;
  if (!reader.addressable()) return reader;
  // TimerLog::Open: the end is after the last valid entry of the last segment.
  const size_t last = reader.segments_.size() - 1;
  const size_t count = reader.EntryCount(last);
  size_t n = 0;
  TimerEntry entry;
  while (n < count &&
         DecodeTimerEntry(reader.EntryBytes(last, n).data(), &entry) == TimerEntryState::kValid) {
    ++n;
  }
  reader.end_ = reader.EntryPosition(last, n);
  return reader;
}

bool TimerLogReader::addressable() const {
  return segment_bytes_ % kTimerEntrySize == 0 && segment_bytes_ >= 2 * kTimerEntrySize;
}

size_t TimerLogReader::EntryCount(size_t i) const {
  uint64_t bytes = std::min<uint64_t>(segments_[i].map->data().size(), segment_bytes_);
  return bytes < kTimerEntrySize ? 0 : static_cast<size_t>(bytes / kTimerEntrySize - 1);
}

std::optional<std::string_view> TimerLogReader::EntryAt(int64_t pos) const {
  if (!addressable() || pos < 0) return std::nullopt;
  const auto size = static_cast<int64_t>(segment_bytes_);
  const int64_t base = pos / size * size;
  const int64_t in_segment = pos - base;
  if (in_segment < kEntryBytes || in_segment % kEntryBytes != 0) return std::nullopt;
  auto it =
      std::lower_bound(segments_.begin(), segments_.end(), base,
                       [](const TimerSegmentReader& s, int64_t b) { return s.file->base < b; });
  if (it == segments_.end() || it->file->base != base) return std::nullopt;
  const size_t n = static_cast<size_t>(in_segment / kEntryBytes) - 1;
  if (n >= EntryCount(static_cast<size_t>(it - segments_.begin()))) return std::nullopt;
  return it->map->data().substr(static_cast<size_t>(in_segment), kTimerEntrySize);
}

int64_t TimerLogReader::start() const {
  return segments_.empty() ? 0 : segments_.front().file->base + kEntryBytes;
}

std::string DescribeBadTimerEntry(std::string_view bytes) {
  const uint32_t stored = DecodeBig32(bytes.data());
  const uint32_t computed = crc32::Value(bytes.data() + 4, kTimerEntrySize - 4);
  if (stored != computed) {
    return "CRC mismatch (stored " + std::to_string(stored) + ", computed " +
           std::to_string(computed) + ")";
  }
  return "type " + std::to_string(static_cast<uint8_t>(bytes[4])) +
         " is neither 1 (deliver) nor 2 (roll)";
}

int64_t TimerProgress::ReadSlot(int64_t precision_ms) const {
  return FloorDiv(delivered_through_ms, precision_ms) + 1;
}

TimerProgress TimerProgressOf(const std::vector<ScheduleProgress>& schedule) {
  TimerProgress p;
  for (const ScheduleProgress& e : schedule) {
    if (e.name == TimerScheduler::kLogProgress) {
      p.log_end = e.offset;
    } else if (e.name == TimerScheduler::kEnqueueProgress) {
      p.next_queue_offset = e.offset;
    } else if (e.name == TimerScheduler::kDequeueProgress) {
      p.committed = true;
      p.fired_in_slot = e.offset;
      p.delivered_through_ms = e.timestamp_ms;
    }
  }
  return p;
}

Result<TimerLogSummary> SummarizeTimerLog(const StoreLayout& layout, FileCache* cache,
                                          const TimerProgress* progress) {
  if (layout.timer_segments.empty()) {
    return Status::NotFound(layout.dir + " has no timer log segments in " + layout.timer_log_dir);
  }
  MQ_ASSIGN_OR_RETURN(TimerLogReader reader, TimerLogReader::Open(layout, cache));
  TimerLogSummary out;
  out.dir = layout.timer_log_dir;
  out.precision_ms = reader.precision_ms();
  out.segment_bytes = reader.segment_bytes();
  out.log_start = reader.start();
  out.log_end = reader.end();
  if (progress != nullptr) {
    out.progress_known = true;
    out.progress_committed = progress->committed;
    out.committed_log_end = progress->log_end;
    out.next_queue_offset = progress->next_queue_offset;
    out.delivered_through_ms = progress->delivered_through_ms;
  }
  // Without a precision no slot means anything; with no committed progress nothing fired.
  const bool fired_known = out.precision_ms > 0 && progress != nullptr && progress->committed;
  const int64_t read_slot = fired_known ? progress->ReadSlot(out.precision_ms) : 0;
  std::map<int64_t, uint64_t> pending_slots;  // slot -> pending entries
  std::map<int64_t, uint64_t> seen_in_slot;   // entries of slot R so far, for k
  for (size_t i = 0; i < reader.segments().size(); ++i) {
    const TimerSegmentReader& s = reader.segments()[i];
    TimerSegmentInfo info;
    info.path = s.file->path;
    info.base = s.file->base;
    info.file_bytes = s.file->file_bytes;
    if (!s.header_status.ok()) {
      info.problem = std::string(s.header_status.message());
    } else if (s.header.base != s.file->base) {
      info.problem = "header names base " + std::to_string(s.header.base);
    } else if (s.file->file_bytes != reader.segment_bytes()) {
      info.problem = "is " + std::to_string(s.file->file_bytes) + " bytes, not " +
                     std::to_string(reader.segment_bytes());
    }
    for (size_t n = 0; reader.addressable() && n < reader.EntryCount(i); ++n) {
      if (reader.EntryPosition(i, n) >= reader.end()) break;
      TimerEntry e;
      if (DecodeTimerEntry(reader.EntryBytes(i, n).data(), &e) != TimerEntryState::kValid) {
        continue;  // damage: Verify reports it
      }
      info.min_slot = info.entries == 0 ? e.slot : std::min(info.min_slot, e.slot);
      info.max_slot = info.entries == 0 ? e.slot : std::max(info.max_slot, e.slot);
      ++info.entries;
      if (e.type == TimerEntryType::kRoll) ++info.rolls;
      bool pending = true;
      if (fired_known) {
        if (e.slot < read_slot) {
          pending = false;
        } else if (e.slot == read_slot) {
          pending = seen_in_slot[e.slot]++ >= static_cast<uint64_t>(progress->fired_in_slot);
        }
      }
      if (pending) {
        ++out.pending;
        ++pending_slots[e.slot];
      }
    }
    out.entries += info.entries;
    out.segments.push_back(std::move(info));
  }
  if (!pending_slots.empty() && out.precision_ms > 0) {
    const int64_t first = pending_slots.begin()->first;
    const int64_t last = pending_slots.rbegin()->first;
    const int64_t width = std::max<int64_t>(1, (last - first + 10) / 10);  // slots per range
    for (int64_t from = first; from <= last; from += width) {
      TimerPendingRange range;
      range.from_ms = (from - 1) * out.precision_ms;
      range.to_ms = (from + width - 1) * out.precision_ms;
      for (auto it = pending_slots.lower_bound(from);
           it != pending_slots.end() && it->first < from + width; ++it) {
        range.entries += it->second;
      }
      if (range.entries > 0) out.pending_by_time.push_back(range);
    }
  }
  return out;
}

}  // namespace mqstore
