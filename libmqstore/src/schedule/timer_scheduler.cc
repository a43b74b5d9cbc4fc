#include "schedule/timer_scheduler.h"

#include <algorithm>
#include <future>
#include <vector>

#include "schedule/schedule_names.h"
#include "schedule/schedule_rewrite.h"

namespace mqstore {
namespace {

// Bytes asked for per Store::Read of the timer topic; the message count normally binds.
constexpr uint64_t kReadMaxBytes = 8ull << 20;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

}  // namespace

int64_t TimerScheduler::SlotOf(int64_t deliver_ms, int64_t precision_ms) {
  return -FloorDiv(-deliver_ms, precision_ms);
}

Result<std::unique_ptr<TimerScheduler>> TimerScheduler::Open(Env* env, const std::string& store_dir,
                                                             Store& store,
                                                             ScheduleProgressStore& progress,
                                                             const TimerSchedulerOptions& options) {
  if (options.precision_ms <= 0) {
    return Status::InvalidArgument("timer precision_ms must be positive");
  }
  if (options.wheel_slots < 2) return Status::InvalidArgument("timer wheel_slots must be >= 2");
  if (options.log_segment_bytes % kTimerEntrySize != 0 ||
      options.log_segment_bytes < 2 * kTimerEntrySize) {
    return Status::InvalidArgument("timer log_segment_bytes must be a multiple of " +
                                   std::to_string(kTimerEntrySize) + ", at least two entries");
  }
  if (options.read_batch <= 0) return Status::InvalidArgument("timer read_batch must be > 0");
  MQ_RETURN_IF_ERROR(env->CreateDir(store_dir + "/timer"));
  std::unique_ptr<TimerScheduler> scheduler(
      new TimerScheduler(env, store_dir + "/timer/log", store, progress, options));
  std::lock_guard<std::mutex> lock(scheduler->mu_);
  MQ_RETURN_IF_ERROR(scheduler->Recover());
  return scheduler;
}

TimerScheduler::TimerScheduler(Env* env, std::string dir, Store& store,
                               ScheduleProgressStore& progress,
                               const TimerSchedulerOptions& options)
    : env_(env),
      dir_(std::move(dir)),
      store_(store),
      progress_(progress),
      options_(options),
      wheel_(options.wheel_slots),
      redelivery_(store, options.redelivery) {}

// ---- Recovery

Status TimerScheduler::Recover() {
  need_recovery_ = true;
  if (in_flight_commit_.valid()) in_flight_commit_.get().IgnoreError();  // superseded
  redelivery_.Discard();
  wheel_.Reset();
  segment_max_slot_.clear();
  committed_ = Committed{};
  work_since_commit_ = 0;
  delivered_at_commit_ = redelivery_.delivered();

  auto load = [&](std::string_view name) { return progress_.Load(name); };
  MQ_ASSIGN_OR_RETURN(std::optional<ScheduleProgressEntry> enqueue, load(kEnqueueProgress));
  MQ_ASSIGN_OR_RETURN(std::optional<ScheduleProgressEntry> log_end, load(kLogProgress));
  MQ_ASSIGN_OR_RETURN(std::optional<ScheduleProgressEntry> dequeue, load(kDequeueProgress));
  MQ_ASSIGN_OR_RETURN(std::optional<ScheduleProgressEntry> rebuild, load(kRebuildProgress));

  Result<std::unique_ptr<TimerLog>> opened =
      TimerLog::Open(env_, dir_, options_.log_segment_bytes, options_.precision_ms);
  bool damaged = false;
  if (!opened.ok() && opened.status().IsCorruption()) {
    damaged = true;  // unreadable files: throw them away
    MQ_RETURN_IF_ERROR(TimerLog::Destroy(env_, dir_));
    opened = TimerLog::Open(env_, dir_, options_.log_segment_bytes, options_.precision_ms);
  }
  if (!opened.ok()) return opened.status();
  log_ = std::move(opened).value();

  if (!dequeue) {
    // Fresh: nothing was ever committed, so no file can matter.
    MQ_RETURN_IF_ERROR(log_->RemoveAll());
    MQ_ASSIGN_OR_RETURN(next_offset_, TimerTopicStart());
    started_ = false;
    read_slot_ = fired_in_slot_ = rebuild_below_ = rebuild_delivered_ms_ = 0;
    need_recovery_ = false;
    return Status::OK();
  }
  started_ = true;
  next_offset_ = enqueue ? enqueue->offset : 0;
  // Every timer due at or before the dequeue timestamp was delivered: the slots up to it
  // have fired (with another precision than before, the log is rebuilt below).
  read_slot_ = FloorDiv(dequeue->timestamp_ms, options_.precision_ms) + 1;
  fired_in_slot_ = dequeue->offset;
  rebuild_below_ = rebuild ? rebuild->offset : 0;
  rebuild_delivered_ms_ = rebuild ? rebuild->timestamp_ms : 0;
  committed_ =
      Committed{true, next_offset_, log_end ? log_end->offset : 0, read_slot_, fired_in_slot_};

  Status s = damaged ? Status::Corruption("damaged timer files")
                     : log_->TruncateTo(log_end ? log_end->offset : 0);
  if (s.ok()) s = ScanLog();
  if (!s.ok()) {
    if (!s.IsCorruption() && !s.IsOutOfRange()) return s;
    MQ_RETURN_IF_ERROR(Rebuild());
  }
  need_recovery_ = false;
  return Status::OK();
}

// Rebuilds the wheel (and the per-segment high slots) from the log entries.
Status TimerScheduler::ScanLog() {
  const int64_t start = log_->start();
  for (int64_t pos = start; pos < log_->end(); pos = log_->NextPosition(pos)) {
    TimerEntry e;
    MQ_RETURN_IF_ERROR(log_->Read(pos, &e));
    int64_t& high = segment_max_slot_[log_->SegmentBaseOf(pos)];
    high = std::max(high, e.slot);
    if (e.slot < read_slot_) continue;  // fired already
    if (e.slot >= read_slot_ + wheel_.size()) {
      return Status::Corruption("timer entry at " + std::to_string(pos) +
                                " lies beyond the wheel (wheel_slots changed?)");
    }
    int64_t prev = wheel_.Link(e.slot, pos);
    if (prev != e.prev && !(prev == kNoTimerEntry && e.prev < start)) {
      return Status::Corruption("timer entry at " + std::to_string(pos) +
                                " does not continue its slot's chain");
    }
  }
  return Status::OK();
}

// Discards the timer files and re-reads the timer topic from its start. Messages below the
// old C whose slot had fired were delivered already; "timer-rebuild" remembers that.
Status TimerScheduler::Rebuild() {
  MQ_RETURN_IF_ERROR(log_->RemoveAll());
  wheel_.Reset();
  segment_max_slot_.clear();
  if (next_offset_ >= rebuild_below_) {  // not in the middle of an earlier rebuild
    rebuild_below_ = next_offset_;
    rebuild_delivered_ms_ = DeliveredThroughMs();
  }
  MQ_ASSIGN_OR_RETURN(next_offset_, TimerTopicStart());
  fired_in_slot_ = 0;
  ++stats_.rebuilds;
  return Commit();
}

Result<int64_t> TimerScheduler::TimerTopicStart() {
  Result<QueueBounds> bounds =
      store_.GetQueueBounds(schedule::kTimerTopic, schedule::kTimerQueueId);
  if (!bounds.ok()) {
    if (bounds.status().IsNotFound()) return int64_t{0};
    return bounds.status();
  }
  return bounds->min_offset;
}

// ---- Steps

Result<ScheduleStep> TimerScheduler::RunOnce(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (need_recovery_) MQ_RETURN_IF_ERROR(Recover());
  if (!started_) {
    read_slot_ = FloorDiv(now_ms, options_.precision_ms);
    fired_in_slot_ = 0;
    started_ = true;
  }
  const uint64_t delivered_before = redelivery_.delivered();
  const uint64_t dropped_before = redelivery_.dropped();
  Status s = Enqueue();
  if (s.ok()) s = Dequeue(now_ms);
  if (s.ok()) s = FinishCommit();
  if (s.ok() && Dirty()) s = Commit();
  if (!s.ok()) {
    need_recovery_ = true;  // the next call starts again from the last commit
    return s;
  }
  ScheduleStep step;
  step.delivered = redelivery_.delivered() - delivered_before;
  step.dropped = redelivery_.dropped() - dropped_before;
  stats_.delivered += step.delivered;
  stats_.dropped += step.dropped;
  if (std::optional<int64_t> next = wheel_.NextOccupied(read_slot_)) {
    step.next_due_ms = *next * options_.precision_ms;
  }
  return step;
}

Status TimerScheduler::Enqueue() {
  while (true) {
    MQ_ASSIGN_OR_RETURN(ReadResult read,
                        store_.Read(schedule::kTimerTopic, schedule::kTimerQueueId, next_offset_,
                                    options_.read_batch, kReadMaxBytes));
    if ((read.status == ReadStatus::kOffsetTooSmall ||
         read.status == ReadStatus::kOffsetTooLarge) &&
        read.next_offset != next_offset_) {
      next_offset_ = read.next_offset;  // retention took the head, or the queue lost its tail
      continue;
    }
    if (read.status != ReadStatus::kFound) return Status::OK();
    for (const StoredMessage& m : read.messages) {
      ParsedRecord parsed;
      if (!ParseRecord(m.record, /*verify_checksums=*/false, &parsed).ok()) {
        redelivery_.Add(m.record, nullptr);  // counted as dropped
        next_offset_ = m.queue_offset + 1;
        continue;
      }
      // No TIMER_OUT_MS (put here by hand): deliver at once.
      int64_t deliver_ms = TimerOutMs(parsed.properties).value_or(0);
      int64_t slot = SlotOf(deliver_ms, options_.precision_ms);
      next_offset_ = m.queue_offset + 1;
      ++stats_.enqueued;
      ++work_since_commit_;
      if (m.queue_offset < rebuild_below_ && deliver_ms <= rebuild_delivered_ms_) {
        continue;  // delivered before the timer files were rebuilt
      }
      if (slot < read_slot_) {
        redelivery_.Add(parsed, nullptr);  // `read` pins the record until the flush
        if (redelivery_.full()) MQ_RETURN_IF_ERROR(redelivery_.Flush());
      } else {
        MQ_RETURN_IF_ERROR(
            Link(TimerEntryType::kDeliver, slot, deliver_ms, m.physical_offset, parsed.total_size));
      }
    }
    MQ_RETURN_IF_ERROR(redelivery_.Flush());
    MQ_RETURN_IF_ERROR(MaybeCommit());
  }
}

Status TimerScheduler::Link(TimerEntryType type, int64_t target_slot, int64_t deliver_ms,
                            int64_t commit_log_offset, int32_t record_size) {
  int64_t slot = target_slot;
  if (slot >= read_slot_ + wheel_.size()) {  // beyond the wheel: park at its far edge
    slot = read_slot_ + wheel_.size() - 1;
    type = TimerEntryType::kRoll;
  }
  TimerEntry entry{type, slot, wheel_.Tail(slot), deliver_ms, commit_log_offset, record_size};
  MQ_ASSIGN_OR_RETURN(int64_t pos, log_->Append(entry));
  wheel_.Link(slot, pos);
  int64_t& high = segment_max_slot_[log_->SegmentBaseOf(pos)];
  high = std::max(high, slot);
  return Status::OK();
}

Status TimerScheduler::Dequeue(int64_t now_ms) {
  const int64_t now_slot = FloorDiv(now_ms, options_.precision_ms);
  while (read_slot_ <= now_slot) {
    std::optional<int64_t> next = wheel_.NextOccupied(read_slot_);
    if (!next || *next > now_slot) {
      read_slot_ = now_slot + 1;  // nothing linked up to now
      fired_in_slot_ = 0;
      break;
    }
    if (*next != read_slot_) {
      read_slot_ = *next;
      fired_in_slot_ = 0;
    }
    MQ_RETURN_IF_ERROR(FireSlot());
  }
  return Status::OK();
}

// Handles the entries of slot R in log order, from entry k on; then moves R on.
Status TimerScheduler::FireSlot() {
  const int64_t slot = read_slot_;
  TimingWheel::Slot cell = wheel_.Get(slot);
  // Walk the chain once (newest first), keeping what delivery needs: 24 bytes a timer.
  struct Timer {
    int64_t commit_log_offset;
    int64_t deliver_ms;
    int32_t record_size;
    TimerEntryType type;
  };
  std::vector<Timer> chain;
  chain.reserve(cell.count);
  for (int64_t pos = cell.tail; pos != kNoTimerEntry && pos >= log_->start();) {
    TimerEntry e;
    MQ_RETURN_IF_ERROR(log_->Read(pos, &e));
    if (e.slot != slot) {
      return Status::Corruption("timer entry at " + std::to_string(pos) + " is in slot " +
                                std::to_string(e.slot) + ", found in the chain of " +
                                std::to_string(slot));
    }
    chain.push_back(Timer{e.commit_log_offset, e.deliver_ms, e.record_size, e.type});
    pos = e.prev;
  }
  std::reverse(chain.begin(), chain.end());
  for (size_t i = static_cast<size_t>(fired_in_slot_); i < chain.size(); ++i) {
    const Timer& t = chain[i];
    if (t.type == TimerEntryType::kRoll) {
      ++stats_.rolled;
      MQ_RETURN_IF_ERROR(Link(TimerEntryType::kDeliver, SlotOf(t.deliver_ms, options_.precision_ms),
                              t.deliver_ms, t.commit_log_offset, t.record_size));
    } else {
      Result<RecordView> record = store_.ReadRecord(t.commit_log_offset);
      if (record.ok() && record->bytes.size() == static_cast<size_t>(t.record_size)) {
        redelivery_.Add(record->bytes, std::move(record->pin));
      } else if (record.ok() || record.status().IsNotFound()) {
        redelivery_.Drop();  // gone (retention removed it)
      } else {
        return record.status();
      }
      ++work_since_commit_;
    }
    if (redelivery_.full()) MQ_RETURN_IF_ERROR(redelivery_.Flush());
    if (redelivery_.empty()) {
      fired_in_slot_ = static_cast<int64_t>(i) + 1;
      MQ_RETURN_IF_ERROR(MaybeCommit());
    }
  }
  MQ_RETURN_IF_ERROR(redelivery_.Flush());
  wheel_.Clear(slot);
  read_slot_ = slot + 1;
  fired_in_slot_ = 0;
  return Status::OK();
}

// ---- Progress

// Moving R over empty slots alone is not worth a commit: after a crash those slots are
// simply found empty again.
bool TimerScheduler::Dirty() const {
  return !committed_.valid || committed_.next_offset != next_offset_ ||
         committed_.log_end != log_->end() || committed_.fired_in_slot != fired_in_slot_ ||
         redelivery_.delivered() != delivered_at_commit_;
}

Status TimerScheduler::MaybeCommit() {
  return work_since_commit_ >= options_.commit_every_messages ? StartCommit() : Status::OK();
}

Status TimerScheduler::Commit() {
  MQ_RETURN_IF_ERROR(StartCommit());
  return FinishCommit();
}

// Syncs the timer log here, then makes the re-puts durable and commits the progress on a
// helper thread while delivery goes on: the two fsyncs overlap with the next batches. At
// most one commit is in flight; a commit never covers anything done after it started.
Status TimerScheduler::StartCommit() {
  MQ_RETURN_IF_ERROR(FinishCommit());
  MQ_RETURN_IF_ERROR(log_->Sync());
  const bool flush = options_.flush_before_commit && redelivery_.delivered() > delivered_at_commit_;
  std::vector<ScheduleProgressEntry> entries = {
      ScheduleProgressEntry{std::string(kEnqueueProgress), next_offset_, 0},
      ScheduleProgressEntry{std::string(kLogProgress), log_->end(), 0},
      ScheduleProgressEntry{std::string(kDequeueProgress), fired_in_slot_,
                            std::max<int64_t>(DeliveredThroughMs(), 0)},
      ScheduleProgressEntry{std::string(kRebuildProgress), rebuild_below_,
                            std::max<int64_t>(rebuild_delivered_ms_, 0)},
  };
  in_flight_ = Committed{true, next_offset_, log_->end(), read_slot_, fired_in_slot_};
  in_flight_delivered_ = redelivery_.delivered();
  work_since_commit_ = 0;
  in_flight_commit_ = std::async(std::launch::async, [&store = store_, &progress = progress_,
                                                      entries = std::move(entries), flush]() {
    if (flush) MQ_RETURN_IF_ERROR(store.Flush());
    return progress.Commit(entries);
  });
  return Status::OK();
}

// Waits for the commit in flight, if any; once it is durable, its segments may go.
Status TimerScheduler::FinishCommit() {
  if (!in_flight_commit_.valid()) return Status::OK();
  MQ_RETURN_IF_ERROR(in_flight_commit_.get());
  committed_ = in_flight_;
  delivered_at_commit_ = in_flight_delivered_;
  return RemoveFiredSegments();
}

// Removes leading segments whose every entry lies in a slot the committed R has passed.
Status TimerScheduler::RemoveFiredSegments() {
  std::vector<int64_t> bases = log_->SegmentBases();
  for (size_t i = 0; i + 1 < bases.size(); ++i) {
    auto it = segment_max_slot_.find(bases[i]);
    if (it != segment_max_slot_.end() && it->second >= committed_.read_slot) break;
    MQ_RETURN_IF_ERROR(log_->RemoveFirstSegment());
    if (it != segment_max_slot_.end()) segment_max_slot_.erase(it);
  }
  return Status::OK();
}

Status TimerScheduler::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (need_recovery_ || !started_) return Status::OK();
  MQ_RETURN_IF_ERROR(FinishCommit());
  return Dirty() ? Commit() : Status::OK();
}

TimerScheduler::~TimerScheduler() {
  if (in_flight_commit_.valid()) in_flight_commit_.wait();  // it uses the store and progress
}

TimerScheduler::Stats TimerScheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.pending = wheel_.total();
  s.next_offset = next_offset_;
  s.read_slot = read_slot_;
  s.log_start = log_ ? log_->start() : 0;
  s.log_end = log_ ? log_->end() : 0;
  return s;
}

}  // namespace mqstore
