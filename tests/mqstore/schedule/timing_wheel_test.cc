// TimingWheel: slot chains (tail and count), clearing, and the next occupied slot.
#include "schedule/timing_wheel.h"

#include <gtest/gtest.h>

namespace mqstore {
namespace {

TEST(TimingWheelTest, LinkReturnsThePreviousTail) {
  TimingWheel wheel(8);
  EXPECT_EQ(wheel.Tail(100), -1);
  EXPECT_EQ(wheel.Link(100, 48), -1);
  EXPECT_EQ(wheel.Link(100, 96), 48);
  EXPECT_EQ(wheel.Link(101, 144), -1);
  EXPECT_EQ(wheel.Link(100, 192), 96);
  EXPECT_EQ(wheel.Tail(100), 192);
  TimingWheel::Slot s = wheel.Get(100);
  EXPECT_EQ(s.tail, 192);
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(wheel.Get(101).count, 1u);
  EXPECT_EQ(wheel.total(), 4u);
}

TEST(TimingWheelTest, ARingPositionServesOneSlotAtATime) {
  TimingWheel wheel(8);
  wheel.Link(3, 48);
  EXPECT_EQ(wheel.Get(11).count, 0u);  // same ring position, another slot
  EXPECT_EQ(wheel.Tail(11), -1);
  wheel.Clear(11);  // not the slot held: no effect
  EXPECT_EQ(wheel.Get(3).count, 1u);
  wheel.Clear(3);
  EXPECT_EQ(wheel.total(), 0u);
  EXPECT_EQ(wheel.Link(11, 96), -1);  // the position now serves slot 11
  EXPECT_EQ(wheel.Get(11).tail, 96);
  EXPECT_EQ(wheel.Get(3).count, 0u);
}

TEST(TimingWheelTest, NextOccupiedFindsTheEarliestSlotInTheWindow) {
  TimingWheel wheel(200);
  EXPECT_FALSE(wheel.NextOccupied(1000).has_value());
  wheel.Link(1150, 48);
  wheel.Link(1070, 96);
  wheel.Link(1199, 144);
  EXPECT_EQ(wheel.NextOccupied(1000), 1070);
  EXPECT_EQ(wheel.NextOccupied(1070), 1070);
  wheel.Clear(1070);
  EXPECT_EQ(wheel.NextOccupied(1071), 1150);
  wheel.Clear(1150);
  EXPECT_EQ(wheel.NextOccupied(1151), 1199);
  // The window wraps around the ring's end.
  wheel.Clear(1199);
  wheel.Link(1300, 192);  // ring position 100
  wheel.Link(1390, 240);  // ring position 190
  EXPECT_EQ(wheel.NextOccupied(1250), 1300);
  wheel.Clear(1300);
  EXPECT_EQ(wheel.NextOccupied(1301), 1390);
  wheel.Link(1420, 288);  // ring position 20 (after the wrap)
  wheel.Clear(1390);
  EXPECT_EQ(wheel.NextOccupied(1391), 1420);
}

TEST(TimingWheelTest, NextOccupiedScansEveryWordOfALargeRing) {
  TimingWheel wheel(604'800);
  wheel.Link(1'000'000 + 604'799, 48);  // the far edge of the window
  EXPECT_EQ(wheel.NextOccupied(1'000'000), 1'604'799);
  wheel.Link(1'000'000 + 65, 96);
  EXPECT_EQ(wheel.NextOccupied(1'000'000), 1'000'065);
  EXPECT_EQ(wheel.NextOccupied(1'000'066), 1'604'799);
}

TEST(TimingWheelTest, ResetForgetsEverything) {
  TimingWheel wheel(16);
  for (int i = 0; i < 16; ++i) wheel.Link(i, 48 * (i + 1));
  EXPECT_EQ(wheel.total(), 16u);
  wheel.Reset();
  EXPECT_EQ(wheel.total(), 0u);
  EXPECT_FALSE(wheel.NextOccupied(0).has_value());
  EXPECT_EQ(wheel.Get(5).count, 0u);
}

}  // namespace
}  // namespace mqstore
