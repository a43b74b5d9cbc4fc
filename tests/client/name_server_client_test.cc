// NameServerClient: address lists, failover past a dead name server, caching and refresh, and
// the route version that tells derived data (a producer's publish info) when to rebuild.
#include "mqclient/name_server_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "cluster_fixture.h"

namespace mqclient {
namespace {

TEST(SplitAddressListTest, SplitsOnSemicolonsAndCommasAndTrims) {
  EXPECT_EQ(SplitAddressList("a:1; b:2,c:3;;"), (std::vector<std::string>{"a:1", "b:2", "c:3"}));
  EXPECT_TRUE(SplitAddressList("").empty());
}

class NameServerClientTest : public ClusterFixture {};

TEST_F(NameServerClientTest, FailsOverToALiveNameServer) {
  CreateTopic("Routed", 3);
  auto remoting = mqremoting::RemotingClient::Create({});
  NameServerClient client({DeadAddress(), namesrv_addr_}, remoting.get());
  Result<mqremoting::TopicRouteData> route = client.GetRoute("Routed");
  ASSERT_TRUE(route.ok()) << route.status().ToString();
  ASSERT_EQ(route->queue_datas.size(), 1u);
  EXPECT_EQ(route->queue_datas[0].write_queue_nums, 3);
  EXPECT_EQ(MasterAddress(*route, broker_name_), broker_addr_);
  // Served from the cache even once the name server is gone; a refresh then fails.
  namesrv_->Stop();
  EXPECT_TRUE(client.GetRoute("Routed").ok());
  Result<mqremoting::TopicRouteData> refreshed = client.GetRoute("Routed", /*refresh=*/true);
  ASSERT_FALSE(refreshed.ok());
  EXPECT_TRUE(refreshed.status().IsIOError()) << refreshed.status().ToString();
  remoting->Shutdown();
}

TEST_F(NameServerClientTest, UnknownTopicIsNotFound) {
  auto remoting = mqremoting::RemotingClient::Create({});
  NameServerClient client({namesrv_addr_}, remoting.get());
  EXPECT_TRUE(client.GetRoute("NoSuchTopic").status().IsNotFound());
  remoting->Shutdown();
}

TEST_F(NameServerClientTest, NoAddressIsInvalidArgument) {
  auto remoting = mqremoting::RemotingClient::Create({});
  NameServerClient client({}, remoting.get());
  EXPECT_TRUE(client.GetTopicList().status().IsInvalidArgument());
  remoting->Shutdown();
}

TEST_F(NameServerClientTest, RouteVersionMovesOnlyWhenACachedRouteChanges) {
  CreateTopic("Versioned", 2);
  auto remoting = mqremoting::RemotingClient::Create({});
  NameServerClient client({namesrv_addr_}, remoting.get());
  const uint64_t initial = client.route_version();
  auto first = client.GetSharedRoute("Versioned");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const uint64_t fetched = client.route_version();
  EXPECT_GT(fetched, initial);
  // A refresh that brings the same route keeps the cached object and the version.
  auto same = client.GetSharedRoute("Versioned", /*refresh=*/true);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->get(), first->get());
  EXPECT_EQ(client.route_version(), fetched);
  Result<mqremoting::TopicRouteData> copy = client.GetRoute("Versioned");
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(*copy, **first);

  // Re-created with more queues: the next refresh brings a new route and a new version.
  CreateTopic("Versioned", 4);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (namesrv_->registry().GetRoute("Versioned")->queue_datas[0].write_queue_nums != 4) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ((*client.GetSharedRoute("Versioned"))->queue_datas[0].write_queue_nums, 2);  // cached
  auto grown = client.GetSharedRoute("Versioned", /*refresh=*/true);
  ASSERT_TRUE(grown.ok()) << grown.status().ToString();
  EXPECT_EQ((*grown)->queue_datas[0].write_queue_nums, 4);
  EXPECT_EQ((*first)->queue_datas[0].write_queue_nums, 2);  // the old route is immutable
  const uint64_t changed = client.route_version();
  EXPECT_GT(changed, fetched);

  // Nothing cached changes for an unknown topic; forgetting a cached route does.
  EXPECT_TRUE(client.GetSharedRoute("NoSuchTopic").status().IsNotFound());
  client.Invalidate("NoSuchTopic");
  EXPECT_EQ(client.route_version(), changed);
  client.Invalidate("Versioned");
  EXPECT_GT(client.route_version(), changed);
  remoting->Shutdown();
}

}  // namespace
}  // namespace mqclient
