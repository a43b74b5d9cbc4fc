// Messages as client-lite sends them (Message) and receives them (ReceivedMessage, decoded from
// the stored-record bytes a broker returns for PULL_MESSAGE, QUERY_MESSAGE and VIEW_MESSAGE),
// and the address of one queue (MessageQueue).
#ifndef MQCLIENT_MESSAGE_H_
#define MQCLIENT_MESSAGE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/message.h"
#include "mqstore/status.h"

namespace mqclient {

using mqstore::Result;
using mqstore::Status;

// One queue of a topic on one broker group.
struct MessageQueue {
  std::string topic;
  std::string broker_name;
  int32_t queue_id = 0;

  auto operator<=>(const MessageQueue&) const = default;
  std::string ToString() const;
};

// A message to send. Tags, keys and the delay level travel as RocketMQ's TAGS, KEYS and DELAY
// properties; user properties must not reuse those names.
struct Message {
  std::string topic;
  std::string body;
  std::string tags;
  std::string keys;         // several keys separated by spaces
  int32_t delay_level = 0;  // 0 = deliver at once; 1.. = the broker's delay levels
  int32_t flag = 0;
  std::map<std::string, std::string> user_properties;
};

// A message read back from a broker.
struct ReceivedMessage {
  std::string topic;
  int32_t queue_id = 0;
  int64_t queue_offset = 0;
  int64_t commit_log_offset = 0;
  std::string body;
  std::string tags;
  std::string keys;
  std::string msg_id;     // the offset id: store host + commit-log offset
  std::string unique_id;  // UNIQ_KEY
  int32_t reconsume_times = 0;
  int32_t flag = 0;
  int32_t sys_flag = 0;
  int64_t born_timestamp_ms = 0;
  int64_t store_timestamp_ms = 0;
  std::string born_host;
  std::string store_host;
  // Every property as stored, system ones included (TAGS, KEYS, UNIQ_KEY, WAIT, ...).
  std::map<std::string, std::string> properties;

  // The properties a producer set itself (everything but RocketMQ's system properties).
  std::map<std::string, std::string> UserProperties() const;
};

// Decodes a body holding zero or more stored records back to back. kCorruption when a record
// is cut short or malformed. Compressed bodies (zlib or zstd, as producers compress large
// ones) are inflated and their sys_flag cleared of the compression bits; a body that does not
// inflate (LZ4, damaged) is kept as stored with its sys_flag unchanged.
Result<std::vector<ReceivedMessage>> DecodeMessages(std::string_view body);

// The encoded property string a producer sends for `message` plus `unique_id` (UNIQ_KEY).
std::string EncodeSendProperties(const Message& message, std::string_view unique_id);

// True for a property name RocketMQ reserves (TAGS, KEYS, UNIQ_KEY, DELAY, WAIT, ...).
bool IsSystemProperty(std::string_view name);

}  // namespace mqclient

#endif  // MQCLIENT_MESSAGE_H_
