#include "route_registry.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace mqnamesrv {
namespace {

using mqremoting::DataVersion;
using mqremoting::RegisterBrokerBody;
using mqremoting::TopicConfig;

constexpr char kCluster[] = "DefaultCluster";
constexpr char kMasterAddr[] = "127.0.0.1:10911";
constexpr char kSlaveAddr[] = "127.0.0.1:10921";

BrokerRegistration Broker(std::string name, int64_t id, std::string addr,
                          uint64_t connection_id = 0) {
  BrokerRegistration registration;
  registration.cluster_name = kCluster;
  registration.broker_name = std::move(name);
  registration.broker_id = id;
  registration.broker_addr = addr;
  registration.ha_server_addr = addr.substr(0, addr.find(':')) + ":10912";
  registration.connection_id = connection_id;
  return registration;
}

// A body listing `topics` (4 read / 4 write queues, perm 6) at data version `counter`.
RegisterBrokerBody Body(std::vector<std::string> topics, int64_t counter, int32_t queues = 4) {
  RegisterBrokerBody body;
  for (const std::string& topic : topics) {
    TopicConfig config;
    config.topic_name = topic;
    config.read_queue_nums = queues;
    config.write_queue_nums = queues;
    config.perm = 6;
    body.topic_config_serialize_wrapper.topic_config_table[topic] = config;
  }
  body.topic_config_serialize_wrapper.data_version = DataVersion{1000, counter, 0};
  return body;
}

TEST(RouteRegistryTest, MasterRegistrationGivesTheTopicARoute) {
  RouteRegistry registry;
  RegisterResult result =
      registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA"}, 1), 0);
  EXPECT_TRUE(result.first_registration);
  EXPECT_TRUE(result.master_addr.empty());

  auto route = registry.GetRoute("TopicA");
  ASSERT_TRUE(route.has_value());
  ASSERT_EQ(route->queue_datas.size(), 1u);
  EXPECT_EQ(route->queue_datas[0], (mqremoting::QueueData{"broker-a", 4, 4, 6, 0}));
  ASSERT_EQ(route->broker_datas.size(), 1u);
  EXPECT_EQ(route->broker_datas[0].cluster, kCluster);
  EXPECT_EQ(route->broker_datas[0].broker_name, "broker-a");
  EXPECT_EQ(route->broker_datas[0].broker_addrs,
            (std::map<int64_t, std::string>{{0, kMasterAddr}}));
  EXPECT_FALSE(route->order_topic_conf.has_value());

  // Re-registering the same address is not a first registration.
  EXPECT_FALSE(registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA"}, 1), 1)
                   .first_registration);
}

TEST(RouteRegistryTest, UnknownTopicHasNoRoute) {
  RouteRegistry registry;
  EXPECT_FALSE(registry.GetRoute("Nope").has_value());
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA"}, 1), 0);
  EXPECT_FALSE(registry.GetRoute("Nope").has_value());
}

TEST(RouteRegistryTest, SlaveGetsItsMastersAddressesAndJoinsTheRoute) {
  RouteRegistry registry;
  // A slave before its master: nothing to point at yet.
  RegisterResult early =
      registry.RegisterBroker(Broker("broker-a", 1, kSlaveAddr), Body({"TopicA"}, 1), 0);
  EXPECT_TRUE(early.master_addr.empty());
  EXPECT_TRUE(early.ha_server_addr.empty());
  // A slave's topic table does not make routes.
  EXPECT_FALSE(registry.GetRoute("TopicA").has_value());

  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA"}, 1), 1);
  RegisterResult slave =
      registry.RegisterBroker(Broker("broker-a", 1, kSlaveAddr), Body({"TopicA"}, 1), 2);
  EXPECT_EQ(slave.master_addr, kMasterAddr);
  EXPECT_EQ(slave.ha_server_addr, "127.0.0.1:10912");

  auto route = registry.GetRoute("TopicA");
  ASSERT_TRUE(route.has_value());
  ASSERT_EQ(route->broker_datas.size(), 1u);
  EXPECT_EQ(route->broker_datas[0].broker_addrs,
            (std::map<int64_t, std::string>{{0, kMasterAddr}, {1, kSlaveAddr}}));
}

TEST(RouteRegistryTest, AnAddressRegisteringUnderAnotherIdMoves) {
  RouteRegistry registry;
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA"}, 1), 0);
  registry.RegisterBroker(Broker("broker-a", 1, kSlaveAddr), Body({"TopicA"}, 1), 0);
  // The master goes away and the slave is promoted: it registers as id 0 from its address.
  ASSERT_TRUE(registry.UnregisterBroker(kCluster, kMasterAddr, "broker-a", 0));
  registry.RegisterBroker(Broker("broker-a", 0, kSlaveAddr), Body({"TopicA"}, 2), 1);

  auto info = registry.GetClusterInfo();
  EXPECT_EQ(info.broker_addr_table.at("broker-a").broker_addrs,
            (std::map<int64_t, std::string>{{0, kSlaveAddr}}));
}

TEST(RouteRegistryTest, QueueDataIsRebuiltOnlyWhenTheDataVersionChanges) {
  RouteRegistry registry;
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA"}, 1, 4), 0);
  // Same version, different counts: the name server trusts the version and keeps 4.
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA"}, 1, 8), 1);
  EXPECT_EQ(registry.GetRoute("TopicA")->queue_datas[0].write_queue_nums, 4);
  // New version: rebuilt.
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA"}, 2, 8), 2);
  EXPECT_EQ(registry.GetRoute("TopicA")->queue_datas[0].write_queue_nums, 8);
  EXPECT_EQ(registry.GetRoute("TopicA")->queue_datas[0].read_queue_nums, 8);
}

TEST(RouteRegistryTest, ANewTopicWithTheSameVersionIsStillAdded) {
  RouteRegistry registry;
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA"}, 1), 0);
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA", "TopicB"}, 1), 1);
  EXPECT_TRUE(registry.GetRoute("TopicB").has_value());
}

TEST(RouteRegistryTest, ATopicTheMasterStopsListingIsDropped) {
  RouteRegistry registry;
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA", "TopicB"}, 1), 0);
  registry.RegisterBroker(Broker("broker-b", 0, "127.0.0.2:10911"), Body({"TopicB"}, 1), 0);
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA"}, 2), 1);

  EXPECT_TRUE(registry.GetRoute("TopicA").has_value());
  // TopicB is now served by broker-b only.
  auto route = registry.GetRoute("TopicB");
  ASSERT_TRUE(route.has_value());
  ASSERT_EQ(route->queue_datas.size(), 1u);
  EXPECT_EQ(route->queue_datas[0].broker_name, "broker-b");
  ASSERT_EQ(route->broker_datas.size(), 1u);
  EXPECT_EQ(route->broker_datas[0].broker_name, "broker-b");

  registry.RegisterBroker(Broker("broker-b", 0, "127.0.0.2:10911"), Body({}, 2), 1);
  EXPECT_FALSE(registry.GetRoute("TopicB").has_value());
  EXPECT_EQ(registry.GetTopicList().topic_list, (std::set<std::string>{"TopicA"}));
}

TEST(RouteRegistryTest, TwoBrokerGroupsShareATopic) {
  RouteRegistry registry;
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA"}, 1), 0);
  registry.RegisterBroker(Broker("broker-b", 0, "127.0.0.2:10911"), Body({"TopicA"}, 1, 2), 0);
  auto route = registry.GetRoute("TopicA");
  ASSERT_TRUE(route.has_value());
  ASSERT_EQ(route->queue_datas.size(), 2u);
  EXPECT_EQ(route->queue_datas[0].broker_name, "broker-a");
  EXPECT_EQ(route->queue_datas[1].broker_name, "broker-b");
  EXPECT_EQ(route->queue_datas[1].write_queue_nums, 2);
  EXPECT_EQ(route->broker_datas.size(), 2u);
}

TEST(RouteRegistryTest, BrokersExpireAfterTheirExpiry) {
  RouteRegistry registry(std::chrono::milliseconds(1000));
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA"}, 1), 0);
  BrokerRegistration quick = Broker("broker-b", 0, "127.0.0.2:10911");
  quick.heartbeat_timeout_ms = 100;
  registry.RegisterBroker(quick, Body({"TopicB"}, 1), 0);

  // Exactly at the expiry nothing goes (it must be exceeded).
  EXPECT_TRUE(registry.ExpireInactive(100).empty());
  std::vector<RemovedBroker> removed = registry.ExpireInactive(101);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].broker_name, "broker-b");
  EXPECT_EQ(removed[0].broker_addr, "127.0.0.2:10911");
  EXPECT_EQ(removed[0].cluster_name, kCluster);
  EXPECT_FALSE(registry.GetRoute("TopicB").has_value());
  EXPECT_TRUE(registry.GetRoute("TopicA").has_value());

  // A heartbeat keeps broker-a alive past its first expiry.
  EXPECT_TRUE(registry.RefreshBroker(kCluster, kMasterAddr, 900));
  EXPECT_TRUE(registry.ExpireInactive(1500).empty());
  removed = registry.ExpireInactive(1901);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_FALSE(registry.GetRoute("TopicA").has_value());
  EXPECT_TRUE(registry.GetClusterInfo().broker_addr_table.empty());
  EXPECT_TRUE(registry.GetClusterInfo().cluster_addr_table.empty());
  EXPECT_TRUE(registry.GetTopicList().topic_list.empty());
}

TEST(RouteRegistryTest, HeartbeatOfAnUnknownBrokerIsRefused) {
  RouteRegistry registry;
  EXPECT_FALSE(registry.RefreshBroker(kCluster, kMasterAddr, 0));
}

TEST(RouteRegistryTest, ARouteNeedsALiveBroker) {
  RouteRegistry registry(std::chrono::milliseconds(1000));
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"TopicA"}, 1), 0);
  registry.RegisterBroker(Broker("broker-a", 1, kSlaveAddr), Body({"TopicA"}, 1), 500);
  // The master expires; the slave still serves reads, so the route stays, without id 0.
  ASSERT_EQ(registry.ExpireInactive(1200).size(), 1u);
  auto route = registry.GetRoute("TopicA");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->broker_datas[0].broker_addrs, (std::map<int64_t, std::string>{{1, kSlaveAddr}}));
  // The slave expires too: no broker of the group is left, and no route.
  ASSERT_EQ(registry.ExpireInactive(1600).size(), 1u);
  EXPECT_FALSE(registry.GetRoute("TopicA").has_value());
}

TEST(RouteRegistryTest, ClosingTheRegistrationConnectionDropsItsBrokers) {
  RouteRegistry registry;
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr, /*connection_id=*/7), Body({"T"}, 1),
                          0);
  registry.RegisterBroker(Broker("broker-b", 0, "127.0.0.2:10911", 8), Body({"T"}, 1), 0);
  EXPECT_TRUE(registry.OnConnectionClosed(99).empty());
  EXPECT_TRUE(registry.OnConnectionClosed(0).empty());

  std::vector<RemovedBroker> removed = registry.OnConnectionClosed(7);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].broker_name, "broker-a");
  auto route = registry.GetRoute("T");
  ASSERT_TRUE(route.has_value());
  ASSERT_EQ(route->broker_datas.size(), 1u);
  EXPECT_EQ(route->broker_datas[0].broker_name, "broker-b");
}

TEST(RouteRegistryTest, ReRegisteringOverANewConnectionSurvivesTheOldOnesClose) {
  RouteRegistry registry;
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr, 7), Body({"T"}, 1), 0);
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr, 9), Body({"T"}, 1), 1);
  EXPECT_TRUE(registry.OnConnectionClosed(7).empty());
  EXPECT_TRUE(registry.GetRoute("T").has_value());
}

TEST(RouteRegistryTest, UnregisterRemovesTheBrokerAndAnEmptyGroup) {
  RouteRegistry registry;
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"T"}, 1), 0);
  registry.RegisterBroker(Broker("broker-a", 1, kSlaveAddr), Body({"T"}, 1), 0);
  EXPECT_FALSE(registry.UnregisterBroker(kCluster, "127.9.9.9:1", "broker-a", 0));

  EXPECT_TRUE(registry.UnregisterBroker(kCluster, kSlaveAddr, "broker-a", 1));
  EXPECT_EQ(registry.GetClusterInfo().broker_addr_table.at("broker-a").broker_addrs.size(), 1u);
  EXPECT_TRUE(registry.UnregisterBroker(kCluster, kMasterAddr, "broker-a", 0));
  EXPECT_FALSE(registry.GetRoute("T").has_value());
  EXPECT_TRUE(registry.GetClusterInfo().broker_addr_table.empty());
  EXPECT_FALSE(registry.UnregisterBroker(kCluster, kMasterAddr, "broker-a", 0));
}

TEST(RouteRegistryTest, ClusterInfoListsGroupsByCluster) {
  RouteRegistry registry;
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({}, 1), 0);
  BrokerRegistration other = Broker("broker-c", 0, "127.0.0.3:10911");
  other.cluster_name = "OtherCluster";
  other.enable_acting_master = true;
  registry.RegisterBroker(other, Body({}, 1), 0);
  auto info = registry.GetClusterInfo();
  EXPECT_EQ(info.cluster_addr_table.at(kCluster), (std::set<std::string>{"broker-a"}));
  EXPECT_EQ(info.cluster_addr_table.at("OtherCluster"), (std::set<std::string>{"broker-c"}));
  EXPECT_EQ(info.broker_addr_table.at("broker-c").cluster, "OtherCluster");
  EXPECT_TRUE(info.broker_addr_table.at("broker-c").enable_acting_master);
}

TEST(RouteRegistryTest, DeleteTopicRemovesItUntilTheBrokerListsItAgain) {
  RouteRegistry registry;
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"T", "U"}, 1), 0);
  EXPECT_TRUE(registry.DeleteTopic("T"));
  EXPECT_FALSE(registry.DeleteTopic("T"));
  EXPECT_FALSE(registry.GetRoute("T").has_value());
  EXPECT_EQ(registry.GetTopicList().topic_list, (std::set<std::string>{"U"}));
  // The broker still has it (same version): its next registration brings it back, as the
  // Java name server does.
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"T", "U"}, 1), 1);
  EXPECT_TRUE(registry.GetRoute("T").has_value());
}

TEST(RouteRegistryTest, DeleteTopicInOneClusterKeepsTheOthers) {
  RouteRegistry registry;
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"T"}, 1), 0);
  BrokerRegistration other = Broker("broker-c", 0, "127.0.0.3:10911");
  other.cluster_name = "OtherCluster";
  registry.RegisterBroker(other, Body({"T"}, 1), 0);

  EXPECT_FALSE(registry.DeleteTopic("T", std::string("NoSuchCluster")));
  EXPECT_TRUE(registry.DeleteTopic("T", std::string(kCluster)));
  auto route = registry.GetRoute("T");
  ASSERT_TRUE(route.has_value());
  ASSERT_EQ(route->queue_datas.size(), 1u);
  EXPECT_EQ(route->queue_datas[0].broker_name, "broker-c");
}

TEST(RouteRegistryTest, FilterServersOfTheRoutesBrokersAreListed) {
  RouteRegistry registry;
  RegisterBrokerBody body = Body({"T"}, 1);
  body.filter_server_list = {"127.0.0.1:30000"};
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), body, 0);
  auto route = registry.GetRoute("T");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->filter_server_table.at(kMasterAddr),
            std::vector<std::string>{"127.0.0.1:30000"});
}

TEST(RouteRegistryTest, AnAddressMovingToAnotherGroupLeavesTheOldOne) {
  RouteRegistry registry;
  registry.RegisterBroker(Broker("broker-a", 0, kMasterAddr), Body({"T"}, 1), 0);
  registry.RegisterBroker(Broker("broker-z", 0, kMasterAddr), Body({"T"}, 1), 1);
  auto info = registry.GetClusterInfo();
  EXPECT_FALSE(info.broker_addr_table.contains("broker-a"));
  auto route = registry.GetRoute("T");
  ASSERT_TRUE(route.has_value());
  ASSERT_EQ(route->queue_datas.size(), 1u);
  EXPECT_EQ(route->queue_datas[0].broker_name, "broker-z");
}

TEST(RouteRegistryTest, ConcurrentRegistrationsAndReadsAreSafe) {
  RouteRegistry registry(std::chrono::milliseconds(50));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&registry, t] {
      std::string name = "broker-" + std::to_string(t);
      std::string addr = "127.0.0." + std::to_string(t + 1) + ":10911";
      for (int i = 0; i < 500; ++i) {
        registry.RegisterBroker(Broker(name, 0, addr, t + 1), Body({"T", name}, i), i);
        registry.GetRoute("T");
        registry.GetClusterInfo();
        registry.ExpireInactive(i);
        if (i % 50 == 0) registry.OnConnectionClosed(t + 1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  // Every broker re-registered at its last step, and nothing expired it since.
  auto route = registry.GetRoute("T");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->broker_datas.size(), 4u);
}

}  // namespace
}  // namespace mqnamesrv
