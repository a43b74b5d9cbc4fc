#include "meta/meta_validation.h"

#include <gtest/gtest.h>

#include <string>

#include "support/test_util.h"

namespace mqstore {
namespace {

// True when `s` is kInvalidArgument and its message contains `needle`.
::testing::AssertionResult InvalidMentioning(const Status& s, std::string_view needle) {
  if (!s.IsInvalidArgument()) return ::testing::AssertionFailure() << s.ToString();
  if (s.message().find(needle) == std::string_view::npos) {
    return ::testing::AssertionFailure() << s.ToString() << " does not mention " << needle;
  }
  return ::testing::AssertionSuccess();
}

TopicConfig Topic(std::string name) {
  TopicConfig c;
  c.name = std::move(name);
  return c;
}

TEST(MetaValidationTest, TopicNamesFollowTheCommitLogRule) {
  EXPECT_OK(ValidateTopicConfig(Topic("Orders-1_a|b%c"), 1024));
  EXPECT_OK(ValidateTopicConfig(Topic(std::string(127, 'a')), 1024));
  EXPECT_OK(ValidateTopicConfig(Topic("%RETRY%" + std::string(248, 'g')), 1024));
  EXPECT_TRUE(InvalidMentioning(ValidateTopicConfig(Topic(""), 1024), "empty"));
  EXPECT_TRUE(InvalidMentioning(ValidateTopicConfig(Topic(std::string(128, 'a')), 1024), "128"));
  EXPECT_TRUE(InvalidMentioning(ValidateTopicConfig(Topic("a b"), 1024), "a b"));
  EXPECT_TRUE(ValidateTopicConfig(Topic(std::string("a\0b", 3)), 1024).IsInvalidArgument());
}

TEST(MetaValidationTest, QueueCountsArePositiveAndBounded) {
  TopicConfig c = Topic("T");
  c.read_queue_nums = 0;
  EXPECT_TRUE(InvalidMentioning(ValidateTopicConfig(c, 1024), "read_queue_nums 0"));
  c.read_queue_nums = 1024;
  EXPECT_OK(ValidateTopicConfig(c, 1024));
  c.write_queue_nums = 1025;
  EXPECT_TRUE(InvalidMentioning(ValidateTopicConfig(c, 1024), "write_queue_nums 1025"));
  EXPECT_OK(ValidateTopicConfig(c, 2048));
  c.write_queue_nums = -3;
  EXPECT_TRUE(InvalidMentioning(ValidateTopicConfig(c, 2048), "-3"));
}

TEST(MetaValidationTest, PermIsZeroToSeven) {
  TopicConfig c = Topic("T");
  for (int32_t p = 0; p <= 7; ++p) {
    c.perm = p;
    EXPECT_OK(ValidateTopicConfig(c, 1024));
  }
  c.perm = 8;  // PRIORITY is a broker permission
  EXPECT_TRUE(InvalidMentioning(ValidateTopicConfig(c, 1024), "perm 8"));
  c.perm = -1;
  EXPECT_TRUE(InvalidMentioning(ValidateTopicConfig(c, 1024), "perm -1"));
}

TEST(MetaValidationTest, FilterTypeAndAttributes) {
  TopicConfig c = Topic("T");
  c.filter_type = static_cast<TopicFilterType>(5);
  EXPECT_TRUE(InvalidMentioning(ValidateTopicConfig(c, 1024), "filter type 5"));
  c = Topic("T");
  c.attributes[""] = "x";
  EXPECT_TRUE(InvalidMentioning(ValidateTopicConfig(c, 1024), "attribute key"));
  c = Topic("T");
  c.attributes[std::string(256, 'k')] = "x";
  EXPECT_TRUE(InvalidMentioning(ValidateTopicConfig(c, 1024), "256 bytes"));
  c = Topic("T");
  c.attributes["big"] = std::string(65536, 'v');
  EXPECT_TRUE(InvalidMentioning(ValidateTopicConfig(c, 1024), "'big'"));
  c.attributes["big"] = std::string(65535, 'v');
  EXPECT_OK(ValidateTopicConfig(c, 1024));
}

TEST(MetaValidationTest, GroupNamesMustMakeAValidRetryTopic) {
  EXPECT_OK(ValidateGroupName("CID_orders-1"));
  EXPECT_OK(ValidateGroupName(std::string(248, 'g')));
  EXPECT_TRUE(InvalidMentioning(ValidateGroupName(""), "empty"));
  EXPECT_TRUE(InvalidMentioning(ValidateGroupName(std::string(249, 'g')), "248"));
  EXPECT_TRUE(InvalidMentioning(ValidateGroupName("a/b"), "group 'a/b'"));
  EXPECT_TRUE(ValidateGroupName(std::string("a\0b", 3)).IsInvalidArgument());
}

TEST(MetaValidationTest, GroupFields) {
  SubscriptionGroupConfig c;
  c.group_name = "G";
  EXPECT_OK(ValidateSubscriptionGroupConfig(c, 1024));
  c.retry_queue_nums = 0;  // no retry queue: allowed
  EXPECT_OK(ValidateSubscriptionGroupConfig(c, 1024));
  c.retry_queue_nums = 1025;
  EXPECT_TRUE(InvalidMentioning(ValidateSubscriptionGroupConfig(c, 1024), "retry_queue_nums"));
  c.retry_queue_nums = 1;
  c.retry_max_times = -1;
  EXPECT_TRUE(InvalidMentioning(ValidateSubscriptionGroupConfig(c, 1024), "retry_max_times -1"));
  c.retry_max_times = 16;
  c.broker_id = -1;
  EXPECT_TRUE(InvalidMentioning(ValidateSubscriptionGroupConfig(c, 1024), "broker_id -1"));
  c.broker_id = 0;
  c.consume_timeout_minute = -2;
  EXPECT_TRUE(InvalidMentioning(ValidateSubscriptionGroupConfig(c, 1024), "consume_timeout"));
}

TEST(MetaValidationTest, ScheduleProgress) {
  EXPECT_OK(ValidateScheduleProgress({"delay-level-1", 0, 0}));
  EXPECT_OK(ValidateScheduleProgress({std::string(255, 's'), 1, 1}));
  EXPECT_TRUE(InvalidMentioning(ValidateScheduleProgress({"", 0, 0}), "schedule name"));
  EXPECT_TRUE(
      InvalidMentioning(ValidateScheduleProgress({std::string(256, 's'), 0, 0}), "256 bytes"));
  EXPECT_TRUE(InvalidMentioning(ValidateScheduleProgress({"t", -1, 0}), "offset -1"));
  EXPECT_TRUE(InvalidMentioning(ValidateScheduleProgress({"t", 0, -1}), "timestamp_ms -1"));
}

}  // namespace
}  // namespace mqstore
