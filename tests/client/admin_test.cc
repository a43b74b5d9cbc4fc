// Admin: topic creation (cluster and broker), listings, and message lookups by key and id.
#include "mqclient/admin.h"

#include <gtest/gtest.h>

#include "cluster_fixture.h"
#include "mqclient/producer.h"

namespace mqclient {
namespace {

class AdminTest : public ClusterFixture {
 protected:
  SendResult SendOne(const std::string& topic, const std::string& body, const std::string& keys) {
    ProducerOptions options;
    options.namesrv_addr = namesrv_addr_;
    Producer producer(options);
    EXPECT_TRUE(producer.Start().ok());
    Message message;
    message.topic = topic;
    message.body = body;
    message.keys = keys;
    message.tags = "T";
    Result<SendResult> result = producer.Send(message);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : SendResult{};
  }
};

TEST_F(AdminTest, CreateTopicInClusterReachesEveryMaster) {
  Admin admin(namesrv_addr_);
  TopicSpec spec;
  spec.topic = "Created";
  spec.read_queue_nums = 3;
  spec.write_queue_nums = 2;
  Result<std::vector<std::string>> masters = admin.CreateTopicInCluster(spec, "DefaultCluster");
  ASSERT_TRUE(masters.ok()) << masters.status().ToString();
  EXPECT_EQ(*masters, std::vector<std::string>{broker_addr_});
  Result<mqremoting::TopicRouteData> route = admin.TopicRoute("Created");
  ASSERT_TRUE(route.ok()) << route.status().ToString();
  ASSERT_EQ(route->queue_datas.size(), 1u);
  EXPECT_EQ(route->queue_datas[0].read_queue_nums, 3);
  EXPECT_EQ(route->queue_datas[0].write_queue_nums, 2);
  Result<mqremoting::TopicList> topics = admin.TopicList();
  ASSERT_TRUE(topics.ok());
  EXPECT_TRUE(topics->topic_list.count("Created"));
  EXPECT_TRUE(admin.CreateTopicInCluster(spec, "NoCluster").status().IsNotFound());
  spec.topic = "bad topic";
  EXPECT_TRUE(admin.CreateTopicOnBroker(spec, broker_addr_).IsInvalidArgument());
}

TEST_F(AdminTest, ClusterListShowsTheBrokerWithRuntimeInfo) {
  Admin admin(namesrv_addr_);
  Result<std::vector<BrokerStatus>> brokers = admin.ClusterList();
  ASSERT_TRUE(brokers.ok()) << brokers.status().ToString();
  ASSERT_EQ(brokers->size(), 1u);
  const BrokerStatus& b = brokers->front();
  EXPECT_EQ(b.cluster, "DefaultCluster");
  EXPECT_EQ(b.broker_name, broker_name_);
  EXPECT_EQ(b.broker_id, 0);
  EXPECT_EQ(b.address, broker_addr_);
  EXPECT_TRUE(b.runtime_status.ok()) << b.runtime_status.ToString();
  EXPECT_EQ(b.runtime.count("brokerVersionDesc"), 1u);
}

TEST_F(AdminTest, QueriesByKeyOffsetIdAndUniqueId) {
  CreateTopic("Queried", 2);
  SendResult first = SendOne("Queried", "one", "order-1 common");
  SendResult second = SendOne("Queried", "two", "order-2 common");
  AwaitDispatched();
  Admin admin(namesrv_addr_);

  Result<std::vector<ReceivedMessage>> by_key = admin.QueryMessageByKey("Queried", "order-2");
  ASSERT_TRUE(by_key.ok()) << by_key.status().ToString();
  ASSERT_EQ(by_key->size(), 1u);
  EXPECT_EQ(by_key->front().body, "two");
  Result<std::vector<ReceivedMessage>> common = admin.QueryMessageByKey("Queried", "common");
  ASSERT_TRUE(common.ok());
  EXPECT_EQ(common->size(), 2u);
  EXPECT_TRUE(admin.QueryMessageByKey("Queried", "absent").status().IsNotFound());

  Result<ReceivedMessage> by_offset_id = admin.QueryMessageById("Queried", first.msg_id);
  ASSERT_TRUE(by_offset_id.ok()) << by_offset_id.status().ToString();
  EXPECT_EQ(by_offset_id->body, "one");
  EXPECT_EQ(by_offset_id->unique_id, first.unique_id);
  Result<ReceivedMessage> by_unique_id = admin.QueryMessageById("Queried", second.unique_id);
  ASSERT_TRUE(by_unique_id.ok()) << by_unique_id.status().ToString();
  EXPECT_EQ(by_unique_id->body, "two");
  EXPECT_EQ(by_unique_id->msg_id, second.msg_id);
}

TEST(AdminNoServerTest, DeadNameServerIsAnIOError) {
  Admin admin(ClusterFixture::DeadAddress());
  Result<mqremoting::TopicList> topics = admin.TopicList();
  ASSERT_FALSE(topics.ok());
  EXPECT_TRUE(topics.status().IsIOError()) << topics.status().ToString();
}

}  // namespace
}  // namespace mqclient
