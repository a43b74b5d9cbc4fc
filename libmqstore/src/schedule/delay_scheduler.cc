#include "schedule/delay_scheduler.h"

#include <array>

#include "schedule/schedule_names.h"

namespace mqstore {
namespace {
// Bytes asked for per Store::Read; the message count limit is normally what binds.
constexpr uint64_t kReadMaxBytes = 4ull << 20;
}  // namespace

DelayScheduler::DelayScheduler(Store& store, ScheduleProgressStore& progress, int level,
                               int64_t delay_ms, const DelaySchedulerOptions& options)
    : store_(store),
      progress_(progress),
      level_(level),
      delay_ms_(delay_ms),
      options_(options),
      redelivery_(store, options.redelivery) {
  if (options_.read_batch < 1) options_.read_batch = 1;
}

std::string DelayScheduler::ProgressName(int level) {
  return "delay-level-" + std::to_string(level);
}

Result<ScheduleStep> DelayScheduler::RunOnce(int64_t now_ms) {
  if (!loaded_) {
    MQ_ASSIGN_OR_RETURN(std::optional<ScheduleProgressEntry> saved,
                        progress_.Load(ProgressName(level_)));
    offset_ = saved ? saved->offset : 0;
    committed_offset_ = saved ? saved->offset : -1;
    loaded_ = true;
  }
  redelivery_.Discard();  // what a failed call left behind points into freed reads
  const uint64_t delivered_before = redelivery_.delivered();
  const uint64_t dropped_before = redelivery_.dropped();
  ScheduleStep step;
  const int32_t queue_id = DelayLevels::QueueIdOf(level_);
  bool more = true;
  while (more) {
    MQ_ASSIGN_OR_RETURN(ReadResult read, store_.Read(schedule::kScheduleTopic, queue_id, offset_,
                                                     options_.read_batch, kReadMaxBytes));
    if ((read.status == ReadStatus::kOffsetTooSmall ||
         read.status == ReadStatus::kOffsetTooLarge) &&
        read.next_offset != offset_) {
      // Retention removed the head (those messages are gone), or the saved offset is past a
      // queue that lost its tail in a crash; continue from where the queue really is.
      offset_ = read.next_offset;
      continue;
    }
    if (read.status != ReadStatus::kFound) break;  // empty or no such queue
    int64_t next = offset_;
    for (const StoredMessage& m : read.messages) {
      ParsedRecord parsed;
      if (!ParseRecord(m.record, /*verify_checksums=*/false, &parsed).ok()) {
        redelivery_.Add(m.record, nullptr);  // counted as dropped
        next = m.queue_offset + 1;
        continue;
      }
      int64_t due = parsed.store_timestamp_ms + delay_ms_;
      // Stored after now_ms: either it arrived while this round runs (a little after), and
      // waits its full delay, or the clock went back (far after), and it is due now like
      // in RocketMQ, rather than waiting for the clock to catch up.
      if (parsed.store_timestamp_ms > now_ms + kClockWentBackMs) due = now_ms;
      if (due > now_ms) {
        step.next_due_ms = due;
        more = false;
        break;
      }
      redelivery_.Add(parsed, nullptr);  // `read` pins the bytes until the flush below
      next = m.queue_offset + 1;
      if (redelivery_.full()) {
        MQ_RETURN_IF_ERROR(redelivery_.Flush());
        offset_ = next;
      }
    }
    MQ_RETURN_IF_ERROR(redelivery_.Flush());
    offset_ = next;
    if (redelivery_.delivered() - delivered_at_commit_ >= options_.commit_every_messages) {
      MQ_RETURN_IF_ERROR(Commit(now_ms));
    }
  }
  if (offset_ != committed_offset_) MQ_RETURN_IF_ERROR(Commit(now_ms));
  step.delivered = redelivery_.delivered() - delivered_before;
  step.dropped = redelivery_.dropped() - dropped_before;
  return step;
}

Status DelayScheduler::Commit(int64_t now_ms) {
  if (options_.flush_before_commit && redelivery_.delivered() > delivered_at_commit_) {
    MQ_RETURN_IF_ERROR(store_.Flush());
  }
  std::array<ScheduleProgressEntry, 1> entry = {
      ScheduleProgressEntry{ProgressName(level_), offset_, now_ms < 0 ? 0 : now_ms}};
  MQ_RETURN_IF_ERROR(progress_.Commit(entry));
  committed_offset_ = offset_;
  delivered_at_commit_ = redelivery_.delivered();
  return Status::OK();
}

std::vector<std::unique_ptr<DelayScheduler>> MakeDelaySchedulers(
    Store& store, ScheduleProgressStore& progress, const DelayLevels& levels,
    const DelaySchedulerOptions& options) {
  std::vector<std::unique_ptr<DelayScheduler>> out;
  for (int level = 1; level <= levels.max_level(); ++level) {
    out.push_back(
        std::make_unique<DelayScheduler>(store, progress, level, levels.DelayMs(level), options));
  }
  return out;
}

}  // namespace mqstore
