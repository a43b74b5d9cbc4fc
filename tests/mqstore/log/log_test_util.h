// Helpers shared by the tests of src/log/: encode one record, append messages to a
// CommitLog, and walk a log's segments the way recovery does.
#ifndef MQSTORE_TESTS_MQSTORE_LOG_LOG_TEST_UTIL_H_
#define MQSTORE_TESTS_MQSTORE_LOG_LOG_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "log/commit_log.h"
#include "log/queue_offset_table.h"
#include "log/record_codec.h"
#include "mqstore/message.h"
#include "mqstore/status.h"

namespace mqstore::log_test {

inline const SocketAddress kStoreHost = SocketAddress::V4(192, 168, 1, 10, 10911);

// A test's commit log: segments of `segment_bytes`, the test's clock, and no allocator work
// ahead of the appends (a test about that work sets prepare_ahead_bytes itself).
inline CommitLog::Options TestLogOptions(uint64_t segment_bytes, Clock* clock,
                                         const SocketAddress& store_host = kStoreHost) {
  CommitLog::Options o;
  o.segment_bytes = segment_bytes;
  o.store_host = store_host;
  o.clock = clock;
  o.prepare_ahead_bytes = 0;
  return o;
}

// The bytes of one record for `message`, as the commit log would write them.
inline Result<std::string> EncodeRecord(const MessageView& message, int64_t queue_offset = 0,
                                        int64_t physical_offset = 0,
                                        int64_t store_timestamp_ms = 1'700'000'000'123,
                                        const SocketAddress& store_host = kStoreHost) {
  PreparedRecord prepared;
  MQ_RETURN_IF_ERROR(PrepareRecord(message, store_host, 4u << 20, &prepared));
  std::string bytes(static_cast<size_t>(prepared.total_size), '\0');
  WriteRecord(prepared, store_host, queue_offset, physical_offset, store_timestamp_ms,
              bytes.data());
  return bytes;
}

// Prepares and appends `messages` as one batch.
inline Result<std::vector<AppendedRecord>> AppendBatch(CommitLog* log, QueueOffsetTable* offsets,
                                                       const std::vector<Message>& messages,
                                                       const SocketAddress& store_host,
                                                       int64_t* store_timestamp_ms = nullptr) {
  std::vector<std::string> props(messages.size());
  std::vector<MessageView> views;
  views.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) views.push_back(messages[i].View(&props[i]));
  std::vector<PreparedRecord> prepared(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    MQ_RETURN_IF_ERROR(PrepareRecord(views[i], store_host, 4u << 20, &prepared[i]));
  }
  std::vector<AppendedRecord> out(messages.size());
  int64_t ts = 0;
  MQ_RETURN_IF_ERROR(log->Append(prepared, offsets, out, &ts));
  if (store_timestamp_ms) *store_timestamp_ms = ts;
  return out;
}

inline Result<AppendedRecord> AppendOne(CommitLog* log, QueueOffsetTable* offsets,
                                        const Message& message, const SocketAddress& store_host,
                                        int64_t* store_timestamp_ms = nullptr) {
  MQ_ASSIGN_OR_RETURN(auto out,
                      AppendBatch(log, offsets, {message}, store_host, store_timestamp_ms));
  return out[0];
}

// One record found by ScanLog; the topic is copied out of the mapping.
struct ScannedRecord {
  int64_t position = 0;  // where the record was found
  RecordSummary summary;
  std::string topic;
};

// What ScanLog saw: the records in log order and where the walk stopped.
struct LogScan {
  std::vector<ScannedRecord> records;
  std::vector<int64_t> blanks;  // positions of end-of-segment blank headers
  int64_t end = 0;              // first position that is not a record or a blank
};

// Walks every segment from the first, checking each position with CheckRecord. Stops at the
// first kEnd; a blank moves to the next segment.
inline LogScan ScanLog(const CommitLog& log, bool verify_checksums = true) {
  LogScan scan;
  auto segments = log.Segments();
  if (segments.empty()) return scan;
  scan.end = segments.front()->base();
  for (const auto& seg : segments) {
    if (seg->base() != scan.end) return scan;
    uint64_t pos = 0;
    while (true) {
      RecordSummary summary;
      RecordCheck check = CheckRecord(seg->View(pos, seg->size()), verify_checksums, &summary);
      if (check == RecordCheck::kEnd) {
        scan.end = seg->base() + static_cast<int64_t>(pos);
        return scan;
      }
      if (check == RecordCheck::kBlank) {
        scan.blanks.push_back(seg->base() + static_cast<int64_t>(pos));
        scan.end = seg->end();
        break;
      }
      scan.records.push_back(
          {seg->base() + static_cast<int64_t>(pos), summary, std::string(summary.topic)});
      pos += static_cast<uint64_t>(summary.total_size);
    }
  }
  return scan;
}

}  // namespace mqstore::log_test

#endif  // MQSTORE_TESTS_MQSTORE_LOG_LOG_TEST_UTIL_H_
