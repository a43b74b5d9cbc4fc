#include "remoting/route_data.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace mqremoting {
namespace {

using nlohmann::json;

TopicConfig SampleTopic(const std::string& name) {
  TopicConfig config;
  config.topic_name = name;
  config.read_queue_nums = 4;
  config.write_queue_nums = 8;
  config.perm = perm::kRead | perm::kWrite;
  config.topic_filter_type = TopicFilterType::kMultiTag;
  config.topic_sys_flag = 1;
  config.order = true;
  config.attributes = {{"+message.type", "NORMAL"}};
  return config;
}

BrokerData SampleBroker() {
  BrokerData broker;
  broker.cluster = "DefaultCluster";
  broker.broker_name = "broker-a";
  broker.broker_addrs = {{0, "127.0.0.1:10911"}, {1, "127.0.0.1:10921"}};
  broker.enable_acting_master = true;
  return broker;
}

TEST(RouteDataTest, DataVersionRoundTripsWithRocketMqFieldNames) {
  DataVersion version{1726700000000, 12, 3};
  std::string text = EncodeJson(version);
  EXPECT_EQ(json::parse(text),
            json::parse(R"({"counter":12,"stateVersion":3,"timestamp":1726700000000})"));
  auto decoded = DecodeJson<DataVersion>(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, version);
}

TEST(RouteDataTest, RegisterBrokerBodyRoundTrips) {
  RegisterBrokerBody body;
  body.topic_config_serialize_wrapper.topic_config_table["TopicA"] = SampleTopic("TopicA");
  body.topic_config_serialize_wrapper.topic_config_table["TopicB"] = SampleTopic("TopicB");
  body.topic_config_serialize_wrapper.data_version = DataVersion{5, 6, 7};
  body.filter_server_list = {"10.0.0.1:1000"};
  std::string text = EncodeJson(body);
  json parsed = json::parse(text);
  const json& topic = parsed["topicConfigSerializeWrapper"]["topicConfigTable"]["TopicA"];
  EXPECT_EQ(topic["topicName"], "TopicA");
  EXPECT_EQ(topic["readQueueNums"], 4);
  EXPECT_EQ(topic["writeQueueNums"], 8);
  EXPECT_EQ(topic["topicFilterType"], "MULTI_TAG");
  EXPECT_EQ(topic["topicSysFlag"], 1);
  EXPECT_EQ(topic["order"], true);
  EXPECT_EQ(topic["attributes"]["+message.type"], "NORMAL");
  EXPECT_EQ(parsed["filterServerList"][0], "10.0.0.1:1000");

  auto decoded = DecodeJson<RegisterBrokerBody>(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, body);
}

TEST(RouteDataTest, RegisterBrokerBodyAsAJava5BrokerSendsItDecodes) {
  // Field order, the mapping fields and a config without attributes, as fastjson writes them.
  const char* text =
      R"({"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":12,)"
      R"("stateVersion":0,"timestamp":1726700000000},"mappingDataVersion":{"counter":0,)"
      R"("stateVersion":0,"timestamp":1},"topicConfigTable":{"TopicTest":{"order":false,)"
      R"("perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"TopicTest",)"
      R"("topicSysFlag":0,"writeQueueNums":4}},"topicQueueMappingDetailMap":{},)"
      R"("topicQueueMappingInfoMap":{}}})";
  auto decoded = DecodeJson<RegisterBrokerBody>(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const auto& wrapper = decoded->topic_config_serialize_wrapper;
  EXPECT_EQ(wrapper.data_version, (DataVersion{1726700000000, 12, 0}));
  ASSERT_EQ(wrapper.topic_config_table.count("TopicTest"), 1u);
  const TopicConfig& topic = wrapper.topic_config_table.at("TopicTest");
  EXPECT_EQ(topic.read_queue_nums, 4);
  EXPECT_EQ(topic.write_queue_nums, 4);
  EXPECT_EQ(topic.perm, 6);
  EXPECT_EQ(topic.topic_filter_type, TopicFilterType::kSingleTag);
  EXPECT_TRUE(topic.attributes.empty());
}

TEST(RouteDataTest, MissingFieldsKeepTheJavaDefaults) {
  auto decoded = DecodeJson<TopicConfigSerializeWrapper>(R"({"topicConfigTable":{"T":{}}})");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const TopicConfig& topic = decoded->topic_config_table.at("T");
  EXPECT_EQ(topic.topic_name, "T");  // taken from the key
  EXPECT_EQ(topic.read_queue_nums, 16);
  EXPECT_EQ(topic.write_queue_nums, 16);
  EXPECT_EQ(topic.perm, 6);
  EXPECT_EQ(decoded->data_version, DataVersion{});
}

TEST(RouteDataTest, TopicRouteDataEncodesBrokerAddrsWithQuotedKeys) {
  TopicRouteData route;
  route.queue_datas.push_back(QueueData{"broker-a", 4, 4, 6, 0});
  route.broker_datas.push_back(SampleBroker());
  std::string text = EncodeJson(route);
  EXPECT_NE(text.find(R"("brokerAddrs":{"0":"127.0.0.1:10911","1":"127.0.0.1:10921"})"),
            std::string::npos)
      << text;
  // Standard JSON: a strict parser reads it.
  json parsed = json::parse(text);
  EXPECT_EQ(parsed["queueDatas"][0]["brokerName"], "broker-a");
  EXPECT_EQ(parsed["queueDatas"][0]["perm"], 6);
  EXPECT_EQ(parsed["filterServerTable"], json::object());
  EXPECT_FALSE(parsed.contains("orderTopicConf"));

  auto decoded = DecodeJson<TopicRouteData>(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, route);
}

TEST(RouteDataTest, TopicRouteDataWithOrderConfAndFilterServersRoundTrips) {
  TopicRouteData route;
  route.order_topic_conf = "broker-a:4;broker-b:4";
  route.queue_datas.push_back(QueueData{"broker-a", 4, 4, 6, 0});
  route.broker_datas.push_back(SampleBroker());
  route.filter_server_table["127.0.0.1:10911"] = {"127.0.0.1:30000"};
  auto decoded = DecodeJson<TopicRouteData>(EncodeJson(route));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, route);
}

TEST(RouteDataTest, DecodesFastjsonUnquotedIntegerKeys) {
  // What a Java name server sends to clients older than V4_9_4 (and in cluster info).
  const char* text =
      R"({"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911", 1 :"127.0.0.1:10921"},)"
      R"("brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":true}],)"
      R"("filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,)"
      R"("readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]})";
  auto decoded = DecodeJson<TopicRouteData>(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->broker_datas.size(), 1u);
  EXPECT_EQ(decoded->broker_datas[0], SampleBroker());
}

TEST(RouteDataTest, QuoteIntegerKeysLeavesStringsAndArraysAlone) {
  EXPECT_EQ(QuoteIntegerKeys(R"({0:"a",-1:"b"})"), R"({"0":"a","-1":"b"})");
  // Inside a string, in an array, and already-quoted keys are not touched.
  EXPECT_EQ(QuoteIntegerKeys(R"({"x":"{0:1}","y":[1,2,3],"3":4})"),
            R"({"x":"{0:1}","y":[1,2,3],"3":4})");
  EXPECT_EQ(QuoteIntegerKeys(R"({"x":"a\",0:"})"), R"({"x":"a\",0:"})");
}

TEST(RouteDataTest, ClusterInfoRoundTrips) {
  ClusterInfo info;
  info.broker_addr_table["broker-a"] = SampleBroker();
  info.cluster_addr_table["DefaultCluster"] = {"broker-a", "broker-b"};
  std::string text = EncodeJson(info);
  json parsed = json::parse(text);
  EXPECT_EQ(parsed["clusterAddrTable"]["DefaultCluster"], json::array({"broker-a", "broker-b"}));
  EXPECT_EQ(parsed["brokerAddrTable"]["broker-a"]["brokerAddrs"]["1"], "127.0.0.1:10921");
  auto decoded = DecodeJson<ClusterInfo>(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, info);
}

TEST(RouteDataTest, TopicListAndKVTableRoundTrip) {
  TopicList list;
  list.topic_list = {"TopicA", "%RETRY%G"};
  EXPECT_EQ(json::parse(EncodeJson(list)), json::parse(R"({"topicList":["%RETRY%G","TopicA"]})"));
  auto decoded_list = DecodeJson<TopicList>(EncodeJson(list));
  ASSERT_TRUE(decoded_list.ok());
  EXPECT_EQ(*decoded_list, list);

  KVTable table;
  table.table = {{"brokerVersionDesc", "V5_3_3"}, {"brokerActive", "true"}};
  EXPECT_EQ(json::parse(EncodeJson(table))["table"]["brokerVersionDesc"], "V5_3_3");
  auto decoded_table = DecodeJson<KVTable>(EncodeJson(table));
  ASSERT_TRUE(decoded_table.ok());
  EXPECT_EQ(*decoded_table, table);
}

TEST(RouteDataTest, NumbersAndBooleansAsStringsAreAccepted) {
  auto decoded = DecodeJson<QueueData>(R"({"brokerName":"b","perm":"6","readQueueNums":"4"})");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->perm, 6);
  EXPECT_EQ(decoded->read_queue_nums, 4);
  auto broker = DecodeJson<BrokerData>(R"({"enableActingMaster":"true"})");
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  EXPECT_TRUE(broker->enable_acting_master);
}

TEST(RouteDataTest, BadInputIsInvalidArgument) {
  const char* bad[] = {
      "",                           // empty
      "{",                          // truncated
      "not json",                   // not JSON
      "[]",                         // not an object
      R"({"topicList":"TopicA"})",  // not an array
      R"({"topicList":[1]})",       // not strings
  };
  for (const char* text : bad) {
    auto decoded = DecodeJson<TopicList>(text);
    EXPECT_TRUE(decoded.status().IsInvalidArgument()) << text;
  }
  EXPECT_TRUE(
      DecodeJson<BrokerData>(R"({"brokerAddrs":{"master":"x"}})").status().IsInvalidArgument());
  EXPECT_TRUE(DecodeJson<BrokerData>(R"({"brokerAddrs":{"0":5}})").status().IsInvalidArgument());
  EXPECT_TRUE(DecodeJson<QueueData>(R"({"perm":4294967296})").status().IsInvalidArgument());
  EXPECT_TRUE(DecodeJson<QueueData>(R"({"perm":1.5})").status().IsInvalidArgument());
  EXPECT_TRUE(DecodeJson<QueueData>(R"({"brokerName":7})").status().IsInvalidArgument());
  EXPECT_TRUE(
      DecodeJson<TopicConfig>(R"({"topicFilterType":"SQL92"})").status().IsInvalidArgument());
  EXPECT_TRUE(DecodeJson<TopicConfig>(R"({"order":1})").status().IsInvalidArgument());
  EXPECT_TRUE(
      DecodeJson<DataVersion>(R"({"counter":18446744073709551615})").status().IsInvalidArgument());
}

TEST(RouteDataTest, ErrorsNameTheField) {
  auto decoded = DecodeJson<RegisterBrokerBody>(
      R"({"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":"rw"}}}})");
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("topicConfigTable.T"), std::string_view::npos)
      << decoded.status().ToString();
  EXPECT_NE(decoded.status().message().find("perm"), std::string_view::npos)
      << decoded.status().ToString();
}

TEST(RouteDataTest, DeeplyNestedInputIsRejectedWithoutCrashing) {
  std::string text = R"({"topicList":)" + std::string(200000, '[') + std::string(200000, ']') + "}";
  EXPECT_TRUE(DecodeJson<TopicList>(text).status().IsInvalidArgument());
}

TEST(RouteDataTest, InvalidUtf8IsEncodedWithoutThrowing) {
  TopicList list;
  list.topic_list = {std::string("bad\xff")};
  std::string text = EncodeJson(list);
  EXPECT_TRUE(json::accept(text)) << text;
}

}  // namespace
}  // namespace mqremoting
