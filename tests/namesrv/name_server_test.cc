#include "name_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "remoting/codes.h"
#include "remoting/command.h"
#include "remoting/route_data.h"
#include "remoting/transport.h"

namespace mqnamesrv {
namespace {

using mqremoting::RemotingCommand;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;

constexpr mqremoting::Millis kRpcTimeout{5000};

NameServerOptions TestOptions() {
  NameServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = 0;
  options.io_threads = 1;
  return options;
}

RemotingCommand RegisterRequest(const std::string& topic) {
  RemotingCommand request = RemotingCommand::Request(request_code::kRegisterBroker);
  request.SetExt("brokerName", "broker-a");
  request.SetExt("brokerAddr", "127.0.0.1:10911");
  request.SetExt("clusterName", "DefaultCluster");
  request.SetExt("haServerAddr", "127.0.0.1:10912");
  request.SetExt("brokerId", int64_t{0});
  mqremoting::RegisterBrokerBody body;
  mqremoting::TopicConfig config;
  config.topic_name = topic;
  config.read_queue_nums = 4;
  config.write_queue_nums = 4;
  body.topic_config_serialize_wrapper.topic_config_table[topic] = config;
  body.topic_config_serialize_wrapper.data_version.counter = 1;
  request.body = mqremoting::EncodeJson(body);
  return request;
}

RemotingCommand RouteRequest(const std::string& topic) {
  RemotingCommand request = RemotingCommand::Request(request_code::kGetRouteInfoByTopic);
  request.SetExt("topic", topic);
  return request;
}

class NameServerTest : public ::testing::Test {
 protected:
  void StartServer(const NameServerOptions& options) {
    auto started = NameServer::Start(options);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value();
    address_ = "127.0.0.1:" + std::to_string(server_->port());
  }

  void TearDown() override {
    if (client_) client_->Shutdown();
    if (server_) server_->Stop();
  }

  RemotingCommand Invoke(mqremoting::RemotingClient& client, RemotingCommand request) {
    auto response = client.InvokeSync(address_, std::move(request), kRpcTimeout);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    if (!response.ok()) return RemotingCommand{};
    return std::move(response).value();
  }
  RemotingCommand Invoke(RemotingCommand request) { return Invoke(*client_, std::move(request)); }

  // Polls the route of `topic` until it is gone; false if it is still there after 10 s.
  bool WaitForRouteToVanish(mqremoting::RemotingClient& client, const std::string& topic) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Invoke(client, RouteRequest(topic)).code == response_code::kTopicNotExist) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::unique_ptr<NameServer> server_;
  std::string address_;
  std::unique_ptr<mqremoting::RemotingClient> client_ =
      mqremoting::RemotingClient::Create(mqremoting::ClientOptions{});
};

TEST_F(NameServerTest, RegisterThenRouteClusterInfoAndTopicListOverTcp) {
  StartServer(TestOptions());
  ASSERT_NE(server_->port(), 0);

  EXPECT_EQ(Invoke(RouteRequest("TopicA")).code, response_code::kTopicNotExist);
  RemotingCommand registered = Invoke(RegisterRequest("TopicA"));
  ASSERT_EQ(registered.code, response_code::kSuccess) << registered.remark.value_or("");

  RemotingCommand route_response = Invoke(RouteRequest("TopicA"));
  ASSERT_EQ(route_response.code, response_code::kSuccess);
  auto route = mqremoting::DecodeJson<mqremoting::TopicRouteData>(route_response.body);
  ASSERT_TRUE(route.ok()) << route.status().ToString();
  ASSERT_EQ(route->broker_datas.size(), 1u);
  EXPECT_EQ(route->broker_datas[0].broker_addrs.at(0), "127.0.0.1:10911");
  ASSERT_EQ(route->queue_datas.size(), 1u);
  EXPECT_EQ(route->queue_datas[0].read_queue_nums, 4);

  RemotingCommand cluster_response =
      Invoke(RemotingCommand::Request(request_code::kGetBrokerClusterInfo));
  ASSERT_EQ(cluster_response.code, response_code::kSuccess);
  auto info = mqremoting::DecodeJson<mqremoting::ClusterInfo>(cluster_response.body);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->cluster_addr_table.at("DefaultCluster"), (std::set<std::string>{"broker-a"}));

  RemotingCommand list_response =
      Invoke(RemotingCommand::Request(request_code::kGetAllTopicListFromNameserver));
  ASSERT_EQ(list_response.code, response_code::kSuccess);
  auto topics = mqremoting::DecodeJson<mqremoting::TopicList>(list_response.body);
  ASSERT_TRUE(topics.ok()) << topics.status().ToString();
  EXPECT_EQ(topics->topic_list, (std::set<std::string>{"TopicA"}));

  RemotingCommand unknown = Invoke(RemotingCommand::Request(request_code::kPullMessage));
  EXPECT_EQ(unknown.code, response_code::kRequestCodeNotSupported);
}

TEST_F(NameServerTest, ASilentBrokerExpires) {
  NameServerOptions options = TestOptions();
  options.broker_expiry = std::chrono::milliseconds(200);
  options.scan_interval = std::chrono::milliseconds(20);
  StartServer(options);
  ASSERT_EQ(Invoke(RegisterRequest("TopicA")).code, response_code::kSuccess);
  // Nothing refreshes it; when exactly the scan drops it depends on the machine, so only
  // that it goes is asserted.
  EXPECT_TRUE(WaitForRouteToVanish(*client_, "TopicA"));
  // The connection it registered over is still open: the scan expired it.
  EXPECT_TRUE(server_->registry().GetClusterInfo().broker_addr_table.empty());
}

TEST_F(NameServerTest, ClosingTheBrokersConnectionDropsIt) {
  StartServer(TestOptions());
  auto broker = mqremoting::RemotingClient::Create(mqremoting::ClientOptions{});
  ASSERT_EQ(Invoke(*broker, RegisterRequest("TopicA")).code, response_code::kSuccess);
  ASSERT_EQ(Invoke(RouteRequest("TopicA")).code, response_code::kSuccess);
  broker->Shutdown();
  EXPECT_TRUE(WaitForRouteToVanish(*client_, "TopicA"));
}

TEST_F(NameServerTest, ABusyPortIsAnIOError) {
  StartServer(TestOptions());
  NameServerOptions options = TestOptions();
  options.port = server_->port();
  auto second = NameServer::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsIOError()) << second.status().ToString();
}

TEST_F(NameServerTest, BadOptionsAreRejected) {
  NameServerOptions options = TestOptions();
  options.scan_interval = std::chrono::milliseconds(0);
  EXPECT_TRUE(NameServer::Start(options).status().IsInvalidArgument());
  options = TestOptions();
  options.broker_expiry = std::chrono::milliseconds(-1);
  EXPECT_TRUE(NameServer::Start(options).status().IsInvalidArgument());
  options = TestOptions();
  options.io_threads = 0;
  EXPECT_TRUE(NameServer::Start(options).status().IsInvalidArgument());
}

TEST_F(NameServerTest, StopIsIdempotentAndPrompt) {
  NameServerOptions options = TestOptions();
  options.scan_interval = std::chrono::hours(1);  // Stop must not wait for the next scan
  StartServer(options);
  auto started = std::chrono::steady_clock::now();
  server_->Stop();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  // Nothing listens any more.
  auto response = client_->InvokeSync(address_, RouteRequest("TopicA"), kRpcTimeout);
  EXPECT_FALSE(response.ok());
}

}  // namespace
}  // namespace mqnamesrv
