// TimerScheduler: delivers messages parked in rmq_sys_wheel_timer at the time they asked for
// (RocketMQ 5's arbitrary-delay timer), up to the configured horizon.
//
//   rmq_sys_wheel_timer/0 ──enqueue──► timer log (<store>/timer/log/) + TimingWheel
//        (queue offset C)               entry per timer, slot = ceil(TIMER_OUT_MS / precision)
//                                                     │ slot R due (R * precision <= now)
//                          real topic/queue ◄──PutBatch── walk the slot's chain, ReadRecord,
//                                                         RestoreForDelivery
//
// Design (docs/format/timer.md has the bytes): one append-only timer log of 48-byte entries;
// each wheel slot (one per precision step, 1 s by default) is a backward-linked list through
// the log, and the in-memory TimingWheel holds only each slot's tail and count. A million
// timers due in one second are one slot: firing it is one sequential walk of a million log
// entries and a thousand PutBatch calls, with no per-timer memory while they wait. Timers
// further out than the wheel covers (wheel_slots) are parked at its far edge as "roll"
// entries and linked again when that slot fires, so the horizon is not bounded by the
// wheel's size.
//
// Timing: a timer fires at the first slot boundary at or after its time, never early; it
// is late by less than one precision step plus the time to deliver the slot. (RocketMQ
// rounds down instead and may deliver up to one step early.) A timer whose slot has already
// fired when it is enqueued is delivered at once.
//
// Progress, committed atomically through ScheduleProgressStore (all values >= 0):
//   "timer-enqueue"  offset = C, the next timer-topic queue offset to enqueue
//   "timer-log"      offset = E, the timer log end covered by this commit (synced before)
//   "timer-dequeue"  timestamp = (R - 1) * precision: every timer due at or before it was
//                    delivered (slots below R fired); offset = k, entries of slot R (in log
//                    order) handled already
//   "timer-rebuild"  offset = X, timestamp = T: timer-topic messages below queue offset X
//                    due at or before T were delivered before the last rebuild (0, 0: none)
// The timestamps are times, not slots, so a changed precision still reads them right.
// A commit first syncs the timer log and (flush_before_commit) Store::Flush()es the re-puts.
// It starts every commit_every_messages timers enqueued or delivered; its two fsyncs run on
// a helper thread while delivery continues (at most one in flight). RunOnce returns only
// after a final commit covering everything it did.
//
// Crash and recovery (the commit log is the source of truth; the timer log is derived):
// at Open, and after any failed RunOnce, the scheduler cuts the timer log back to E, scans
// it to rebuild the wheel, and resumes at C, R, k. Timers enqueued after the last commit are
// enqueued again (the cut removed their entries, so they are not linked twice); timers
// delivered after it are delivered again. So delivery is at-least-once, duplicates bounded by
// the work since the last completed commit: at most two commit_every_messages windows (one
// in flight) plus one put batch. When the timer files are missing or damaged (or written
// with another precision), they are discarded and rebuilt by re-reading the timer topic from
// its first message, skipping what the progress says was delivered; the slot being fired at
// that moment is delivered again in full.
//
// Thread safety: all methods may be called from any thread; they serialise on a mutex.
#ifndef MQSTORE_SCHEDULE_TIMER_SCHEDULER_H_
#define MQSTORE_SCHEDULE_TIMER_SCHEDULER_H_

#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "mqstore/env.h"
#include "mqstore/status.h"
#include "mqstore/store.h"
#include "schedule/redelivery.h"
#include "schedule/schedule_progress.h"
#include "schedule/scheduled_task.h"
#include "schedule/timer_log.h"
#include "schedule/timing_wheel.h"

namespace mqstore {

struct TimerSchedulerOptions {
  // Length of one wheel slot. Default: 1000 ms (RocketMQ's timerPrecisionMs).
  int64_t precision_ms = 1000;
  // Slots in the wheel; timers due further ahead roll. 24 bytes of memory each.
  // Default: 7 days of 1 s slots (604,800; 14.5 MB), beyond the default 3-day horizon.
  int64_t wheel_slots = int64_t{7} * 24 * 60 * 60;
  // Timer log segment size: a multiple of kTimerEntrySize. Default: 48 MiB (1,048,575
  // entries).
  uint64_t log_segment_bytes = kTimerEntrySize << 20;
  // Messages asked for per Store::Read of the timer topic. Default: 1024.
  int32_t read_batch = 1024;
  RedeliveryOptions redelivery;
  // A commit starts after this many timers enqueued + delivered. Bounds the duplicates
  // after a crash (to twice this plus one put batch). Default: 65,536.
  uint64_t commit_every_messages = 65536;
  // Store::Flush before each commit so a commit never covers a re-put a power cut could
  // lose (matters with ASYNC_FLUSH). Default: true.
  bool flush_before_commit = true;
};

class TimerScheduler : public ScheduledTask {
 public:
  static constexpr std::string_view kEnqueueProgress = "timer-enqueue";
  static constexpr std::string_view kLogProgress = "timer-log";
  static constexpr std::string_view kDequeueProgress = "timer-dequeue";
  static constexpr std::string_view kRebuildProgress = "timer-rebuild";

  // Opens (creating when missing) the timer files in <store_dir>/timer/ through `env` and
  // recovers them against the committed progress. `store` and `progress` must outlive the
  // scheduler. Errors: kInvalidArgument (options), kIOError, the progress store's errors.
  static Result<std::unique_ptr<TimerScheduler>> Open(Env* env, const std::string& store_dir,
                                                      Store& store, ScheduleProgressStore& progress,
                                                      const TimerSchedulerOptions& options = {});

  // Enqueues every new timer-topic message, then fires every slot due at `now_ms`, then
  // commits. The first call of a fresh scheduler starts the wheel at `now_ms`. After an
  // error the next call first recovers from the last commit.
  Result<ScheduleStep> RunOnce(int64_t now_ms) override;
  std::string name() const override { return "timer"; }
  ~TimerScheduler() override;

  // Commits what is done (nothing when the last RunOnce failed). Call before closing the
  // store; the scheduler stays usable.
  Status Close();

  struct Stats {
    uint64_t pending = 0;     // timers linked in the wheel (roll entries included)
    uint64_t enqueued = 0;    // timers taken from the timer topic since open
    uint64_t delivered = 0;   // messages put back since open
    uint64_t dropped = 0;     // parked messages that could not be delivered
    uint64_t rolled = 0;      // roll entries linked again
    uint64_t rebuilds = 0;    // times the timer files were discarded and rebuilt
    int64_t next_offset = 0;  // C
    int64_t read_slot = 0;    // R
    int64_t log_start = 0;
    int64_t log_end = 0;
  };
  Stats stats() const;

  // The slot a timer due at `deliver_ms` fires in: the first boundary at or after it.
  static int64_t SlotOf(int64_t deliver_ms, int64_t precision_ms);

 private:
  TimerScheduler(Env* env, std::string dir, Store& store, ScheduleProgressStore& progress,
                 const TimerSchedulerOptions& options);

  Status Recover();
  Status ScanLog();
  Status Rebuild();
  Result<int64_t> TimerTopicStart();
  Status Enqueue();
  Status Dequeue(int64_t now_ms);
  Status FireSlot();
  Status Link(TimerEntryType type, int64_t target_slot, int64_t deliver_ms,
              int64_t commit_log_offset, int32_t record_size);
  Status Commit();
  Status MaybeCommit();
  Status StartCommit();
  Status FinishCommit();
  bool Dirty() const;
  // Every timer due at or before this was delivered: the end of the last fired slot.
  int64_t DeliveredThroughMs() const { return (read_slot_ - 1) * options_.precision_ms; }
  Status RemoveFiredSegments();

  Env* env_;
  const std::string dir_;
  Store& store_;
  ScheduleProgressStore& progress_;
  const TimerSchedulerOptions options_;

  mutable std::mutex mu_;
  std::unique_ptr<TimerLog> log_;
  TimingWheel wheel_;
  Redelivery redelivery_;
  bool need_recovery_ = true;
  bool started_ = false;              // R is set (a fresh scheduler sets it at its first RunOnce)
  int64_t next_offset_ = 0;           // C
  int64_t read_slot_ = 0;             // R
  int64_t fired_in_slot_ = 0;         // k
  int64_t rebuild_below_ = 0;         // X
  int64_t rebuild_delivered_ms_ = 0;  // T
  struct Committed {
    bool valid = false;
    int64_t next_offset = 0, log_end = 0, read_slot = 0, fired_in_slot = 0;
  } committed_;          // the last commit known durable
  Committed in_flight_;  // the commit being made by in_flight_commit_
  uint64_t in_flight_delivered_ = 0;
  std::future<Status> in_flight_commit_;
  uint64_t work_since_commit_ = 0;
  uint64_t delivered_at_commit_ = 0;
  std::map<int64_t, int64_t> segment_max_slot_;  // segment base -> largest slot linked in it
  Stats stats_;
};

}  // namespace mqstore

#endif  // MQSTORE_SCHEDULE_TIMER_SCHEDULER_H_
