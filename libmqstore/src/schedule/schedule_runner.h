// ScheduleRunner: a background thread that keeps calling RunOnce on a set of schedulers.
//
// It sleeps until the earliest next_due_ms any task reported, or until Notify() (the store
// façade calls it from its arrival listener when a message lands in SCHEDULE_TOPIC_XXXX or
// rmq_sys_wheel_timer), or at most max_idle_ms, whichever comes first. Time comes from the
// injected Clock; waiting uses the steady clock for the computed interval, so with a manual
// clock a test drives rounds with Notify() and AwaitRound().
//
// A task error is remembered (last_error()) and the round is retried after
// retry_after_error_ms; the thread never stops on its own.
//
// Thread safety: every method may be called from any thread. The tasks are only ever run by
// the runner's thread while it runs.
#ifndef MQSTORE_SCHEDULE_SCHEDULE_RUNNER_H_
#define MQSTORE_SCHEDULE_SCHEDULE_RUNNER_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "mqstore/env.h"
#include "mqstore/status.h"
#include "schedule/scheduled_task.h"

namespace mqstore {

struct ScheduleRunnerOptions {
  // Longest sleep between rounds when nothing is due (guards against a missed Notify).
  // Default: 1000 ms.
  int64_t max_idle_ms = 1000;
  // Sleep after a round in which a task failed. Default: 1000 ms.
  int64_t retry_after_error_ms = 1000;
};

class ScheduleRunner {
 public:
  // `clock` and the tasks must outlive the runner.
  ScheduleRunner(Clock* clock, std::vector<ScheduledTask*> tasks,
                 const ScheduleRunnerOptions& options = {});
  ~ScheduleRunner();  // Stop()
  ScheduleRunner(const ScheduleRunner&) = delete;
  ScheduleRunner& operator=(const ScheduleRunner&) = delete;

  // Starts the thread; the first round runs at once. kFailedPrecondition when running.
  Status Start();
  // Wakes the thread for a round now (e.g. a parked message arrived). Cheap; never blocks
  // on a running round.
  void Notify();
  // Notify(), returning the number of the first round that starts after this call (rounds
  // count from 1): AwaitRound(n - 1) then waits until a round that saw everything done
  // before the call has completed.
  uint64_t RequestRound();
  // Finishes the current round and joins the thread. Idempotent.
  void Stop();

  // Rounds completed so far.
  uint64_t rounds() const;
  // Waits until more than `round` rounds have completed; false after `timeout_ms`.
  bool AwaitRound(uint64_t round, int64_t timeout_ms);
  // The error of the most recent failing task call; OK when the last round succeeded.
  Status last_error() const;

 private:
  void Loop();

  Clock* clock_;
  std::vector<ScheduledTask*> tasks_;
  ScheduleRunnerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;  // Notify, Stop
  std::condition_variable round_done_;
  bool notified_ = false;  // GUARDED_BY(mu_)
  bool stopping_ = false;  // GUARDED_BY(mu_)
  uint64_t rounds_ = 0;    // GUARDED_BY(mu_); completed
  uint64_t rounds_started_ = 0;  // GUARDED_BY(mu_)
  Status last_error_;      // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace mqstore

#endif  // MQSTORE_SCHEDULE_SCHEDULE_RUNNER_H_
