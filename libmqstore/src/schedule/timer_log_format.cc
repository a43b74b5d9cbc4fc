#include "schedule/timer_log_format.h"

#include <cstring>
#include <string>

#include "mqstore/coding.h"
#include "util/crc32.h"

namespace mqstore {
namespace {
// Entry field offsets.
constexpr size_t kEntryCrc = 0;
constexpr size_t kEntryType = 4;
constexpr size_t kEntrySlot = 8;
constexpr size_t kEntryPrev = 16;
constexpr size_t kEntryDeliverMs = 24;
constexpr size_t kEntryCommitLogOffset = 32;
constexpr size_t kEntryRecordSize = 40;
// Header field offsets.
constexpr size_t kHeaderMagic = 0;
constexpr size_t kHeaderVersion = 4;
constexpr size_t kHeaderBase = 8;
constexpr size_t kHeaderPrecision = 16;
constexpr size_t kHeaderEntrySize = 24;
constexpr size_t kHeaderCrc = 44;
}  // namespace

void EncodeTimerEntry(const TimerEntry& entry, char* dst) {
  std::memset(dst, 0, kTimerEntrySize);
  dst[kEntryType] = static_cast<char>(entry.type);
  EncodeBig64(dst + kEntrySlot, static_cast<uint64_t>(entry.slot));
  EncodeBig64(dst + kEntryPrev, static_cast<uint64_t>(entry.prev));
  EncodeBig64(dst + kEntryDeliverMs, static_cast<uint64_t>(entry.deliver_ms));
  EncodeBig64(dst + kEntryCommitLogOffset, static_cast<uint64_t>(entry.commit_log_offset));
  EncodeBig32(dst + kEntryRecordSize, static_cast<uint32_t>(entry.record_size));
  EncodeBig32(dst + kEntryCrc, crc32::Value(dst + 4, kTimerEntrySize - 4));
}

TimerEntryState DecodeTimerEntry(const char* src, TimerEntry* out) {
  uint32_t stored_crc = DecodeBig32(src + kEntryCrc);
  uint8_t type = static_cast<uint8_t>(src[kEntryType]);
  if (stored_crc == 0 && type == 0) {
    bool all_zero = true;
    for (size_t i = 0; i < kTimerEntrySize && all_zero; ++i) all_zero = src[i] == 0;
    if (all_zero) return TimerEntryState::kUnused;
  }
  if (stored_crc != crc32::Value(src + 4, kTimerEntrySize - 4)) {
    return TimerEntryState::kCorrupt;
  }
  if (type != static_cast<uint8_t>(TimerEntryType::kDeliver) &&
      type != static_cast<uint8_t>(TimerEntryType::kRoll)) {
    return TimerEntryState::kCorrupt;
  }
  out->type = static_cast<TimerEntryType>(type);
  out->slot = static_cast<int64_t>(DecodeBig64(src + kEntrySlot));
  out->prev = static_cast<int64_t>(DecodeBig64(src + kEntryPrev));
  out->deliver_ms = static_cast<int64_t>(DecodeBig64(src + kEntryDeliverMs));
  out->commit_log_offset = static_cast<int64_t>(DecodeBig64(src + kEntryCommitLogOffset));
  out->record_size = static_cast<int32_t>(DecodeBig32(src + kEntryRecordSize));
  return TimerEntryState::kValid;
}

void EncodeTimerLogHeader(const TimerLogHeader& header, char* dst) {
  std::memset(dst, 0, kTimerEntrySize);
  EncodeBig32(dst + kHeaderMagic, kTimerLogMagic);
  EncodeBig32(dst + kHeaderVersion, kTimerLogVersion);
  EncodeBig64(dst + kHeaderBase, static_cast<uint64_t>(header.base));
  EncodeBig64(dst + kHeaderPrecision, static_cast<uint64_t>(header.precision_ms));
  EncodeBig32(dst + kHeaderEntrySize, static_cast<uint32_t>(kTimerEntrySize));
  EncodeBig32(dst + kHeaderCrc, crc32::Value(dst, kHeaderCrc));
}

Status DecodeTimerLogHeader(const char* src, TimerLogHeader* out) {
  if (DecodeBig32(src + kHeaderMagic) != kTimerLogMagic) {
    return Status::Corruption("timer log segment has no MQTL magic");
  }
  if (DecodeBig32(src + kHeaderCrc) != crc32::Value(src, kHeaderCrc)) {
    return Status::Corruption("timer log segment header CRC mismatch");
  }
  uint32_t version = DecodeBig32(src + kHeaderVersion);
  if (version != kTimerLogVersion) {
    return Status::Corruption("timer log segment version " + std::to_string(version) +
                              " (this build reads " + std::to_string(kTimerLogVersion) + ")");
  }
  uint32_t entry_size = DecodeBig32(src + kHeaderEntrySize);
  if (entry_size != kTimerEntrySize) {
    return Status::Corruption("timer log entry size " + std::to_string(entry_size));
  }
  out->base = static_cast<int64_t>(DecodeBig64(src + kHeaderBase));
  out->precision_ms = static_cast<int64_t>(DecodeBig64(src + kHeaderPrecision));
  return Status::OK();
}

}  // namespace mqstore
