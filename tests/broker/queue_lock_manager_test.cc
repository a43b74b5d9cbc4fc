#include "queue_lock_manager.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mqbroker {
namespace {

using Queues = std::vector<MessageQueue>;

MessageQueue Q(int32_t id, std::string topic = "T", std::string broker = "broker-a") {
  return MessageQueue{std::move(topic), std::move(broker), id};
}

TEST(QueueLockManagerTest, MessageQueueOrderAndEquality) {
  EXPECT_EQ(Q(1), Q(1));
  EXPECT_NE(Q(1), Q(2));
  EXPECT_NE(Q(1, "T", "broker-a"), Q(1, "T", "broker-b"));
  EXPECT_LT(Q(9, "A"), Q(0, "B")) << "topic first";
  EXPECT_LT(Q(9, "T", "broker-a"), Q(0, "T", "broker-b")) << "then broker";
  EXPECT_LT(Q(1), Q(2)) << "then queue id";
  std::set<MessageQueue> set{Q(2), Q(1), Q(1)};
  EXPECT_EQ(set.size(), 2u);
}

TEST(QueueLockManagerTest, TwoClientsContend) {
  QueueLockManager locks;
  EXPECT_EQ(locks.TryLockBatch("G", {Q(0), Q(1)}, "c1", 0), (Queues{Q(0), Q(1)}));
  EXPECT_EQ(locks.TryLockBatch("G", {Q(1), Q(2)}, "c2", 10), Queues{Q(2)});

  EXPECT_TRUE(locks.IsLockedByOther("G", Q(1), "c2", 10));
  EXPECT_FALSE(locks.IsLockedByOther("G", Q(1), "c1", 10));
  EXPECT_TRUE(locks.IsLockedByOther("G", Q(2), "c1", 10));
  EXPECT_FALSE(locks.IsLockedByOther("G", Q(3), "c1", 10)) << "nobody holds queue 3";
  EXPECT_EQ(locks.Holder("G", Q(0), 10), "c1");
  EXPECT_EQ(locks.Holder("G", Q(2), 10), "c2");
  EXPECT_EQ(locks.Holder("G", Q(3), 10), std::nullopt);

  // Another group locks independently.
  EXPECT_EQ(locks.TryLockBatch("H", {Q(0)}, "c2", 10), Queues{Q(0)});
  EXPECT_EQ(locks.Holder("G", Q(0), 10), "c1");
}

TEST(QueueLockManagerTest, ResultIsSortedWithoutDuplicates) {
  QueueLockManager locks;
  EXPECT_EQ(locks.TryLockBatch("G", {Q(3), Q(1), Q(3), Q(0, "A")}, "c1", 0),
            (Queues{Q(0, "A"), Q(1), Q(3)}));
  EXPECT_TRUE(locks.TryLockBatch("G", {}, "c1", 0).empty());
  EXPECT_EQ(locks.size(), 3u);
}

TEST(QueueLockManagerTest, RenewalKeepsTheLock) {
  QueueLockManager locks;
  locks.TryLockBatch("G", {Q(0)}, "c1", 0);
  EXPECT_EQ(locks.TryLockBatch("G", {Q(0)}, "c1", 50'000), Queues{Q(0)}) << "renewed";
  // 100 s after the first lock but 50 s after the renewal: still c1's.
  EXPECT_TRUE(locks.TryLockBatch("G", {Q(0)}, "c2", 100'000).empty());
  EXPECT_TRUE(locks.IsLockedByOther("G", Q(0), "c2", 110'000));
  EXPECT_EQ(locks.TryLockBatch("G", {Q(0)}, "c2", 110'001), Queues{Q(0)});
  EXPECT_EQ(locks.Holder("G", Q(0), 110'001), "c2");
}

TEST(QueueLockManagerTest, LockExpiresAfterSixtySeconds) {
  QueueLockManager locks;
  EXPECT_EQ(locks.lock_max_live_ms(), 60'000);
  locks.TryLockBatch("G", {Q(0)}, "c1", 1'000);
  EXPECT_TRUE(locks.TryLockBatch("G", {Q(0)}, "c2", 61'000).empty()) << "60 s exactly: live";
  EXPECT_FALSE(locks.IsLockedByOther("G", Q(0), "c2", 61'001));
  EXPECT_EQ(locks.Holder("G", Q(0), 61'001), std::nullopt);
  EXPECT_EQ(locks.TryLockBatch("G", {Q(0)}, "c2", 61'001), Queues{Q(0)});
  EXPECT_TRUE(locks.IsLockedByOther("G", Q(0), "c1", 61'001));
}

TEST(QueueLockManagerTest, ExpiryIsConfigurable) {
  QueueLockManager locks(/*lock_max_live_ms=*/1'000);
  locks.TryLockBatch("G", {Q(0)}, "c1", 0);
  EXPECT_TRUE(locks.TryLockBatch("G", {Q(0)}, "c2", 1'000).empty());
  EXPECT_EQ(locks.TryLockBatch("G", {Q(0)}, "c2", 1'001), Queues{Q(0)});
}

TEST(QueueLockManagerTest, UnlockByNonHolderIsIgnored) {
  QueueLockManager locks;
  locks.TryLockBatch("G", {Q(0), Q(1)}, "c1", 0);
  locks.UnlockBatch("G", {Q(0), Q(1)}, "c2");
  EXPECT_EQ(locks.Holder("G", Q(0), 1), "c1");
  EXPECT_EQ(locks.Holder("G", Q(1), 1), "c1");
  locks.UnlockBatch("H", {Q(0)}, "c1");  // wrong group
  EXPECT_EQ(locks.Holder("G", Q(0), 1), "c1");

  locks.UnlockBatch("G", {Q(0), Q(7)}, "c1");
  EXPECT_EQ(locks.Holder("G", Q(0), 1), std::nullopt);
  EXPECT_EQ(locks.Holder("G", Q(1), 1), "c1");
  EXPECT_EQ(locks.TryLockBatch("G", {Q(0), Q(1)}, "c2", 2), Queues{Q(0)});
}

TEST(QueueLockManagerTest, ReleaseClient) {
  QueueLockManager locks;
  locks.TryLockBatch("G", {Q(0), Q(1)}, "c1", 0);
  locks.TryLockBatch("G", {Q(2)}, "c2", 0);
  locks.TryLockBatch("H", {Q(0)}, "c1", 0);

  locks.ReleaseClient("G", "c1");
  EXPECT_EQ(locks.Holder("G", Q(0), 1), std::nullopt);
  EXPECT_EQ(locks.Holder("G", Q(1), 1), std::nullopt);
  EXPECT_EQ(locks.Holder("G", Q(2), 1), "c2");
  EXPECT_EQ(locks.Holder("H", Q(0), 1), "c1") << "other groups keep theirs";

  locks.ReleaseClientEverywhere("c1");
  EXPECT_EQ(locks.Holder("H", Q(0), 1), std::nullopt);
  EXPECT_EQ(locks.size(), 1u);
}

TEST(QueueLockManagerTest, RemoveExpiredDropsOnlyExpiredLocks) {
  QueueLockManager locks;
  locks.TryLockBatch("G", {Q(0)}, "c1", 0);
  locks.TryLockBatch("G", {Q(1)}, "c1", 30'000);
  locks.TryLockBatch("H", {Q(0)}, "c2", 0);
  EXPECT_EQ(locks.RemoveExpired(60'000), 0u);
  EXPECT_EQ(locks.RemoveExpired(60'001), 2u);
  EXPECT_EQ(locks.size(), 1u);
  EXPECT_EQ(locks.Holder("G", Q(1), 60'001), "c1");
}

}  // namespace
}  // namespace mqbroker
