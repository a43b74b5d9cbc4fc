#include "pull_stats.h"

#include <gtest/gtest.h>

namespace mqbroker {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;  // a whole second

TEST(PullStatsTest, ConsumeTpsIsTheLastMinutesMessagesPerSecond) {
  PullStats stats;
  EXPECT_EQ(stats.ConsumeTps("g", "T", kT0), 0.0);
  stats.RecordPull("g", "T", 0, 32, 32, kT0);
  stats.RecordPull("g", "T", 1, 16, 16, kT0 + 999);  // the same second
  stats.RecordPull("g", "T", 0, 92, 60, kT0 + 30'000);
  EXPECT_DOUBLE_EQ(stats.ConsumeTps("g", "T", kT0 + 30'000), 108.0 / 60);
  // Another group and another topic are counted apart.
  stats.RecordPull("h", "T", 0, 5, 5, kT0);
  stats.RecordPull("g", "U", 0, 7, 7, kT0);
  EXPECT_DOUBLE_EQ(stats.ConsumeTps("g", "T", kT0 + 30'000), 108.0 / 60);
  EXPECT_DOUBLE_EQ(stats.ConsumeTps("h", "T", kT0 + 30'000), 5.0 / 60);
  // A second leaves the window 60 s later.
  EXPECT_DOUBLE_EQ(stats.ConsumeTps("g", "T", kT0 + 59'999), 108.0 / 60);
  EXPECT_DOUBLE_EQ(stats.ConsumeTps("g", "T", kT0 + 60'000), 60.0 / 60);
  EXPECT_DOUBLE_EQ(stats.ConsumeTps("g", "T", kT0 + 90'000), 0.0);
}

TEST(PullStatsTest, ASlotIsReusedForItsNewSecondOnly) {
  PullStats stats;
  stats.RecordPull("g", "T", 0, 10, 10, kT0);
  // 60 s later the same ring slot counts the new second, not the old one on top.
  stats.RecordPull("g", "T", 0, 13, 3, kT0 + 60'000);
  EXPECT_DOUBLE_EQ(stats.ConsumeTps("g", "T", kT0 + 60'000), 3.0 / 60);
  // Asking about a time before the newest pull does not count seconds after it.
  EXPECT_DOUBLE_EQ(stats.ConsumeTps("g", "T", kT0), 0.0);
}

TEST(PullStatsTest, PullOffsetIsWhereTheLastPullOfTheQueueLeftOff) {
  PullStats stats;
  EXPECT_FALSE(stats.PullOffset("g", "T", 0).has_value());
  stats.RecordPull("g", "T", 0, 32, 32, kT0);
  stats.RecordPull("g", "T", 0, 40, 8, kT0 + 1);
  stats.RecordPull("g", "T", 3, 7, 7, kT0 + 2);
  EXPECT_EQ(stats.PullOffset("g", "T", 0), 40);
  EXPECT_EQ(stats.PullOffset("g", "T", 3), 7);
  EXPECT_FALSE(stats.PullOffset("g", "T", 1).has_value());
  EXPECT_FALSE(stats.PullOffset("g", "U", 0).has_value());
  EXPECT_FALSE(stats.PullOffset("h", "T", 0).has_value());
}

TEST(PullStatsTest, WhatIsNotPulledForTenMinutesIsForgotten) {
  PullStats stats;
  stats.RecordPull("gone", "T", 0, 5, 5, kT0);
  stats.RecordPull("kept", "T", 0, 5, 5, kT0);
  const int64_t t1 = kT0 + PullStats::kForgetAfterMs - 1000;
  stats.RecordPull("kept", "T", 0, 9, 4, t1);  // sweeps: nothing is ten minutes old yet
  // Sweeps come at most once a minute: "gone" is past ten minutes but stays until then.
  stats.RecordPull("other", "U", 0, 1, 1, t1 + 59'999);
  EXPECT_TRUE(stats.PullOffset("gone", "T", 0).has_value());
  stats.RecordPull("other", "U", 0, 2, 1, t1 + 60'000);
  EXPECT_FALSE(stats.PullOffset("gone", "T", 0).has_value());
  EXPECT_EQ(stats.ConsumeTps("gone", "T", t1 + 60'000), 0.0);
  EXPECT_EQ(stats.PullOffset("kept", "T", 0), 9);  // pulled since
  EXPECT_EQ(stats.PullOffset("other", "U", 0), 2);
}

TEST(PullStatsTest, AForgottenGroupStartsAfresh) {
  PullStats stats;
  stats.RecordPull("g", "T", 0, 32, 32, kT0);
  stats.RecordPull("h", "T", 0, 8, 8, kT0);
  stats.ForgetGroup("g");
  EXPECT_EQ(stats.ConsumeTps("g", "T", kT0), 0.0);
  EXPECT_FALSE(stats.PullOffset("g", "T", 0).has_value());
  EXPECT_EQ(stats.PullOffset("h", "T", 0), 8);
}

}  // namespace
}  // namespace mqbroker
