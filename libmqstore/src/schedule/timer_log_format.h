// Byte layout of the timer log (docs/format/timer.md): a segment header and 48-byte
// entries, big-endian, each with a CRC-32. Shared by TimerLog (writer and reader) and the
// golden-bytes test.
#ifndef MQSTORE_SCHEDULE_TIMER_LOG_FORMAT_H_
#define MQSTORE_SCHEDULE_TIMER_LOG_FORMAT_H_

#include <cstddef>
#include <cstdint>

#include "mqstore/status.h"

namespace mqstore {

// Every entry and the segment header are this long; segments are multiples of it.
inline constexpr size_t kTimerEntrySize = 48;
inline constexpr uint32_t kTimerLogMagic = 0x4D51544C;  // "MQTL"
inline constexpr uint32_t kTimerLogVersion = 1;
// "No previous entry" in TimerEntry::prev.
inline constexpr int64_t kNoTimerEntry = -1;

enum class TimerEntryType : uint8_t {
  // Type 0 is never written: an all-zero entry is unused (preallocated) space.
  kDeliver = 1,  // deliver the message when the slot fires
  kRoll = 2,     // parked at the far edge of the wheel; link again when the slot fires
};

// One timer: a parked message (by commit-log position) linked into a wheel slot.
struct TimerEntry {
  TimerEntryType type = TimerEntryType::kDeliver;
  // The wheel slot (time / precision) the entry is linked into.
  int64_t slot = 0;
  // Log position of the previous entry of the same slot, or kNoTimerEntry.
  int64_t prev = kNoTimerEntry;
  // The delivery time asked for (TIMER_OUT_MS), epoch ms.
  int64_t deliver_ms = 0;
  // Where the parked record starts in the commit log, and its size.
  int64_t commit_log_offset = 0;
  int32_t record_size = 0;

  bool operator==(const TimerEntry&) const = default;
};

// The first kTimerEntrySize bytes of every segment.
struct TimerLogHeader {
  int64_t base = 0;          // log position of the segment's first byte (its name)
  int64_t precision_ms = 0;  // what one slot is; entries are meaningless under another
  bool operator==(const TimerLogHeader&) const = default;
};

// Writes kTimerEntrySize bytes to `dst`.
void EncodeTimerEntry(const TimerEntry& entry, char* dst);
enum class TimerEntryState { kValid, kUnused, kCorrupt };
// kUnused for all-zero bytes; kCorrupt for a CRC mismatch or an unknown type.
TimerEntryState DecodeTimerEntry(const char* src, TimerEntry* out);

void EncodeTimerLogHeader(const TimerLogHeader& header, char* dst);
// kCorruption names what is wrong (magic, version, entry size, CRC).
Status DecodeTimerLogHeader(const char* src, TimerLogHeader* out);

}  // namespace mqstore

#endif  // MQSTORE_SCHEDULE_TIMER_LOG_FORMAT_H_
