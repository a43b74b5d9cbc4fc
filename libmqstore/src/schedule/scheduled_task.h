// ScheduledTask: one step of a scheduler, driven either by a test with a manual clock or by
// ScheduleRunner's thread. DelayScheduler and TimerScheduler implement it.
#ifndef MQSTORE_SCHEDULE_SCHEDULED_TASK_H_
#define MQSTORE_SCHEDULE_SCHEDULED_TASK_H_

#include <cstdint>
#include <optional>
#include <string>

#include "mqstore/status.h"

namespace mqstore {

// What one RunOnce did.
struct ScheduleStep {
  uint64_t delivered = 0;  // messages put back into their real queues
  uint64_t dropped = 0;    // parked messages that could not be delivered (see Redelivery)
  // When the next known message becomes due (epoch ms); nullopt when nothing is waiting
  // (only a new arrival can create work).
  std::optional<int64_t> next_due_ms;
};

class ScheduledTask {
 public:
  virtual ~ScheduledTask() = default;
  // Delivers everything due at `now_ms` and commits progress. Deterministic: time comes
  // only from `now_ms`. After an error nothing is lost; the next call retries.
  virtual Result<ScheduleStep> RunOnce(int64_t now_ms) = 0;
  // For logs and errors, e.g. "delay-level-3".
  virtual std::string name() const = 0;
};

}  // namespace mqstore

#endif  // MQSTORE_SCHEDULE_SCHEDULED_TASK_H_
