// The broker's book of connected clients, kept from HEART_BEAT, UNREGISTER_CLIENT, closed
// connections and idle expiry: which producer groups and consumer groups exist, which
// clients (by client id, over which connection) belong to each, and what each consumer group
// subscribes to. The request processors ask it for GET_CONSUMER_LIST_BY_GROUP, the
// subscription of a pull, the channel for CHECK_TRANSACTION_STATE and runtime counts, and
// learn from its answers when to push NOTIFY_CONSUMER_IDS_CHANGED.
//
// Rules (RocketMQ's):
//  - A client is keyed by client id within a group. A heartbeat from a known client id over
//    a new connection moves it to that connection; only a new client id (or one leaving)
//    changes a consumer group's membership.
//  - A consumer group's subscriptions are the set of the latest heartbeat that carries
//    them (withoutSub heartbeats leave them alone); a topic's entry is replaced unless the
//    stored one has a newer sub_version.
//  - A group without clients is forgotten, subscriptions included.
//  - Connections are held weakly: the registry never keeps a connection alive and never
//    hands out a closed one. It closes nothing itself.
//
// Time is passed in (now_ms) so that expiry is deterministic in tests. Thread-safe: every
// method takes one internal mutex; Connection::is_open(), id() and remote_address() are the
// only calls made on connections, and they are made under it.
#ifndef MQBROKER_CLIENT_REGISTRY_H_
#define MQBROKER_CLIENT_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "remoting/heartbeat_data.h"

namespace mqremoting {
class Connection;
}  // namespace mqremoting

namespace mqbroker {

// The heartbeat's types are the protocol's.
using mqremoting::ConsumerData;
using mqremoting::HeartbeatData;
using mqremoting::ProducerData;
using mqremoting::SubscriptionData;

// Channels without a heartbeat for this long are dropped (clients beat every 30 s).
inline constexpr int64_t kDefaultClientIdleMs = 120'000;

// What a client's frames say it is (RemotingCommand language and version), kept from its
// heartbeats for GET_CONSUMER_CONNECTION_LIST.
struct ClientVersion {
  std::string language = "OTHER";  // a LanguageCode name: JAVA, CPP, ...
  int32_t version = 0;
};

struct HeartbeatOutcome {
  // Consumer groups that gained a client id (sorted): notify their consumers.
  std::vector<std::string> membership_changed;
  // Consumer groups whose subscriptions changed (sorted): a topic was added or dropped, or a
  // topic's expression changed. A group's first heartbeat counts.
  std::vector<std::string> subscription_changed;
};

struct ExpiryOutcome {
  // Consumer groups that lost a client (sorted).
  std::vector<std::string> changed_consumer_groups;
  // Open connections none of whose registrations is left: the caller should close them.
  // (Closing one later reports it to OnConnectionClosed, which then finds nothing.)
  std::vector<std::shared_ptr<mqremoting::Connection>> idle_connections;
};

struct ConsumerGroupSnapshot {
  std::string group;
  std::string consume_type;
  std::string message_model;
  std::string consume_from_where;
  std::vector<SubscriptionData> subscriptions;  // sorted by topic
  std::vector<std::string> client_ids;          // sorted, live connections only
  std::vector<std::string> client_addresses;    // their connections' peers, in the same order
  std::vector<ClientVersion> client_versions;   // what their last heartbeat said, same order
};

struct ClientRegistryCounts {
  size_t producer_groups = 0;
  size_t producer_clients = 0;  // registrations: a client in two groups counts twice
  size_t consumer_groups = 0;
  size_t consumer_clients = 0;
};

class ClientRegistry {
 public:
  ClientRegistry() = default;
  ClientRegistry(const ClientRegistry&) = delete;
  ClientRegistry& operator=(const ClientRegistry&) = delete;

  // Registers every producer and consumer group of `heartbeat` for heartbeat.client_id over
  // `connection` (must not be null; a null connection registers nothing), as a client of
  // `version`.
  HeartbeatOutcome OnHeartbeat(const HeartbeatData& heartbeat,
                               const std::shared_ptr<mqremoting::Connection>& connection,
                               int64_t now_ms, const ClientVersion& version = {});

  // UNREGISTER_CLIENT: removes `client_id` from the producer group and the consumer group
  // (either may be empty = none). Returns the consumer groups that changed (0 or 1).
  std::vector<std::string> Unregister(std::string_view client_id, std::string_view producer_group,
                                      std::string_view consumer_group);

  // Removes every registration over the connection. Returns the consumer groups that
  // changed (sorted).
  std::vector<std::string> OnConnectionClosed(uint64_t connection_id);

  // Removes registrations without a heartbeat for more than `idle_ms`, and those whose
  // connection is gone or closed.
  ExpiryOutcome ExpireIdle(int64_t now_ms, int64_t idle_ms = kDefaultClientIdleMs);

  // The group's client ids over open connections, sorted (GET_CONSUMER_LIST_BY_GROUP).
  std::vector<std::string> ConsumerIds(std::string_view group) const;
  // The group's open connections, in client id order (NOTIFY_CONSUMER_IDS_CHANGED).
  std::vector<std::shared_ptr<mqremoting::Connection>> ConsumerConnections(
      std::string_view group) const;
  std::optional<SubscriptionData> FindSubscription(std::string_view group,
                                                   std::string_view topic) const;
  std::optional<ConsumerGroupSnapshot> FindConsumerGroup(std::string_view group) const;
  // The consumer groups subscribing to `topic` (sorted).
  std::vector<std::string> ConsumerGroupsOf(std::string_view topic) const;

  // An open connection of the producer group, taking turns among them; null when it has
  // none (CHECK_TRANSACTION_STATE).
  std::shared_ptr<mqremoting::Connection> PickProducerConnection(std::string_view group);

  std::vector<std::string> ConsumerGroups() const;  // sorted
  std::vector<std::string> ProducerGroups() const;  // sorted
  ClientRegistryCounts Counts() const;

 private:
  struct Channel {
    std::weak_ptr<mqremoting::Connection> connection;
    uint64_t connection_id = 0;
    int64_t last_update_ms = 0;
    ClientVersion version;
  };
  using Channels = std::map<std::string, Channel, std::less<>>;  // client id -> channel

  struct ProducerGroup {
    Channels clients;
    size_t next_pick = 0;  // round robin position for PickProducerConnection
  };
  struct ConsumerGroup {
    std::string consume_type;
    std::string message_model;
    std::string consume_from_where;
    std::map<std::string, SubscriptionData, std::less<>> subscriptions;  // by topic
    Channels clients;
  };

  // Null when the connection is gone or closed.
  static std::shared_ptr<mqremoting::Connection> OpenConnection(const Channel& channel);
  // Merges a heartbeat's subscriptions into `group`; true when they changed.
  static bool UpdateSubscriptions(const std::vector<SubscriptionData>& subscriptions,
                                  ConsumerGroup* group);

  mutable std::mutex mu_;
  std::map<std::string, ProducerGroup, std::less<>> producers_;
  std::map<std::string, ConsumerGroup, std::less<>> consumers_;
};

}  // namespace mqbroker

#endif  // MQBROKER_CLIENT_REGISTRY_H_
