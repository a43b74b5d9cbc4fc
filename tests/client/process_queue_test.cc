// ProcessQueue: the offset to commit never passes a message still held, whatever order
// consumption finishes in; sizes for flow control.
#include "process_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
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

TEST(ProcessQueueTest, DroppedIsSticky) {
  ProcessQueue pq;
  EXPECT_FALSE(pq.dropped());
  pq.set_dropped();
  EXPECT_TRUE(pq.dropped());
}

}  // namespace
}  // namespace mqclient
