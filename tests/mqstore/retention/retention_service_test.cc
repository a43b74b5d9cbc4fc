#include "retention/retention_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "log/queue_offset_table.h"
#include "mqstore/log/log_test_util.h"
#include "mqstore/mem_env.h"
#include "support/test_util.h"
#include "util/filename.h"

namespace mqstore {
namespace {

using test::MakeMessage;

constexpr uint64_t kSegment = 4096;
constexpr uint32_t kQueueEntriesPerFile = 2;
constexpr int64_t kHour = 60 * 60 * 1000;
constexpr int64_t kT0 = 1'700'000'000'000;
constexpr int kDeleteHour = 4;
constexpr int kOtherHour = 12;
const std::string kRoot = "/store";
const SocketAddress kHost = SocketAddress::V4(127, 0, 0, 1, 10911);

// A commit log with its queues and index on a MemEnv, dispatched by hand, and a retention
// service over them whose local hour and clock the test sets.
class RetentionServiceTest : public ::testing::Test {
 protected:
  RetentionServiceTest() { EXPECT_OK(env_->CreateDir(kRoot)); }

  void Open(RetentionPolicyOptions policy = {}) {
    log_ = std::make_unique<CommitLog>(env_.get(), kRoot,
                                       log_test::TestLogOptions(kSegment, &clock_, kHost));
    ASSERT_OK(log_->Load());
    ASSERT_OK(log_->TruncateTo(0, false));
    queues_ = std::make_unique<ConsumeQueueSet>(env_.get(), kRoot, kQueueEntriesPerFile);
    ASSERT_OK(queues_->Load());
    index_ = std::make_unique<IndexService>(env_.get(), kRoot, IndexOptions{8, 4});
    ASSERT_OK(index_->Load());
    NewService(std::move(policy));
  }
  void NewService(RetentionPolicyOptions policy) {
    auto made = RetentionPolicy::Create(std::move(policy));
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    service_ = std::make_unique<RetentionService>(env_.get(), kRoot, log_.get(), queues_.get(),
                                                  index_.get(), std::move(made).value(),
                                                  [this](int64_t) { return hour_.load(); });
  }

  // Appends one record (queue 0 and 1 alternately, key "k<n>") stored at the clock's time.
  AppendedRecord AppendRecord() {
    Message m = MakeMessage("TopicA", static_cast<int32_t>(count_ % 2), std::string(900, 'x'),
                            "tag", "k" + std::to_string(count_));
    ++count_;
    std::string props;
    MessageView view = m.View(&props);
    PreparedRecord prepared;
    EXPECT_OK(PrepareRecord(view, kHost, 1 << 20, &prepared));
    AppendedRecord out;
    int64_t ts = 0;
    EXPECT_OK(log_->Append({&prepared, 1}, &offsets_, {&out, 1}, &ts));
    return out;
  }
  // Appends records stored at `time_ms` that fill one segment; the first opens it.
  void FillSegment(int64_t time_ms) {
    clock_.Set(time_ms);
    AppendedRecord first = AppendRecord();
    int64_t seg_end = first.physical_offset - first.physical_offset % kSegment + kSegment;
    while (log_->appended() + first.size + 8 <= seg_end) AppendRecord();
  }
  // `n` segments, segment i stored at kT0 + i hours; the last one is the active one.
  void FillSegments(int n) {
    for (int i = 0; i < n; ++i) FillSegment(kT0 + i * kHour);
  }
  // What the dispatcher does: queue entries and index entries for every appended record.
  void DispatchAll() {
    while (dispatched_ < log_->appended()) {
      auto seg = log_->SegmentFor(dispatched_);
      ASSERT_NE(seg, nullptr);
      uint64_t in_seg = static_cast<uint64_t>(dispatched_ - seg->base());
      RecordSummary r;
      RecordCheck check = CheckRecord(seg->View(in_seg, seg->size() - in_seg), true, &r);
      if (check == RecordCheck::kBlank) {
        dispatched_ = seg->end();
        continue;
      }
      ASSERT_EQ(check, RecordCheck::kRecord);
      ASSERT_OK(queues_->Apply(r, dispatched_));
      IndexRecord ir = IndexRecordOf(r.topic, r.properties);
      ir.physical_offset = dispatched_;
      ir.size = r.total_size;
      ir.store_timestamp_ms = r.store_timestamp_ms;
      ASSERT_OK(index_->Add(ir));
      dispatched_ += r.total_size;
    }
  }
  // Runs a round with everything dispatched and durable.
  RetentionReport Run(int64_t now_ms) { return RunWithLimit(now_ms, log_->appended()); }
  RetentionReport RunWithLimit(int64_t now_ms, int64_t limit) {
    auto r = service_->RunOnce(now_ms, limit);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RetentionReport{};
  }
  double UsedPercent() {
    auto d = env_->GetDiskSpace(kRoot);
    EXPECT_TRUE(d.ok());
    return 100.0 * static_cast<double>(d->total_bytes - d->available_bytes) /
           static_cast<double>(d->total_bytes);
  }
  // Sets the capacity so that what is stored now fills `percent` of the disk.
  void SetUsage(double percent) {
    auto d = env_->GetDiskSpace(kRoot);
    ASSERT_TRUE(d.ok());
    uint64_t used = d->total_bytes - d->available_bytes;
    env_->SetCapacity(static_cast<uint64_t>(static_cast<double>(used) * 100.0 / percent));
  }
  size_t SegmentCount() const { return log_->Segments().size(); }
  // What Store::Read answers for an offset below a queue's min: OFFSET_TOO_SMALL with it.
  bool OffsetTooSmall(int32_t queue_id, int64_t offset, int64_t* next) {
    auto q = queues_->Find("TopicA", queue_id);
    *next = q->min_offset();
    return offset < q->min_offset();
  }

  std::unique_ptr<MemEnv> env_ = NewMemEnv();
  test::ManualClock clock_{kT0};
  std::atomic<int> hour_{kOtherHour};
  QueueOffsetTable offsets_;
  std::unique_ptr<CommitLog> log_;
  std::unique_ptr<ConsumeQueueSet> queues_;
  std::unique_ptr<IndexService> index_;
  std::unique_ptr<RetentionService> service_;
  int count_ = 0;
  int64_t dispatched_ = 0;
};

TEST_F(RetentionServiceTest, ExpiredSegmentsGoOnlyAtADeleteHour) {
  Open({.file_reserved_ms = kHour});
  FillSegments(4);
  DispatchAll();
  const int64_t late = kT0 + 100 * kHour;  // everything but the active segment expired
  hour_ = kOtherHour;
  RetentionReport r = Run(late);
  EXPECT_FALSE(r.decision.delete_expired);
  EXPECT_EQ(r.segments_removed, 0u);
  EXPECT_EQ(log_->min_offset(), 0);
  hour_ = kDeleteHour;
  r = Run(late);
  EXPECT_TRUE(r.decision.delete_expired);
  EXPECT_EQ(r.local_hour, kDeleteHour);
  EXPECT_EQ(r.segments_removed, 3u);
  EXPECT_EQ(r.log_min_offset, int64_t{3} * kSegment);
  EXPECT_EQ(SegmentCount(), 1u);  // the active one stays
  EXPECT_FALSE(env_->FileExists(filename::CommitLogSegment(kRoot, 0)));
  EXPECT_TRUE(r.writes_allowed);
}

TEST_F(RetentionServiceTest,
       ASegmentIsDatedByTheNextSegmentsFirstRecordAndDeletionStopsAtTheFirstYoungOne) {
  Open({.file_reserved_ms = 72 * kHour});
  hour_ = kDeleteHour;
  // Segment i holds records stored at kT0 + i h, so segment i was last written before
  // kT0 + (i + 1) h.
  FillSegments(5);
  DispatchAll();
  // At kT0 + 73 h: segment 0 (last write <= 1 h) is 72 h old, segment 1 (<= 2 h) is 71 h.
  RetentionReport r = Run(kT0 + 73 * kHour - 1);
  EXPECT_EQ(r.segments_removed, 0u);
  r = Run(kT0 + 73 * kHour);
  EXPECT_EQ(r.segments_removed, 1u);
  EXPECT_EQ(log_->min_offset(), int64_t{kSegment});
  r = Run(kT0 + 74 * kHour + 30 * 60 * 1000);
  EXPECT_EQ(r.segments_removed, 1u);
  EXPECT_EQ(log_->min_offset(), int64_t{2 * kSegment});
}

TEST_F(RetentionServiceTest, ASegmentWhoseSuccessorHoldsNoRecordHasNoAgeAndStays) {
  Open({.file_reserved_ms = kHour});
  hour_ = kDeleteHour;
  FillSegments(3);
  // Cut the log at the start of segment 2, which stays, empty, as the active segment.
  ASSERT_OK(log_->TruncateTo(2 * kSegment, /*zero_tail=*/true));
  ASSERT_EQ(SegmentCount(), 3u);
  DispatchAll();
  auto oldest = log_->OldestSegments(INT64_MAX, 10);
  ASSERT_EQ(oldest.size(), 2u);
  EXPECT_EQ(oldest[0].stored_before_ms, kT0 + kHour);  // segment 1's first record
  EXPECT_FALSE(oldest[1].stored_before_ms.has_value());
  RetentionReport r = Run(kT0 + 1000 * kHour);
  EXPECT_EQ(r.segments_removed, 1u);
  EXPECT_EQ(log_->min_offset(), int64_t{kSegment});
}

TEST_F(RetentionServiceTest, AtMostMaxSegmentsPerRound) {
  Open({.file_reserved_ms = kHour, .max_segments_per_round = 2});
  hour_ = kDeleteHour;
  FillSegments(7);
  DispatchAll();
  for (int64_t expected_min : {2, 4, 6, 6}) {
    Run(kT0 + 100 * kHour);
    EXPECT_EQ(log_->min_offset(), expected_min * int64_t{kSegment});
  }
}

TEST_F(RetentionServiceTest, ForcedCleaningIgnoresAgeAndStopsOnceBelowTheThreshold) {
  Open();  // 72 h, "04", 75 / 85 / 90
  FillSegments(10);
  DispatchAll();
  SetUsage(88);
  ASSERT_GT(UsedPercent(), 85);
  // The fewest segments whose removal brings usage to 85 % or less.
  auto space = env_->GetDiskSpace(kRoot);
  ASSERT_TRUE(space.ok());
  uint64_t used = space->total_bytes - space->available_bytes;
  size_t needed = 0;
  while (100.0 * static_cast<double>(used - needed * kSegment) /
             static_cast<double>(space->total_bytes) >
         85) {
    ++needed;
  }
  ASSERT_GE(needed, 1u);
  RetentionReport r = Run(kT0 + 10 * kHour);  // nothing is near 72 h old
  EXPECT_TRUE(r.decision.delete_unexpired);
  EXPECT_FALSE(r.decision.refuse_writes);
  EXPECT_EQ(r.segments_removed, needed);
  EXPECT_LE(UsedPercent(), 85);
  EXPECT_TRUE(r.writes_allowed);
}

TEST_F(RetentionServiceTest, WritesAreRefusedAboveTheThresholdAndResumeWhenUsageDrops) {
  Open();
  FillSegments(4);
  DispatchAll();
  SetUsage(95);
  // A limit at the log's start: nothing can be removed, so the disk stays full.
  RetentionReport r = RunWithLimit(kT0, 0);
  EXPECT_TRUE(r.decision.refuse_writes);
  EXPECT_FALSE(r.writes_allowed);
  EXPECT_FALSE(service_->writes_allowed());
  EXPECT_EQ(r.segments_removed, 0u);
  RunWithLimit(kT0, 0);
  EXPECT_FALSE(service_->writes_allowed());
  // Space freed elsewhere: the next round lets writes in again.
  env_->SetCapacity(uint64_t{1} << 30);
  r = RunWithLimit(kT0, 0);
  EXPECT_FALSE(r.decision.refuse_writes);
  EXPECT_TRUE(service_->writes_allowed());
}

TEST_F(RetentionServiceTest, WritesResumeInTheRoundThatFreedTheSpace) {
  Open();
  FillSegments(10);
  DispatchAll();
  SetUsage(92);
  RetentionReport r = Run(kT0);
  EXPECT_TRUE(r.decision.refuse_writes);  // at the start of the round
  EXPECT_GE(r.segments_removed, 1u);
  EXPECT_LE(UsedPercent(), 85);
  EXPECT_TRUE(r.writes_allowed);
  EXPECT_TRUE(service_->writes_allowed());
}

TEST_F(RetentionServiceTest, NeverRemovesTheActiveSegmentNorAnythingAtOrPastTheLimit) {
  Open({.file_reserved_ms = kHour});
  hour_ = kDeleteHour;
  FillSegments(6);
  DispatchAll();
  // The limit inside segment 2: only 0 and 1 end at or before it.
  RetentionReport r = RunWithLimit(kT0 + 100 * kHour, 2 * kSegment + 100);
  EXPECT_EQ(r.segments_removed, 2u);
  EXPECT_EQ(log_->min_offset(), int64_t{2 * kSegment});
  // A limit exactly at a segment's end lets that segment go.
  r = RunWithLimit(kT0 + 100 * kHour, 3 * kSegment);
  EXPECT_EQ(r.segments_removed, 1u);
  // With no limit, everything but the active segment goes.
  r = RunWithLimit(kT0 + 100 * kHour, INT64_MAX);
  EXPECT_EQ(SegmentCount(), 1u);
  EXPECT_EQ(log_->min_offset(), int64_t{5 * kSegment});
  // And appends go on in it.
  AppendedRecord next = AppendRecord();
  EXPECT_GE(next.physical_offset, 5 * int64_t{kSegment});
}

TEST_F(RetentionServiceTest, QueueMinOffsetsMoveUpAndReadsBelowGetTheNewMinimum) {
  Open({.file_reserved_ms = kHour});
  hour_ = kDeleteHour;
  FillSegments(5);  // 3 records per segment, alternating queues 0 and 1
  DispatchAll();
  auto q0 = queues_->Find("TopicA", 0);
  auto q1 = queues_->Find("TopicA", 1);
  ASSERT_NE(q0, nullptr);
  ASSERT_NE(q1, nullptr);
  const int64_t max0 = q0->max_offset(), max1 = q1->max_offset();
  RetentionReport r = RunWithLimit(kT0 + 100 * kHour, 2 * kSegment);
  ASSERT_EQ(r.segments_removed, 2u);
  EXPECT_GT(r.queue_files_removed, 0u);
  const int64_t log_min = log_->min_offset();
  for (const auto& q : {q0, q1}) {
    int64_t min = q->min_offset();
    ASSERT_GT(min, 0);
    std::vector<QueueEntry> entries;
    ASSERT_EQ(q->ReadEntries(min, 1, &entries), 1u);
    EXPECT_GE(entries[0].physical_offset, log_min);  // the first readable entry is backed
    EXPECT_NE(log_->SegmentFor(entries[0].physical_offset), nullptr);
    // ... and the one before it pointed below the log's start.
    EXPECT_EQ(q->FirstOffsetAtOrAfter(log_min), min);
    int64_t next = -1;
    EXPECT_TRUE(OffsetTooSmall(q->queue_id(), 0, &next));
    EXPECT_EQ(next, min);
    EXPECT_FALSE(OffsetTooSmall(q->queue_id(), min, &next));
    // Queue files below the min are gone; the queue's end is untouched.
    EXPECT_FALSE(env_->FileExists(filename::ConsumeQueueFile(kRoot, "TopicA", q->queue_id(), 0)));
  }
  EXPECT_EQ(q0->max_offset(), max0);
  EXPECT_EQ(q1->max_offset(), max1);
}

TEST_F(RetentionServiceTest, IndexFilesBelowTheLogAreRemoved) {
  Open({.file_reserved_ms = kHour});
  hour_ = kDeleteHour;
  FillSegments(6);
  DispatchAll();
  size_t files_before = index_->file_count();
  ASSERT_GT(files_before, 3u);  // 4 entries per index file
  auto found = [&](int n) {
    auto r = index_->Query("TopicA", "k" + std::to_string(n), INT64_MIN, INT64_MAX, 10, INT64_MAX);
    EXPECT_TRUE(r.ok());
    return r.ok() && !r->empty();
  };
  ASSERT_TRUE(found(0));
  RetentionReport r = RunWithLimit(kT0 + 100 * kHour, 3 * kSegment);
  ASSERT_EQ(r.segments_removed, 3u);
  EXPECT_GT(r.index_files_removed, 0u);
  EXPECT_EQ(index_->file_count(), files_before - r.index_files_removed);
  EXPECT_FALSE(found(0));          // its file is gone
  EXPECT_TRUE(found(count_ - 1));  // the newest record is still indexed
  // Every file left may still point into the log.
  auto paths = index_->file_paths();
  ASSERT_FALSE(paths.empty());
  for (const auto& p : paths) EXPECT_TRUE(env_->FileExists(p)) << p;
}

TEST_F(RetentionServiceTest, RemovalsSurviveACrashAndTheStoreReopensOnThem) {
  Open({.file_reserved_ms = kHour});
  hour_ = kDeleteHour;
  FillSegments(6);
  DispatchAll();
  ASSERT_OK(log_->Sync(log_->min_offset(), log_->appended()));
  ASSERT_OK(queues_->SyncAll());
  ASSERT_OK(index_->Flush());
  RetentionReport r = RunWithLimit(kT0 + 100 * kHour, 4 * kSegment);
  ASSERT_EQ(r.segments_removed, 4u);
  auto crashed = env_->CrashCopy({});
  CommitLog log(crashed.get(), kRoot, log_test::TestLogOptions(kSegment, &clock_, kHost));
  ASSERT_OK(log.Load());
  EXPECT_EQ(log.min_offset(), int64_t{4 * kSegment});
  ConsumeQueueSet queues(crashed.get(), kRoot, kQueueEntriesPerFile);
  ASSERT_OK(queues.Load());
  IndexService index(crashed.get(), kRoot, IndexOptions{8, 4});
  ASSERT_OK(index.Load());
  EXPECT_EQ(index.file_count(), index_->file_count());
  queues.ForEach([&](ConsumeQueue& q) {
    EXPECT_EQ(q.max_offset(), queues_->Find(q.topic(), q.queue_id())->max_offset());
  });
}

TEST_F(RetentionServiceTest, ApplyLogMinOffsetAtOpenCatchesUpWithALogThatMovedAlone) {
  Open({.file_reserved_ms = kHour});
  FillSegments(6);
  DispatchAll();
  // A crash between the log step and the queue step: the log moved, the queues did not.
  ASSERT_OK_AND_ASSIGN(size_t removed, log_->RemoveSegmentsBefore(3 * kSegment));
  ASSERT_EQ(removed, 3u);
  // Reopened queues start at their first file, below the log.
  queues_ = std::make_unique<ConsumeQueueSet>(env_.get(), kRoot, kQueueEntriesPerFile);
  ASSERT_OK(queues_->Load());
  EXPECT_EQ(queues_->Find("TopicA", 0)->min_offset(), 0);
  NewService({.file_reserved_ms = kHour});
  ASSERT_OK(service_->ApplyLogMinOffset());
  const int64_t log_min = log_->min_offset();
  queues_->ForEach([&](ConsumeQueue& q) {
    EXPECT_EQ(q.min_offset(), q.FirstOffsetAtOrAfter(log_min));
    EXPECT_GT(q.min_offset(), 0);
    std::vector<QueueEntry> e;
    ASSERT_EQ(q.ReadEntries(q.min_offset(), 1, &e), 1u);
    EXPECT_GE(e[0].physical_offset, log_min);
  });
  EXPECT_FALSE(env_->FileExists(filename::ConsumeQueueFile(kRoot, "TopicA", 0, 0)));
}

TEST_F(RetentionServiceTest, PinnedSegmentsStayReadableAfterRemoval) {
  Open({.file_reserved_ms = kHour});
  hour_ = kDeleteHour;
  FillSegments(3);
  DispatchAll();
  std::shared_ptr<MappedFile> pin = log_->SegmentFor(0);
  ASSERT_NE(pin, nullptr);
  std::string before(pin->View(0, kSegment));
  RetentionReport r = Run(kT0 + 100 * kHour);
  ASSERT_EQ(r.segments_removed, 2u);
  EXPECT_EQ(log_->SegmentFor(0), nullptr);
  EXPECT_EQ(std::string(pin->View(0, kSegment)), before);
  RecordSummary first;
  EXPECT_EQ(CheckRecord(pin->View(0, kSegment), true, &first), RecordCheck::kRecord);
}

TEST_F(RetentionServiceTest, AppendsAndReadsGoOnWhileSegmentsAreRemoved) {
  Open({.file_reserved_ms = 1});
  hour_ = kDeleteHour;
  FillSegments(2);
  std::atomic<bool> stop{false};
  std::atomic<int> appended{0};
  std::atomic<int> bad_reads{0};
  std::thread writer([&] {
    for (int i = 0; i < 3000; ++i) {
      AppendRecord();
      ++appended;
    }
    stop = true;
  });
  std::thread reader([&] {
    while (!stop.load()) {
      // The first record of the oldest segment, read through a pin. A segment whose base is
      // below appended() has its first record complete.
      int64_t end = log_->appended();
      auto seg = log_->SegmentFor(log_->min_offset());
      if (!seg || seg->base() >= end) continue;  // removed meanwhile, or brand new
      RecordSummary r;
      if (CheckRecord(seg->View(0, seg->size()), true, &r) != RecordCheck::kRecord) ++bad_reads;
    }
  });
  size_t removed = 0;
  while (!stop.load()) {
    // Everything appended counts as dispatched and durable here.
    auto r = service_->RunOnce(clock_.NowMillis() + 10, log_->appended());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) removed += r->segments_removed;
  }
  writer.join();
  reader.join();
  removed += RunWithLimit(clock_.NowMillis() + 10, log_->appended()).segments_removed;
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_GT(removed, 0u);
  // The log from its new start to its end is whole: every position is a record or a blank.
  int64_t pos = log_->min_offset();
  int records = 0;
  while (pos < log_->appended()) {
    auto seg = log_->SegmentFor(pos);
    ASSERT_NE(seg, nullptr) << pos;
    RecordSummary r;
    uint64_t in_seg = static_cast<uint64_t>(pos - seg->base());
    RecordCheck check = CheckRecord(seg->View(in_seg, seg->size() - in_seg), true, &r);
    ASSERT_NE(check, RecordCheck::kEnd) << pos;
    if (check == RecordCheck::kBlank) {
      pos = seg->end();
      continue;
    }
    ASSERT_EQ(r.physical_offset, pos);
    pos += r.total_size;
    ++records;
  }
  EXPECT_GT(records, 0);
  EXPECT_EQ(appended.load(), 3000);
}

}  // namespace
}  // namespace mqstore
