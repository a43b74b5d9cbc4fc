// The store's lookups beside queue reads: by key and unique id (the hash index, wired through
// the dispatcher), by offset message id, and the metadata store it opens in <dir>/meta.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mqstore/mem_env.h"
#include "mqstore/store.h"
#include "mqstore/store/store_test_util.h"
#include "support/fault_injection_env.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::EnvKind;
using test::MakeMessage;
using test::PutMessage;

constexpr int kWaitMs = 10'000;
constexpr int64_t kAllTime = std::numeric_limits<int64_t>::max();

Message WithUniqueKey(Message m, std::string id) {
  m.SetProperty(std::string(property::kUniqueKey), std::move(id));
  return m;
}

std::string BodyOf(const RecordView& view) {
  ParsedRecord p;
  EXPECT_OK(ParseRecord(view.bytes, true, &p));
  return std::string(p.body);
}

class StoreLookupTest : public ::testing::TestWithParam<EnvKind> {
 protected:
  StoreLookupTest() : location_(GetParam()) {}

  StoreOptions Options() {
    StoreOptions o;
    o.env = location_.env();
    o.clock = &clock_;
    o.commitlog_segment_bytes = 8192;
    o.consume_queue_entries_per_file = 8;
    o.index_slots_per_file = 8;  // collisions and rolls happen
    o.index_entries_per_file = 32;
    o.max_message_bytes = 2048;
    return o;
  }
  void OpenStore(StoreOptions o) {
    auto opened = Store::Open(o, location_.dir());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  PutResult PutAndWait(const Message& m) {
    auto r = PutMessage(store_.get(), m);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return PutResult{};
    EXPECT_OK(store_->AwaitDispatched(r->physical_offset + r->record_size, kWaitMs));
    return *r;
  }
  std::vector<std::string> BodiesForKey(std::string_view topic, std::string_view key,
                                        int64_t begin = 0, int64_t end = kAllTime,
                                        size_t max = 100) {
    std::vector<std::string> bodies;
    auto found = store_->QueryByKey(topic, key, begin, end, max);
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    if (found.ok()) {
      for (const RecordView& v : *found) bodies.push_back(BodyOf(v));
    }
    return bodies;
  }

  test::StoreLocation location_;
  test::ManualClock clock_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Envs, StoreLookupTest, ::testing::Values(EnvKind::kPosix, EnvKind::kMem),
                         test::EnvKindName);

TEST_P(StoreLookupTest, QueryByKeyFindsEveryRecordCarryingTheKeyNewestFirst) {
  OpenStore(Options());
  PutAndWait(MakeMessage("Orders", 0, "first", "", "order-1 customer-9"));
  PutAndWait(MakeMessage("Orders", 1, "second", "", "customer-9"));
  PutAndWait(MakeMessage("Orders", 0, "third", "", "order-3"));
  PutAndWait(MakeMessage("Refunds", 0, "elsewhere", "", "customer-9"));
  EXPECT_EQ(BodiesForKey("Orders", "customer-9"), (std::vector<std::string>{"second", "first"}));
  EXPECT_EQ(BodiesForKey("Orders", "order-1"), std::vector<std::string>{"first"});
  EXPECT_EQ(BodiesForKey("Refunds", "customer-9"), std::vector<std::string>{"elsewhere"});
  EXPECT_TRUE(BodiesForKey("Orders", "order-2").empty());
  EXPECT_EQ(BodiesForKey("Orders", "customer-9", 0, kAllTime, 1),
            std::vector<std::string>{"second"});
}

TEST_P(StoreLookupTest, QueryByKeyHonoursTheStoreTimeRange) {
  OpenStore(Options());
  const int64_t t0 = clock_.NowMillis();
  for (int i = 0; i < 5; ++i) {
    PutAndWait(MakeMessage("T", 0, "at+" + std::to_string(i * 1000), "", "k"));
    clock_.Advance(1000);
  }
  EXPECT_EQ(BodiesForKey("T", "k", t0 + 1000, t0 + 3000),
            (std::vector<std::string>{"at+3000", "at+2000", "at+1000"}));
  EXPECT_TRUE(BodiesForKey("T", "k", t0 + 10'000, t0 + 20'000).empty());
}

TEST_P(StoreLookupTest, QueueOffsetsAreFoundByStoreTime) {
  OpenStore(Options());
  EXPECT_TRUE(store_->GetQueueOffsetByTime("T", 0, 0).status().IsNotFound());
  EXPECT_TRUE(store_->GetEarliestStoreTime("T", 0).status().IsNotFound());
  const int64_t t0 = clock_.NowMillis();
  for (int i = 0; i < 20; ++i) {
    PutAndWait(MakeMessage("T", 0, "m" + std::to_string(i)));
    PutAndWait(MakeMessage("T", 1, "other queue"));
    clock_.Advance(i % 2 ? 10 : 0);  // pairs of messages share a millisecond
  }
  ASSERT_OK_AND_ASSIGN(int64_t earliest, store_->GetEarliestStoreTime("T", 0));
  EXPECT_EQ(earliest, t0);
  // Queue 0's message i was stored at t0 + 10 * (i / 2).
  ASSERT_OK_AND_ASSIGN(int64_t at_t0, store_->GetQueueOffsetByTime("T", 0, t0));
  EXPECT_EQ(at_t0, 0);
  ASSERT_OK_AND_ASSIGN(int64_t at_30, store_->GetQueueOffsetByTime("T", 0, t0 + 30));
  EXPECT_EQ(at_30, 6);
  ASSERT_OK_AND_ASSIGN(int64_t at_31, store_->GetQueueOffsetByTime("T", 0, t0 + 31));
  EXPECT_EQ(at_31, 8);
  ASSERT_OK_AND_ASSIGN(int64_t later, store_->GetQueueOffsetByTime("T", 0, t0 + 1'000'000));
  EXPECT_EQ(later, 20);
}

TEST_P(StoreLookupTest, ManyKeysSurviveCollisionsAndIndexFileRolls) {
  OpenStore(Options());  // 8 slots, 32 entries per file
  for (int i = 0; i < 100; ++i) {
    PutAndWait(
        MakeMessage("T", i % 4, "body-" + std::to_string(i), "", "key-" + std::to_string(i)));
  }
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(BodiesForKey("T", "key-" + std::to_string(i)),
              std::vector<std::string>{"body-" + std::to_string(i)})
        << i;
  }
}

TEST_P(StoreLookupTest, ReadByMessageIdTakesOffsetIdsAndUniqueIds) {
  OpenStore(Options());
  PutResult a =
      PutAndWait(WithUniqueKey(MakeMessage("T", 0, "a"), "C0A8000100002A9F0000000000000001"));
  PutResult b = PutAndWait(MakeMessage("T", 0, "b"));
  ASSERT_OK_AND_ASSIGN(RecordView by_offset_id, store_->ReadByMessageId("T", b.offset_message_id()));
  EXPECT_EQ(BodyOf(by_offset_id), "b");
  ASSERT_OK_AND_ASSIGN(RecordView by_unique_id,
                       store_->ReadByMessageId("T", "C0A8000100002A9F0000000000000001"));
  EXPECT_EQ(BodyOf(by_unique_id), "a");
  EXPECT_EQ(by_unique_id.physical_offset, a.physical_offset);
  EXPECT_TRUE(store_->ReadByMessageId("T", "no-such-id").status().IsNotFound());
  EXPECT_TRUE(
      store_->ReadByMessageId("Other", "C0A8000100002A9F0000000000000001").status().IsNotFound());
  // An offset id of another store host is not ours: it is tried as a unique id.
  std::string foreign = MakeOffsetMessageId(SocketAddress::V4(10, 9, 9, 9, 10911), 0);
  EXPECT_TRUE(store_->ReadByMessageId("T", foreign).status().IsNotFound());
  PutAndWait(WithUniqueKey(MakeMessage("T", 1, "c"), foreign));
  ASSERT_OK_AND_ASSIGN(RecordView foreign_as_unique, store_->ReadByMessageId("T", foreign));
  EXPECT_EQ(BodyOf(foreign_as_unique), "c");
}

TEST_P(StoreLookupTest, TheIndexSurvivesACleanReopen) {
  OpenStore(Options());
  for (int i = 0; i < 40; ++i)
    PutAndWait(MakeMessage("T", 0, "v" + std::to_string(i), "", "k" + std::to_string(i)));
  ASSERT_OK(store_->Close());
  store_.reset();
  OpenStore(Options());
  EXPECT_EQ(BodiesForKey("T", "k0"), std::vector<std::string>{"v0"});
  EXPECT_EQ(BodiesForKey("T", "k39"), std::vector<std::string>{"v39"});
  PutAndWait(MakeMessage("T", 0, "after", "", "k0"));
  EXPECT_EQ(BodiesForKey("T", "k0"), (std::vector<std::string>{"after", "v0"}));
}

TEST_P(StoreLookupTest, ADamagedIndexSaysHowToRebuildItAndRebuildsWhenRemoved) {
  if (GetParam() == EnvKind::kMem) GTEST_SKIP() << "damages files on disk";
  OpenStore(Options());  // 32 entries per index file: 100 keyed puts make several files
  for (int i = 0; i < 100; ++i) {
    PutAndWait(MakeMessage("T", 0, "v" + std::to_string(i), "", "k" + std::to_string(i)));
  }
  ASSERT_OK(store_->Close());
  store_.reset();
  const std::string index_dir = location_.dir() + "/index";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(index_dir)) {
    files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 2u);
  {  // both header copies of the oldest file
    std::fstream f(files.front(), std::ios::in | std::ios::out | std::ios::binary);
    std::string garbage(256, '\xAB');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto damaged = Store::Open(Options(), location_.dir());
  ASSERT_TRUE(damaged.status().IsCorruption()) << damaged.status().ToString();
  EXPECT_NE(damaged.status().ToString().find("/index/ to have it rebuilt"), std::string::npos)
      << damaged.status().ToString();

  std::filesystem::remove_all(index_dir);
  OpenStore(Options());
  ASSERT_OK(store_->AwaitDispatched(store_->Stats().appended_offset, kWaitMs));
  EXPECT_EQ(BodiesForKey("T", "k0"), std::vector<std::string>{"v0"});
  EXPECT_EQ(BodiesForKey("T", "k99"), std::vector<std::string>{"v99"});
}

TEST_P(StoreLookupTest, WithoutAnIndexQueriesFailAndOffsetIdsStillWork) {
  StoreOptions o = Options();
  o.enable_index = false;
  OpenStore(o);
  PutResult r = PutAndWait(MakeMessage("T", 0, "x", "", "k"));
  EXPECT_TRUE(store_->QueryByKey("T", "k", 0, kAllTime, 10).status().IsFailedPrecondition());
  ASSERT_OK_AND_ASSIGN(RecordView view, store_->ReadByMessageId("T", r.offset_message_id()));
  EXPECT_EQ(BodyOf(view), "x");
}

TEST_P(StoreLookupTest, MetadataIsOpenedBesideThePosixStoreOnly) {
  OpenStore(Options());
  if (GetParam() == EnvKind::kMem) {
    EXPECT_EQ(store_->metadata(), nullptr);  // LMDB writes real files: not under a MemEnv
    return;
  }
  ASSERT_NE(store_->metadata(), nullptr);
  TopicConfig topic;
  topic.name = "Orders";
  topic.read_queue_nums = topic.write_queue_nums = 2;
  ASSERT_OK(store_->metadata()->PutTopic(topic));
  ConsumerOffset offsets[] = {{"Orders", 0, 7}, {"Orders", 1, 3}};
  ASSERT_OK(store_->metadata()->CommitOffsets("Group", offsets));
  ASSERT_OK(store_->Close());
  store_.reset();
  OpenStore(Options());
  ASSERT_NE(store_->metadata(), nullptr);
  ASSERT_OK_AND_ASSIGN(auto offset, store_->metadata()->GetOffset("Group", "Orders", 1));
  EXPECT_EQ(offset, 3);
}

// After a power cut the index is rebuilt from its durable point: every record the recovered
// log holds is found again, and nothing past the recovered end is.
TEST(StoreLookupCrashTest, TheIndexIsRebuiltAfterACrashAndNeverPointsPastTheLog) {
  auto env = NewMemEnv();
  test::ManualClock clock;
  StoreOptions o;
  o.env = env.get();
  o.clock = &clock;
  o.commitlog_segment_bytes = 8192;
  o.index_slots_per_file = 8;
  o.index_entries_per_file = 32;
  o.flush_mode = FlushMode::kSync;
  o.checkpoint_interval_ms = 3'600'000;  // the index is never flushed before the crash
  o.flush_interval_ms = 3'600'000;
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(o, "/store"));
  for (int i = 0; i < 60; ++i) {
    ASSERT_OK(PutMessage(store.get(),
                         MakeMessage("T", 0, "d" + std::to_string(i), "", "k" + std::to_string(i)))
                  .status());
  }
  // Appended, never synced: gone after the crash.
  Message lost = MakeMessage("T", 0, "lost", "", "k-lost");
  lost.SetProperty(std::string(property::kWaitStoreMsgOk), "false");
  ASSERT_OK_AND_ASSIGN(PutResult lost_put, PutMessage(store.get(), lost));
  (void)lost_put;
  auto crashed = env->CrashCopy({CrashMode::kDropUnsynced, 0});
  store.reset();

  o.env = crashed.get();
  ASSERT_OK_AND_ASSIGN(auto reopened, Store::Open(o, "/store"));
  StoreStats stats = reopened->Stats();
  ASSERT_OK(reopened->AwaitDispatched(stats.appended_offset, kWaitMs));
  for (int i = 0; i < 60; ++i) {
    ASSERT_OK_AND_ASSIGN(auto found,
                         reopened->QueryByKey("T", "k" + std::to_string(i), 0, kAllTime, 10));
    ASSERT_EQ(found.size(), 1u) << i;
    EXPECT_EQ(BodyOf(found[0]), "d" + std::to_string(i));
  }
  ASSERT_OK_AND_ASSIGN(auto after, reopened->QueryByKey("T", "k-lost", 0, kAllTime, 10));
  // The no-wait put may or may not have been synced before the cut; if it is found, it is
  // in the recovered log.
  for (const RecordView& v : after) EXPECT_LT(v.physical_offset, stats.appended_offset);
}

// The index keeps its own durable point, so it is synced every index_sync_interval_ms (its
// slot table is expensive to write back), not by the checkpoints; close always syncs it.
struct IndexSyncCounts {
  int64_t at_checkpoints = 0;  // index operations during the checkpoints after the first
  int64_t at_close = 0;
};

IndexSyncCounts CountIndexSyncs(int index_sync_interval_ms, int checkpoints) {
  auto mem = NewMemEnv();
  test::FaultInjectionEnv env(mem.get());
  StoreOptions o = test::SmallStoreOptions(&env, FlushMode::kSync);
  o.consume_queue_entries_per_file = 300;  // queue ops are syncs, not file rolls
  o.index_entries_per_file = 300;          // no index roll either
  o.checkpoint_interval_ms = 1;
  o.index_sync_interval_ms = index_sync_interval_ms;
  IndexSyncCounts counts;
  auto store = Store::Open(o, "/store");
  EXPECT_OK(store.status());
  if (!store.ok()) return counts;
  auto ops = [&](test::StoreComponent c) {
    return static_cast<int64_t>(env.OperationCounts()[static_cast<size_t>(c)]);
  };
  auto put_and_checkpoint = [&](int i) {
    const int64_t queue_ops = ops(test::StoreComponent::kConsumeQueue);
    EXPECT_OK(PutMessage(store->get(), MakeMessage("T", 0, "b", "", "k" + std::to_string(i)))
                  .status());
    // Dispatched (the index file is made with the first entry), then a checkpoint after
    // the put syncs its consume-queue entry.
    EXPECT_OK((*store)->AwaitDispatched((*store)->Stats().appended_offset, kWaitMs));
    for (int w = 0; w < kWaitMs && ops(test::StoreComponent::kConsumeQueue) == queue_ops; ++w) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_GT(ops(test::StoreComponent::kConsumeQueue), queue_ops) << "no checkpoint ran";
  };
  put_and_checkpoint(0);  // creates the index file
  const int64_t first = ops(test::StoreComponent::kIndex);
  for (int i = 1; i <= checkpoints; ++i) put_and_checkpoint(i);
  const int64_t before_close = ops(test::StoreComponent::kIndex);
  counts.at_checkpoints = before_close - first;
  EXPECT_OK((*store)->Close());
  counts.at_close = ops(test::StoreComponent::kIndex) - before_close;
  return counts;
}

TEST(StoreIndexSyncTest, CheckpointsWithinTheIntervalLeaveTheIndexToClose) {
  IndexSyncCounts counts = CountIndexSyncs(3'600'000, 5);
  EXPECT_EQ(counts.at_checkpoints, 0);
  EXPECT_GT(counts.at_close, 0) << "close did not sync the index";
}

TEST(StoreIndexSyncTest, CheckpointsPastTheIntervalSyncTheIndex) {
  EXPECT_GT(CountIndexSyncs(1, 5).at_checkpoints, 0);
}

}  // namespace
}  // namespace mqstore
