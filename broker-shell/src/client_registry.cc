#include "client_registry.h"

#include <algorithm>
#include <set>
#include <utility>

#include "remoting/transport.h"

namespace mqbroker {

namespace {

// Whether a heartbeat's version of a subscription filters differently from the stored one.
bool FilterDiffers(const SubscriptionData& a, const SubscriptionData& b) {
  return a.sub_string != b.sub_string || a.expression_type != b.expression_type ||
         a.tags_set != b.tags_set || a.class_filter_mode != b.class_filter_mode;
}

std::vector<std::string> SortedUnique(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

template <typename Map>
std::vector<std::string> KeysOf(const Map& map) {
  std::vector<std::string> keys;
  keys.reserve(map.size());
  for (const auto& [key, value] : map) keys.push_back(key);
  return keys;
}

}  // namespace

std::shared_ptr<mqremoting::Connection> ClientRegistry::OpenConnection(const Channel& channel) {
  std::shared_ptr<mqremoting::Connection> connection = channel.connection.lock();
  if (connection == nullptr || !connection->is_open()) return nullptr;
  return connection;
}

bool ClientRegistry::UpdateSubscriptions(const std::vector<SubscriptionData>& subscriptions,
                                         ConsumerGroup* group) {
  bool changed = false;
  std::set<std::string_view> topics;
  for (const SubscriptionData& sub : subscriptions) {
    topics.insert(sub.topic);
    auto it = group->subscriptions.find(sub.topic);
    if (it == group->subscriptions.end()) {
      group->subscriptions.emplace(sub.topic, sub);
      changed = true;
    } else if (sub.sub_version >= it->second.sub_version) {
      // An older sub_version comes from a client that has not caught up yet: keep ours.
      if (FilterDiffers(sub, it->second)) changed = true;
      it->second = sub;
    }
  }
  for (auto it = group->subscriptions.begin(); it != group->subscriptions.end();) {
    if (topics.count(it->first) == 0) {
      it = group->subscriptions.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  return changed;
}

HeartbeatOutcome ClientRegistry::OnHeartbeat(
    const HeartbeatData& heartbeat, const std::shared_ptr<mqremoting::Connection>& connection,
    int64_t now_ms, const ClientVersion& version) {
  HeartbeatOutcome outcome;
  if (connection == nullptr) return outcome;
  Channel channel{connection, connection->id(), now_ms, version};

  std::lock_guard<std::mutex> lock(mu_);
  for (const ProducerData& producer : heartbeat.producers) {
    producers_[producer.group_name].clients[heartbeat.client_id] = channel;
  }
  for (const ConsumerData& consumer : heartbeat.consumers) {
    ConsumerGroup& group = consumers_[consumer.group_name];
    group.consume_type = consumer.consume_type;
    group.message_model = consumer.message_model;
    group.consume_from_where = consumer.consume_from_where;
    auto [it, inserted] = group.clients.insert_or_assign(heartbeat.client_id, channel);
    if (inserted) outcome.membership_changed.push_back(consumer.group_name);
    if (!heartbeat.without_sub && UpdateSubscriptions(consumer.subscriptions, &group)) {
      outcome.subscription_changed.push_back(consumer.group_name);
    }
  }
  outcome.membership_changed = SortedUnique(std::move(outcome.membership_changed));
  outcome.subscription_changed = SortedUnique(std::move(outcome.subscription_changed));
  return outcome;
}

std::vector<std::string> ClientRegistry::Unregister(std::string_view client_id,
                                                    std::string_view producer_group,
                                                    std::string_view consumer_group) {
  std::vector<std::string> changed;
  std::lock_guard<std::mutex> lock(mu_);
  if (!producer_group.empty()) {
    auto group = producers_.find(producer_group);
    if (group != producers_.end()) {
      auto client = group->second.clients.find(client_id);
      if (client != group->second.clients.end()) group->second.clients.erase(client);
      if (group->second.clients.empty()) producers_.erase(group);
    }
  }
  if (!consumer_group.empty()) {
    auto group = consumers_.find(consumer_group);
    if (group != consumers_.end()) {
      auto client = group->second.clients.find(client_id);
      if (client != group->second.clients.end()) {
        group->second.clients.erase(client);
        changed.push_back(group->first);
      }
      if (group->second.clients.empty()) consumers_.erase(group);
    }
  }
  return changed;
}

std::vector<std::string> ClientRegistry::OnConnectionClosed(uint64_t connection_id) {
  auto over_it = [connection_id](const auto& entry) {
    return entry.second.connection_id == connection_id;
  };
  std::vector<std::string> changed;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto group = producers_.begin(); group != producers_.end();) {
    std::erase_if(group->second.clients, over_it);
    group = group->second.clients.empty() ? producers_.erase(group) : std::next(group);
  }
  for (auto group = consumers_.begin(); group != consumers_.end();) {
    if (std::erase_if(group->second.clients, over_it) > 0) changed.push_back(group->first);
    group = group->second.clients.empty() ? consumers_.erase(group) : std::next(group);
  }
  return changed;
}

ExpiryOutcome ClientRegistry::ExpireIdle(int64_t now_ms, int64_t idle_ms) {
  ExpiryOutcome outcome;
  // Open connections that lost a registration, by id; reported unless another one is left.
  std::map<uint64_t, std::shared_ptr<mqremoting::Connection>> idle;
  std::set<uint64_t> still_used;
  // Drops the dead and idle entries of `clients`; true when it dropped any.
  auto sweep = [&](Channels& clients) {
    size_t before = clients.size();
    for (auto it = clients.begin(); it != clients.end();) {
      std::shared_ptr<mqremoting::Connection> connection = OpenConnection(it->second);
      if (connection != nullptr && now_ms - it->second.last_update_ms <= idle_ms) {
        still_used.insert(it->second.connection_id);
        ++it;
        continue;
      }
      if (connection != nullptr) idle.emplace(it->second.connection_id, std::move(connection));
      it = clients.erase(it);
    }
    return clients.size() != before;
  };

  std::lock_guard<std::mutex> lock(mu_);
  for (auto group = producers_.begin(); group != producers_.end();) {
    sweep(group->second.clients);
    group = group->second.clients.empty() ? producers_.erase(group) : std::next(group);
  }
  for (auto group = consumers_.begin(); group != consumers_.end();) {
    if (sweep(group->second.clients)) outcome.changed_consumer_groups.push_back(group->first);
    group = group->second.clients.empty() ? consumers_.erase(group) : std::next(group);
  }
  for (auto& [id, connection] : idle) {
    if (still_used.count(id) == 0) outcome.idle_connections.push_back(std::move(connection));
  }
  return outcome;
}

std::vector<std::string> ClientRegistry::ConsumerIds(std::string_view group) const {
  std::vector<std::string> ids;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = consumers_.find(group);
  if (it == consumers_.end()) return ids;
  for (const auto& [client_id, channel] : it->second.clients) {
    if (OpenConnection(channel) != nullptr) ids.push_back(client_id);
  }
  return ids;  // map order is sorted order
}

std::vector<std::shared_ptr<mqremoting::Connection>> ClientRegistry::ConsumerConnections(
    std::string_view group) const {
  std::vector<std::shared_ptr<mqremoting::Connection>> connections;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = consumers_.find(group);
  if (it == consumers_.end()) return connections;
  for (const auto& [client_id, channel] : it->second.clients) {
    if (auto connection = OpenConnection(channel)) connections.push_back(std::move(connection));
  }
  return connections;
}

std::optional<SubscriptionData> ClientRegistry::FindSubscription(std::string_view group,
                                                                 std::string_view topic) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = consumers_.find(group);
  if (it == consumers_.end()) return std::nullopt;
  auto sub = it->second.subscriptions.find(topic);
  if (sub == it->second.subscriptions.end()) return std::nullopt;
  return sub->second;
}

std::optional<ConsumerGroupSnapshot> ClientRegistry::FindConsumerGroup(
    std::string_view group) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = consumers_.find(group);
  if (it == consumers_.end()) return std::nullopt;
  const ConsumerGroup& info = it->second;
  ConsumerGroupSnapshot snapshot;
  snapshot.group = it->first;
  snapshot.consume_type = info.consume_type;
  snapshot.message_model = info.message_model;
  snapshot.consume_from_where = info.consume_from_where;
  for (const auto& [topic, sub] : info.subscriptions) snapshot.subscriptions.push_back(sub);
  for (const auto& [client_id, channel] : info.clients) {
    if (auto connection = OpenConnection(channel)) {
      snapshot.client_ids.push_back(client_id);
      snapshot.client_addresses.push_back(connection->remote_address());
      snapshot.client_versions.push_back(channel.version);
    }
  }
  return snapshot;
}

std::vector<std::string> ClientRegistry::ConsumerGroupsOf(std::string_view topic) const {
  std::vector<std::string> groups;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, info] : consumers_) {
    if (info.subscriptions.find(topic) != info.subscriptions.end()) groups.push_back(name);
  }
  return groups;
}

std::shared_ptr<mqremoting::Connection> ClientRegistry::PickProducerConnection(
    std::string_view group) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = producers_.find(group);
  if (it == producers_.end()) return nullptr;
  ProducerGroup& producers = it->second;
  std::vector<std::shared_ptr<mqremoting::Connection>> open;
  for (const auto& [client_id, channel] : producers.clients) {
    if (auto connection = OpenConnection(channel)) open.push_back(std::move(connection));
  }
  if (open.empty()) return nullptr;
  return open[producers.next_pick++ % open.size()];
}

std::vector<std::string> ClientRegistry::ConsumerGroups() const {
  std::lock_guard<std::mutex> lock(mu_);
  return KeysOf(consumers_);
}

std::vector<std::string> ClientRegistry::ProducerGroups() const {
  std::lock_guard<std::mutex> lock(mu_);
  return KeysOf(producers_);
}

ClientRegistryCounts ClientRegistry::Counts() const {
  ClientRegistryCounts counts;
  std::lock_guard<std::mutex> lock(mu_);
  counts.producer_groups = producers_.size();
  for (const auto& [name, group] : producers_) counts.producer_clients += group.clients.size();
  counts.consumer_groups = consumers_.size();
  for (const auto& [name, group] : consumers_) counts.consumer_clients += group.clients.size();
  return counts;
}

}  // namespace mqbroker
