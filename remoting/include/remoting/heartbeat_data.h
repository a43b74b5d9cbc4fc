// The HEART_BEAT (34) body and the GET_CONSUMER_LIST_BY_GROUP (38) response body: what a
// client tells the broker about its producer and consumer groups, and the consumer ids the
// broker answers with. JSON as RocketMQ clients write it (docs/format/broker-bodies.md).
//
// Parsing is lenient the way a Java broker's is: unknown keys are ignored, optional fields
// may be missing or null (ali-ons omits expressionType, heartbeatFingerprint and withoutSub).
// What the broker cannot work with (not JSON, no clientID, a group without a name, a value of
// the wrong type) is kInvalidArgument naming the field. Nothing here throws.
#ifndef REMOTING_HEARTBEAT_DATA_H_
#define REMOTING_HEARTBEAT_DATA_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/status.h"

namespace mqremoting {

// Expression types of a subscription.
inline constexpr std::string_view kExpressionTypeTag = "TAG";
inline constexpr std::string_view kExpressionTypeSql92 = "SQL92";
// The subscription expression that matches every message.
inline constexpr std::string_view kSubscribeAll = "*";

// Consume types, message models and where a new group starts, as RocketMQ names them.
inline constexpr std::string_view kConsumePassively = "CONSUME_PASSIVELY";  // push consumer
inline constexpr std::string_view kConsumeActively = "CONSUME_ACTIVELY";    // pull consumer
inline constexpr std::string_view kClustering = "CLUSTERING";
inline constexpr std::string_view kBroadcasting = "BROADCASTING";
inline constexpr std::string_view kConsumeFromLastOffset = "CONSUME_FROM_LAST_OFFSET";
inline constexpr std::string_view kConsumeFromFirstOffset = "CONSUME_FROM_FIRST_OFFSET";
inline constexpr std::string_view kConsumeFromTimestamp = "CONSUME_FROM_TIMESTAMP";

// One topic a consumer group subscribes to.
struct SubscriptionData {
  std::string topic;
  std::string sub_string = std::string(kSubscribeAll);  // "*", "TagA || TagB" or SQL92 text
  std::vector<std::string> tags_set;                    // the tags of sub_string (TAG type)
  std::vector<int32_t> code_set;                        // Java String.hashCode() of each tag
  int64_t sub_version = 0;  // the client's version of this subscription (a timestamp)
  std::string expression_type = std::string(kExpressionTypeTag);
  bool class_filter_mode = false;

  bool operator==(const SubscriptionData&) const = default;
};

struct ConsumerData {
  std::string group_name;
  std::string consume_type = std::string(kConsumePassively);
  std::string message_model = std::string(kClustering);
  std::string consume_from_where = std::string(kConsumeFromLastOffset);
  bool unit_mode = false;
  std::vector<SubscriptionData> subscriptions;

  bool operator==(const ConsumerData&) const = default;
};

struct ProducerData {
  std::string group_name;

  bool operator==(const ProducerData&) const = default;
};

struct HeartbeatData {
  std::string client_id;  // "<ip>@<pid>": what GET_CONSUMER_LIST_BY_GROUP echoes
  std::vector<ProducerData> producers;
  std::vector<ConsumerData> consumers;
  // Heartbeat v2 (client option): non-zero fingerprint; with without_sub the consumers'
  // subscriptions are left out because they did not change.
  int64_t heartbeat_fingerprint = 0;
  bool without_sub = false;

  bool operator==(const HeartbeatData&) const = default;
};

// Parses a HEART_BEAT body. Missing optional fields keep the defaults above.
mqstore::Result<HeartbeatData> ParseHeartbeatData(std::string_view json);

// The body a client sends with HEART_BEAT; every field is written (keys sorted, like fastjson).
std::string EncodeHeartbeatData(const HeartbeatData& data);

// {"consumerIdList":["ip@pid",...]} in the given order.
std::string EncodeConsumerIdList(const std::vector<std::string>& consumer_ids);
// The ids of a consumerIdList body, in body order. kInvalidArgument when the body is not an
// object with a consumerIdList array of strings.
mqstore::Result<std::vector<std::string>> ParseConsumerIdList(std::string_view json);

}  // namespace mqremoting

#endif  // REMOTING_HEARTBEAT_DATA_H_
