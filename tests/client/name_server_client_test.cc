// NameServerClient: address lists, failover past a dead name server, caching and refresh.
#include "mqclient/name_server_client.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace mqclient
