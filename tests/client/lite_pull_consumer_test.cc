// LitePullConsumer against an in-process name server and broker: assigned queues polled in
// order and once, members of a subscribed group splitting the queues and one taking over a
// leaving member's without re-receiving what was committed, tag filtering, seeks (offset,
// begin, end, timestamp) never letting a message from before the seek through, explicit and
// automatic commits, pause and resume, subscribing and unsubscribing before and after Start,
// broadcasting members each polling everything and resuming from their offset files, and the
// statuses of bad calls.
#include "mqclient/lite_pull_consumer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster_fixture.h"
#include "local_offset_store.h"
#include "mqclient/admin.h"
#include "mqclient/producer.h"
#include "mqstore/env.h"
#include "support/test_util.h"

namespace mqclient {
namespace {

using namespace std::chrono_literals;

constexpr auto kDeadline = 20s;

// Polls `condition` every 10 ms for up to 20 s.
bool Eventually(const std::function<bool()>& condition) {
  return mqstore::test::WaitUntil(condition, kDeadline);
}

// Messages of one queue by offset; every message once.
std::map<MessageQueue, std::vector<int64_t>> OffsetsByQueue(
    const std::vector<ReceivedMessage>& messages, const std::string& broker_name) {
  std::map<MessageQueue, std::vector<int64_t>> by_queue;
  for (const ReceivedMessage& m : messages) {
    by_queue[{m.topic, broker_name, m.queue_id}].push_back(m.queue_offset);
  }
  return by_queue;
}

std::map<std::string, int> CountBodies(const std::vector<ReceivedMessage>& messages) {
  std::map<std::string, int> times;
  for (const ReceivedMessage& m : messages) ++times[m.body];
  return times;
}

class LitePullConsumerTest : public ClusterFixture {
 protected:
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

  LitePullConsumerOptions Options(const std::string& group) const {
    LitePullConsumerOptions options;
    options.namesrv_addr = namesrv_addr_;
    options.group = group;
    options.consume_from_where = ConsumeFromWhere::kFirstOffset;
    // Only the broker's notification (or Start) rebalances in these tests.
    options.rebalance_interval = std::chrono::hours(1);
    // Held pulls are aborted at Shutdown anyway; this bounds one racing with a seek.
    options.broker_suspend_max = 2s;
    options.long_poll_timeout_margin = 3s;
    options.pull_delay_on_error = 200ms;
    return options;
  }

  MessageQueue Queue(const std::string& topic, int32_t id) const {
    return {topic, broker_name_, id};
  }
  std::vector<MessageQueue> Queues(const std::string& topic, int n) const {
    std::vector<MessageQueue> queues;
    for (int i = 0; i < n; ++i) queues.push_back(Queue(topic, i));
    return queues;
  }

  // Sends to `queue`; returns the queue offset it got.
  int64_t SendTo(const MessageQueue& queue, const std::string& body, const std::string& tags = "") {
    Message message;
    message.topic = queue.topic;
    message.body = body;
    message.tags = tags;
    Result<SendResult> sent = producer_->SendToQueue(message, queue);
    EXPECT_TRUE(sent.ok()) << sent.status().ToString();
    return sent.ok() ? sent->queue_offset : -1;
  }
  void SendMany(const std::string& topic, const std::string& prefix, int n,
                const std::string& tags = "") {
    for (int i = 0; i < n; ++i) {
      Message message;
      message.topic = topic;
      message.body = prefix + std::to_string(i);
      message.tags = tags;
      Result<SendResult> sent = producer_->Send(message);
      ASSERT_TRUE(sent.ok()) << sent.status().ToString();
    }
  }

  std::unique_ptr<LitePullConsumer> StartAssigned(LitePullConsumerOptions options,
                                                  std::vector<MessageQueue> queues) {
    auto consumer = std::make_unique<LitePullConsumer>(std::move(options));
    EXPECT_TRUE(consumer->Assign(std::move(queues)).ok());
    Status started = consumer->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return consumer;
  }
  std::unique_ptr<LitePullConsumer> StartSubscribed(LitePullConsumerOptions options,
                                                    const std::string& topic,
                                                    const std::string& expression = "*") {
    auto consumer = std::make_unique<LitePullConsumer>(std::move(options));
    EXPECT_TRUE(consumer->Subscribe(topic, expression).ok());
    Status started = consumer->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return consumer;
  }

  // Polls until `n` messages came in all (appended to *out) or 20 s passed. Every Poll
  // answers at most pull_batch_size messages.
  static bool PollUntil(LitePullConsumer* consumer, size_t n, std::vector<ReceivedMessage>* out,
                        size_t batch = 10) {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (out->size() < n && std::chrono::steady_clock::now() < deadline) {
      Result<std::vector<ReceivedMessage>> polled = consumer->Poll(100ms);
      EXPECT_TRUE(polled.ok()) << polled.status().ToString();
      if (!polled.ok()) return false;
      EXPECT_LE(polled->size(), batch);
      for (ReceivedMessage& m : *polled) out->push_back(std::move(m));
    }
    return out->size() >= n;
  }
  // What Poll answers during `window` (the tests expect nothing).
  static std::vector<ReceivedMessage> PollFor(LitePullConsumer* consumer,
                                              std::chrono::milliseconds window) {
    std::vector<ReceivedMessage> out;
    const auto until = std::chrono::steady_clock::now() + window;
    while (std::chrono::steady_clock::now() < until) {
      Result<std::vector<ReceivedMessage>> polled = consumer->Poll(50ms);
      EXPECT_TRUE(polled.ok()) << polled.status().ToString();
      if (!polled.ok()) break;
      for (ReceivedMessage& m : *polled) out.push_back(std::move(m));
    }
    return out;
  }

  // The topics the broker has in `group`'s subscriptions (the heartbeats' union), or an
  // error (kNotFound once no member is left).
  Result<std::set<std::string>> GroupTopics(const std::string& group) const {
    Admin admin(namesrv_addr_);
    MQ_ASSIGN_OR_RETURN(mqremoting::ConsumerConnection members, admin.ConsumerConnection(group));
    std::set<std::string> topics;
    for (const auto& subscription : members.subscriptions) topics.insert(subscription.topic);
    return topics;
  }

  std::unique_ptr<Producer> producer_;
};

std::vector<MessageQueue> Sorted(std::vector<MessageQueue> queues) {
  std::sort(queues.begin(), queues.end());
  return queues;
}

TEST_F(LitePullConsumerTest, AssignedQueuesDeliverEveryMessageOnceInQueueOrder) {
  CreateTopic("Orders", 4);
  SendMany("Orders", "m", 100);
  auto consumer = StartAssigned(Options("CID_ASSIGN"), Queues("Orders", 4));
  EXPECT_EQ(consumer->Assignment(), Queues("Orders", 4));
  std::vector<ReceivedMessage> received;
  ASSERT_TRUE(PollUntil(consumer.get(), 100, &received));
  EXPECT_TRUE(PollFor(consumer.get(), 300ms).empty());
  consumer->Shutdown();

  std::map<std::string, int> times = CountBodies(received);
  ASSERT_EQ(times.size(), 100u);
  for (const auto& [body, n] : times) EXPECT_EQ(n, 1) << body;
  // Each queue from 0 up, no gap, no repeat.
  auto by_queue = OffsetsByQueue(received, broker_name_);
  EXPECT_EQ(by_queue.size(), 4u);
  for (const auto& [queue, offsets] : by_queue) {
    for (size_t i = 0; i < offsets.size(); ++i) {
      EXPECT_EQ(offsets[i], static_cast<int64_t>(i)) << queue.ToString();
    }
  }
}

TEST_F(LitePullConsumerTest, FlowControlHoldsThePullsBackWithoutLosingOrRepeatingAnything) {
  CreateTopic("Orders", 4);
  SendMany("Orders", "m", 200);
  LitePullConsumerOptions options = Options("CID_FLOW");
  options.pull_batch_size = 3;
  options.pull_threshold_for_queue = 4;
  options.pull_threshold_for_all = 6;
  options.consume_max_span = 5;
  options.pull_delay_on_flow_control = 5ms;
  auto consumer = StartAssigned(options, Queues("Orders", 4));
  std::vector<ReceivedMessage> received;
  ASSERT_TRUE(PollUntil(consumer.get(), 200, &received, /*batch=*/3));
  EXPECT_TRUE(PollFor(consumer.get(), 300ms).empty());
  consumer->Shutdown();
  std::map<std::string, int> times = CountBodies(received);
  ASSERT_EQ(times.size(), 200u);
  for (const auto& [queue, offsets] : OffsetsByQueue(received, broker_name_)) {
    for (size_t i = 0; i < offsets.size(); ++i) {
      EXPECT_EQ(offsets[i], static_cast<int64_t>(i)) << queue.ToString();
    }
  }
}

TEST_F(LitePullConsumerTest, TwoMembersSplitTheQueuesAndTheSurvivorTakesOverWithoutRepeats) {
  CreateTopic("Orders", 8);
  auto a = StartSubscribed(Options("CID_SPLIT"), "Orders");
  auto b = StartSubscribed(Options("CID_SPLIT"), "Orders");
  // B's heartbeat makes the broker notify A, which gives up half of its queues.
  auto split = [&] {
    std::vector<MessageQueue> qa = a->Assignment();
    std::vector<MessageQueue> qb = b->Assignment();
    std::vector<MessageQueue> both;
    std::set_intersection(qa.begin(), qa.end(), qb.begin(), qb.end(), std::back_inserter(both));
    return qa.size() == 4 && qb.size() == 4 && both.empty();
  };
  ASSERT_TRUE(Eventually(split)) << a->Assignment().size() << " + " << b->Assignment().size();

  SendMany("Orders", "m", 200);
  std::vector<ReceivedMessage> a_received, b_received;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (a_received.size() + b_received.size() < 200 &&
         std::chrono::steady_clock::now() < deadline) {
    for (auto [consumer, out] :
         {std::pair{a.get(), &a_received}, std::pair{b.get(), &b_received}}) {
      Result<std::vector<ReceivedMessage>> polled = consumer->Poll(20ms);
      ASSERT_TRUE(polled.ok());
      out->insert(out->end(), polled->begin(), polled->end());
    }
  }
  ASSERT_EQ(a_received.size() + b_received.size(), 200u);
  EXPECT_GT(a_received.size(), 0u);
  EXPECT_GT(b_received.size(), 0u);
  std::vector<ReceivedMessage> all = a_received;
  all.insert(all.end(), b_received.begin(), b_received.end());
  std::map<std::string, int> times = CountBodies(all);
  ASSERT_EQ(times.size(), 200u);
  for (const auto& [body, n] : times) EXPECT_EQ(n, 1) << body;

  // A leaves: it commits what it polled, unregisters, and B is told to take everything.
  a->Shutdown();
  ASSERT_TRUE(Eventually([&] { return b->Assignment() == Queues("Orders", 8); }));
  // Nothing A polled comes again.
  std::vector<ReceivedMessage> repeated = PollFor(b.get(), 500ms);
  EXPECT_TRUE(repeated.empty()) << repeated.size() << " repeated, e.g. " << repeated[0].body;
  // New messages on every queue, A's former ones included, reach B once.
  SendMany("Orders", "n", 80);
  std::vector<ReceivedMessage> after;
  ASSERT_TRUE(PollUntil(b.get(), 80, &after));
  EXPECT_TRUE(PollFor(b.get(), 300ms).empty());
  times = CountBodies(after);
  ASSERT_EQ(times.size(), 80u);
  for (const auto& [body, n] : times) {
    EXPECT_EQ(body.rfind("n", 0), 0u) << body;
    EXPECT_EQ(n, 1) << body;
  }
  EXPECT_EQ(OffsetsByQueue(after, broker_name_).size(), 8u);
  b->Shutdown();
}

TEST_F(LitePullConsumerTest, ATagSubscriptionPollsOnlyItsTagsAndSkippedOnesCountAsConsumed) {
  CreateTopic("Tagged", 2);
  // Each queue: TagA, TagB, TagC, untagged, TagA, ... (20 messages, 10 wanted, the last one
  // not).
  const char* tags[] = {"TagA", "TagB", "TagC", ""};
  for (int i = 0; i < 40; ++i) {
    SendTo(Queue("Tagged", i % 2), "t" + std::to_string(i), tags[(i / 2) % 4]);
  }
  LitePullConsumerOptions options = Options("CID_TAGS");
  options.auto_commit = false;
  auto consumer = StartSubscribed(options, "Tagged", "TagA || TagC");
  std::vector<ReceivedMessage> received;
  ASSERT_TRUE(PollUntil(consumer.get(), 20, &received));
  EXPECT_TRUE(PollFor(consumer.get(), 300ms).empty());
  EXPECT_EQ(received.size(), 20u);
  for (const ReceivedMessage& m : received) {
    EXPECT_TRUE(m.tags == "TagA" || m.tags == "TagC") << m.body << " tags=" << m.tags;
  }
  // The last messages of each queue were filtered out: they count as consumed all the same.
  for (const MessageQueue& queue : Queues("Tagged", 2)) {
    ASSERT_TRUE(Eventually([&] {
      EXPECT_TRUE(consumer->CommitSync().ok());
      Result<int64_t> committed = consumer->Committed(queue);
      return committed.ok() && *committed == 20;
    })) << queue.ToString();
  }
  consumer->Shutdown();
}

TEST_F(LitePullConsumerTest, SeekNeverLetsAMessageFromBeforeTheSeekThrough) {
  CreateTopic("Seek", 1);
  const MessageQueue queue = Queue("Seek", 0);
  SendMany("Seek", "m", 300);
  AwaitDispatched();
  LitePullConsumerOptions options = Options("CID_SEEK");
  options.auto_commit = false;
  auto consumer = StartAssigned(options, {queue});
  // Let the buffer fill, then jump around: the first message after every seek is the target.
  // The pulls run ahead of the Polls (10 per Poll, up to 1,000 buffered): each seek finds
  // a buffer of messages from before it to drop.
  std::vector<ReceivedMessage> first;
  ASSERT_TRUE(PollUntil(consumer.get(), 1, &first));
  EXPECT_EQ(first.front().queue_offset, 0);
  const int64_t targets[] = {250, 3, 120, 299, 0, 42, 42, 200, 7, 150};
  for (int64_t target : targets) {
    ASSERT_TRUE(consumer->Seek(queue, target).ok()) << target;
    std::vector<ReceivedMessage> got;
    ASSERT_TRUE(PollUntil(consumer.get(), 1, &got)) << target;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].queue_offset, target + static_cast<int64_t>(i))
          << "after seek to " << target;
    }
  }
  // To the end: nothing old, then exactly what is sent later.
  ASSERT_TRUE(consumer->SeekToEnd(queue).ok());
  EXPECT_TRUE(PollFor(consumer.get(), 300ms).empty());
  SendMany("Seek", "late", 5);
  std::vector<ReceivedMessage> late;
  ASSERT_TRUE(PollUntil(consumer.get(), 5, &late));
  ASSERT_EQ(late.size(), 5u);
  for (size_t i = 0; i < late.size(); ++i) {
    EXPECT_EQ(late[i].queue_offset, 300 + static_cast<int64_t>(i));
    EXPECT_EQ(late[i].body, "late" + std::to_string(i));
  }
  // To the beginning: everything again, in order.
  ASSERT_TRUE(consumer->SeekToBegin(queue).ok());
  std::vector<ReceivedMessage> again;
  ASSERT_TRUE(PollUntil(consumer.get(), 305, &again));
  ASSERT_EQ(again.size(), 305u);
  for (size_t i = 0; i < again.size(); ++i) {
    ASSERT_EQ(again[i].queue_offset, static_cast<int64_t>(i));
  }
  // The consumed offset follows the seek (committed like any other).
  ASSERT_TRUE(consumer->Seek(queue, 100).ok());
  ASSERT_TRUE(consumer->CommitSync().ok());
  Result<int64_t> committed = consumer->Committed(queue);
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(*committed, 100);
  consumer->Shutdown();
}

TEST_F(LitePullConsumerTest, SeekToATimestamp) {
  CreateTopic("Times", 1);
  const MessageQueue queue = Queue("Times", 0);
  SendMany("Times", "m", 60);
  AwaitDispatched();
  auto consumer = StartAssigned(Options("CID_TIMES"), {queue});
  std::vector<ReceivedMessage> all;
  ASSERT_TRUE(PollUntil(consumer.get(), 60, &all));
  // The store time of message 40: the search answers the first message stored at or after
  // it, which is 40 or an earlier one stored in the same millisecond.
  const int64_t timestamp = all[40].store_timestamp_ms;
  Result<int64_t> offset = consumer->OffsetForTimestamp(queue, timestamp);
  ASSERT_TRUE(offset.ok()) << offset.status().ToString();
  ASSERT_LE(*offset, 40);
  ASSERT_GE(*offset, 0);
  EXPECT_GE(all[*offset].store_timestamp_ms, timestamp);
  if (*offset > 0) {
    EXPECT_LT(all[*offset - 1].store_timestamp_ms, timestamp);
  }
  ASSERT_TRUE(consumer->Seek(queue, *offset).ok());
  std::vector<ReceivedMessage> rewound;
  ASSERT_TRUE(PollUntil(consumer.get(), static_cast<size_t>(60 - *offset), &rewound));
  EXPECT_TRUE(PollFor(consumer.get(), 300ms).empty());
  ASSERT_EQ(rewound.size(), static_cast<size_t>(60 - *offset));
  for (size_t i = 0; i < rewound.size(); ++i) {
    EXPECT_EQ(rewound[i].queue_offset, *offset + static_cast<int64_t>(i));
  }
  // A time after every message: the end.
  Result<int64_t> end = consumer->OffsetForTimestamp(queue, all.back().store_timestamp_ms + 60000);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(*end, 60);
  consumer->Shutdown();
}

TEST_F(LitePullConsumerTest, CommitSyncLetsTheNextMemberResumeAfterIt) {
  CreateTopic("Orders", 2);
  SendMany("Orders", "m", 50);
  LitePullConsumerOptions options = Options("CID_COMMIT");
  options.auto_commit = false;
  std::vector<ReceivedMessage> first;
  {
    auto consumer = StartSubscribed(options, "Orders");
    ASSERT_TRUE(PollUntil(consumer.get(), 30, &first));
    ASSERT_TRUE(consumer->CommitSync().ok());
    consumer->Shutdown();  // no auto commit: the CommitSync stands
  }
  ASSERT_LT(first.size(), 50u);
  options.auto_commit = true;
  auto consumer = StartSubscribed(options, "Orders");
  std::vector<ReceivedMessage> rest;
  ASSERT_TRUE(PollUntil(consumer.get(), 50 - first.size(), &rest));
  EXPECT_TRUE(PollFor(consumer.get(), 300ms).empty());
  std::vector<ReceivedMessage> all = first;
  all.insert(all.end(), rest.begin(), rest.end());
  std::map<std::string, int> times = CountBodies(all);
  ASSERT_EQ(times.size(), 50u);
  for (const auto& [body, n] : times) EXPECT_EQ(n, 1) << body;

  // An explicit commit of one queue.
  const MessageQueue queue = Queue("Orders", 1);
  ASSERT_TRUE(consumer->Commit(queue, 3).ok());
  Result<int64_t> committed = consumer->Committed(queue);
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(*committed, 3);
  consumer->Shutdown();
}

TEST_F(LitePullConsumerTest, AutoCommitCommitsAtShutdownAndAfterLaterPolls) {
  CreateTopic("Orders", 2);
  SendMany("Orders", "m", 20);
  {
    LitePullConsumerOptions options = Options("CID_AUTO");
    options.auto_commit_interval = std::chrono::hours(1);  // only Shutdown commits
    auto consumer = StartSubscribed(options, "Orders");
    std::vector<ReceivedMessage> received;
    ASSERT_TRUE(PollUntil(consumer.get(), 20, &received));
    for (const MessageQueue& queue : Queues("Orders", 2)) {
      EXPECT_TRUE(consumer->Committed(queue).status().IsNotFound()) << queue.ToString();
    }
    consumer->Shutdown();
  }
  {
    // Short interval: a Poll after it commits what the earlier Polls returned.
    LitePullConsumerOptions options = Options("CID_AUTO");
    options.auto_commit_interval = 100ms;
    auto consumer = StartSubscribed(options, "Orders");
    // The first one's Shutdown committed everything it polled.
    int64_t committed_total = 0;
    for (const MessageQueue& queue : Queues("Orders", 2)) {
      Result<int64_t> committed = consumer->Committed(queue);
      ASSERT_TRUE(committed.ok()) << committed.status().ToString();
      committed_total += *committed;
    }
    EXPECT_EQ(committed_total, 20);
    EXPECT_TRUE(PollFor(consumer.get(), 300ms).empty());  // resumed after the commit
    SendMany("Orders", "n", 10);
    std::vector<ReceivedMessage> received;
    ASSERT_TRUE(PollUntil(consumer.get(), 10, &received));
    ASSERT_TRUE(Eventually([&] {
      (void)consumer->Poll(10ms);
      Result<int64_t> q0 = consumer->Committed(Queue("Orders", 0));
      Result<int64_t> q1 = consumer->Committed(Queue("Orders", 1));
      return q0.ok() && q1.ok() && *q0 + *q1 == 30;
    }));
    consumer->Shutdown();
  }
}

TEST_F(LitePullConsumerTest, APausedQueueIsNeitherPulledNorPolledUntilResumed) {
  CreateTopic("Paused", 2);
  const MessageQueue q0 = Queue("Paused", 0);
  const MessageQueue q1 = Queue("Paused", 1);
  auto consumer = StartAssigned(Options("CID_PAUSE"), {q0, q1});
  consumer->Pause({q0});
  for (int i = 0; i < 10; ++i) {
    SendTo(q0, "p" + std::to_string(i));
    SendTo(q1, "r" + std::to_string(i));
  }
  std::vector<ReceivedMessage> received;
  ASSERT_TRUE(PollUntil(consumer.get(), 10, &received));
  std::vector<ReceivedMessage> more = PollFor(consumer.get(), 300ms);
  received.insert(received.end(), more.begin(), more.end());
  ASSERT_EQ(received.size(), 10u);
  for (const ReceivedMessage& m : received) EXPECT_EQ(m.queue_id, 1) << m.body;

  consumer->Resume({q0});
  std::vector<ReceivedMessage> resumed;
  ASSERT_TRUE(PollUntil(consumer.get(), 10, &resumed));
  EXPECT_TRUE(PollFor(consumer.get(), 300ms).empty());
  ASSERT_EQ(resumed.size(), 10u);
  for (size_t i = 0; i < resumed.size(); ++i) {
    EXPECT_EQ(resumed[i].queue_id, 0);
    EXPECT_EQ(resumed[i].body, "p" + std::to_string(i));
  }
  consumer->Shutdown();
}

TEST_F(LitePullConsumerTest, ATopicCreatedAfterStartIsPolledOnceItsRouteAppears) {
  LitePullConsumerOptions options = Options("CID_LATE");
  options.route_refresh_interval = 200ms;
  auto consumer = StartSubscribed(options, "Late");
  EXPECT_TRUE(consumer->Assignment().empty());
  CreateTopic("Late", 2);
  ASSERT_TRUE(Eventually([&] { return consumer->Assignment() == Queues("Late", 2); }));
  SendMany("Late", "m", 10);
  std::vector<ReceivedMessage> received;
  ASSERT_TRUE(PollUntil(consumer.get(), 10, &received));
  consumer->Shutdown();
  EXPECT_EQ(CountBodies(received).size(), 10u);
}

TEST_F(LitePullConsumerTest, ShutdownWakesAPollInProgress) {
  CreateTopic("Idle", 1);
  auto consumer = StartAssigned(Options("CID_IDLE"), {Queue("Idle", 0)});
  Status polled;
  std::thread poller([&] { polled = consumer->Poll(std::chrono::hours(1)).status(); });
  std::this_thread::sleep_for(100ms);
  consumer->Shutdown();
  poller.join();
  EXPECT_TRUE(polled.IsFailedPrecondition()) << polled.ToString();
}

TEST_F(LitePullConsumerTest, AnExpressionForAssignedQueuesFiltersThem) {
  CreateTopic("AssignTags", 2);
  const char* tags[] = {"TagA", "TagB", "TagC", ""};
  for (int i = 0; i < 16; ++i) {
    SendTo(Queue("AssignTags", i % 2), "t" + std::to_string(i), tags[(i / 2) % 4]);
  }
  LitePullConsumerOptions options = Options("CID_ASSIGN_TAGS");
  options.auto_commit = false;
  auto consumer = std::make_unique<LitePullConsumer>(options);
  ASSERT_TRUE(consumer->SetSubExpressionForAssign("AssignTags", "TagB || TagC").ok());
  ASSERT_TRUE(consumer->SetSubExpressionForAssign("AssignTags", "TagA").ok());  // replaces
  ASSERT_TRUE(consumer->Assign(Queues("AssignTags", 2)).ok());
  ASSERT_TRUE(consumer->Start().ok());
  std::vector<ReceivedMessage> received;
  ASSERT_TRUE(PollUntil(consumer.get(), 4, &received));
  EXPECT_TRUE(PollFor(consumer.get(), 300ms).empty());
  ASSERT_EQ(received.size(), 4u);  // 2 per queue
  for (const ReceivedMessage& m : received) EXPECT_EQ(m.tags, "TagA") << m.body;
  EXPECT_TRUE(consumer->SetSubExpressionForAssign("AssignTags", "*").IsFailedPrecondition());
  consumer->Shutdown();

  // Another topic's queues (no expression set) keep every message.
  CreateTopic("AssignAll", 1);
  for (int i = 0; i < 4; ++i) SendTo(Queue("AssignAll", 0), "a" + std::to_string(i), tags[i]);
  auto all = std::make_unique<LitePullConsumer>(options);
  ASSERT_TRUE(all->SetSubExpressionForAssign("AssignTags", "TagA").ok());
  ASSERT_TRUE(all->Assign({Queue("AssignAll", 0)}).ok());
  ASSERT_TRUE(all->Start().ok());
  std::vector<ReceivedMessage> every;
  ASSERT_TRUE(PollUntil(all.get(), 4, &every));
  EXPECT_EQ(every.size(), 4u);
  all->Shutdown();
}

TEST_F(LitePullConsumerTest, UnsubscribeAfterStartStopsTheTopicForGood) {
  CreateTopic("Keep", 2);
  CreateTopic("Drop", 2);
  LitePullConsumerOptions options = Options("CID_UNSUB");
  options.route_refresh_interval = 100ms;  // refreshes during the test: none takes Drop back
  options.auto_commit_interval = std::chrono::hours(1);  // only Unsubscribe commits Drop's
  auto a = std::make_unique<LitePullConsumer>(options);
  ASSERT_TRUE(a->Subscribe("Keep").ok());
  ASSERT_TRUE(a->Subscribe("Drop").ok());
  ASSERT_TRUE(a->Start().ok());
  ASSERT_EQ(a->Assignment(),
            Sorted({Queue("Drop", 0), Queue("Drop", 1), Queue("Keep", 0), Queue("Keep", 1)}));
  SendMany("Keep", "k", 10);
  SendMany("Drop", "d", 200);
  // Both topics are polled. Stop once some of Drop's came: its pulls run ahead of the Polls
  // (100 messages a queue, 10 a pull), so its buffers still hold more.
  std::vector<ReceivedMessage> before;
  auto counts = [&] {
    std::map<std::string, size_t> by_topic;
    for (const ReceivedMessage& m : before) ++by_topic[m.topic];
    return by_topic;
  };
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while ((counts()["Keep"] < 10 || counts()["Drop"] == 0) &&
         std::chrono::steady_clock::now() < deadline) {
    Result<std::vector<ReceivedMessage>> polled = a->Poll(100ms);
    ASSERT_TRUE(polled.ok());
    before.insert(before.end(), polled->begin(), polled->end());
  }
  ASSERT_EQ(counts()["Keep"], 10u);
  ASSERT_GT(counts()["Drop"], 0u);
  ASSERT_LT(counts()["Drop"], 200u);

  ASSERT_TRUE(a->Unsubscribe("Drop").ok());
  EXPECT_EQ(a->Assignment(), Queues("Keep", 2));
  // What the Polls took of Drop's queues was committed first (auto_commit), as when a
  // rebalance moves a queue away: each queue's committed offset is one past its last polled
  // message (Polls hand a queue's messages out from offset 0, in order).
  std::map<MessageQueue, std::vector<int64_t>> polled_drop;
  for (const auto& [queue, offsets] : OffsetsByQueue(before, broker_name_)) {
    if (queue.topic == "Drop") polled_drop[queue] = offsets;
  }
  for (const MessageQueue& queue : Queues("Drop", 2)) {
    Result<int64_t> committed = a->Committed(queue);
    ASSERT_TRUE(committed.ok()) << queue.ToString() << ": " << committed.status().ToString();
    EXPECT_EQ(*committed, static_cast<int64_t>(polled_drop[queue].size())) << queue.ToString();
  }
  // The heartbeat sent at once replaced the group's subscriptions on the broker.
  Result<std::set<std::string>> topics = GroupTopics("CID_UNSUB");
  ASSERT_TRUE(topics.ok()) << topics.status().ToString();
  EXPECT_EQ(*topics, std::set<std::string>{"Keep"});

  // None of Drop's messages comes any more, buffered before or sent later; Keep's still do.
  // Drop's are sent first: had its queues still been pulled, they would be in by the time
  // Keep's all are. The window after spans several route refreshes.
  SendMany("Drop", "late-d", 20);
  SendMany("Keep", "late-k", 10);
  std::vector<ReceivedMessage> after;
  ASSERT_TRUE(PollUntil(a.get(), 10, &after));
  std::vector<ReceivedMessage> more = PollFor(a.get(), 500ms);
  after.insert(after.end(), more.begin(), more.end());
  for (const ReceivedMessage& m : after) EXPECT_EQ(m.topic, "Keep") << m.body;
  std::map<std::string, int> times = CountBodies(after);
  EXPECT_EQ(times.size(), 10u);
  for (const auto& [body, n] : times) EXPECT_EQ(n, 1) << body;
  EXPECT_EQ(a->Assignment(), Queues("Keep", 2));

  // A second member makes the broker notify the first, whose rebalance shares Keep and does
  // not take Drop again.
  auto b = StartSubscribed(options, "Keep");
  ASSERT_TRUE(Eventually([&] {
    std::vector<MessageQueue> qa = a->Assignment();
    std::vector<MessageQueue> qb = b->Assignment();
    return qa.size() == 1 && qb.size() == 1 && qa != qb;
  })) << a->Assignment().size()
      << " + " << b->Assignment().size();
  EXPECT_EQ(a->Assignment()[0].topic, "Keep");
  EXPECT_TRUE(PollFor(a.get(), 200ms).empty());
  b->Shutdown();
  a->Shutdown();
}

TEST_F(LitePullConsumerTest, SubscribeAfterStartTakesTheTopicAtOnceAndResumesAfterUnsubscribe) {
  CreateTopic("First", 1);
  CreateTopic("Second", 2);
  LitePullConsumerOptions options = Options("CID_RESUB");
  options.auto_commit_interval = std::chrono::hours(1);
  auto consumer = StartSubscribed(options, "First");
  EXPECT_EQ(consumer->Assignment(), Queues("First", 1));
  SendMany("Second", "s", 20);
  // Route, heartbeat and rebalance before Subscribe returns.
  ASSERT_TRUE(consumer->Subscribe("Second").ok());
  const std::vector<MessageQueue> both =
      Sorted({Queue("First", 0), Queue("Second", 0), Queue("Second", 1)});
  EXPECT_EQ(consumer->Assignment(), both);
  Result<std::set<std::string>> topics = GroupTopics("CID_RESUB");
  ASSERT_TRUE(topics.ok()) << topics.status().ToString();
  EXPECT_EQ(*topics, (std::set<std::string>{"First", "Second"}));
  std::vector<ReceivedMessage> first;
  ASSERT_TRUE(PollUntil(consumer.get(), 20, &first));
  EXPECT_EQ(CountBodies(first).size(), 20u);

  // Unsubscribed (what was polled is committed) and subscribed again: it goes on from there,
  // with nothing repeated and nothing lost.
  ASSERT_TRUE(consumer->Unsubscribe("Second").ok());
  EXPECT_EQ(consumer->Assignment(), Queues("First", 1));
  SendMany("Second", "t", 10);
  ASSERT_TRUE(consumer->Subscribe("Second").ok());
  EXPECT_EQ(consumer->Assignment(), both);
  std::vector<ReceivedMessage> resumed;
  ASSERT_TRUE(PollUntil(consumer.get(), 10, &resumed));
  std::vector<ReceivedMessage> more = PollFor(consumer.get(), 300ms);
  resumed.insert(resumed.end(), more.begin(), more.end());
  std::map<std::string, int> times = CountBodies(resumed);
  EXPECT_EQ(times.size(), 10u);
  for (const auto& [body, n] : times) {
    EXPECT_EQ(body.rfind("t", 0), 0u) << body;
    EXPECT_EQ(n, 1) << body;
  }

  // A new expression for the held topic applies to everything not polled yet, also what
  // the pulls running ahead buffered under the old one: each queue goes on from its consumed
  // offset with only TagA.
  std::map<MessageQueue, std::map<int64_t, std::string>> sent;  // queue -> offset -> tag
  for (int i = 0; i < 200; ++i) {
    const MessageQueue queue = Queue("Second", i % 2);
    const std::string tag = (i / 2) % 2 == 0 ? "TagA" : "TagB";
    sent[queue][SendTo(queue, "x" + std::to_string(i), tag)] = tag;
  }
  std::vector<ReceivedMessage> some;
  ASSERT_TRUE(PollUntil(consumer.get(), 1, &some));
  ASSERT_TRUE(consumer->Subscribe("Second", "TagA").ok());
  std::map<MessageQueue, int64_t> consumed;  // one past the last polled, per queue
  for (const ReceivedMessage& m : some) {
    int64_t& next = consumed[Queue("Second", m.queue_id)];
    next = std::max(next, m.queue_offset + 1);
  }
  std::set<std::pair<int32_t, int64_t>> expected;
  for (const auto& [queue, tags] : sent) {
    auto it = consumed.find(queue);
    const int64_t from = it != consumed.end() ? it->second : tags.begin()->first;
    for (const auto& [offset, tag] : tags) {
      if (offset >= from && tag == "TagA") expected.emplace(queue.queue_id, offset);
    }
  }
  std::vector<ReceivedMessage> filtered;
  ASSERT_TRUE(PollUntil(consumer.get(), expected.size(), &filtered));
  more = PollFor(consumer.get(), 300ms);
  filtered.insert(filtered.end(), more.begin(), more.end());
  std::set<std::pair<int32_t, int64_t>> got;
  for (const ReceivedMessage& m : filtered) {
    EXPECT_EQ(m.tags, "TagA") << m.body;
    EXPECT_TRUE(got.emplace(m.queue_id, m.queue_offset).second) << m.body << " twice";
  }
  EXPECT_EQ(got, expected);
  consumer->Shutdown();

  // A consumer started with nothing subscribed joins the group at its first Subscribe.
  auto late = std::make_unique<LitePullConsumer>(Options("CID_RESUB_LATE"));
  ASSERT_TRUE(late->Start().ok());
  EXPECT_TRUE(late->Assignment().empty());
  ASSERT_TRUE(late->Subscribe("First").ok());
  EXPECT_EQ(late->Assignment(), Queues("First", 1));
  SendMany("First", "f", 3);
  std::vector<ReceivedMessage> late_received;
  ASSERT_TRUE(PollUntil(late.get(), 3, &late_received));
  EXPECT_EQ(CountBodies(late_received).size(), 3u);
  late->Shutdown();
}

TEST_F(LitePullConsumerTest, ATopicUnsubscribedBeforeStartIsNotConsumed) {
  CreateTopic("Wanted", 1);
  CreateTopic("Unwanted", 1);
  SendMany("Wanted", "w", 5);
  SendMany("Unwanted", "u", 5);
  auto consumer = std::make_unique<LitePullConsumer>(Options("CID_UNSUB_EARLY"));
  ASSERT_TRUE(consumer->Subscribe("Wanted").ok());
  ASSERT_TRUE(consumer->Subscribe("Unwanted").ok());
  ASSERT_TRUE(consumer->Unsubscribe("Unwanted").ok());
  EXPECT_TRUE(consumer->Unsubscribe("Unwanted").IsNotFound());
  ASSERT_TRUE(consumer->Start().ok());
  EXPECT_EQ(consumer->Assignment(), Queues("Wanted", 1));
  std::vector<ReceivedMessage> received;
  ASSERT_TRUE(PollUntil(consumer.get(), 5, &received));
  std::vector<ReceivedMessage> more = PollFor(consumer.get(), 300ms);
  received.insert(received.end(), more.begin(), more.end());
  EXPECT_EQ(received.size(), 5u);
  for (const ReceivedMessage& m : received) EXPECT_EQ(m.topic, "Wanted") << m.body;
  Result<std::set<std::string>> topics = GroupTopics("CID_UNSUB_EARLY");
  ASSERT_TRUE(topics.ok()) << topics.status().ToString();
  EXPECT_EQ(*topics, std::set<std::string>{"Wanted"});

  // The last topic gone: no heartbeat can carry "nothing", so the member leaves the group
  // on the topic's brokers, where the group then has no one.
  ASSERT_TRUE(consumer->Unsubscribe("Wanted").ok());
  EXPECT_TRUE(consumer->Assignment().empty());
  EXPECT_TRUE(GroupTopics("CID_UNSUB_EARLY").status().IsNotFound());
  // Still in subscribe mode: a topic may be subscribed again.
  EXPECT_TRUE(consumer->Assign({Queue("Wanted", 0)}).IsFailedPrecondition());
  ASSERT_TRUE(consumer->Subscribe("Wanted").ok());
  EXPECT_EQ(consumer->Assignment(), Queues("Wanted", 1));
  consumer->Shutdown();
  EXPECT_TRUE(consumer->Unsubscribe("Wanted").IsFailedPrecondition());
  EXPECT_TRUE(consumer->Subscribe("Wanted").IsFailedPrecondition());
}

TEST_F(LitePullConsumerTest, BroadcastingMembersEachPollEverythingAndResumeFromTheirFiles) {
  CreateTopic("News", 2);
  LitePullConsumerOptions a_options = Options("CID_CAST");
  a_options.message_model = MessageModel::kBroadcasting;
  a_options.local_offset_path = dir_.path() + "/a/offsets.json";
  a_options.auto_commit_interval = std::chrono::hours(1);  // Shutdown and CommitSync commit
  LitePullConsumerOptions b_options = a_options;
  b_options.local_offset_path = dir_.path() + "/b/offsets.json";
  auto a = StartSubscribed(a_options, "News");
  auto b = StartSubscribed(b_options, "News");
  // No allocation: each takes both queues (a clustering pair would split them).
  EXPECT_EQ(a->Assignment(), Queues("News", 2));
  EXPECT_EQ(b->Assignment(), Queues("News", 2));
  Admin admin(namesrv_addr_);
  Result<mqremoting::ConsumerConnection> members = admin.ConsumerConnection("CID_CAST");
  ASSERT_TRUE(members.ok()) << members.status().ToString();
  EXPECT_EQ(members->message_model, "BROADCASTING");
  EXPECT_EQ(members->connections.size(), 2u);

  SendMany("News", "m", 40);
  for (LitePullConsumer* consumer : {a.get(), b.get()}) {
    std::vector<ReceivedMessage> received;
    ASSERT_TRUE(PollUntil(consumer, 40, &received));
    std::vector<ReceivedMessage> more = PollFor(consumer, 200ms);
    received.insert(received.end(), more.begin(), more.end());
    std::map<std::string, int> times = CountBodies(received);
    EXPECT_EQ(times.size(), 40u);
    for (const auto& [body, n] : times) EXPECT_EQ(n, 1) << body;
  }

  // Commits go to the member's file: Committed reads it, the broker has nothing.
  ASSERT_TRUE(a->CommitSync().ok());
  LocalOffsetStore a_file(mqstore::Env::Default(), a_options.local_offset_path, "CID_CAST");
  Result<OffsetTable> saved = a_file.Load();
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  int64_t total = 0;
  for (const MessageQueue& queue : Queues("News", 2)) {
    Result<int64_t> committed = a->Committed(queue);
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
    EXPECT_EQ(saved->at(queue), *committed);
    total += *committed;
  }
  EXPECT_EQ(total, 40);
  {
    // Assigned queues keep their offsets in the file too.
    LitePullConsumerOptions assigned_options = a_options;
    assigned_options.local_offset_path = dir_.path() + "/assigned/offsets.json";
    const int64_t in_queue = saved->at(Queue("News", 1));  // all of its messages
    auto assigned = StartAssigned(assigned_options, {Queue("News", 1)});
    std::vector<ReceivedMessage> received;
    ASSERT_TRUE(PollUntil(assigned.get(), static_cast<size_t>(in_queue), &received));
    ASSERT_TRUE(assigned->CommitSync().ok());
    Result<OffsetTable> assigned_saved =
        LocalOffsetStore(mqstore::Env::Default(), assigned_options.local_offset_path, "CID_CAST")
            .Load();
    ASSERT_TRUE(assigned_saved.ok()) << assigned_saved.status().ToString();
    EXPECT_EQ(*assigned_saved, (OffsetTable{{Queue("News", 1), in_queue}}));
    assigned->Shutdown();
  }
  {
    // The brokers have no offset of the group, from any of them.
    LitePullConsumerOptions clustering = Options("CID_CAST");
    clustering.auto_commit = false;
    auto reader = StartAssigned(clustering, Queues("News", 2));
    for (const MessageQueue& queue : Queues("News", 2)) {
      EXPECT_TRUE(reader->Committed(queue).status().IsNotFound()) << queue.ToString();
    }
    reader->Shutdown();
  }

  // A restarts: it goes on from its file (consume_from_where, first offset, would read all
  // 40 again); B, running, gets the same new messages.
  a->Shutdown();
  a.reset();
  SendMany("News", "n", 10);
  a = StartSubscribed(a_options, "News");
  for (LitePullConsumer* consumer : {a.get(), b.get()}) {
    std::vector<ReceivedMessage> received;
    ASSERT_TRUE(PollUntil(consumer, 10, &received));
    std::vector<ReceivedMessage> more = PollFor(consumer, 300ms);
    received.insert(received.end(), more.begin(), more.end());
    std::map<std::string, int> times = CountBodies(received);
    EXPECT_EQ(times.size(), 10u);
    for (const auto& [body, n] : times) {
      EXPECT_EQ(body.rfind("n", 0), 0u) << body;
      EXPECT_EQ(n, 1) << body;
    }
  }
  a->Shutdown();
  b->Shutdown();

  // Another group's file is reported, not overwritten.
  LitePullConsumerOptions foreign = a_options;
  foreign.local_offset_path = dir_.path() + "/foreign.json";
  LocalOffsetStore other(mqstore::Env::Default(), foreign.local_offset_path, "CID_OTHER");
  ASSERT_TRUE(other.Save({{Queue("News", 0), 3}}).ok());
  LitePullConsumer consumer(foreign);
  ASSERT_TRUE(consumer.Subscribe("News").ok());
  Status started = consumer.Start();
  EXPECT_TRUE(started.IsCorruption()) << started.ToString();
  Result<OffsetTable> kept = other.Load();
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->at(Queue("News", 0)), 3);
}

TEST_F(LitePullConsumerTest, BadCallsGetClearStatuses) {
  CreateTopic("Orders", 1);
  const MessageQueue queue = Queue("Orders", 0);
  SendMany("Orders", "m", 5);
  AwaitDispatched();
  {
    LitePullConsumer consumer(Options("CID_BAD"));
    EXPECT_TRUE(consumer.Poll(10ms).status().IsFailedPrecondition());  // not started
    EXPECT_TRUE(consumer.Seek(queue, 0).IsFailedPrecondition());
    EXPECT_TRUE(consumer.CommitSync().IsFailedPrecondition());
    EXPECT_TRUE(consumer.Committed(queue).status().IsFailedPrecondition());
    EXPECT_TRUE(consumer.FetchMessageQueues("Orders").status().IsFailedPrecondition());
    EXPECT_TRUE(consumer.Assign({}).IsInvalidArgument());
    EXPECT_TRUE(consumer.Assign({MessageQueue{"", broker_name_, 0}}).IsInvalidArgument());
    EXPECT_TRUE(consumer.Unsubscribe("Orders").IsNotFound());  // nothing subscribed
    ASSERT_TRUE(consumer.Assign({queue}).ok());
    EXPECT_TRUE(consumer.Subscribe("Orders").IsFailedPrecondition());  // mixing
    EXPECT_TRUE(consumer.Unsubscribe("Orders").IsFailedPrecondition());
  }
  {
    LitePullConsumer consumer(Options("CID_BAD"));
    EXPECT_TRUE(consumer.Subscribe("", "*").IsInvalidArgument());
    EXPECT_TRUE(consumer.Subscribe("Orders", " || ").IsInvalidArgument());
    ASSERT_TRUE(consumer.Subscribe("Orders").ok());
    EXPECT_TRUE(consumer.Assign({queue}).IsFailedPrecondition());  // mixing
    EXPECT_TRUE(consumer.SetSubExpressionForAssign("Orders", "*").IsFailedPrecondition());
    EXPECT_TRUE(consumer.Unsubscribe("Other").IsNotFound());
    EXPECT_TRUE(consumer.Unsubscribe("").IsNotFound());
  }
  {
    LitePullConsumer consumer(Options("CID_BAD"));
    EXPECT_TRUE(consumer.SetSubExpressionForAssign("", "*").IsInvalidArgument());
    EXPECT_TRUE(consumer.SetSubExpressionForAssign("Orders", " || ").IsInvalidArgument());
    ASSERT_TRUE(consumer.SetSubExpressionForAssign("Orders", "TagA").ok());
    EXPECT_TRUE(consumer.Subscribe("Orders").IsFailedPrecondition());  // mixing
    EXPECT_TRUE(consumer.Unsubscribe("Orders").IsFailedPrecondition());
  }
  {
    LitePullConsumerOptions options = Options("CID_BAD");
    options.namesrv_addr = "";
    LitePullConsumer consumer(options);
    EXPECT_TRUE(consumer.Start().IsInvalidArgument());
  }
  {
    LitePullConsumerOptions options = Options("CID_BAD");
    options.namesrv_addr = DeadAddress();
    LitePullConsumer consumer(options);
    ASSERT_TRUE(consumer.Subscribe("Orders").ok());
    Status started = consumer.Start();
    EXPECT_TRUE(started.IsIOError()) << started.ToString();
    EXPECT_TRUE(consumer.Start().IsFailedPrecondition());  // once only
  }
  {
    LitePullConsumerOptions options = Options("CID_BAD");
    options.auto_commit = false;
    auto consumer = StartAssigned(options, {queue});
    EXPECT_TRUE(consumer->Start().IsFailedPrecondition());
    EXPECT_TRUE(consumer->Subscribe("Orders").IsFailedPrecondition());  // mixing
    EXPECT_TRUE(consumer->Unsubscribe("Orders").IsFailedPrecondition());
    EXPECT_TRUE(consumer->Poll(-1ms).status().IsInvalidArgument());
    Status seek = consumer->Seek(queue, 6);  // the queue ends at 5
    EXPECT_TRUE(seek.IsInvalidArgument()) << seek.ToString();
    EXPECT_TRUE(consumer->Seek(queue, -1).IsInvalidArgument());
    EXPECT_TRUE(consumer->Seek(queue, 5).ok());  // the end itself is fine
    EXPECT_TRUE(consumer->Seek(Queue("Orders", 7), 0).IsFailedPrecondition());  // not assigned
    EXPECT_TRUE(consumer->Commit(queue, -1).IsInvalidArgument());
    EXPECT_TRUE(consumer->Commit(Queue("Orders", 7), 0).IsFailedPrecondition());
    EXPECT_TRUE(consumer->Committed(queue).status().IsNotFound());  // nothing committed yet
    EXPECT_TRUE(consumer->FetchMessageQueues("NoSuchTopic").status().IsNotFound());
    Result<std::vector<MessageQueue>> queues = consumer->FetchMessageQueues("Orders");
    ASSERT_TRUE(queues.ok());
    EXPECT_EQ(*queues, std::vector<MessageQueue>{queue});
    consumer->Shutdown();
    consumer->Shutdown();  // idempotent
    EXPECT_TRUE(consumer->Poll(10ms).status().IsFailedPrecondition());
    EXPECT_TRUE(consumer->Seek(queue, 0).IsFailedPrecondition());
    EXPECT_TRUE(consumer->Start().IsFailedPrecondition());
    EXPECT_TRUE(consumer->Assign({queue}).IsFailedPrecondition());
  }
}

}  // namespace
}  // namespace mqclient
