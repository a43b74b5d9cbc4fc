#include "namesrv_processor.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "remoting/codes.h"
#include "remoting/route_data.h"

namespace mqnamesrv {
namespace {

using mqremoting::RemotingCommand;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;

// Records what the processor sends; nothing goes over a network.
class FakeConnection : public mqremoting::Connection {
 public:
  explicit FakeConnection(uint64_t id) : id_(id) {}

  uint64_t id() const override { return id_; }
  const std::string& remote_address() const override { return remote_; }
  const std::string& local_address() const override { return local_; }
  void Send(RemotingCommand command) override {
    std::lock_guard lock(mu_);
    sent_.push_back(std::move(command));
  }
  void Invoke(RemotingCommand, mqremoting::Millis, ResponseCallback done) override {
    done(mqstore::Status::NotSupported("fake connection"));
  }
  mqstore::Result<RemotingCommand> InvokeSync(RemotingCommand, mqremoting::Millis) override {
    return mqstore::Status::NotSupported("fake connection");
  }
  void SendOneway(RemotingCommand) override {}
  bool is_open() const override { return true; }
  void Close() override {}

  std::vector<RemotingCommand> TakeSent() {
    std::lock_guard lock(mu_);
    return std::exchange(sent_, {});
  }

 private:
  const uint64_t id_;
  const std::string remote_ = "127.0.0.1:40000";
  const std::string local_ = "127.0.0.1:9876";
  std::mutex mu_;
  std::vector<RemotingCommand> sent_;
};

class NameServerProcessorTest : public ::testing::Test {
 protected:
  NameServerProcessorTest()
      : registry_(std::make_shared<RouteRegistry>(std::chrono::milliseconds(1000))),
        processor_(std::make_shared<NameServerProcessor>(registry_, ProcessorOptions{},
                                                         [this] { return now_ms_; })),
        connection_(std::make_shared<FakeConnection>(42)) {}

  static RemotingCommand RegisterRequest(const std::string& name, int64_t id,
                                         const std::string& addr,
                                         const std::vector<std::string>& topics,
                                         int64_t version = 1) {
    RemotingCommand request = RemotingCommand::Request(request_code::kRegisterBroker);
    request.opaque = 11;
    request.SetExt("brokerName", name);
    request.SetExt("brokerAddr", addr);
    request.SetExt("clusterName", "DefaultCluster");
    request.SetExt("haServerAddr", addr.substr(0, addr.find(':')) + ":10912");
    request.SetExt("brokerId", id);
    mqremoting::RegisterBrokerBody body;
    for (const std::string& topic : topics) {
      mqremoting::TopicConfig config;
      config.topic_name = topic;
      config.read_queue_nums = 4;
      config.write_queue_nums = 4;
      body.topic_config_serialize_wrapper.topic_config_table[topic] = config;
    }
    body.topic_config_serialize_wrapper.data_version.counter = version;
    request.body = mqremoting::EncodeJson(body);
    return request;
  }

  static RemotingCommand RouteRequest(const std::string& topic) {
    RemotingCommand request = RemotingCommand::Request(request_code::kGetRouteInfoByTopic);
    request.opaque = 12;
    request.SetExt("topic", topic);
    return request;
  }

  // Sends `request` through OnRequest and returns the one response it produced.
  RemotingCommand Call(RemotingCommand request) {
    processor_->OnRequest(connection_, std::move(request));
    std::vector<RemotingCommand> sent = connection_->TakeSent();
    EXPECT_EQ(sent.size(), 1u);
    if (sent.empty()) return RemotingCommand{};
    return std::move(sent[0]);
  }

  static int64_t MaskedCrc(const std::string& body) {
    uLong crc =
        crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
    return static_cast<int64_t>(crc & 0x7FFFFFFFu);
  }

  int64_t now_ms_ = 0;
  std::shared_ptr<RouteRegistry> registry_;
  std::shared_ptr<NameServerProcessor> processor_;
  std::shared_ptr<FakeConnection> connection_;
};

TEST_F(NameServerProcessorTest, RegisterThenGetRoute) {
  RemotingCommand response = Call(RegisterRequest("broker-a", 0, "127.0.0.1:10911", {"TopicA"}));
  EXPECT_EQ(response.code, response_code::kSuccess);
  EXPECT_TRUE(response.is_response());
  EXPECT_EQ(response.opaque, 11);
  EXPECT_EQ(response.FindExt("masterAddr"), nullptr);

  response = Call(RouteRequest("TopicA"));
  ASSERT_EQ(response.code, response_code::kSuccess) << response.remark.value_or("");
  EXPECT_EQ(response.opaque, 12);
  auto route = mqremoting::DecodeJson<mqremoting::TopicRouteData>(response.body);
  ASSERT_TRUE(route.ok()) << route.status().ToString();
  ASSERT_EQ(route->broker_datas.size(), 1u);
  EXPECT_EQ(route->broker_datas[0].broker_addrs.at(0), "127.0.0.1:10911");
  ASSERT_EQ(route->queue_datas.size(), 1u);
  EXPECT_EQ(route->queue_datas[0].write_queue_nums, 4);
  // Standard JSON with quoted broker ids.
  EXPECT_NE(response.body.find(R"({"0":"127.0.0.1:10911"})"), std::string::npos) << response.body;
}

TEST_F(NameServerProcessorTest, SlaveRegistrationAnswersWithTheMaster) {
  Call(RegisterRequest("broker-a", 0, "127.0.0.1:10911", {"TopicA"}));
  RemotingCommand response = Call(RegisterRequest("broker-a", 1, "127.0.0.1:10921", {"TopicA"}));
  ASSERT_EQ(response.code, response_code::kSuccess);
  ASSERT_NE(response.FindExt("masterAddr"), nullptr);
  EXPECT_EQ(*response.FindExt("masterAddr"), "127.0.0.1:10911");
  ASSERT_NE(response.FindExt("haServerAddr"), nullptr);
  EXPECT_EQ(*response.FindExt("haServerAddr"), "127.0.0.1:10912");
}

TEST_F(NameServerProcessorTest, UnknownTopicIsTopicNotExist) {
  RemotingCommand response = Call(RouteRequest("Nope"));
  EXPECT_EQ(response.code, response_code::kTopicNotExist);
  EXPECT_EQ(response.remark.value_or(""), "No topic route info in name server for the topic: Nope");
  EXPECT_TRUE(response.body.empty());
}

TEST_F(NameServerProcessorTest, RegistrationWithoutABodyHasNoTopics) {
  RemotingCommand request = RegisterRequest("broker-a", 0, "127.0.0.1:10911", {});
  request.body.clear();
  EXPECT_EQ(Call(std::move(request)).code, response_code::kSuccess);
  EXPECT_EQ(registry_->GetClusterInfo().broker_addr_table.count("broker-a"), 1u);
  EXPECT_TRUE(registry_->GetTopicList().topic_list.empty());
}

TEST_F(NameServerProcessorTest, EveryRequiredRegisterFieldIsChecked) {
  for (const char* field :
       {"brokerName", "brokerAddr", "clusterName", "haServerAddr", "brokerId"}) {
    RemotingCommand request = RegisterRequest("broker-a", 0, "127.0.0.1:10911", {"TopicA"});
    request.ext_fields.erase(field);
    RemotingCommand response = Call(std::move(request));
    EXPECT_EQ(response.code, response_code::kSystemError) << field;
    EXPECT_NE(response.remark.value_or("").find(field), std::string::npos)
        << field << ": " << response.remark.value_or("");
  }
  EXPECT_TRUE(registry_->GetClusterInfo().broker_addr_table.empty());
}

TEST_F(NameServerProcessorTest, MalformedBrokerIdIsSystemError) {
  RemotingCommand request = RegisterRequest("broker-a", 0, "127.0.0.1:10911", {"TopicA"});
  request.SetExt("brokerId", "zero");
  RemotingCommand response = Call(std::move(request));
  EXPECT_EQ(response.code, response_code::kSystemError);
  EXPECT_NE(response.remark.value_or("").find("brokerId"), std::string::npos);
}

TEST_F(NameServerProcessorTest, BodyCrcIsCheckedWhenGiven) {
  RemotingCommand request = RegisterRequest("broker-a", 0, "127.0.0.1:10911", {"TopicA"});
  request.SetExt("bodyCrc32", MaskedCrc(request.body) ^ 1);
  RemotingCommand response = Call(request);
  EXPECT_EQ(response.code, response_code::kSystemError);
  EXPECT_EQ(response.remark.value_or(""), "crc32 not match");
  EXPECT_FALSE(registry_->GetRoute("TopicA").has_value());

  // The value a Java broker sends (CRC32 & 0x7FFFFFFF) matches.
  request.SetExt("bodyCrc32", MaskedCrc(request.body));
  EXPECT_EQ(Call(request).code, response_code::kSuccess);
  EXPECT_TRUE(registry_->GetRoute("TopicA").has_value());
}

TEST_F(NameServerProcessorTest, FullZlibCrcAlsoMatches) {
  RemotingCommand request = RegisterRequest("broker-a", 0, "127.0.0.1:10911", {"TopicA"});
  const uint32_t crc =
      static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(request.body.data()),
                                  static_cast<uInt>(request.body.size())));
  request.SetExt("bodyCrc32", static_cast<int64_t>(crc));
  EXPECT_EQ(Call(request).code, response_code::kSuccess);
  request.SetExt("bodyCrc32", static_cast<int64_t>(static_cast<int32_t>(crc)));
  EXPECT_EQ(Call(request).code, response_code::kSuccess);
}

TEST_F(NameServerProcessorTest, CompressedRegistrationIsRefused) {
  RemotingCommand request = RegisterRequest("broker-a", 0, "127.0.0.1:10911", {"TopicA"});
  request.SetExt("compressed", true);
  RemotingCommand response = Call(std::move(request));
  EXPECT_EQ(response.code, response_code::kSystemError);
  EXPECT_EQ(response.remark.value_or(""), "compressed registration is not supported");
}

TEST_F(NameServerProcessorTest, MalformedBodyIsSystemError) {
  RemotingCommand request = RegisterRequest("broker-a", 0, "127.0.0.1:10911", {"TopicA"});
  request.body = "{\"topicConfigSerializeWrapper\":";
  RemotingCommand response = Call(std::move(request));
  EXPECT_EQ(response.code, response_code::kSystemError);
  EXPECT_NE(response.remark.value_or("").find("register broker body"), std::string::npos);
  EXPECT_TRUE(registry_->GetClusterInfo().broker_addr_table.empty());
}

TEST_F(NameServerProcessorTest, HeartbeatKeepsABrokerAlive) {
  Call(RegisterRequest("broker-a", 0, "127.0.0.1:10911", {"TopicA"}));
  now_ms_ = 900;
  RemotingCommand heartbeat = RemotingCommand::Request(request_code::kBrokerHeartbeat);
  heartbeat.SetExt("clusterName", "DefaultCluster");
  heartbeat.SetExt("brokerAddr", "127.0.0.1:10911");
  heartbeat.SetExt("brokerName", "broker-a");
  EXPECT_EQ(Call(heartbeat).code, response_code::kSuccess);
  EXPECT_TRUE(registry_->ExpireInactive(1500).empty());
  EXPECT_EQ(registry_->ExpireInactive(1901).size(), 1u);

  heartbeat.ext_fields.erase("brokerName");
  RemotingCommand response = Call(heartbeat);
  EXPECT_EQ(response.code, response_code::kSystemError);
  EXPECT_NE(response.remark.value_or("").find("brokerName"), std::string::npos);
}

TEST_F(NameServerProcessorTest, OnewayRequestsAreProcessedButNeverAnswered) {
  RemotingCommand heartbeat = RemotingCommand::Request(request_code::kBrokerHeartbeat);
  heartbeat.flag |= mqremoting::flag::kOneway;
  heartbeat.SetExt("clusterName", "DefaultCluster");
  heartbeat.SetExt("brokerAddr", "127.0.0.1:10911");
  heartbeat.SetExt("brokerName", "broker-a");
  Call(RegisterRequest("broker-a", 0, "127.0.0.1:10911", {"TopicA"}));
  now_ms_ = 900;
  processor_->OnRequest(connection_, heartbeat);
  EXPECT_TRUE(connection_->TakeSent().empty());
  EXPECT_TRUE(registry_->ExpireInactive(1500).empty());  // it was refreshed

  RemotingCommand unknown = RemotingCommand::Request(9999);
  unknown.flag |= mqremoting::flag::kOneway;
  processor_->OnRequest(connection_, unknown);
  EXPECT_TRUE(connection_->TakeSent().empty());
}

TEST_F(NameServerProcessorTest, UnknownCodeIsNotSupported) {
  RemotingCommand request = RemotingCommand::Request(request_code::kSendMessageV2);
  request.opaque = 77;
  RemotingCommand response = Call(std::move(request));
  EXPECT_EQ(response.code, response_code::kRequestCodeNotSupported);
  EXPECT_EQ(response.remark.value_or(""), " request type 310 not supported");
  EXPECT_EQ(response.opaque, 77);
}

TEST_F(NameServerProcessorTest, UnregisterRemovesTheBroker) {
  Call(RegisterRequest("broker-a", 0, "127.0.0.1:10911", {"TopicA"}));
  RemotingCommand request = RemotingCommand::Request(request_code::kUnregisterBroker);
  request.SetExt("brokerName", "broker-a");
  request.SetExt("brokerAddr", "127.0.0.1:10911");
  request.SetExt("clusterName", "DefaultCluster");
  RemotingCommand missing_id = Call(request);
  EXPECT_EQ(missing_id.code, response_code::kSystemError);
  EXPECT_NE(missing_id.remark.value_or("").find("brokerId"), std::string::npos);
  EXPECT_TRUE(registry_->GetRoute("TopicA").has_value());

  request.SetExt("brokerId", int64_t{0});
  EXPECT_EQ(Call(request).code, response_code::kSuccess);
  EXPECT_EQ(Call(RouteRequest("TopicA")).code, response_code::kTopicNotExist);
}

TEST_F(NameServerProcessorTest, ClusterInfoAndTopicList) {
  Call(RegisterRequest("broker-a", 0, "127.0.0.1:10911", {"TopicA", "TopicB"}));
  RemotingCommand response = Call(RemotingCommand::Request(request_code::kGetBrokerClusterInfo));
  ASSERT_EQ(response.code, response_code::kSuccess);
  auto info = mqremoting::DecodeJson<mqremoting::ClusterInfo>(response.body);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->cluster_addr_table.at("DefaultCluster"), (std::set<std::string>{"broker-a"}));
  EXPECT_EQ(info->broker_addr_table.at("broker-a").broker_addrs.at(0), "127.0.0.1:10911");

  response = Call(RemotingCommand::Request(request_code::kGetAllTopicListFromNameserver));
  ASSERT_EQ(response.code, response_code::kSuccess);
  auto topics = mqremoting::DecodeJson<mqremoting::TopicList>(response.body);
  ASSERT_TRUE(topics.ok()) << topics.status().ToString();
  EXPECT_EQ(topics->topic_list, (std::set<std::string>{"TopicA", "TopicB"}));
}

TEST_F(NameServerProcessorTest, TopicListCanBeDisabled) {
  NameServerProcessor processor(registry_, ProcessorOptions{.enable_all_topic_list = false},
                                [] { return int64_t{0}; });
  RemotingCommand response =
      processor.Process(RemotingCommand::Request(request_code::kGetAllTopicListFromNameserver), 1);
  EXPECT_EQ(response.code, response_code::kSystemError);
  EXPECT_EQ(response.remark.value_or(""), "disable");
}

TEST_F(NameServerProcessorTest, DeleteTopicInNamesrv) {
  Call(RegisterRequest("broker-a", 0, "127.0.0.1:10911", {"TopicA", "TopicB"}));
  RemotingCommand request = RemotingCommand::Request(request_code::kDeleteTopicInNamesrv);
  RemotingCommand missing = Call(request);
  EXPECT_EQ(missing.code, response_code::kSystemError);
  EXPECT_NE(missing.remark.value_or("").find("topic"), std::string::npos);

  request.SetExt("topic", "TopicA");
  EXPECT_EQ(Call(request).code, response_code::kSuccess);
  EXPECT_EQ(Call(RouteRequest("TopicA")).code, response_code::kTopicNotExist);
  EXPECT_EQ(Call(RouteRequest("TopicB")).code, response_code::kSuccess);
}

TEST_F(NameServerProcessorTest, ClosingTheConnectionDropsItsBrokers) {
  Call(RegisterRequest("broker-a", 0, "127.0.0.1:10911", {"TopicA"}));
  auto other = std::make_shared<FakeConnection>(43);
  processor_->OnClosed(other);
  EXPECT_EQ(Call(RouteRequest("TopicA")).code, response_code::kSuccess);
  processor_->OnClosed(connection_);
  EXPECT_EQ(Call(RouteRequest("TopicA")).code, response_code::kTopicNotExist);
}

}  // namespace
}  // namespace mqnamesrv
