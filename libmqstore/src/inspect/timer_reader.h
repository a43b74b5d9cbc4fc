// Reading the timer log (<store>/timer/log/, docs/format/timer.md) for the inspector without
// changing it: the segments mapped read-only, their headers decoded, entries addressed by
// log position as TimerLog addresses them, and the timer's committed progress as the
// metadata store holds it. TimerLog itself maps segments writable and creates the
// directory, so the inspector cannot use it.
//
// The format does not record the segment size (it is a scheduler option): the reader takes
// the first segment's file size, as the files are created at full size.
#ifndef MQSTORE_INSPECT_TIMER_READER_H_
#define MQSTORE_INSPECT_TIMER_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/mapped_store_file.h"
#include "mqstore/inspect.h"
#include "schedule/timer_log_format.h"

namespace mqstore {

struct TimerSegmentReader {
  const TimerLogFile* file = nullptr;
  std::shared_ptr<const MappedStoreFile> map;
  Status header_status;   // why the header does not decode; OK when it does
  TimerLogHeader header;  // meaningful when header_status is OK
};

class TimerLogReader {
 public:
  // Maps every segment of layout.timer_segments. Errors: kIOError only.
  static Result<TimerLogReader> Open(const StoreLayout& layout, FileCache* cache);

  const std::vector<TimerSegmentReader>& segments() const { return segments_; }
  // The first segment's file size; 0 without segments.
  uint64_t segment_bytes() const { return segment_bytes_; }
  // Whether segment_bytes() can address entries: a multiple of the entry size, of at least
  // two entries (what TimerLog::Open requires).
  bool addressable() const;
  // Precision of the first segment whose header decodes; 0 when none does.
  int64_t precision_ms() const { return precision_ms_; }

  // Entry slots of segment `i`: the whole entries after the header within both its file
  // and segment_bytes().
  size_t EntryCount(size_t i) const;
  // Log position of entry `n` (0-based) of segment `i`.
  int64_t EntryPosition(size_t i, size_t n) const {
    return segments_[i].file->base + static_cast<int64_t>((n + 1) * kTimerEntrySize);
  }
  std::string_view EntryBytes(size_t i, size_t n) const {
    return segments_[i].map->data().substr((n + 1) * kTimerEntrySize, kTimerEntrySize);
  }
  // The entry at log position `pos` when a segment holds an entry slot there.
  std::optional<std::string_view> EntryAt(int64_t pos) const;

  // First entry position (the first segment's); 0 without segments.
  int64_t start() const;
  // Where TimerLog::Open ends the log: at the first entry of the last segment that is not
  // valid (its end when all are). 0 without segments. REQUIRES: addressable().
  int64_t end() const { return end_; }

 private:
  std::vector<TimerSegmentReader> segments_;
  uint64_t segment_bytes_ = 0;
  int64_t precision_ms_ = 0;
  int64_t end_ = 0;
};

// Why the bytes of an entry that DecodeTimerEntry calls corrupt are: a CRC mismatch or an
// unknown type.
std::string DescribeBadTimerEntry(std::string_view bytes);

// TimerScheduler's committed progress (docs/format/timer.md, "Progress").
struct TimerProgress {
  // "timer-dequeue" exists; without it the next open starts afresh and removes the files.
  bool committed = false;
  int64_t log_end = 0;               // E, "timer-log" (0 when missing)
  int64_t next_queue_offset = 0;     // C, "timer-enqueue"
  int64_t delivered_through_ms = 0;  // "timer-dequeue" timestamp: (R - 1) * precision
  int64_t fired_in_slot = 0;         // k, "timer-dequeue" offset

  // R: the first slot not fully fired.
  int64_t ReadSlot(int64_t precision_ms) const;
};

// The timer's entries among the metadata store's schedule progress.
TimerProgress TimerProgressOf(const std::vector<ScheduleProgress>& schedule);

// StoreInspector::ReadTimerLog. `progress` is null when meta/ could not be read.
Result<TimerLogSummary> SummarizeTimerLog(const StoreLayout& layout, FileCache* cache,
                                          const TimerProgress* progress);

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_TIMER_READER_H_
