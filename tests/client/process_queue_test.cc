// ProcessQueue: the offset to commit never passes a message still held, whatever order
// consumption finishes in; sizes for flow control.
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

TEST(ProcessQueueTest, DroppedIsSticky) {
  ProcessQueue pq;
  EXPECT_FALSE(pq.dropped());
  pq.set_dropped();
  EXPECT_TRUE(pq.dropped());
}

}  // namespace
}  // namespace mqclient
