// LitePullConsumer against an in-process name server and broker: assigned queues polled in
// order and once, members of a subscribed group splitting the queues and one taking over a
// leaving member's without re-receiving what was committed, tag filtering, seeks (offset,
// begin, end, timestamp) never letting a message from before the seek through, explicit and
// automatic commits, pause and resume, and the statuses of bad calls.
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
#include "mqclient/producer.h"

namespace mqclient {
namespace {

using namespace std::chrono_literals;

constexpr auto kDeadline = 20s;

// Polls `condition` every 10 ms for up to 20 s.
bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
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

  std::unique_ptr<Producer> producer_;
};

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
    ASSERT_TRUE(consumer.Assign({queue}).ok());
    EXPECT_TRUE(consumer.Subscribe("Orders").IsFailedPrecondition());  // mixing
  }
  {
    LitePullConsumer consumer(Options("CID_BAD"));
    EXPECT_TRUE(consumer.Subscribe("", "*").IsInvalidArgument());
    EXPECT_TRUE(consumer.Subscribe("Orders", " || ").IsInvalidArgument());
    ASSERT_TRUE(consumer.Subscribe("Orders").ok());
    EXPECT_TRUE(consumer.Assign({queue}).IsFailedPrecondition());  // mixing
    EXPECT_TRUE(consumer.SetSubExpressionForAssign("Orders", "*").IsFailedPrecondition());
  }
  {
    LitePullConsumer consumer(Options("CID_BAD"));
    EXPECT_TRUE(consumer.SetSubExpressionForAssign("", "*").IsInvalidArgument());
    EXPECT_TRUE(consumer.SetSubExpressionForAssign("Orders", " || ").IsInvalidArgument());
    ASSERT_TRUE(consumer.SetSubExpressionForAssign("Orders", "TagA").ok());
    EXPECT_TRUE(consumer.Subscribe("Orders").IsFailedPrecondition());  // mixing
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
    EXPECT_TRUE(consumer->Subscribe("Orders").IsFailedPrecondition());
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
