// Admin: topic creation (cluster and broker), listings, and message lookups by key and id.
#include "mqclient/admin.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "cluster_fixture.h"
#include "mqclient/producer.h"
#include "mqclient/pull_consumer.h"
#include "mqclient/push_consumer.h"
#include "support/test_util.h"

namespace mqclient {
namespace {

class AdminTest : public ClusterFixture {
 protected:
  void ConfigureBroker(mqbroker::BrokerConfig* config) override {
    config->messageDelayLevel = "1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";
  }

  // Commits `offset` for `group` in queue `queue_id` of `topic` on the broker.
  void Commit(const std::string& group, const std::string& topic, int32_t queue_id,
              int64_t offset) {
    PullConsumerOptions options;
    options.namesrv_addr = namesrv_addr_;
    options.group = group;
    PullConsumer consumer(options);
    ASSERT_TRUE(consumer.Start().ok());
    ASSERT_TRUE(consumer.CommitOffset({topic, broker_name_, queue_id}, offset).ok());
    consumer.Shutdown();
  }

  std::unique_ptr<PushConsumer> StartConsumer(const std::string& group, const std::string& topic,
                                              const std::string& expression,
                                              MessageListener listener,
                                              int max_reconsume_times = -1) {
    PushConsumerOptions options;
    options.namesrv_addr = namesrv_addr_;
    options.group = group;
    options.consume_from_where = ConsumeFromWhere::kFirstOffset;
    options.max_reconsume_times = max_reconsume_times;
    options.persist_offset_interval = std::chrono::milliseconds(100);
    auto consumer = std::make_unique<PushConsumer>(options);
    EXPECT_TRUE(consumer->Subscribe(topic, expression).ok());
    consumer->RegisterListener(std::move(listener));
    EXPECT_TRUE(consumer->Start().ok());
    return consumer;
  }

  SendResult SendOne(const std::string& topic, const std::string& body, const std::string& keys) {
    ProducerOptions options;
    options.namesrv_addr = namesrv_addr_;
    Producer producer(options);
    EXPECT_TRUE(producer.Start().ok());
    Message message;
    message.topic = topic;
    message.body = body;
    message.keys = keys;
    message.tags = "T";
    Result<SendResult> result = producer.Send(message);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : SendResult{};
  }
};

TEST_F(AdminTest, CreateTopicInClusterReachesEveryMaster) {
  Admin admin(namesrv_addr_);
  TopicSpec spec;
  spec.topic = "Created";
  spec.read_queue_nums = 3;
  spec.write_queue_nums = 2;
  Result<std::vector<std::string>> masters = admin.CreateTopicInCluster(spec, "DefaultCluster");
  ASSERT_TRUE(masters.ok()) << masters.status().ToString();
  EXPECT_EQ(*masters, std::vector<std::string>{broker_addr_});
  Result<mqremoting::TopicRouteData> route = admin.TopicRoute("Created");
  ASSERT_TRUE(route.ok()) << route.status().ToString();
  ASSERT_EQ(route->queue_datas.size(), 1u);
  EXPECT_EQ(route->queue_datas[0].read_queue_nums, 3);
  EXPECT_EQ(route->queue_datas[0].write_queue_nums, 2);
  Result<mqremoting::TopicList> topics = admin.TopicList();
  ASSERT_TRUE(topics.ok());
  EXPECT_TRUE(topics->topic_list.count("Created"));
  EXPECT_TRUE(admin.CreateTopicInCluster(spec, "NoCluster").status().IsNotFound());
  spec.topic = "bad topic";
  EXPECT_TRUE(admin.CreateTopicOnBroker(spec, broker_addr_).IsInvalidArgument());
}

TEST_F(AdminTest, ClusterListShowsTheBrokerWithRuntimeInfo) {
  Admin admin(namesrv_addr_);
  Result<std::vector<BrokerStatus>> brokers = admin.ClusterList();
  ASSERT_TRUE(brokers.ok()) << brokers.status().ToString();
  ASSERT_EQ(brokers->size(), 1u);
  const BrokerStatus& b = brokers->front();
  EXPECT_EQ(b.cluster, "DefaultCluster");
  EXPECT_EQ(b.broker_name, broker_name_);
  EXPECT_EQ(b.broker_id, 0);
  EXPECT_EQ(b.address, broker_addr_);
  EXPECT_TRUE(b.runtime_status.ok()) << b.runtime_status.ToString();
  EXPECT_EQ(b.runtime.count("brokerVersionDesc"), 1u);
}

TEST_F(AdminTest, QueriesByKeyOffsetIdAndUniqueId) {
  CreateTopic("Queried", 2);
  SendResult first = SendOne("Queried", "one", "order-1 common");
  SendResult second = SendOne("Queried", "two", "order-2 common");
  AwaitDispatched();
  Admin admin(namesrv_addr_);

  Result<std::vector<ReceivedMessage>> by_key = admin.QueryMessageByKey("Queried", "order-2");
  ASSERT_TRUE(by_key.ok()) << by_key.status().ToString();
  ASSERT_EQ(by_key->size(), 1u);
  EXPECT_EQ(by_key->front().body, "two");
  Result<std::vector<ReceivedMessage>> common = admin.QueryMessageByKey("Queried", "common");
  ASSERT_TRUE(common.ok());
  EXPECT_EQ(common->size(), 2u);
  EXPECT_TRUE(admin.QueryMessageByKey("Queried", "absent").status().IsNotFound());

  Result<ReceivedMessage> by_offset_id = admin.QueryMessageById("Queried", first.msg_id);
  ASSERT_TRUE(by_offset_id.ok()) << by_offset_id.status().ToString();
  EXPECT_EQ(by_offset_id->body, "one");
  EXPECT_EQ(by_offset_id->unique_id, first.unique_id);
  Result<ReceivedMessage> by_unique_id = admin.QueryMessageById("Queried", second.unique_id);
  ASSERT_TRUE(by_unique_id.ok()) << by_unique_id.status().ToString();
  EXPECT_EQ(by_unique_id->body, "two");
  EXPECT_EQ(by_unique_id->msg_id, second.msg_id);
}

TEST_F(AdminTest, SubscriptionGroupsAreCreatedListedObeyedAndDeleted) {
  CreateTopic("Grouped", 1);
  Admin admin(namesrv_addr_);
  mqstore::SubscriptionGroupConfig config;
  config.group_name = "GID_CONFIGURED";
  config.retry_max_times = 3;
  config.consume_enable = false;
  Result<std::vector<std::string>> masters =
      admin.UpdateSubscriptionGroupInCluster(config, "DefaultCluster");
  ASSERT_TRUE(masters.ok()) << masters.status().ToString();
  EXPECT_EQ(*masters, std::vector<std::string>{broker_addr_});

  Result<std::vector<mqstore::SubscriptionGroupConfig>> groups =
      admin.SubscriptionGroups(broker_addr_);
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  auto found = std::find_if(groups->begin(), groups->end(),
                            [](const auto& g) { return g.group_name == "GID_CONFIGURED"; });
  ASSERT_NE(found, groups->end());
  EXPECT_EQ(*found, config);

  // The broker obeys it: a group whose consumption is disabled may not pull.
  PullConsumerOptions options;
  options.namesrv_addr = namesrv_addr_;
  options.group = "GID_CONFIGURED";
  PullConsumer consumer(options);
  ASSERT_TRUE(consumer.Start().ok());
  Result<PullResult> pulled = consumer.Pull({"Grouped", broker_name_, 0}, 0, 1);
  EXPECT_FALSE(pulled.ok());
  EXPECT_NE(pulled.status().ToString().find("no permission"), std::string::npos)
      << pulled.status().ToString();
  consumer.Shutdown();

  config.retry_queue_nums = -1;  // the broker refuses what the metadata store would
  EXPECT_FALSE(admin.UpdateSubscriptionGroup(config, broker_addr_).ok());

  Commit("GID_CONFIGURED", "Grouped", 0, 0);
  ASSERT_TRUE(admin.DeleteSubscriptionGroup("GID_CONFIGURED", "DefaultCluster", true).ok());
  groups = admin.SubscriptionGroups(broker_addr_);
  ASSERT_TRUE(groups.ok());
  for (const auto& g : *groups) EXPECT_NE(g.group_name, "GID_CONFIGURED");
  EXPECT_TRUE(admin.DeleteSubscriptionGroup("GID_CONFIGURED", "DefaultCluster", true).IsNotFound());
  // Its offsets went with it (clean_offset).
  Result<std::vector<std::string>> who = admin.TopicConsumedByWho("Grouped");
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_TRUE(std::find(who->begin(), who->end(), "GID_CONFIGURED") == who->end());
}

TEST_F(AdminTest, ConsumeProgressWithoutATopicCoversEveryTopicOfTheGroup) {
  CreateTopic("ProgressA", 2);
  CreateTopic("ProgressB", 1);
  for (int i = 0; i < 3; ++i) SendOne("ProgressA", "a", "");
  SendOne("ProgressB", "b", "");
  AwaitDispatched();
  Admin admin(namesrv_addr_);
  Result<std::vector<QueueProgress>> a_offsets = admin.QueueOffsets("ProgressA");
  ASSERT_TRUE(a_offsets.ok());
  // The group consumed everything of ProgressB and one message of ProgressA's first queue.
  int32_t busy_queue = (*a_offsets)[0].max_offset > 0 ? 0 : 1;
  Commit("GID_PROGRESS", "ProgressA", busy_queue, 1);
  Commit("GID_PROGRESS", "ProgressB", 0, 1);

  Result<std::vector<QueueProgress>> progress = admin.ConsumeProgress("GID_PROGRESS");
  ASSERT_TRUE(progress.ok()) << progress.status().ToString();
  ASSERT_EQ(progress->size(), 3u);  // 2 + 1 queues, sorted
  int64_t total_lag = 0;
  for (const QueueProgress& p : *progress) {
    EXPECT_EQ(p.queue.broker_name, broker_name_);
    total_lag += p.lag();
    if (p.consumer_offset > 0) {
      EXPECT_GT(p.last_timestamp_ms, 0) << p.queue.ToString();
    } else {
      EXPECT_EQ(p.last_timestamp_ms, 0) << p.queue.ToString();
    }
  }
  EXPECT_EQ((*progress)[2].queue.topic, "ProgressB");
  EXPECT_EQ((*progress)[2].consumer_offset, 1);
  EXPECT_EQ(total_lag, 2);  // ProgressA: 3 stored, 1 consumed

  Result<std::vector<QueueProgress>> one = admin.ConsumeProgress("GID_PROGRESS", "ProgressB");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->size(), 1u);
  EXPECT_FALSE(admin.ConsumeProgress("GID_PROGRESS", "NoSuchTopic").ok());
  Result<std::vector<QueueProgress>> none = admin.ConsumeProgress("GID_NOBODY");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  Result<std::vector<std::string>> who = admin.TopicConsumedByWho("ProgressB");
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(*who, std::vector<std::string>{"GID_PROGRESS"});
}

TEST_F(AdminTest, ConsumeProgressShowsWhereTheGroupsPullsAreAndTheirRate) {
  CreateTopic("Pulled", 1);
  for (int i = 0; i < 3; ++i) SendOne("Pulled", "p", "");
  AwaitDispatched();
  Admin admin(namesrv_addr_);
  double tps = -1;
  Result<std::vector<QueueProgress>> before = admin.ConsumeProgress("GID_PULLED", "Pulled", &tps);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ((*before)[0].pull_offset, 0);  // no pull yet: the committed offset (none = 0)
  EXPECT_EQ(tps, 0.0);

  auto consumer =
      StartConsumer("GID_PULLED", "Pulled", "*",
                    [](const std::vector<ReceivedMessage>&) { return ConsumeStatus::kSuccess; });
  // The pulls took all 3 messages within the last minute.
  EXPECT_TRUE(mqstore::test::WaitUntil([&] {
    Result<std::vector<QueueProgress>> now = admin.ConsumeProgress("GID_PULLED", "Pulled", &tps);
    return now.ok() && now->size() == 1 && (*now)[0].pull_offset == 3 && tps == 3.0 / 60;
  })) << "tps "
      << tps;
  consumer->Shutdown();
}

TEST_F(AdminTest, ConsumerConnectionListsTheRunningMembers) {
  CreateTopic("Connected", 1);
  Admin admin(namesrv_addr_);
  EXPECT_TRUE(admin.ConsumerConnection("GID_CONNECTED").status().IsNotFound());
  auto consumer =
      StartConsumer("GID_CONNECTED", "Connected", "TagA || TagB",
                    [](const std::vector<ReceivedMessage>&) { return ConsumeStatus::kSuccess; });
  Result<mqremoting::ConsumerConnection> members = admin.ConsumerConnection("GID_CONNECTED");
  ASSERT_TRUE(members.ok()) << members.status().ToString();
  ASSERT_EQ(members->connections.size(), 1u);
  EXPECT_EQ(members->connections[0].client_id, consumer->client_id());
  EXPECT_NE(members->connections[0].client_addr.find("127.0.0.1:"), std::string::npos);
  EXPECT_EQ(members->message_model, "CLUSTERING");
  bool subscribed = false;
  for (const auto& sub : members->subscriptions) {
    if (sub.topic == "Connected") {
      subscribed = true;
      EXPECT_EQ(sub.tags_set, (std::vector<std::string>{"TagA", "TagB"}));
    }
  }
  EXPECT_TRUE(subscribed);
  consumer->Shutdown();
  EXPECT_TRUE(mqstore::test::WaitUntil(
      [&] { return admin.ConsumerConnection("GID_CONNECTED").status().IsNotFound(); }));
}

TEST_F(AdminTest, ResetOffsetByTimeMovesAStoppedGroupBackAndOnlyForwardWhenForced) {
  CreateTopic("Rewound", 1);
  for (int i = 0; i < 4; ++i) SendOne("Rewound", "m", "");
  AwaitDispatched();
  Commit("GID_REWOUND", "Rewound", 0, 4);
  Admin admin(namesrv_addr_);
  Result<std::vector<QueueProgress>> reset = admin.ResetOffsetByTime("GID_REWOUND", "Rewound", 0);
  ASSERT_TRUE(reset.ok()) << reset.status().ToString();
  ASSERT_EQ(reset->size(), 1u);
  EXPECT_EQ((*reset)[0].consumer_offset, 0);
  Result<std::vector<QueueProgress>> progress = admin.QueueOffsets("Rewound", "GID_REWOUND");
  ASSERT_TRUE(progress.ok());
  EXPECT_EQ((*progress)[0].consumer_offset, 0);

  // To the end (-1) without force: never forward.
  reset = admin.ResetOffsetByTime("GID_REWOUND", "Rewound", -1, /*force=*/false);
  ASSERT_TRUE(reset.ok()) << reset.status().ToString();
  EXPECT_EQ((*reset)[0].consumer_offset, 0);
  reset = admin.ResetOffsetByTime("GID_REWOUND", "Rewound", -1, /*force=*/true);
  ASSERT_TRUE(reset.ok());
  EXPECT_EQ((*reset)[0].consumer_offset, 4);
  EXPECT_FALSE(admin.ResetOffsetByTime("GID_REWOUND", "NoSuchTopic", 0).ok());
}

TEST_F(AdminTest, TrackMessageShowsConsumedFilteredOfflineRetriedAndDead) {
  CreateTopic("Tracked", 1);
  Admin admin(namesrv_addr_);
  // GID_OFFLINE has an offset but no member; GID_LATER has not got to the message.
  Commit("GID_OFFLINE", "Tracked", 0, 0);
  SendResult sent = SendOne("Tracked", "tracked", "track-key");  // tag "T"
  AwaitDispatched();

  std::atomic<int> all_seen{0}, retry_calls{0}, dead_calls{0};
  auto all = StartConsumer("GID_ALL", "Tracked", "*", [&](const std::vector<ReceivedMessage>&) {
    ++all_seen;
    return ConsumeStatus::kSuccess;
  });
  auto filtered =
      StartConsumer("GID_FILTERED", "Tracked", "Other",
                    [](const std::vector<ReceivedMessage>&) { return ConsumeStatus::kSuccess; });
  // Fails once, then succeeds through the retry topic.
  auto retried =
      StartConsumer("GID_RETRIED", "Tracked", "*", [&](const std::vector<ReceivedMessage>&) {
        return ++retry_calls == 1 ? ConsumeStatus::kReconsumeLater : ConsumeStatus::kSuccess;
      });
  // Fails with no retries allowed: straight to the dead-letter topic.
  auto dead = StartConsumer(
      "GID_DEAD", "Tracked", "*",
      [&](const std::vector<ReceivedMessage>&) {
        ++dead_calls;
        return ConsumeStatus::kReconsumeLater;
      },
      /*max_reconsume_times=*/0);
  ASSERT_TRUE(mqstore::test::WaitUntil(
      [&] { return all_seen >= 1 && retry_calls >= 2 && dead_calls >= 1; }));

  std::map<std::string, MessageTrack> tracks;
  ASSERT_TRUE(mqstore::test::WaitUntil([&] {
    Result<std::vector<MessageTrack>> found = admin.TrackMessage("Tracked", sent.msg_id);
    if (!found.ok()) return false;
    tracks.clear();
    for (const MessageTrack& t : *found) tracks[t.group] = t;
    // Offsets reach the broker with the members' next commits.
    return tracks.size() == 5 && tracks["GID_ALL"].type == TrackType::kConsumed &&
           tracks["GID_FILTERED"].type == TrackType::kConsumedButFiltered &&
           tracks["GID_RETRIED"].type == TrackType::kConsumed &&
           tracks["GID_RETRIED"].retries == 1 && tracks["GID_DEAD"].dead;
  })) << "groups: "
      << tracks.size();
  EXPECT_EQ(tracks["GID_OFFLINE"].type, TrackType::kNotOnline);
  EXPECT_FALSE(tracks["GID_OFFLINE"].online);
  EXPECT_TRUE(tracks["GID_ALL"].online);
  EXPECT_EQ(tracks["GID_ALL"].retries, 0);
  EXPECT_FALSE(tracks["GID_ALL"].dead);
  EXPECT_FALSE(tracks["GID_RETRIED"].dead);
  EXPECT_EQ(TrackTypeName(tracks["GID_FILTERED"].type), "CONSUMED_BUT_FILTERED");

  // By unique key too; an unknown id is kNotFound.
  Result<std::vector<MessageTrack>> by_unique = admin.TrackMessage("Tracked", sent.unique_id);
  ASSERT_TRUE(by_unique.ok()) << by_unique.status().ToString();
  EXPECT_EQ(by_unique->size(), 5u);
  EXPECT_TRUE(admin.TrackMessage("Tracked", std::string(32, 'F')).status().IsNotFound());
  for (auto* consumer : {&all, &filtered, &retried, &dead}) (*consumer)->Shutdown();
}

TEST(AdminNoServerTest, DeadNameServerIsAnIOError) {
  Admin admin(ClusterFixture::DeadAddress());
  Result<mqremoting::TopicList> topics = admin.TopicList();
  ASSERT_FALSE(topics.ok());
  EXPECT_TRUE(topics.status().IsIOError()) << topics.status().ToString();
}

}  // namespace
}  // namespace mqclient
