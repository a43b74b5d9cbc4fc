#include "queue/dispatcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "mqstore/mem_env.h"
#include "mqstore/queue/log_harness.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::AllEntries;
using test::LogHarness;
using test::MakeMessage;

constexpr int kWaitMs = 10'000;  // bounded wait for the dispatcher thread

// A dispatcher over a LogHarness whose dispatch limit the test moves by hand.
class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : harness_(env_.get(), /*segment_bytes=*/4096) {}

  void SetUp() override { ASSERT_OK(harness_.Load()); }

  void StartDispatcher(int64_t from = 0, IndexService* index = nullptr, int64_t queues_from = 0,
                       std::chrono::microseconds batch_wait = std::chrono::microseconds(0)) {
    dispatcher_ = std::make_unique<Dispatcher>(
        &harness_.log(), &harness_.queues(), index, [this] { return limit_.load(); },
        &harness_.log().append_event(), batch_wait);
    dispatcher_->Start(from, queues_from);
  }
  // Lets dispatch reach `limit` and wakes the dispatcher.
  void SetLimit(int64_t limit) {
    limit_.store(limit);
    harness_.log().append_event().Notify();
  }
  std::vector<QueueEntry> EntriesOf(const std::string& topic, int32_t queue_id) {
    auto q = harness_.queues().Find(topic, queue_id);
    return q ? AllEntries(*q) : std::vector<QueueEntry>();
  }

  std::unique_ptr<MemEnv> env_ = NewMemEnv();
  LogHarness harness_;
  std::atomic<int64_t> limit_{0};
  std::unique_ptr<Dispatcher> dispatcher_;  // declared last: stopped before the rest goes
};

TEST_F(DispatcherTest, AppendedRecordsBecomeReadableThroughTheirQueues) {
  StartDispatcher();
  ASSERT_OK_AND_ASSIGN(AppendedRecord a0, harness_.Append(MakeMessage("TopicA", 0, "a0", "red")));
  ASSERT_OK_AND_ASSIGN(AppendedRecord b0, harness_.Append(MakeMessage("TopicB", 2, "b0")));
  ASSERT_OK_AND_ASSIGN(AppendedRecord a1, harness_.Append(MakeMessage("TopicA", 0, "a1")));
  int64_t end = a1.physical_offset + a1.size;
  SetLimit(end);
  ASSERT_OK(dispatcher_->AwaitDispatched(end, kWaitMs));
  EXPECT_EQ(dispatcher_->dispatched(), end);

  std::vector<QueueEntry> a = EntriesOf("TopicA", 0);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].physical_offset, a0.physical_offset);
  EXPECT_EQ(a[0].size, a0.size);
  EXPECT_EQ(a[0].tags_code, TagsHashCode("red"));
  EXPECT_EQ(a[1].physical_offset, a1.physical_offset);
  EXPECT_EQ(a[1].tags_code, 0);
  std::vector<QueueEntry> b = EntriesOf("TopicB", 2);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].physical_offset, b0.physical_offset);
  EXPECT_OK(dispatcher_->error());
}

TEST_F(DispatcherTest, AwaitDispatchedTimesOutWhenTheLimitHoldsItBack) {
  StartDispatcher();
  ASSERT_OK(harness_.AppendMany("TopicA", 0, 5));
  const auto& r = harness_.appended();
  int64_t third_end = r[2].physical_offset + r[2].size;
  SetLimit(third_end);
  ASSERT_OK(dispatcher_->AwaitDispatched(third_end, kWaitMs));
  Status s = dispatcher_->AwaitDispatched(r[3].physical_offset + r[3].size, 30);
  EXPECT_TRUE(s.IsTimedOut()) << s.ToString();
  EXPECT_EQ(dispatcher_->dispatched(), third_end);
  EXPECT_EQ(EntriesOf("TopicA", 0).size(), 3u);

  int64_t end = harness_.log().appended();
  SetLimit(end);
  ASSERT_OK(dispatcher_->AwaitDispatched(end, kWaitMs));
  EXPECT_EQ(EntriesOf("TopicA", 0).size(), 5u);
}

TEST_F(DispatcherTest, AwaitOfAnOffsetAlreadyDispatchedReturnsAtOnce) {
  StartDispatcher();
  EXPECT_OK(dispatcher_->AwaitDispatched(0, 0));
  ASSERT_OK(harness_.AppendMany("TopicA", 0, 1));
  SetLimit(harness_.log().appended());
  ASSERT_OK(dispatcher_->AwaitDispatched(harness_.log().appended(), kWaitMs));
  EXPECT_OK(dispatcher_->AwaitDispatched(1, 0));
}

TEST_F(DispatcherTest, SkipsTheBlankAtTheEndOfEverySegment) {
  StartDispatcher();
  // 30 records of ~1.1 KiB in 4 KiB segments: three per segment, then a blank.
  ASSERT_OK(harness_.AppendMany("TopicA", 1, 30, /*body_bytes=*/1000));
  ASSERT_GE(harness_.log().Segments().size(), 9u);
  int64_t end = harness_.log().appended();
  SetLimit(end);
  ASSERT_OK(dispatcher_->AwaitDispatched(end, kWaitMs));
  std::vector<QueueEntry> entries = EntriesOf("TopicA", 1);
  ASSERT_EQ(entries.size(), 30u);
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].physical_offset, harness_.appended()[i].physical_offset) << i;
    EXPECT_EQ(entries[i].size, harness_.appended()[i].size) << i;
  }
  EXPECT_OK(dispatcher_->error());
}

TEST_F(DispatcherTest, FollowsAppendsAsTheyHappen) {
  StartDispatcher();
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(harness_.AppendMany("TopicA", 0, 1, 500));
    SetLimit(harness_.log().appended());
    ASSERT_OK(dispatcher_->AwaitDispatched(harness_.log().appended(), kWaitMs));
    ASSERT_EQ(EntriesOf("TopicA", 0).size(), static_cast<size_t>(i + 1));
  }
}

// Waits for dispatch without AwaitDispatched, which would cut a batch wait short.
bool PollUntilDispatched(const Dispatcher& dispatcher, int64_t offset) {
  for (int waited_ms = 0; waited_ms < kWaitMs; ++waited_ms) {
    if (dispatcher.dispatched() >= offset) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return dispatcher.dispatched() >= offset;
}

TEST_F(DispatcherTest, WhileRecordsComeItWaitsTheBatchWaitInsteadOfBeingWokenByEachAppend) {
  StartDispatcher(0, nullptr, 0, std::chrono::hours(1));
  // Idle: the first record is dispatched as soon as it may be (the notify wakes it).
  ASSERT_OK(harness_.AppendMany("TopicA", 0, 1));
  const int64_t first_end = harness_.log().appended();
  SetLimit(first_end);
  ASSERT_TRUE(PollUntilDispatched(*dispatcher_, first_end));
  // Now it waits out its batch wait (an hour here): the next record's notify does not wake it.
  ASSERT_OK(harness_.AppendMany("TopicA", 0, 1));
  SetLimit(harness_.log().appended());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(dispatcher_->dispatched(), first_end);
  EXPECT_EQ(EntriesOf("TopicA", 0).size(), 1u);
  // Somebody waiting for the record cuts the wait short.
  ASSERT_OK(dispatcher_->AwaitDispatched(harness_.log().appended(), kWaitMs));
  EXPECT_EQ(EntriesOf("TopicA", 0).size(), 2u);
}

TEST_F(DispatcherTest, StopCutsTheBatchWaitShort) {
  StartDispatcher(0, nullptr, 0, std::chrono::hours(1));
  ASSERT_OK(harness_.AppendMany("TopicA", 0, 2));
  SetLimit(harness_.log().appended());
  ASSERT_TRUE(PollUntilDispatched(*dispatcher_, harness_.log().appended()));
  dispatcher_->Stop();  // would take an hour otherwise
  EXPECT_EQ(EntriesOf("TopicA", 0).size(), 2u);
}

TEST_F(DispatcherTest, StartsAtTheGivenOffset) {
  ASSERT_OK(harness_.AppendMany("TopicA", 0, 4));
  // The first two records are already in the queue (as after recovery).
  const auto& r = harness_.appended();
  int64_t from = r[2].physical_offset;
  ASSERT_OK(harness_.DispatchUpTo(from));
  StartDispatcher(from);
  SetLimit(harness_.log().appended());
  ASSERT_OK(dispatcher_->AwaitDispatched(harness_.log().appended(), kWaitMs));
  std::vector<QueueEntry> entries = EntriesOf("TopicA", 0);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[3].physical_offset, r[3].physical_offset);
}

TEST_F(DispatcherTest, NotifiesTheArrivalListenerWithTheNextOffset) {
  std::mutex mu;
  std::vector<std::tuple<std::string, int32_t, int64_t>> arrivals;
  StartDispatcher();
  dispatcher_->SetListener([&](std::string_view topic, int32_t queue_id, int64_t next) {
    std::lock_guard<std::mutex> l(mu);
    arrivals.emplace_back(std::string(topic), queue_id, next);
  });
  ASSERT_OK(harness_.Append(MakeMessage("TopicA", 0, "x")).status());
  ASSERT_OK(harness_.Append(MakeMessage("TopicB", 5, "y")).status());
  ASSERT_OK(harness_.Append(MakeMessage("TopicA", 0, "z")).status());
  Message prepared = MakeMessage("TopicA", 0, "half");
  prepared.sys_flag = sysflag::kTransactionPrepared;  // gets no queue entry, no arrival
  ASSERT_OK(harness_.Append(prepared).status());
  SetLimit(harness_.log().appended());
  ASSERT_OK(dispatcher_->AwaitDispatched(harness_.log().appended(), kWaitMs));
  std::lock_guard<std::mutex> l(mu);
  std::vector<std::tuple<std::string, int32_t, int64_t>> expected = {
      {"TopicA", 0, 1}, {"TopicB", 5, 1}, {"TopicA", 0, 2}};
  EXPECT_EQ(arrivals, expected);
}

TEST_F(DispatcherTest, AQueueOffsetGapStopsDispatchWithCorruption) {
  StartDispatcher();
  ASSERT_OK(harness_.AppendMany("TopicA", 0, 2));
  ASSERT_OK(harness_.AppendAt(MakeMessage("TopicA", 0, "skips offset 2"), 3).status());
  ASSERT_OK(harness_.AppendMany("TopicA", 0, 1));
  const auto& r = harness_.appended();
  SetLimit(harness_.log().appended());
  Status s = dispatcher_->AwaitDispatched(harness_.log().appended(), kWaitMs);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(dispatcher_->error().IsCorruption());
  EXPECT_EQ(dispatcher_->dispatched(), r[2].physical_offset);
  EXPECT_EQ(EntriesOf("TopicA", 0).size(), 2u);
}

TEST_F(DispatcherTest, StopJoinsAndCanBeCalledTwice) {
  StartDispatcher();
  ASSERT_OK(harness_.AppendMany("TopicA", 0, 3));
  SetLimit(harness_.log().appended());
  ASSERT_OK(dispatcher_->AwaitDispatched(harness_.log().appended(), kWaitMs));
  dispatcher_->Stop();
  dispatcher_->Stop();
  // Stopped: later records are not dispatched.
  ASSERT_OK(harness_.AppendMany("TopicA", 0, 1));
  SetLimit(harness_.log().appended());
  EXPECT_TRUE(dispatcher_->AwaitDispatched(harness_.log().appended(), 20).IsTimedOut());
  EXPECT_EQ(EntriesOf("TopicA", 0).size(), 3u);
}

TEST_F(DispatcherTest, RecordsWithKeysAreIndexedUnderEachKeyAndTheirUniqueKey) {
  IndexService index(env_.get(), "/store", IndexOptions{64, 256});
  ASSERT_OK(index.Load());
  StartDispatcher(0, &index);
  Message with_keys = MakeMessage("TopicA", 0, "a", "", "order-1 order-2");
  with_keys.SetProperty(std::string(property::kUniqueKey), "UNIQ-A");
  ASSERT_OK_AND_ASSIGN(AppendedRecord a, harness_.Append(with_keys));
  ASSERT_OK_AND_ASSIGN(AppendedRecord plain, harness_.Append(MakeMessage("TopicA", 0, "b")));
  int64_t end = plain.physical_offset + plain.size;
  SetLimit(end);
  ASSERT_OK(dispatcher_->AwaitDispatched(end, kWaitMs));
  for (const char* key : {"order-1", "order-2", "UNIQ-A"}) {
    ASSERT_OK_AND_ASSIGN(auto found, index.Query("TopicA", key, 0, INT64_MAX, 10, end));
    EXPECT_EQ(found, std::vector<int64_t>{a.physical_offset}) << key;
  }
  ASSERT_OK_AND_ASSIGN(auto other_topic, index.Query("TopicB", "order-1", 0, INT64_MAX, 10, end));
  EXPECT_TRUE(other_topic.empty());
  EXPECT_EQ(index.indexed_end(), a.physical_offset + a.size);  // `plain` has no keys
}

TEST_F(DispatcherTest, RecordsBelowQueuesFromGoOnlyToTheIndex) {
  IndexService index(env_.get(), "/store", IndexOptions{64, 256});
  ASSERT_OK(index.Load());
  ASSERT_OK_AND_ASSIGN(AppendedRecord first,
                       harness_.Append(MakeMessage("T", 0, "first", "", "k1")));
  ASSERT_OK_AND_ASSIGN(AppendedRecord second,
                       harness_.Append(MakeMessage("T", 0, "second", "", "k2")));
  int64_t end = second.physical_offset + second.size;
  // As after recovery: the queues already cover `first` (dispatched without an index)...
  StartDispatcher(0);
  SetLimit(second.physical_offset);
  ASSERT_OK(dispatcher_->AwaitDispatched(second.physical_offset, kWaitMs));
  dispatcher_.reset();
  // ... and a dispatcher started below that point adds `first` to the index only.
  StartDispatcher(0, &index, second.physical_offset);
  SetLimit(end);
  ASSERT_OK(dispatcher_->AwaitDispatched(end, kWaitMs));
  auto entries = EntriesOf("T", 0);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].physical_offset, first.physical_offset);
  EXPECT_EQ(entries[1].physical_offset, second.physical_offset);
  for (const auto& [key, offset] : {std::pair{"k1", first.physical_offset},
                                    std::pair{"k2", second.physical_offset}}) {
    ASSERT_OK_AND_ASSIGN(auto found, index.Query("T", key, 0, INT64_MAX, 10, end));
    EXPECT_EQ(found, std::vector<int64_t>{offset}) << key;
  }
}

}  // namespace
}  // namespace mqstore
