#include "meta/meta_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "support/test_util.h"

namespace mqstore {
namespace {

TopicConfig FullTopic() {
  TopicConfig c;
  c.name = "Orders";
  c.read_queue_nums = 8;
  c.write_queue_nums = 4;
  c.perm = perm::kRead | perm::kInherit;
  c.filter_type = TopicFilterType::kMultiTag;
  c.topic_sys_flag = 3;
  c.order = true;
  c.attributes = {{"message.type", "FIFO"}, {"empty", ""}};
  return c;
}

SubscriptionGroupConfig FullGroup() {
  SubscriptionGroupConfig c;
  c.group_name = "Billing";
  c.consume_enable = false;
  c.consume_from_min_enable = false;
  c.consume_broadcast_enable = false;
  c.consume_message_orderly = true;
  c.retry_queue_nums = 3;
  c.retry_max_times = 5;
  c.broker_id = 2;
  c.which_broker_when_consume_slowly = 7;
  c.notify_consumer_ids_changed_enable = false;
  c.group_sys_flag = 9;
  c.consume_timeout_minute = 30;
  c.attributes = {{"k", std::string(300, 'v')}};
  return c;
}

TEST(MetaCodecTest, TopicValueRoundTrips) {
  for (const TopicConfig& c : {FullTopic(), TopicConfig{.name = "Plain"}}) {
    TopicConfig back;
    ASSERT_OK(DecodeTopicValue(c.name, EncodeTopicValue(c), &back));
    EXPECT_EQ(back, c);
  }
}

TEST(MetaCodecTest, GroupValueRoundTrips) {
  for (const SubscriptionGroupConfig& c :
       {FullGroup(), SubscriptionGroupConfig{.group_name = "Defaults"}}) {
    SubscriptionGroupConfig back;
    ASSERT_OK(DecodeGroupValue(c.group_name, EncodeGroupValue(c), &back));
    EXPECT_EQ(back, c);
  }
}

TEST(MetaCodecTest, OffsetKeyAndValueRoundTrip) {
  std::string key = OffsetKey("G", "%RETRY%G", 1023);
  std::string_view group, topic;
  int32_t queue_id = 0;
  ASSERT_OK(DecodeOffsetKey(key, &group, &topic, &queue_id));
  EXPECT_EQ(group, "G");
  EXPECT_EQ(topic, "%RETRY%G");
  EXPECT_EQ(queue_id, 1023);
  EXPECT_TRUE(key.starts_with(OffsetKeyPrefix("G")));
  EXPECT_TRUE(key.starts_with(OffsetKeyPrefix("G", "%RETRY%G")));
  EXPECT_FALSE(OffsetKey("GG", "T", 0).starts_with(OffsetKeyPrefix("G")));

  int64_t offset = 0;
  ASSERT_OK(DecodeOffsetValue(EncodeOffsetValue(INT64_MAX), &offset));
  EXPECT_EQ(offset, INT64_MAX);
}

TEST(MetaCodecTest, OffsetKeysSortByGroupThenTopicThenQueueNumerically) {
  EXPECT_LT(OffsetKey("G", "T", 2), OffsetKey("G", "T", 10));
  EXPECT_LT(OffsetKey("G", "T", 255), OffsetKey("G", "T", 256));
  EXPECT_LT(OffsetKey("G", "T", 1023), OffsetKey("G", "TA", 0));
  EXPECT_LT(OffsetKey("G", "ZZ", 0), OffsetKey("GA", "A", 0));
}

TEST(MetaCodecTest, TopicGroupKeyRoundTrips) {
  std::string key = TopicGroupKey("T", "G");
  std::string_view topic, group;
  ASSERT_OK(DecodeTopicGroupKey(key, &topic, &group));
  EXPECT_EQ(topic, "T");
  EXPECT_EQ(group, "G");
  EXPECT_TRUE(key.starts_with(TopicGroupKeyPrefix("T")));
  EXPECT_FALSE(TopicGroupKey("TT", "G").starts_with(TopicGroupKeyPrefix("T")));
}

TEST(MetaCodecTest, ScheduleValueRoundTrips) {
  ScheduleProgress p{"delay-level-3", 77, 1'700'000'000'123};
  ScheduleProgress back;
  ASSERT_OK(DecodeScheduleValue(p.name, EncodeScheduleValue(p), &back));
  EXPECT_EQ(back, p);
}

TEST(MetaCodecTest, TruncatedOrPaddedValuesAreCorruption) {
  std::string topic = EncodeTopicValue(FullTopic());
  TopicConfig t;
  for (size_t len = 0; len < topic.size(); ++len) {
    Status s = DecodeTopicValue("Orders", topic.substr(0, len), &t);
    EXPECT_TRUE(s.IsCorruption()) << len << ": " << s.ToString();
  }
  Status padded = DecodeTopicValue("Orders", topic + "x", &t);
  EXPECT_TRUE(padded.IsCorruption()) << padded.ToString();
  EXPECT_NE(padded.message().find("topics['Orders']"), std::string::npos) << padded.ToString();

  std::string group = EncodeGroupValue(FullGroup());
  SubscriptionGroupConfig g;
  for (size_t len = 0; len < group.size(); len += 7) {
    EXPECT_TRUE(DecodeGroupValue("Billing", group.substr(0, len), &g).IsCorruption()) << len;
  }
  int64_t offset = 0;
  EXPECT_TRUE(DecodeOffsetValue(EncodeOffsetValue(5).substr(0, 8), &offset).IsCorruption());
  ScheduleProgress p;
  EXPECT_TRUE(DecodeScheduleValue("s", EncodeScheduleValue({}) + "?", &p).IsCorruption());
}

TEST(MetaCodecTest, AnUnknownValueVersionIsNotSupported) {
  std::string value = EncodeTopicValue(FullTopic());
  value[0] = 2;
  TopicConfig t;
  Status s = DecodeTopicValue("Orders", value, &t);
  EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
  std::string offset = EncodeOffsetValue(1);
  offset[0] = 0;
  int64_t o = 0;
  EXPECT_EQ(DecodeOffsetValue(offset, &o).code(), Status::Code::kNotSupported);
}

TEST(MetaCodecTest, ImpossibleFieldValuesAreCorruption) {
  TopicConfig t;
  std::string topic = EncodeTopicValue(FullTopic());
  std::string bad_filter = topic;
  bad_filter[13] = 2;  // filter type
  EXPECT_TRUE(DecodeTopicValue("Orders", bad_filter, &t).IsCorruption());
  std::string bad_flags = topic;
  bad_flags[14] = 0x02;  // unknown flag bit
  EXPECT_TRUE(DecodeTopicValue("Orders", bad_flags, &t).IsCorruption());

  int64_t offset = 0;
  EXPECT_TRUE(DecodeOffsetValue(EncodeOffsetValue(-1), &offset).IsCorruption());
  ScheduleProgress p;
  EXPECT_TRUE(DecodeScheduleValue("s", EncodeScheduleValue({"s", 0, -5}), &p).IsCorruption());

  std::string_view a, b;
  int32_t q = 0;
  EXPECT_TRUE(DecodeOffsetKey("no-separators", &a, &b, &q).IsCorruption());
  EXPECT_TRUE(DecodeOffsetKey(std::string_view("G\0T\0\0\0\0", 7), &a, &b, &q).IsCorruption());
  EXPECT_TRUE(DecodeTopicGroupKey(std::string_view("T\0", 2), &a, &b).IsCorruption());
  EXPECT_TRUE(DecodeTopicGroupKey(std::string_view("\0G", 2), &a, &b).IsCorruption());
}

TEST(MetaCodecTest, FormatVersionIsFourBytes) {
  uint32_t v = 0;
  ASSERT_OK(DecodeFormatVersion(EncodeFormatVersion(kMetaFormatVersion), &v));
  EXPECT_EQ(v, kMetaFormatVersion);
  EXPECT_TRUE(DecodeFormatVersion("abc", &v).IsCorruption());
}

}  // namespace
}  // namespace mqstore
