// TopicManager: the broker's topic table — which topics exist, their queue counts and
// permissions — kept in the store's metadata (LMDB) and cached in memory for the send and
// pull paths.
//
// It also decides what RocketMQ decides about topics a client names: auto-creation from the
// default topic TBW102 on first send (autoCreateTopicEnable), the retry topic of a consumer
// group on its first heartbeat, a group's dead-letter topic on its first dead letter; and
// which topics are the broker's own (system topics no producer may send to). Every change
// bumps the data version, which tells the name-server registrar to register again.
#ifndef MQBROKER_TOPIC_MANAGER_H_
#define MQBROKER_TOPIC_MANAGER_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/metadata.h"
#include "mqstore/status.h"
#include "remoting/route_data.h"

namespace mqbroker {

// RocketMQ's TBW102: the topic whose config new topics inherit when auto-created.
inline constexpr std::string_view kAutoCreateTopicKey = "TBW102";
inline constexpr std::string_view kSelfTestTopic = "SELF_TEST_TOPIC";

struct TopicManagerOptions {
  std::string cluster_name = "DefaultCluster";
  std::string broker_name = "broker-a";
  bool auto_create_topic_enable = true;
  int32_t default_topic_queue_nums = 8;
};

// The table's version as RocketMQ's DataVersion: a counter bumped by each change and the time
// of the last one. Name servers rebuild a broker's queue data only when it changed.
struct TopicDataVersion {
  int64_t timestamp_ms = 0;
  int64_t counter = 0;
};

class TopicManager {
 public:
  // Loads every topic from `metadata` (which must outlive this) and adds the broker's own
  // topics (TBW102, SELF_TEST_TOPIC, the cluster and broker name topics) when missing.
  static mqstore::Result<std::unique_ptr<TopicManager>> Open(mqstore::MetadataStore* metadata,
                                                             const TopicManagerOptions& options);

  std::optional<mqstore::TopicConfig> Find(std::string_view topic) const;

  // The config a producer's send to `topic` uses: the existing one, or a new topic created
  // from `default_topic` when auto-creation is on and the default topic exists with the
  // inherit permission (queues: min(requested_queue_nums, the default topic's write queues)).
  // kNotFound when the topic neither exists nor may be created.
  mqstore::Result<mqstore::TopicConfig> FindOrCreateForSend(std::string_view topic,
                                                            std::string_view default_topic,
                                                            int32_t requested_queue_nums);

  // Creates `topic` with these queue counts and permission unless it exists (then returns
  // the existing config unchanged). For retry and dead-letter topics.
  mqstore::Result<mqstore::TopicConfig> FindOrCreateSystemOwned(std::string_view topic,
                                                                int32_t queue_nums, int32_t perm);

  // Creates or replaces a topic (UPDATE_AND_CREATE_TOPIC). kInvalidArgument names the field.
  mqstore::Status Put(const mqstore::TopicConfig& config);
  // kNotFound when it does not exist.
  mqstore::Status Delete(std::string_view topic);

  std::vector<mqstore::TopicConfig> All() const;
  TopicDataVersion data_version() const;
  // The whole table and its version in wire form (REGISTER_BROKER, GET_ALL_TOPIC_CONFIG),
  // taken at one instant.
  mqremoting::TopicConfigSerializeWrapper SerializeWrapper() const;

  // Topics of the store and broker that producers must not send to (RocketMQ's
  // TopicValidator system topics: SCHEDULE_TOPIC_XXXX, RMQ_SYS_*, rmq_sys_*, TBW102, ...).
  static bool IsSystemTopic(std::string_view topic);

 private:
  TopicManager(mqstore::MetadataStore* metadata, TopicManagerOptions options);
  mqstore::Status PutLocked(const mqstore::TopicConfig& config);  // requires write_mu_

  mqstore::MetadataStore* const metadata_;
  const TopicManagerOptions options_;
  std::mutex write_mu_;  // serialises changes (metadata write + cache update)
  mutable std::shared_mutex cache_mu_;
  std::map<std::string, mqstore::TopicConfig, std::less<>> cache_;
  TopicDataVersion version_;
};

}  // namespace mqbroker

#endif  // MQBROKER_TOPIC_MANAGER_H_
