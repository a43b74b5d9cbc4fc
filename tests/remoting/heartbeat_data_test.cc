#include "remoting/heartbeat_data.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace mqremoting {
namespace {

// The body ali-ons 3.12.0 sends for a push consumer (real-clients.md §1.2, consumer step 2):
// no expressionType, no heartbeatFingerprint, no withoutSub.
constexpr char kAliOnsConsumerHeartbeat[] =
    R"({"clientID":"10.0.0.5@12345","consumerDataSet":[{"groupName":"CID_X",)"
    R"("consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING",)"
    R"("consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","subscriptionDataSet":[)"
    R"({"topic":"TopicTest","subString":"*","classFilterMode":false,"tagsSet":[],"codeSet":[],)"
    R"("subVersion":1726700000000},)"
    R"({"topic":"%RETRY%CID_X","subString":"*","classFilterMode":false,"tagsSet":[],)"
    R"("codeSet":[],"subVersion":1726700000001}],"unitMode":false}],"producerDataSet":[]})";

// What a Java client's fastjson writes: sorted keys, expressionType, v2 fields, and keys the
// broker does not know.
constexpr char kJavaHeartbeat[] =
    R"({"clientID":"192.168.1.7@4711#8912345","consumerDataSet":[{"consumeFromWhere":)"
    R"("CONSUME_FROM_FIRST_OFFSET","consumeType":"CONSUME_ACTIVELY","groupName":"GID_ORDER",)"
    R"("messageModel":"BROADCASTING","subscriptionDataSet":[{"classFilterMode":false,)"
    R"("codeSet":[2598919,2598920],"expressionType":"TAG","subString":"TagA || TagB",)"
    R"("subVersion":1726700000123,"tagsSet":["TagA","TagB"],"topic":"Orders"}],)"
    R"("unitMode":true}],"heartbeatFingerprint":-1537321842,"producerDataSet":[)"
    R"({"groupName":"PID_ORDER"},{"groupName":"CLIENT_INNER_PRODUCER"}],)"
    R"("serializeTypeCurrentRPC":"JSON","withoutSub":false})";

TEST(HeartbeatDataTest, ParsesAliOnsConsumerHeartbeat) {
  auto parsed = ParseHeartbeatData(kAliOnsConsumerHeartbeat);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const HeartbeatData& data = *parsed;
  EXPECT_EQ(data.client_id, "10.0.0.5@12345");
  EXPECT_TRUE(data.producers.empty());
  EXPECT_EQ(data.heartbeat_fingerprint, 0);
  EXPECT_FALSE(data.without_sub);
  ASSERT_EQ(data.consumers.size(), 1u);
  const ConsumerData& consumer = data.consumers[0];
  EXPECT_EQ(consumer.group_name, "CID_X");
  EXPECT_EQ(consumer.consume_type, "CONSUME_PASSIVELY");
  EXPECT_EQ(consumer.message_model, "CLUSTERING");
  EXPECT_EQ(consumer.consume_from_where, "CONSUME_FROM_LAST_OFFSET");
  EXPECT_FALSE(consumer.unit_mode);
  ASSERT_EQ(consumer.subscriptions.size(), 2u);
  const SubscriptionData& topic = consumer.subscriptions[0];
  EXPECT_EQ(topic.topic, "TopicTest");
  EXPECT_EQ(topic.sub_string, "*");
  EXPECT_TRUE(topic.tags_set.empty());
  EXPECT_TRUE(topic.code_set.empty());
  EXPECT_EQ(topic.sub_version, 1726700000000);
  EXPECT_EQ(topic.expression_type, "TAG");  // omitted by ali-ons
  EXPECT_FALSE(topic.class_filter_mode);
  EXPECT_EQ(consumer.subscriptions[1].topic, "%RETRY%CID_X");
  EXPECT_EQ(consumer.subscriptions[1].sub_version, 1726700000001);
}

TEST(HeartbeatDataTest, ParsesAliOnsProducerHeartbeat) {
  auto parsed = ParseHeartbeatData(
      R"({"clientID":"10.0.0.5@DEFAULT","producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"}],)"
      R"("consumerDataSet":[]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->client_id, "10.0.0.5@DEFAULT");
  ASSERT_EQ(parsed->producers.size(), 1u);
  EXPECT_EQ(parsed->producers[0].group_name, "CLIENT_INNER_PRODUCER");
  EXPECT_TRUE(parsed->consumers.empty());
}

TEST(HeartbeatDataTest, ParsesJavaHeartbeatWithExpressionTypeAndUnknownKeys) {
  auto parsed = ParseHeartbeatData(kJavaHeartbeat);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const HeartbeatData& data = *parsed;
  EXPECT_EQ(data.client_id, "192.168.1.7@4711#8912345");
  EXPECT_EQ(data.heartbeat_fingerprint, -1537321842);
  ASSERT_EQ(data.producers.size(), 2u);
  EXPECT_EQ(data.producers[0].group_name, "PID_ORDER");
  EXPECT_EQ(data.producers[1].group_name, "CLIENT_INNER_PRODUCER");
  ASSERT_EQ(data.consumers.size(), 1u);
  const ConsumerData& consumer = data.consumers[0];
  EXPECT_EQ(consumer.consume_type, "CONSUME_ACTIVELY");
  EXPECT_EQ(consumer.message_model, "BROADCASTING");
  EXPECT_EQ(consumer.consume_from_where, "CONSUME_FROM_FIRST_OFFSET");
  EXPECT_TRUE(consumer.unit_mode);
  ASSERT_EQ(consumer.subscriptions.size(), 1u);
  const SubscriptionData& sub = consumer.subscriptions[0];
  EXPECT_EQ(sub.topic, "Orders");
  EXPECT_EQ(sub.sub_string, "TagA || TagB");
  EXPECT_EQ(sub.tags_set, (std::vector<std::string>{"TagA", "TagB"}));
  EXPECT_EQ(sub.code_set, (std::vector<int32_t>{2598919, 2598920}));
  EXPECT_EQ(sub.expression_type, "TAG");
  EXPECT_EQ(sub.sub_version, 1726700000123);
}

TEST(HeartbeatDataTest, MissingAndNullOptionalFieldsKeepDefaults) {
  auto parsed = ParseHeartbeatData(
      R"({"clientID":"c@1","producerDataSet":null,"heartbeatFingerprint":null,)"
      R"("consumerDataSet":[{"groupName":"G","subscriptionDataSet":[{"topic":"T",)"
      R"("expressionType":null}]}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->producers.empty());
  ASSERT_EQ(parsed->consumers.size(), 1u);
  const ConsumerData& consumer = parsed->consumers[0];
  EXPECT_EQ(consumer.consume_type, "CONSUME_PASSIVELY");
  EXPECT_EQ(consumer.message_model, "CLUSTERING");
  EXPECT_EQ(consumer.consume_from_where, "CONSUME_FROM_LAST_OFFSET");
  ASSERT_EQ(consumer.subscriptions.size(), 1u);
  EXPECT_EQ(consumer.subscriptions[0].sub_string, "*");
  EXPECT_EQ(consumer.subscriptions[0].expression_type, "TAG");
  EXPECT_EQ(consumer.subscriptions[0].sub_version, 0);

  auto bare = ParseHeartbeatData(R"({"clientID":"c@1"})");
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_TRUE(bare->producers.empty());
  EXPECT_TRUE(bare->consumers.empty());
}

TEST(HeartbeatDataTest, AcceptsNumbersInOtherSpellings) {
  auto parsed = ParseHeartbeatData(
      R"({"clientID":"c@1","withoutSub":"true","heartbeatFingerprint":"42","consumerDataSet":[)"
      R"({"groupName":"G","subscriptionDataSet":[{"topic":"A","subVersion":"1726700000000"},)"
      R"({"topic":"B","subVersion":1.7267e12},{"topic":"C","subVersion":-5}]}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->without_sub);
  EXPECT_EQ(parsed->heartbeat_fingerprint, 42);
  const auto& subs = parsed->consumers[0].subscriptions;
  ASSERT_EQ(subs.size(), 3u);
  EXPECT_EQ(subs[0].sub_version, 1726700000000);
  EXPECT_EQ(subs[1].sub_version, 1726700000000);
  EXPECT_EQ(subs[2].sub_version, -5);
}

// Every malformed body is kInvalidArgument, and the message names what is wrong.
TEST(HeartbeatDataTest, RejectsMalformedBodies) {
  struct Case {
    const char* body;
    const char* names;
  };
  const Case cases[] = {
      {"", "not valid JSON"},
      {"{\"clientID\":", "not valid JSON"},
      {"not json", "not valid JSON"},
      {R"(["clientID"])", "not a JSON object"},
      {R"({"producerDataSet":[]})", "clientID is missing"},
      {R"({"clientID":null})", "clientID is missing"},
      {R"({"clientID":""})", "clientID is empty"},
      {R"({"clientID":12})", "clientID is not a string"},
      {R"({"clientID":"c","producerDataSet":{"groupName":"P"}})",
       "producerDataSet is not an array"},
      {R"({"clientID":"c","producerDataSet":["P"]})", "producerDataSet[0] is not an object"},
      {R"({"clientID":"c","producerDataSet":[{}]})", "producerDataSet[0].groupName is missing"},
      {R"({"clientID":"c","consumerDataSet":[{"groupName":"G"},3]})",
       "consumerDataSet[1] is not an object"},
      {R"({"clientID":"c","consumerDataSet":[{"consumeType":"CONSUME_PASSIVELY"}]})",
       "consumerDataSet[0].groupName is missing"},
      {R"({"clientID":"c","consumerDataSet":[{"groupName":"G","messageModel":1}]})",
       "consumerDataSet[0].messageModel is not a string"},
      {R"({"clientID":"c","consumerDataSet":[{"groupName":"G","unitMode":"yes"}]})",
       "consumerDataSet[0].unitMode is not a boolean"},
      {R"({"clientID":"c","consumerDataSet":[{"groupName":"G","subscriptionDataSet":["T"]}]})",
       "consumerDataSet[0].subscriptionDataSet[0] is not an object"},
      {R"({"clientID":"c","consumerDataSet":[{"groupName":"G","subscriptionDataSet":[{}]}]})",
       "consumerDataSet[0].subscriptionDataSet[0].topic is missing"},
      {R"({"clientID":"c","consumerDataSet":[{"groupName":"G","subscriptionDataSet":)"
       R"([{"topic":"T","tagsSet":["A",1]}]}]})",
       "consumerDataSet[0].subscriptionDataSet[0].tagsSet[1] is not a string"},
      {R"({"clientID":"c","consumerDataSet":[{"groupName":"G","subscriptionDataSet":)"
       R"([{"topic":"T","codeSet":[2147483648]}]}]})",
       "consumerDataSet[0].subscriptionDataSet[0].codeSet[0] is out of range"},
      {R"({"clientID":"c","consumerDataSet":[{"groupName":"G","subscriptionDataSet":)"
       R"([{"topic":"T","subVersion":true}]}]})",
       "consumerDataSet[0].subscriptionDataSet[0].subVersion is not an integer"},
      {R"({"clientID":"c","consumerDataSet":[{"groupName":"G","subscriptionDataSet":)"
       R"([{"topic":"T","subVersion":1.5}]}]})",
       "consumerDataSet[0].subscriptionDataSet[0].subVersion is not an integer"},
      {R"({"clientID":"c","consumerDataSet":[{"groupName":"G","subscriptionDataSet":)"
       R"([{"topic":"T","subVersion":"12x"}]}]})",
       "consumerDataSet[0].subscriptionDataSet[0].subVersion is not an integer"},
      {R"({"clientID":"c","heartbeatFingerprint":18446744073709551615})",
       "heartbeatFingerprint is out of range"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseHeartbeatData(c.body);
    ASSERT_FALSE(parsed.ok()) << c.body;
    EXPECT_TRUE(parsed.status().IsInvalidArgument()) << c.body;
    EXPECT_NE(parsed.status().ToString().find(c.names), std::string::npos)
        << c.body << " -> " << parsed.status().ToString();
  }
}

TEST(HeartbeatDataTest, EncodeRoundTripsAndUsesJavaFieldNames) {
  HeartbeatData data;
  data.client_id = "127.0.0.1@99";
  data.producers.push_back({"PID_A"});
  ConsumerData consumer;
  consumer.group_name = "CID_A";
  consumer.consume_type = std::string(kConsumeActively);
  consumer.message_model = std::string(kBroadcasting);
  consumer.consume_from_where = std::string(kConsumeFromTimestamp);
  consumer.unit_mode = true;
  SubscriptionData sub;
  sub.topic = "T";
  sub.sub_string = "TagA || TagB";
  sub.tags_set = {"TagA", "TagB"};
  sub.code_set = {2598919, 2598920};
  sub.sub_version = 1726700000000;
  consumer.subscriptions.push_back(sub);
  data.consumers.push_back(consumer);
  data.heartbeat_fingerprint = 7;
  data.without_sub = true;

  std::string encoded = EncodeHeartbeatData(data);
  auto decoded = ParseHeartbeatData(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, data);

  auto json = nlohmann::json::parse(encoded);
  EXPECT_EQ(json["clientID"], "127.0.0.1@99");
  EXPECT_EQ(json["producerDataSet"][0]["groupName"], "PID_A");
  const auto& c = json["consumerDataSet"][0];
  EXPECT_EQ(c["consumeType"], "CONSUME_ACTIVELY");
  EXPECT_EQ(c["messageModel"], "BROADCASTING");
  EXPECT_EQ(c["consumeFromWhere"], "CONSUME_FROM_TIMESTAMP");
  EXPECT_EQ(c["unitMode"], true);
  const auto& s = c["subscriptionDataSet"][0];
  EXPECT_EQ(s["subString"], "TagA || TagB");
  EXPECT_EQ(s["codeSet"][1], 2598920);
  EXPECT_EQ(s["subVersion"], 1726700000000);
  EXPECT_EQ(s["expressionType"], "TAG");
  EXPECT_EQ(s["classFilterMode"], false);
  EXPECT_EQ(json["heartbeatFingerprint"], 7);
  EXPECT_EQ(json["withoutSub"], true);
}

TEST(HeartbeatDataTest, ConsumerIdListRoundTrip) {
  EXPECT_EQ(EncodeConsumerIdList({"10.0.0.1@7", "10.0.0.2@8"}),
            R"({"consumerIdList":["10.0.0.1@7","10.0.0.2@8"]})");
  EXPECT_EQ(EncodeConsumerIdList({}), R"({"consumerIdList":[]})");

  auto ids = ParseConsumerIdList(R"({"consumerIdList":["b@2","a@1"],"other":1})");
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(*ids, (std::vector<std::string>{"b@2", "a@1"}));

  for (const char* bad :
       {"", "[]", R"({"consumerIdList":"a"})", R"({"consumerIdList":[1]})", R"({"other":[]})"}) {
    auto parsed = ParseConsumerIdList(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_TRUE(parsed.status().IsInvalidArgument()) << bad;
  }
}

}  // namespace
}  // namespace mqremoting
