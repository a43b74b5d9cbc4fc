// rebalance_util: what a group member's allocation keeps of a strategy's answer, the start
// offset rules without a broker, and per-kind client ids. (The broker calls are exercised by
// the push and lite pull consumer tests.)
#include "rebalance_util.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mqclient {
namespace {

MessageQueue Queue(int32_t id, const std::string& topic = "T") {
  return MessageQueue{topic, "broker-a", id};
}

TEST(RebalanceUtilTest, AllocationKeepsEachQueueOnceAndOnlyQueuesOfTheTopic) {
  // A config naming a queue twice, a queue the topic does not have and another topic's queue.
  auto config = AllocateByConfig({Queue(2), Queue(0), Queue(2), Queue(9), Queue(1, "Other")});
  std::vector<MessageQueue> mine =
      AllocateForMember(*config, "G", "c1", {Queue(3), Queue(2), Queue(1), Queue(0)}, {"c1"});
  EXPECT_EQ(mine, (std::vector<MessageQueue>{Queue(0), Queue(2)}));
}

TEST(RebalanceUtilTest, AllocationSortsItsInputsAndNeedsTheMember) {
  auto averagely = AllocateAveragely();
  std::vector<MessageQueue> queues = {Queue(3), Queue(1), Queue(0), Queue(2)};
  // Members in any order: c1 is the first of the sorted ids and gets the first half.
  EXPECT_EQ(AllocateForMember(*averagely, "G", "c1", queues, {"c2", "c1"}),
            (std::vector<MessageQueue>{Queue(0), Queue(1)}));
  EXPECT_EQ(AllocateForMember(*averagely, "G", "c2", queues, {"c2", "c1"}),
            (std::vector<MessageQueue>{Queue(2), Queue(3)}));
  EXPECT_TRUE(AllocateForMember(*averagely, "G", "c3", queues, {"c2", "c1"}).empty());
}

TEST(RebalanceUtilTest, ClientIdsCountPerKind) {
  std::string a = NewConsumerClientId("lite");
  std::string b = NewConsumerClientId("lite");
  EXPECT_NE(a, b);
  EXPECT_NE(a.find('@'), std::string::npos);
  EXPECT_TRUE(IsRetryTopicName("%RETRY%G"));
  EXPECT_FALSE(IsRetryTopicName("%DLQ%G"));
  EXPECT_EQ(ConsumeFromWhereName(ConsumeFromWhere::kFirstOffset), "CONSUME_FROM_FIRST_OFFSET");
}

}  // namespace
}  // namespace mqclient
