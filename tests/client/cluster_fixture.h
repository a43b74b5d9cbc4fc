// A name server and a broker in this process (127.0.0.1, ephemeral ports, a temp store) for
// the client-lite tests, plus small helpers (topic creation, waiting for the index).
#ifndef TESTS_CLIENT_CLUSTER_FIXTURE_H_
#define TESTS_CLIENT_CLUSTER_FIXTURE_H_

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "broker.h"
#include "mqclient/admin.h"
#include "mqstore/store.h"
#include "name_server.h"
#include "remoting/transport.h"
#include "support/server_test_util.h"
#include "support/test_util.h"

namespace mqclient {

class ClusterFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto namesrv = mqstore::test::StartLoopbackNameServer();
    ASSERT_TRUE(namesrv.ok()) << namesrv.status().ToString();
    namesrv_ = std::move(namesrv).value();
    namesrv_addr_ = "127.0.0.1:" + std::to_string(namesrv_->port());

    mqbroker::BrokerConfig config = mqstore::test::LoopbackBrokerConfig(dir_.path(), namesrv_addr_);
    ConfigureBroker(&config);
    auto broker = mqbroker::Broker::Start(config);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(broker).value();
    broker_addr_ = broker_->identity().broker_addr;
    broker_name_ = broker_->identity().broker_name;
    // Broker::Start registers with the name server in the background: wait for it.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (namesrv_->registry().GetClusterInfo().broker_addr_table.empty() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_FALSE(namesrv_->registry().GetClusterInfo().broker_addr_table.empty());
  }

  // Tests change the broker's settings here (before it starts).
  virtual void ConfigureBroker(mqbroker::BrokerConfig* /*config*/) {}

  void TearDown() override {
    if (broker_) {
      EXPECT_TRUE(broker_->Shutdown().ok());
    }
    if (namesrv_) namesrv_->Stop();
  }

  void CreateTopic(const std::string& topic, int queues) {
    Admin admin(namesrv_addr_);
    TopicSpec spec;
    spec.topic = topic;
    spec.read_queue_nums = queues;
    spec.write_queue_nums = queues;
    ASSERT_TRUE(admin.CreateTopicOnBroker(spec, broker_addr_).ok());
  }

  // Under ASYNC_FLUSH a put is acknowledged before the dispatcher indexes it.
  void AwaitDispatched() {
    mqstore::Store* store = broker_->store();
    ASSERT_TRUE(store->AwaitDispatched(store->Stats().appended_offset, 10000).ok());
  }

  // (public: tests without the fixture use them too)
 public:
  // A 127.0.0.1 address nothing listens on (a server bound it and went away).
  static std::string DeadAddress() {
    struct Idle : mqremoting::RequestHandler {
      void OnRequest(const std::shared_ptr<mqremoting::Connection>&,
                     mqremoting::RemotingCommand) override {}
    };
    mqremoting::ServerOptions options;
    options.bind_address = "127.0.0.1";
    auto server = mqremoting::RemotingServer::Start(options, std::make_shared<Idle>());
    if (!server.ok()) return "127.0.0.1:1";
    uint16_t port = (*server)->port();
    (*server)->Stop();
    return "127.0.0.1:" + std::to_string(port);
  }

  // Runs a shell command; returns its exit status and puts stdout (and stderr) in *output.
  static int Run(const std::string& command, std::string* output) {
    output->clear();
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) return -1;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output->append(buffer, n);
    int status = ::pclose(pipe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 protected:
  mqstore::test::TempDir dir_;
  std::unique_ptr<mqnamesrv::NameServer> namesrv_;
  std::unique_ptr<mqbroker::Broker> broker_;
  std::string namesrv_addr_;
  std::string broker_addr_;
  std::string broker_name_;
};

}  // namespace mqclient

#endif  // TESTS_CLIENT_CLUSTER_FIXTURE_H_
