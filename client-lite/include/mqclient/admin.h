// Admin: what mqadmin does through the name servers and brokers: create topics, list topics,
// routes and clusters, and find messages by key or id.
#ifndef MQCLIENT_ADMIN_H_
#define MQCLIENT_ADMIN_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mqclient/message.h"
#include "mqclient/name_server_client.h"
#include "mqstore/metadata.h"
#include "mqstore/status.h"
#include "remoting/consumer_admin_bodies.h"
#include "remoting/route_data.h"
#include "remoting/transport.h"

namespace mqclient {

struct TopicSpec {
  std::string topic;
  int32_t read_queue_nums = 8;
  int32_t write_queue_nums = 8;
  int32_t perm = 6;
};

// One broker of clusterList, with its runtime info (empty when it did not answer).
struct BrokerStatus {
  std::string cluster;
  std::string broker_name;
  int64_t broker_id = 0;
  std::string address;
  std::map<std::string, std::string> runtime;
  Status runtime_status;
};

// One queue of topicStatus / consumerProgress.
struct QueueProgress {
  MessageQueue queue;
  int64_t min_offset = 0;
  int64_t max_offset = 0;         // the broker offset: where the next message goes
  int64_t consumer_offset = -1;   // the group's committed offset; -1 when it has none
  int64_t pull_offset = -1;       // where its last pull left off (ConsumeProgress); -1 unknown
  int64_t last_timestamp_ms = 0;  // store time of the last message consumed (ConsumeProgress)
  int64_t lag() const { return max_offset - std::max<int64_t>(consumer_offset, 0); }
};

// Where one message stands for one consumer group (messageTrack).
enum class TrackType {
  kConsumed,             // the group's committed offset is past the message
  kConsumedButFiltered,  // past it, but the group's subscription does not take its tag
  kNotConsumedYet,       // the group has not got to it yet
  kNotOnline,            // the group has no running member (and has not got past it)
  kBroadcasting,         // broadcasting members keep their offsets locally: unknown here
};
std::string_view TrackTypeName(TrackType type);

struct MessageTrack {
  std::string group;
  TrackType type = TrackType::kNotConsumedYet;
  bool online = false;
  // Deliveries through the group's retry topic (%RETRY%<group>) found by the message's
  // unique key, and whether it ended in the dead-letter topic (%DLQ%<group>).
  int retries = 0;
  bool dead = false;
};

class Admin {
 public:
  explicit Admin(const std::string& namesrv_addr,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // Creates or updates the topic on every master of `cluster`; returns their addresses.
  // kNotFound for an unknown cluster.
  Result<std::vector<std::string>> CreateTopicInCluster(const TopicSpec& spec,
                                                        const std::string& cluster);
  Status CreateTopicOnBroker(const TopicSpec& spec, const std::string& broker_addr);

  Result<mqremoting::TopicList> TopicList();
  Result<mqremoting::TopicRouteData> TopicRoute(const std::string& topic);
  Result<mqremoting::ClusterInfo> ClusterInfo();
  Result<std::vector<BrokerStatus>> ClusterList();

  // Messages of `topic` whose KEYS contain `key`, from every broker of the topic.
  Result<std::vector<ReceivedMessage>> QueryMessageByKey(const std::string& topic,
                                                         const std::string& key,
                                                         int32_t max_num = 64);
  // An offset message id is looked up directly (VIEW_MESSAGE_BY_ID); anything else (or an
  // offset id that fails) as a unique key (UNIQ_KEY) on the topic's brokers.
  Result<ReceivedMessage> QueryMessageById(const std::string& topic, const std::string& id);

  // The runtime info table of one broker (GET_BROKER_RUNTIME_INFO).
  Result<std::map<std::string, std::string>> BrokerRuntime(const std::string& broker_addr);
  // Every readable queue of `topic` with its min and max offset, and with `group` non-empty
  // the group's committed offset (what consumerProgress shows, for one topic).
  Result<std::vector<QueueProgress>> QueueOffsets(const std::string& topic,
                                                  const std::string& group = "");
  // Moves `group`'s offsets of every queue of `topic` to the first message stored at or
  // after `timestamp_ms` (-1: the end of each queue). Each broker of the topic does it and
  // tells the group's running members to move too (INVOKE_BROKER_TO_RESET_OFFSET); without
  // `force` a queue is only moved back. A broker that does not know that request gets the
  // offsets set one by one (SEARCH_OFFSET_BY_TIMESTAMP, UPDATE_CONSUMER_OFFSET), which
  // running members overwrite: stop them first then. Returns the offsets set.
  Result<std::vector<QueueProgress>> ResetOffsetByTime(const std::string& group,
                                                       const std::string& topic,
                                                       int64_t timestamp_ms, bool force = true);

  // Consumer groups (mqadmin updateSubGroup / deleteSubGroup). Creating or updating on every
  // master of `cluster` returns their addresses; kNotFound for an unknown cluster.
  Status UpdateSubscriptionGroup(const mqstore::SubscriptionGroupConfig& config,
                                 const std::string& broker_addr);
  Result<std::vector<std::string>> UpdateSubscriptionGroupInCluster(
      const mqstore::SubscriptionGroupConfig& config, const std::string& cluster);
  Result<std::vector<mqstore::SubscriptionGroupConfig>> SubscriptionGroups(
      const std::string& broker_addr);
  // kNotFound when no master of the cluster has the group.
  Status DeleteSubscriptionGroup(const std::string& group, const std::string& cluster,
                                 bool clean_offset);

  // The group's running members and subscriptions, from the first master that has any
  // (GET_CONSUMER_CONNECTION_LIST). kNotFound when no member is running.
  Result<mqremoting::ConsumerConnection> ConsumerConnection(const std::string& group);
  // Per queue, the broker's max offset against the group's committed one, for `topic` or,
  // when empty, for every topic the group has offsets in or subscribes to, from every
  // master (GET_CONSUME_STATS). min_offset is not part of that answer and stays 0. With
  // `consume_tps`, also the messages per second the group pulled over the last minute,
  // summed over the brokers.
  Result<std::vector<QueueProgress>> ConsumeProgress(const std::string& group,
                                                     const std::string& topic = "",
                                                     double* consume_tps = nullptr);
  // The groups that subscribe to `topic` or have offsets in it, on any of its brokers
  // (QUERY_TOPIC_CONSUME_BY_WHO), sorted.
  Result<std::vector<std::string>> TopicConsumedByWho(const std::string& topic);
  // Where the message with this id (offset id or unique key) stands for every group of its
  // topic: consumed or not, retried, dead.
  Result<std::vector<MessageTrack>> TrackMessage(const std::string& topic, const std::string& id);
  // Deletes the topic on every master of `cluster` (DELETE_TOPIC_IN_BROKER) and from every
  // name server (DELETE_TOPIC_IN_NAMESRV). kNotFound for an unknown cluster.
  Status DeleteTopic(const std::string& topic, const std::string& cluster);
  // The message at `offset` of one queue (a one-message pull).
  Result<ReceivedMessage> QueryMessageByOffset(const MessageQueue& queue, int64_t offset);

  NameServerClient* name_server() { return name_server_.get(); }

 private:
  Result<std::vector<ReceivedMessage>> QueryIndex(const std::string& topic, const std::string& key,
                                                  int32_t max_num, bool unique_key);
  Result<mqremoting::RemotingCommand> Call(const std::string& address,
                                           mqremoting::RemotingCommand request);
  // The master address of `queue`'s broker.
  Result<std::string> MasterOf(const MessageQueue& queue);
  // Every master of every cluster the name servers know.
  Result<std::vector<std::string>> AllMasters();

  const std::chrono::milliseconds timeout_;
  std::unique_ptr<mqremoting::RemotingClient> remoting_;
  std::unique_ptr<NameServerClient> name_server_;
};

}  // namespace mqclient

#endif  // MQCLIENT_ADMIN_H_
