// CommitLog in buffered write mode (SYNC_FLUSH): the write buffer, write-outs, and the
// zero-ahead of the allocator thread.
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
#include "log/commit_log.h"
#include "log_test_util.h"
#include "mqstore/mem_env.h"
#include "support/forwarding_env.h"
#include "support/test_util.h"
#include "util/filename.h"

namespace mqstore {
namespace {

using log_test::AppendBatch;
using log_test::AppendOne;
using log_test::CommitLogBufferedTest;
using log_test::kRoot;
using log_test::kSegment;
using log_test::kStoreHost;
using log_test::ScanLog;
using test::MakeMessage;

TEST_F(CommitLogBufferedTest, AppendsReachTheSegmentOnlyOnWriteOut) {
  auto log = NewBufferedLog(kSegment, 8192);
  EXPECT_TRUE(log->buffered());
  ASSERT_OK_AND_ASSIGN(AppendedRecord rec, Append(log.get(), "T", 0, 100));
  EXPECT_EQ(log->appended(), rec.size);
  EXPECT_EQ(log->written(), 0);
  EXPECT_EQ(ScanLog(*log).records.size(), 0u);  // the mapping still holds zeros
  ASSERT_OK(log->WriteOut());
  EXPECT_EQ(log->written(), rec.size);
  EXPECT_EQ(RecordAt(*log, 0).physical_offset, 0);
  ASSERT_OK(log->WriteOut());  // nothing pending: a no-op
  EXPECT_EQ(log->written(), rec.size);
}

TEST_F(CommitLogBufferedTest, RecordsWrappingTheBufferEndStayIntact) {
  auto log = NewBufferedLog(64 * 1024, 8192);
  // Odd sizes so that records straddle the end of the 8 KiB ring at many different points.
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK(AppendNumbered(log.get(), i, static_cast<size_t>(37 + (i * 131) % 900)).status());
    if (i % 5 == 4) ASSERT_OK(log->WriteOut());
  }
  ASSERT_OK(log->WriteOut());
  ExpectNumberedRecords(*log, 200);
}

TEST_F(CommitLogBufferedTest, AFullBufferIsWrittenOutByTheAppender) {
  auto log = NewBufferedLog(64 * 1024, 4096);
  for (int i = 0; i < 60; ++i) {
    ASSERT_OK(AppendNumbered(log.get(), i, 500).status());
    // Never more than the buffer pending, though nobody else calls WriteOut.
    EXPECT_LE(log->appended() - log->written(), 4096);
  }
  EXPECT_GT(log->written(), 0);
  ASSERT_OK(log->WriteOut());
  ExpectNumberedRecords(*log, 60);
}

TEST_F(CommitLogBufferedTest, RolloverWritesTheBlankHeaderAndLeavesTheRestZero) {
  auto log = NewBufferedLog(kSegment, 8192);
  int count = 0;
  while (log->Segments().size() < 4) ASSERT_OK(AppendNumbered(log.get(), count++, 700).status());
  ASSERT_OK(log->WriteOut());
  EXPECT_EQ(log->written(), log->appended());
  ExpectNumberedRecords(*log, count);
  auto scan = ScanLog(*log);
  ASSERT_EQ(scan.blanks.size(), 3u);
  for (int64_t blank : scan.blanks) {
    auto seg = log->SegmentFor(blank);
    std::string_view rest = seg->View(static_cast<uint64_t>(blank - seg->base()) + 8, kSegment);
    EXPECT_TRUE(std::all_of(rest.begin(), rest.end(), [](char c) { return c == 0; }));
  }
}

TEST_F(CommitLogBufferedTest, ManyRolloversPendingAtOnceAreAllWrittenOut) {
  // Segments much smaller than the buffer: one write-out crosses several blanks.
  auto log = NewBufferedLog(kSegment, 64 * 1024);
  int count = 0;
  while (log->Segments().size() < 6) ASSERT_OK(AppendNumbered(log.get(), count++, 900).status());
  EXPECT_EQ(log->written(), 0);
  ASSERT_OK(log->WriteOut());
  ExpectNumberedRecords(*log, count);
  EXPECT_EQ(ScanLog(*log).blanks.size(), 5u);
}

TEST_F(CommitLogBufferedTest, ABatchLargerThanTheBufferIsRejectedAndChangesNothing) {
  auto log = NewBufferedLog(64 * 1024, 4096);
  std::vector<Message> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(MakeMessage("T", 0, std::string(500, 'x')));
  auto r = AppendBatch(log.get(), &offsets_, batch, kStoreHost);
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_EQ(log->appended(), 0);
  EXPECT_EQ(*offsets_.Slot("T", 0), 0);
}

TEST_F(CommitLogBufferedTest, OnlySyncedWritesSurviveACrash) {
  auto log = NewBufferedLog(kSegment, 8192);
  for (int i = 0; i < 3; ++i) ASSERT_OK(AppendNumbered(log.get(), i, 100).status());
  ASSERT_OK(log->WriteOut());
  ASSERT_OK(log->Sync(0, log->written()));
  ASSERT_OK(AppendNumbered(log.get(), 3, 100).status());
  ASSERT_OK(log->WriteOut());  // written, not synced
  auto crashed = env_->CrashCopy({});
  CommitLog reopened(crashed.get(), kRoot, Options(kSegment));
  ASSERT_OK(reopened.Load());
  ASSERT_OK(reopened.TruncateTo(ScanLog(reopened).end, false));  // as recovery would
  ExpectNumberedRecords(reopened, 3);
}

TEST_F(CommitLogBufferedTest, ConcurrentAppendsAndWriteOutsKeepEveryRecord) {
  auto log = NewBufferedLog(16384, 8192);
  log->StartAllocator();
  constexpr int kThreads = 3, kPerThread = 200;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    while (!done.load()) ASSERT_OK(log->WriteOut());
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Message m = MakeMessage("T", t, std::string(static_cast<size_t>(10 + (i * 53) % 700), 'z'));
        ASSERT_OK(AppendOne(log.get(), &offsets_, m, kStoreHost).status());
      }
    });
  }
  for (auto& th : threads) th.join();
  done.store(true);
  writer.join();
  ASSERT_OK(log->WriteOut());
  auto scan = ScanLog(*log);
  EXPECT_EQ(scan.records.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(scan.end, log->appended());
  std::map<int32_t, int64_t> next;
  for (const auto& rec : scan.records) {
    EXPECT_EQ(rec.summary.queue_offset, next[rec.summary.queue_id]++);
  }
}

// Zero-ahead (SYNC_FLUSH's prepare step): ahead of the append position the allocator thread

// Forwards to a MemEnv and records, per file, the all-zero writes and the syncs that followed
// them: what the buffered log's zero-ahead (CommitLog::ZeroAhead) does to a segment.
class ZeroWriteRecordingEnv final : public test::ForwardingEnv {
 public:
  ZeroWriteRecordingEnv() : ForwardingEnv(NewMemEnv()) {}
  struct Range {
    uint64_t from, to;
    bool synced;        // a Sync of the file came after it
    bool written_back;  // a WriteBack of a range covering it came after it
    bool direct;        // through an OpenMode::kReadWriteDirect descriptor
  };
  // Every write to a file that was not all zeros: [from, to).
  std::vector<std::pair<uint64_t, uint64_t>> DataWrites(const std::string& path) {
    std::lock_guard<std::mutex> l(mu_);
    return data_writes_[path];
  }
  std::vector<Range> ZeroWrites(const std::string& path) {
    std::lock_guard<std::mutex> l(mu_);
    return zero_writes_[path];
  }
  // From now on File::WriteBack fails (as sync_file_range does after a failed write-back).
  void FailWriteBacks() { fail_write_back_.store(true); }
  // From now on OpenMode::kReadWriteDirect is refused, as a file system without O_DIRECT does.
  void RefuseDirect() { refuse_direct_.store(true); }
  // From now on writes through a direct descriptor fail.
  void FailDirectWrites() { fail_direct_writes_.store(true); }
  // From now on writes through a direct descriptor are refused (kNotSupported), as some file
  // systems that open with O_DIRECT do.
  void RefuseDirectWrites() { refuse_direct_writes_.store(true); }
  // One write-back error, reported as the kernel reports it (errseq_t): once to each
  // descriptor, by its next Sync or WriteBack. A descriptor opened after the error sees it
  // only while no other has.
  void InjectWriteBackError(const std::string& path) {
    std::lock_guard<std::mutex> l(mu_);
    ++write_back_errors_[path].seq;
    write_back_errors_[path].unreported = true;
  }
  bool WriteBackErrorReported(const std::string& path) {
    std::lock_guard<std::mutex> l(mu_);
    const WriteBackErrors& e = write_back_errors_[path];
    return e.seq > 0 && !e.unreported;
  }

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    if (mode == OpenMode::kReadWriteDirect && refuse_direct_.load()) {
      return Status::NotSupported("open " + path + " with O_DIRECT: refused by the test");
    }
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base()->OpenFile(path, mode));
    return std::unique_ptr<File>(
        new RecordingFile(this, std::move(file), mode == OpenMode::kReadWriteDirect));
  }

 private:
  class RecordingFile final : public test::ForwardingFile {
   public:
    RecordingFile(ZeroWriteRecordingEnv* env, std::unique_ptr<File> file, bool direct)
        : ForwardingFile(std::move(file)), env_(env), direct_(direct) {
      std::lock_guard<std::mutex> l(env_->mu_);
      const WriteBackErrors& e = env_->write_back_errors_[path()];
      error_seen_ = e.seq - (e.unreported ? 1 : 0);
    }
    Status Write(uint64_t offset, std::string_view data) override {
      if (direct_ && env_->fail_direct_writes_.load()) {
        return Status::IOError("injected direct write error");
      }
      if (direct_ && env_->refuse_direct_writes_.load()) {
        return Status::NotSupported("direct write refused by the test");
      }
      MQ_RETURN_IF_ERROR(base()->Write(offset, data));
      std::lock_guard<std::mutex> l(env_->mu_);
      if (std::all_of(data.begin(), data.end(), [](char c) { return c == 0; })) {
        env_->zero_writes_[path()].push_back({offset, offset + data.size(), false, false, direct_});
      } else {
        env_->data_writes_[path()].emplace_back(offset, offset + data.size());
      }
      return Status::OK();
    }
    Status Sync() override {
      MQ_RETURN_IF_ERROR(ReportWriteBackError());
      // Counted before the sync: a write that completes during it may not be covered.
      size_t covered;
      {
        std::lock_guard<std::mutex> l(env_->mu_);
        covered = env_->zero_writes_[path()].size();
      }
      MQ_RETURN_IF_ERROR(base()->Sync());
      std::lock_guard<std::mutex> l(env_->mu_);
      auto& ranges = env_->zero_writes_[path()];
      for (size_t i = 0; i < covered; ++i) ranges[i].synced = true;
      return Status::OK();
    }
    Status WriteBack(uint64_t offset, uint64_t len) override {
      if (env_->fail_write_back_.load()) return Status::IOError("injected write-back error");
      MQ_RETURN_IF_ERROR(ReportWriteBackError());
      MQ_RETURN_IF_ERROR(base()->WriteBack(offset, len));
      std::lock_guard<std::mutex> l(env_->mu_);
      for (Range& r : env_->zero_writes_[path()]) {
        if (offset <= r.from && r.to <= offset + len) r.written_back = true;
      }
      return Status::OK();
    }

   private:
    Status ReportWriteBackError() {
      std::lock_guard<std::mutex> l(env_->mu_);
      WriteBackErrors& e = env_->write_back_errors_[path()];
      if (error_seen_ == e.seq) return Status::OK();
      error_seen_ = e.seq;
      e.unreported = false;
      return Status::IOError("injected write-back error, reported to this descriptor");
    }

    ZeroWriteRecordingEnv* env_;
    const bool direct_;
    uint64_t error_seen_;  // GUARDED_BY(env_->mu_)
  };

  std::mutex mu_;
  std::map<std::string, std::vector<Range>> zero_writes_;  // GUARDED_BY(mu_)
  std::atomic<bool> fail_write_back_{false};
  std::atomic<bool> refuse_direct_{false};
  std::atomic<bool> fail_direct_writes_{false};
  std::atomic<bool> refuse_direct_writes_{false};
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>>
      data_writes_;  // GUARDED_BY(mu_)
  struct WriteBackErrors {
    uint64_t seq = 0;
    bool unreported = false;
  };
  std::map<std::string, WriteBackErrors> write_back_errors_;  // GUARDED_BY(mu_)
};

// writes zeros to the segment and syncs them.
class CommitLogZeroAheadTest : public CommitLogBufferedTest {
 protected:
  static constexpr uint64_t kBigSegment = 16 << 20;
  static constexpr uint64_t kAhead = 4 << 20;
  std::unique_ptr<CommitLog> NewZeroingLog(uint64_t ahead) {
    CommitLog::Options o = Options(kBigSegment);
    o.write_buffer_bytes = 1 << 20;
    o.prepare_ahead_bytes = ahead;
    auto log = std::make_unique<CommitLog>(&recording_, kRoot, o);
    EXPECT_OK(log->Load());
    EXPECT_OK(log->TruncateTo(0, false));
    log->StartAllocator();
    return log;
  }
  // Bytes of [from, to) covered by synced zero writes to `path`.
  uint64_t SyncedZeros(const std::string& path, uint64_t from, uint64_t to) {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const auto& r : recording_.ZeroWrites(path)) {
      if (r.synced) ranges.emplace_back(std::max(r.from, from), std::min(r.to, to));
    }
    std::sort(ranges.begin(), ranges.end());
    uint64_t covered = 0, at = from;
    for (auto [a, b] : ranges) {
      a = std::max(a, at);
      if (b > a) {
        covered += b - a;
        at = b;
      }
    }
    return covered;
  }
  // Appends numbered 1000-byte messages until the log reaches `end`, writing them out every
  // 64 and at the end; `*count` is how many.
  void FillWrittenOut(CommitLog* log, int64_t end, int* count) {
    while (log->appended() < end) {
      ASSERT_OK(AppendNumbered(log, (*count)++, 1000).status());
      if (*count % 64 == 0) ASSERT_OK(log->WriteOut());
    }
    ASSERT_OK(log->WriteOut());
  }
  // Fills the log past 8 MiB, where appends ask for the next kAhead to be prepared, and
  // waits until the zeros of [the appended end rounded up to `align`, 8 MiB + kAhead) are
  // written and synced.
  void FillAndAwaitSyncedZeros(CommitLog* log, int* count, uint64_t align) {
    ASSERT_NO_FATAL_FAILURE(FillWrittenOut(log, 9 << 20, count));
    const std::string path = filename::CommitLogSegment(kRoot, 0);
    const auto end = static_cast<uint64_t>(log->appended());
    const uint64_t from = (end + align - 1) / align * align;
    const uint64_t to = (8 << 20) + kAhead;
    ASSERT_TRUE(test::WaitUntil([&] { return SyncedZeros(path, from, to) == to - from; },
                                std::chrono::seconds(20)))
        << SyncedZeros(path, from, to) << " of " << to - from << " bytes";
  }
  // Appends numbered messages, writing each out, up to 9 MiB or until the log fails (zeros
  // are asked for ahead at the latest once it passes 8 MiB; whether they come before is up to
  // the allocator's timing), then waits for the failure. Returns a write-out's status after.
  Status AppendUntilTheLogFails(CommitLog* log, int* count) {
    Status s;
    while (s.ok() && log->appended() < (9 << 20)) {
      s = AppendNumbered(log, (*count)++, 1000).status();
      if (s.ok()) s = log->WriteOut();
    }
    if (s.ok()) {
      EXPECT_TRUE(test::WaitUntil([&] { return !log->WriteOut().ok(); }, std::chrono::seconds(20)));
    }
    return log->WriteOut();
  }
  void SetUp() override { ASSERT_OK(recording_.CreateDir(kRoot)); }

  ZeroWriteRecordingEnv recording_;
};

TEST_F(CommitLogZeroAheadTest, ZerosAreWrittenPastTheCacheAndSyncedAheadOfTheAppends) {
  auto log = NewZeroingLog(kAhead);
  int count = 0;
  // The whole pages past the page that holds the appended end (that page is the
  // write-outs': see WriteOutsFillTheirLastPageWithZeros).
  ASSERT_NO_FATAL_FAILURE(FillAndAwaitSyncedZeros(log.get(), &count, 4096));
  const std::string path = filename::CommitLogSegment(kRoot, 0);
  const uint64_t want_to = (8 << 20) + kAhead;
  // Through a direct descriptor, in whole pages (as O_DIRECT requires), none beyond what
  // was asked for and none over the page of the appended end.
  for (const auto& r : recording_.ZeroWrites(path)) {
    EXPECT_TRUE(r.direct) << r.from;
    EXPECT_EQ(r.from % 4096, 0u) << r.from;
    EXPECT_EQ(r.to % 4096, 0u) << r.to;
    EXPECT_LE(r.to, want_to + 4096);
  }
  ExpectNumberedRecords(*log, count);
}

// A file system without direct writes (tmpfs before Linux 6.6): zeros go through the page
// cache, a page per write, each 1 MiB piece written back on its own.
TEST_F(CommitLogZeroAheadTest, WithoutDirectWritesZerosGoThroughTheCacheAPageAtATime) {
  recording_.RefuseDirect();
  auto log = NewZeroingLog(kAhead);
  int count = 0;
  // What is left of the step beyond the appended end, to the byte.
  ASSERT_NO_FATAL_FAILURE(FillAndAwaitSyncedZeros(log.get(), &count, 1));
  const std::string path = filename::CommitLogSegment(kRoot, 0);
  const uint64_t want_to = (8 << 20) + kAhead;
  // Each piece (at most 1 MiB) is also written back on its own, so that a sync of the
  // flusher never waits for a whole step of zeros. (Waited for: a sync of the test's own
  // write-outs may mark a piece synced before the allocator writes it back.)
  auto all_written_back = [&] {
    for (const auto& r : recording_.ZeroWrites(path)) {
      if (!r.written_back) return false;
    }
    return true;
  };
  EXPECT_TRUE(test::WaitUntil(all_written_back, std::chrono::seconds(20)));
  // ... and none went beyond what was asked for (from the end of the append that crossed
  // 8 MiB, one record past it).
  // Each write fills one page at most: larger writes fill the page cache with large folios
  // (docs/design/0018-single-page-cache-fill.md).
  for (const auto& r : recording_.ZeroWrites(path)) {
    EXPECT_LE(r.to, want_to + 4096);
    EXPECT_LE(r.to - r.from, 4096u) << r.from;
    EXPECT_EQ(r.from / 4096, (r.to - 1) / 4096) << r.from << " to " << r.to;
  }
  ExpectNumberedRecords(*log, count);
}

// A failed write-back of the zeros is a failing disk: the log fails rather than go on
// acknowledging (the flusher's descriptor sees the error too, but maybe only later).
TEST_F(CommitLogZeroAheadTest, AFailedWriteBackOfZerosFailsTheLog) {
  recording_.RefuseDirect();  // write-backs are the cached path's
  recording_.FailWriteBacks();
  auto log = NewZeroingLog(kAhead);
  int count = 0;
  Status s = AppendUntilTheLogFails(log.get(), &count);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.ToString().find("zero-ahead"), std::string::npos) << s.ToString();
  EXPECT_FALSE(AppendNumbered(log.get(), count++, 1000).ok());
}

// The kernel reports a write-back error once per descriptor, to whichever sync looks first.
// Zero-ahead syncs and writes back through a descriptor of its own: an error it meets must
// still fail the log's own sync (the flusher's), or that sync would acknowledge records the
// disk lost.
TEST_F(CommitLogZeroAheadTest, AWriteBackErrorSeenByZeroAheadStillFailsTheLogsSync) {
  auto log = NewZeroingLog(kAhead);
  int count = 0;
  ASSERT_NO_FATAL_FAILURE(FillWrittenOut(log.get(), 64 << 10, &count));  // the log's descriptor
  const std::string path = filename::CommitLogSegment(kRoot, 0);
  recording_.InjectWriteBackError(path);
  // Appends ask for zeros ahead at the latest past 8 MiB (as in the test above); the
  // allocator's write-back or sync of them meets the error first (nothing else here syncs),
  // and may fail the log before the appends get there.
  Status s;
  while (s.ok() && log->appended() < (9 << 20)) {
    s = AppendNumbered(log.get(), count++, 1000).status();
    if (s.ok()) s = log->WriteOut();
  }
  ASSERT_TRUE(test::WaitUntil([&] { return recording_.WriteBackErrorReported(path); },
                              std::chrono::seconds(20)));
  s = log->Sync(0, log->written());
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.ToString().find("reported to this descriptor"), std::string::npos) << s.ToString();
  // And the log refuses writes from now on (once the allocator, which saw the error first,
  // has failed it).
  EXPECT_TRUE(test::WaitUntil([&] { return !log->WriteOut().ok(); }, std::chrono::seconds(20)));
}

// A direct write that fails is a failing disk: the log fails, as for a failed write-back.
TEST_F(CommitLogZeroAheadTest, AFailedDirectWriteOfZerosFailsTheLog) {
  recording_.FailDirectWrites();
  auto log = NewZeroingLog(kAhead);
  int count = 0;
  Status s = AppendUntilTheLogFails(log.get(), &count);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.ToString().find("direct write (zero-ahead)"), std::string::npos) << s.ToString();
}

// A file system that opens for direct writes and then refuses them: zero-ahead goes on
// through the page cache, and the log does not fail.
TEST_F(CommitLogZeroAheadTest, DirectWritesRefusedAfterTheOpenFallBackToTheCache) {
  recording_.RefuseDirectWrites();
  auto log = NewZeroingLog(kAhead);
  int count = 0;
  ASSERT_NO_FATAL_FAILURE(FillAndAwaitSyncedZeros(log.get(), &count, 1));
  const std::string path = filename::CommitLogSegment(kRoot, 0);
  for (const auto& r : recording_.ZeroWrites(path)) EXPECT_FALSE(r.direct) << r.from;
  ASSERT_OK(log->WriteOut());
  ExpectNumberedRecords(*log, count);
}

// Every write-out ends on a page boundary, the rest of its last page filled with zeros: the
// next write-out starts in that page and finds it whole in the page cache, where zero-ahead
// left the pages past it out of the cache (a part-page write of an uncached page reads it
// from the disk first, in the flusher's path).
TEST_F(CommitLogZeroAheadTest, WriteOutsFillTheirLastPageWithZeros) {
  auto log = NewZeroingLog(kAhead);
  int count = 0;
  ASSERT_NO_FATAL_FAILURE(FillWrittenOut(log.get(), 2 << 20, &count));
  const std::string path = filename::CommitLogSegment(kRoot, 0);
  const auto writes = recording_.DataWrites(path);
  ASSERT_GE(writes.size(), 2u);
  for (const auto& [from, to] : writes) EXPECT_EQ(to % 4096, 0u) << from << " to " << to;
  // The bytes from the written end to its page end are zeros, and records read back whole.
  auto file = recording_.base()->OpenFile(path, OpenMode::kReadOnly);
  ASSERT_OK(file.status());
  const auto end = static_cast<uint64_t>(log->written());
  std::string tail(4096 - end % 4096, 'x');
  size_t n = 0;
  ASSERT_OK((*file)->Read(end, tail.size(), tail.data(), &n));
  ASSERT_EQ(n, tail.size());
  EXPECT_EQ(tail, std::string(tail.size(), '\0'));
  ExpectNumberedRecords(*log, count);
}

TEST_F(CommitLogZeroAheadTest, WithoutZeroAheadNothingIsZeroed) {
  auto log = NewZeroingLog(0);
  int count = 0;
  ASSERT_NO_FATAL_FAILURE(FillWrittenOut(log.get(), 9 << 20, &count));
  log.reset();  // the allocator thread has stopped
  EXPECT_TRUE(recording_.ZeroWrites(filename::CommitLogSegment(kRoot, 0)).empty());
}

TEST_F(CommitLogZeroAheadTest, ZerosNeverLandOnRecords) {
  // Zeroing a little ahead of appends that run as fast as they can, written out by another
  // thread: the zeros race the write-outs all the time. Every record must read back whole.
  auto log = NewZeroingLog(8 << 20);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    while (!done.load()) {
      ASSERT_OK(log->WriteOut());
      std::this_thread::yield();  // a spinning write-out would starve the zeroing thread
    }
  });
  int count = 0;
  while (log->appended() < static_cast<int64_t>(kBigSegment + (10 << 20))) {
    ASSERT_OK(
        AppendNumbered(log.get(), count, static_cast<size_t>(100 + (count * 37) % 3000)).status());
    ++count;
  }
  done.store(true);
  writer.join();
  ASSERT_OK(log->WriteOut());
  // The last step asked for 8 MiB ahead of 24 MiB: the zeros beyond the end come, and the
  // records before them must still read back whole.
  const std::string second = filename::CommitLogSegment(kRoot, kBigSegment);
  const auto end = static_cast<uint64_t>(log->appended()) - kBigSegment;
  ASSERT_TRUE(test::WaitUntil(
      [&] {
        auto zeros = recording_.ZeroWrites(second);
        return std::any_of(zeros.begin(), zeros.end(), [&](const auto& r) { return r.to > end; });
      },
      std::chrono::seconds(20)));
  ExpectNumberedRecords(*log, count);
}

}  // namespace
}  // namespace mqstore
