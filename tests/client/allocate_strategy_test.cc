// Allocation strategies: every queue goes to exactly one member, and to the one Java's
// strategies pick (hand-worked cases; consistent-hash expectations worked out from md5sum
// outputs, not from this code), whatever order the caller passes; missing members and empty
// lists allocate nothing; consistent hashing only moves queues to a member that joins.
#include "mqclient/allocate_strategy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mqclient {
namespace {

MessageQueue Queue(int32_t id, const std::string& broker = "broker-a",
                   const std::string& topic = "TopicTest") {
  return MessageQueue{topic, broker, id};
}

// Queues 0..count-1 of one broker, in order.
std::vector<MessageQueue> Queues(int count, const std::string& broker = "broker-a",
                                 const std::string& topic = "TopicTest") {
  std::vector<MessageQueue> queues;
  for (int i = 0; i < count; ++i) queues.push_back(Queue(i, broker, topic));
  return queues;
}

// Queues `ids` (indexes into `queues`), for expectations.
std::vector<MessageQueue> Pick(const std::vector<MessageQueue>& queues,
                               const std::vector<int>& ids) {
  std::vector<MessageQueue> picked;
  for (int id : ids) picked.push_back(queues.at(static_cast<size_t>(id)));
  return picked;
}

// "topic/broker/id" per queue, so that failures print readably.
std::vector<std::string> Names(const std::vector<MessageQueue>& queues) {
  std::vector<std::string> names;
  for (const MessageQueue& queue : queues) {
    names.push_back(queue.topic + "/" + queue.broker_name + "/" + std::to_string(queue.queue_id));
  }
  return names;
}

// Client ids as RocketMQ forms them (ip@instance), already in sorted order.
std::vector<std::string> Ids(int count) {
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) ids.push_back("10.0.0.1@" + std::to_string(100 + i));
  return ids;
}

std::vector<MessageQueue> AllocateFor(const AllocateStrategy& strategy, const std::string& id,
                                      const std::vector<MessageQueue>& queues,
                                      const std::vector<std::string>& ids) {
  return strategy.Allocate("GID_TEST", id, queues, ids);
}

// What each member gets. Checks that every queue goes to exactly one member and that each
// member's queues are in queue order.
std::map<std::string, std::vector<MessageQueue>> AllocateAll(
    const AllocateStrategy& strategy, const std::vector<MessageQueue>& queues,
    const std::vector<std::string>& ids) {
  std::map<std::string, std::vector<MessageQueue>> by_member;
  std::map<MessageQueue, int> times;
  for (const std::string& id : ids) {
    std::vector<MessageQueue> mine = AllocateFor(strategy, id, queues, ids);
    EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end())) << id;
    for (const MessageQueue& queue : mine) ++times[queue];
    by_member[id] = std::move(mine);
  }
  for (const MessageQueue& queue : queues) {
    EXPECT_EQ(times[queue], 1) << Names({queue})[0] << " of " << queues.size() << " queues, "
                               << ids.size() << " members";
  }
  EXPECT_EQ(times.size(), queues.size());
  return by_member;
}

std::vector<std::shared_ptr<const AllocateStrategy>> PartitioningStrategies() {
  return {AllocateAveragely(), AllocateAveragelyByCircle(), AllocateByConsistentHash()};
}

TEST(AllocateStrategyTest, NamesAreRocketMqs) {
  EXPECT_EQ(AllocateAveragely()->Name(), "AVG");
  EXPECT_EQ(AllocateAveragelyByCircle()->Name(), "AVG_BY_CIRCLE");
  EXPECT_EQ(AllocateByConsistentHash()->Name(), "CONSISTENT_HASH");
  EXPECT_EQ(AllocateByConfig({})->Name(), "CONFIG");
}

TEST(AllocateStrategyTest, AveragelyHandWorkedCases) {
  const auto strategy = AllocateAveragely();
  const std::vector<std::string> ids = Ids(3);
  // 8 queues, 3 members: 8 % 3 = 2, so the first two take 3 and the last 2.
  const std::vector<MessageQueue> eight = Queues(8);
  EXPECT_EQ(Names(AllocateFor(*strategy, ids[0], eight, ids)), Names(Pick(eight, {0, 1, 2})));
  EXPECT_EQ(Names(AllocateFor(*strategy, ids[1], eight, ids)), Names(Pick(eight, {3, 4, 5})));
  EXPECT_EQ(Names(AllocateFor(*strategy, ids[2], eight, ids)), Names(Pick(eight, {6, 7})));
  // 2 queues, 3 members: one each for the first two, none for the third.
  const std::vector<MessageQueue> two = Queues(2);
  EXPECT_EQ(Names(AllocateFor(*strategy, ids[0], two, ids)), Names(Pick(two, {0})));
  EXPECT_EQ(Names(AllocateFor(*strategy, ids[1], two, ids)), Names(Pick(two, {1})));
  EXPECT_TRUE(AllocateFor(*strategy, ids[2], two, ids).empty());
  // 3 queues, 3 members: one each.
  const std::vector<MessageQueue> three = Queues(3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Names(AllocateFor(*strategy, ids[static_cast<size_t>(i)], three, ids)),
              Names(Pick(three, {i})));
  }
  // 10 queues, 4 members: 3, 3, 2, 2.
  const std::vector<std::string> four_ids = Ids(4);
  const std::vector<MessageQueue> ten = Queues(10);
  EXPECT_EQ(Names(AllocateFor(*strategy, four_ids[0], ten, four_ids)), Names(Pick(ten, {0, 1, 2})));
  EXPECT_EQ(Names(AllocateFor(*strategy, four_ids[1], ten, four_ids)), Names(Pick(ten, {3, 4, 5})));
  EXPECT_EQ(Names(AllocateFor(*strategy, four_ids[2], ten, four_ids)), Names(Pick(ten, {6, 7})));
  EXPECT_EQ(Names(AllocateFor(*strategy, four_ids[3], ten, four_ids)), Names(Pick(ten, {8, 9})));
}

// Java's AVG over any sizes: the queues cut into contiguous runs in member order, the first
// (queues % members) runs one longer than queues / members.
TEST(AllocateStrategyTest, AveragelyCutsContiguousRunsForEverySize) {
  const auto strategy = AllocateAveragely();
  for (int members = 1; members <= 7; ++members) {
    for (int queue_count = 1; queue_count <= 20; ++queue_count) {
      SCOPED_TRACE(std::to_string(queue_count) + " queues, " + std::to_string(members) +
                   " members");
      const std::vector<MessageQueue> queues = Queues(queue_count);
      const std::vector<std::string> ids = Ids(members);
      const auto by_member = AllocateAll(*strategy, queues, ids);
      size_t next = 0;
      for (int i = 0; i < members; ++i) {
        const std::vector<MessageQueue>& mine = by_member.at(ids[static_cast<size_t>(i)]);
        const int expected_size = queue_count / members + (i < queue_count % members ? 1 : 0);
        ASSERT_EQ(mine.size(), static_cast<size_t>(expected_size)) << "member " << i;
        for (const MessageQueue& queue : mine) EXPECT_EQ(queue, queues[next++]);
      }
      EXPECT_EQ(next, queues.size());
    }
  }
}

TEST(AllocateStrategyTest, AveragelyByCircleHandWorkedCases) {
  const auto strategy = AllocateAveragelyByCircle();
  const std::vector<std::string> ids = Ids(3);
  const std::vector<MessageQueue> eight = Queues(8);
  EXPECT_EQ(Names(AllocateFor(*strategy, ids[0], eight, ids)), Names(Pick(eight, {0, 3, 6})));
  EXPECT_EQ(Names(AllocateFor(*strategy, ids[1], eight, ids)), Names(Pick(eight, {1, 4, 7})));
  EXPECT_EQ(Names(AllocateFor(*strategy, ids[2], eight, ids)), Names(Pick(eight, {2, 5})));
  const std::vector<MessageQueue> two = Queues(2);
  EXPECT_EQ(Names(AllocateFor(*strategy, ids[0], two, ids)), Names(Pick(two, {0})));
  EXPECT_EQ(Names(AllocateFor(*strategy, ids[1], two, ids)), Names(Pick(two, {1})));
  EXPECT_TRUE(AllocateFor(*strategy, ids[2], two, ids).empty());
}

TEST(AllocateStrategyTest, AveragelyByCircleDealsRoundRobinForEverySize) {
  const auto strategy = AllocateAveragelyByCircle();
  for (int members = 1; members <= 7; ++members) {
    for (int queue_count = 1; queue_count <= 20; ++queue_count) {
      SCOPED_TRACE(std::to_string(queue_count) + " queues, " + std::to_string(members) +
                   " members");
      const std::vector<MessageQueue> queues = Queues(queue_count);
      const std::vector<std::string> ids = Ids(members);
      const auto by_member = AllocateAll(*strategy, queues, ids);
      for (int i = 0; i < members; ++i) {
        std::vector<int> expected;
        for (int q = i; q < queue_count; q += members) expected.push_back(q);
        EXPECT_EQ(Names(by_member.at(ids[static_cast<size_t>(i)])), Names(Pick(queues, expected)))
            << "member " << i;
      }
    }
  }
}

// Expected values from `printf '<key>' | md5sum`: the first 8 hex digits.
TEST(AllocateStrategyTest, ConsistentHashIsTheFirstFourMd5BytesBigEndian) {
  EXPECT_EQ(ConsistentHashOf("key"), 0x3c6e0b8a);
  // High bit set: Java keeps it in a long, so the value stays positive.
  EXPECT_EQ(ConsistentHashOf("10.0.0.1@100-0"), int64_t{0x93855dfd});
  EXPECT_EQ(ConsistentHashOf("MessageQueue [topic=TopicTest, brokerName=broker-a, queueId=0]"),
            int64_t{0x767d59fc});
}

// Worked out with md5sum: the 20 points of "10.0.0.1@100-0..9" and "10.0.0.2@200-0..9", and
// each queue's "MessageQueue [topic=TopicTest, brokerName=broker-a, queueId=N]" hash routed
// to the first point at or above it. Queue 1 hashes to 4291349817, above the highest point
// (4150705218, 10.0.0.1@100), so it wraps to the lowest (577861487, 10.0.0.2@200).
TEST(AllocateStrategyTest, ConsistentHashGoldenAllocation) {
  const auto strategy = AllocateByConsistentHash();
  const std::vector<std::string> ids = {"10.0.0.1@100", "10.0.0.2@200"};
  const std::vector<MessageQueue> queues = Queues(8);
  EXPECT_EQ(Names(AllocateFor(*strategy, ids[0], queues, ids)), Names(Pick(queues, {0, 2})));
  EXPECT_EQ(Names(AllocateFor(*strategy, ids[1], queues, ids)),
            Names(Pick(queues, {1, 3, 4, 5, 6, 7})));
}

// One point each: A-0 = 4153733401, B-0 = 1345556104, and (for an id listed twice, numbered on
// as Java numbers it) A-1 = 1154302530. Queues "MessageQueue [topic=T, brokerName=b,
// queueId=N]" hash to 562732085, 3803073317, 1979679239, 434191955, 4287528942, 3805727012,
// 2710626515, 657851999.
TEST(AllocateStrategyTest, ConsistentHashVirtualNodeKeysGolden) {
  const auto strategy = AllocateByConsistentHash(1);
  const std::vector<MessageQueue> queues = Queues(8, "b", "T");
  const std::vector<std::string> ids = {"A", "B"};
  EXPECT_EQ(Names(AllocateFor(*strategy, "A", queues, ids)), Names(Pick(queues, {1, 2, 5, 6})));
  EXPECT_EQ(Names(AllocateFor(*strategy, "B", queues, ids)), Names(Pick(queues, {0, 3, 4, 7})));
  // "A" listed twice gets A-0 and A-1; A-1 sits below B-0 and takes all of B's queues.
  const std::vector<std::string> doubled = {"A", "A", "B"};
  EXPECT_EQ(Names(AllocateFor(*strategy, "A", queues, doubled)), Names(queues));
  EXPECT_TRUE(AllocateFor(*strategy, "B", queues, doubled).empty());
}

TEST(AllocateStrategyTest, ConsistentHashPartitionsForEverySize) {
  const auto strategy = AllocateByConsistentHash();
  for (int members = 1; members <= 7; ++members) {
    for (int queue_count = 1; queue_count <= 20; ++queue_count) {
      SCOPED_TRACE(std::to_string(queue_count) + " queues, " + std::to_string(members) +
                   " members");
      AllocateAll(*strategy, Queues(queue_count), Ids(members));
    }
  }
}

// A member joining takes queues only from others; no queue moves between the others.
TEST(AllocateStrategyTest, ConsistentHashOnlyMovesQueuesToAJoiningMember) {
  const auto strategy = AllocateByConsistentHash();
  // Queues of two brokers, so many hashes are in play.
  std::vector<MessageQueue> queues = Queues(20, "broker-a");
  for (const MessageQueue& queue : Queues(20, "broker-b")) queues.push_back(queue);
  size_t moved_total = 0;
  for (int members = 1; members <= 6; ++members) {
    std::vector<std::string> before = Ids(members);
    for (const std::string& joining : {std::string("10.0.0.0@1"), std::string("10.0.0.9@999")}) {
      SCOPED_TRACE(std::to_string(members) + " members, joining " + joining);
      std::vector<std::string> after = before;
      after.push_back(joining);
      std::sort(after.begin(), after.end());
      std::map<MessageQueue, std::string> owner_before;
      for (const auto& [id, mine] : AllocateAll(*strategy, queues, before)) {
        for (const MessageQueue& queue : mine) owner_before[queue] = id;
      }
      for (const auto& [id, mine] : AllocateAll(*strategy, queues, after)) {
        for (const MessageQueue& queue : mine) {
          if (id == joining) {
            ++moved_total;
          } else {
            EXPECT_EQ(owner_before[queue], id) << Names({queue})[0];
          }
        }
      }
    }
  }
  EXPECT_GT(moved_total, 0u);  // the joining members did get queues
}

TEST(AllocateStrategyTest, ConsistentHashWithoutVirtualNodesAllocatesNothing) {
  const std::vector<MessageQueue> queues = Queues(4);
  const std::vector<std::string> ids = Ids(2);
  for (int virtual_nodes : {0, -1}) {
    const auto strategy = AllocateByConsistentHash(virtual_nodes);
    for (const std::string& id : ids) {
      EXPECT_TRUE(AllocateFor(*strategy, id, queues, ids).empty()) << virtual_nodes;
    }
  }
}

TEST(AllocateStrategyTest, UnknownMemberOrEmptyInputsGetNothing) {
  const std::vector<MessageQueue> queues = Queues(8);
  const std::vector<std::string> ids = Ids(3);
  for (const auto& strategy : PartitioningStrategies()) {
    SCOPED_TRACE(std::string(strategy->Name()));
    EXPECT_TRUE(AllocateFor(*strategy, "10.0.0.1@999", queues, ids).empty());
    EXPECT_TRUE(AllocateFor(*strategy, ids[0], {}, ids).empty());
    EXPECT_TRUE(AllocateFor(*strategy, ids[0], queues, {}).empty());
    EXPECT_TRUE(AllocateFor(*strategy, ids[0], {}, {}).empty());
    // Java refuses an empty consumer id even when it is listed.
    EXPECT_TRUE(AllocateFor(*strategy, "", queues, {"", ids[0]}).empty());
  }
}

// Java's rebalance sorts both lists before allocating; so do these, so a caller's order does
// not matter.
TEST(AllocateStrategyTest, CallerOrderDoesNotMatter) {
  std::vector<MessageQueue> sorted_queues;
  for (const char* topic : {"TopicA", "TopicB"}) {
    for (const char* broker : {"broker-a", "broker-b"}) {
      for (const MessageQueue& queue : Queues(4, broker, topic)) sorted_queues.push_back(queue);
    }
  }
  const std::vector<std::string> sorted_ids = Ids(5);
  std::vector<MessageQueue> shuffled_queues(sorted_queues.rbegin(), sorted_queues.rend());
  std::rotate(shuffled_queues.begin(), shuffled_queues.begin() + 5, shuffled_queues.end());
  const std::vector<std::string> shuffled_ids = {sorted_ids[3], sorted_ids[0], sorted_ids[4],
                                                 sorted_ids[2], sorted_ids[1]};
  for (const auto& strategy : PartitioningStrategies()) {
    SCOPED_TRACE(std::string(strategy->Name()));
    for (const std::string& id : sorted_ids) {
      EXPECT_EQ(Names(AllocateFor(*strategy, id, shuffled_queues, shuffled_ids)),
                Names(AllocateFor(*strategy, id, sorted_queues, sorted_ids)))
          << id;
    }
  }
  // And the sorted order is topic, broker, queue id: 16 queues, 5 members -> 4, 3, 3, 3, 3.
  EXPECT_EQ(Names(AllocateFor(*AllocateAveragely(), sorted_ids[1], shuffled_queues, shuffled_ids)),
            Names((std::vector<MessageQueue>{Queue(0, "broker-b", "TopicA"),
                                             Queue(1, "broker-b", "TopicA"),
                                             Queue(2, "broker-b", "TopicA")})));
}

// Java orders strings by UTF-16 units: U+10000 and up (surrogates, 0xD800..) come before
// U+E000..U+FFFF, though their UTF-8 bytes (F0..) are higher than those (EE, EF).
TEST(AllocateStrategyTest, IdsSortInJavaStringOrder) {
  const std::string private_use = "c\xEE\x80\x80";        // "c" U+E000
  const std::string supplementary = "c\xF0\x90\x80\x80";  // "c" U+10000
  EXPECT_TRUE(JavaStringLess(supplementary, private_use));
  EXPECT_FALSE(JavaStringLess(private_use, supplementary));
  EXPECT_TRUE(JavaStringLess("c", supplementary));
  EXPECT_TRUE(JavaStringLess("a", "b"));
  EXPECT_TRUE(JavaStringLess("ab", "b"));
  EXPECT_FALSE(JavaStringLess("b", "b"));
  EXPECT_TRUE(JavaStringLess("c\xC3\xA9", private_use));  // U+00E9 < U+E000 either way

  const std::vector<MessageQueue> queues = Queues(2);
  const std::vector<std::string> ids = {private_use, supplementary};
  EXPECT_EQ(Names(AllocateFor(*AllocateAveragely(), supplementary, queues, ids)),
            Names(Pick(queues, {0})));
  EXPECT_EQ(Names(AllocateFor(*AllocateAveragely(), private_use, queues, ids)),
            Names(Pick(queues, {1})));
}

// CONFIG is Java's: the configured queues, as configured, for anyone, whatever the inputs.
TEST(AllocateStrategyTest, ByConfigReturnsTheConfiguredQueuesAsGiven) {
  const std::vector<MessageQueue> configured = {Queue(5), Queue(1, "broker-b"), Queue(2)};
  const auto strategy = AllocateByConfig(configured);
  const std::vector<std::string> ids = Ids(3);
  EXPECT_EQ(Names(AllocateFor(*strategy, ids[0], Queues(8), ids)), Names(configured));
  EXPECT_EQ(Names(AllocateFor(*strategy, ids[2], Queues(2), ids)), Names(configured));
  EXPECT_EQ(Names(AllocateFor(*strategy, "10.0.0.1@999", {}, {})), Names(configured));
  EXPECT_TRUE(AllocateFor(*AllocateByConfig({}), ids[0], Queues(8), ids).empty());
}

}  // namespace
}  // namespace mqclient
