// Encoding of commit-log records (docs/format/commitlog.md).
//
// An append is split in two so that the global append lock is held only for the part that
// needs the final offsets: PrepareRecord (validation, sizes, body CRC) runs before the lock,
// WriteRecord (copy into the mapping, offsets, timestamp, whole-record CRC) runs inside it.
#ifndef MQSTORE_LOG_RECORD_CODEC_H_
#define MQSTORE_LOG_RECORD_CODEC_H_

#include <cstdint>
#include <string_view>

#include "mqstore/message.h"
#include "mqstore/status.h"

namespace mqstore {

struct PreparedRecord {
  const MessageView* message = nullptr;
  int32_t total_size = 0;
  int32_t sys_flag = 0;
  uint32_t body_crc = 0;  // masked, as stored
  uint32_t body_crc_unmasked = 0;
  bool v2 = false;
  bool needs_separator = false;  // caller's properties lack a trailing 0x02
  int32_t properties_size = 0;   // stored properties, CRC pair included
  int64_t tags_code = 0;
  bool gets_queue_offset = true;  // false for prepared / rollback transaction records
};

// Checks `message` against RocketMQ's rules and fills `out`. kInvalidArgument names the
// violated rule. Nothing is written.
Status PrepareRecord(const MessageView& message, const SocketAddress& store_host,
                     uint32_t max_body_bytes, PreparedRecord* out);

// Writes the record described by `prepared` at `dst` (exactly prepared.total_size bytes).
void WriteRecord(const PreparedRecord& prepared, const SocketAddress& store_host,
                 int64_t queue_offset, int64_t physical_offset, int64_t store_timestamp_ms,
                 char* dst);

// Writes the 8-byte blank header that declares the last `remaining` bytes of a segment empty.
void WriteBlankRecord(int32_t remaining, char* dst);

// ValidateTopic and TagsHashCode are public: mqstore/message.h.

// What the dispatcher and recovery need from a record without a full parse.
struct RecordSummary {
  int32_t total_size = 0;
  bool blank = false;
  std::string_view topic;
  int32_t queue_id = 0;
  int64_t queue_offset = 0;
  int64_t physical_offset = 0;
  int32_t sys_flag = 0;
  int64_t store_timestamp_ms = 0;
  int64_t tags_code = 0;
  std::string_view properties;  // encoded (name 0x01 value 0x02)*
};

// Outcome of looking at the bytes at one log position.
enum class RecordCheck {
  kRecord,     // a complete, well-formed record (checksums verified if asked)
  kBlank,      // an end-of-segment blank header
  kEnd,        // zeros, garbage, a torn record or too few bytes: the log ends here
};

// Examines the bytes at the start of `bytes` (the rest of a segment). With
// `verify_checksums`, a record counts only when both CRCs match. `*problem` (optional)
// receives why the position is kEnd.
RecordCheck CheckRecord(std::string_view bytes, bool verify_checksums, RecordSummary* out,
                        std::string* problem = nullptr);

// Whether records with this sysflag get a queue offset and a consume-queue entry.
inline bool GetsQueueOffset(int32_t sys_flag) {
  int32_t t = sys_flag & sysflag::kTransactionMask;
  return t != sysflag::kTransactionPrepared && t != sysflag::kTransactionRollback;
}

}  // namespace mqstore

#endif  // MQSTORE_LOG_RECORD_CODEC_H_
