// Parsing and using the delay level table.
#include "schedule/delay_levels.h"

#include <gtest/gtest.h>

#include "support/test_util.h"

namespace mqstore {
namespace {

TEST(DelayLevelsTest, DefaultIsRocketMqsEighteenLevels) {
  DelayLevels levels = DelayLevels::Default();
  ASSERT_EQ(levels.max_level(), 18);
  EXPECT_EQ(levels.DelayMs(1), 1'000);
  EXPECT_EQ(levels.DelayMs(2), 5'000);
  EXPECT_EQ(levels.DelayMs(3), 10'000);
  EXPECT_EQ(levels.DelayMs(4), 30'000);
  EXPECT_EQ(levels.DelayMs(5), 60'000);
  EXPECT_EQ(levels.DelayMs(14), 10 * 60'000);
  EXPECT_EQ(levels.DelayMs(16), 30 * 60'000);
  EXPECT_EQ(levels.DelayMs(17), 3'600'000);
  EXPECT_EQ(levels.DelayMs(18), 7'200'000);
  EXPECT_EQ(levels.ToString(), DelayLevels::kDefaultSpec);
}

TEST(DelayLevelsTest, ParsesEveryUnitAndAnyWhitespace) {
  ASSERT_OK_AND_ASSIGN(DelayLevels levels, DelayLevels::Parse("  2s\t3m \n 4h 1d  90s "));
  ASSERT_EQ(levels.max_level(), 5);
  EXPECT_EQ(levels.DelayMs(1), 2'000);
  EXPECT_EQ(levels.DelayMs(2), 180'000);
  EXPECT_EQ(levels.DelayMs(3), 4 * 3'600'000);
  EXPECT_EQ(levels.DelayMs(4), 86'400'000);
  EXPECT_EQ(levels.DelayMs(5), 90'000);
  EXPECT_EQ(levels.ToString(), "2s 3m 4h 1d 90s");
}

TEST(DelayLevelsTest, ClampsLevelsAboveTheMaximum) {
  ASSERT_OK_AND_ASSIGN(DelayLevels levels, DelayLevels::Parse("1s 2s 3s"));
  EXPECT_EQ(levels.Clamp(1), 1);
  EXPECT_EQ(levels.Clamp(3), 3);
  EXPECT_EQ(levels.Clamp(4), 3);
  EXPECT_EQ(levels.Clamp(1000), 3);
  EXPECT_EQ(DelayLevels::QueueIdOf(1), 0);
  EXPECT_EQ(DelayLevels::QueueIdOf(18), 17);
}

void ExpectRejected(std::string_view spec, std::string_view message_part) {
  Result<DelayLevels> r = DelayLevels::Parse(spec);
  ASSERT_FALSE(r.ok()) << "'" << spec << "' was accepted";
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(message_part), std::string_view::npos)
      << "'" << spec << "': " << r.status().ToString();
}

TEST(DelayLevelsTest, RejectsMalformedListsWithTheBadToken) {
  ExpectRejected("", "empty");
  ExpectRejected("   ", "empty");
  ExpectRejected("1s 5x", "delay level 2 ('5x'): unknown unit");
  ExpectRejected("1s 5", "delay level 2 ('5'): unknown unit");
  ExpectRejected("1ms", "delay level 1 ('1ms'): not a decimal number followed by a unit");
  ExpectRejected("s", "delay level 1 ('s'): missing number");
  ExpectRejected("1s 0m", "delay level 2 ('0m'): a delay must be positive");
  ExpectRejected("-5s", "not a decimal number");
  ExpectRejected("+5s", "not a decimal number");
  ExpectRejected("1.5s", "not a decimal number");
  ExpectRejected("1S", "unknown unit");
  ExpectRejected("99999999999999999999s", "too large");
  ExpectRejected("9999999999999999d", "too large");
}

TEST(DelayLevelsTest, RejectsMoreThanTheLevelLimit) {
  std::string spec;
  for (int i = 0; i <= DelayLevels::kMaxLevels; ++i) spec += "1s ";
  ExpectRejected(spec, "more than");
  spec.resize(spec.size() - 3);  // exactly the limit
  ASSERT_OK_AND_ASSIGN(DelayLevels levels, DelayLevels::Parse(spec));
  EXPECT_EQ(levels.max_level(), DelayLevels::kMaxLevels);
}

}  // namespace
}  // namespace mqstore
