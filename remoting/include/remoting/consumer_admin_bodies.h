// The JSON bodies of the consumer-group admin requests (docs/format/broker-bodies.md):
//
//   UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200)  request: a SubscriptionGroupConfig
//   GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201)     response: {"subscriptionGroupTable":{G:config},
//                                                         "dataVersion":{...}}
//   GET_CONSUMER_CONNECTION_LIST (203)         response: ConsumerConnection
//   GET_CONSUME_STATS (208)                    response: ConsumeStats
//   INVOKE_BROKER_TO_RESET_OFFSET (222)        response: ResetOffsetBody
//   RESET_CONSUMER_CLIENT_OFFSET (220)         request (broker -> client): ResetOffsetBody
//   QUERY_TOPIC_CONSUME_BY_WHO (300)           response: {"groupList":[G,...]}
//
// ConsumeStats and ResetOffsetBody are maps keyed by a queue. A Java broker writes them with
// fastjson, which writes such a key as a JSON object — `{{"brokerName":B,"queueId":0,
// "topic":T}:{...}}` — not valid JSON, but what Java admin tools and clients read, so the
// encoders here write the same. The parsers accept that form and, in addition, the key as a
// string holding the same object (what fastjson writes with WriteNonStringKeyAsString).
//
// Parsing ignores unknown keys, keeps defaults for missing ones and never throws: a malformed
// body is kInvalidArgument naming the field.
#ifndef REMOTING_CONSUMER_ADMIN_BODIES_H_
#define REMOTING_CONSUMER_ADMIN_BODIES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mqstore/metadata.h"
#include "mqstore/status.h"
#include "remoting/heartbeat_data.h"
#include "remoting/lock_batch_body.h"
#include "remoting/route_data.h"

namespace mqremoting {

// A consumer group's settings as RocketMQ's SubscriptionGroupConfig bean names them
// (groupName, consumeEnable, retryQueueNums, retryMaxTimes, ...). groupName is required.
std::string EncodeSubscriptionGroupConfig(const mqstore::SubscriptionGroupConfig& config);
mqstore::Result<mqstore::SubscriptionGroupConfig> ParseSubscriptionGroupConfig(
    std::string_view json);

// GET_ALL_SUBSCRIPTIONGROUP_CONFIG's answer, in the given order (the table is sorted by name
// on the wire).
std::string EncodeSubscriptionGroupWrapper(
    const std::vector<mqstore::SubscriptionGroupConfig>& groups, const DataVersion& version);
mqstore::Result<std::vector<mqstore::SubscriptionGroupConfig>> ParseSubscriptionGroupWrapper(
    std::string_view json);

// Where a group stands on one queue (RocketMQ's OffsetWrapper).
struct OffsetWrapper {
  int64_t broker_offset = 0;    // the queue's max offset: where the next message goes
  int64_t consumer_offset = 0;  // the group's committed offset
  int64_t pull_offset = 0;      // RocketMQ 5: the offset the group last pulled from
  int64_t last_timestamp = 0;   // store time of the last consumed message, 0 when none

  bool operator==(const OffsetWrapper&) const = default;
};

struct ConsumeStats {
  std::vector<std::pair<MessageQueue, OffsetWrapper>> offset_table;  // sorted by queue
  double consume_tps = 0;

  bool operator==(const ConsumeStats&) const = default;
};

std::string EncodeConsumeStats(const ConsumeStats& stats);
mqstore::Result<ConsumeStats> ParseConsumeStats(std::string_view json);

// {"offsetTable":{queue: offset}}: the offsets a reset moved a group to.
using QueueOffsets = std::vector<std::pair<MessageQueue, int64_t>>;
std::string EncodeResetOffsetBody(const QueueOffsets& offsets);
mqstore::Result<QueueOffsets> ParseResetOffsetBody(std::string_view json);

// {"groupList":[...]}.
std::string EncodeGroupList(const std::vector<std::string>& groups);
mqstore::Result<std::vector<std::string>> ParseGroupList(std::string_view json);

// One client connection of a consumer group (RocketMQ's Connection bean).
struct ClientConnection {
  std::string client_id;
  std::string client_addr;
  std::string language = "OTHER";  // a LanguageCode name: JAVA, CPP, ..., OTHER
  int32_t version = 0;

  bool operator==(const ClientConnection&) const = default;
};

// A consumer group's members and what it subscribes to (RocketMQ's ConsumerConnection).
struct ConsumerConnection {
  std::vector<ClientConnection> connections;    // "connectionSet"
  std::vector<SubscriptionData> subscriptions;  // "subscriptionTable", keyed by topic
  std::string consume_type = std::string(kConsumePassively);
  std::string message_model = std::string(kClustering);
  std::string consume_from_where = std::string(kConsumeFromLastOffset);

  bool operator==(const ConsumerConnection&) const = default;
};

std::string EncodeConsumerConnection(const ConsumerConnection& connection);
mqstore::Result<ConsumerConnection> ParseConsumerConnection(std::string_view json);

// `json` with every object that stands in a key position (`{{...}:` / `,{...}:`) replaced by
// a string holding its text; everything else unchanged. Exposed for tests.
std::string QuoteObjectKeys(std::string_view json);

}  // namespace mqremoting

#endif  // REMOTING_CONSUMER_ADMIN_BODIES_H_
