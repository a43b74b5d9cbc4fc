// StoreOptions: every storage setting, with its default. Validated once by Store::Open, which
// rejects bad values with kInvalidArgument. Broker and network settings live in the shells.
#ifndef MQSTORE_OPTIONS_H_
#define MQSTORE_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "mqstore/message.h"
#include "mqstore/status.h"

namespace mqstore {

class Env;
class Clock;

enum class FlushMode {
  // A put is acknowledged once its record is in the page cache; a background thread makes
  // it durable every flush_interval_ms. A crash of the machine may lose the last interval.
  kAsync,
  // Group commit: a put returns only after its record is durable; concurrent puts share one
  // write + fdatasync. Consumers only see durable records.
  kSync,
};

struct StoreOptions {
  // File system seam. Default: Env::Default() (POSIX).
  Env* env = nullptr;
  // Time source for store timestamps. Default: Clock::System().
  Clock* clock = nullptr;

  // Create the directory and an empty store when missing. Default: true.
  bool create_if_missing = true;

  // Size of one commit-log segment file. Must be a multiple of 4096, at least 4096.
  // Default: 1 GiB (RocketMQ's mappedFileSizeCommitLog).
  uint64_t commitlog_segment_bytes = 1ull << 30;
  // Entries per consume-queue file (20 bytes each). Default: 300,000 (6,000,000 bytes).
  uint32_t consume_queue_entries_per_file = 300'000;

  // Default: kAsync (RocketMQ's ASYNC_FLUSH).
  FlushMode flush_mode = FlushMode::kAsync;
  // Period of the background flush in kAsync mode. Default: 500 ms.
  int flush_interval_ms = 500;
  // In kSync mode, how long a put waits for durability before it returns kFlushDiskTimeout
  // (the record stays in the log). Default: 5000 ms.
  int sync_flush_timeout_ms = 5000;
  // In kSync mode, runs each group of PutAsync callbacks that one sync completes, on the sync
  // thread: called with a function that runs them, which it must call exactly once. A server
  // uses it to send the replies those callbacks make together once the group is done
  // (mqbroker wraps them in an mqremoting::WriteBatch). Default: none (they just run).
  std::function<void(const std::function<void()>& run_callbacks)> put_completion_group;
  // Period at which consume queues are synced and the checkpoint is written. Bounds the
  // commit-log tail that recovery must re-dispatch. Default: 1000 ms.
  int checkpoint_interval_ms = 1000;

  // Largest accepted body. Default: 4 MiB (RocketMQ's maxMessageSize).
  uint32_t max_message_bytes = 4u << 20;

  // kSync only: puts are staged in a write buffer of this size, which the flusher writes to
  // the segment file (one pwrite per group) before each fdatasync. A batch whose records
  // exceed it is rejected with kInvalidArgument. Must be at least max_message_bytes + 64 KiB
  // (room for one largest message). Process memory used: this much. Default: 16 MiB.
  uint64_t write_buffer_bytes = 16ull << 20;
  // kSync only: a background thread writes zeros to the commit log this many bytes ahead of
  // the append position and syncs them. Segments are preallocated with fallocate, whose
  // blocks file systems such as ext4 and XFS keep marked unwritten; the first fdatasync over
  // each of them must then write the block map too, which made each sync about 40% longer
  // here (docs/design/0014-zero-ahead.md). The price is a second write of every log byte, in
  // the background, and a longer tail of sync latency. 0 = off. Default: 64 MiB.
  uint64_t log_zero_ahead_bytes = 64ull << 20;

  // Address written into every record's STOREHOST and used in offset message ids.
  // Default: 127.0.0.1:10911.
  SocketAddress store_host = SocketAddress::V4(127, 0, 0, 1, 10911);

  // Commit-log bytes kept mapped in this process behind the append position; older pages are
  // released from the page tables (not from the page cache) as the log grows, so resident
  // memory does not grow with the data written. Readers of older data fault pages back in
  // from the page cache. 0 keeps everything mapped. Default: 256 MiB.
  uint64_t resident_log_window_bytes = 256ull << 20;

  // Commit-log bytes kept in the page cache behind the append position. Older log pages,
  // once durable, are dropped from the page cache (after being released from the page
  // tables), so that new appends reuse their memory instead of growing the cache: on a
  // virtual machine, memory the guest has not touched yet costs several times more to fault
  // in than memory it reuses (docs/design/0013-page-cache-window.md). Consumers reading
  // older data read it back from disk. 0 leaves the page cache to the kernel.
  // Values below resident_log_window_bytes shrink that window too. Default: 256 MiB.
  uint64_t cached_log_window_bytes = 256ull << 20;

  // Index every record's KEYS and UNIQ_KEY properties, for lookups by key and by message id
  // (docs/format/hash_index.md). Default: true (RocketMQ's messageIndexEnable).
  bool enable_index = true;
  // Hash slots and entries of one index file (4 and 20 bytes each). Defaults: 5,000,000 and
  // 20,000,000, RocketMQ's maxHashSlotNum and maxIndexNum (420 MB files).
  uint32_t index_slots_per_file = 5'000'000;
  uint32_t index_entries_per_file = 20'000'000;
  // Period of the index sync (a maintenance task of its own, not part of the checkpoint); the
  // index is also synced at close. Recovery re-indexes the log after the index's own durable
  // point, so this bounds that work. Each sync writes back the hash-slot table, whose pages
  // random keys dirty nearly all of (20 MB per file by default) and which the writer then
  // faults in again: at every checkpoint that cost a broker about 30% more CPU per message.
  // Default: 10,000 ms.
  int index_sync_interval_ms = 10'000;

  // While records keep coming, the dispatcher (log -> consume queues and index) looks for new
  // ones every this many microseconds instead of being woken by every append; an idle store's
  // first record is still dispatched at once. A woken thread per put cost the broker about a
  // third of its CPU per message (RocketMQ's reput service sleeps 1 ms likewise). The price:
  // consumers may see a record up to this much later. 0 = woken by every append (at most
  // 1,000,000). Default: 1,000.
  int dispatch_batch_wait_us = 1'000;

  // Open the metadata store (topics, subscription groups, consumer offsets, schedule
  // progress) in <dir>/meta; Store::metadata() returns it. LMDB does its own file I/O, so
  // it is opened only when the Env is on the file system (Env::OnFileSystem(): the POSIX
  // Env, env == nullptr); with any other Env Store::metadata() is null. Default: true.
  bool enable_metadata = true;

  // ---- Scheduled delivery (docs/format/timer.md) ----
  // Park messages with a DELAY level in SCHEDULE_TOPIC_XXXX and messages with a delivery time
  // (TIMER_DELIVER_MS, TIMER_DELAY_SEC, TIMER_DELAY_MS, __STARTDELIVERTIME) in
  // rmq_sys_wheel_timer, and deliver them to their real topic when due. Progress is kept in
  // the metadata store (in memory when there is none). Default: true.
  bool enable_schedule = true;
  // Delay of each level, level 1 first, as RocketMQ's messageDelayLevel: units s, m, h, d.
  // Default: "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h".
  std::string delay_levels = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";
  // Honour timer properties; when false they are stored as ordinary properties. Default: true.
  bool enable_timer = true;
  // The furthest a delivery time may lie ahead of the put (RocketMQ's timerMaxDelaySec);
  // later ones are rejected with kInvalidArgument. Default: 3 days.
  int64_t timer_max_delay_ms = int64_t{3} * 24 * 60 * 60 * 1000;
  // Length of one timing-wheel slot: timers fire at most this late (plus delivery time).
  // Default: 1000 ms (RocketMQ's timerPrecisionMs).
  int64_t timer_precision_ms = 1000;

  // ---- Retention (RocketMQ's CleanCommitLogService) ----
  // Commit-log segments whose last write is older than this may be deleted. Default: 72 h
  // (fileReservedTime).
  int64_t file_reserved_ms = int64_t{72} * 60 * 60 * 1000;
  // Local hours (0..23, separated by ';') at which expired segments are deleted. Default:
  // "04" (deleteWhen).
  std::string delete_when = "04";
  // Disk usage (percent of the store's file system) above which expired segments are
  // deleted at once, whatever the hour. Default: 75 (diskMaxUsedSpaceRatio).
  int disk_clean_percent = 75;
  // Usage above which the oldest segments are deleted even if not expired. Default: 85
  // (diskSpaceCleanForciblyRatio).
  int disk_force_clean_percent = 85;
  // Usage above which puts are refused with kResourceExhausted until it drops below again.
  // Default: 90 (diskSpaceWarningLevelRatio).
  int disk_refuse_writes_percent = 90;
  // Period of the retention check. Default: 10,000 ms (cleanResourceInterval).
  int retention_interval_ms = 10'000;
  // Segments deleted per check at most. Default: 10 (deleteFileBatchMax).
  int retention_max_segments_per_round = 10;

  // ---- Transactions ----
  // A half message unresolved for this long is returned by the check scan. Default: 6000 ms
  // (transactionTimeOut).
  int64_t transaction_timeout_ms = 6000;
  // Checks of one half message before it is given up. Default: 15 (transactionCheckMax).
  int transaction_check_max = 15;

  // Checks the options; kInvalidArgument names the first bad field.
  Status Validate() const;
};

}  // namespace mqstore

#endif  // MQSTORE_OPTIONS_H_
