// PullConsumer: empty queues, long polling, batches, offsets committed and fetched, heartbeats.
#include "mqclient/pull_consumer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "cluster_fixture.h"
#include "mqclient/producer.h"

namespace mqclient {
namespace {

using namespace std::chrono_literals;

class PullConsumerTest : public ClusterFixture {
 protected:
  void SetUp() override {
    ClusterFixture::SetUp();
    CreateTopic("Pulled", 1);
    PullConsumerOptions options;
    options.namesrv_addr = namesrv_addr_;
    options.group = "CID_PULL";
    consumer_ = std::make_unique<PullConsumer>(options);
    ASSERT_TRUE(consumer_->Start().ok());
    auto queues = consumer_->FetchQueues("Pulled");
    ASSERT_TRUE(queues.ok() && queues->size() == 1u);
    queue_ = queues->front();
  }
  void TearDown() override {
    consumer_.reset();
    ClusterFixture::TearDown();
  }
  std::unique_ptr<PullConsumer> consumer_;
  MessageQueue queue_;
};

TEST_F(PullConsumerTest, EmptyQueueHasNoNewMessage) {
  Result<PullResult> pulled = consumer_->Pull(queue_, 0, 32);
  ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
  EXPECT_EQ(pulled->status, PullStatus::kNoNewMessage);
  EXPECT_TRUE(pulled->messages.empty());
}

TEST_F(PullConsumerTest, LongPollReturnsAMessageSentWhileWaiting) {
  std::thread sender([this] {
    std::this_thread::sleep_for(200ms);  // let the pull be held first
    ProducerOptions options;
    options.namesrv_addr = namesrv_addr_;
    Producer producer(options);
    ASSERT_TRUE(producer.Start().ok());
    Message message;
    message.topic = "Pulled";
    message.body = "late";
    ASSERT_TRUE(producer.Send(message).ok());
  });
  Result<PullResult> pulled = consumer_->Pull(queue_, 0, 32, 10s);
  sender.join();
  ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
  ASSERT_EQ(pulled->status, PullStatus::kFound);
  ASSERT_EQ(pulled->messages.size(), 1u);
  EXPECT_EQ(pulled->messages[0].body, "late");
  EXPECT_EQ(pulled->next_begin_offset, 1);
}

TEST_F(PullConsumerTest, CommittedOffsetIsFetchedBack) {
  Result<int64_t> none = consumer_->FetchCommittedOffset(queue_);
  EXPECT_TRUE(none.status().IsNotFound()) << none.status().ToString();
  ASSERT_TRUE(consumer_->CommitOffset(queue_, 42).ok());
  Result<int64_t> committed = consumer_->FetchCommittedOffset(queue_);
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(*committed, 42);
}

TEST_F(PullConsumerTest, HeartbeatIsAccepted) { EXPECT_TRUE(consumer_->SendHeartbeat().ok()); }

TEST_F(PullConsumerTest, UnknownTopicIsNotFound) {
  EXPECT_TRUE(consumer_->FetchQueues("NoSuchTopic").status().IsNotFound());
}

TEST_F(PullConsumerTest, PullReturnsUpToTheBatchSizeInOrder) {
  ProducerOptions options;
  options.namesrv_addr = namesrv_addr_;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "Pulled";
  for (int i = 0; i < 40; ++i) {
    message.body = "m-" + std::to_string(i);
    ASSERT_TRUE(producer.Send(message).ok());
  }
  AwaitDispatched();

  Result<PullResult> all = consumer_->Pull(queue_, 0, 1000);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->status, PullStatus::kFound);
  ASSERT_EQ(all->messages.size(), 40u);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(all->messages[i].body, "m-" + std::to_string(i));
    EXPECT_EQ(all->messages[i].queue_offset, i);
  }
  EXPECT_EQ(all->next_begin_offset, 40);
  EXPECT_EQ(all->max_offset, 40);

  Result<PullResult> part = consumer_->Pull(queue_, 16, 16);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  ASSERT_EQ(part->messages.size(), 16u);
  EXPECT_EQ(part->messages.front().body, "m-16");
  EXPECT_EQ(part->messages.back().body, "m-31");
  EXPECT_EQ(part->next_begin_offset, 32);
}

}  // namespace
}  // namespace mqclient
