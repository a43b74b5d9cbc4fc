// What the flush modes promise: SYNC_FLUSH puts are durable when acknowledged and readers
// see only durable records; ASYNC_FLUSH puts become durable at Flush(); a crash (MemEnv
// CrashCopy) keeps exactly that, and recovery after it starts from the checkpoint.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mqstore/mem_env.h"
#include "mqstore/queue/log_harness.h"
#include "mqstore/store.h"
#include "mqstore/store/store_test_util.h"
#include "support/fault_injection_env.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::BodyFor;
using test::EnvKind;
using test::MakeMessage;
using test::PutMessage;
using test::ReadBack;
using test::ReadQueue;

constexpr int kWaitMs = 10'000;

StoreOptions BaseOptions(Env* env, FlushMode mode) { return test::SmallStoreOptions(env, mode); }

Message NoWait(Message m) {
  m.SetProperty(std::string(property::kWaitStoreMsgOk), "false");
  return m;
}

Result<std::unique_ptr<Store>> OpenOn(Env* env, FlushMode mode) {
  return Store::Open(BaseOptions(env, mode), "/store");
}

class SyncFlushTest : public ::testing::TestWithParam<EnvKind> {
 protected:
  SyncFlushTest() : location_(GetParam()) {}
  test::StoreLocation location_;
};

INSTANTIATE_TEST_SUITE_P(Envs, SyncFlushTest, ::testing::Values(EnvKind::kPosix, EnvKind::kMem),
                         test::EnvKindName);

TEST_P(SyncFlushTest, EveryAcknowledgedPutIsDurable) {
  ASSERT_OK_AND_ASSIGN(
      auto store, Store::Open(BaseOptions(location_.env(), FlushMode::kSync), location_.dir()));
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(PutResult r,
                         PutMessage(store.get(), MakeMessage("S", i % 2, BodyFor(0, i, 300))));
    EXPECT_EQ(r.status, PutStatus::kOk);
    EXPECT_TRUE(r.durable) << i;
    EXPECT_GE(store->Stats().durable_offset, r.physical_offset + r.record_size);
  }
  StoreStats stats = store->Stats();
  EXPECT_EQ(stats.durable_offset, stats.appended_offset);
}

TEST_P(SyncFlushTest, ANoWaitPutBecomesDurableAndVisibleWithoutAnotherPut) {
  ASSERT_OK_AND_ASSIGN(
      auto store, Store::Open(BaseOptions(location_.env(), FlushMode::kSync), location_.dir()));
  ASSERT_OK_AND_ASSIGN(PutResult quiet,
                       PutMessage(store.get(), NoWait(MakeMessage("S", 0, "quiet"))));
  EXPECT_EQ(quiet.status, PutStatus::kOk);
  int64_t quiet_end = quiet.physical_offset + quiet.record_size;
  // The put asked the flusher to sync it; dispatch (visibility) follows durability.
  ASSERT_OK(store->AwaitDispatched(quiet_end, kWaitMs));
  EXPECT_GE(store->Stats().durable_offset, quiet_end);
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store.get(), "S", 0));
  ASSERT_EQ(got.size(), 1u);
  ASSERT_OK(store->ReadRecord(quiet.physical_offset).status());
}

TEST_P(SyncFlushTest, FlushMakesNoWaitPutsVisible) {
  ASSERT_OK_AND_ASSIGN(
      auto store, Store::Open(BaseOptions(location_.env(), FlushMode::kSync), location_.dir()));
  int64_t end = 0;
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(PutResult r,
                         PutMessage(store.get(), NoWait(MakeMessage("F", 0, BodyFor(0, i, 50)))));
    end = r.physical_offset + r.record_size;
  }
  ASSERT_OK(store->Flush());
  EXPECT_EQ(store->Stats().durable_offset, end);
  ASSERT_OK(store->AwaitDispatched(end, kWaitMs));
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store.get(), "F", 0));
  EXPECT_EQ(got.size(), 5u);
}

TEST_P(SyncFlushTest, ABatchWaitsUnlessEveryMessageSaysNoWait) {
  ASSERT_OK_AND_ASSIGN(
      auto store, Store::Open(BaseOptions(location_.env(), FlushMode::kSync), location_.dir()));
  std::vector<Message> quiet = {NoWait(MakeMessage("B", 0, "a")), NoWait(MakeMessage("B", 0, "b"))};
  ASSERT_OK_AND_ASSIGN(BatchPutResult q, test::PutMessages(store.get(), quiet));
  (void)q.durable;  // either: the flusher was asked to sync it but nobody waited
  std::vector<Message> mixed = {NoWait(MakeMessage("B", 0, "c")), MakeMessage("B", 0, "d")};
  ASSERT_OK_AND_ASSIGN(BatchPutResult m, test::PutMessages(store.get(), mixed));
  EXPECT_TRUE(m.durable);
  for (const PutResult& item : m.items) EXPECT_TRUE(item.durable);
}

// SYNC_FLUSH with a disk that does not complete syncs (FaultInjectionEnv's sync gate).
// StoreOptions::cached_log_window_bytes: what is durable and far enough behind leaves the
// page cache, and reads of it come back from disk unchanged.
class PageCacheWindowTest : public ::testing::TestWithParam<FlushMode> {};

INSTANTIATE_TEST_SUITE_P(Modes, PageCacheWindowTest,
                         ::testing::Values(FlushMode::kAsync, FlushMode::kSync),
                         [](const ::testing::TestParamInfo<FlushMode>& mode) {
                           return mode.param == FlushMode::kAsync ? "Async" : "Sync";
                         });

TEST_P(PageCacheWindowTest, DurableLogBehindTheWindowLeavesThePageCacheAndReadsBack) {
  constexpr uint64_t kMiB = 1 << 20;
  test::StoreLocation location(EnvKind::kPosix);
  StoreOptions o = BaseOptions(location.env(), GetParam());
  o.commitlog_segment_bytes = 4 * kMiB;
  o.cached_log_window_bytes = kMiB;
  o.consume_queue_entries_per_file = 1 << 16;
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(o, location.dir()));
  int64_t count = 0;
  auto put_until = [&](int64_t end) {
    while (store->Stats().appended_offset < end) {
      auto r = PutMessage(store.get(), MakeMessage("W", 0, BodyFor(0, count, 1000)));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ++count;
    }
  };
  put_until(5 * kMiB);
  ASSERT_OK(store->Flush());  // (SYNC_FLUSH: everything is durable already)
  // A reader behind the window (here the dispatcher) reads what it needs back from disk;
  // this test wants the first segment left alone once dropped.
  ASSERT_OK(store->AwaitDispatched(store->Stats().appended_offset, kWaitMs));
  put_until(9 * kMiB);  // past the next maintenance step (every 8 MiB of log)
  const std::string first = location.dir() + "/commitlog/00000000000000000000";
  ASSERT_TRUE(test::WaitUntil([&] { return test::PagesInPageCache(first, 0, 4 * kMiB) == 0; }))
      << test::PagesInPageCache(first, 0, 4 * kMiB) << " pages still cached";
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store.get(), "W", 0));
  ASSERT_EQ(static_cast<int64_t>(got.size()), count);
  for (int64_t i = 0; i < count; ++i) {
    ParsedRecord parsed;
    ASSERT_OK(got[i].Parse(&parsed));
    ASSERT_EQ(parsed.body, BodyFor(0, i, 1000)) << i;
  }
}

class StuckSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o = BaseOptions(&env_, FlushMode::kSync);
    o.sync_flush_timeout_ms = 50;
    ASSERT_OK_AND_ASSIGN(store_, Store::Open(o, "/store"));
  }
  void TearDown() override {
    env_.OpenSyncGate();
    for (auto& t : threads_) t.join();
    store_.reset();
  }
  // Puts from another thread; the result arrives through the returned future.
  std::future<Result<PutResult>> PutAsync(Message m) {
    auto promise = std::make_shared<std::promise<Result<PutResult>>>();
    std::future<Result<PutResult>> f = promise->get_future();
    threads_.emplace_back(
        [this, m = std::move(m), promise] { promise->set_value(PutMessage(store_.get(), m)); });
    return f;
  }

  std::unique_ptr<MemEnv> mem_ = NewMemEnv();
  test::FaultInjectionEnv env_{mem_.get()};
  std::unique_ptr<Store> store_;
  std::vector<std::thread> threads_;
};

TEST_F(StuckSyncTest, APutQueuedBehindAStuckSyncTimesOutAndStaysInTheLog) {
  env_.CloseSyncGate();
  std::future<Result<PutResult>> leader = PutAsync(MakeMessage("S", 0, "first"));
  ASSERT_TRUE(env_.WaitForBlockedSync(std::chrono::seconds(10)));
  std::future<Result<PutResult>> follower = PutAsync(MakeMessage("S", 0, "second"));
  ASSERT_EQ(follower.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  Result<PutResult> late = follower.get();
  ASSERT_OK(late.status());
  EXPECT_EQ(late->status, PutStatus::kFlushDiskTimeout);
  EXPECT_FALSE(late->durable);
  ASSERT_OK_AND_ASSIGN(ReadResult hidden, store_->Read("S", 0, 0, 10, 1 << 20));
  EXPECT_TRUE(hidden.messages.empty());

  env_.OpenSyncGate();
  ASSERT_EQ(leader.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  ASSERT_OK(store_->Flush());
  ASSERT_OK(store_->AwaitDispatched(late->physical_offset + late->record_size, kWaitMs));
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store_.get(), "S", 0));
  EXPECT_EQ(got.size(), 2u);  // the timed-out record stayed in the log
}

TEST_F(StuckSyncTest, AFailedSyncFailsThatPutAndEveryLaterOne) {
  ASSERT_OK_AND_ASSIGN(PutResult kept, PutMessage(store_.get(), MakeMessage("E", 0, "kept")));
  ASSERT_TRUE(kept.durable);
  ASSERT_OK(store_->AwaitDispatched(kept.physical_offset + kept.record_size, kWaitMs));
  env_.FailSegmentSyncs(true);
  auto failed = PutMessage(store_.get(), MakeMessage("E", 0, "failed"));
  EXPECT_TRUE(failed.status().IsIOError()) << failed.status().ToString();
  env_.FailSegmentSyncs(false);
  // The store cannot know what reached the disk: it refuses writes from now on.
  int64_t appended = store_->Stats().appended_offset;
  auto refused = PutMessage(store_.get(), MakeMessage("E", 0, "refused"));
  EXPECT_TRUE(refused.status().IsIOError()) << refused.status().ToString();
  EXPECT_EQ(store_->Stats().appended_offset, appended);
  EXPECT_FALSE(store_->Flush().ok());
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store_.get(), "E", 0));
  ASSERT_EQ(got.size(), 1u);
  // A close that could not flush is not clean: the next open recovers.
  EXPECT_FALSE(store_->Close().ok());
  store_.reset();
  ASSERT_OK_AND_ASSIGN(store_, Store::Open(BaseOptions(&env_, FlushMode::kSync), "/store"));
  EXPECT_TRUE(store_->Stats().recovered_from_crash);
  ASSERT_OK_AND_ASSIGN(got, ReadQueue(store_.get(), "E", 0));
  ASSERT_GE(got.size(), 1u);
  ParsedRecord p;
  ASSERT_OK(got[0].Parse(&p));
  EXPECT_EQ(p.body, "kept");
}

TEST_F(StuckSyncTest, ANoWaitPutReturnsAtOnceAndIsInvisibleUntilDurable) {
  env_.CloseSyncGate();
  ASSERT_OK_AND_ASSIGN(PutResult quiet,
                       PutMessage(store_.get(), NoWait(MakeMessage("Q", 0, "quiet"))));
  EXPECT_EQ(quiet.status, PutStatus::kOk);
  EXPECT_FALSE(quiet.durable);
  ASSERT_TRUE(env_.WaitForBlockedSync(std::chrono::seconds(10)));  // the flusher was asked
  ASSERT_OK_AND_ASSIGN(ReadResult hidden, store_->Read("Q", 0, 0, 10, 1 << 20));
  EXPECT_TRUE(hidden.messages.empty());
  EXPECT_TRUE(store_->ReadRecord(quiet.physical_offset).status().IsNotFound());
  env_.OpenSyncGate();
  ASSERT_OK(store_->AwaitDispatched(quiet.physical_offset + quiet.record_size, kWaitMs));
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store_.get(), "Q", 0));
  EXPECT_EQ(got.size(), 1u);
}

TEST_F(StuckSyncTest, AFailedWriteOutFailsThatPutAndEveryLaterOne) {
  ASSERT_OK_AND_ASSIGN(PutResult kept, PutMessage(store_.get(), MakeMessage("W", 0, "kept")));
  ASSERT_TRUE(kept.durable);
  ASSERT_OK(store_->AwaitDispatched(kept.physical_offset + kept.record_size, kWaitMs));
  env_.FailSegmentWrites(true);
  auto failed = PutMessage(store_.get(), MakeMessage("W", 0, "failed"));
  EXPECT_TRUE(failed.status().IsIOError()) << failed.status().ToString();
  env_.FailSegmentWrites(false);
  int64_t appended = store_->Stats().appended_offset;
  auto refused = PutMessage(store_.get(), MakeMessage("W", 0, "refused"));
  EXPECT_TRUE(refused.status().IsIOError()) << refused.status().ToString();
  EXPECT_EQ(store_->Stats().appended_offset, appended);
  EXPECT_FALSE(store_->Flush().ok());
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store_.get(), "W", 0));
  EXPECT_EQ(got.size(), 1u);
}

// Regression test (fixed bug): options.h says a SYNC_FLUSH put waits sync_flush_timeout_ms for
// durability and then returns kFlushDiskTimeout, but the put that becomes the group-commit leader
// runs the sync itself (LogFlusher::WaitDurable, log_flusher.cc) and waits as long as the sync
// takes: with a stuck disk it never returns. (RocketMQ's put waits on a flush service with a
// timeout.)
TEST_F(StuckSyncTest, APutWhoseOwnSyncIsStuckTimesOut) {
  env_.CloseSyncGate();
  std::future<Result<PutResult>> put = PutAsync(MakeMessage("S", 0, "alone"));
  ASSERT_TRUE(env_.WaitForBlockedSync(std::chrono::seconds(10)));
  ASSERT_EQ(put.wait_for(std::chrono::seconds(5)), std::future_status::ready)
      << "the put did not return within 100 times sync_flush_timeout_ms";
  Result<PutResult> r = put.get();
  ASSERT_OK(r.status());
  EXPECT_EQ(r->status, PutStatus::kFlushDiskTimeout);
}

class MemStoreCrashTest : public ::testing::Test {
 protected:
  // Opens a store on what a power cut would leave of env_ now.
  std::unique_ptr<Store> OpenAfterCrash(FlushMode mode,
                                        CrashOptions crash = {CrashMode::kDropUnsynced, 0}) {
    crashed_.push_back(env_->CrashCopy(crash));
    auto r = OpenOn(crashed_.back().get(), mode);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  std::unique_ptr<MemEnv> env_ = NewMemEnv();
  std::vector<std::unique_ptr<MemEnv>> crashed_;
};

TEST_F(MemStoreCrashTest, SyncFlushPutsSurviveAPowerCut) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenOn(env_.get(), FlushMode::kSync));
  int64_t end = 0;
  for (int i = 0; i < 40; ++i) {
    ASSERT_OK_AND_ASSIGN(PutResult r,
                         PutMessage(store.get(), MakeMessage("P", i % 4, BodyFor(0, i, 400))));
    ASSERT_TRUE(r.durable);
    end = r.physical_offset + r.record_size;
  }
  ASSERT_OK(store->AwaitDispatched(end, kWaitMs));  // the dispatcher is idle from here on
  auto after = OpenAfterCrash(FlushMode::kSync);
  ASSERT_NE(after, nullptr);
  EXPECT_TRUE(after->Stats().recovered_from_crash);
  for (int32_t q = 0; q < 4; ++q) {
    ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(after.get(), "P", q));
    ASSERT_EQ(got.size(), 10u);
    for (size_t k = 0; k < got.size(); ++k) {
      ParsedRecord p;
      ASSERT_OK(got[k].Parse(&p));
      EXPECT_EQ(p.body, BodyFor(0, static_cast<int64_t>(4 * k) + q, 400));
    }
  }
}

TEST_F(MemStoreCrashTest, AsyncFlushPutsSurviveOnlyOnceFlushed) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenOn(env_.get(), FlushMode::kAsync));
  int64_t end = 0;
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(PutResult r,
                         PutMessage(store.get(), MakeMessage("A", 0, BodyFor(0, i, 200))));
    EXPECT_FALSE(r.durable);
    end = r.physical_offset + r.record_size;
  }
  ASSERT_OK(store->AwaitDispatched(end, kWaitMs));
  {
    auto lost = OpenAfterCrash(FlushMode::kAsync);
    ASSERT_NE(lost, nullptr);
    ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(lost.get(), "A", 0));
    EXPECT_TRUE(got.empty());
    EXPECT_EQ(lost->Stats().appended_offset, 0);
  }
  ASSERT_OK(store->Flush());
  EXPECT_EQ(store->Stats().durable_offset, end);
  auto kept = OpenAfterCrash(FlushMode::kAsync);
  ASSERT_NE(kept, nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(kept.get(), "A", 0));
  ASSERT_EQ(got.size(), 10u);
  ParsedRecord p;
  ASSERT_OK(got[9].Parse(&p));
  EXPECT_EQ(p.body, BodyFor(0, 9, 200));
}

TEST_F(MemStoreCrashTest, ACleanCloseIsNotACrash) {
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenOn(env_.get(), FlushMode::kAsync));
    for (int i = 0; i < 10; ++i)
      ASSERT_OK(PutMessage(store.get(), MakeMessage("C", 0, "x")).status());
    ASSERT_OK(store->Close());
  }
  auto after = OpenAfterCrash(FlushMode::kAsync);  // a power cut after the close loses nothing
  ASSERT_NE(after, nullptr);
  EXPECT_FALSE(after->Stats().recovered_from_crash);
  EXPECT_EQ(after->Stats().recovery_scanned_bytes, 0u);
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(after.get(), "C", 0));
  EXPECT_EQ(got.size(), 10u);
}

TEST_F(MemStoreCrashTest, DestroyingAnOpenStoreClosesItCleanly) {
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenOn(env_.get(), FlushMode::kAsync));
    ASSERT_OK(PutMessage(store.get(), MakeMessage("D", 0, "x")).status());
  }
  ASSERT_OK_AND_ASSIGN(auto store, OpenOn(env_.get(), FlushMode::kAsync));
  EXPECT_FALSE(store->Stats().recovered_from_crash);
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store.get(), "D", 0));
  EXPECT_EQ(got.size(), 1u);
}

TEST_F(MemStoreCrashTest, RecoveryAfterACrashStartsAtTheLastCheckpoint) {
  StoreOptions o = BaseOptions(env_.get(), FlushMode::kSync);
  o.checkpoint_interval_ms = 5;
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(o, "/store"));
  int64_t end = 0;
  for (int i = 0; i < 30; ++i) {
    ASSERT_OK_AND_ASSIGN(PutResult r,
                         PutMessage(store.get(), MakeMessage("K", 0, BodyFor(0, i, 500))));
    end = r.physical_offset + r.record_size;
  }
  ASSERT_OK(store->AwaitDispatched(end, kWaitMs));
  // Wait (bounded) for the periodic checkpoint to cover everything, observed through what a
  // crash would leave.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::unique_ptr<Store> after;
  while (true) {
    after = OpenAfterCrash(FlushMode::kSync);
    ASSERT_NE(after, nullptr);
    if (after->Stats().recovery_start_offset == end) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no checkpoint covered the puts";
    after.reset();
    crashed_.clear();
  }
  StoreStats stats = after->Stats();
  EXPECT_TRUE(stats.recovered_from_crash);
  EXPECT_EQ(stats.recovery_scanned_bytes, 0u);
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(after.get(), "K", 0));
  EXPECT_EQ(got.size(), 30u);
}

TEST_F(MemStoreCrashTest, RecoveryWithoutACheckpointSinceThePutsScansThem) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenOn(env_.get(), FlushMode::kSync));  // no periodic checkpoint
  int64_t end = 0;
  for (int i = 0; i < 30; ++i) {
    ASSERT_OK_AND_ASSIGN(PutResult r,
                         PutMessage(store.get(), MakeMessage("K", i % 3, BodyFor(0, i, 500))));
    end = r.physical_offset + r.record_size;
  }
  ASSERT_OK(store->AwaitDispatched(end, kWaitMs));
  auto after = OpenAfterCrash(FlushMode::kSync);
  ASSERT_NE(after, nullptr);
  StoreStats stats = after->Stats();
  EXPECT_EQ(stats.recovery_start_offset, 0);  // the checkpoint written at open
  EXPECT_EQ(stats.recovery_scanned_bytes, static_cast<uint64_t>(end));
  EXPECT_EQ(stats.appended_offset, end);
  for (int32_t q = 0; q < 3; ++q) {
    ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(after.get(), "K", q));
    EXPECT_EQ(got.size(), 10u);
  }
}

TEST_F(MemStoreCrashTest, ADamagedCheckpointMeansRebuildingTheQueuesFromTheLog) {
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenOn(env_.get(), FlushMode::kSync));
    for (int i = 0; i < 12; ++i) {
      ASSERT_OK(PutMessage(store.get(), MakeMessage("K", i % 2, BodyFor(0, i, 700))).status());
    }
    ASSERT_OK(store->Close());
  }
  // Both slots damaged.
  ASSERT_OK(test::OverwriteFile(env_.get(), "/store/checkpoint", 0, "garbage"));
  ASSERT_OK(test::OverwriteFile(env_.get(), "/store/checkpoint", 4096, "garbage"));
  ASSERT_OK_AND_ASSIGN(auto store, OpenOn(env_.get(), FlushMode::kSync));
  StoreStats stats = store->Stats();
  EXPECT_TRUE(stats.recovered_from_crash);
  EXPECT_EQ(stats.recovery_start_offset, 0);
  EXPECT_EQ(stats.recovery_scanned_bytes, static_cast<uint64_t>(stats.appended_offset));
  for (int32_t q = 0; q < 2; ++q) {
    ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store.get(), "K", q));
    EXPECT_EQ(got.size(), 6u);
  }
  ASSERT_OK_AND_ASSIGN(PutResult next, PutMessage(store.get(), MakeMessage("K", 1, "next")));
  EXPECT_EQ(next.queue_offset, 6);
}

// Regression (fixed in d890e2b), through the public API: a power cut keeps the second file
// of a queue (entries 4, 5) but not the end of the first (entries 2, 3), and the log loses
// their records (ASYNC_FLUSH). Recovery drops the second file; the queue is refilled to 4
// entries, the store closes cleanly, then the power goes out. Before the fix the dropped
// file came back (its removal was never made durable) and queue Q had a fifth entry
// pointing at a record of topic P.
TEST_F(MemStoreCrashTest, AQueueFileDroppedByRecoveryStaysDropped) {
  const std::string q_file0 = "/store/consumequeue/Q/0/00000000000000000000";
  const std::string q_file1 = "/store/consumequeue/Q/0/00000000000000000080";
  auto open = [](Env* env) {
    StoreOptions o = BaseOptions(env, FlushMode::kAsync);  // 4 entries per queue file
    return Store::Open(o, "/store");
  };
  {
    ASSERT_OK_AND_ASSIGN(auto store, open(env_.get()));
    for (int i = 0; i < 2; ++i)
      ASSERT_OK(PutMessage(store.get(), MakeMessage("Q", 0, BodyFor(0, i, 100))).status());
    ASSERT_OK(store->Close());
  }
  ASSERT_OK_AND_ASSIGN(auto store, open(env_.get()));
  std::vector<PutResult> lost;
  for (int i = 2; i < 6; ++i) {
    ASSERT_OK_AND_ASSIGN(PutResult r,
                         PutMessage(store.get(), MakeMessage("Q", 0, BodyFor(0, i, 100))));
    lost.push_back(r);
  }
  ASSERT_OK(store->AwaitDispatched(lost.back().physical_offset + lost.back().record_size, kWaitMs));
  // Find a torn power cut with the shape described above.
  std::unique_ptr<MemEnv> image;
  for (uint64_t seed = 0; seed < 2000 && !image; ++seed) {
    std::unique_ptr<MemEnv> copy = env_->CrashCopy({CrashMode::kTornPrefix, seed});
    auto f0 = test::ReadWholeFile(copy.get(), q_file0);
    auto f1 = test::ReadWholeFile(copy.get(), q_file1);
    auto log = test::ReadWholeFile(copy.get(), "/store/commitlog/00000000000000000000");
    if (!f0.ok() || !f1.ok() || !log.ok() || f1->size() < 40) continue;
    bool entry2_lost = (*f0)[2 * 20 + 11] == '\0';  // low byte of entry 2's size
    bool entry4_kept = (*f1)[11] != '\0';
    bool record2_lost = (*log)[lost[0].physical_offset + lost[0].record_size - 1] == '\0';
    if (entry2_lost && entry4_kept && record2_lost) image = std::move(copy);
  }
  ASSERT_NE(image, nullptr) << "no crash seed gives the needed shape";
  store.reset();
  {
    ASSERT_OK_AND_ASSIGN(auto recovered, open(image.get()));
    ASSERT_OK_AND_ASSIGN(QueueBounds b, recovered->GetQueueBounds("Q", 0));
    ASSERT_EQ(b.max_offset, 2);
    for (int i = 2; i < 4; ++i)
      ASSERT_OK(PutMessage(recovered.get(), MakeMessage("Q", 0, BodyFor(0, i, 100))).status());
    for (int i = 0; i < 3; ++i)
      ASSERT_OK(PutMessage(recovered.get(), MakeMessage("P", 0, BodyFor(1, i, 100))).status());
    ASSERT_OK(recovered->Close());
  }
  std::unique_ptr<MemEnv> second = image->CrashCopy({CrashMode::kDropUnsynced, 0});
  ASSERT_OK_AND_ASSIGN(auto last, open(second.get()));
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> q, ReadQueue(last.get(), "Q", 0));
  EXPECT_EQ(q.size(), 4u);
  for (const ReadBack& rb : q) {
    ParsedRecord p;
    ASSERT_OK(rb.Parse(&p));
    EXPECT_EQ(p.topic, "Q") << "queue Q offset " << rb.queue_offset << " holds a record of "
                            << p.topic;
  }
}

}  // namespace
}  // namespace mqstore
