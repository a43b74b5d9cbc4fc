// DelayScheduler: delivers the messages of one delay level when their delay has passed.
//
// Level n's messages wait in queue n - 1 of SCHEDULE_TOPIC_XXXX. All of them have the same
// delay, so the queue is ordered by due time (store timestamp + delay) and the scheduler
// only ever looks at its head: RunOnce reads from its offset, re-puts every due message
// restored to its real topic and queue (RestoreForDelivery, in batches), and stops at the
// first message that is not due yet, reporting when it will be.
//
// Progress (ScheduleProgressStore entry "delay-level-<n>": offset = the next queue offset to
// deliver, timestamp = when it was committed) is committed after the re-puts it covers are
// put and, with flush_before_commit, durable: at least every commit_every_messages messages
// and at the end of every RunOnce that delivered something. Delivery is therefore
// at-least-once: after a crash nothing due is lost, and what is delivered twice is bounded
// by the messages delivered since the last commit (at most commit_every_messages plus one
// put batch). Within a level, messages are delivered in queue order.
//
// A message stored more than kClockWentBackMs after the round's now means the clock went
// back: it counts as due now, like RocketMQ. (One stored less than that after now arrived
// while the round ran and waits its full delay; taking it as due would deliver it early.)
// Parked messages that retention removed before they were due are skipped.
//
// Thread safety: RunOnce calls must not overlap (one runner thread, or a test).
#ifndef MQSTORE_SCHEDULE_DELAY_SCHEDULER_H_
#define MQSTORE_SCHEDULE_DELAY_SCHEDULER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mqstore/status.h"
#include "mqstore/store.h"
#include "schedule/delay_levels.h"
#include "schedule/redelivery.h"
#include "schedule/schedule_progress.h"
#include "schedule/scheduled_task.h"

namespace mqstore {

struct DelaySchedulerOptions {
  // Messages asked for per Store::Read (at least 1). Default: 256.
  int32_t read_batch = 256;
  RedeliveryOptions redelivery;
  // Progress is committed at least this often (in delivered messages). Default: 4096.
  uint64_t commit_every_messages = 4096;
  // Store::Flush before each progress commit, so a committed offset never covers a re-put
  // that a power cut could lose (matters in ASYNC_FLUSH). Default: true.
  bool flush_before_commit = true;
};

class DelayScheduler : public ScheduledTask {
 public:
  static constexpr int64_t kClockWentBackMs = 60'000;

  // `store` and `progress` must outlive the scheduler. REQUIRES: level >= 1, delay_ms > 0.
  DelayScheduler(Store& store, ScheduleProgressStore& progress, int level, int64_t delay_ms,
                 const DelaySchedulerOptions& options = {});

  // Delivers every message of the level due at `now_ms`. The first call loads the
  // committed offset (none: the queue's start). Errors: the store's or the progress
  // store's; the next call resumes after what was delivered.
  Result<ScheduleStep> RunOnce(int64_t now_ms) override;
  std::string name() const override { return ProgressName(level_); }

  // The progress entry name of `level`: "delay-level-<level>".
  static std::string ProgressName(int level);

  int level() const { return level_; }
  // Next queue offset to deliver (what the next RunOnce starts from).
  int64_t offset() const { return offset_; }

 private:
  Status Commit(int64_t now_ms);

  Store& store_;
  ScheduleProgressStore& progress_;
  const int level_;
  const int64_t delay_ms_;
  DelaySchedulerOptions options_;
  Redelivery redelivery_;
  bool loaded_ = false;
  int64_t offset_ = 0;
  int64_t committed_offset_ = -1;
  uint64_t delivered_at_commit_ = 0;  // redelivery_.delivered() at the last commit
};

// One scheduler per level of `levels`, level 1 first.
std::vector<std::unique_ptr<DelayScheduler>> MakeDelaySchedulers(
    Store& store, ScheduleProgressStore& progress, const DelayLevels& levels,
    const DelaySchedulerOptions& options = {});

}  // namespace mqstore

#endif  // MQSTORE_SCHEDULE_DELAY_SCHEDULER_H_
