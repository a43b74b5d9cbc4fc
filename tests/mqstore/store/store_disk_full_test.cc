// A full disk (ENOSPC) through the store façade, on a MemEnv whose capacity the test sets
// (MemEnv::SetCapacity). The disk fills in the middle of a segment's appends, exactly when
// the next commit-log segment must be made, when a consume-queue or index file must be made,
// and around checkpoints. In every case a put that cannot get its space fails with
// kResourceExhausted and changes nothing; what was acknowledged before stays readable byte
// for byte and survives a crash; once there is room again puts go on without reopening the
// store, with contiguous queue offsets; and mqdump's verify finds nothing wrong.
//
// Why the budgets below are deterministic: every test leaves less than a segment free once
// segment 0 exists, so the allocator thread's background attempt at segment 1 always fails,
// whenever it runs; the only other consumer of space is the dispatcher (one thread).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index/index_file.h"
#include "mqstore/crash/crash_workload.h"
#include "mqstore/inspect.h"
#include "mqstore/mem_env.h"
#include "mqstore/store.h"
#include "mqstore/store/store_test_util.h"
#include "queue/consume_queue.h"
#include "recovery/checkpoint.h"
#include "support/test_util.h"
#include "util/filename.h"

namespace mqstore::test {
namespace {

constexpr uint64_t kSegmentBytes = 16 << 10;
constexpr uint64_t kUnlimited = 1ull << 40;
constexpr int kAwaitMs = 30'000;

class StoreDiskFullTest : public ::testing::TestWithParam<FlushMode> {
 protected:
  StoreOptions Options(Env* env) {
    StoreOptions o;
    o.env = env;
    o.clock = &clock_;
    o.flush_mode = GetParam();
    o.commitlog_segment_bytes = kSegmentBytes;
    o.consume_queue_entries_per_file = queue_entries_;
    o.max_message_bytes = 4096;
    o.write_buffer_bytes = 4096 + (64 << 10);
    o.resident_log_window_bytes = 0;
    o.index_slots_per_file = 16;
    o.index_entries_per_file = index_entries_;
    // Frequent background flushes and checkpoints: they run against the full disk too.
    o.flush_interval_ms = 5;
    o.checkpoint_interval_ms = 5;
    // No background retention round: on a full disk it would raise the refuse line
    // (store_impl_retention_test covers it), and whether one ran before a put would decide
    // that put's fate.
    o.retention_interval_ms = 3'600'000;
    return o;
  }
  uint64_t QueueFileBytes() const { return uint64_t{queue_entries_} * kQueueEntrySize; }
  uint64_t IndexFileBytes() const { return IndexGeometry{16, index_entries_}.file_bytes(); }

  void Open() {
    auto opened = Store::Open(Options(env_.get()), "/store");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    // The schedulers' first round commits their progress (a file, written on a helper thread
    // and waited for by the next round): let both happen before a test measures the disk.
    // The clock stands still, so later rounds have nothing to commit.
    ASSERT_OK(store_->AwaitScheduleRound(kAwaitMs));
    ASSERT_OK(store_->AwaitScheduleRound(kAwaitMs));
  }
  static uint64_t Used(MemEnv* env) {
    DiskSpace d = env->GetDiskSpace("/store").value();
    return d.total_bytes - d.available_bytes;
  }
  // From now on the disk has `bytes` free.
  void SetFree(uint64_t bytes) { env_->SetCapacity(Used(env_.get()) + bytes); }
  void Unlimit() { env_->SetCapacity(kUnlimited); }

  Message Next(const std::string& topic, int32_t queue_id, size_t body_bytes,
               bool with_key = false) {
    int64_t seq = seq_++;
    return MakeMessage(topic, queue_id, BodyFor(1, seq, body_bytes), "tag",
                       with_key ? "key-" + std::to_string(seq) : "");
  }
  void Remember(const Message& m, const PutResult& r) {
    AckedPut p;
    p.topic = m.topic;
    p.queue_id = m.queue_id;
    p.body = m.body;
    p.properties = EncodeProperties(m.properties);
    p.flag = m.flag;
    p.result = r;
    p.must_survive = r.durable;
    acked_.push_back(std::move(p));
  }
  // Puts `m`; remembers it when acknowledged.
  Status Put(const Message& m) {
    auto r = PutMessage(store_.get(), m);
    if (!r.ok()) return r.status();
    if (r->status != PutStatus::kOk) return Status::TimedOut("FLUSH_DISK_TIMEOUT");
    Remember(m, *r);
    return Status::OK();
  }
  Status PutAll(const std::vector<Message>& batch) {
    auto r = PutMessages(store_.get(), batch);
    if (!r.ok()) return r.status();
    if (r->status != PutStatus::kOk) return Status::TimedOut("FLUSH_DISK_TIMEOUT");
    for (size_t i = 0; i < batch.size(); ++i) Remember(batch[i], r->items[i]);
    return Status::OK();
  }
  // A put the full disk must refuse: kResourceExhausted, and the log does not move.
  void ExpectRefused(const Message& m) {
    int64_t before = store_->Stats().appended_offset;
    Status s = Put(m);
    EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
    EXPECT_EQ(store_->Stats().appended_offset, before) << "a refused put changed the log";
  }
  void MarkAllMustSurvive() {
    for (AckedPut& p : acked_) p.must_survive = true;
  }

  // Every acknowledged put is readable through its queue and ReadRecord, queues hold nothing
  // else and have no holes. Flushes and waits for dispatch first.
  void CheckLive() {
    ASSERT_OK(store_->Flush());
    MarkAllMustSurvive();
    ASSERT_OK(store_->AwaitDispatched(store_->Stats().appended_offset, kAwaitMs));
    ASSERT_OK(VerifyRecovered(store_.get(), acked_));
    ExpectContiguousOffsets();
  }
  // The acknowledged queue offsets of each queue are exactly 0, 1, 2, ...
  void ExpectContiguousOffsets() {
    std::map<std::pair<std::string, int32_t>, std::vector<int64_t>> offsets;
    for (const AckedPut& p : acked_) {
      offsets[{p.topic, p.queue_id}].push_back(p.result.queue_offset);
    }
    for (auto& [queue, list] : offsets) {
      std::sort(list.begin(), list.end());
      for (size_t i = 0; i < list.size(); ++i) {
        ASSERT_EQ(list[i], static_cast<int64_t>(i))
            << queue.first << "/" << queue.second << ": hole or duplicate queue offset";
      }
    }
  }

  // What a power cut now would leave, reopened (with room), checked against the acknowledged
  // puts, closed and verified as mqdump would.
  void CrashCopyAndCheck() {
    std::unique_ptr<MemEnv> copy = env_->CrashCopy(CrashOptions{});
    copy->SetCapacity(kUnlimited);
    ReopenAndCheck(copy.get());
  }
  void ReopenAndCheck(MemEnv* env) {
    {
      auto reopened = Store::Open(Options(env), "/store");
      ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
      ASSERT_OK(VerifyRecovered(reopened->get(), acked_));
      ASSERT_OK((*reopened)->Close());
    }
    VerifyLikeMqdump(env);
  }
  static void VerifyLikeMqdump(MemEnv* env) {
    InspectOptions inspect;
    inspect.env = env;
    auto inspector = StoreInspector::Open("/store", inspect);
    ASSERT_TRUE(inspector.ok()) << inspector.status().ToString();
    std::vector<std::string> problems;
    VerifyOptions verify;
    verify.report = [&](const Problem& p) {
      if (p.severity != Severity::kNote) {
        problems.push_back(std::string(SeverityName(p.severity)) + " " + p.path + ": " + p.message);
      }
    };
    auto summary = (*inspector)->Verify(verify);
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    EXPECT_TRUE(problems.empty()) << problems.front();
    EXPECT_TRUE(summary->clean());
  }
  // Closes the store (with room), reopens it and checks everything again.
  void CloseReopenAndCheck() {
    ASSERT_OK(store_->Close());
    store_.reset();
    MarkAllMustSurvive();
    ReopenAndCheck(env_.get());
  }

  uint32_t queue_entries_ = 256;
  uint32_t index_entries_ = 64;
  std::unique_ptr<MemEnv> env_ = NewMemEnv();
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::vector<AckedPut> acked_;
  int64_t seq_ = 0;
};

// (a) The disk fills while segment 0 is being appended to. Its space was reserved when it was
// made (preallocated), so appends go on until it is full; the put that needs segment 1 fails.
TEST_P(StoreDiskFullTest, AppendsFillThePreallocatedSegmentThenThePutNeedingTheNextFails) {
  Open();
  // Room for segment 0 and one queue file, never for a second segment.
  SetFree(kSegmentBytes + QueueFileBytes() + 512);
  while (store_->Stats().appended_offset < static_cast<int64_t>(kSegmentBytes / 3)) {
    ASSERT_OK(Put(Next("Orders", 0, 300)));
  }
  // (The queue file exists before the disk fills: only the log is under test here.)
  ASSERT_OK(store_->AwaitDispatched(store_->Stats().appended_offset, kAwaitMs));
  const size_t before_full = acked_.size();
  SetFree(0);  // full, in the middle of segment 0
  Status s;
  int64_t end_before_failure = 0;
  for (int i = 0; i < 1000 && s.ok(); ++i) {
    end_before_failure = store_->Stats().appended_offset;
    s = Put(Next("Orders", 0, 300));
  }
  ASSERT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_GT(acked_.size(), before_full) << "appends into the preallocated segment need no space";
  // It failed exactly because the record did not fit in segment 0.
  EXPECT_GT(end_before_failure + acked_.back().result.record_size + 8,
            static_cast<int64_t>(kSegmentBytes));
  EXPECT_EQ(store_->Stats().appended_offset, end_before_failure);
  EXPECT_EQ(store_->Stats().segment_count, 1u);
  ExpectRefused(Next("Orders", 0, 300));  // and again: nothing changed, no poisoned state
  CheckLive();
  CrashCopyAndCheck();

  Unlimit();  // space is back: the same store goes on
  while (store_->Stats().appended_offset < static_cast<int64_t>(kSegmentBytes * 3 / 2)) {
    ASSERT_OK(Put(Next("Orders", 0, 300)));
  }
  EXPECT_EQ(store_->Stats().segment_count, 2u);
  CheckLive();
  CrashCopyAndCheck();
  CloseReopenAndCheck();
}

// (a') The very first segment cannot be preallocated: the first put fails, leaves no
// half-made segment and no queue, and the first put after space is back gets queue offset 0.
TEST_P(StoreDiskFullTest, FirstSegmentCannotBePreallocated) {
  Open();
  SetFree(kSegmentBytes - 1);
  ExpectRefused(Next("Orders", 0, 100));
  EXPECT_TRUE(store_->GetQueueBounds("Orders", 0).status().IsNotFound());
  EXPECT_TRUE(env_->GetChildren("/store/commitlog")->empty()) << "half-made segment left behind";
  ASSERT_OK(store_->Flush());
  CrashCopyAndCheck();

  Unlimit();
  ASSERT_OK(Put(Next("Orders", 0, 100)));
  EXPECT_EQ(acked_.back().result.queue_offset, 0);
  EXPECT_EQ(acked_.back().result.physical_offset, 0);
  CheckLive();
  CloseReopenAndCheck();
}

// (b) The disk is nearly full all along: exactly the put that needs segment 1 fails (single
// and batch), atomically; after space is back the next put rolls over, in the same store.
TEST_P(StoreDiskFullTest, NextSegmentCannotBeCreated) {
  Open();
  SetFree(kSegmentBytes + QueueFileBytes() * 2 + 512);
  Status s;
  int64_t end_before_failure = 0;
  int32_t failed_size = 0;
  for (int i = 0; i < 1000 && s.ok(); ++i) {
    end_before_failure = store_->Stats().appended_offset;
    Message m = Next("Orders", i % 2, 200 + (i * 37) % 300);
    failed_size = static_cast<int32_t>(m.body.size());
    s = Put(m);
  }
  ASSERT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_GT(end_before_failure + failed_size + 8, static_cast<int64_t>(kSegmentBytes) - 200)
      << "failed before segment 0 was full";
  EXPECT_EQ(store_->Stats().appended_offset, end_before_failure);
  // A batch that needs the new segment fails whole.
  int64_t before = store_->Stats().appended_offset;
  Status batch = PutAll({Next("Orders", 0, 900), Next("Orders", 1, 900), Next("Orders", 0, 900)});
  EXPECT_TRUE(batch.IsResourceExhausted()) << batch.ToString();
  EXPECT_EQ(store_->Stats().appended_offset, before);
  CheckLive();
  CrashCopyAndCheck();

  Unlimit();
  ASSERT_OK(PutAll({Next("Orders", 0, 900), Next("Orders", 1, 900), Next("Orders", 0, 900)}));
  EXPECT_EQ(acked_.back().result.physical_offset / static_cast<int64_t>(kSegmentBytes), 1)
      << "the batch went to the new segment";
  for (int i = 0; i < 20; ++i) ASSERT_OK(Put(Next("Orders", i % 2, 300)));
  CheckLive();
  CrashCopyAndCheck();
  CloseReopenAndCheck();
}

// (c) The log has room, but the dispatcher cannot create the next consume-queue file. The
// put that needed it is in the log (acknowledged) but not yet readable; later puts are
// refused until the dispatcher can go on, which it does by itself once there is room.
TEST_P(StoreDiskFullTest, ConsumeQueueFileCannotBeCreated) {
  queue_entries_ = 16;
  Open();
  SetFree(kSegmentBytes + QueueFileBytes() + 100);  // one queue file, no second
  for (int i = 0; i < 16; ++i) ASSERT_OK(Put(Next("Orders", 0, 100)));
  ASSERT_OK(store_->AwaitDispatched(store_->Stats().appended_offset, kAwaitMs));
  ASSERT_OK(Put(Next("Orders", 0, 100)));  // queue offset 16: needs queue file 2
  const int64_t end = store_->Stats().appended_offset;
  Status dispatched = store_->AwaitDispatched(end, kAwaitMs);
  EXPECT_TRUE(dispatched.IsResourceExhausted()) << dispatched.ToString();
  EXPECT_EQ(store_->GetQueueBounds("Orders", 0)->max_offset, 16);
  ExpectRefused(Next("Orders", 0, 100));
  ExpectRefused(Next("Other", 0, 100));
  ASSERT_OK(store_->Flush());
  MarkAllMustSurvive();
  CrashCopyAndCheck();  // recovery (with room) dispatches queue offset 16

  Unlimit();
  ASSERT_OK(Put(Next("Orders", 0, 100)));  // no reopen: the dispatcher resumed
  EXPECT_EQ(acked_.back().result.queue_offset, 17);
  for (int i = 0; i < 20; ++i) ASSERT_OK(Put(Next(i % 2 ? "Orders" : "Other", 0, 100)));
  CheckLive();
  CrashCopyAndCheck();
  CloseReopenAndCheck();
}

// (c') The same for the hash index: a record with a key needs a new index file.
TEST_P(StoreDiskFullTest, IndexFileCannotBeCreated) {
  index_entries_ = 8;
  Open();
  SetFree(kSegmentBytes + QueueFileBytes() + IndexFileBytes() + 100);
  for (int i = 0; i < 8; ++i) ASSERT_OK(Put(Next("Orders", 0, 100, /*with_key=*/true)));
  ASSERT_OK(store_->AwaitDispatched(store_->Stats().appended_offset, kAwaitMs));
  ASSERT_OK(Put(Next("Orders", 0, 100, /*with_key=*/true)));  // needs index file 2
  Status dispatched = store_->AwaitDispatched(store_->Stats().appended_offset, kAwaitMs);
  EXPECT_TRUE(dispatched.IsResourceExhausted()) << dispatched.ToString();
  ExpectRefused(Next("Orders", 0, 100));
  ASSERT_OK(store_->Flush());
  MarkAllMustSurvive();
  CrashCopyAndCheck();

  Unlimit();
  for (int i = 0; i < 20; ++i) ASSERT_OK(Put(Next("Orders", 0, 100, /*with_key=*/true)));
  CheckLive();
  // Every key is found, the one whose index file could not be made at first included.
  for (const AckedPut& p : acked_) {
    auto found = store_->QueryByKey("Orders", "key-" + p.body.substr(4, p.body.find(':', 4) - 4), 0,
                                    INT64_MAX, 4);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    ASSERT_EQ(found->size(), 1u) << Describe(p);
    EXPECT_EQ(found->front().physical_offset, p.result.physical_offset);
  }
  CrashCopyAndCheck();
  CloseReopenAndCheck();
}

// (c'') Close while the dispatcher is stopped by the full disk: Close says so (the queues do
// not cover the log, so the store is not marked cleanly closed) and the next open, with room,
// recovers everything.
TEST_P(StoreDiskFullTest, CloseWhileDispatchIsBlockedReportsResourceExhausted) {
  queue_entries_ = 16;
  Open();
  SetFree(kSegmentBytes + QueueFileBytes() + 100);
  for (int i = 0; i < 17; ++i) ASSERT_OK(Put(Next("Orders", 0, 100)));
  Status s = store_->Close();
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
  store_.reset();
  EXPECT_TRUE(env_->FileExists(filename::AbortMarker("/store")));
  MarkAllMustSurvive();  // Close flushed the log

  // Reopening on the still full disk cannot dispatch either: it says so and harms nothing.
  {
    auto full = Store::Open(Options(env_.get()), "/store");
    EXPECT_TRUE(full.status().IsResourceExhausted()) << full.status().ToString();
  }
  CrashCopyAndCheck();
  Unlimit();
  ReopenAndCheck(env_.get());
}

// (d) The checkpoint file is preallocated (two 4 KiB slots) when the store is created, so
// flushes, periodic checkpoints and Close need no new space on a full disk.
TEST_P(StoreDiskFullTest, FlushCheckpointAndCloseNeedNoSpace) {
  Open();
  SetFree(kSegmentBytes + QueueFileBytes() + 512);
  for (int i = 0; i < 10; ++i) ASSERT_OK(Put(Next("Orders", 0, 300)));
  ASSERT_OK(store_->AwaitDispatched(store_->Stats().appended_offset, kAwaitMs));
  SetFree(0);
  for (int i = 0; i < 10; ++i) ASSERT_OK(Put(Next("Orders", 0, 300)));
  ASSERT_OK(store_->Flush());
  MarkAllMustSurvive();
  CheckLive();
  CrashCopyAndCheck();
  ASSERT_OK(store_->Close());  // final checkpoint and the clean-close mark, on a full disk
  store_.reset();
  EXPECT_FALSE(env_->FileExists(filename::AbortMarker("/store")));
  auto checkpoint = Checkpoint::Read(env_.get(), filename::Checkpoint("/store"));
  ASSERT_TRUE(checkpoint.ok() && checkpoint->has_value()) << checkpoint.status().ToString();
  EXPECT_EQ((*checkpoint)->log_durable_offset, acked_.back().end());
  EXPECT_EQ((*checkpoint)->dispatch_durable_offset, acked_.back().end());
  ReopenAndCheck(env_.get());
}

// Regression: Open wrote the process id into the abort marker and failed on a full disk when
// it did not fit, so a cleanly closed store could not be reopened (and read) on a full disk.
// The marker's presence is what counts; the store now opens, takes puts while its segment has
// room, refuses the one that needs a new segment, and goes on once there is room.
TEST_P(StoreDiskFullTest, OpensOnAFullDiskAfterACleanClose) {
  Open();
  SetFree(kSegmentBytes + QueueFileBytes() + 512);
  for (int i = 0; i < 10; ++i) ASSERT_OK(Put(Next("Orders", 0, 300)));
  ASSERT_OK(store_->Close());
  store_.reset();
  SetFree(0);
  Open();
  EXPECT_FALSE(store_->Stats().recovered_from_crash);
  EXPECT_TRUE(env_->FileExists(filename::AbortMarker("/store")));
  Status s;
  for (int i = 0; i < 1000 && s.ok(); ++i) s = Put(Next("Orders", 0, 300));
  ASSERT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_GT(acked_.size(), 10u);
  CheckLive();
  CrashCopyAndCheck();  // the crash is detected by the (empty) marker
  Unlimit();
  for (int i = 0; i < 40; ++i) ASSERT_OK(Put(Next("Orders", 0, 300)));
  CheckLive();
  CloseReopenAndCheck();
}

// (d') A new store on a disk without room for its checkpoint file: Open says so, and leaves
// nothing that the next open (with room) would mistake for a crashed store or that would
// make later checkpoints need space.
TEST_P(StoreDiskFullTest, NewStoreWithoutRoomForItsCheckpointFailsToOpen) {
  env_->SetCapacity(4096);
  auto opened = Store::Open(Options(env_.get()), "/store");
  ASSERT_TRUE(opened.status().IsResourceExhausted()) << opened.status().ToString();

  Unlimit();
  Open();
  EXPECT_FALSE(store_->Stats().recovered_from_crash);
  EXPECT_EQ(env_->GetFileSize(filename::Checkpoint("/store")).value(), 2 * kCheckpointSlotSize);
  SetFree(kSegmentBytes + QueueFileBytes() + 512);
  for (int i = 0; i < 10; ++i) ASSERT_OK(Put(Next("Orders", 0, 300)));
  ASSERT_OK(store_->AwaitDispatched(store_->Stats().appended_offset, kAwaitMs));
  SetFree(0);
  ASSERT_OK(store_->Close());
  store_.reset();
  MarkAllMustSurvive();
  ReopenAndCheck(env_.get());
}

// Where the disk fills, swept: for each budget N of free bytes after segment 0, a seeded
// workload (several queues, keys, batches) runs until its first refused put, space comes
// back, it goes on, and the store is checked live, after a crash and after a clean reopen.
// Small budgets stop it at a queue or index file, larger ones at the next segment.
TEST_P(StoreDiskFullTest, SweepWhereTheDiskFills) {
  queue_entries_ = 16;
  index_entries_ = 16;
  int failures_at_queue_or_index = 0, failures_at_segment = 0;
  for (uint64_t n = 0; n < kSegmentBytes; n += 293) {
    SCOPED_TRACE("free bytes after segment 0: " + std::to_string(n));
    env_ = NewMemEnv();
    acked_.clear();
    Open();
    SetFree(kSegmentBytes + n);
    std::mt19937_64 rng(n);
    auto message = [&] {
      return Next("T" + std::to_string(rng() % 3), static_cast<int32_t>(rng() % 2),
                  20 + rng() % 600, rng() % 3 == 0);
    };
    auto step = [&]() -> Status {
      if (rng() % 7 == 0) return PutAll({message(), message(), message()});
      return Put(message());
    };
    Status s;
    int64_t end_before_failure = 0;
    for (int i = 0; i < 400 && s.ok(); ++i) {
      end_before_failure = store_->Stats().appended_offset;
      s = step();
    }
    ASSERT_TRUE(s.IsResourceExhausted()) << s.ToString();
    ASSERT_EQ(store_->Stats().appended_offset, end_before_failure);
    // Dispatch blocked: a queue or index file was the first thing that did not fit.
    Status dispatched = store_->AwaitDispatched(end_before_failure, kAwaitMs);
    ASSERT_TRUE(dispatched.ok() || dispatched.IsResourceExhausted()) << dispatched.ToString();
    (dispatched.ok() ? failures_at_segment : failures_at_queue_or_index)++;
    ASSERT_OK(store_->Flush());
    MarkAllMustSurvive();
    CrashCopyAndCheck();

    Unlimit();
    for (int i = 0; i < 40; ++i) ASSERT_OK(step());
    CheckLive();
    CrashCopyAndCheck();
    CloseReopenAndCheck();
  }
  // Both kinds of place were hit.
  EXPECT_GT(failures_at_queue_or_index, 0);
  EXPECT_GT(failures_at_segment, 0);
}

INSTANTIATE_TEST_SUITE_P(FlushModes, StoreDiskFullTest,
                         ::testing::Values(FlushMode::kSync, FlushMode::kAsync),
                         [](const ::testing::TestParamInfo<FlushMode>& param) {
                           return param.param == FlushMode::kSync ? "Sync" : "Async";
                         });

}  // namespace
}  // namespace mqstore::test
