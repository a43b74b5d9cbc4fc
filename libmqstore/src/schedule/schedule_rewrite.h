// The two message transformations of scheduled delivery, as pure functions:
//
//   put time:       RewriteForSchedule   Orders/3 {DELAY=3}  ->  SCHEDULE_TOPIC_XXXX/2
//                                        {DELAY=3, REAL_TOPIC=Orders, REAL_QID=3}
//                                        Orders/3 {TIMER_DELAY_SEC=90}  ->  rmq_sys_wheel_timer/0
//                                        {TIMER_OUT_MS=<now+90s>, REAL_TOPIC=Orders, REAL_QID=3}
//   delivery time:  RestoreForDelivery   the parked record  ->  Orders/3 with every original
//                                        property, and no DELAY, timer or REAL_* property
//
// The store's put path calls RewriteForSchedule and stores the result instead of the
// message; DelayScheduler and TimerScheduler call RestoreForDelivery when a parked message
// is due. Both keep body, flag, sys flag, born time/host, reconsume times and the
// prepared-transaction offset untouched, and keep the properties in their original order.
//
// Thread safety: stateless functions.
#ifndef MQSTORE_SCHEDULE_SCHEDULE_REWRITE_H_
#define MQSTORE_SCHEDULE_SCHEDULE_REWRITE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mqstore/message.h"
#include "mqstore/status.h"
#include "schedule/delay_levels.h"

namespace mqstore {

struct ScheduleRewriteOptions {
  DelayLevels levels = DelayLevels::Default();
  // The furthest a delivery time may lie ahead of the put; a request beyond it is rejected
  // with kInvalidArgument. RocketMQ's timerMaxDelaySec. Default: 3 days.
  int64_t timer_max_delay_ms = int64_t{3} * 24 * 60 * 60 * 1000;
  // When false, timer requests are ignored (the message is stored as given).
  bool timer_enabled = true;
};

enum class ScheduleKind { kDelayLevel, kTimer };

// How a message is to be parked: its new topic, queue and properties.
struct ScheduleRewrite {
  ScheduleKind kind = ScheduleKind::kDelayLevel;
  int delay_level = 0;     // kDelayLevel: the level after clamping
  int64_t deliver_ms = 0;  // kTimer: the requested delivery time (epoch ms)
  std::string topic;
  int32_t queue_id = 0;
  std::string properties;  // encoded

  // The message to store: `original` with topic, queue id and properties replaced. The
  // result points into both `original`'s buffers and this object.
  MessageView Apply(const MessageView& original) const;
};

// Decides whether `message`, put at `now_ms`, is to be parked, and how:
//   - A DELAY level > 0 parks in SCHEDULE_TOPIC_XXXX, queue level - 1, the level clamped
//     to the maximum (and DELAY rewritten to it); timer requests on the same message are
//     dropped (RocketMQ: the level wins). DELAY <= 0 means no delay.
//   - Otherwise TIMER_DELAY_SEC, TIMER_DELAY_MS, TIMER_DELIVER_MS or __STARTDELIVERTIME (the
//     first present, in that order) give a delivery time. A time not after `now_ms` means
//     no rewrite (deliver now); a time more than timer_max_delay_ms ahead is kInvalidArgument;
//     anything else parks in rmq_sys_wheel_timer queue 0 with TIMER_OUT_MS = the time.
//   - Messages already in a schedule topic, prepared or rolled-back transactional messages,
//     and messages without a request are not rewritten (nullopt).
// Errors: kInvalidArgument when a request property is not a decimal integer, a relative
// delay is negative or overflows, or the time is beyond the horizon; the message names it.
Result<std::optional<ScheduleRewrite>> RewriteForSchedule(const MessageView& message,
                                                          const ScheduleRewriteOptions& options,
                                                          int64_t now_ms);

// Whether `message` may ask for scheduled delivery at all: one pass over its property
// names, and false for the schedule topics and prepared or rolled-back messages. A put
// for which it is false is stored as given (RewriteForSchedule returns nullopt), so the
// store checks it before reading the clock.
bool MayRequestSchedule(const MessageView& message);

// Builds the message to deliver from a parked record: topic and queue from REAL_TOPIC and
// REAL_QID, properties without DELAY, REAL_*, TIMER_*, __STARTDELIVERTIME and __CRC32#,
// everything else as stored. `out` points into `record`'s buffers and into `*properties`,
// which receives the encoded properties.
// Errors: kCorruption when REAL_TOPIC is missing or REAL_QID is not a queue id.
Status RestoreForDelivery(const ParsedRecord& record, std::string* properties, MessageView* out);

// Whether a property is one a delivered message never carries: a schedule request (DELAY,
// TIMER_*, __STARTDELIVERTIME), the parking bookkeeping (REAL_TOPIC, REAL_QID, timer state)
// or the whole-record CRC. RestoreForDelivery drops them; so does a retry copy.
bool IsScheduleBookkeeping(std::string_view name);

// The delivery time a parked timer record carries (TIMER_OUT_MS); nullopt when missing or
// malformed.
std::optional<int64_t> TimerOutMs(std::string_view encoded_properties);

}  // namespace mqstore

#endif  // MQSTORE_SCHEDULE_SCHEDULE_REWRITE_H_
