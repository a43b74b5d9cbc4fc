#include "remoting/consumer_admin_bodies.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mqremoting {
namespace {

TEST(ConsumerAdminBodiesTest, SubscriptionGroupConfigGoldenBytesAndRoundTrip) {
  mqstore::SubscriptionGroupConfig config;
  config.group_name = "GID_ORDERS";
  config.retry_max_times = 3;
  config.consume_enable = false;
  EXPECT_EQ(EncodeSubscriptionGroupConfig(config),
            R"({"attributes":{},"brokerId":0,"consumeBroadcastEnable":true,)"
            R"("consumeEnable":false,"consumeFromMinEnable":true,"consumeMessageOrderly":false,)"
            R"("consumeTimeoutMinute":15,"groupName":"GID_ORDERS","groupSysFlag":0,)"
            R"("notifyConsumerIdsChangedEnable":true,"retryMaxTimes":3,"retryQueueNums":1,)"
            R"("whichBrokerWhenConsumeSlowly":1})");
  auto parsed = ParseSubscriptionGroupConfig(EncodeSubscriptionGroupConfig(config));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, config);
}

TEST(ConsumerAdminBodiesTest, SubscriptionGroupConfigFromJavaKeepsDefaultsAndIgnoresUnknown) {
  // What Java's mqadmin updateSubGroup sends: fastjson, with fields we do not keep.
  auto parsed = ParseSubscriptionGroupConfig(
      R"({"brokerId":0,"consumeEnable":true,"groupName":"G","groupRetryPolicy":)"
      R"({"type":"CUSTOMIZED"},"retryMaxTimes":"5","subscriptionDataSet":null})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->group_name, "G");
  EXPECT_EQ(parsed->retry_max_times, 5);
  EXPECT_EQ(parsed->retry_queue_nums, 1);
  EXPECT_TRUE(parsed->notify_consumer_ids_changed_enable);

  for (const char* bad :
       {"", "[]", R"({"retryMaxTimes":1})", R"({"groupName":""})",
        R"({"groupName":"G","retryMaxTimes":"x"})", R"({"groupName":"G","consumeEnable":3})",
        R"({"groupName":"G","attributes":{"a":1}})"}) {
    auto rejected = ParseSubscriptionGroupConfig(bad);
    EXPECT_EQ(rejected.status().code(), mqstore::Status::Code::kInvalidArgument) << bad;
  }
}

TEST(ConsumerAdminBodiesTest, SubscriptionGroupWrapperRoundTrip) {
  mqstore::SubscriptionGroupConfig a;
  a.group_name = "A";
  mqstore::SubscriptionGroupConfig b;
  b.group_name = "B";
  b.attributes["k"] = "v";
  std::string body = EncodeSubscriptionGroupWrapper({a, b}, DataVersion{5, 2, 0});
  EXPECT_NE(body.find(R"("dataVersion":{"counter":2,"stateVersion":0,"timestamp":5})"),
            std::string::npos)
      << body;
  auto parsed = ParseSubscriptionGroupWrapper(body);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, (std::vector<mqstore::SubscriptionGroupConfig>{a, b}));
}

TEST(ConsumerAdminBodiesTest, ConsumeStatsGoldenBytesInFastjsonForm) {
  ConsumeStats stats;
  stats.offset_table = {{{"T", "broker-a", 0}, {10, 7, 8, 1700000000000}},
                        {{"T", "broker-a", 1}, {3, 3, 3, 0}}};
  std::string body = EncodeConsumeStats(stats);
  // Queue keys are JSON objects, as a Java broker's fastjson writes them.
  EXPECT_EQ(
      body,
      R"({"consumeTps":0.0,"offsetTable":{)"
      R"({"brokerName":"broker-a","queueId":0,"topic":"T"}:)"
      R"({"brokerOffset":10,"consumerOffset":7,"lastTimestamp":1700000000000,"pullOffset":8},)"
      R"({"brokerName":"broker-a","queueId":1,"topic":"T"}:)"
      R"({"brokerOffset":3,"consumerOffset":3,"lastTimestamp":0,"pullOffset":3}}})");
  auto parsed = ParseConsumeStats(body);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, stats);
}

TEST(ConsumerAdminBodiesTest, ConsumeStatsAcceptsStringKeysAndSpacing) {
  auto parsed = ParseConsumeStats(
      R"({ "offsetTable" : { "{\"brokerName\":\"b\",\"queueId\":2,\"topic\":\"T\"}" : )"
      R"({"brokerOffset":5,"consumerOffset":1}, {"topic":"T","queueId":1,"brokerName":"b"} : )"
      R"({"brokerOffset":4}}, "consumeTps":1.5})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->offset_table.size(), 2u);
  EXPECT_EQ(parsed->offset_table[0].first, (MessageQueue{"T", "b", 1}));  // sorted
  EXPECT_EQ(parsed->offset_table[0].second.broker_offset, 4);
  EXPECT_EQ(parsed->offset_table[1].second.consumer_offset, 1);
  EXPECT_DOUBLE_EQ(parsed->consume_tps, 1.5);

  for (const char* bad : {R"({"offsetTable":{"notaqueue":{}}})",
                          R"({"offsetTable":{{"brokerName":"b","queueId":-1,"topic":"T"}:{}}})",
                          R"({"offsetTable":{{"brokerName":"b","queueId":1,"topic":"T"}:3}})",
                          R"({"offsetTable":{{"brokerName":"b","queueId":1,"topic":"T"}:{})",
                          R"({"offsetTable":[]})"}) {
    EXPECT_EQ(ParseConsumeStats(bad).status().code(), mqstore::Status::Code::kInvalidArgument)
        << bad;
  }
}

TEST(ConsumerAdminBodiesTest, ResetOffsetBodyRoundTrip) {
  QueueOffsets offsets = {{{"T", "a", 0}, 12}, {{"T", "a", 1}, 0}};
  std::string body = EncodeResetOffsetBody(offsets);
  EXPECT_EQ(body, R"({"offsetTable":{{"brokerName":"a","queueId":0,"topic":"T"}:12,)"
                  R"({"brokerName":"a","queueId":1,"topic":"T"}:0}})");
  auto parsed = ParseResetOffsetBody(body);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, offsets);
  EXPECT_FALSE(ParseResetOffsetBody(R"({"offsetTable":{{"brokerName":"a","queueId":0,)"
                                    R"("topic":"T"}:-4}})")
                   .ok());
}

// Two keys spelling one queue differently would come back as one after a round trip, and which
// value was meant cannot be told (the broker_body fuzzer found this).
TEST(ConsumerAdminBodiesTest, AQueueNamedByTwoKeysIsRefused) {
  const std::string twice = R"({"offsetTable":{{"topic":"T","brokerName":"a","queueId":1}:1,)"
                            R"({"queueId":1,"topic":"T","brokerName":"a"}:2}})";
  auto reset = ParseResetOffsetBody(twice);
  ASSERT_FALSE(reset.ok());
  EXPECT_TRUE(reset.status().IsInvalidArgument());
  EXPECT_NE(reset.status().ToString().find("names a queue another key already named"),
            std::string::npos)
      << reset.status().ToString();

  const std::string stats_twice =
      R"({"consumeTps":0.0,"offsetTable":{{"topic":"T","brokerName":"a","queueId":1}:{},)"
      R"({"topic":"T", "brokerName":"a", "queueId":1, "extra":true}:{}}})";
  auto stats = ParseConsumeStats(stats_twice);
  ASSERT_FALSE(stats.ok());
  EXPECT_TRUE(stats.status().IsInvalidArgument());

  // Distinct queues of one topic are of course fine.
  auto distinct = ParseResetOffsetBody(R"({"offsetTable":{{"topic":"T","brokerName":"a",)"
                                       R"("queueId":1}:1,{"topic":"T","brokerName":"a",)"
                                       R"("queueId":2}:2}})");
  ASSERT_TRUE(distinct.ok()) << distinct.status().ToString();
  EXPECT_EQ(distinct->size(), 2u);
}

TEST(ConsumerAdminBodiesTest, QuoteObjectKeysLeavesValuesAndStringsAlone) {
  // Objects as values, in arrays and inside strings are not keys.
  std::string text = R"({"a":{"b":[{"c":1}]},"s":"{x}:","m":{{"k":"}"}:[1,{"d":2}]}})";
  EXPECT_EQ(QuoteObjectKeys(text), R"({"a":{"b":[{"c":1}]},"s":"{x}:","m":{"{\"k\":\"}\"}":)"
                                   R"([1,{"d":2}]}})");
  EXPECT_EQ(QuoteObjectKeys("{{"), "{{");  // unbalanced: left as it is, the parser rejects it
}

TEST(ConsumerAdminBodiesTest, GroupListAndConsumerConnection) {
  auto groups = ParseGroupList(EncodeGroupList({"A", "B"}));
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(*groups, (std::vector<std::string>{"A", "B"}));
  EXPECT_FALSE(ParseGroupList(R"({"groupList":[1]})").ok());

  ConsumerConnection connection;
  connection.connections = {{"10.0.0.1@1", "10.0.0.1:5000", "JAVA", 453}};
  SubscriptionData sub;
  sub.topic = "T";
  sub.sub_string = "a || b";
  sub.tags_set = {"a", "b"};
  sub.code_set = {97, 98};
  connection.subscriptions = {sub};
  connection.consume_type = std::string(kConsumeActively);
  auto parsed = ParseConsumerConnection(EncodeConsumerConnection(connection));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, connection);
  EXPECT_FALSE(ParseConsumerConnection(R"({"connectionSet":[{"clientAddr":"x"}]})").ok());
}

}  // namespace
}  // namespace mqremoting
