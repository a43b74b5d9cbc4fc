// TimerLog: the append-only file of timer entries behind the timing wheel
// (docs/format/timer.md).
//
//   <dir>/00000000000000000000   segment: [header][entry][entry]...[zeros]
//   <dir>/00000000000050331648   next segment, named by its first log position
//
// Entries are addressed by log position (byte offset in an endless log); a segment holds
// `segment_bytes` of it, the first kTimerEntrySize bytes being its header, and is named
// by its base position. Segments are created full size (MappedFile), written through the
// mapping and made durable by Sync(). Only whole segments are removed, from the front.
//
// The log is derived data: the scheduler records the end it has made durable next to its
// committed progress and cuts the log back to it after a crash (TruncateTo); when the files
// are missing or damaged it discards them and rebuilds from the timer topic.
//
// Thread safety: none (owned by one TimerScheduler).
#ifndef MQSTORE_SCHEDULE_TIMER_LOG_H_
#define MQSTORE_SCHEDULE_TIMER_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mqstore/env.h"
#include "mqstore/status.h"
#include "schedule/timer_log_format.h"
#include "util/mapped_file.h"

namespace mqstore {

class TimerLog {
 public:
  // Opens the segments in `dir` (created when missing). Checks that every segment has the
  // right size and header (same precision) and that they are contiguous. The end is where
  // the last segment's entries stop (TruncateTo sets it from committed progress).
  // REQUIRES: segment_bytes is a multiple of kTimerEntrySize and at least two entries.
  // Errors: kCorruption (names the file), kIOError.
  static Result<std::unique_ptr<TimerLog>> Open(Env* env, const std::string& dir,
                                                uint64_t segment_bytes, int64_t precision_ms);

  // Removes every segment file in `dir` without opening them (for damaged files).
  static Status Destroy(Env* env, const std::string& dir);

  // First entry position; == end() when the log holds no entry.
  int64_t start() const;
  // Position after the last entry.
  int64_t end() const { return end_; }
  uint64_t segment_bytes() const { return segment_bytes_; }
  // Base position of the segment that holds `pos`.
  int64_t SegmentBaseOf(int64_t pos) const {
    return pos / static_cast<int64_t>(segment_bytes_) * static_cast<int64_t>(segment_bytes_);
  }
  // The entry position after `pos` (skipping the next segment's header).
  int64_t NextPosition(int64_t pos) const {
    int64_t next = pos + static_cast<int64_t>(kTimerEntrySize);
    return next % static_cast<int64_t>(segment_bytes_) == 0
               ? next + static_cast<int64_t>(kTimerEntrySize)
               : next;
  }
  // Base positions of the segments, oldest first.
  std::vector<int64_t> SegmentBases() const;

  // Appends `entry`; returns its position.
  Result<int64_t> Append(const TimerEntry& entry);
  // The entry at `pos`. kOutOfRange outside [start(), end()); kCorruption for a bad CRC,
  // an unused (zero) entry, or a position that is not an entry boundary.
  Status Read(int64_t pos, TimerEntry* out) const;

  // Makes every entry appended so far durable.
  Status Sync();
  // Cuts the log at `end`: zeroes the rest of its segment (synced) and removes the
  // segments after it. end == 0 removes everything. kCorruption when the segments do not
  // reach `end` or `end` is not an entry boundary.
  Status TruncateTo(int64_t end);
  // Removes the oldest segment. REQUIRES: more than one segment.
  Status RemoveFirstSegment();
  // Removes every segment; the next Append starts again at position 0.
  Status RemoveAll();

 private:
  TimerLog(Env* env, std::string dir, uint64_t segment_bytes, int64_t precision_ms)
      : env_(env),
        dir_(std::move(dir)),
        segment_bytes_(segment_bytes),
        precision_ms_(precision_ms) {}

  std::string SegmentPath(int64_t base) const;
  MappedFile* SegmentFor(int64_t pos) const;
  Status AddSegment(int64_t base);

  Env* env_;
  std::string dir_;
  uint64_t segment_bytes_;
  int64_t precision_ms_;
  std::vector<std::shared_ptr<MappedFile>> segments_;  // contiguous, oldest first
  int64_t end_ = 0;
  int64_t synced_ = 0;  // everything below is durable
};

}  // namespace mqstore

#endif  // MQSTORE_SCHEDULE_TIMER_LOG_H_
