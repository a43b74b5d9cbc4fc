#include "log/commit_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "commit_log_test_fixture.h"
#include "log/record_format.h"
#include "log_test_util.h"
#include "mqstore/coding.h"
#include "support/forwarding_env.h"
#include "support/test_util.h"
#include "util/filename.h"

namespace mqstore {
namespace {

using log_test::AppendBatch;
using log_test::AppendOne;
using log_test::CommitLogTest;
using log_test::kRoot;
using log_test::kSegment;
using log_test::kStoreHost;
using log_test::RecordSize;
using log_test::ScanLog;
using test::MakeMessage;

TEST_F(CommitLogTest, AppendsAssignContiguousPhysicalOffsets) {
  auto log = NewLog();
  EXPECT_EQ(log->appended(), 0);
  int64_t expected = 0;
  for (size_t body : {0, 1, 50, 300, 7}) {
    ASSERT_OK_AND_ASSIGN(AppendedRecord rec, Append(log.get(), "TopicA", 0, body));
    EXPECT_EQ(rec.physical_offset, expected);
    EXPECT_EQ(rec.size, static_cast<int32_t>(RecordSize("TopicA", body)));
    EXPECT_EQ(RecordAt(*log, expected).physical_offset, expected);
    expected += rec.size;
    EXPECT_EQ(log->appended(), expected);
  }
  auto scan = ScanLog(*log);
  EXPECT_EQ(scan.records.size(), 5u);
  EXPECT_EQ(scan.end, expected);
}

TEST_F(CommitLogTest, QueueOffsetsAreContiguousPerTopicAndQueue) {
  auto log = NewLog(16384);
  std::map<std::pair<std::string, int32_t>, int64_t> next;
  const std::pair<std::string, int32_t> keys[] = {{"A", 0}, {"A", 1}, {"B", 0}};
  for (int i = 0; i < 30; ++i) {
    const auto& key = keys[(i * 7) % 3];
    ASSERT_OK_AND_ASSIGN(AppendedRecord rec, Append(log.get(), key.first, key.second, 10));
    EXPECT_EQ(rec.queue_offset, next[key]++) << key.first << "/" << key.second;
    EXPECT_EQ(RecordAt(*log, rec.physical_offset).queue_offset, rec.queue_offset);
  }
  for (const auto& [key, n] : next) EXPECT_EQ(*offsets_.Slot(key.first, key.second), n);
}

TEST_F(CommitLogTest, PreparedAndRollbackRecordsTakeNoQueueOffset) {
  auto log = NewLog();
  ASSERT_OK(Append(log.get(), "T", 0, 1).status());
  for (int32_t type : {sysflag::kTransactionPrepared, sysflag::kTransactionRollback}) {
    Message m = MakeMessage("T", 0, "half");
    m.sys_flag = type;
    ASSERT_OK_AND_ASSIGN(AppendedRecord rec, AppendOne(log.get(), &offsets_, m, kStoreHost));
    EXPECT_EQ(rec.queue_offset, 0);
  }
  ASSERT_OK_AND_ASSIGN(AppendedRecord rec, Append(log.get(), "T", 0, 1));
  EXPECT_EQ(rec.queue_offset, 1);
}

TEST_F(CommitLogTest, BatchIsContiguousWithOneTimestamp) {
  auto log = NewLog();
  ASSERT_OK(Append(log.get(), "T", 0, 5).status());
  std::vector<Message> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(MakeMessage("T", 0, std::string(10 + i, 'x')));
  int64_t ts = 0;
  ASSERT_OK_AND_ASSIGN(auto out, AppendBatch(log.get(), &offsets_, batch, kStoreHost, &ts));
  EXPECT_EQ(ts, clock_.NowMillis());
  for (size_t i = 0; i < out.size(); ++i) {
    if (i > 0) {
      EXPECT_EQ(out[i].physical_offset, out[i - 1].physical_offset + out[i - 1].size);
    }
    EXPECT_EQ(out[i].queue_offset, static_cast<int64_t>(i) + 1);
    ParsedRecord r = RecordAt(*log, out[i].physical_offset);
    EXPECT_EQ(r.store_timestamp_ms, ts);
    EXPECT_EQ(r.body, batch[i].body);
  }
}

TEST_F(CommitLogTest, RolloverWritesABlankAndStartsTheNextSegment) {
  auto log = NewLog();
  std::vector<AppendedRecord> recs;
  while (log->Segments().size() < 3) {
    ASSERT_OK_AND_ASSIGN(AppendedRecord rec, Append(log.get(), "TopicA", 0, 300));
    recs.push_back(rec);
  }
  // Every record lies inside one segment; the first of a segment starts at its base.
  for (size_t i = 1; i < recs.size(); ++i) {
    int64_t prev_end = recs[i - 1].physical_offset + recs[i - 1].size;
    int64_t seg_base =
        recs[i].physical_offset / static_cast<int64_t>(kSegment) * static_cast<int64_t>(kSegment);
    EXPECT_LE(recs[i].physical_offset + recs[i].size, seg_base + static_cast<int64_t>(kSegment));
    if (recs[i].physical_offset != prev_end) {
      EXPECT_EQ(recs[i].physical_offset % static_cast<int64_t>(kSegment), 0);
      // The gap is one blank header covering the rest of the previous segment.
      auto prev = log->SegmentFor(prev_end);
      std::string_view rest = prev->View(static_cast<uint64_t>(prev_end - prev->base()), kSegment);
      EXPECT_EQ(DecodeBig32(rest.data()), rest.size());
      EXPECT_EQ(static_cast<int32_t>(DecodeBig32(rest.data() + 4)), record::kMagicBlank);
    }
  }
  auto scan = ScanLog(*log);
  EXPECT_EQ(scan.records.size(), recs.size());
  EXPECT_EQ(scan.blanks.size(), 2u);
  EXPECT_EQ(scan.end, log->appended());
  EXPECT_EQ(log->Segments()[1]->base(), static_cast<int64_t>(kSegment));
  EXPECT_TRUE(env_->FileExists(filename::CommitLogSegment(kRoot, 2 * kSegment)));
}

TEST_F(CommitLogTest, RecordLeavingExactlyABlankHeaderFits) {
  auto log = NewLog();
  ASSERT_OK_AND_ASSIGN(auto first, Append(log.get(), "T", 0, kSegment - 8 - RecordSize("T", 0)));
  EXPECT_EQ(first.physical_offset, 0);
  EXPECT_EQ(log->appended(), static_cast<int64_t>(kSegment) - 8);
  ASSERT_OK_AND_ASSIGN(auto second, Append(log.get(), "T", 0, 1));
  EXPECT_EQ(second.physical_offset, static_cast<int64_t>(kSegment));
  auto scan = ScanLog(*log);
  ASSERT_EQ(scan.blanks.size(), 1u);
  EXPECT_EQ(scan.blanks[0], static_cast<int64_t>(kSegment) - 8);
}

TEST_F(CommitLogTest, RecordLeavingLessThanABlankHeaderMovesOn) {
  auto log = NewLog();
  ASSERT_OK(Append(log.get(), "T", 0, 1).status());
  int64_t pos = log->appended();
  size_t body = kSegment - static_cast<size_t>(pos) - 7 - RecordSize("T", 0);
  ASSERT_OK_AND_ASSIGN(auto rec, Append(log.get(), "T", 0, body));
  EXPECT_EQ(rec.physical_offset, static_cast<int64_t>(kSegment));
  EXPECT_EQ(ScanLog(*log).blanks, std::vector<int64_t>{pos});
}

TEST_F(CommitLogTest, BatchBiggerThanASegmentChangesNothing) {
  auto log = NewLog();
  ASSERT_OK(Append(log.get(), "T", 0, 100).status());
  int64_t appended = log->appended();
  size_t files = env_->FileCount();
  std::vector<Message> batch;
  for (int i = 0; i < 4; ++i) batch.push_back(MakeMessage("T", 0, std::string(1000, 'x')));
  auto r = AppendBatch(log.get(), &offsets_, batch, kStoreHost);
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  // A single record that fills the segment to the last byte does not fit either.
  auto whole = Append(log.get(), "T", 0, kSegment - RecordSize("T", 0));
  EXPECT_TRUE(whole.status().IsInvalidArgument()) << whole.status().ToString();
  EXPECT_EQ(log->appended(), appended);
  EXPECT_EQ(*offsets_.Slot("T", 0), 1);
  EXPECT_EQ(env_->FileCount(), files);
  EXPECT_EQ(log->Segments().size(), 1u);
  EXPECT_EQ(ScanLog(*log).records.size(), 1u);
}

TEST_F(CommitLogTest, StoreTimestampsNeverGoBackwards) {
  auto log = NewLog();
  int64_t t0 = clock_.NowMillis();
  int64_t ts = 0;
  ASSERT_OK(Append(log.get(), "T", 0, 1, &ts).status());
  EXPECT_EQ(ts, t0);
  clock_.Set(t0 - 60'000);
  ASSERT_OK_AND_ASSIGN(auto rec, Append(log.get(), "T", 0, 1, &ts));
  EXPECT_EQ(ts, t0);
  EXPECT_EQ(RecordAt(*log, rec.physical_offset).store_timestamp_ms, t0);
  clock_.Set(t0 + 5);
  ASSERT_OK(Append(log.get(), "T", 0, 1, &ts).status());
  EXPECT_EQ(ts, t0 + 5);
}

TEST_F(CommitLogTest, ReopenLoadsTheSegments) {
  int64_t end = 0;
  {
    auto log = NewLog();
    while (log->Segments().size() < 3) ASSERT_OK(Append(log.get(), "T", 0, 500).status());
    end = log->appended();
  }
  CommitLog log(env_.get(), kRoot, Options(kSegment));
  ASSERT_OK(log.Load());
  auto segments = log.Segments();
  ASSERT_EQ(segments.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(segments[i]->base(), static_cast<int64_t>(i * kSegment));
  EXPECT_EQ(log.min_offset(), 0);
  auto scan = ScanLog(log);
  EXPECT_EQ(scan.end, end);
  // Recovery sets the end; appends continue from there.
  ASSERT_OK(log.TruncateTo(scan.end, false));
  ASSERT_OK_AND_ASSIGN(auto rec,
                       AppendOne(&log, &offsets_, MakeMessage("T", 0, "more"), kStoreHost));
  EXPECT_EQ(rec.physical_offset, end);
  EXPECT_EQ(ScanLog(log).records.size(), scan.records.size() + 1);
}

TEST_F(CommitLogTest, LoadIgnoresOtherNamesAndStartsEmpty) {
  ASSERT_OK(env_->CreateDir(filename::CommitLogDir(kRoot)));
  ASSERT_OK(
      env_->OpenFile(filename::CommitLogDir(kRoot) + "/notes.txt", OpenMode::kCreate).status());
  CommitLog log(env_.get(), kRoot, Options(kSegment));
  ASSERT_OK(log.Load());
  EXPECT_TRUE(log.Segments().empty());
  EXPECT_EQ(log.SegmentFor(0), nullptr);
}

TEST_F(CommitLogTest, LoadRejectsAGap) {
  ASSERT_OK(env_->CreateDir(filename::CommitLogDir(kRoot)));
  for (int64_t base : {int64_t{0}, int64_t{2 * kSegment}}) {
    ASSERT_OK(
        MappedFile::Create(env_.get(), filename::CommitLogSegment(kRoot, base), base, kSegment)
            .status());
  }
  CommitLog log(env_.get(), kRoot, Options(kSegment));
  Status s = log.Load();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST_F(CommitLogTest, LoadRejectsAMisalignedName) {
  ASSERT_OK(env_->CreateDir(filename::CommitLogDir(kRoot)));
  ASSERT_OK(MappedFile::Create(env_.get(), filename::CommitLogSegment(kRoot, 100), 100, kSegment)
                .status());
  CommitLog log(env_.get(), kRoot, Options(kSegment));
  Status s = log.Load();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST_F(CommitLogTest, LoadRejectsAnotherSegmentSize) {
  {
    auto log = NewLog();
    while (log->Segments().size() < 2) ASSERT_OK(Append(log.get(), "T", 0, 500).status());
  }
  size_t files = env_->FileCount();
  CommitLog bigger(env_.get(), kRoot, Options(2 * kSegment));
  Status s = bigger.Load();
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(env_->FileCount(), files) << "a rejected Load removed files";
}

TEST_F(CommitLogTest, LoadRejectsAWrongSizedMiddleSegment) {
  std::string dir = filename::CommitLogDir(kRoot);
  ASSERT_OK(env_->CreateDir(dir));
  for (int64_t i = 0; i < 3; ++i) {
    ASSERT_OK(MappedFile::Create(env_.get(), filename::CommitLogSegment(kRoot, i * kSegment),
                                 i * kSegment, i == 1 ? kSegment / 2 : kSegment)
                  .status());
  }
  CommitLog log(env_.get(), kRoot, Options(kSegment));
  EXPECT_FALSE(log.Load().ok());
  EXPECT_TRUE(env_->FileExists(filename::CommitLogSegment(kRoot, kSegment)));
}

// Regression test (fixed bug): commit_log.h:56 documents kCorruption for "a segment other than the
// last has the wrong size" and kInvalidArgument only for a store made with another segment size,
// but CommitLog::Load (commit_log.cc:49) returns kInvalidArgument for any wrong-sized segment, with
// a message blaming commitlog_segment_bytes even when the first segment has the right size and only
// a middle one is damaged.
TEST_F(CommitLogTest, WrongSizedMiddleSegmentIsCorruption) {
  std::string dir = filename::CommitLogDir(kRoot);
  ASSERT_OK(env_->CreateDir(dir));
  for (int64_t i = 0; i < 3; ++i) {
    ASSERT_OK(MappedFile::Create(env_.get(), filename::CommitLogSegment(kRoot, i * kSegment),
                                 i * kSegment, i == 1 ? kSegment / 2 : kSegment)
                  .status());
  }
  CommitLog log(env_.get(), kRoot, Options(kSegment));
  Status s = log.Load();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST_F(CommitLogTest, LoadRemovesAHalfCreatedLastSegment) {
  std::string dir = filename::CommitLogDir(kRoot);
  ASSERT_OK(env_->CreateDir(dir));
  ASSERT_OK(
      MappedFile::Create(env_.get(), filename::CommitLogSegment(kRoot, 0), 0, kSegment).status());
  ASSERT_OK_AND_ASSIGN(
      auto partial, env_->OpenFile(filename::CommitLogSegment(kRoot, kSegment), OpenMode::kCreate));
  ASSERT_OK(partial->Allocate(100));
  CommitLog log(env_.get(), kRoot, Options(kSegment));
  ASSERT_OK(log.Load());
  EXPECT_EQ(log.Segments().size(), 1u);
  EXPECT_FALSE(env_->FileExists(filename::CommitLogSegment(kRoot, kSegment)));
}

TEST_F(CommitLogTest, TruncateToRemovesLaterSegmentsAndZerosTheTail) {
  auto log = NewLog();
  std::vector<AppendedRecord> recs;
  while (log->Segments().size() < 3) {
    ASSERT_OK_AND_ASSIGN(auto rec, Append(log.get(), "T", 0, 200));
    recs.push_back(rec);
  }
  int64_t cut = recs[2].physical_offset;
  ASSERT_LT(cut, static_cast<int64_t>(kSegment));
  ASSERT_OK(log->TruncateTo(cut, true));
  EXPECT_EQ(log->appended(), cut);
  ASSERT_EQ(log->Segments().size(), 1u);
  EXPECT_FALSE(env_->FileExists(filename::CommitLogSegment(kRoot, kSegment)));
  EXPECT_FALSE(env_->FileExists(filename::CommitLogSegment(kRoot, 2 * kSegment)));
  std::string_view tail = log->Segments()[0]->View(static_cast<uint64_t>(cut), kSegment);
  EXPECT_TRUE(std::all_of(tail.begin(), tail.end(), [](char c) { return c == '\0'; }));
  EXPECT_EQ(ScanLog(*log).records.size(), 2u);
  // The removal and the zeros are durable.
  auto crashed = env_->CrashCopy({});
  EXPECT_FALSE(crashed->FileExists(filename::CommitLogSegment(kRoot, kSegment)));
  // Appends continue at the cut (queue offsets belong to the caller's table).
  ASSERT_OK_AND_ASSIGN(auto next, Append(log.get(), "T", 0, 1));
  EXPECT_EQ(next.physical_offset, cut);
}

TEST_F(CommitLogTest, TruncateToKeepsASegmentStartingAtTheCut) {
  auto log = NewLog();
  while (log->Segments().size() < 2) ASSERT_OK(Append(log.get(), "T", 0, 300).status());
  ASSERT_OK(log->TruncateTo(static_cast<int64_t>(kSegment), false));
  EXPECT_EQ(log->Segments().size(), 2u);
  ASSERT_OK_AND_ASSIGN(auto rec, Append(log.get(), "T", 0, 1));
  EXPECT_EQ(rec.physical_offset, static_cast<int64_t>(kSegment));
  ASSERT_OK(log->TruncateTo(static_cast<int64_t>(kSegment) - 1, false));
  EXPECT_EQ(log->Segments().size(), 1u);
}

TEST_F(CommitLogTest, TruncateToTheEndOfTheLastSegmentStartsANewOneOnAppend) {
  auto log = NewLog();
  ASSERT_OK(Append(log.get(), "T", 0, 1).status());
  ASSERT_OK(log->TruncateTo(static_cast<int64_t>(kSegment), false));
  EXPECT_EQ(log->Segments().size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto rec, Append(log.get(), "T", 0, 1));
  EXPECT_EQ(rec.physical_offset, static_cast<int64_t>(kSegment));
  ASSERT_EQ(log->Segments().size(), 2u);
  EXPECT_EQ(log->Segments()[1]->base(), static_cast<int64_t>(kSegment));
}

TEST_F(CommitLogTest, SegmentForFindsTheHoldingSegment) {
  auto log = NewLog();
  while (log->Segments().size() < 3) ASSERT_OK(Append(log.get(), "T", 0, 700).status());
  const int64_t s = static_cast<int64_t>(kSegment);
  EXPECT_EQ(log->SegmentFor(-1), nullptr);
  EXPECT_EQ(log->SegmentFor(0)->base(), 0);
  EXPECT_EQ(log->SegmentFor(s - 1)->base(), 0);
  EXPECT_EQ(log->SegmentFor(s)->base(), s);
  EXPECT_EQ(log->SegmentFor(2 * s + 10)->base(), 2 * s);
  EXPECT_EQ(log->SegmentFor(3 * s - 1)->base(), 2 * s);
  EXPECT_EQ(log->SegmentFor(3 * s), nullptr);
  EXPECT_EQ(log->segment_bytes(), kSegment);
}

TEST_F(CommitLogTest, FullDiskAtRolloverLeavesTheLogAsItWas) {
  env_->SetCapacity(kSegment + 100);
  auto log = NewLog();
  while (true) {
    int64_t before = log->appended();
    auto rec = Append(log.get(), "T", 0, 500);
    if (rec.ok()) continue;
    EXPECT_TRUE(rec.status().IsResourceExhausted()) << rec.status().ToString();
    EXPECT_EQ(log->appended(), before);
    // The failed append let go of the lock, and says so (a broker would refuse sends).
    EXPECT_EQ(log->AppendLockHeldMs(INT64_MAX / 2), 0);
    std::string_view rest = log->Segments()[0]->View(static_cast<uint64_t>(before), 8);
    EXPECT_EQ(rest, std::string(8, '\0')) << "blank written although no next segment";
    break;
  }
  EXPECT_EQ(log->Segments().size(), 1u);
  env_->SetCapacity(1 << 20);
  ASSERT_OK_AND_ASSIGN(auto rec, Append(log.get(), "T", 0, 500));
  EXPECT_EQ(rec.physical_offset, static_cast<int64_t>(kSegment));
  EXPECT_EQ(ScanLog(*log).blanks.size(), 1u);
}

TEST_F(CommitLogTest, SyncMakesRecordsDurableAcrossSegments) {
  auto log = NewLog();
  while (log->Segments().size() < 3) ASSERT_OK(Append(log.get(), "T", 0, 400).status());
  size_t records = ScanLog(*log).records.size();
  ASSERT_OK(log->Sync(0, log->appended()));
  auto crashed = env_->CrashCopy({});
  CommitLog reopened(crashed.get(), kRoot, Options(kSegment));
  ASSERT_OK(reopened.Load());
  EXPECT_EQ(ScanLog(reopened).records.size(), records);
}

TEST_F(CommitLogTest, ConcurrentAppendsKeepPerQueueOrderWithoutOverlap) {
  constexpr int kThreads = 4, kPerThread = 150;
  auto log = NewLog(16384);
  log->StartAllocator();
  // offsets_ is shared by all threads: Append only touches it under its append lock.
  std::vector<std::vector<AppendedRecord>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Alternate the thread's own queue and one queue all threads share.
        int32_t queue = i % 2 ? 100 : t;
        Message m = MakeMessage("T", queue,
                                std::to_string(t) + ":" + std::to_string(i) +
                                    std::string(static_cast<size_t>(i % 97), '.'));
        auto rec = AppendOne(log.get(), &offsets_, m, kStoreHost);
        ASSERT_TRUE(rec.ok()) << rec.status().ToString();
        results[t].push_back(*rec);
      }
    });
  }
  for (auto& th : threads) th.join();

  auto scan = ScanLog(*log);
  ASSERT_EQ(scan.records.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(scan.end, log->appended());
  // Contiguous: each record starts where the previous ended or at a segment base after a blank.
  std::map<int32_t, int64_t> next_queue_offset;
  std::map<int, int> next_index_of_thread;
  int64_t expected = 0;
  for (const auto& rec : scan.records) {
    if (rec.position != expected) {
      EXPECT_EQ(rec.position % 16384, 0);
    }
    expected = rec.position + rec.summary.total_size;
    EXPECT_EQ(rec.summary.queue_offset, next_queue_offset[rec.summary.queue_id]++);
    ParsedRecord r = RecordAt(*log, rec.position);
    std::string body(r.body);
    int t = std::stoi(body.substr(0, body.find(':')));
    int i = std::stoi(body.substr(body.find(':') + 1));
    EXPECT_EQ(i, next_index_of_thread[t]++) << "thread " << t << " out of order";
  }
  // What Append reported matches the log, and no two records overlap.
  std::vector<AppendedRecord> all;
  for (const auto& r : results) all.insert(all.end(), r.begin(), r.end());
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.physical_offset < b.physical_offset; });
  for (size_t k = 0; k < all.size(); ++k) {
    EXPECT_EQ(all[k].physical_offset, scan.records[k].position);
    if (k > 0) {
      EXPECT_GE(all[k].physical_offset, all[k - 1].physical_offset + all[k - 1].size);
    }
  }
  EXPECT_EQ(*offsets_.Slot("T", 100), kThreads * kPerThread / 2);
}

// ---- Retention primitives: OldestSegments and RemoveSegmentsBefore ----

TEST_F(CommitLogTest, OldestSegmentsAreDatedByTheirSuccessorsFirstRecord) {
  auto log = NewLog();
  const int64_t t0 = clock_.NowMillis();
  std::vector<int64_t> first_ts;  // store time of each segment's first record
  while (log->Segments().size() < 4) {
    size_t before = log->Segments().size();
    clock_.Advance(1000);
    int64_t ts = 0;
    ASSERT_OK(Append(log.get(), "T", 0, 700, &ts).status());
    if (log->Segments().size() != before) first_ts.push_back(ts);
  }
  ASSERT_EQ(first_ts.size(), 4u);
  auto oldest = log->OldestSegments(INT64_MAX, 10);
  ASSERT_EQ(oldest.size(), 3u);  // never the last
  for (size_t i = 0; i < oldest.size(); ++i) {
    EXPECT_EQ(oldest[i].base, static_cast<int64_t>(i * kSegment));
    EXPECT_EQ(oldest[i].end, static_cast<int64_t>((i + 1) * kSegment));
    ASSERT_TRUE(oldest[i].stored_before_ms.has_value());
    EXPECT_EQ(*oldest[i].stored_before_ms, first_ts[i + 1]);
    EXPECT_GT(*oldest[i].stored_before_ms, t0);
  }
  EXPECT_EQ(log->OldestSegments(INT64_MAX, 2).size(), 2u);
  // Only segments that end at or before the limit.
  EXPECT_EQ(log->OldestSegments(2 * kSegment - 1, 10).size(), 1u);
  EXPECT_EQ(log->OldestSegments(2 * kSegment, 10).size(), 2u);
  EXPECT_TRUE(log->OldestSegments(kSegment - 1, 10).empty());
  EXPECT_TRUE(log->OldestSegments(INT64_MAX, 0).empty());
}

TEST_F(CommitLogTest, RemoveSegmentsBeforeTakesWholeSegmentsFromTheFrontOnly) {
  auto log = NewLog();
  while (log->Segments().size() < 5) ASSERT_OK(Append(log.get(), "T", 0, 700).status());
  const int64_t s = static_cast<int64_t>(kSegment);
  const int64_t end = log->appended();
  ASSERT_OK_AND_ASSIGN(size_t none, log->RemoveSegmentsBefore(s - 1));
  EXPECT_EQ(none, 0u);
  EXPECT_EQ(log->min_offset(), 0);
  ASSERT_OK_AND_ASSIGN(size_t two, log->RemoveSegmentsBefore(2 * s + 100));
  EXPECT_EQ(two, 2u);
  EXPECT_EQ(log->min_offset(), 2 * s);
  EXPECT_EQ(log->SegmentFor(s), nullptr);
  EXPECT_EQ(log->SegmentFor(2 * s)->base(), 2 * s);
  EXPECT_EQ(log->SegmentFor(4 * s + 1)->base(), 4 * s);
  EXPECT_FALSE(env_->FileExists(filename::CommitLogSegment(kRoot, 0)));
  EXPECT_FALSE(env_->FileExists(filename::CommitLogSegment(kRoot, s)));
  EXPECT_TRUE(env_->FileExists(filename::CommitLogSegment(kRoot, 2 * s)));
  // Whatever the limit, the last (active) segment stays.
  ASSERT_OK_AND_ASSIGN(size_t rest, log->RemoveSegmentsBefore(INT64_MAX));
  EXPECT_EQ(rest, 2u);
  ASSERT_EQ(log->Segments().size(), 1u);
  EXPECT_EQ(log->min_offset(), 4 * s);
  EXPECT_EQ(log->appended(), end);
  // Appends go on; the scan from the new start finds every record left.
  ASSERT_OK_AND_ASSIGN(auto rec, Append(log.get(), "T", 0, 700));
  EXPECT_EQ(rec.physical_offset, end);
  log_test::LogScan scan = ScanLog(*log);
  EXPECT_EQ(scan.end, log->appended());
  EXPECT_GE(scan.records.front().position, 4 * s);
}

TEST_F(CommitLogTest, ASegmentHeldByAReaderStaysReadableAfterRemoval) {
  test::TempDir dir;
  CommitLog log(Env::Default(), dir.path(), Options(kSegment));
  ASSERT_OK(log.Load());
  ASSERT_OK(log.TruncateTo(0, false));
  while (log.Segments().size() < 3) ASSERT_OK(Append(&log, "T", 0, 700).status());
  std::shared_ptr<MappedFile> pin = log.SegmentFor(0);
  std::string before(pin->View(0, kSegment));
  ASSERT_OK_AND_ASSIGN(size_t removed, log.RemoveSegmentsBefore(kSegment));
  EXPECT_EQ(removed, 1u);
  EXPECT_FALSE(Env::Default()->FileExists(filename::CommitLogSegment(dir.path(), 0)));
  EXPECT_EQ(std::string(pin->View(0, kSegment)), before);
  RecordSummary first;
  EXPECT_EQ(CheckRecord(pin->View(0, kSegment), true, &first), RecordCheck::kRecord);
}

// The pages appends will fill are filled one per fault, without readahead (0018): in a
// created segment and, after a reopen, past the recovered end of the active one; what is
// already written there reads ahead as any file does.
TEST_F(CommitLogTest, PagesAheadOfTheAppendPositionAreNotReadAhead) {
  constexpr uint64_t kSegmentBytes = 1 << 20;
  test::TempDir dir;
  int64_t end = 0;
  {
    CommitLog log(Env::Default(), dir.path(), Options(kSegmentBytes));
    ASSERT_OK(log.Load());
    ASSERT_OK(log.TruncateTo(0, false));
    ASSERT_OK(Append(&log, "T", 0, 700).status());
    const std::string created = test::MappingFlagsAt(log.SegmentFor(0)->data());
    if (created.empty()) GTEST_SKIP() << "/proc/self/smaps cannot be read";
    EXPECT_NE(created.find(" rr"), std::string::npos) << created;
    while (log.appended() < 3 * 4096) ASSERT_OK(Append(&log, "T", 0, 700).status());
    end = log.appended();
  }
  CommitLog log(Env::Default(), dir.path(), Options(kSegmentBytes));
  ASSERT_OK(log.Load());
  ASSERT_OK(log.TruncateTo(end, false));
  const char* base = log.SegmentFor(0)->data();
  EXPECT_EQ(test::MappingFlagsAt(base).find(" rr"), std::string::npos)
      << test::MappingFlagsAt(base);
  EXPECT_NE(test::MappingFlagsAt(base + (end / 4096 + 1) * 4096).find(" rr"), std::string::npos)
      << test::MappingFlagsAt(base + (end / 4096 + 1) * 4096);
  ASSERT_OK(Append(&log, "T", 0, 700).status());
  EXPECT_EQ(ScanLog(log).end, log.appended());
}

// A new log on the real file system whose allocator thread prefaults `ahead` bytes past the
// appends (ASYNC_FLUSH's prepare step), for tests that look at which pages are mapped.
class PrefaultingLog {
 public:
  PrefaultingLog(CommitLog::Options o, uint64_t ahead)
      : log_(Env::Default(), dir_.path(), [&] {
          o.prepare_ahead_bytes = ahead;
          return o;
        }()) {}
  Status Start() {
    MQ_RETURN_IF_ERROR(log_.Load());
    MQ_RETURN_IF_ERROR(log_.TruncateTo(0, false));
    log_.StartAllocator();
    return Status::OK();
  }
  CommitLog& log() { return log_; }

 private:
  test::TempDir dir_;
  CommitLog log_;
};

// The allocator faults pages in ahead of the appends (ASYNC_FLUSH's prepare step). A new
// log has no segment to prepare until its first append makes one; the pages after that
// append are prepared at once, not when appends reach the next 8 MiB step. The prefault
// keeps clear of the pages right after the append position: were the appends to catch up
// with it, they would wait for it page after page (0018).
TEST_F(CommitLogTest, TheFirstSegmentIsPreparedOnceTheFirstAppendMakesIt) {
  constexpr uint64_t kAhead = 1 << 20;
  PrefaultingLog run(Options(4 << 20), kAhead);
  CommitLog& log = run.log();
  ASSERT_OK(run.Start());
  ASSERT_OK(Append(&log, "T", 0, 700).status());
  const char* base = log.SegmentFor(0)->data();
  if (test::PagesMappedIn(base, kAhead) < 0) GTEST_SKIP() << "/proc/self/pagemap cannot be read";
  const char* half = base + kAhead / 2;
  EXPECT_TRUE(test::WaitUntil([&] {
    return test::PagesMappedIn(half, kAhead / 2) == static_cast<int64_t>(kAhead / 2 / 4096);
  })) << test::PagesMappedIn(half, kAhead / 2)
      << " of " << kAhead / 2 / 4096 << " pages mapped";
  EXPECT_EQ(test::PagesMappedIn(base + 4096, 64 << 10), 0) << "left to the appends";
  // Past what was asked for, nothing.
  EXPECT_EQ(test::PagesMappedIn(base + 2 * kAhead, kAhead), 0);
}

// The prefault is asked for every 512 KiB of appends, so that it stays prepare_ahead_bytes
// ahead of them in small steps. Asked for every 8 MiB, it filled 8 MiB at once: milliseconds
// of a core in a burst, which every message in flight waited out (0018, "Later").
TEST_F(CommitLogTest, ThePrefaultFollowsTheAppendsInSmallSteps) {
  constexpr uint64_t kAhead = 1 << 20;
  PrefaultingLog run(Options(8 << 20), kAhead);
  CommitLog& log = run.log();
  ASSERT_OK(run.Start());
  while (log.appended() < 2 * static_cast<int64_t>(kAhead)) {
    ASSERT_OK(Append(&log, "T", 0, 1000).status());
  }
  const char* base = log.SegmentFor(0)->data();
  if (test::PagesMappedIn(base, kAhead) < 0) GTEST_SKIP() << "/proc/self/pagemap cannot be read";
  // The last request came at the 2 MiB step, for 1 MiB past it; the first 8 MiB step is far.
  const char* ahead = base + 2 * kAhead + kAhead / 2;
  EXPECT_TRUE(test::WaitUntil([&] {
    return test::PagesMappedIn(ahead, kAhead / 2) == static_cast<int64_t>(kAhead / 2 / 4096);
  })) << test::PagesMappedIn(ahead, kAhead / 2)
      << " of " << kAhead / 2 / 4096 << " pages mapped";
  EXPECT_EQ(test::PagesMappedIn(base + 4 * kAhead, kAhead), 0) << "past what was asked for";
}

// Records, per file, the ranges it was asked to start writing back (File::StartWriteBack).
class WriteBehindRecordingEnv final : public test::ForwardingEnv {
 public:
  WriteBehindRecordingEnv() : ForwardingEnv(NewMemEnv()) {}
  std::vector<std::pair<uint64_t, uint64_t>> Started(const std::string& path) {
    std::lock_guard<std::mutex> l(mu_);
    return started_[path];
  }
  size_t FilesStarted() {
    std::lock_guard<std::mutex> l(mu_);
    return started_.size();
  }
  // Descriptors of the file open now.
  int OpenCount(const std::string& path) {
    std::lock_guard<std::mutex> l(mu_);
    return open_[path];
  }
  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base()->OpenFile(path, mode));
    return std::unique_ptr<File>(new RecordingFile(this, std::move(file)));
  }

 private:
  class RecordingFile final : public test::ForwardingFile {
   public:
    RecordingFile(WriteBehindRecordingEnv* env, std::unique_ptr<File> file)
        : ForwardingFile(std::move(file)), env_(env) {
      std::lock_guard<std::mutex> l(env_->mu_);
      ++env_->open_[path()];
    }
    ~RecordingFile() override {
      std::lock_guard<std::mutex> l(env_->mu_);
      --env_->open_[path()];
    }
    void StartWriteBack(uint64_t offset, uint64_t len) override {
      std::lock_guard<std::mutex> l(env_->mu_);
      env_->started_[path()].emplace_back(offset, offset + len);
    }

   private:
    WriteBehindRecordingEnv* env_;
  };

  std::mutex mu_;
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> started_;
  std::map<std::string, int> open_;
};

// Mapped mode (ASYNC_FLUSH): what the appends left 1 MiB behind starts going to the disk as
// they go, in order and in whole pages, so that the periodic sync does not write back half a
// second of log at once. It never reaches the last 1 MiB: the dispatcher still reads there.
// A sync that overtakes it does not make it skip a segment's end, where it closes the
// segment's descriptor.
TEST_F(CommitLogTest, TheLogLeftBehindStartsGoingToTheDiskAsAppendsGo) {
  constexpr uint64_t kMiB = 1 << 20;
  constexpr uint64_t kSegmentBytes = 2 * kMiB;
  WriteBehindRecordingEnv env;
  ASSERT_OK(env.CreateDir(kRoot));
  CommitLog::Options o = Options(kSegmentBytes);
  o.prepare_ahead_bytes = kMiB;
  CommitLog log(&env, kRoot, o);
  ASSERT_OK(log.Load());
  ASSERT_OK(log.TruncateTo(0, false));
  log.StartAllocator();
  const std::string first = filename::CommitLogSegment(kRoot, 0);
  while (log.appended() < static_cast<int64_t>(kMiB + kMiB / 2 + 4096)) {
    ASSERT_OK(Append(&log, "T", 0, 1000).status());
  }
  ASSERT_TRUE(test::WaitUntil([&] { return !env.Started(first).empty(); }));
  // A periodic sync overtakes the write-behind, past the first segment's end.
  log.NoteDurable(static_cast<int64_t>(kSegmentBytes + kMiB / 2));
  while (log.appended() < static_cast<int64_t>(5 * kMiB)) {
    ASSERT_OK(Append(&log, "T", 0, 1000).status());
  }
  const int64_t end = log.appended();
  // The last request came at the 4.5 MiB step: up to 3.5 MiB, in the second segment.
  const std::string second = filename::CommitLogSegment(kRoot, static_cast<int64_t>(kSegmentBytes));
  const uint64_t expected_to = 3 * kMiB / 2 - 4096;  // of the second segment, at least
  ASSERT_TRUE(test::WaitUntil([&] {
    auto started = env.Started(second);
    return !started.empty() && started.back().second >= expected_to;
  }));
  for (int64_t base : {int64_t{0}, static_cast<int64_t>(kSegmentBytes)}) {
    const auto started = env.Started(filename::CommitLogSegment(kRoot, base));
    ASSERT_FALSE(started.empty()) << base;
    uint64_t covered = 0;
    for (const auto& [from, to] : started) {
      EXPECT_EQ(from % 4096, 0u);
      EXPECT_EQ(to % 4096, 0u);
      EXPECT_EQ(from, covered) << "in order, without gaps or overlaps";
      EXPECT_LT(from, to);
      covered = to;
      EXPECT_LE(base + static_cast<int64_t>(to), end - static_cast<int64_t>(kMiB));
    }
    if (base == 0) {
      // The blank record that closed the first segment is written back with it, and the
      // descriptor the write-back took is closed: a long log keeps none open per segment.
      EXPECT_EQ(covered, kSegmentBytes);
      EXPECT_EQ(env.OpenCount(filename::CommitLogSegment(kRoot, base)), 0);
    }
  }
  EXPECT_TRUE(env.Started(filename::CommitLogSegment(kRoot, 2 * kSegmentBytes)).empty());
  EXPECT_EQ(ScanLog(log).end, end);
}

// Buffered mode (SYNC_FLUSH) writes the log out itself and syncs every write-out: nothing to
// start writing back behind the appends.
TEST_F(CommitLogTest, TheBufferedLogStartsNoWriteBackBehindItsAppends) {
  WriteBehindRecordingEnv env;
  ASSERT_OK(env.CreateDir(kRoot));
  CommitLog::Options o = Options(2 << 20);
  o.write_buffer_bytes = 1 << 20;
  CommitLog log(&env, kRoot, o);
  ASSERT_OK(log.Load());
  ASSERT_OK(log.TruncateTo(0, false));
  log.StartAllocator();
  while (log.appended() < (5 << 20)) {
    ASSERT_OK(Append(&log, "T", 0, 1000).status());
    if (log.appended() - log.written() > (512 << 10)) ASSERT_OK(log.WriteOut());
  }
  ASSERT_OK(log.WriteOut());
  EXPECT_EQ(env.FilesStarted(), 0u);
}

// Records where the allocator thread wrote zeros through the segment files, and where the
// appends were then. The first such write is held until the appends come within a record of
// it, so that an append has to wait for it.
class ZeroWriteHoldingEnv final : public test::ForwardingEnv {
 public:
  struct ZeroWrite {
    uint64_t from;  // file offset (the tests use segment 0: the log offset too)
    uint64_t len;
    int64_t appended;  // the log's append position as the write began
  };
  ZeroWriteHoldingEnv() : ForwardingEnv(NewMemEnv()) {}
  void Watch(const CommitLog* log) { log_.store(log); }
  std::vector<ZeroWrite> Writes() {
    std::lock_guard<std::mutex> l(mu_);
    return writes_;
  }
  // True once every zero write begun so far has ended.
  bool AllDone() {
    std::lock_guard<std::mutex> l(mu_);
    return done_ == writes_.size();
  }
  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base()->OpenFile(path, mode));
    return std::unique_ptr<File>(new ZeroWatchingFile(this, std::move(file)));
  }

 private:
  class ZeroWatchingFile final : public test::ForwardingFile {
   public:
    ZeroWatchingFile(ZeroWriteHoldingEnv* env, std::unique_ptr<File> file)
        : ForwardingFile(std::move(file)), env_(env) {}
    Status Write(uint64_t offset, std::string_view data) override {
      const CommitLog* log = env_->log_.load();
      if (log == nullptr || data.size() < 4096 ||
          !std::all_of(data.begin(), data.end(), [](char c) { return c == 0; })) {
        return ForwardingFile::Write(offset, data);
      }
      env_->OnZeros(*log, offset, data.size());
      Status s = ForwardingFile::Write(offset, data);
      std::lock_guard<std::mutex> l(env_->mu_);
      ++env_->done_;
      return s;
    }

   private:
    ZeroWriteHoldingEnv* env_;
  };

  void OnZeros(const CommitLog& log, uint64_t from, uint64_t len) {
    bool first;
    {
      std::lock_guard<std::mutex> l(mu_);
      first = writes_.empty();
      writes_.push_back({from, len, log.appended()});
    }
    if (first) {
      test::WaitUntil([&] { return log.appended() + 2048 > static_cast<int64_t>(from); });
    }
  }

  std::atomic<const CommitLog*> log_{nullptr};
  std::mutex mu_;
  std::vector<ZeroWrite> writes_;
  size_t done_ = 0;
};

// Mapped mode (ASYNC_FLUSH): the allocator thread puts the pages ahead of the appends in the
// page cache by writing zeros through the file before it maps them, as a write of a whole
// page need not read it first. The zeros never land on appended bytes: each write starts
// past the append position, and an append that catches up with one waits for it.
TEST_F(CommitLogTest, ZerosWrittenAheadOfTheAppendsNeverLandOnThem) {
  constexpr int64_t kMiB = 1 << 20;
  ZeroWriteHoldingEnv env;
  ASSERT_OK(env.CreateDir(kRoot));
  CommitLog::Options o = Options(8 << 20);
  o.prepare_ahead_bytes = kMiB;
  CommitLog log(&env, kRoot, o);
  ASSERT_OK(log.Load());
  ASSERT_OK(log.TruncateTo(0, false));
  env.Watch(&log);
  log.StartAllocator();
  std::map<int64_t, std::string> bodies;  // by offset
  int i = 0;
  auto append_to = [&](int64_t end) {
    for (; log.appended() < end; ++i) {
      const std::string body(1000, static_cast<char>('a' + i % 26));
      ASSERT_OK_AND_ASSIGN(AppendedRecord r,
                           AppendOne(&log, &offsets_, MakeMessage("T", 0, body), kStoreHost));
      bodies[r.physical_offset] = body;
    }
  };
  // Past the first 512 KiB step, which asks for the log to be prepared 1 MiB ahead; then
  // on into the zeros the allocator thread is held in.
  append_to(kMiB / 2 + 4096);
  ASSERT_TRUE(test::WaitUntil([&] { return !env.Writes().empty(); }));
  append_to(3 * kMiB);
  ASSERT_TRUE(test::WaitUntil([&] { return env.AllDone(); }));
  const auto writes = env.Writes();
  for (const auto& w : writes) {
    EXPECT_GE(static_cast<int64_t>(w.from), w.appended) << "zeros at " << w.from;
    EXPECT_LE(w.len, 256u << 10);
  }
  EXPECT_GE(log.appends_waited_for_zeros(), 1u) << "the held write made an append wait";
  // Every record is whole, the ones the held write was ahead of too.
  EXPECT_EQ(ScanLog(log).end, log.appended());
  for (const auto& [offset, body] : bodies) {
    ASSERT_EQ(RecordAt(log, offset).body, body) << "record at " << offset;
  }
}

// A page-cache window test: a log of 4 MiB segments on the real file system, its allocator
// running, filled with 1000-byte records to `first_end`, all of it synced, then told that
// `durable` is durable and filled on past the next 8 MiB maintenance step (9 MiB).
class CachedLogRun {
 public:
  static constexpr uint64_t kMiB = 1 << 20;
  static constexpr uint64_t kSegmentBytes = 4 * kMiB;

  explicit CachedLogRun(CommitLog::Options o) : log_(Env::Default(), dir_.path(), o) {}

  void Fill(QueueOffsetTable* offsets, int64_t first_end, int64_t durable) {
    ASSERT_OK(log_.Load());
    ASSERT_OK(log_.TruncateTo(0, false));
    log_.StartAllocator();
    FillTo(offsets, first_end);
    ASSERT_OK(log_.Sync(0, log_.appended()));
    log_.NoteDurable(durable);
    first_segment_ = std::string(log_.SegmentFor(0)->View(0, kSegmentBytes));
    FillTo(offsets, static_cast<int64_t>(9 * kMiB));
  }
  CommitLog& log() { return log_; }
  std::string Segment(int64_t base) const { return filename::CommitLogSegment(dir_.path(), base); }
  // The first segment's bytes when `durable` was told.
  const std::string& first_segment() const { return first_segment_; }

 private:
  void FillTo(QueueOffsetTable* offsets, int64_t end) {
    while (log_.appended() < end) {
      ASSERT_OK(AppendOne(&log_, offsets, MakeMessage("T", 0, std::string(1000, 'b')), kStoreHost)
                    .status());
    }
  }

  test::TempDir dir_;
  CommitLog log_;
  std::string first_segment_;
};

TEST_F(CommitLogTest, DurablePagesBehindTheCacheWindowLeaveThePageCache) {
  constexpr uint64_t kMiB = CachedLogRun::kMiB;
  constexpr uint64_t kBig = CachedLogRun::kSegmentBytes;
  CommitLog::Options o = Options(kBig);
  o.cache_window_bytes = kMiB;
  CachedLogRun run(o);
  // 6 MiB clean, but the flusher told only of the first segment.
  ASSERT_NO_FATAL_FAILURE(run.Fill(&offsets_, 6 * kMiB, kBig));
  const std::string seg0 = run.Segment(0);
  ASSERT_TRUE(test::WaitUntil([&] { return test::PagesInPageCache(seg0, 0, kBig) == 0; }))
      << test::PagesInPageCache(seg0, 0, kBig) << " pages of the durable segment still cached";
  // Clean pages the log was not told are durable stay, however far behind they are.
  EXPECT_EQ(test::PagesInPageCache(run.Segment(kBig), 0, 2 * kMiB),
            static_cast<int64_t>(2 * kMiB / 4096));
  // Dropped pages read back from disk, byte for byte.
  EXPECT_EQ(std::string(run.log().SegmentFor(0)->View(0, kBig)), run.first_segment());
  EXPECT_EQ(ScanLog(run.log()).end, run.log().appended());
}

TEST_F(CommitLogTest, WithoutACacheWindowDurablePagesStayCached) {
  constexpr uint64_t kBig = CachedLogRun::kSegmentBytes;
  CachedLogRun run(Options(kBig));
  ASSERT_NO_FATAL_FAILURE(run.Fill(&offsets_, 6 * CachedLogRun::kMiB, 6 * CachedLogRun::kMiB));
  ASSERT_OK(run.log().Sync(0, run.log().appended()));
  EXPECT_EQ(test::PagesInPageCache(run.Segment(0), 0, kBig), static_cast<int64_t>(kBig / 4096));
}

// In ASYNC_FLUSH (mapped writes), Sync drops the whole pages it syncs from the page tables
// first, so that writeback does not write-protect them one TLB flush at a time; the page
// the appender is still in stays mapped, and what was synced reads back unchanged.
TEST_F(CommitLogTest, SyncUnmapsTheWholePagesItSyncsAndTheyReadBackTheSame) {
  constexpr uint64_t kSegmentBytes = 1 << 20;
  test::TempDir dir;
  CommitLog log(Env::Default(), dir.path(), Options(kSegmentBytes));
  ASSERT_OK(log.Load());
  ASSERT_OK(log.TruncateTo(0, false));
  while (log.appended() < 40'000) {  // 9 pages and a part of the 10th
    ASSERT_OK(AppendOne(&log, &offsets_, MakeMessage("T", 0, std::string(1000, 'b')), kStoreHost)
                  .status());
  }
  const int64_t end = log.appended();
  const auto whole_pages = static_cast<int64_t>(end / 4096);
  std::shared_ptr<MappedFile> seg = log.SegmentFor(0);
  const char* base = seg->View(0, kSegmentBytes).data();
  const int64_t mapped = test::PagesMappedIn(base, 40 * 1024);
  if (mapped < 0) GTEST_SKIP() << "/proc/self/pagemap cannot be read here";
  ASSERT_EQ(mapped, whole_pages + 1) << "written pages are mapped";
  const std::string before(seg->View(0, static_cast<uint64_t>(end)));

  ASSERT_OK(log.Sync(0, end));
  EXPECT_EQ(test::PagesMappedIn(base, static_cast<size_t>(whole_pages) * 4096), 0);
  EXPECT_EQ(test::PagesMappedIn(base + whole_pages * 4096, 4096), 1) << "the appender's page stays";
  EXPECT_EQ(std::string(seg->View(0, static_cast<uint64_t>(end))), before);
  EXPECT_EQ(ScanLog(log).end, end);

  // The next sync starts inside the page the last one kept, and releases it once whole.
  while (log.appended() < 50'000) {
    ASSERT_OK(AppendOne(&log, &offsets_, MakeMessage("T", 0, std::string(1000, 'c')), kStoreHost)
                  .status());
  }
  ASSERT_OK(log.Sync(end, log.appended()));
  // (Pages below that one are mapped again: ScanLog read them.)
  const int64_t now_whole = log.appended() / 4096;
  EXPECT_EQ(test::PagesMappedIn(base + whole_pages * 4096,
                                static_cast<size_t>(now_whole - whole_pages) * 4096),
            0);
  EXPECT_EQ(ScanLog(log).end, log.appended());
}

TEST_F(CommitLogTest, RemovalIsDurableAndTheLogReloadsFromItsNewStart) {
  auto log = NewLog();
  while (log->Segments().size() < 4) ASSERT_OK(Append(log.get(), "T", 0, 700).status());
  ASSERT_OK(log->Sync(0, log->appended()));
  ASSERT_OK(log->RemoveSegmentsBefore(2 * kSegment).status());
  auto crashed = env_->CrashCopy({});
  CommitLog reopened(crashed.get(), kRoot, Options(kSegment));
  ASSERT_OK(reopened.Load());
  EXPECT_EQ(reopened.min_offset(), static_cast<int64_t>(2 * kSegment));
  EXPECT_EQ(ScanLog(reopened).end, log->appended());
}

TEST_F(CommitLogTest, AppendsGoOnWhileSegmentsAreRemoved) {
  auto log = NewLog();
  log->StartAllocator();
  std::atomic<bool> done{false};
  constexpr int kRecords = 4000;
  std::thread writer([&] {
    for (int i = 0; i < kRecords; ++i) {
      auto r = AppendOne(log.get(), &offsets_, MakeMessage("T", 0, std::to_string(i)), kStoreHost);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
    }
    done = true;
  });
  size_t removed = 0;
  while (!done.load()) {
    auto r = log->RemoveSegmentsBefore(log->appended());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) removed += *r;
  }
  writer.join();
  // The writer may have finished before the first removal: one more.
  ASSERT_OK_AND_ASSIGN(size_t last_round, log->RemoveSegmentsBefore(log->appended()));
  removed += last_round;
  EXPECT_GT(removed, 0u);
  // Queue offsets are consecutive from wherever the remaining log starts.
  log_test::LogScan scan = ScanLog(*log);
  EXPECT_EQ(scan.end, log->appended());
  ASSERT_FALSE(scan.records.empty());
  for (size_t i = 1; i < scan.records.size(); ++i) {
    EXPECT_EQ(scan.records[i].summary.queue_offset, scan.records[i - 1].summary.queue_offset + 1);
  }
  EXPECT_EQ(scan.records.back().summary.queue_offset, kRecords - 1);
}

TEST_F(CommitLogTest, TheAppendLockIsHeldOnlyDuringAnAppend) {
  auto log = NewLog();
  EXPECT_EQ(log->AppendLockHeldMs(INT64_MAX / 2), 0);
  for (int i = 0; i < 3; ++i) ASSERT_OK(Append(log.get(), "T", 0, 100).status());
  EXPECT_EQ(log->AppendLockHeldMs(INT64_MAX / 2), 0);
}

TEST_F(CommitLogTest, AppendNotifiesTheAppendEvent) {
  auto log = NewLog();
  auto key = log->append_event().PrepareWait();
  ASSERT_OK(Append(log.get(), "T", 0, 1).status());
  auto start = std::chrono::steady_clock::now();
  log->append_event().Wait(key, std::chrono::milliseconds(20'000));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace mqstore
