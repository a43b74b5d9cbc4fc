// TransactionProducer against an in-process broker: commit shows the message, rollback never
// does, and an unknown outcome is resolved by the broker's check-back, also after the producer
// that sent the half message is gone.
#include "mqclient/transaction_producer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cluster_fixture.h"
#include "mqclient/pull_consumer.h"

namespace mqclient {
namespace {

using namespace std::chrono_literals;

class TransactionProducerTest : public ClusterFixture {
 protected:
  void ConfigureBroker(mqbroker::BrokerConfig* config) override {
    // Unresolved halves are checked after 100 ms, scans every 200 ms.
    config->transactionTimeOut = 100;
    config->transactionCheckInterval = 200;
  }

  void SetUp() override {
    ClusterFixture::SetUp();
    CreateTopic("Payments", 1);
    PullConsumerOptions options;
    options.namesrv_addr = namesrv_addr_;
    options.group = "CID_READER";
    reader_ = std::make_unique<PullConsumer>(options);
    ASSERT_TRUE(reader_->Start().ok());
    auto queues = reader_->FetchQueues("Payments");
    ASSERT_TRUE(queues.ok() && queues->size() == 1u);
    queue_ = queues->front();
  }
  void TearDown() override {
    reader_.reset();
    ClusterFixture::TearDown();
  }

  ProducerOptions Options() const {
    ProducerOptions options;
    options.namesrv_addr = namesrv_addr_;
    options.group = "PID_TX";
    options.route_refresh_interval = 0ms;
    return options;
  }

  // The bodies visible to consumers of Payments.
  std::vector<std::string> Visible() {
    std::vector<std::string> bodies;
    Result<PullResult> pulled = reader_->Pull(queue_, 0, 32);
    if (pulled.ok()) {
      for (const ReceivedMessage& m : pulled->messages) bodies.push_back(m.body);
    }
    return bodies;
  }
  bool EventuallyVisible(const std::string& body) {
    for (int i = 0; i < 500; ++i) {
      for (const std::string& b : Visible()) {
        if (b == body) return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  static Message Payment(const std::string& body) {
    Message message;
    message.topic = "Payments";
    message.body = body;
    message.tags = "TagPay";
    message.keys = "order-" + body;
    return message;
  }

  std::unique_ptr<PullConsumer> reader_;
  MessageQueue queue_;
};

TEST_F(TransactionProducerTest, ACommittedTransactionShowsItsMessage) {
  std::atomic<int> checks{0};
  TransactionProducer producer(Options(), [&](const ReceivedMessage&) {
    ++checks;
    return LocalTransactionState::kRollback;
  });
  ASSERT_TRUE(producer.Start().ok());
  Result<TransactionSendResult> sent = producer.SendMessageInTransaction(
      Payment("p1"), [](const Message& m, const SendResult& half) {
        EXPECT_EQ(m.body, "p1");
        EXPECT_FALSE(half.unique_id.empty());
        return LocalTransactionState::kCommit;
      });
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sent->local_state, LocalTransactionState::kCommit);
  ASSERT_TRUE(EventuallyVisible("p1"));
  std::this_thread::sleep_for(500ms);  // a few check scans
  EXPECT_EQ(checks.load(), 0);
  EXPECT_EQ(Visible().size(), 1u);
}

TEST_F(TransactionProducerTest, ARolledBackTransactionNeverShowsItsMessage) {
  std::atomic<int> checks{0};
  TransactionProducer producer(Options(), [&](const ReceivedMessage&) {
    ++checks;
    return LocalTransactionState::kCommit;  // would show it, were it asked
  });
  ASSERT_TRUE(producer.Start().ok());
  Result<TransactionSendResult> sent = producer.SendMessageInTransaction(
      Payment("p2"),
      [](const Message&, const SendResult&) { return LocalTransactionState::kRollback; });
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  std::this_thread::sleep_for(800ms);  // past the check timeout, several scans
  EXPECT_TRUE(Visible().empty());
  EXPECT_EQ(checks.load(), 0);
}

TEST_F(TransactionProducerTest, AnUnknownOutcomeIsResolvedByTheCheckBack) {
  std::atomic<int> checks{0};
  std::string checked_keys;
  TransactionProducer producer(Options(), [&](const ReceivedMessage& half) {
    checked_keys = half.keys;
    ++checks;
    return LocalTransactionState::kCommit;
  });
  ASSERT_TRUE(producer.Start().ok());
  Result<TransactionSendResult> sent = producer.SendMessageInTransaction(
      Payment("p3"), [](const Message&, const SendResult&) -> LocalTransactionState {
        throw std::runtime_error("the database did not answer");  // counts as unknown
      });
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sent->local_state, LocalTransactionState::kUnknown);
  ASSERT_TRUE(EventuallyVisible("p3"));
  EXPECT_GE(checks.load(), 1);
  EXPECT_EQ(checked_keys, "order-p3");
}

TEST_F(TransactionProducerTest, ATransactionItsProducerForgotIsResolvedByAnotherOfTheGroup) {
  {
    TransactionProducer forgetful(
        Options(), [](const ReceivedMessage&) { return LocalTransactionState::kUnknown; });
    ASSERT_TRUE(forgetful.Start().ok());
    Result<TransactionSendResult> sent = forgetful.SendMessageInTransaction(
        Payment("p4"),
        [](const Message&, const SendResult&) { return LocalTransactionState::kUnknown; });
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  }  // gone before anyone ended it
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(Visible().empty());
  std::atomic<int> checks{0};
  TransactionProducer heir(Options(), [&](const ReceivedMessage& half) {
    ++checks;
    return half.body == "p4" ? LocalTransactionState::kCommit : LocalTransactionState::kRollback;
  });
  ASSERT_TRUE(heir.Start().ok());
  // The heir has to be known to the broker as a producer of the group: its own first send
  // does that (and is committed at once).
  ASSERT_TRUE(heir.SendMessageInTransaction(Payment("p5"),
                                            [](const Message&, const SendResult&) {
                                              return LocalTransactionState::kCommit;
                                            })
                  .ok());
  ASSERT_TRUE(EventuallyVisible("p4"));
  EXPECT_GE(checks.load(), 1);
}

TEST_F(TransactionProducerTest, ADelayedTransactionalMessageIsRefused) {
  TransactionProducer producer(
      Options(), [](const ReceivedMessage&) { return LocalTransactionState::kUnknown; });
  ASSERT_TRUE(producer.Start().ok());
  Message message = Payment("p6");
  message.delay_level = 2;
  auto local = [](const Message&, const SendResult&) { return LocalTransactionState::kCommit; };
  EXPECT_TRUE(producer.SendMessageInTransaction(message, local).status().IsInvalidArgument());
  EXPECT_TRUE(
      producer.SendMessageInTransaction(Payment("p7"), nullptr).status().IsInvalidArgument());
}

}  // namespace
}  // namespace mqclient
