#include "log/queue_offset_table.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mqstore {
namespace {

TEST(QueueOffsetTableTest, NewQueuesStartAtZero) {
  QueueOffsetTable table;
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(*table.Slot("TopicA", 0), 0);
  EXPECT_EQ(table.size(), 1u);
}

TEST(QueueOffsetTableTest, SlotIsTheSameCounterEachTime) {
  QueueOffsetTable table;
  int64_t* slot = table.Slot("TopicA", 1);
  *slot = 5;
  (*table.Slot("TopicA", 1))++;
  EXPECT_EQ(table.Slot("TopicA", 1), slot);
  EXPECT_EQ(*slot, 6);
  EXPECT_EQ(table.size(), 1u);
}

TEST(QueueOffsetTableTest, TopicAndQueueIdBothDistinguish) {
  QueueOffsetTable table;
  table.Set("T", 0, 10);
  table.Set("T", 1, 20);
  table.Set("U", 0, 30);
  table.Set("TT", 0, 40);  // a topic that extends another
  EXPECT_EQ(*table.Slot("T", 0), 10);
  EXPECT_EQ(*table.Slot("T", 1), 20);
  EXPECT_EQ(*table.Slot("U", 0), 30);
  EXPECT_EQ(*table.Slot("TT", 0), 40);
  EXPECT_EQ(table.size(), 4u);
  table.Set("T", 0, 11);
  EXPECT_EQ(*table.Slot("T", 0), 11);
  EXPECT_EQ(table.size(), 4u);
}

TEST(QueueOffsetTableTest, KeepsItsOwnCopyOfTheTopic) {
  QueueOffsetTable table;
  std::string topic = "Original";
  table.Set(topic, 2, 7);
  topic = "Changed!";  // same length, different bytes, same buffer
  EXPECT_EQ(*table.Slot("Original", 2), 7);
  EXPECT_EQ(*table.Slot("Changed!", 2), 0);
  EXPECT_EQ(table.size(), 2u);
}

TEST(QueueOffsetTableTest, SlotsStayValidAcrossGrowth) {
  QueueOffsetTable table;
  // Short names (small-string optimisation) and long ones (heap) both.
  auto name = [](int i) {
    return (i % 2 ? std::string("t") : std::string(40, 'L')) + std::to_string(i);
  };
  std::vector<int64_t*> slots;
  for (int i = 0; i < 5000; ++i) {
    slots.push_back(table.Slot(name(i), i % 8));
    *slots.back() = i;
  }
  EXPECT_EQ(table.size(), 5000u);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(table.Slot(name(i), i % 8), slots[i]) << i;
    ASSERT_EQ(*slots[i], i);
  }
}

// Appends mostly go round-robin over one topic's queues, and the table answers those from
// a cache of the last topic's slots: switching topics, ids in any order and ids too large
// to cache must still each count on their own counter.
TEST(QueueOffsetTableTest, EachQueueCountsItsOwnAppendsWhateverTheirOrder) {
  QueueOffsetTable table;
  const std::pair<const char*, int32_t> kOrder[] = {
      {"T", 3}, {"T", 0}, {"T", 3}, {"TT", 3}, {"T", 3}, {"T", 5000}, {"U", 1},   {"T", 5000},
      {"T", 1}, {"U", 1}, {"T", 0}, {"", 3},   {"T", 3}, {"TT", 3},   {"T", 2000}};
  std::map<std::pair<std::string, int32_t>, int64_t> expected;
  for (const auto& [topic, id] : kOrder) {
    int64_t& want = expected[std::make_pair(std::string(topic), id)];
    EXPECT_EQ((*table.Slot(topic, id))++, want++) << topic << "/" << id;
  }
  EXPECT_EQ(table.size(), expected.size());
  for (const auto& [key, next] : expected) {
    EXPECT_EQ(*table.Slot(key.first, key.second), next) << key.first << "/" << key.second;
  }
}

}  // namespace
}  // namespace mqstore
