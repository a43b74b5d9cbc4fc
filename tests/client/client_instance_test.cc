// ClientInstance: producers on one instance reach a broker over one connection; shutting one
// down waits for its own sends in flight and leaves the connection to the others; the broker's
// transaction check-backs reach the producer of the half message's group; a group has one
// request handler per instance.
#include "mqclient/client_instance.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cluster_fixture.h"
#include "mqclient/producer.h"
#include "mqclient/pull_consumer.h"
#include "mqclient/transaction_producer.h"
#include "remoting/codes.h"
#include "remoting/route_data.h"

namespace mqclient {
namespace {

using namespace std::chrono_literals;
using mqremoting::RemotingCommand;

// Name server and broker in one: serves a route of two queues on itself, answers heartbeats,
// and answers sends SUCCESS, or holds them until Release while `hold` is set.
class FakeBroker : public mqremoting::RequestHandler {
 public:
  void OnRequest(const std::shared_ptr<mqremoting::Connection>& connection,
                 RemotingCommand request) override {
    if (request.code == mqremoting::request_code::kGetRouteInfoByTopic) {
      RemotingCommand response =
          RemotingCommand::ResponseTo(request, mqremoting::response_code::kSuccess);
      std::lock_guard<std::mutex> lock(mu);
      response.body = mqremoting::EncodeJson(route);
      connection->Send(std::move(response));
      return;
    }
    if (request.code != mqremoting::request_code::kSendMessageV2) {
      if (!request.is_oneway()) {
        connection->Send(RemotingCommand::ResponseTo(request, mqremoting::response_code::kSuccess));
      }
      return;
    }
    RemotingCommand response =
        RemotingCommand::ResponseTo(request, mqremoting::response_code::kSuccess);
    response.SetExt("msgId", "7F00000100002A9F0000000000000000");
    response.SetExt("queueId", request.FindExt("e") ? *request.FindExt("e") : "0");
    response.SetExt("queueOffset", "7");
    std::lock_guard<std::mutex> lock(mu);
    if (hold) {
      held.emplace_back(connection, std::move(response));
      return;
    }
    connection->Send(std::move(response));
  }
  size_t HeldCount() {
    std::lock_guard<std::mutex> lock(mu);
    return held.size();
  }
  void Release() {
    std::vector<std::pair<std::shared_ptr<mqremoting::Connection>, RemotingCommand>> answers;
    {
      std::lock_guard<std::mutex> lock(mu);
      hold = false;
      answers.swap(held);
    }
    for (auto& [connection, response] : answers) connection->Send(std::move(response));
  }

  std::mutex mu;
  mqremoting::TopicRouteData route;  // guarded by mu
  bool hold = false;                 // guarded by mu
  std::vector<std::pair<std::shared_ptr<mqremoting::Connection>, RemotingCommand>> held;
};

// Polls (bounded: 5 s) until `condition` holds.
template <typename Condition>
bool Eventually(Condition condition) {
  for (int i = 0; i < 1000; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

class ClientInstanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = std::make_shared<FakeBroker>();
    mqremoting::ServerOptions options;
    options.bind_address = "127.0.0.1";
    auto server = mqremoting::RemotingServer::Start(options, fake_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    fake_->route.queue_datas.push_back({"broker-a", 2, 2, 6, 0});
    mqremoting::BrokerData broker;
    broker.cluster = "DefaultCluster";
    broker.broker_name = "broker-a";
    broker.broker_addrs[0] = address_;
    fake_->route.broker_datas.push_back(broker);
  }
  void TearDown() override { server_->Stop(); }

  ProducerOptions Options(const std::string& group,
                          std::shared_ptr<ClientInstance> instance) const {
    ProducerOptions options;
    options.namesrv_addr = address_;  // the fake also serves the route
    options.group = group;
    options.route_refresh_interval = 0ms;
    options.client_instance = std::move(instance);
    return options;
  }
  static Message MessageTo(const std::string& topic) {
    Message message;
    message.topic = topic;
    message.body = "payload";
    return message;
  }
  std::shared_ptr<FakeBroker> fake_;
  std::unique_ptr<mqremoting::RemotingServer> server_;
  std::string address_;
};

TEST_F(ClientInstanceTest, ProducersOnOneInstanceShareOneConnection) {
  auto instance = ClientInstance::Create();
  Producer first(Options("PID_FIRST", instance));
  Producer second(Options("PID_SECOND", instance));
  ASSERT_TRUE(first.Start().ok());
  ASSERT_TRUE(second.Start().ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(first.Send(MessageTo("Shared")).ok());
    ASSERT_TRUE(second.Send(MessageTo("Shared")).ok());
  }
  EXPECT_TRUE(first.SendHeartbeat().ok());
  EXPECT_TRUE(Eventually([&] { return server_->connection_count() == 1u; }))
      << server_->connection_count() << " connections";

  // Producers of their own open a connection each.
  Producer alone(Options("PID_ALONE", nullptr));
  Producer also_alone(Options("PID_ALSO_ALONE", nullptr));
  ASSERT_TRUE(alone.Start().ok());
  ASSERT_TRUE(also_alone.Start().ok());
  ASSERT_TRUE(alone.Send(MessageTo("Shared")).ok());
  ASSERT_TRUE(also_alone.Send(MessageTo("Shared")).ok());
  EXPECT_TRUE(Eventually([&] { return server_->connection_count() == 3u; }))
      << server_->connection_count() << " connections";
}

TEST_F(ClientInstanceTest, ShutdownWaitsForItsOwnSendsAndLeavesTheConnectionToTheOthers) {
  auto instance = ClientInstance::Create();
  auto leaving = std::make_unique<Producer>(Options("PID_LEAVING", instance));
  Producer staying(Options("PID_STAYING", instance));
  ASSERT_TRUE(leaving->Start().ok());
  ASSERT_TRUE(staying.Start().ok());
  ASSERT_TRUE(leaving->Send(MessageTo("Shared")).ok());  // routes fetched, connection open

  {
    std::lock_guard<std::mutex> lock(fake_->mu);
    fake_->hold = true;
  }
  std::atomic<bool> completed{false};
  std::atomic<bool> completed_ok{false};
  leaving->SendAsync(MessageTo("Shared"), [&](Result<SendResult> result) {
    std::this_thread::sleep_for(20ms);  // a callback still running must be waited for too
    completed_ok = result.ok();
    completed = true;
  });
  ASSERT_TRUE(Eventually([&] { return fake_->HeldCount() == 1u; }));

  auto shutdown = std::async(std::launch::async, [&] { leaving->Shutdown(); });
  // The answer is held: Shutdown must not return before it came and the callback ran.
  EXPECT_EQ(shutdown.wait_for(200ms), std::future_status::timeout);
  EXPECT_FALSE(completed.load());
  fake_->Release();
  ASSERT_EQ(shutdown.wait_for(30s), std::future_status::ready);
  EXPECT_TRUE(completed.load());
  EXPECT_TRUE(completed_ok.load());  // answered, not aborted: the connection stayed open

  // After Shutdown a send fails at once, on this thread.
  bool failed_at_once = false;
  leaving->SendAsync(MessageTo("Shared"), [&](Result<SendResult> result) {
    failed_at_once = result.status().IsFailedPrecondition();
  });
  EXPECT_TRUE(failed_at_once);
  leaving.reset();

  // The other producer goes on over the same connection.
  Result<SendResult> sent = staying.Send(MessageTo("Shared"));
  EXPECT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(ClientInstanceTest, AGroupHasOneProducerWithARequestHandlerPerInstance) {
  auto instance = ClientInstance::Create();
  auto never = [](const ReceivedMessage&) { return LocalTransactionState::kUnknown; };
  TransactionProducer first(Options("PID_TX", instance), never);
  ASSERT_TRUE(first.Start().ok());
  TransactionProducer second(Options("PID_TX", instance), never);
  Status refused = second.Start();
  EXPECT_TRUE(refused.IsInvalidArgument()) << refused.ToString();
  EXPECT_NE(refused.message().find("PID_TX"), std::string::npos) << refused.ToString();
  // Another group, and the same group on another instance, are fine.
  TransactionProducer other_group(Options("PID_TX_OTHER", instance), never);
  EXPECT_TRUE(other_group.Start().ok());
  TransactionProducer elsewhere(Options("PID_TX", ClientInstance::Create()), never);
  EXPECT_TRUE(elsewhere.Start().ok());
  // Once the first is shut down its group is free again.
  first.Shutdown();
  TransactionProducer heir(Options("PID_TX", instance), never);
  EXPECT_TRUE(heir.Start().ok());
}

// Against an in-process broker that checks unresolved half messages after 100 ms.
class ClientInstanceCheckTest : public ClusterFixture {
 protected:
  void ConfigureBroker(mqbroker::BrokerConfig* config) override {
    config->transactionTimeOut = 100;
    config->transactionCheckInterval = 200;
  }
};

TEST_F(ClientInstanceCheckTest, CheckBacksReachTheProducerOfTheHalfMessagesGroup) {
  CreateTopic("Payments", 1);
  auto instance = ClientInstance::Create();
  struct Checker {
    std::mutex mu;
    std::set<std::string> checked;  // bodies, guarded by mu
    TransactionChecker Make() {
      return [this](const ReceivedMessage& half) {
        std::lock_guard<std::mutex> lock(mu);
        checked.insert(half.body);
        return LocalTransactionState::kCommit;
      };
    }
    std::set<std::string> Checked() {
      std::lock_guard<std::mutex> lock(mu);
      return checked;
    }
  };
  Checker checker_a;
  Checker checker_b;
  auto options = [&](const std::string& group) {
    ProducerOptions producer_options;
    producer_options.namesrv_addr = namesrv_addr_;
    producer_options.group = group;
    producer_options.route_refresh_interval = 0ms;
    producer_options.client_instance = instance;
    return producer_options;
  };
  TransactionProducer producer_a(options("PID_TX_A"), checker_a.Make());
  TransactionProducer producer_b(options("PID_TX_B"), checker_b.Make());
  ASSERT_TRUE(producer_a.Start().ok());
  ASSERT_TRUE(producer_b.Start().ok());
  auto unknown = [](const Message&, const SendResult&) { return LocalTransactionState::kUnknown; };
  Message message;
  message.topic = "Payments";
  message.body = "from-a";
  ASSERT_TRUE(producer_a.SendMessageInTransaction(message, unknown).ok());
  message.body = "from-b";
  ASSERT_TRUE(producer_b.SendMessageInTransaction(message, unknown).ok());

  // Each check-back came over the one shared connection and went to its group's producer.
  EXPECT_TRUE(Eventually([&] {
    return checker_a.Checked().count("from-a") == 1 && checker_b.Checked().count("from-b") == 1;
  }));
  EXPECT_EQ(checker_a.Checked(), std::set<std::string>{"from-a"});
  EXPECT_EQ(checker_b.Checked(), std::set<std::string>{"from-b"});

  // Committed by the checks: both become visible.
  PullConsumerOptions reader_options;
  reader_options.namesrv_addr = namesrv_addr_;
  reader_options.group = "CID_READER";
  PullConsumer reader(reader_options);
  ASSERT_TRUE(reader.Start().ok());
  auto queues = reader.FetchQueues("Payments");
  ASSERT_TRUE(queues.ok() && queues->size() == 1u);
  std::set<std::string> visible;
  EXPECT_TRUE(Eventually([&] {
    Result<PullResult> pulled = reader.Pull(queues->front(), 0, 32);
    if (pulled.ok()) {
      for (const ReceivedMessage& m : pulled->messages) visible.insert(m.body);
    }
    return visible.size() == 2u;
  }));
  EXPECT_EQ(visible, (std::set<std::string>{"from-a", "from-b"}));
}

}  // namespace
}  // namespace mqclient
