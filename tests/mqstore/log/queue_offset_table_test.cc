#include "log/queue_offset_table.h"

#include <gtest/gtest.h>

#include <string>
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

}  // namespace
}  // namespace mqstore
