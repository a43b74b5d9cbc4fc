// ScheduleService: the scheduled-delivery machinery of one store, started and stopped as a
// unit by the store façade: one DelayScheduler per delay level, the TimerScheduler (when
// timers are enabled), their progress store, and the ScheduleRunner thread that drives them.
//
//   Store::Put ──RewriteForSchedule──► SCHEDULE_TOPIC_XXXX / rmq_sys_wheel_timer
//                                          │ dispatcher's arrival listener: OnArrival()
//                                          ▼
//                       ScheduleRunner ──► DelayScheduler x levels, TimerScheduler
//                                          │ due: RestoreForDelivery, Store::PutBatch
//                                          ▼
//                                      real topic / queue
//
// The schedulers are clients of the public Store interface (Read, ReadRecord, PutBatch,
// Flush), so they see exactly what consumers see, and their re-puts go through the same
// validation and durability as any put.
//
// Thread safety: OnArrival, AwaitRound and stats may be called from any thread; Stop from one.
#ifndef MQSTORE_SCHEDULE_SCHEDULE_SERVICE_H_
#define MQSTORE_SCHEDULE_SCHEDULE_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/env.h"
#include "mqstore/status.h"
#include "mqstore/store.h"
#include "schedule/delay_levels.h"
#include "schedule/delay_scheduler.h"
#include "schedule/schedule_progress.h"
#include "schedule/schedule_runner.h"
#include "schedule/timer_scheduler.h"

namespace mqstore {

struct ScheduleServiceOptions {
  DelayLevels levels = DelayLevels::Default();
  bool timer_enabled = true;
  DelaySchedulerOptions delay;
  TimerSchedulerOptions timer;
  ScheduleRunnerOptions runner;
};

struct ScheduleServiceStats {
  uint64_t rounds = 0;            // runner rounds completed
  uint64_t timers_pending = 0;    // timers waiting in the wheel
  uint64_t timers_delivered = 0;  // timer messages put back since open
  Status last_error;              // of the last round (OK when it succeeded)
};

class ScheduleService {
 public:
  // Opens the timer files in <store_dir>/timer/ (recovering them against `progress`) and
  // starts the runner. `store` and `clock` must outlive the service.
  static Result<std::unique_ptr<ScheduleService>> Start(
      Env* env, const std::string& store_dir, Store& store, Clock* clock,
      std::shared_ptr<ScheduleProgressStore> progress, const ScheduleServiceOptions& options);
  ~ScheduleService();  // Stop()
  ScheduleService(const ScheduleService&) = delete;
  ScheduleService& operator=(const ScheduleService&) = delete;

  // A message became readable in `topic`: wakes the runner when it is a schedule topic.
  // Cheap and non-blocking (the dispatcher calls it for every record).
  void OnArrival(std::string_view topic);
  // Wakes the runner and waits until a round that started after this call has completed.
  // kTimedOut after `timeout_ms`; kFailedPrecondition once stopped; otherwise that round's
  // status.
  Status AwaitRound(int timeout_ms);
  // Stops the runner after its current round and commits the timer's progress. The store
  // must still accept puts. Idempotent.
  Status Stop();

  ScheduleServiceStats stats() const;

 private:
  explicit ScheduleService(std::shared_ptr<ScheduleProgressStore> progress);

  std::shared_ptr<ScheduleProgressStore> progress_;
  std::vector<std::unique_ptr<DelayScheduler>> delay_schedulers_;
  std::unique_ptr<TimerScheduler> timer_;
  std::unique_ptr<ScheduleRunner> runner_;
  std::atomic<bool> stopped_{false};
};

}  // namespace mqstore

#endif  // MQSTORE_SCHEDULE_SCHEDULE_SERVICE_H_
