// Send-back (mqstore/send_back.h) over the public Store API, in three steps:
//
//   ResolveRetryPolicy  group name + metadata store -> retry queues, max reconsume times
//   PlanSendBack        consumed record + policy    -> the copy: topic, queue, properties
//   SendMessageBack     reads the record, registers the target topic, puts the copy
//
// The delay itself is the store's: a copy with DELAY > 0 is parked in SCHEDULE_TOPIC_XXXX by
// Store::Put and delivered to the retry topic when due (schedule/schedule_rewrite.h).
//
// Thread safety: stateless functions. SendMessageBack may run on many threads at once; two
// of them registering the same missing topic both write the same config.
#ifndef MQSTORE_RETRY_SEND_BACK_H_
#define MQSTORE_RETRY_SEND_BACK_H_

#include <cstdint>
#include <string>

#include "mqstore/message.h"
#include "mqstore/metadata.h"
#include "mqstore/send_back.h"
#include "mqstore/status.h"
#include "mqstore/store.h"

namespace mqstore {

// What a group's settings say about retries.
struct RetryPolicy {
  int32_t retry_queue_nums = kDefaultRetryQueueNums;
  int32_t max_reconsume_times = kDefaultRetryMaxTimes;
};

// The policy for `request`: the group's registered settings when `metadata` (may be null)
// has the group, else the defaults; request.max_reconsume_times overrides the maximum.
// Errors: kInvalidArgument (group name, negative max_reconsume_times), kNotFound (group not
// registered and request.require_registered_group), the metadata store's errors.
Result<RetryPolicy> ResolveRetryPolicy(MetadataStore* metadata, const SendBackRequest& request);

// The copy a send-back stores, as a message to Put.
struct SendBackPlan {
  std::string topic;  // %RETRY%<group> or %DLQ%<group>
  int32_t queue_id = 0;
  bool dead_lettered = false;
  int32_t delay_level = 0;      // the DELAY property written; 0 (none) for the DLQ
  int32_t reconsume_times = 0;  // the copy's: the record's + 1
  std::string properties;       // encoded

  // The message to put: `record`'s body, flag, compression bits, born time and host with
  // this plan's topic, queue, reconsume times and properties. Points into `record`'s bytes
  // and into this plan.
  MessageView Apply(const ParsedRecord& record) const;
};

// Decides where and how `record` (consumed from its topic) is sent back for `request.group`:
//   - to %DLQ%<group> queue 0, without DELAY, when the record's reconsume times >=
//     policy.max_reconsume_times or request.delay_level < 0;
//   - else to %RETRY%<group>, queue FNV-1a(ORIGIN_MESSAGE_ID) mod retry_queue_nums, with
//     DELAY = request.delay_level, or 3 + reconsume times when that is 0.
// Properties keep their order, minus the ones a put must not carry again (__CRC32#, WAIT,
// schedule, timer and TRAN_MSG properties, the old RECONSUME_TIME), plus RETRY_TOPIC and
// ORIGIN_MESSAGE_ID when missing, RECONSUME_TIME and DELAY.
// `offset_message_id` is the record's offset id, the last choice for ORIGIN_MESSAGE_ID.
// Errors: kInvalidArgument for a record no consumer reads (a parked, half or op record, a
// prepared or rolled-back transactional one), a group whose topics are not valid topics, and
// a retry with no retry queue (retry_queue_nums 0: RocketMQ drops such messages; here the
// caller decides).
Result<SendBackPlan> PlanSendBack(const ParsedRecord& record, const SendBackRequest& request,
                                  const RetryPolicy& policy, const std::string& offset_message_id);

// Sends the record at request.physical_offset back (mqstore/send_back.h). With a metadata
// store, registers the target topic when missing (the retry topic with retry_queue_nums
// queues, the DLQ with one, both readable and writable), so the group can commit offsets on
// it, and refuses one registered without write permission (kFailedPrecondition).
// Errors: kInvalidArgument (request, see PlanSendBack), kNotFound (no record starts at the
// offset; unregistered group with require_registered_group), kCorruption (the record fails
// its checksums), the put's errors (kFailedPrecondition when the store is closed, ...).
Result<SendBackResult> SendMessageBack(Store& store, MetadataStore* metadata,
                                       const SendBackRequest& request);

}  // namespace mqstore

#endif  // MQSTORE_RETRY_SEND_BACK_H_
