#include "route_registry.h"

#include <mutex>

namespace mqnamesrv {

using mqremoting::BrokerData;
using mqremoting::ClusterInfo;
using mqremoting::DataVersion;
using mqremoting::QueueData;
using mqremoting::RegisterBrokerBody;
using mqremoting::TopicConfigSerializeWrapper;
using mqremoting::TopicList;
using mqremoting::TopicRouteData;

RouteRegistry::RouteRegistry(std::chrono::milliseconds broker_expiry)
    : broker_expiry_(broker_expiry) {}

RegisterResult RouteRegistry::RegisterBroker(const BrokerRegistration& registration,
                                             const RegisterBrokerBody& body, int64_t now_ms) {
  std::unique_lock lock(mu_);
  const LiveKey key{registration.cluster_name, registration.broker_addr};
  // The same address registering under another broker group (a reconfigured broker) first
  // leaves its old group.
  if (auto live = live_table_.find(key);
      live != live_table_.end() && live->second.broker_name != registration.broker_name) {
    RemoveLiveBroker(key);
  }

  cluster_addr_table_[registration.cluster_name].insert(registration.broker_name);
  auto [group_it, created] = broker_addr_table_.try_emplace(registration.broker_name);
  BrokerData& group = group_it->second;
  if (created) {
    group.cluster = registration.cluster_name;
    group.broker_name = registration.broker_name;
  }
  group.enable_acting_master = registration.enable_acting_master;

  // One address has one id: a slave promoted to master comes back under id 0 from the same
  // address, and its old slave entry must go.
  std::erase_if(group.broker_addrs, [&](const auto& entry) {
    return entry.second == registration.broker_addr && entry.first != registration.broker_id;
  });
  auto previous = group.broker_addrs.find(registration.broker_id);
  const bool first =
      previous == group.broker_addrs.end() || previous->second != registration.broker_addr;
  group.broker_addrs[registration.broker_id] = registration.broker_addr;

  const TopicConfigSerializeWrapper& topics = body.topic_config_serialize_wrapper;
  if (registration.broker_id == mqremoting::kMasterBrokerId) {
    const bool changed = first || TopicConfigChanged(key, topics.data_version);
    RebuildQueueData(registration.broker_name, topics, changed);
  }

  LiveBroker& live = live_table_[key];
  live.broker_name = registration.broker_name;
  live.last_update_ms = now_ms;
  live.expiry_ms = registration.heartbeat_timeout_ms.value_or(0) > 0
                       ? *registration.heartbeat_timeout_ms
                       : broker_expiry_.count();
  live.data_version = topics.data_version;
  live.connection_id = registration.connection_id;
  live.ha_server_addr = registration.ha_server_addr;

  if (body.filter_server_list.empty()) {
    filter_server_table_.erase(registration.broker_addr);
  } else {
    filter_server_table_[registration.broker_addr] = body.filter_server_list;
  }

  RegisterResult result;
  result.first_registration = first;
  if (registration.broker_id != mqremoting::kMasterBrokerId) {
    auto master = group.broker_addrs.find(mqremoting::kMasterBrokerId);
    if (master != group.broker_addrs.end()) {
      auto master_live = live_table_.find(LiveKey{registration.cluster_name, master->second});
      if (master_live != live_table_.end()) {
        result.master_addr = master->second;
        result.ha_server_addr = master_live->second.ha_server_addr;
      }
    }
  }
  return result;
}

bool RouteRegistry::TopicConfigChanged(const LiveKey& key, const DataVersion& version) const {
  auto live = live_table_.find(key);
  return live == live_table_.end() || !(live->second.data_version == version);
}

void RouteRegistry::RebuildQueueData(const std::string& broker_name,
                                     const TopicConfigSerializeWrapper& topics, bool changed) {
  if (changed) {
    // The master sends its whole table: a topic it no longer lists is gone from this group.
    for (auto it = topic_queue_table_.begin(); it != topic_queue_table_.end();) {
      if (!topics.topic_config_table.contains(it->first)) it->second.erase(broker_name);
      it = it->second.empty() ? topic_queue_table_.erase(it) : std::next(it);
    }
  }
  for (const auto& [topic, config] : topics.topic_config_table) {
    auto& queues = topic_queue_table_[topic];
    // An unchanged version still restores a topic deleted here (DELETE_TOPIC_IN_NAMESRV)
    // that the broker keeps serving.
    if (!changed && queues.contains(broker_name)) continue;
    QueueData data;
    data.broker_name = broker_name;
    data.read_queue_nums = config.read_queue_nums;
    data.write_queue_nums = config.write_queue_nums;
    data.perm = config.perm;
    data.topic_sys_flag = config.topic_sys_flag;
    queues[broker_name] = std::move(data);
  }
}

bool RouteRegistry::UnregisterBroker(const std::string& cluster_name,
                                     const std::string& broker_addr, const std::string& broker_name,
                                     int64_t broker_id) {
  std::unique_lock lock(mu_);
  bool removed = false;
  auto live = live_table_.find(LiveKey{cluster_name, broker_addr});
  if (live != live_table_.end() && live->second.broker_name == broker_name) {
    live_table_.erase(live);
    filter_server_table_.erase(broker_addr);
    removed = true;
  }
  return RemoveAddressFromGroup(broker_name, broker_addr, broker_id) || removed;
}

void RouteRegistry::RemoveLiveBroker(const LiveKey& key) {
  auto live = live_table_.find(key);
  if (live == live_table_.end()) return;
  const std::string broker_name = live->second.broker_name;
  live_table_.erase(live);
  filter_server_table_.erase(key.second);
  RemoveAddressFromGroup(broker_name, key.second, std::nullopt);
}

bool RouteRegistry::RemoveAddressFromGroup(const std::string& broker_name,
                                           const std::string& broker_addr,
                                           std::optional<int64_t> broker_id) {
  auto group = broker_addr_table_.find(broker_name);
  if (group == broker_addr_table_.end()) return false;
  const size_t erased = std::erase_if(group->second.broker_addrs, [&](const auto& entry) {
    return entry.second == broker_addr && (!broker_id || entry.first == *broker_id);
  });
  if (!group->second.broker_addrs.empty()) return erased > 0;
  broker_addr_table_.erase(group);
  for (auto cluster = cluster_addr_table_.begin(); cluster != cluster_addr_table_.end();) {
    cluster->second.erase(broker_name);
    cluster = cluster->second.empty() ? cluster_addr_table_.erase(cluster) : std::next(cluster);
  }
  RemoveBrokerNameFromTopics(broker_name);
  return true;
}

void RouteRegistry::RemoveBrokerNameFromTopics(const std::string& broker_name) {
  for (auto it = topic_queue_table_.begin(); it != topic_queue_table_.end();) {
    it->second.erase(broker_name);
    it = it->second.empty() ? topic_queue_table_.erase(it) : std::next(it);
  }
}

bool RouteRegistry::RefreshBroker(const std::string& cluster_name, const std::string& broker_addr,
                                  int64_t now_ms) {
  std::unique_lock lock(mu_);
  auto live = live_table_.find(LiveKey{cluster_name, broker_addr});
  if (live == live_table_.end()) return false;
  live->second.last_update_ms = now_ms;
  return true;
}

std::optional<TopicRouteData> RouteRegistry::GetRoute(const std::string& topic) const {
  std::shared_lock lock(mu_);
  auto queues = topic_queue_table_.find(topic);
  if (queues == topic_queue_table_.end() || queues->second.empty()) return std::nullopt;
  TopicRouteData route;
  for (const auto& [broker_name, data] : queues->second) {
    route.queue_datas.push_back(data);
    auto group = broker_addr_table_.find(broker_name);
    if (group == broker_addr_table_.end() || group->second.broker_addrs.empty()) continue;
    route.broker_datas.push_back(group->second);
    for (const auto& [broker_id, address] : group->second.broker_addrs) {
      auto filter_servers = filter_server_table_.find(address);
      if (filter_servers != filter_server_table_.end()) {
        route.filter_server_table[address] = filter_servers->second;
      }
    }
  }
  // Queue data without any registered broker to serve it is no route.
  if (route.broker_datas.empty()) return std::nullopt;
  return route;
}

ClusterInfo RouteRegistry::GetClusterInfo() const {
  std::shared_lock lock(mu_);
  ClusterInfo info;
  info.broker_addr_table = broker_addr_table_;
  info.cluster_addr_table = cluster_addr_table_;
  return info;
}

TopicList RouteRegistry::GetTopicList() const {
  std::shared_lock lock(mu_);
  TopicList list;
  for (const auto& [topic, queues] : topic_queue_table_) list.topic_list.insert(topic);
  return list;
}

std::vector<RemovedBroker> RouteRegistry::ExpireInactive(int64_t now_ms) {
  std::unique_lock lock(mu_);
  std::vector<RemovedBroker> removed;
  for (const auto& [key, live] : live_table_) {
    if (live.last_update_ms + live.expiry_ms < now_ms) {
      removed.push_back(RemovedBroker{key.first, live.broker_name, key.second});
    }
  }
  for (const RemovedBroker& broker : removed) {
    RemoveLiveBroker(LiveKey{broker.cluster_name, broker.broker_addr});
  }
  return removed;
}

std::vector<RemovedBroker> RouteRegistry::OnConnectionClosed(uint64_t connection_id) {
  std::vector<RemovedBroker> removed;
  if (connection_id == 0) return removed;
  std::unique_lock lock(mu_);
  for (const auto& [key, live] : live_table_) {
    if (live.connection_id == connection_id) {
      removed.push_back(RemovedBroker{key.first, live.broker_name, key.second});
    }
  }
  for (const RemovedBroker& broker : removed) {
    RemoveLiveBroker(LiveKey{broker.cluster_name, broker.broker_addr});
  }
  return removed;
}

bool RouteRegistry::DeleteTopic(const std::string& topic,
                                const std::optional<std::string>& cluster_name) {
  std::unique_lock lock(mu_);
  auto queues = topic_queue_table_.find(topic);
  if (queues == topic_queue_table_.end()) return false;
  if (!cluster_name) {
    topic_queue_table_.erase(queues);
    return true;
  }
  auto cluster = cluster_addr_table_.find(*cluster_name);
  if (cluster == cluster_addr_table_.end()) return false;
  bool removed = false;
  for (const std::string& broker_name : cluster->second) {
    removed = queues->second.erase(broker_name) > 0 || removed;
  }
  if (queues->second.empty()) topic_queue_table_.erase(queues);
  return removed;
}

}  // namespace mqnamesrv
