// The names the schedule component reads and writes: RocketMQ's system topics for parked
// messages, the message properties that request or describe a scheduled delivery, and the
// keys under which the schedulers commit their progress.
//
// The property and topic strings are RocketMQ's (MessageConst, TopicValidator), so messages
// parked by RocketMQ clients' conventions look the same here. DELAY itself is
// property::kDelayLevel in mqstore/message.h.
#ifndef MQSTORE_SCHEDULE_SCHEDULE_NAMES_H_
#define MQSTORE_SCHEDULE_SCHEDULE_NAMES_H_

#include <cstdint>
#include <string_view>

namespace mqstore::schedule {

// Messages with a delay level wait here, in queue (level - 1).
inline constexpr std::string_view kScheduleTopic = "SCHEDULE_TOPIC_XXXX";
// Messages with an arbitrary delivery time wait here (RocketMQ 5's timer topic), in queue 0.
inline constexpr std::string_view kTimerTopic = "rmq_sys_wheel_timer";
inline constexpr int32_t kTimerQueueId = 0;

namespace prop {
// Where a parked message really goes.
inline constexpr std::string_view kRealTopic = "REAL_TOPIC";
inline constexpr std::string_view kRealQueueId = "REAL_QID";

// Delivery-time requests (RocketMQ 5). Absolute epoch milliseconds, relative seconds,
// relative milliseconds.
inline constexpr std::string_view kTimerDeliverMs = "TIMER_DELIVER_MS";
inline constexpr std::string_view kTimerDelaySec = "TIMER_DELAY_SEC";
inline constexpr std::string_view kTimerDelayMs = "TIMER_DELAY_MS";
// The older Aliyun ONS request: absolute epoch milliseconds.
inline constexpr std::string_view kStartDeliverTime = "__STARTDELIVERTIME";

// Set by the put-time rewrite on a parked timer message: the requested delivery time.
inline constexpr std::string_view kTimerOutMs = "TIMER_OUT_MS";
// RocketMQ 5 timer bookkeeping. Never written here, but removed on delivery like the
// others, so a message parked by a RocketMQ broker and copied here is delivered clean.
inline constexpr std::string_view kTimerEnqueueMs = "TIMER_ENQUEUE_MS";
inline constexpr std::string_view kTimerDequeueMs = "TIMER_DEQUEUE_MS";
inline constexpr std::string_view kTimerRollTimes = "TIMER_ROLL_TIMES";
inline constexpr std::string_view kTimerDeleteUniqueKey = "TIMER_DEL_UNIQKEY";
inline constexpr std::string_view kTimerDelayLevel = "TIMER_DELAY_LEVEL";
}  // namespace prop

}  // namespace mqstore::schedule

#endif  // MQSTORE_SCHEDULE_SCHEDULE_NAMES_H_
