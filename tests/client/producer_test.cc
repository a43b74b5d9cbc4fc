// Producer against an in-process name server and broker: a round trip through a pull consumer
// keeps every field, and failed sends are retried on another broker's queue.
#include "mqclient/producer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>

#include "cluster_fixture.h"
#include "mqclient/pull_consumer.h"
#include "remoting/codes.h"
#include "remoting/route_data.h"

namespace mqclient {
namespace {

using namespace std::chrono_literals;
using mqremoting::RemotingCommand;

class ProducerTest : public ClusterFixture {};

TEST_F(ProducerTest, RoundTripKeepsBodyTagsKeysPropertiesAndIds) {
  CreateTopic("RoundTrip", 2);
  ProducerOptions options;
  options.namesrv_addr = namesrv_addr_;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());

  std::vector<SendResult> sent;
  for (int i = 0; i < 6; ++i) {
    Message message;
    message.topic = "RoundTrip";
    message.body = "body-" + std::to_string(i);
    message.tags = i % 2 == 0 ? "TagA" : "TagB";
    message.keys = "key-" + std::to_string(i) + " shared";
    message.user_properties = {{"color", "red"}, {"index", std::to_string(i)}};
    Result<SendResult> result = producer.Send(message);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->status, SendStatus::kSendOk);
    EXPECT_EQ(result->attempts, 1);
    EXPECT_EQ(result->unique_id.size(), 32u);
    EXPECT_TRUE(mqstore::DecodeOffsetMessageId(result->msg_id).has_value()) << result->msg_id;
    sent.push_back(*result);
  }
  // Round robin over both queues: offsets 0,1,2 in each.
  std::set<std::string> unique_ids;
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(sent[i].queue.queue_id, i % 2);
    EXPECT_EQ(sent[i].queue_offset, i / 2);
    unique_ids.insert(sent[i].unique_id);
  }
  EXPECT_EQ(unique_ids.size(), 6u);
  AwaitDispatched();

  PullConsumerOptions consumer_options;
  consumer_options.namesrv_addr = namesrv_addr_;
  consumer_options.group = "CID_ROUND_TRIP";
  PullConsumer consumer(consumer_options);
  ASSERT_TRUE(consumer.Start().ok());
  Result<std::vector<MessageQueue>> queues = consumer.FetchQueues("RoundTrip");
  ASSERT_TRUE(queues.ok()) << queues.status().ToString();
  ASSERT_EQ(queues->size(), 2u);
  int matched = 0;
  for (const MessageQueue& queue : *queues) {
    Result<PullResult> pulled = consumer.Pull(queue, 0, 32, 2s);
    ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
    ASSERT_EQ(pulled->status, PullStatus::kFound);
    ASSERT_EQ(pulled->messages.size(), 3u);
    EXPECT_EQ(pulled->next_begin_offset, 3);
    for (const ReceivedMessage& m : pulled->messages) {
      const SendResult& original = sent[m.queue_offset * 2 + m.queue_id];
      int i = static_cast<int>(m.queue_offset * 2 + m.queue_id);
      EXPECT_EQ(m.topic, "RoundTrip");
      EXPECT_EQ(m.body, "body-" + std::to_string(i));
      EXPECT_EQ(m.tags, i % 2 == 0 ? "TagA" : "TagB");
      EXPECT_EQ(m.keys, "key-" + std::to_string(i) + " shared");
      EXPECT_EQ(m.UserProperties(), (std::map<std::string, std::string>{
                                        {"color", "red"}, {"index", std::to_string(i)}}));
      EXPECT_EQ(m.unique_id, original.unique_id);
      EXPECT_EQ(m.msg_id, original.msg_id);
      EXPECT_EQ(m.queue_id, original.queue.queue_id);
      EXPECT_GT(m.store_timestamp_ms, 0);
      EXPECT_GT(m.born_timestamp_ms, 0);
      EXPECT_EQ(m.reconsume_times, 0);
      ++matched;
    }
  }
  EXPECT_EQ(matched, 6);
}

TEST_F(ProducerTest, SendToNewTopicUsesTheDefaultTopicRoute) {
  ProducerOptions options;
  options.namesrv_addr = namesrv_addr_;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "AutoCreated";
  message.body = "x";
  Result<SendResult> result = producer.Send(message);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->queue.broker_name, broker_name_);
  EXPECT_EQ(result->queue_offset, 0);
}

TEST_F(ProducerTest, StartWithoutNameServerIsAnError) {
  Producer producer(ProducerOptions{});
  EXPECT_TRUE(producer.Start().IsInvalidArgument());
  Message message;
  message.topic = "T";
  EXPECT_TRUE(producer.Send(message).status().IsFailedPrecondition());
}

// A name server answering every route request with `route`, and a broker that refuses every
// send with SYSTEM_ERROR and counts them.
class FakeServer : public mqremoting::RequestHandler {
 public:
  void OnRequest(const std::shared_ptr<mqremoting::Connection>& connection,
                 RemotingCommand request) override {
    if (request.code == mqremoting::request_code::kGetRouteInfoByTopic) {
      RemotingCommand response =
          RemotingCommand::ResponseTo(request, mqremoting::response_code::kSuccess);
      response.body = mqremoting::EncodeJson(route);
      connection->Send(std::move(response));
      return;
    }
    ++refused_sends;
    RemotingCommand response =
        RemotingCommand::ResponseTo(request, send_code, "refused by the test");
    response.SetExt("msgId", "7F00000100002A9F0000000000000000");
    response.SetExt("queueId", request.FindExt("e") ? *request.FindExt("e") : "0");
    response.SetExt("queueOffset", "7");
    connection->Send(std::move(response));
  }
  mqremoting::TopicRouteData route;
  int32_t send_code = mqremoting::response_code::kSystemError;
  std::atomic<int> refused_sends{0};
};

class RetryTest : public ClusterFixture {
 protected:
  void StartFake() {
    fake_ = std::make_shared<FakeServer>();
    mqremoting::ServerOptions server_options;
    server_options.bind_address = "127.0.0.1";
    auto server = mqremoting::RemotingServer::Start(server_options, fake_);
    ASSERT_TRUE(server.ok());
    server_ = std::move(server).value();
    fake_addr_ = "127.0.0.1:" + std::to_string(server_->port());
  }
  void AddBroker(const std::string& name, const std::string& address) {
    fake_->route.queue_datas.push_back({name, 2, 2, 6, 0});
    mqremoting::BrokerData broker;
    broker.cluster = "DefaultCluster";
    broker.broker_name = name;
    broker.broker_addrs[0] = address;
    fake_->route.broker_datas.push_back(broker);
  }
  void TearDown() override {
    if (server_) server_->Stop();
    ClusterFixture::TearDown();
  }
  std::shared_ptr<FakeServer> fake_;
  std::unique_ptr<mqremoting::RemotingServer> server_;
  std::string fake_addr_;
};

TEST_F(RetryTest, FailedSendIsRetriedOnAnotherBroker) {
  CreateTopic("Retried", 2);
  StartFake();
  AddBroker("aaa-refusing", fake_addr_);  // first in the round robin
  AddBroker(broker_name_, broker_addr_);
  ProducerOptions options;
  options.namesrv_addr = fake_addr_;  // the fake also serves the route
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "Retried";
  message.body = "payload";
  Result<SendResult> result = producer.Send(message);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->attempts, 2);
  EXPECT_EQ(result->queue.broker_name, broker_name_);
  EXPECT_EQ(fake_->refused_sends.load(), 1);
}

TEST_F(RetryTest, GivesUpAfterTwoRetries) {
  StartFake();
  AddBroker("only-refusing", fake_addr_);
  ProducerOptions options;
  options.namesrv_addr = fake_addr_;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "Refused";
  message.body = "payload";
  Result<SendResult> result = producer.Send(message);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsIOError()) << result.status().ToString();
  EXPECT_NE(result.status().message().find("3 attempts"), std::string_view::npos);
  EXPECT_NE(result.status().message().find("refused by the test"), std::string_view::npos);
  EXPECT_EQ(fake_->refused_sends.load(), 3);
}

TEST_F(RetryTest, IllegalMessageIsNotRetried) {
  StartFake();
  fake_->send_code = mqremoting::response_code::kMessageIllegal;
  AddBroker("first", fake_addr_);
  AddBroker("second", fake_addr_);
  ProducerOptions options;
  options.namesrv_addr = fake_addr_;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "Illegal";
  Result<SendResult> result = producer.Send(message);
  EXPECT_TRUE(result.status().IsInvalidArgument()) << result.status().ToString();
  EXPECT_EQ(fake_->refused_sends.load(), 1);
}

TEST_F(RetryTest, FlushDiskTimeoutIsReportedNotRetried) {
  StartFake();
  fake_->send_code = mqremoting::response_code::kFlushDiskTimeout;
  AddBroker("slow-disk", fake_addr_);
  ProducerOptions options;
  options.namesrv_addr = fake_addr_;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "Slow";
  Result<SendResult> result = producer.Send(message);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, SendStatus::kFlushDiskTimeout);
  EXPECT_EQ(SendStatusName(result->status), "FLUSH_DISK_TIMEOUT");
  EXPECT_EQ(result->queue_offset, 7);
  EXPECT_EQ(result->msg_id, "7F00000100002A9F0000000000000000");
  EXPECT_EQ(fake_->refused_sends.load(), 1);
}

TEST_F(ProducerTest, RouteFailsOverToTheSecondNameServer) {
  CreateTopic("Failover", 1);
  ProducerOptions options;
  options.namesrv_addr = DeadAddress() + ";" + namesrv_addr_;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "Failover";
  message.body = "b";
  Result<SendResult> result = producer.Send(message);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->queue.queue_id, 0);
}

}  // namespace
}  // namespace mqclient
