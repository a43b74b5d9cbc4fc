// The JSON bodies of LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42), both ways
// (docs/format/broker-bodies.md):
//
//   request  {"consumerGroup":G,"clientId":C,"onlyThisBroker":false,
//             "mqSet":[{"brokerName":B,"queueId":0,"topic":T},...]}   (unlock: the same shape)
//   response {"lockOKMQSet":[{"brokerName":B,"queueId":0,"topic":T},...]}
//
// The broker parses requests and encodes responses; client-lite does the opposite. Parsing
// ignores unknown keys and never throws: a malformed body is kInvalidArgument naming the field.
#ifndef REMOTING_LOCK_BATCH_BODY_H_
#define REMOTING_LOCK_BATCH_BODY_H_

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/status.h"

namespace mqremoting {

// A queue as clients name it: topic, the broker that holds it and its id there.
struct MessageQueue {
  std::string topic;
  std::string broker_name;
  int32_t queue_id = 0;

  // Ordered by topic, then broker, then queue id (how clients sort queues).
  auto operator<=>(const MessageQueue&) const = default;
  bool operator==(const MessageQueue&) const = default;
};

struct LockBatchRequestBody {
  std::string consumer_group;  // required, non-empty
  std::string client_id;       // required, non-empty
  bool only_this_broker = false;
  std::vector<MessageQueue> mq_set;  // absent or null = empty

  bool operator==(const LockBatchRequestBody&) const = default;
};
// UNLOCK_BATCH_MQ carries the same fields.
using UnlockBatchRequestBody = LockBatchRequestBody;

mqstore::Result<LockBatchRequestBody> ParseLockBatchRequestBody(std::string_view json);
std::string EncodeLockBatchRequestBody(const LockBatchRequestBody& body);

// {"lockOKMQSet":[...]} in the given order.
std::string EncodeLockBatchResponseBody(const std::vector<MessageQueue>& locked);
// The queues of a lockOKMQSet body (absent or null = none).
mqstore::Result<std::vector<MessageQueue>> ParseLockBatchResponseBody(std::string_view json);

}  // namespace mqremoting

#endif  // REMOTING_LOCK_BATCH_BODY_H_
