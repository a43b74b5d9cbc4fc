// Constants of the commit-log record layout. The layout itself is documented in
// docs/format/commitlog.md; keep the two in step (tests/mqstore/format/ checks golden bytes).
#ifndef MQSTORE_LOG_RECORD_FORMAT_H_
#define MQSTORE_LOG_RECORD_FORMAT_H_

#include <cstdint>

namespace mqstore::record {

inline constexpr int32_t kMagicV1 = static_cast<int32_t>(0xDAA320A7);
inline constexpr int32_t kMagicV2 = static_cast<int32_t>(0xDAA320AB);
inline constexpr int32_t kMagicBlank = static_cast<int32_t>(0xCBD43194);

// Fixed field positions (valid for every record: they precede the first host field).
inline constexpr int kTotalSizePos = 0;
inline constexpr int kMagicPos = 4;
inline constexpr int kBodyCrcPos = 8;
inline constexpr int kQueueIdPos = 12;
inline constexpr int kFlagPos = 16;
inline constexpr int kQueueOffsetPos = 20;
inline constexpr int kPhysicalOffsetPos = 28;
inline constexpr int kSysFlagPos = 36;
inline constexpr int kBornTimestampPos = 40;
inline constexpr int kBornHostPos = 48;

// A blank record closing a segment is this many bytes (size + magic); its TOTALSIZE covers
// the rest of the segment. An append never leaves fewer than this at a segment's end.
inline constexpr int kBlankHeaderSize = 8;

// Topics longer than this use the V2 magic (2-byte topic length).
inline constexpr int kMaxTopicLengthV1 = 127;
inline constexpr int kMaxTopicLength = 255;
inline constexpr int kMaxPropertiesLength = 32767;

// The whole-record CRC is the last property: "__CRC32#" 0x01 <10 digits> 0x02.
inline constexpr int kRecordCrcPropertySize = 20;
inline constexpr int kRecordCrcDigits = 10;

inline int HostSize(int32_t sys_flag, int32_t v6_bit) { return (sys_flag & v6_bit) ? 20 : 8; }

// Size of everything before BODYLENGTH for the given host kinds.
inline int HeaderSize(int born_host_size, int store_host_size) {
  return 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + born_host_size + 8 + store_host_size + 4 + 8;
}

}  // namespace mqstore::record

#endif  // MQSTORE_LOG_RECORD_FORMAT_H_
