// PushConsumer against an in-process name server and broker: every message consumed once,
// offsets committed and resumed, members of a group splitting the queues and taking over a
// leaving member's, tag subscriptions, redelivery through the retry topic and the dead-letter
// topic, consume-from-where for a new group, flow control, offset resets sent by the broker
// (RESET_CONSUMER_CLIENT_OFFSET), the consume timeout.
#include "mqclient/push_consumer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster_fixture.h"
#include "local_offset_store.h"
#include "mqclient/producer.h"
#include "mqclient/pull_consumer.h"
#include "mqstore/env.h"
#include "mqstore/send_back.h"
#include "remoting/codes.h"
#include "remoting/consumer_admin_bodies.h"
#include "support/test_util.h"

namespace mqclient {
namespace {

using namespace std::chrono_literals;

// What a consumer's listener saw, thread-safe.
class Received {
 public:
  void Add(const ReceivedMessage& message) {
    std::lock_guard<std::mutex> lock(mu_);
    messages_.push_back(message);
    ++times_[message.body];
    cv_.notify_all();
  }
  // Waits until `n` messages were received (duplicates count) or 20 s passed.
  bool AwaitCount(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, 20s, [&] { return messages_.size() >= n; });
  }
  size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_.size();
  }
  std::map<std::string, int> times() const {
    std::lock_guard<std::mutex> lock(mu_);
    return times_;
  }
  std::vector<ReceivedMessage> messages() const {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ReceivedMessage> messages_;
  std::map<std::string, int> times_;  // body -> deliveries
};

// Polls `condition` every 10 ms for up to 20 s.
bool Eventually(const std::function<bool()>& condition) {
  return mqstore::test::WaitUntil(condition, 20s);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Holds listener calls until opened. Open() runs at the latest when the test leaves (see
// OpenOnExit), so that Shutdown never waits on a held call after a failed assertion.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Declared after the consumer it protects, so destroyed (and the gate opened) first.
struct OpenOnExit {
  Gate* gate;
  ~OpenOnExit() { gate->Open(); }
};

// Stands for a broker's connection to the consumer: keeps what the consumer answers.
class CapturingConnection : public mqremoting::Connection {
 public:
  uint64_t id() const override { return 1; }
  const std::string& remote_address() const override { return address_; }
  const std::string& local_address() const override { return address_; }
  void Send(mqremoting::RemotingCommand command) override {
    std::lock_guard<std::mutex> lock(mu_);
    sent_.push_back(std::move(command));
  }
  void Invoke(mqremoting::RemotingCommand, mqremoting::Millis, ResponseCallback done) override {
    done(Status::NotSupported("a test connection"));
  }
  Result<mqremoting::RemotingCommand> InvokeSync(mqremoting::RemotingCommand,
                                                 mqremoting::Millis) override {
    return Status::NotSupported("a test connection");
  }
  void SendOneway(mqremoting::RemotingCommand) override {}
  bool is_open() const override { return true; }
  void Close() override {}

  std::vector<mqremoting::RemotingCommand> sent() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }

 private:
  const std::string address_ = "127.0.0.1:1";
  mutable std::mutex mu_;
  std::vector<mqremoting::RemotingCommand> sent_;
};

// RESET_CONSUMER_CLIENT_OFFSET as a broker sends it.
mqremoting::RemotingCommand ResetRequest(const std::string& topic, const std::string& group,
                                         const std::vector<std::pair<MessageQueue, int64_t>>& to) {
  mqremoting::RemotingCommand request =
      mqremoting::RemotingCommand::Request(mqremoting::request_code::kResetConsumerClientOffset);
  request.opaque = 42;
  request.SetExt("topic", topic);
  request.SetExt("group", group);
  request.SetExt("timestamp", int64_t{0});
  request.SetExt("isForce", true);
  mqremoting::QueueOffsets offsets;
  for (const auto& [queue, offset] : to) {
    offsets.push_back({{queue.topic, queue.broker_name, queue.queue_id}, offset});
  }
  request.body = mqremoting::EncodeResetOffsetBody(offsets);
  return request;
}

class PushConsumerTest : public ClusterFixture {
 protected:
  void ConfigureBroker(mqbroker::BrokerConfig* config) override {
    // Retries come back after a second instead of 10 s (level 3).
    config->messageDelayLevel = "1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";
  }

  void SetUp() override {
    ClusterFixture::SetUp();
    ProducerOptions options;
    options.namesrv_addr = namesrv_addr_;
    producer_ = std::make_unique<Producer>(options);
    ASSERT_TRUE(producer_->Start().ok());
  }
  void TearDown() override {
    producer_.reset();
    ClusterFixture::TearDown();
  }

  PushConsumerOptions Options(const std::string& group) const {
    PushConsumerOptions options;
    options.namesrv_addr = namesrv_addr_;
    options.group = group;
    options.consume_from_where = ConsumeFromWhere::kFirstOffset;
    options.consume_threads = 4;
    // Shorter than Java's 15 s so that Shutdown in the tests does not wait on held pulls
    // (it does not anyway; this only bounds a pull that races with shutdown).
    options.broker_suspend_max = 2s;
    options.long_poll_timeout_margin = 3s;
    return options;
  }

  // A started consumer of `topic` that records what it receives and answers `status`.
  std::unique_ptr<PushConsumer> StartConsumer(
      PushConsumerOptions options, const std::string& topic, Received* received,
      const std::string& expression = "*",
      std::function<ConsumeStatus(const ReceivedMessage&)> status = nullptr) {
    auto consumer = std::make_unique<PushConsumer>(std::move(options));
    EXPECT_TRUE(consumer->Subscribe(topic, expression).ok());
    consumer->RegisterListener([received, status](const std::vector<ReceivedMessage>& messages) {
      for (const ReceivedMessage& message : messages) {
        received->Add(message);
        if (status && status(message) != ConsumeStatus::kSuccess) {
          return ConsumeStatus::kReconsumeLater;
        }
      }
      return ConsumeStatus::kSuccess;
    });
    Status started = consumer->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return consumer;
  }

  void Send(const std::string& topic, const std::string& body, const std::string& tags = "") {
    Message message;
    message.topic = topic;
    message.body = body;
    message.tags = tags;
    Result<SendResult> sent = producer_->Send(message);
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  }
  void SendMany(const std::string& topic, const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) Send(topic, prefix + std::to_string(i));
  }

  // A started pull consumer of `group`, to read committed and max offsets.
  std::unique_ptr<PullConsumer> Reader(const std::string& group) {
    PullConsumerOptions options;
    options.namesrv_addr = namesrv_addr_;
    options.group = group;
    auto reader = std::make_unique<PullConsumer>(options);
    EXPECT_TRUE(reader->Start().ok());
    return reader;
  }
  // The committed offset of `group` on `queue`; -1 when none (or not known).
  static int64_t Committed(PullConsumer& reader, const MessageQueue& queue) {
    Result<int64_t> committed = reader.FetchCommittedOffset(queue);
    return committed.ok() ? *committed : -1;
  }
  // Every queue of `topic` committed by `group` up to its end; the total.
  int64_t ExpectCommittedAtMax(const std::string& group, const std::string& topic) {
    std::unique_ptr<PullConsumer> reader = Reader(group);
    Result<std::vector<MessageQueue>> queues = reader->FetchQueues(topic);
    EXPECT_TRUE(queues.ok());
    if (!queues.ok()) return -1;
    int64_t total = 0;
    for (const MessageQueue& queue : *queues) {
      Result<int64_t> max = reader->FetchMaxOffset(queue);
      EXPECT_TRUE(max.ok());
      EXPECT_EQ(Committed(*reader, queue), max.ok() ? *max : -2) << queue.ToString();
      total += max.ok() ? *max : 0;
    }
    return total;
  }

  std::unique_ptr<Producer> producer_;
};

TEST_F(PushConsumerTest, EveryMessageIsConsumedOnceAndTheOffsetsAreCommitted) {
  CreateTopic("Orders", 4);
  SendMany("Orders", "m", 100);
  Received received;
  auto consumer = StartConsumer(Options("CID_ALL"), "Orders", &received);
  ASSERT_TRUE(received.AwaitCount(100));
  PushConsumerStats stats = consumer->Stats();
  // The topic's four queues and the retry topic's one.
  EXPECT_EQ(stats.assigned_queues.size(), 5u);
  consumer->Shutdown();
  std::map<std::string, int> times = received.times();
  ASSERT_EQ(times.size(), 100u);
  for (const auto& [body, n] : times) EXPECT_EQ(n, 1) << body;

  // Shutdown committed every queue up to its end.
  PullConsumerOptions pull_options;
  pull_options.namesrv_addr = namesrv_addr_;
  pull_options.group = "CID_ALL";
  PullConsumer reader(pull_options);
  ASSERT_TRUE(reader.Start().ok());
  Result<std::vector<MessageQueue>> queues = reader.FetchQueues("Orders");
  ASSERT_TRUE(queues.ok());
  int64_t committed_total = 0;
  for (const MessageQueue& queue : *queues) {
    Result<int64_t> committed = reader.FetchCommittedOffset(queue);
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
    Result<int64_t> max = reader.FetchMaxOffset(queue);
    ASSERT_TRUE(max.ok());
    EXPECT_EQ(*committed, *max) << queue.ToString();
    committed_total += *committed;
  }
  EXPECT_EQ(committed_total, 100);
}

TEST_F(PushConsumerTest, ARestartedMemberResumesFromTheCommittedOffset) {
  CreateTopic("Orders", 2);
  SendMany("Orders", "old", 20);
  {
    Received first;
    auto consumer = StartConsumer(Options("CID_RESUME"), "Orders", &first);
    ASSERT_TRUE(first.AwaitCount(20));
    consumer->Shutdown();
  }
  SendMany("Orders", "new", 10);
  Received second;
  auto consumer = StartConsumer(Options("CID_RESUME"), "Orders", &second);
  ASSERT_TRUE(second.AwaitCount(10));
  std::this_thread::sleep_for(300ms);  // anything old would have arrived with the new ones
  consumer->Shutdown();
  std::map<std::string, int> times = second.times();
  EXPECT_EQ(times.size(), 10u);
  for (const auto& [body, n] : times) {
    EXPECT_EQ(body.rfind("new", 0), 0u) << body;
    EXPECT_EQ(n, 1) << body;
  }
}

TEST_F(PushConsumerTest, TwoMembersSplitTheQueuesAndTogetherReceiveEverythingOnce) {
  CreateTopic("Orders", 8);
  Received a_received, b_received;
  auto a = StartConsumer(Options("CID_SPLIT"), "Orders", &a_received);
  auto b = StartConsumer(Options("CID_SPLIT"), "Orders", &b_received);
  // B's heartbeat makes the broker notify A, which gives up half of its queues.
  auto queue_sets = [&] {
    std::vector<MessageQueue> qa = a->Stats().assigned_queues;
    std::vector<MessageQueue> qb = b->Stats().assigned_queues;
    std::vector<MessageQueue> both;
    std::set_intersection(qa.begin(), qa.end(), qb.begin(), qb.end(), std::back_inserter(both));
    return std::make_pair(qa.size() + qb.size(), both.size());
  };
  ASSERT_TRUE(Eventually([&] { return queue_sets() == std::make_pair(size_t{9}, size_t{0}); }))
      << a->Stats().assigned_queues.size() << " + " << b->Stats().assigned_queues.size();
  std::vector<MessageQueue> qa = a->Stats().assigned_queues;
  std::vector<MessageQueue> qb = b->Stats().assigned_queues;
  auto topic_queues = [](const std::vector<MessageQueue>& queues) {
    return std::count_if(queues.begin(), queues.end(),
                         [](const MessageQueue& q) { return q.topic == "Orders"; });
  };
  EXPECT_EQ(topic_queues(qa), 4);
  EXPECT_EQ(topic_queues(qb), 4);

  SendMany("Orders", "m", 200);
  ASSERT_TRUE(Eventually([&] { return a_received.count() + b_received.count() >= 200; }));
  std::this_thread::sleep_for(300ms);
  a->Shutdown();
  b->Shutdown();
  std::map<std::string, int> all = a_received.times();
  for (const auto& [body, n] : b_received.times()) all[body] += n;
  ASSERT_EQ(all.size(), 200u);
  for (const auto& [body, n] : all) EXPECT_EQ(n, 1) << body;
  EXPECT_GT(a_received.count(), 0u);
  EXPECT_GT(b_received.count(), 0u);
}

TEST_F(PushConsumerTest, ALeavingMembersQueuesAreTakenOverAtOnce) {
  CreateTopic("Orders", 4);
  PushConsumerOptions options = Options("CID_LEAVE");
  // Only the broker's notification can trigger the rebalances this test waits for.
  options.rebalance_interval = std::chrono::hours(1);
  Received a_received, b_received;
  auto a = StartConsumer(options, "Orders", &a_received);
  auto b = StartConsumer(options, "Orders", &b_received);
  ASSERT_TRUE(Eventually([&] {
    return a->Stats().assigned_queues.size() + b->Stats().assigned_queues.size() == 5 &&
           !b->Stats().assigned_queues.empty() && a->Stats().assigned_queues.size() < 5;
  }));
  b->Shutdown();
  ASSERT_TRUE(Eventually([&] { return a->Stats().assigned_queues.size() == 5; }))
      << a->Stats().assigned_queues.size();
  SendMany("Orders", "after", 40);
  ASSERT_TRUE(a_received.AwaitCount(40));
  a->Shutdown();
  EXPECT_EQ(a_received.times().size(), 40u);
}

TEST_F(PushConsumerTest, ATagSubscriptionReceivesOnlyItsTags) {
  CreateTopic("Tagged", 2);
  for (int i = 0; i < 10; ++i) {
    Send("Tagged", "a" + std::to_string(i), "TagA");
    Send("Tagged", "b" + std::to_string(i), "TagB");
    Send("Tagged", "c" + std::to_string(i), "TagC");
    Send("Tagged", "n" + std::to_string(i));
  }
  Received received;
  auto consumer = StartConsumer(Options("CID_TAGS"), "Tagged", &received, "TagA || TagC");
  ASSERT_TRUE(received.AwaitCount(20));
  std::this_thread::sleep_for(300ms);
  consumer->Shutdown();
  std::vector<ReceivedMessage> messages = received.messages();
  EXPECT_EQ(messages.size(), 20u);
  for (const ReceivedMessage& message : messages) {
    EXPECT_TRUE(message.tags == "TagA" || message.tags == "TagC") << message.tags;
    EXPECT_EQ(message.body[0], message.tags == "TagA" ? 'a' : 'c');
  }
}

TEST_F(PushConsumerTest, ReconsumeLaterRedeliversThroughTheRetryTopic) {
  CreateTopic("Orders", 2);
  SendMany("Orders", "m", 5);
  Received received;
  auto consumer = StartConsumer(
      Options("CID_RETRY"), "Orders", &received, "*", [](const ReceivedMessage& message) {
        return message.reconsume_times == 0 ? ConsumeStatus::kReconsumeLater
                                            : ConsumeStatus::kSuccess;
      });
  ASSERT_TRUE(received.AwaitCount(10));
  std::this_thread::sleep_for(300ms);
  consumer->Shutdown();
  std::map<std::string, std::vector<int>> deliveries;  // body -> reconsume times seen
  for (const ReceivedMessage& message : received.messages()) {
    EXPECT_EQ(message.topic, "Orders");  // the retry topic is not shown
    deliveries[message.body].push_back(message.reconsume_times);
  }
  ASSERT_EQ(deliveries.size(), 5u);
  for (auto& [body, times] : deliveries) {
    std::sort(times.begin(), times.end());
    EXPECT_EQ(times, (std::vector<int>{0, 1})) << body;
  }
}

TEST_F(PushConsumerTest, AMessageThatKeepsFailingEndsInTheDeadLetterTopic) {
  CreateTopic("Orders", 1);
  Send("Orders", "poison");
  PushConsumerOptions options = Options("CID_DLQ");
  options.max_reconsume_times = 2;
  Received received;
  auto consumer = StartConsumer(options, "Orders", &received, "*", [](const ReceivedMessage&) {
    return ConsumeStatus::kReconsumeLater;
  });
  // The first delivery and two retries; the third failure sends it to %DLQ%CID_DLQ.
  ASSERT_TRUE(received.AwaitCount(3));
  PullConsumerOptions pull_options;
  pull_options.namesrv_addr = namesrv_addr_;
  pull_options.group = "CID_DLQ_READER";
  PullConsumer reader(pull_options);
  ASSERT_TRUE(reader.Start().ok());
  std::vector<ReceivedMessage> dead;
  ASSERT_TRUE(Eventually([&] {
    Result<std::vector<MessageQueue>> queues = reader.FetchQueues(mqstore::DlqTopic("CID_DLQ"));
    if (!queues.ok() || queues->empty()) return false;
    Result<PullResult> pulled = reader.Pull(queues->front(), 0, 32);
    if (!pulled.ok() || pulled->messages.empty()) return false;
    dead = pulled->messages;
    return true;
  }));
  consumer->Shutdown();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].body, "poison");
  EXPECT_EQ(received.count(), 3u);
}

TEST_F(PushConsumerTest, WithTheDefaultLimitAMessageReachesTheDeadLetterTopicAfter16Retries) {
  CreateTopic("Orders", 1);
  Send("Orders", "always-fails");
  Received received;
  // max_reconsume_times left at -1: Java's 16. Each retry comes after a second here.
  auto consumer =
      StartConsumer(Options("CID_DLQ16"), "Orders", &received, "*",
                    [](const ReceivedMessage&) { return ConsumeStatus::kReconsumeLater; });
  PullConsumerOptions pull_options;
  pull_options.namesrv_addr = namesrv_addr_;
  pull_options.group = "CID_DLQ16_READER";
  PullConsumer reader(pull_options);
  ASSERT_TRUE(reader.Start().ok());
  std::vector<ReceivedMessage> dead;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (dead.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    Result<std::vector<MessageQueue>> queues = reader.FetchQueues(mqstore::DlqTopic("CID_DLQ16"));
    if (!queues.ok() || queues->empty()) continue;
    Result<PullResult> pulled = reader.Pull(queues->front(), 0, 32);
    if (pulled.ok()) dead = pulled->messages;
  }
  std::this_thread::sleep_for(300ms);
  consumer->Shutdown();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].body, "always-fails");
  // The first delivery and 16 retries, with reconsume times 0..16.
  std::vector<int> times;
  for (const ReceivedMessage& m : received.messages()) times.push_back(m.reconsume_times);
  std::sort(times.begin(), times.end());
  std::vector<int> expected;
  for (int i = 0; i <= 16; ++i) expected.push_back(i);
  EXPECT_EQ(times, expected);
}

TEST_F(PushConsumerTest, ANewGroupStartsAtTheEndOrAtTheBeginningAsConfigured) {
  CreateTopic("Orders", 2);
  SendMany("Orders", "before", 6);
  AwaitDispatched();
  PushConsumerOptions last = Options("CID_LAST");
  last.consume_from_where = ConsumeFromWhere::kLastOffset;
  Received last_received;
  auto from_last = StartConsumer(last, "Orders", &last_received);
  Received first_received;
  auto from_first = StartConsumer(Options("CID_FIRST"), "Orders", &first_received);
  SendMany("Orders", "after", 4);
  ASSERT_TRUE(last_received.AwaitCount(4));
  ASSERT_TRUE(first_received.AwaitCount(10));
  std::this_thread::sleep_for(300ms);
  from_last->Shutdown();
  from_first->Shutdown();
  for (const auto& [body, n] : last_received.times()) {
    EXPECT_EQ(body.rfind("after", 0), 0u) << body;
  }
  EXPECT_EQ(last_received.count(), 4u);
  EXPECT_EQ(first_received.times().size(), 10u);
}

TEST_F(PushConsumerTest, ANewGroupCanStartFromATimestamp) {
  CreateTopic("Orders", 2);
  SendMany("Orders", "before", 6);
  std::this_thread::sleep_for(50ms);
  const int64_t rewind_to = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  std::this_thread::sleep_for(50ms);
  SendMany("Orders", "after", 6);
  AwaitDispatched();
  PushConsumerOptions options = Options("CID_REWIND");
  options.consume_from_where = ConsumeFromWhere::kTimestamp;
  options.consume_timestamp_ms = rewind_to;
  Received received;
  auto consumer = StartConsumer(options, "Orders", &received);
  ASSERT_TRUE(received.AwaitCount(6));
  std::this_thread::sleep_for(300ms);
  consumer->Shutdown();
  std::map<std::string, int> times = received.times();
  EXPECT_EQ(times.size(), 6u);
  for (const auto& [body, n] : times) EXPECT_EQ(body.rfind("after", 0), 0u) << body;
}

TEST_F(PushConsumerTest, FlowControlStopsPullingWhileTheListenerLags) {
  CreateTopic("Orders", 1);
  SendMany("Orders", "m", 100);
  PushConsumerOptions options = Options("CID_FLOW");
  options.pull_threshold_for_queue = 10;
  options.pull_batch_size = 4;
  options.consume_threads = 1;
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  Received received;
  auto consumer = std::make_unique<PushConsumer>(options);
  ASSERT_TRUE(consumer->Subscribe("Orders").ok());
  consumer->RegisterListener([&](const std::vector<ReceivedMessage>& messages) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return released; });
    for (const ReceivedMessage& message : messages) received.Add(message);
    return ConsumeStatus::kSuccess;
  });
  ASSERT_TRUE(consumer->Start().ok());
  // The pull loop stops once more than the threshold is held: at most threshold + a batch.
  ASSERT_TRUE(Eventually([&] { return consumer->Stats().messages_held >= 10; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_LE(consumer->Stats().messages_held, 14u);
  {
    std::lock_guard<std::mutex> lock(mu);
    released = true;
  }
  cv.notify_all();
  ASSERT_TRUE(received.AwaitCount(100));
  consumer->Shutdown();
  EXPECT_EQ(received.times().size(), 100u);
}

TEST_F(PushConsumerTest, BroadcastingMembersEachReceiveEveryMessage) {
  CreateTopic("News", 4);
  Received a_received, b_received;
  PushConsumerOptions a_options = Options("CID_CAST");
  a_options.message_model = MessageModel::kBroadcasting;
  a_options.local_offset_path = dir_.path() + "/a/offsets.json";
  PushConsumerOptions b_options = a_options;
  b_options.local_offset_path = dir_.path() + "/b/offsets.json";
  auto a = StartConsumer(a_options, "News", &a_received);
  auto b = StartConsumer(b_options, "News", &b_received);
  // No retry topic in broadcasting: the four queues each.
  EXPECT_EQ(a->Stats().assigned_queues.size(), 4u);
  EXPECT_EQ(b->Stats().assigned_queues.size(), 4u);
  SendMany("News", "m", 30);
  ASSERT_TRUE(a_received.AwaitCount(30));
  ASSERT_TRUE(b_received.AwaitCount(30));
  std::this_thread::sleep_for(300ms);
  a->Shutdown();
  b->Shutdown();
  for (Received* received : {&a_received, &b_received}) {
    std::map<std::string, int> times = received->times();
    EXPECT_EQ(times.size(), 30u);
    for (const auto& [body, n] : times) EXPECT_EQ(n, 1) << body;
  }
}

TEST_F(PushConsumerTest, ABroadcastingMemberResumesFromItsOffsetFile) {
  CreateTopic("News", 2);
  SendMany("News", "old", 10);
  PushConsumerOptions options = Options("CID_CAST_FILE");
  options.message_model = MessageModel::kBroadcasting;
  options.local_offset_path = dir_.path() + "/offsets/CID_CAST_FILE.json";
  {
    Received first;
    auto consumer = StartConsumer(options, "News", &first, "*", [](const ReceivedMessage& m) {
      // A failure is not retried in broadcasting: the message still counts as consumed.
      return m.body == "old3" ? ConsumeStatus::kReconsumeLater : ConsumeStatus::kSuccess;
    });
    ASSERT_TRUE(first.AwaitCount(10));
    std::this_thread::sleep_for(200ms);
    consumer->Shutdown();
  }
  LocalOffsetStore file(mqstore::Env::Default(), options.local_offset_path, "CID_CAST_FILE");
  Result<OffsetTable> saved = file.Load();
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  int64_t total = 0;
  for (const auto& [queue, offset] : *saved) total += offset;
  EXPECT_EQ(total, 10);
  // The broker keeps nothing for a broadcasting group.
  PullConsumerOptions pull_options;
  pull_options.namesrv_addr = namesrv_addr_;
  pull_options.group = "CID_CAST_FILE";
  PullConsumer reader(pull_options);
  ASSERT_TRUE(reader.Start().ok());
  Result<std::vector<MessageQueue>> queues = reader.FetchQueues("News");
  ASSERT_TRUE(queues.ok());
  for (const MessageQueue& queue : *queues) {
    EXPECT_TRUE(reader.FetchCommittedOffset(queue).status().IsNotFound()) << queue.ToString();
  }

  SendMany("News", "new", 5);
  Received second;
  auto consumer = StartConsumer(options, "News", &second);
  ASSERT_TRUE(second.AwaitCount(5));
  std::this_thread::sleep_for(300ms);
  consumer->Shutdown();
  std::map<std::string, int> times = second.times();
  EXPECT_EQ(times.size(), 5u);
  for (const auto& [body, n] : times) EXPECT_EQ(body.rfind("new", 0), 0u) << body;
}

// Orderly: what one member's listener saw, per queue, and whether two calls ever overlapped
// on one queue (within or across members).
class OrderlyLog {
 public:
  OrderlyConsumeStatus Record(const std::string& member, const std::vector<ReceivedMessage>& batch,
                              const std::function<bool(const ReceivedMessage&)>& suspend) {
    const int queue = batch.front().queue_id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!inside_.insert(queue).second)
        overlaps_.push_back(member + " on queue " + std::to_string(queue));
    }
    std::this_thread::sleep_for(1ms);  // widen the window an overlap would need
    bool suspended = false;
    for (const ReceivedMessage& m : batch) {
      if (suspend && suspend(m)) suspended = true;
    }
    std::lock_guard<std::mutex> lock(mu_);
    inside_.erase(queue);
    for (const ReceivedMessage& m : batch) {
      deliveries_[queue].push_back({m.queue_offset, m.reconsume_times, member});
    }
    total_ += batch.size();
    cv_.notify_all();
    return suspended ? OrderlyConsumeStatus::kSuspendCurrentQueueAMoment
                     : OrderlyConsumeStatus::kSuccess;
  }
  bool AwaitTotal(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, 20s, [&] { return total_ >= n; });
  }
  struct Delivery {
    int64_t offset;
    int reconsume_times;
    std::string member;
  };
  std::map<int, std::vector<Delivery>> deliveries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return deliveries_;
  }
  std::vector<std::string> overlaps() const {
    std::lock_guard<std::mutex> lock(mu_);
    return overlaps_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<int> inside_;
  std::vector<std::string> overlaps_;
  std::map<int, std::vector<Delivery>> deliveries_;
  size_t total_ = 0;
};

class OrderlyPushConsumerTest : public PushConsumerTest {
 protected:
  std::unique_ptr<PushConsumer> StartOrderly(
      PushConsumerOptions options, const std::string& topic, OrderlyLog* log,
      const std::string& member, std::function<bool(const ReceivedMessage&)> suspend = nullptr) {
    auto consumer = std::make_unique<PushConsumer>(std::move(options));
    EXPECT_TRUE(consumer->Subscribe(topic).ok());
    consumer->RegisterOrderlyListener(
        [log, member, suspend](const std::vector<ReceivedMessage>& batch) {
          return log->Record(member, batch, suspend);
        });
    Status started = consumer->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return consumer;
  }
  // `per_queue` messages into each of `queues` queues, in order, body "<queue>-<i>".
  void SendToEachQueue(const std::string& topic, int queues, int per_queue) {
    MessageQueueSelector by_arg = [](const std::vector<MessageQueue>&, const Message&,
                                     std::string_view arg) {
      return static_cast<size_t>(std::stoi(std::string(arg)));
    };
    for (int i = 0; i < per_queue; ++i) {
      for (int q = 0; q < queues; ++q) {
        Message message;
        message.topic = topic;
        message.body = std::to_string(q) + "-" + std::to_string(i);
        Result<SendResult> sent = producer_->Send(message, by_arg, std::to_string(q));
        ASSERT_TRUE(sent.ok()) << sent.status().ToString();
      }
    }
  }
};

TEST_F(OrderlyPushConsumerTest, EachQueueIsConsumedInOrderOneCallAtATime) {
  CreateTopic("Ordered", 4);
  SendToEachQueue("Ordered", 4, 50);
  PushConsumerOptions options = Options("CID_ORDERLY");
  options.consume_threads = 8;
  options.consume_batch_max_size = 3;
  OrderlyLog log;
  auto consumer = StartOrderly(options, "Ordered", &log, "a");
  ASSERT_TRUE(log.AwaitTotal(200));
  consumer->Shutdown();
  EXPECT_TRUE(log.overlaps().empty()) << log.overlaps().front();
  std::map<int, std::vector<OrderlyLog::Delivery>> deliveries = log.deliveries();
  ASSERT_EQ(deliveries.size(), 4u);
  for (const auto& [queue, list] : deliveries) {
    ASSERT_EQ(list.size(), 50u) << "queue " << queue;
    for (size_t i = 0; i < list.size(); ++i) EXPECT_EQ(list[i].offset, static_cast<int64_t>(i));
  }
}

TEST_F(OrderlyPushConsumerTest, ASuspendedQueueGetsTheSameMessagesAgainBeforeAnyLaterOne) {
  CreateTopic("Ordered", 1);
  SendToEachQueue("Ordered", 1, 10);
  // All ten in the first pull, so the batches are [0,1] [2,3] [4,5] ...
  AwaitDispatched();
  PushConsumerOptions options = Options("CID_SUSPEND");
  options.suspend_time = 100ms;
  options.consume_batch_max_size = 2;
  OrderlyLog log;
  auto consumer = StartOrderly(options, "Ordered", &log, "a", [](const ReceivedMessage& m) {
    return m.queue_offset == 5 && m.reconsume_times < 2;  // fails twice
  });
  ASSERT_TRUE(log.AwaitTotal(14));  // 10 + the batch holding offset 5, twice more
  std::this_thread::sleep_for(200ms);
  consumer->Shutdown();
  std::vector<int64_t> offsets;
  std::vector<int> times;
  std::map<int, std::vector<OrderlyLog::Delivery>> deliveries = log.deliveries();
  for (const OrderlyLog::Delivery& d : deliveries[0]) {
    offsets.push_back(d.offset);
    times.push_back(d.reconsume_times);
  }
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 4, 5, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(times, (std::vector<int>{0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 0, 0, 0, 0}));
}

TEST_F(OrderlyPushConsumerTest,
       TwoMembersNeverConsumeOneQueueAtOnceAndKeepItsOrderAcrossAHandOver) {
  CreateTopic("Ordered", 4);
  PushConsumerOptions options = Options("CID_ORDERLY_GROUP");
  options.rebalance_interval = 200ms;  // a refused lock is asked for again soon
  OrderlyLog log;
  auto a = StartOrderly(options, "Ordered", &log, "a");
  SendToEachQueue("Ordered", 4, 30);
  ASSERT_TRUE(log.AwaitTotal(40));
  // B joins while A consumes: A hands over the queues B is allotted.
  auto b = StartOrderly(options, "Ordered", &log, "b");
  ASSERT_TRUE(Eventually([&] {
    return a->Stats().assigned_queues.size() + b->Stats().assigned_queues.size() == 5 &&
           !b->Stats().assigned_queues.empty() && a->Stats().assigned_queues.size() < 5;
  }));
  SendToEachQueue("Ordered", 4, 30);
  ASSERT_TRUE(log.AwaitTotal(240));
  std::this_thread::sleep_for(300ms);
  a->Shutdown();
  b->Shutdown();
  EXPECT_TRUE(log.overlaps().empty()) << log.overlaps().front();
  bool b_consumed = false;
  for (const auto& [queue, list] : log.deliveries()) {
    // Every offset once, in order, whoever consumed it: the new owner starts where the old
    // one committed, after the old one's last listener call.
    ASSERT_EQ(list.size(), 60u) << "queue " << queue;
    for (size_t i = 0; i < list.size(); ++i) {
      EXPECT_EQ(list[i].offset, static_cast<int64_t>(i)) << "queue " << queue;
      if (list[i].member == "b") b_consumed = true;
    }
  }
  EXPECT_TRUE(b_consumed);
}

TEST_F(PushConsumerTest, StartRefusesWhatCannotWork) {
  CreateTopic("Orders", 1);
  {
    PushConsumer consumer(Options("CID_BAD"));
    ASSERT_TRUE(consumer.Subscribe("Orders").ok());
    EXPECT_TRUE(consumer.Start().IsInvalidArgument());  // no listener
  }
  {
    PushConsumer consumer(Options("CID_BAD"));
    consumer.RegisterListener(
        [](const std::vector<ReceivedMessage>&) { return ConsumeStatus::kSuccess; });
    EXPECT_TRUE(consumer.Start().IsInvalidArgument());  // no subscription
    EXPECT_TRUE(consumer.Subscribe("", "*").IsInvalidArgument());
    EXPECT_TRUE(consumer.Subscribe("Orders", " || ").IsInvalidArgument());
    EXPECT_TRUE(consumer.Subscribe("Orders", "a > 1").ok());  // a tag named "a > 1"
  }
  {
    PushConsumerOptions options = Options("CID_BAD");
    options.namesrv_addr = DeadAddress();
    PushConsumer consumer(options);
    ASSERT_TRUE(consumer.Subscribe("Orders").ok());
    consumer.RegisterListener(
        [](const std::vector<ReceivedMessage>&) { return ConsumeStatus::kSuccess; });
    Status started = consumer.Start();
    EXPECT_TRUE(started.IsIOError()) << started.ToString();
  }
  {
    // A broadcasting offset file that is not this group's is not silently overwritten.
    PushConsumerOptions options = Options("CID_BAD");
    options.message_model = MessageModel::kBroadcasting;
    options.local_offset_path = dir_.path() + "/foreign.json";
    LocalOffsetStore foreign(mqstore::Env::Default(), options.local_offset_path, "CID_OTHER");
    ASSERT_TRUE(foreign.Save({}).ok());
    PushConsumer consumer(options);
    ASSERT_TRUE(consumer.Subscribe("Orders").ok());
    consumer.RegisterListener(
        [](const std::vector<ReceivedMessage>&) { return ConsumeStatus::kSuccess; });
    EXPECT_TRUE(consumer.Start().IsCorruption());
  }
}

TEST_F(PushConsumerTest, ATopicCreatedAfterStartIsConsumedOnceItsRouteAppears) {
  PushConsumerOptions options = Options("CID_LATE");
  options.route_refresh_interval = 200ms;
  Received received;
  auto consumer = StartConsumer(options, "Late", &received);
  EXPECT_TRUE(consumer->Stats().assigned_queues.empty());
  CreateTopic("Late", 2);
  SendMany("Late", "m", 10);
  ASSERT_TRUE(received.AwaitCount(10));
  consumer->Shutdown();
  EXPECT_EQ(received.times().size(), 10u);
}

}  // namespace
}  // namespace mqclient

namespace mqclient {
namespace {

// ---- Offset resets (RESET_CONSUMER_CLIENT_OFFSET) ----

TEST_F(PushConsumerTest, AnAdminResetThroughTheBrokerRedeliversEverythingToTheRunningMember) {
  CreateTopic("Orders", 2);
  const int64_t before_first = NowMs() - 1000;
  SendMany("Orders", "m", 20);
  Received received;
  auto consumer = StartConsumer(Options("CID_RESET"), "Orders", &received);
  ASSERT_TRUE(received.AwaitCount(20));

  // INVOKE_BROKER_TO_RESET_OFFSET, as mqadmin resetOffsetByTime sends it: the broker commits
  // the offsets of that time and tells every member of the group.
  auto admin = mqremoting::RemotingClient::Create(mqremoting::ClientOptions{});
  mqremoting::RemotingCommand request =
      mqremoting::RemotingCommand::Request(mqremoting::request_code::kInvokeBrokerToResetOffset);
  request.SetExt("topic", "Orders");
  request.SetExt("group", "CID_RESET");
  request.SetExt("timestamp", before_first);
  request.SetExt("isForce", true);
  Result<mqremoting::RemotingCommand> response =
      admin->InvokeSync(broker_addr_, std::move(request), 5s);
  admin->Shutdown();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->code, mqremoting::response_code::kSuccess) << response->remark.value_or("");

  ASSERT_TRUE(received.AwaitCount(40));
  std::this_thread::sleep_for(300ms);  // anything more would have arrived with these
  consumer->Shutdown();
  std::map<std::string, int> times = received.times();
  ASSERT_EQ(times.size(), 20u);
  for (const auto& [body, n] : times) EXPECT_EQ(n, 2) << body;
  EXPECT_EQ(ExpectCommittedAtMax("CID_RESET", "Orders"), 20);
}

TEST_F(PushConsumerTest, AResetRequestRestartsTheQueuesHeldFromTheNewOffsets) {
  CreateTopic("Orders", 2);
  SendMany("Orders", "m", 20);  // ten per queue
  Received received;
  auto consumer = StartConsumer(Options("CID_RESET_DIRECT"), "Orders", &received);
  ASSERT_TRUE(received.AwaitCount(20));
  const MessageQueue q0{"Orders", broker_name_, 0};
  const MessageQueue q1{"Orders", broker_name_, 1};
  auto connection = std::make_shared<CapturingConnection>();

  // Requests that must change nothing: another group's, a malformed one, and a queue this
  // member does not hold (the broker has committed it; nothing to do here).
  consumer->HandleBrokerRequestForTesting(connection,
                                          ResetRequest("Orders", "CID_OTHER", {{q0, 0}}));
  mqremoting::RemotingCommand malformed = ResetRequest("Orders", "CID_RESET_DIRECT", {{q0, 0}});
  malformed.body = "{not json";
  consumer->HandleBrokerRequestForTesting(connection, std::move(malformed));
  consumer->HandleBrokerRequestForTesting(
      connection,
      ResetRequest("Orders", "CID_RESET_DIRECT", {{{"Orders", "no-such-broker", 0}, 0}}));
  std::vector<mqremoting::RemotingCommand> answers = connection->sent();
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0].code, mqremoting::response_code::kSuccess);
  EXPECT_EQ(answers[0].opaque, 42);
  EXPECT_TRUE(answers[0].is_response());
  EXPECT_EQ(answers[1].code, mqremoting::response_code::kSystemError);
  EXPECT_EQ(answers[2].code, mqremoting::response_code::kSuccess);

  // Queue 0 back to 3 (oneway, as a broker sends it: no answer), queue 1 left alone.
  mqremoting::RemotingCommand reset = ResetRequest("Orders", "CID_RESET_DIRECT", {{q0, 3}});
  reset.flag |= mqremoting::flag::kOneway;
  consumer->HandleBrokerRequestForTesting(connection, std::move(reset));
  EXPECT_EQ(connection->sent().size(), 3u);
  ASSERT_TRUE(received.AwaitCount(27));
  std::this_thread::sleep_for(300ms);
  consumer->Shutdown();
  std::vector<ReceivedMessage> messages = received.messages();
  ASSERT_EQ(messages.size(), 27u);
  std::map<std::pair<int, int64_t>, int> deliveries;  // (queue, offset) -> times
  for (const ReceivedMessage& m : messages) ++deliveries[{m.queue_id, m.queue_offset}];
  for (const auto& [at, n] : deliveries) {
    const bool again = at.first == 0 && at.second >= 3;
    EXPECT_EQ(n, again ? 2 : 1) << "queue " << at.first << " offset " << at.second;
  }
  EXPECT_EQ(ExpectCommittedAtMax("CID_RESET_DIRECT", "Orders"), 20);
}

TEST_F(PushConsumerTest, AListenerCallRunningAcrossAResetDoesNotCommitOverIt) {
  CreateTopic("Orders", 1);
  SendMany("Orders", "m", 6);  // offsets 0..5
  PushConsumerOptions options = Options("CID_RESET_RUNNING");
  options.persist_offset_interval = 50ms;
  Gate first_m5, second_m3;
  std::mutex mu;
  std::map<std::string, int> seen;
  Received received;
  auto consumer = std::make_unique<PushConsumer>(options);
  OpenOnExit open_first{&first_m5};
  OpenOnExit open_second{&second_m3};
  ASSERT_TRUE(consumer->Subscribe("Orders").ok());
  consumer->RegisterListener([&](const std::vector<ReceivedMessage>& messages) {
    for (const ReceivedMessage& m : messages) {
      int n;
      {
        std::lock_guard<std::mutex> lock(mu);
        n = ++seen[m.body];
      }
      received.Add(m);
      if (m.body == "m5" && n == 1) first_m5.Wait();
      if (m.body == "m3" && n == 2) second_m3.Wait();
    }
    return ConsumeStatus::kSuccess;
  });
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(received.AwaitCount(6));  // m0..m4 done, m5's call held

  // Back to 2 while m5's first call runs: 2..5 come again, and m3's second call is held.
  const MessageQueue queue{"Orders", broker_name_, 0};
  auto connection = std::make_shared<CapturingConnection>();
  consumer->HandleBrokerRequestForTesting(
      connection, ResetRequest("Orders", "CID_RESET_RUNNING", {{queue, 2}}));
  ASSERT_TRUE(received.AwaitCount(10));
  std::unique_ptr<PullConsumer> reader = Reader("CID_RESET_RUNNING");
  ASSERT_TRUE(Eventually([&] { return Committed(*reader, queue) == 3; }));

  // m5's first call ends now. It must not move the offset past m3, whose call still runs.
  first_m5.Open();
  std::this_thread::sleep_for(500ms);  // ten commit intervals
  EXPECT_EQ(Committed(*reader, queue), 3);

  second_m3.Open();
  ASSERT_TRUE(Eventually([&] { return Committed(*reader, queue) == 6; }));
  consumer->Shutdown();
  std::map<std::string, int> times = received.times();
  EXPECT_EQ(times, (std::map<std::string, int>{
                       {"m0", 1}, {"m1", 1}, {"m2", 2}, {"m3", 2}, {"m4", 2}, {"m5", 2}}));
}

TEST_F(PushConsumerTest, ABroadcastingMemberAppliesAResetToItsOffsetFile) {
  CreateTopic("News", 1);
  SendMany("News", "m", 5);
  PushConsumerOptions options = Options("CID_CAST_RESET");
  options.message_model = MessageModel::kBroadcasting;
  options.local_offset_path = dir_.path() + "/reset/offsets.json";
  Received received;
  auto consumer = StartConsumer(options, "News", &received);
  ASSERT_TRUE(received.AwaitCount(5));
  auto connection = std::make_shared<CapturingConnection>();
  consumer->HandleBrokerRequestForTesting(
      connection, ResetRequest("News", "CID_CAST_RESET", {{{"News", broker_name_, 0}, 1}}));
  ASSERT_TRUE(received.AwaitCount(9));
  std::this_thread::sleep_for(300ms);
  consumer->Shutdown();
  std::map<std::string, int> times = received.times();
  EXPECT_EQ(times,
            (std::map<std::string, int>{{"m0", 1}, {"m1", 2}, {"m2", 2}, {"m3", 2}, {"m4", 2}}));
  LocalOffsetStore file(mqstore::Env::Default(), options.local_offset_path, "CID_CAST_RESET");
  Result<OffsetTable> saved = file.Load();
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(saved->at(MessageQueue{"News", broker_name_, 0}), 5);
}

TEST_F(OrderlyPushConsumerTest, AResetQueueIsConsumedAgainInOrderFromTheNewOffset) {
  CreateTopic("Ordered", 1);
  SendToEachQueue("Ordered", 1, 10);
  OrderlyLog log;
  auto consumer = StartOrderly(Options("CID_ORDERLY_RESET"), "Ordered", &log, "a");
  ASSERT_TRUE(log.AwaitTotal(10));
  auto connection = std::make_shared<CapturingConnection>();
  consumer->HandleBrokerRequestForTesting(
      connection,
      ResetRequest("Ordered", "CID_ORDERLY_RESET", {{{"Ordered", broker_name_, 0}, 4}}));
  ASSERT_TRUE(log.AwaitTotal(16));
  std::this_thread::sleep_for(300ms);
  consumer->Shutdown();
  EXPECT_TRUE(log.overlaps().empty()) << log.overlaps().front();
  std::map<int, std::vector<OrderlyLog::Delivery>> deliveries = log.deliveries();
  std::vector<int64_t> offsets;
  for (const OrderlyLog::Delivery& d : deliveries[0]) offsets.push_back(d.offset);
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(ExpectCommittedAtMax("CID_ORDERLY_RESET", "Ordered"), 10);
}

TEST_F(OrderlyPushConsumerTest, AfterAResetNoCallStartsOnTheQueueWhileOneFromBeforeRuns) {
  CreateTopic("Ordered", 1);
  SendToEachQueue("Ordered", 1, 10);
  PushConsumerOptions options = Options("CID_ORDERLY_RESET_RUNNING");
  options.persist_offset_interval = 50ms;
  Gate first_9;
  std::mutex mu;
  bool inside = false;
  std::vector<std::string> overlaps;
  std::map<int64_t, int> seen;  // offset -> deliveries
  Received received;
  auto consumer = std::make_unique<PushConsumer>(options);
  OpenOnExit open{&first_9};
  ASSERT_TRUE(consumer->Subscribe("Ordered").ok());
  consumer->RegisterOrderlyListener([&](const std::vector<ReceivedMessage>& batch) {
    int n;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (inside) overlaps.push_back("offset " + std::to_string(batch.front().queue_offset));
      inside = true;
      n = ++seen[batch.front().queue_offset];
    }
    for (const ReceivedMessage& m : batch) received.Add(m);
    if (batch.front().queue_offset == 9 && n == 1) first_9.Wait();
    std::lock_guard<std::mutex> lock(mu);
    inside = false;
    return OrderlyConsumeStatus::kSuccess;
  });
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(received.AwaitCount(10));  // 0..8 done, 9's call held

  // Back to 4 while 9's call runs: the queue's new calls wait for it to end.
  const MessageQueue queue{"Ordered", broker_name_, 0};
  auto connection = std::make_shared<CapturingConnection>();
  consumer->HandleBrokerRequestForTesting(
      connection, ResetRequest("Ordered", "CID_ORDERLY_RESET_RUNNING", {{queue, 4}}));
  std::unique_ptr<PullConsumer> reader = Reader("CID_ORDERLY_RESET_RUNNING");
  ASSERT_TRUE(Eventually([&] { return Committed(*reader, queue) == 4; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(received.count(), 10u);  // nothing started meanwhile
  first_9.Open();
  ASSERT_TRUE(received.AwaitCount(16));
  ASSERT_TRUE(Eventually([&] { return Committed(*reader, queue) == 10; }));
  consumer->Shutdown();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(overlaps.empty()) << overlaps.front();
  std::vector<int64_t> offsets;
  for (const ReceivedMessage& m : received.messages()) offsets.push_back(m.queue_offset);
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 4, 5, 6, 7, 8, 9}));
}

// ---- Consume timeout ----

TEST_F(PushConsumerTest, AListenerCallPastTheConsumeTimeoutIsRetriedAndNoLongerHoldsTheOffset) {
  CreateTopic("Slow", 1);
  Send("Slow", "stuck");
  PushConsumerOptions options = Options("CID_TIMEOUT");
  options.consume_timeout = 200ms;
  options.consume_timeout_check_interval = 50ms;
  options.persist_offset_interval = 50ms;
  Gate release;
  Received received;
  auto consumer = std::make_unique<PushConsumer>(options);
  OpenOnExit open{&release};
  ASSERT_TRUE(consumer->Subscribe("Slow").ok());
  consumer->RegisterListener([&](const std::vector<ReceivedMessage>& messages) {
    for (const ReceivedMessage& m : messages) received.Add(m);
    if (messages.front().reconsume_times > 0) return ConsumeStatus::kSuccess;
    // The first delivery outlives the timeout, then fails: it must not be sent back again.
    release.Wait();
    return ConsumeStatus::kReconsumeLater;
  });
  ASSERT_TRUE(consumer->Start().ok());

  // It comes again through the retry topic while the first call is still held, and the
  // queue's offset moves past it.
  ASSERT_TRUE(received.AwaitCount(2));
  std::vector<ReceivedMessage> messages = received.messages();
  EXPECT_EQ(messages[1].body, "stuck");
  EXPECT_EQ(messages[1].topic, "Slow");
  EXPECT_EQ(messages[1].reconsume_times, 1);
  std::unique_ptr<PullConsumer> reader = Reader("CID_TIMEOUT");
  const MessageQueue queue{"Slow", broker_name_, 0};
  EXPECT_TRUE(Eventually([&] { return Committed(*reader, queue) == 1; }));

  release.Open();
  consumer->Shutdown();  // waits for the released call and whatever it does
  EXPECT_EQ(received.count(), 2u);
  EXPECT_EQ(Committed(*reader, queue), 1);
  // One send-back (delay level 3: SCHEDULE_TOPIC_XXXX queue 2), not a second one when the
  // held call failed.
  AwaitDispatched();
  Result<mqstore::QueueBounds> scheduled =
      broker_->store()->GetQueueBounds("SCHEDULE_TOPIC_XXXX", 2);
  ASSERT_TRUE(scheduled.ok()) << scheduled.status().ToString();
  EXPECT_EQ(scheduled->max_offset, 1);
}

}  // namespace
}  // namespace mqclient
