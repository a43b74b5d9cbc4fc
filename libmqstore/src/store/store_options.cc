// StoreOptions: validation, defaults, and what each component gets from them.
#include "store/store_options.h"

#include <algorithm>

#include "retention/retention_policy.h"
#include "schedule/delay_levels.h"

namespace mqstore {

StoreOptions WithDefaults(StoreOptions o) {
  if (o.env == nullptr) o.env = Env::Default();
  if (o.clock == nullptr) o.clock = Clock::System();
  return o;
}

CommitLog::Options LogOptions(const StoreOptions& o) {
  CommitLog::Options l;
  l.segment_bytes = o.commitlog_segment_bytes;
  l.store_host = o.store_host;
  l.clock = o.clock;
  l.resident_window_bytes = o.resident_log_window_bytes;
  l.cache_window_bytes = o.cached_log_window_bytes;
  // ASYNC_FLUSH prefaults the mapping ahead. SYNC_FLUSH writes with pwrite from a buffer
  // instead (fdatasync then finds no dirty mapped pages to write-protect,
  // docs/design/0002-sync-write-buffer.md), and prefaulted pages would be dirty pages again
  // (measured: 478 vs 353 us per single-writer put); it writes zeros ahead instead
  // (docs/design/0014-zero-ahead.md).
  l.prepare_ahead_bytes =
      o.flush_mode == FlushMode::kAsync ? (64ull << 20) : o.log_zero_ahead_bytes;
  l.write_buffer_bytes = o.flush_mode == FlushMode::kSync ? o.write_buffer_bytes : 0;
  return l;
}

ScheduleRewriteOptions RewriteOptions(const StoreOptions& o) {
  ScheduleRewriteOptions r;
  if (o.enable_schedule) {
    if (auto levels = DelayLevels::Parse(o.delay_levels); levels.ok()) r.levels = *levels;
  }
  r.timer_max_delay_ms = o.timer_max_delay_ms;
  r.timer_enabled = o.enable_timer;
  return r;
}

TimerSchedulerOptions TimerOptions(const StoreOptions& o) {
  TimerSchedulerOptions t;
  t.precision_ms = o.timer_precision_ms;
  // Enough slots for the horizon (later timers roll), within the default's 14.5 MB.
  t.wheel_slots = std::clamp<int64_t>(o.timer_max_delay_ms / o.timer_precision_ms + 2, 1024,
                                      TimerSchedulerOptions{}.wheel_slots);
  // Timer log segments in proportion to the commit log's, so that a store made with small
  // segments (tests, embedded use) does not get 48 MiB timer files.
  uint64_t entry = kTimerEntrySize;
  uint64_t wanted = o.commitlog_segment_bytes / 16 / entry * entry;
  t.log_segment_bytes =
      std::clamp<uint64_t>(wanted, entry * 64, TimerSchedulerOptions{}.log_segment_bytes);
  // A SYNC_FLUSH store rejects a batch larger than its write buffer.
  t.redelivery.max_bytes = std::min<size_t>(t.redelivery.max_bytes, o.write_buffer_bytes / 2);
  return t;
}

Status StoreOptions::Validate() const {
  if (commitlog_segment_bytes < 4096 || commitlog_segment_bytes % 4096 != 0) {
    return Status::InvalidArgument("commitlog_segment_bytes must be a multiple of 4096, >= 4096");
  }
  if (commitlog_segment_bytes > (uint64_t{1} << 31) - 4096) {
    return Status::InvalidArgument("commitlog_segment_bytes must be below 2 GiB");
  }
  if (consume_queue_entries_per_file == 0) {
    return Status::InvalidArgument("consume_queue_entries_per_file must be positive");
  }
  if (flush_interval_ms <= 0 || sync_flush_timeout_ms <= 0 || checkpoint_interval_ms <= 0 ||
      index_sync_interval_ms <= 0) {
    return Status::InvalidArgument("intervals and timeouts must be positive");
  }
  if (dispatch_batch_wait_us < 0 || dispatch_batch_wait_us > 1'000'000) {
    return Status::InvalidArgument("dispatch_batch_wait_us must be in 0..1,000,000");
  }
  if (enable_index && (index_slots_per_file == 0 || index_entries_per_file == 0)) {
    return Status::InvalidArgument(
        "index_slots_per_file and index_entries_per_file must be positive");
  }
  if (max_message_bytes == 0 || max_message_bytes > (64u << 20)) {
    return Status::InvalidArgument("max_message_bytes must be in 1..64 MiB");
  }
  if (write_buffer_bytes < uint64_t{max_message_bytes} + (64u << 10) ||
      write_buffer_bytes > (uint64_t{1} << 32)) {
    return Status::InvalidArgument(
        "write_buffer_bytes must be at least max_message_bytes + 64 KiB and at most 4 GiB");
  }
  if (enable_schedule) {
    auto levels = DelayLevels::Parse(delay_levels);
    if (!levels.ok()) return levels.status().WithContext("delay_levels");
    if (timer_precision_ms <= 0 || timer_precision_ms > 60'000) {
      return Status::InvalidArgument("timer_precision_ms must be in 1..60000");
    }
    if (timer_max_delay_ms <= 0)
      return Status::InvalidArgument("timer_max_delay_ms must be positive");
  }
  if (file_reserved_ms <= 0) return Status::InvalidArgument("file_reserved_ms must be positive");
  if (auto hours = ParseDeleteWhen(delete_when); !hours.ok()) {
    return hours.status().WithContext("delete_when");
  }
  if (disk_clean_percent < 10 || disk_clean_percent > 95 || disk_force_clean_percent < 10 ||
      disk_force_clean_percent > 95 || disk_refuse_writes_percent < 10 ||
      disk_refuse_writes_percent > 99) {
    return Status::InvalidArgument(
        "disk_clean_percent and disk_force_clean_percent must be in 10..95, "
        "disk_refuse_writes_percent in 10..99");
  }
  if (retention_interval_ms <= 0 || retention_max_segments_per_round <= 0) {
    return Status::InvalidArgument(
        "retention_interval_ms and retention_max_segments_per_round must be positive");
  }
  if (transaction_timeout_ms <= 0 || transaction_check_max <= 0) {
    return Status::InvalidArgument(
        "transaction_timeout_ms and transaction_check_max must be positive");
  }
  return Status::OK();
}

}  // namespace mqstore
