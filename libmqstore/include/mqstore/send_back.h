// Send-back: what a consumer does with a message it failed to process (RocketMQ's
// CONSUMER_SEND_MSG_BACK). The consumed record, named by its physical offset, is copied into
// the group's retry topic with a delay, or, once it has been retried often enough, into the
// group's dead-letter topic (docs/format/retry.md).
//
//   Orders/2 @offset ──SendBack(g)──► SCHEDULE_TOPIC_XXXX/(level-1) ──when due──► %RETRY%g/q
//     reconsume_times n               DELAY = 3 + n, RETRY_TOPIC = Orders,         consumers of g
//                                     ORIGIN_MESSAGE_ID, reconsume_times n + 1     read it again
//   ... after the group's retry_max_times (16) retries:
//   %RETRY%g @offset ──SendBack(g)──► %DLQ%g/0, at once; nothing reads it but an operator
//
// Example:
//   mqstore::SendBackRequest request;
//   request.physical_offset = message.physical_offset;   // as read from Orders
//   request.group = "OrderProcessors";
//   auto sent = store->SendBack(request);
//   if (sent.ok() && sent->put.status == mqstore::PutStatus::kOk) { /* commit the offset */ }
//
// Thread safety: the types are plain values. SendBack may be called from any number of
// threads at once (it only reads a record and puts a new one).
#ifndef MQSTORE_SEND_BACK_H_
#define MQSTORE_SEND_BACK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mqstore/message.h"
#include "mqstore/store.h"

namespace mqstore {

// RocketMQ's retry bookkeeping properties (MessageConst).
namespace property {
// The topic the message was first consumed from; set on the first send-back, then kept.
inline constexpr std::string_view kRetryTopic = "RETRY_TOPIC";
// The id of the first delivery, kept through every retry.
inline constexpr std::string_view kOriginMessageId = "ORIGIN_MESSAGE_ID";
// The reconsume count as a decimal property: RocketMQ clients read and write it when they
// send a retry themselves. A send-back sets it equal to the record's reconsume_times field.
inline constexpr std::string_view kReconsumeTime = "RECONSUME_TIME";
// A client's per-message retry limit; kept as given, never read here.
inline constexpr std::string_view kMaxReconsumeTimes = "MAX_RECONSUME_TIMES";
}  // namespace property

inline constexpr std::string_view kRetryTopicPrefix = "%RETRY%";
inline constexpr std::string_view kDlqTopicPrefix = "%DLQ%";

// The retry topic of a consumer group: "%RETRY%<group>". Its consumers subscribe to it.
inline std::string RetryTopic(std::string_view group) {
  return std::string(kRetryTopicPrefix).append(group);
}
// The dead-letter topic of a consumer group: "%DLQ%<group>", one queue.
inline std::string DlqTopic(std::string_view group) {
  return std::string(kDlqTopicPrefix).append(group);
}

// Group settings used when the group is not registered (SubscriptionGroupConfig defaults).
inline constexpr int32_t kDefaultRetryQueueNums = 1;
inline constexpr int32_t kDefaultRetryMaxTimes = 16;
// delay_level 0 means level kRetryDelayLevelBase + reconsume times: 10 s for the first retry
// with the default levels, 2 h from the 16th on.
inline constexpr int32_t kRetryDelayLevelBase = 3;

struct SendBackRequest {
  // Where the consumed record starts in the commit log (StoredMessage::physical_offset).
  int64_t physical_offset = -1;
  // The consumer group that failed to consume it. Its retry and dead-letter topics must be
  // valid topics: 1..122 characters of [A-Za-z0-9_|%-] (%DLQ%<group> is limited to 127).
  std::string group;
  // 0: level 3 + the record's reconsume times. > 0: that level (the store clamps it to its
  // highest). < 0: straight to the dead-letter topic, whatever the count.
  int32_t delay_level = 0;
  // Deliveries after which the message goes to the dead-letter topic instead. Default: the
  // group's SubscriptionGroupConfig::retry_max_times when the metadata store has the group,
  // else 16. Must be >= 0.
  std::optional<int32_t> max_reconsume_times;
  // ORIGIN_MESSAGE_ID for a message that has none yet. Default: its UNIQ_KEY, else its
  // offset message id.
  std::string origin_message_id;
  // true: kNotFound when there is a metadata store and it does not have the group (RocketMQ
  // with autoCreateSubscriptionGroup = false: SUBSCRIPTION_GROUP_NOT_EXIST). false: an
  // unregistered group gets the default settings (RocketMQ's default, auto-creation).
  // Default: false.
  bool require_registered_group = false;
};

struct SendBackResult {
  // The put of the new record. With a delay this describes the record parked in
  // SCHEDULE_TOPIC_XXXX. Under FlushMode::kSync the put waits for durability: status kOk
  // means the copy survives a power cut, so the consumer may commit past the original.
  PutResult put;
  // Where the copy is (or will be, once due) readable: %RETRY%<group> or %DLQ%<group>.
  std::string topic;
  int32_t queue_id = 0;
  // The copy's reconsume times: the original's + 1.
  int32_t reconsume_times = 0;
  bool dead_lettered = false;
  // The delay level asked of the store (before it clamps it); 0 for the dead-letter topic.
  int32_t delay_level = 0;
};

}  // namespace mqstore

#endif  // MQSTORE_SEND_BACK_H_
