// The CommitLog test fixtures, shared by commit_log_test.cc (appends, segments, retention,
// the page cache) and commit_log_buffered_test.cc (the write buffer and zero-ahead of
// SYNC_FLUSH).
#ifndef MQSTORE_TESTS_MQSTORE_LOG_COMMIT_LOG_TEST_FIXTURE_H_
#define MQSTORE_TESTS_MQSTORE_LOG_COMMIT_LOG_TEST_FIXTURE_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "log/commit_log.h"
#include "log_test_util.h"
#include "mqstore/mem_env.h"
#include "support/test_util.h"

namespace mqstore::log_test {

inline constexpr uint64_t kSegment = 4096;
inline const std::string kRoot = "/store";

// Size of a record for MakeMessage(topic, q, body) without tags or keys.
inline size_t RecordSize(const std::string& topic, size_t body) {
  return 91 + body + topic.size() + 20;
}

class CommitLogTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(env_->CreateDir(kRoot)); }

  // A log with no data, as Store::Open makes one for a fresh directory.
  std::unique_ptr<CommitLog> NewLog(uint64_t segment = kSegment, Env* env = nullptr) {
    auto log = std::make_unique<CommitLog>(env ? env : env_.get(), kRoot, Options(segment));
    EXPECT_OK(log->Load());
    EXPECT_OK(log->TruncateTo(0, false));
    return log;
  }
  CommitLog::Options Options(uint64_t segment) { return TestLogOptions(segment, &clock_); }
  Result<AppendedRecord> Append(CommitLog* log, const std::string& topic, int32_t queue,
                                size_t body_size, int64_t* ts = nullptr) {
    return AppendOne(log, &offsets_, test::MakeMessage(topic, queue, std::string(body_size, 'b')),
                     kStoreHost, ts);
  }
  // The parsed record at `offset` (whose bytes stay mapped while `log` lives).
  static ParsedRecord RecordAt(const CommitLog& log, int64_t offset) {
    ParsedRecord r;
    auto seg = log.SegmentFor(offset);
    EXPECT_NE(seg, nullptr) << offset;
    if (!seg) return r;
    EXPECT_OK(
        ParseRecord(seg->View(static_cast<uint64_t>(offset - seg->base()), seg->size()), true, &r));
    return r;
  }

  std::unique_ptr<MemEnv> env_ = NewMemEnv();
  test::ManualClock clock_;
  QueueOffsetTable offsets_;
};

// Buffered write mode (SYNC_FLUSH): appends go to the write buffer, WriteOut moves them to
// the segment files, readers see only what was written out.
class CommitLogBufferedTest : public CommitLogTest {
 protected:
  std::unique_ptr<CommitLog> NewBufferedLog(uint64_t segment, uint64_t buffer) {
    CommitLog::Options o = Options(segment);
    o.write_buffer_bytes = buffer;
    auto log = std::make_unique<CommitLog>(env_.get(), kRoot, o);
    EXPECT_OK(log->Load());
    EXPECT_OK(log->TruncateTo(0, false));
    return log;
  }
  // Appends one message whose body names it, so that the scan can check every byte.
  Result<AppendedRecord> AppendNumbered(CommitLog* log, int i, size_t body_size) {
    std::string body = std::to_string(i) + ":";
    body.resize(std::max(body.size(), body_size), static_cast<char>('a' + i % 26));
    return AppendOne(log, &offsets_, test::MakeMessage("T", i % 3, body), kStoreHost);
  }
  // Every record of the log, checksums verified, is message 0, 1, 2, ... in order.
  void ExpectNumberedRecords(const CommitLog& log, int count) {
    auto scan = ScanLog(log);
    ASSERT_EQ(scan.records.size(), static_cast<size_t>(count));
    EXPECT_EQ(scan.end, log.appended());
    for (int i = 0; i < count; ++i) {
      ParsedRecord r = RecordAt(log, scan.records[static_cast<size_t>(i)].position);
      std::string body(r.body);
      EXPECT_EQ(body.substr(0, body.find(':')), std::to_string(i));
    }
  }
};

}  // namespace mqstore::log_test

#endif  // MQSTORE_TESTS_MQSTORE_LOG_COMMIT_LOG_TEST_FIXTURE_H_
