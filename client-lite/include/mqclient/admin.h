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
#include <vector>

#include "mqclient/message.h"
#include "mqclient/name_server_client.h"
#include "mqstore/status.h"
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
  int64_t max_offset = 0;        // the broker offset: where the next message goes
  int64_t consumer_offset = -1;  // the group's committed offset; -1 when it has none
  int64_t lag() const { return max_offset - std::max<int64_t>(consumer_offset, 0); }
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
  // Sets `group`'s committed offset of every queue of `topic` to the first message stored at
  // or after `timestamp_ms` (SEARCH_OFFSET_BY_TIMESTAMP, then UPDATE_CONSUMER_OFFSET). Running
  // members of the group commit their own offsets over it: stop them first. Returns the
  // offsets set.
  Result<std::vector<QueueProgress>> ResetOffsetByTime(const std::string& group,
                                                       const std::string& topic,
                                                       int64_t timestamp_ms);
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

  const std::chrono::milliseconds timeout_;
  std::unique_ptr<mqremoting::RemotingClient> remoting_;
  std::unique_ptr<NameServerClient> name_server_;
};

}  // namespace mqclient

#endif  // MQCLIENT_ADMIN_H_
