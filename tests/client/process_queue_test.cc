// ProcessQueue: the offset to commit never passes a message still held, whatever order
// consumption finishes in; sizes for flow control; listener calls that outlive the consume
// timeout; a replacement after an offset reset.
#include "process_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

namespace mqclient {
namespace {

std::vector<ProcessQueue::Entry> Entries(int64_t from, int64_t to, uint64_t bytes = 10) {
  std::vector<ProcessQueue::Entry> entries;
  for (int64_t offset = from; offset < to; ++offset) entries.push_back({offset, bytes});
  return entries;
}

TEST(ProcessQueueTest, NothingHeldMeansNothingToCommit) {
  ProcessQueue pq;
  EXPECT_EQ(pq.Remove({1, 2}), -1);
  EXPECT_EQ(pq.count(), 0u);
  EXPECT_EQ(pq.span(), 0);
}

TEST(ProcessQueueTest, CommitOffsetIsTheLowestStillHeld) {
  ProcessQueue pq;
  EXPECT_EQ(pq.Put(Entries(5, 10)), 5u);
  EXPECT_EQ(pq.count(), 5u);
  EXPECT_EQ(pq.bytes(), 50u);
  EXPECT_EQ(pq.span(), 4);
  EXPECT_EQ(pq.Remove({7, 8}), 5);  // 5 is still being consumed
  EXPECT_EQ(pq.Remove({5}), 6);
  EXPECT_EQ(pq.Remove({6, 9}), 10);  // all done: one past the highest
  EXPECT_EQ(pq.count(), 0u);
  EXPECT_EQ(pq.bytes(), 0u);
  // Emptied, a queue still has nothing to commit until more arrives.
  EXPECT_EQ(pq.Remove({10}), -1);
}

TEST(ProcessQueueTest, DuplicatesAndUnknownOffsetsAreIgnored) {
  ProcessQueue pq;
  EXPECT_EQ(pq.Put(Entries(0, 3)), 3u);
  EXPECT_EQ(pq.Put(Entries(2, 4)), 1u);  // 2 again, 3 new
  EXPECT_EQ(pq.count(), 4u);
  EXPECT_EQ(pq.Remove({100}), 0);
  EXPECT_EQ(pq.count(), 4u);
}

TEST(ProcessQueueTest, AnyCompletionOrderNeverCommitsPastAHeldMessage) {
  std::mt19937 random(7);
  for (int round = 0; round < 50; ++round) {
    ProcessQueue pq;
    pq.Put(Entries(100, 140));
    std::vector<int64_t> order;
    for (int64_t offset = 100; offset < 140; ++offset) order.push_back(offset);
    std::shuffle(order.begin(), order.end(), random);
    std::vector<bool> done(40, false);
    for (int64_t offset : order) {
      done[static_cast<size_t>(offset - 100)] = true;
      const int64_t commit = pq.Remove({offset});
      // Every offset below the commit offset is done, and the one at it (if any) is not.
      int64_t lowest_pending = 140;
      for (int64_t o = 100; o < 140; ++o) {
        if (!done[static_cast<size_t>(o - 100)]) {
          lowest_pending = o;
          break;
        }
      }
      ASSERT_EQ(commit, lowest_pending);
    }
  }
}

std::vector<ReceivedMessage> Messages(std::vector<int64_t> offsets) {
  std::vector<ReceivedMessage> messages;
  for (int64_t offset : offsets) {
    ReceivedMessage m;
    m.queue_offset = offset;
    m.body = "m" + std::to_string(offset);
    messages.push_back(m);
  }
  return messages;
}

std::vector<int64_t> OffsetsOf(const std::vector<ReceivedMessage>& messages) {
  std::vector<int64_t> offsets;
  for (const ReceivedMessage& m : messages) offsets.push_back(m.queue_offset);
  return offsets;
}

TEST(ProcessQueueTest, OrderlyMessagesAreTakenInOffsetOrderAndCommittedPastTheHighest) {
  ProcessQueue pq;
  pq.PutMessages(Messages({3, 1, 2}));
  pq.PutMessages(Messages({2, 4}));  // 2 again is ignored
  EXPECT_EQ(pq.count(), 4u);
  EXPECT_EQ(pq.bytes(), 8u);
  EXPECT_EQ(pq.CommitTaken(), -1);  // nothing taken yet
  EXPECT_EQ(OffsetsOf(pq.TakeMessages(2)), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(pq.CommitTaken(), 3);
  EXPECT_EQ(pq.count(), 2u);
  EXPECT_EQ(OffsetsOf(pq.TakeMessages(5)), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(pq.CommitTaken(), 5);
  EXPECT_EQ(pq.count(), 0u);
  EXPECT_TRUE(pq.TakeMessages(1).empty());
}

TEST(ProcessQueueTest, ReturnedMessagesComeFirstAgainWithOneMoreReconsume) {
  ProcessQueue pq;
  pq.PutMessages(Messages({10, 11, 12}));
  ASSERT_EQ(pq.TakeMessages(2).size(), 2u);
  pq.ReturnTaken();
  std::vector<ReceivedMessage> again = pq.TakeMessages(3);
  EXPECT_EQ(OffsetsOf(again), (std::vector<int64_t>{10, 11, 12}));
  EXPECT_EQ(again[0].reconsume_times, 1);
  EXPECT_EQ(again[1].reconsume_times, 1);
  EXPECT_EQ(again[2].reconsume_times, 0);
  EXPECT_EQ(pq.CommitTaken(), 13);
}

TEST(ProcessQueueTest, OneConsumeTurnAtATime) {
  ProcessQueue pq;
  EXPECT_FALSE(pq.TryStartConsuming());  // nothing waits
  pq.PutMessages(Messages({0}));
  EXPECT_TRUE(pq.TryStartConsuming());
  EXPECT_FALSE(pq.TryStartConsuming());  // the turn is taken
  pq.PutMessages(Messages({1}));
  EXPECT_FALSE(pq.FinishConsumingIfIdle());  // messages wait: the holder goes on
  pq.TakeMessages(2);
  EXPECT_TRUE(pq.FinishConsumingIfIdle());
  pq.PutMessages(Messages({2}));
  EXPECT_TRUE(pq.TryStartConsuming());
}

TEST(ProcessQueueTest, ALockCountsOnlyWhileFresh) {
  ProcessQueue pq;
  EXPECT_FALSE(pq.LockedWithin(std::chrono::hours(1)));
  pq.set_locked(true);
  EXPECT_TRUE(pq.LockedWithin(std::chrono::hours(1)));
  EXPECT_FALSE(pq.LockedWithin(std::chrono::milliseconds(-1)));  // older than any bound
  pq.set_locked(false);
  EXPECT_FALSE(pq.LockedWithin(std::chrono::hours(1)));
}

TEST(ProcessQueueTest, DroppedAndReplacedAreSticky) {
  ProcessQueue pq;
  EXPECT_FALSE(pq.dropped());
  pq.set_dropped();
  EXPECT_TRUE(pq.dropped());
  EXPECT_FALSE(pq.replaced());
  pq.set_replaced();
  EXPECT_TRUE(pq.replaced());
}

std::vector<ReceivedMessage> Pulled(std::vector<int64_t> offsets) {
  std::vector<ReceivedMessage> messages = Messages(std::move(offsets));
  for (ReceivedMessage& m : messages) {
    m.topic = "Orders";
    m.commit_log_offset = 1000 + m.queue_offset;
    m.msg_id = "id" + std::to_string(m.queue_offset);
    m.unique_id = "uniq" + std::to_string(m.queue_offset);
    m.properties["KEYS"] = "k";
  }
  return messages;
}

TEST(ProcessQueueTest, OnlyListenerCallsOlderThanTheTimeoutExpire) {
  using std::chrono::seconds;
  ProcessQueue pq;
  pq.Put(Entries(0, 4));
  const auto t0 = ProcessQueue::Clock::now();
  std::vector<ReceivedMessage> first = Pulled({0, 1});
  pq.BeginConsume(first, t0);
  pq.BeginConsume(Pulled({2}), t0 + seconds(5));
  // 3 is held but no listener call runs on it: it never expires.
  EXPECT_TRUE(pq.TakeExpired(t0 + seconds(9), seconds(10), 16).empty());
  std::vector<ReceivedMessage> expired = pq.TakeExpired(t0 + seconds(10), seconds(10), 16);
  ASSERT_EQ(OffsetsOf(expired), (std::vector<int64_t>{0, 1}));
  // What a send-back needs, without the body and properties.
  EXPECT_EQ(expired[0].topic, "Orders");
  EXPECT_EQ(expired[0].commit_log_offset, 1000);
  EXPECT_EQ(expired[0].msg_id, "id0");
  EXPECT_EQ(expired[0].unique_id, "uniq0");
  EXPECT_TRUE(expired[0].body.empty());
  EXPECT_TRUE(expired[0].properties.empty());

  // The calls return: the expired messages are no longer theirs, 2 still is.
  EXPECT_EQ(pq.EndConsume({0, 1}), std::vector<int64_t>{});
  EXPECT_EQ(pq.EndConsume({2}), std::vector<int64_t>{2});
  // Taken ones still held (a failed send-back) come again; 2's call is over.
  EXPECT_EQ(OffsetsOf(pq.TakeExpired(t0 + seconds(100), seconds(10), 16)),
            (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(pq.Remove({0, 1}), 2);
  EXPECT_TRUE(pq.TakeExpired(t0 + seconds(100), seconds(10), 16).empty());
  EXPECT_EQ(pq.count(), 2u);
}

TEST(ProcessQueueTest, AtMostMaxExpiredAreTakenLowestFirst) {
  using std::chrono::seconds;
  ProcessQueue pq;
  pq.Put(Entries(0, 5));
  const auto t0 = ProcessQueue::Clock::now();
  pq.BeginConsume(Pulled({4, 3, 2, 1, 0}), t0);
  EXPECT_EQ(OffsetsOf(pq.TakeExpired(t0 + seconds(1), seconds(1), 2)),
            (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(OffsetsOf(pq.TakeExpired(t0 + seconds(1), seconds(1), 4)),
            (std::vector<int64_t>{0, 1, 2, 3}));
  // A message not held (consumed meanwhile) is not marked.
  pq.BeginConsume(Pulled({9}), t0);
  EXPECT_EQ(pq.EndConsume({9}), std::vector<int64_t>{});
}

TEST(ProcessQueueTest, AReplacementSharesTheConsumeMutexAndTheLock) {
  ProcessQueue old_pq;
  old_pq.set_locked(true);
  ProcessQueue fresh;
  fresh.TakeOver(old_pq);
  EXPECT_EQ(&fresh.consume_mutex(), &old_pq.consume_mutex());
  EXPECT_TRUE(fresh.LockedWithin(std::chrono::hours(1)));
  // Nothing else is carried over.
  EXPECT_FALSE(fresh.dropped());
  EXPECT_EQ(fresh.count(), 0u);
  ProcessQueue unlocked;
  ProcessQueue other;
  other.TakeOver(unlocked);
  EXPECT_FALSE(other.LockedWithin(std::chrono::hours(1)));
  EXPECT_NE(&other.consume_mutex(), &fresh.consume_mutex());
}

}  // namespace
}  // namespace mqclient
