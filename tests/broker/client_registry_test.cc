#include "client_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "remoting/transport.h"

namespace mqbroker {
namespace {

using mqremoting::Connection;
using mqremoting::RemotingCommand;
using Strings = std::vector<std::string>;

// A connection that only knows its id and whether it is open.
class FakeConnection : public Connection {
 public:
  explicit FakeConnection(uint64_t id) : id_(id), address_("127.0.0.1:" + std::to_string(id)) {}

  uint64_t id() const override { return id_; }
  const std::string& remote_address() const override { return address_; }
  const std::string& local_address() const override { return address_; }
  void Send(RemotingCommand) override {}
  void Invoke(RemotingCommand, mqremoting::Millis, ResponseCallback done) override {
    done(mqstore::Status::Aborted("fake"));
  }
  mqstore::Result<RemotingCommand> InvokeSync(RemotingCommand, mqremoting::Millis) override {
    return mqstore::Status::Aborted("fake");
  }
  void SendOneway(RemotingCommand) override {}
  bool is_open() const override { return open_; }
  void Close() override { open_ = false; }

 private:
  const uint64_t id_;
  const std::string address_;
  std::atomic<bool> open_{true};
};

std::shared_ptr<Connection> NewConnection(uint64_t id) {
  return std::make_shared<FakeConnection>(id);
}

SubscriptionData Sub(std::string topic, std::string expression, int64_t version) {
  SubscriptionData sub;
  sub.topic = std::move(topic);
  sub.sub_string = std::move(expression);
  sub.sub_version = version;
  return sub;
}

HeartbeatData Consumer(std::string client_id, std::string group,
                       std::vector<SubscriptionData> subs = {Sub("TopicTest", "*", 1)}) {
  HeartbeatData hb;
  hb.client_id = std::move(client_id);
  ConsumerData consumer;
  consumer.group_name = std::move(group);
  consumer.subscriptions = std::move(subs);
  hb.consumers.push_back(std::move(consumer));
  return hb;
}

HeartbeatData Producer(std::string client_id, std::string group) {
  HeartbeatData hb;
  hb.client_id = std::move(client_id);
  hb.producers.push_back({std::move(group)});
  return hb;
}

TEST(ClientRegistryTest, JoinReportsNewMembersAndListsSortedIds) {
  ClientRegistry registry;
  auto c1 = NewConnection(1);
  auto c2 = NewConnection(2);

  HeartbeatOutcome first = registry.OnHeartbeat(Consumer("10.0.0.2@7", "G"), c1, 1000);
  EXPECT_EQ(first.membership_changed, Strings{"G"});
  EXPECT_EQ(first.subscription_changed, Strings{"G"}) << "a group's first subscriptions";

  HeartbeatOutcome again = registry.OnHeartbeat(Consumer("10.0.0.2@7", "G"), c1, 2000);
  EXPECT_TRUE(again.membership_changed.empty());
  EXPECT_TRUE(again.subscription_changed.empty());

  HeartbeatOutcome second = registry.OnHeartbeat(Consumer("10.0.0.10@7", "G"), c2, 2000);
  EXPECT_EQ(second.membership_changed, Strings{"G"});
  EXPECT_TRUE(second.subscription_changed.empty());

  // String order, as clients sort ids before allocating queues.
  EXPECT_EQ(registry.ConsumerIds("G"), (Strings{"10.0.0.10@7", "10.0.0.2@7"}));
  auto connections = registry.ConsumerConnections("G");
  ASSERT_EQ(connections.size(), 2u);
  EXPECT_EQ(connections[0], c2);
  EXPECT_EQ(connections[1], c1);
  EXPECT_TRUE(registry.ConsumerIds("other").empty());
  EXPECT_TRUE(registry.ConsumerConnections("other").empty());
}

TEST(ClientRegistryTest, OneHeartbeatForSeveralGroups) {
  ClientRegistry registry;
  auto c = NewConnection(1);
  HeartbeatData hb = Consumer("c@1", "G2");
  hb.consumers.push_back(Consumer("c@1", "G1").consumers[0]);
  hb.producers.push_back({"P1"});
  HeartbeatOutcome outcome = registry.OnHeartbeat(hb, c, 0);
  EXPECT_EQ(outcome.membership_changed, (Strings{"G1", "G2"}));
  EXPECT_EQ(registry.ConsumerGroups(), (Strings{"G1", "G2"}));
  EXPECT_EQ(registry.ProducerGroups(), Strings{"P1"});
  ClientRegistryCounts counts = registry.Counts();
  EXPECT_EQ(counts.consumer_groups, 2u);
  EXPECT_EQ(counts.consumer_clients, 2u);
  EXPECT_EQ(counts.producer_groups, 1u);
  EXPECT_EQ(counts.producer_clients, 1u);
}

TEST(ClientRegistryTest, ReconnectMovesClientWithoutMembershipChange) {
  ClientRegistry registry;
  auto old_connection = NewConnection(1);
  auto new_connection = NewConnection(2);
  registry.OnHeartbeat(Consumer("c@1", "G"), old_connection, 0);

  HeartbeatOutcome moved = registry.OnHeartbeat(Consumer("c@1", "G"), new_connection, 10);
  EXPECT_TRUE(moved.membership_changed.empty());
  auto connections = registry.ConsumerConnections("G");
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_EQ(connections[0], new_connection);

  // The old connection closing later takes nothing with it.
  EXPECT_TRUE(registry.OnConnectionClosed(1).empty());
  EXPECT_EQ(registry.ConsumerIds("G"), Strings{"c@1"});
}

TEST(ClientRegistryTest, UnregisterRemovesClientAndForgetsEmptyGroups) {
  ClientRegistry registry;
  auto c1 = NewConnection(1);
  auto c2 = NewConnection(2);
  registry.OnHeartbeat(Consumer("a@1", "G"), c1, 0);
  registry.OnHeartbeat(Consumer("b@1", "G"), c2, 0);
  registry.OnHeartbeat(Producer("a@1", "P"), c1, 0);

  EXPECT_EQ(registry.Unregister("a@1", "P", "G"), Strings{"G"});
  EXPECT_EQ(registry.ConsumerIds("G"), Strings{"b@1"});
  EXPECT_TRUE(registry.ProducerGroups().empty());
  EXPECT_EQ(registry.PickProducerConnection("P"), nullptr);

  EXPECT_TRUE(registry.Unregister("a@1", "", "G").empty()) << "already gone";
  EXPECT_TRUE(registry.Unregister("b@1", "", "unknown").empty());
  EXPECT_TRUE(registry.Unregister("b@1", "", "").empty()) << "no consumer group named";
  EXPECT_EQ(registry.ConsumerIds("G"), Strings{"b@1"});

  EXPECT_EQ(registry.Unregister("b@1", "", "G"), Strings{"G"});
  EXPECT_FALSE(registry.FindConsumerGroup("G").has_value());
  EXPECT_FALSE(registry.FindSubscription("G", "TopicTest").has_value());
  EXPECT_TRUE(registry.ConsumerGroups().empty());
}

TEST(ClientRegistryTest, ConnectionCloseRemovesEveryRegistrationOverIt) {
  ClientRegistry registry;
  auto c1 = NewConnection(1);
  auto c2 = NewConnection(2);
  HeartbeatData hb = Consumer("a@1", "G2");
  hb.consumers.push_back(Consumer("a@1", "G1").consumers[0]);
  hb.producers.push_back({"P"});
  registry.OnHeartbeat(hb, c1, 0);
  registry.OnHeartbeat(Consumer("b@1", "G1"), c2, 0);

  EXPECT_EQ(registry.OnConnectionClosed(1), (Strings{"G1", "G2"}));
  EXPECT_EQ(registry.ConsumerIds("G1"), Strings{"b@1"});
  EXPECT_FALSE(registry.FindConsumerGroup("G2").has_value());
  EXPECT_TRUE(registry.ProducerGroups().empty());
  EXPECT_TRUE(registry.OnConnectionClosed(1).empty());
  EXPECT_TRUE(registry.OnConnectionClosed(99).empty());
}

TEST(ClientRegistryTest, ExpireIdleDropsSilentClientsAndHandsBackTheirConnections) {
  ClientRegistry registry;
  auto c1 = NewConnection(1);
  auto c2 = NewConnection(2);
  registry.OnHeartbeat(Consumer("a@1", "G"), c1, 0);
  registry.OnHeartbeat(Consumer("b@1", "G"), c2, 0);
  registry.OnHeartbeat(Consumer("b@1", "G"), c2, 100'000);

  ExpiryOutcome at_limit = registry.ExpireIdle(120'000, 120'000);
  EXPECT_TRUE(at_limit.changed_consumer_groups.empty()) << "exactly idle_ms is not yet idle";
  EXPECT_TRUE(at_limit.idle_connections.empty());

  ExpiryOutcome expired = registry.ExpireIdle(120'001, 120'000);
  EXPECT_EQ(expired.changed_consumer_groups, Strings{"G"});
  ASSERT_EQ(expired.idle_connections.size(), 1u);
  EXPECT_EQ(expired.idle_connections[0], c1);
  EXPECT_TRUE(c1->is_open()) << "the registry closes nothing itself";
  EXPECT_EQ(registry.ConsumerIds("G"), Strings{"b@1"});

  ExpiryOutcome later = registry.ExpireIdle(220'001, 120'000);
  EXPECT_EQ(later.changed_consumer_groups, Strings{"G"});
  ASSERT_EQ(later.idle_connections.size(), 1u);
  EXPECT_EQ(later.idle_connections[0], c2);
  EXPECT_TRUE(registry.ConsumerGroups().empty());
}

TEST(ClientRegistryTest, ExpireIdleKeepsConnectionThatStillCarriesAFreshRegistration) {
  ClientRegistry registry;
  auto c = NewConnection(1);
  registry.OnHeartbeat(Consumer("a@1", "G"), c, 0);
  registry.OnHeartbeat(Producer("a@1", "P"), c, 100'000);  // the producer beats on

  ExpiryOutcome outcome = registry.ExpireIdle(130'000);
  EXPECT_EQ(outcome.changed_consumer_groups, Strings{"G"});
  EXPECT_TRUE(outcome.idle_connections.empty());
  EXPECT_EQ(registry.PickProducerConnection("P"), c);
}

TEST(ClientRegistryTest, ClosedOrDestroyedConnectionsAreNeverHandedOut) {
  ClientRegistry registry;
  auto closed = NewConnection(1);
  auto live = NewConnection(2);
  auto doomed = NewConnection(3);
  registry.OnHeartbeat(Consumer("a@1", "G"), closed, 0);
  registry.OnHeartbeat(Consumer("b@1", "G"), live, 0);
  registry.OnHeartbeat(Consumer("c@1", "G"), doomed, 0);
  registry.OnHeartbeat(Producer("a@1", "P"), closed, 0);
  registry.OnHeartbeat(Producer("c@1", "P"), doomed, 0);
  closed->Close();
  doomed.reset();  // the registry holds connections weakly

  EXPECT_EQ(registry.ConsumerIds("G"), Strings{"b@1"});
  auto connections = registry.ConsumerConnections("G");
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_EQ(connections[0], live);
  EXPECT_EQ(registry.FindConsumerGroup("G")->client_ids, Strings{"b@1"});
  EXPECT_EQ(registry.PickProducerConnection("P"), nullptr);

  // The sweep drops them; none is handed back for closing.
  ExpiryOutcome outcome = registry.ExpireIdle(1000);
  EXPECT_EQ(outcome.changed_consumer_groups, Strings{"G"});
  EXPECT_TRUE(outcome.idle_connections.empty());
  EXPECT_EQ(registry.Counts().consumer_clients, 1u);
  EXPECT_TRUE(registry.ProducerGroups().empty());
}

TEST(ClientRegistryTest, SubscriptionsFollowTheNewestHeartbeat) {
  ClientRegistry registry;
  auto c = NewConnection(1);
  registry.OnHeartbeat(Consumer("a@1", "G", {Sub("T1", "TagA", 100), Sub("T2", "*", 100)}), c, 0);
  auto t1 = registry.FindSubscription("G", "T1");
  ASSERT_TRUE(t1.has_value());
  EXPECT_EQ(t1->sub_string, "TagA");
  EXPECT_EQ(t1->sub_version, 100);

  HeartbeatOutcome newer = registry.OnHeartbeat(
      Consumer("a@1", "G", {Sub("T1", "TagB", 200), Sub("T2", "*", 100)}), c, 10);
  EXPECT_EQ(newer.subscription_changed, Strings{"G"});
  EXPECT_TRUE(newer.membership_changed.empty());
  EXPECT_EQ(registry.FindSubscription("G", "T1")->sub_string, "TagB");
  EXPECT_EQ(registry.FindSubscription("G", "T1")->sub_version, 200);

  // A client that has not caught up sends an older version: the newer one stays.
  HeartbeatOutcome stale = registry.OnHeartbeat(
      Consumer("b@1", "G", {Sub("T1", "TagC", 150), Sub("T2", "*", 100)}), c, 20);
  EXPECT_TRUE(stale.subscription_changed.empty());
  EXPECT_EQ(registry.FindSubscription("G", "T1")->sub_string, "TagB");

  // Same expression, newer version: stored, but the filter did not change.
  HeartbeatOutcome renewed = registry.OnHeartbeat(
      Consumer("a@1", "G", {Sub("T1", "TagB", 300), Sub("T2", "*", 100)}), c, 30);
  EXPECT_TRUE(renewed.subscription_changed.empty());
  EXPECT_EQ(registry.FindSubscription("G", "T1")->sub_version, 300);

  // A withoutSub heartbeat (v2, unchanged) leaves the subscriptions alone.
  HeartbeatData light = Consumer("a@1", "G", {});
  light.without_sub = true;
  light.heartbeat_fingerprint = 5;
  EXPECT_TRUE(registry.OnHeartbeat(light, c, 40).subscription_changed.empty());
  EXPECT_TRUE(registry.FindSubscription("G", "T2").has_value());

  // A topic left out of the latest set is dropped.
  HeartbeatOutcome dropped =
      registry.OnHeartbeat(Consumer("a@1", "G", {Sub("T1", "TagB", 300)}), c, 50);
  EXPECT_EQ(dropped.subscription_changed, Strings{"G"});
  EXPECT_FALSE(registry.FindSubscription("G", "T2").has_value());
  EXPECT_EQ(registry.ConsumerGroupsOf("T1"), Strings{"G"});
  EXPECT_TRUE(registry.ConsumerGroupsOf("T2").empty());
  EXPECT_FALSE(registry.FindSubscription("unknown", "T1").has_value());
}

TEST(ClientRegistryTest, FindConsumerGroupSnapshot) {
  ClientRegistry registry;
  auto c = NewConnection(1);
  HeartbeatData hb = Consumer("b@1", "G", {Sub("T2", "*", 1), Sub("T1", "TagA", 2)});
  hb.consumers[0].consume_type = std::string(mqremoting::kConsumeActively);
  hb.consumers[0].message_model = std::string(mqremoting::kBroadcasting);
  hb.consumers[0].consume_from_where = std::string(mqremoting::kConsumeFromFirstOffset);
  registry.OnHeartbeat(hb, c, 0, ClientVersion{"JAVA", 433});
  registry.OnHeartbeat(Consumer("a@1", "G", {Sub("T2", "*", 1), Sub("T1", "TagA", 2)}), c, 0);

  auto snapshot = registry.FindConsumerGroup("G");
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->group, "G");
  // The latest heartbeat's settings (the second used the defaults).
  EXPECT_EQ(snapshot->consume_type, "CONSUME_PASSIVELY");
  EXPECT_EQ(snapshot->message_model, "CLUSTERING");
  EXPECT_EQ(snapshot->consume_from_where, "CONSUME_FROM_LAST_OFFSET");
  ASSERT_EQ(snapshot->subscriptions.size(), 2u);
  EXPECT_EQ(snapshot->subscriptions[0].topic, "T1");
  EXPECT_EQ(snapshot->subscriptions[1].topic, "T2");
  EXPECT_EQ(snapshot->client_ids, (Strings{"a@1", "b@1"}));
  // What each client's frames said it was; a heartbeat without it keeps Java's "unknown".
  ASSERT_EQ(snapshot->client_versions.size(), 2u);
  EXPECT_EQ(snapshot->client_versions[0].language, "OTHER");
  EXPECT_EQ(snapshot->client_versions[0].version, 0);
  EXPECT_EQ(snapshot->client_versions[1].language, "JAVA");
  EXPECT_EQ(snapshot->client_versions[1].version, 433);
  EXPECT_FALSE(registry.FindConsumerGroup("other").has_value());
}

TEST(ClientRegistryTest, PickProducerConnectionTakesTurns) {
  ClientRegistry registry;
  auto c1 = NewConnection(1);
  auto c2 = NewConnection(2);
  auto c3 = NewConnection(3);
  registry.OnHeartbeat(Producer("a@1", "P"), c1, 0);
  registry.OnHeartbeat(Producer("b@1", "P"), c2, 0);
  registry.OnHeartbeat(Producer("c@1", "P"), c3, 0);
  c3->Close();

  std::vector<std::shared_ptr<Connection>> picked;
  for (int i = 0; i < 4; ++i) picked.push_back(registry.PickProducerConnection("P"));
  EXPECT_NE(picked[0], picked[1]);
  EXPECT_EQ(picked[0], picked[2]);
  EXPECT_EQ(picked[1], picked[3]);
  for (const auto& connection : picked) {
    EXPECT_TRUE(connection == c1 || connection == c2);
  }
  EXPECT_EQ(registry.PickProducerConnection("unknown"), nullptr);
}

TEST(ClientRegistryTest, NullConnectionRegistersNothing) {
  ClientRegistry registry;
  HeartbeatOutcome outcome = registry.OnHeartbeat(Consumer("a@1", "G"), nullptr, 0);
  EXPECT_TRUE(outcome.membership_changed.empty());
  EXPECT_TRUE(registry.ConsumerGroups().empty());
}

// Heartbeats, reads and closes from several threads; the end state is exact.
TEST(ClientRegistryTest, ConcurrentUse) {
  ClientRegistry registry;
  constexpr int kThreads = 4;
  constexpr int kClients = 50;
  std::vector<std::shared_ptr<Connection>> connections;
  for (int i = 0; i < kThreads * kClients; ++i) connections.push_back(NewConnection(i + 1));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kClients; ++i) {
        int n = t * kClients + i;
        std::string id = "c@" + std::to_string(n);
        registry.OnHeartbeat(Consumer(id, "G"), connections[n], n);
        registry.OnHeartbeat(Producer(id, "P"), connections[n], n);
        (void)registry.ConsumerIds("G");
        (void)registry.PickProducerConnection("P");
        if (i % 2 == 1) registry.OnConnectionClosed(connections[n]->id());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(registry.ConsumerIds("G").size(), static_cast<size_t>(kThreads * kClients / 2));
  ClientRegistryCounts counts = registry.Counts();
  EXPECT_EQ(counts.consumer_clients, static_cast<size_t>(kThreads * kClients / 2));
  EXPECT_EQ(counts.producer_clients, static_cast<size_t>(kThreads * kClients / 2));
}

}  // namespace
}  // namespace mqbroker
