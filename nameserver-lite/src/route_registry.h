// RouteRegistry: the name server's in-memory tables (docs/format/nameserver.md, "Liveness"):
// which brokers are alive, which broker groups make up each cluster, and which broker groups
// serve each topic with how many queues.
//
// It follows RocketMQ's RouteInfoManager: a broker registers every 30 s with its whole topic
// table; the master's table (id 0) decides the topic's queue data for its broker group; a
// broker is dropped when it has been silent for longer than its expiry or when the connection
// it registered over closes. Time is passed in (now_ms, any monotonic millisecond clock) so
// that tests decide it. Thread-safe: readers share a lock, changes take it exclusively.
#ifndef NAMESERVER_LITE_ROUTE_REGISTRY_H_
#define NAMESERVER_LITE_ROUTE_REGISTRY_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "remoting/route_data.h"

namespace mqnamesrv {

// The header fields of one REGISTER_BROKER plus where it came from.
struct BrokerRegistration {
  std::string cluster_name;
  std::string broker_name;
  std::string broker_addr;  // "ip:port"
  int64_t broker_id = 0;    // 0 = master
  std::string ha_server_addr;
  // The broker's own expiry (heartbeatTimeoutMillis); nullopt or <= 0 = the registry default.
  std::optional<int64_t> heartbeat_timeout_ms;
  bool enable_acting_master = false;
  // The connection it arrived on; when that connection closes the broker is dropped. 0 = none.
  uint64_t connection_id = 0;
};

struct RegisterResult {
  // For a slave whose master is registered and alive: the master's address and HA address.
  std::string master_addr;
  std::string ha_server_addr;
  // True when this address was not registered under this broker id before.
  bool first_registration = false;
};

// A broker address taken out of the tables (expired, connection closed, unregistered).
struct RemovedBroker {
  std::string cluster_name;
  std::string broker_name;
  std::string broker_addr;
};

class RouteRegistry {
 public:
  explicit RouteRegistry(std::chrono::milliseconds broker_expiry = std::chrono::minutes(2));

  RouteRegistry(const RouteRegistry&) = delete;
  RouteRegistry& operator=(const RouteRegistry&) = delete;

  // Adds or refreshes a broker. The address replaces whatever was registered under its id,
  // and is removed from any other id of its broker group (a slave that became master). When
  // the registrant is the master and this is its first registration or its data version
  // changed, the group's queue data is rebuilt from `body`: every listed topic gets the
  // listed queue counts, and topics the master no longer lists lose this group.
  RegisterResult RegisterBroker(const BrokerRegistration& registration,
                                const mqremoting::RegisterBrokerBody& body, int64_t now_ms);

  // Removes `broker_addr` (registered under `broker_id` of `broker_name`). A broker group
  // left without addresses leaves its cluster and every topic. False if it was not there.
  bool UnregisterBroker(const std::string& cluster_name, const std::string& broker_addr,
                        const std::string& broker_name, int64_t broker_id);

  // BROKER_HEARTBEAT: marks a registered broker as alive now. False if it is not registered.
  bool RefreshBroker(const std::string& cluster_name, const std::string& broker_addr,
                     int64_t now_ms);

  // The route of `topic`, or nullopt when no broker group serves it or none of its groups
  // has a registered broker.
  std::optional<mqremoting::TopicRouteData> GetRoute(const std::string& topic) const;

  mqremoting::ClusterInfo GetClusterInfo() const;
  // Every topic that has queue data.
  mqremoting::TopicList GetTopicList() const;

  // Drops every broker silent for longer than its expiry (last registration or heartbeat +
  // expiry < now_ms) and returns them.
  std::vector<RemovedBroker> ExpireInactive(int64_t now_ms);
  // Drops every broker whose live registration came over `connection_id`.
  std::vector<RemovedBroker> OnConnectionClosed(uint64_t connection_id);

  // Removes the topic's queue data: of every broker group, or only of the groups of
  // `cluster_name` when given. False if nothing was removed.
  bool DeleteTopic(const std::string& topic,
                   const std::optional<std::string>& cluster_name = std::nullopt);

  std::chrono::milliseconds broker_expiry() const { return broker_expiry_; }

 private:
  // A registered broker address, keyed by (cluster, address) as RocketMQ's BrokerAddrInfo.
  struct LiveBroker {
    std::string broker_name;
    int64_t last_update_ms = 0;
    int64_t expiry_ms = 0;
    mqremoting::DataVersion data_version;
    uint64_t connection_id = 0;
    std::string ha_server_addr;
  };
  using LiveKey = std::pair<std::string, std::string>;  // cluster, broker address

  bool TopicConfigChanged(const LiveKey& key, const mqremoting::DataVersion& version) const;
  void RebuildQueueData(const std::string& broker_name,
                        const mqremoting::TopicConfigSerializeWrapper& topics, bool changed);
  // Removes the live entry and its address from its broker group.
  void RemoveLiveBroker(const LiveKey& key);
  // Removes `broker_addr` (under `broker_id` when given) from the group; a group left empty
  // leaves every cluster and topic. True if anything was removed.
  bool RemoveAddressFromGroup(const std::string& broker_name, const std::string& broker_addr,
                              std::optional<int64_t> broker_id);
  void RemoveBrokerNameFromTopics(const std::string& broker_name);

  const std::chrono::milliseconds broker_expiry_;

  mutable std::shared_mutex mu_;
  // topic -> broker name -> queue data
  std::map<std::string, std::map<std::string, mqremoting::QueueData>> topic_queue_table_;
  // broker name -> broker group
  std::map<std::string, mqremoting::BrokerData> broker_addr_table_;
  // cluster -> broker names
  std::map<std::string, std::set<std::string>> cluster_addr_table_;
  std::map<LiveKey, LiveBroker> live_table_;
  // broker address -> its filter servers (non-empty lists only)
  std::map<std::string, std::vector<std::string>> filter_server_table_;
};

}  // namespace mqnamesrv

#endif  // NAMESERVER_LITE_ROUTE_REGISTRY_H_
