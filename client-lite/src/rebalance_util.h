// What a member of a consumer group asks the brokers and name servers, whatever it
// does with the messages: the master of a queue's broker, heartbeats, the group's member ids
// (GET_CONSUMER_LIST_BY_GROUP), leaving the group (UNREGISTER_CLIENT), committed and queue
// offsets, where a queue without a committed offset starts (ConsumeFromWhere), fresh topic
// routes, the queues one member gets, and periodic work on a TaskExecutor; and the
// subscriptions a consumer keeps (topic, tag expression, exact tag filter).
//
// Shared by PushConsumer (push_consumer.cc) and LitePullConsumer (lite_pull_consumer.cc), so
// both behave alike, request for request.
#ifndef MQCLIENT_REBALANCE_UTIL_H_
#define MQCLIENT_REBALANCE_UTIL_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "local_offset_store.h"
#include "mqclient/allocate_strategy.h"
#include "mqclient/message.h"
#include "mqclient/name_server_client.h"
#include "mqclient/push_consumer.h"
#include "mqstore/status.h"
#include "remoting/heartbeat_data.h"
#include "remoting/tag_filter.h"
#include "remoting/transport.h"
#include "task_executor.h"

namespace mqclient {

// consumeTimestamp's default (ConsumeFromWhere::kTimestamp): half an hour before Start.
constexpr int64_t kDefaultConsumeTimestampAgoMs = 30 * 60 * 1000;

// Milliseconds since the epoch (system clock): timestamps and subscription versions.
int64_t WallClockMs();

// A fresh client id for a consumer of this process, "127.0.0.1@<pid>#<kind><n>", <n> counting
// from 0 per kind: several consumers in one process are separate members of their groups.
std::string NewConsumerClientId(std::string_view kind);

// RocketMQ's name of `where` (CONSUME_FROM_LAST_OFFSET, ...), as heartbeats carry it.
std::string_view ConsumeFromWhereName(ConsumeFromWhere where);

// True for a %RETRY%<group> topic.
bool IsRetryTopicName(std::string_view topic);

// One subscribed topic: what heartbeats and pulls carry, and the exact tag check of what a
// pull brings (the broker filters by tag hash only).
struct ConsumerSubscription {
  mqremoting::SubscriptionData data;
  mqremoting::TagFilter filter;
};

// Adds the subscription of `topic` to tag `expression` ("" = every message) to
// `*subscriptions`, replacing one of the same topic (as in Java). kInvalidArgument for an
// empty topic; the parser's error for an expression that does not parse.
Status AddSubscription(std::vector<ConsumerSubscription>* subscriptions, const std::string& topic,
                       const std::string& expression);
// The subscription of `topic`, or null.
const ConsumerSubscription* FindSubscription(const std::vector<ConsumerSubscription>& subscriptions,
                                             const std::string& topic);
// The topics of `subscriptions`, in their order.
std::vector<std::string> SubscribedTopics(const std::vector<ConsumerSubscription>& subscriptions);

// The calls one member of `group` makes to brokers. Thread-safe (the clients it uses are);
// blocking, so never on a transport thread except MasterOf with the route cached.
class ConsumerGroupCalls {
 public:
  // `remoting` and `name_server` must outlive this object.
  ConsumerGroupCalls(mqremoting::RemotingClient* remoting, NameServerClient* name_server,
                     std::string group, std::chrono::milliseconds timeout)
      : remoting_(remoting),
        name_server_(name_server),
        group_(std::move(group)),
        timeout_(timeout) {}

  const std::string& group() const { return group_; }

  // The master address of `broker_name` for `topic`: from the cached route, or a fresh one
  // when the cached route has no master. kNotFound when there is none.
  Result<std::string> MasterOf(const std::string& topic, const std::string& broker_name);
  // The master addresses of every broker of `topics` (cached routes; unknown topics skipped).
  std::set<std::string> MasterAddresses(const std::vector<std::string>& topics);

  // HEART_BEAT from `client_id` with one consumer of the group (`consume_type`
  // CONSUME_PASSIVELY / CONSUME_ACTIVELY, `message_model` CLUSTERING / BROADCASTING, `where`,
  // every subscription) to the master of each broker of the subscribed topics: OK, the first
  // failure, or kNotFound when no broker serves them.
  Status SendHeartbeat(const std::string& client_id, std::string_view consume_type,
                       std::string_view message_model, ConsumeFromWhere where,
                       const std::vector<ConsumerSubscription>& subscriptions);

  // The group's member ids as the brokers of `topic` know them, sorted; asks the next broker
  // when one fails. An error when none answered.
  Result<std::vector<std::string>> FetchConsumerIds(const std::string& topic);
  // UNREGISTER_CLIENT of `client_id` to each address, best effort: a broker that misses it
  // drops the client after its channel timeout.
  void Unregister(const std::set<std::string>& addresses, const std::string& client_id);

  // QUERY_CONSUMER_OFFSET with setZeroIfNotFound=false: kNotFound when the group has none.
  Result<int64_t> QueryCommittedOffset(const MessageQueue& queue);
  // GET_MAX_OFFSET / GET_MIN_OFFSET (no timestamp) or SEARCH_OFFSET_BY_TIMESTAMP.
  Result<int64_t> QueryQueueOffset(const MessageQueue& queue, int32_t code,
                                   std::optional<int64_t> timestamp_ms = std::nullopt);
  // Where a member starts on `queue`: the group's committed offset, or, without one (kNotFound),
  // ConsumeFromWhereOffset. Another error of the committed-offset query is returned. A
  // broadcasting member passes its `local` table: the offset saved there stands for the
  // group's, and no broker is asked for one.
  Result<int64_t> StartOffset(const MessageQueue& queue, ConsumeFromWhere where,
                              int64_t consume_timestamp_ms,
                              const LocalOffsetTable* local = nullptr);
  // Where a queue without a committed offset starts, per `where`: last = the queue's max
  // offset (0 for a retry topic), first = 0, timestamp = SEARCH_OFFSET_BY_TIMESTAMP (a retry
  // topic: max offset).
  Result<int64_t> ConsumeFromWhereOffset(const MessageQueue& queue, ConsumeFromWhere where,
                                         int64_t consume_timestamp_ms);
  // UPDATE_CONSUMER_OFFSET; oneway (as Java's periodic persist) answers OK once handed to
  // the transport.
  Status CommitOffset(const MessageQueue& queue, int64_t offset, bool oneway);

 private:
  mqremoting::RemotingClient* const remoting_;
  NameServerClient* const name_server_;
  const std::string group_;
  const std::chrono::milliseconds timeout_;
};

// Fresh routes of `topics`: the readable queues of each topic a name server knows, sorted,
// into `*queues` (topics it does not know are left out). OK when a name server knew one of
// them, kNotFound when it knew none, else the error of the first failed lookup.
Status FetchTopicQueues(NameServerClient* name_server, const std::vector<std::string>& topics,
                        std::map<std::string, std::vector<MessageQueue>>* queues);

// Stores each topic's queues of `fresh` in `*known` (replacing what it had); the number of
// topics `*known` did not have before.
int MergeTopicQueues(std::map<std::string, std::vector<MessageQueue>> fresh,
                     std::map<std::string, std::vector<MessageQueue>>* known);

// The queues of `all_queues` (one topic) that `client_id` gets among `consumer_ids` (both
// sorted first), as `strategy` answers them, sorted, each once, and only queues of
// `all_queues` (a config may name others); empty when the ids do not include it.
std::vector<MessageQueue> AllocateForMember(const AllocateStrategy& strategy,
                                            const std::string& group, const std::string& client_id,
                                            std::vector<MessageQueue> all_queues,
                                            std::vector<std::string> consumer_ids);

// Runs `work` on `executor` every `interval`, the first time after `interval`, until the
// executor stops (which drops the pending run).
void SchedulePeriodic(TaskExecutor* executor, std::chrono::milliseconds interval,
                      std::function<void()> work);

}  // namespace mqclient

#endif  // MQCLIENT_REBALANCE_UTIL_H_
