// Store: a RocketMQ-style message store in one directory.
//
//   Put ──► commit log (one append-only log, segmented, mmapped) ──► dispatcher ──► consume
//   queues (per topic and queue: 20-byte entries pointing into the log) ──► Read
//
// Thread safety: every method may be called from any number of threads at once.
// Lifetime: views returned by reads pin the mapped memory they point into; they stay valid
// after Close() and after the store object is destroyed.
//
// Durability vocabulary (docs/design/durability.md): a record is *appended* once the log has
// its bytes (mapping or write buffer), *written* once they are in the page cache (readers may
// see it), *durable* once synced to disk. appended >= written >= durable always holds.
#ifndef MQSTORE_STORE_H_
#define MQSTORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/message.h"
#include "mqstore/metadata.h"
#include "mqstore/options.h"
#include "mqstore/status.h"

namespace mqstore {

// Declared in mqstore/transaction.h; include it to call the transaction methods.
enum class TransactionResolution : int;
struct TransactionEndResult;
struct TransactionCheckResult;
// Declared in mqstore/send_back.h; include it to call SendBack.
struct SendBackRequest;
struct SendBackResult;

enum class PutStatus {
  kOk,  // stored; durable if the flush mode promises it
  // SYNC_FLUSH only: the record is in the log but was not durable within
  // sync_flush_timeout_ms. (RocketMQ's FLUSH_DISK_TIMEOUT, response code 10.)
  kFlushDiskTimeout,
};

struct PutResult {
  PutStatus status = PutStatus::kOk;
  bool durable = false;  // true when the record was synced before the put returned
  int64_t physical_offset = 0;
  int32_t record_size = 0;
  int64_t queue_offset = 0;
  int64_t store_timestamp_ms = 0;
  SocketAddress store_host;  // StoreOptions::store_host
  // The broker-style message id: MakeOffsetMessageId(store_host, physical_offset). Made on
  // demand, so that puts that do not need it do not pay for the string.
  std::string offset_message_id() const { return MakeOffsetMessageId(store_host, physical_offset); }
};

struct BatchPutResult {
  PutStatus status = PutStatus::kOk;
  bool durable = false;
  std::vector<PutResult> items;  // one per message, in order
};

enum class ReadStatus {
  kFound,           // at least one message returned
  kNoNewMessage,    // offset == max offset (RocketMQ OFFSET_OVERFLOW_ONE)
  kOffsetTooSmall,  // offset < min offset; next_offset = min offset
  kOffsetTooLarge,  // offset > max offset (OFFSET_OVERFLOW_BADLY); next_offset = max offset
  kNoSuchQueue,     // the topic/queue has never received a message
};
const char* ReadStatusName(ReadStatus status);

struct StoredMessage {
  std::string_view record;  // the whole stored record (RocketMQ layout)
  int64_t queue_offset = 0;
  int64_t physical_offset = 0;
};

struct ReadResult {
  ReadStatus status = ReadStatus::kNoSuchQueue;
  int64_t next_offset = 0;  // where the next read should start
  int64_t min_offset = 0;
  int64_t max_offset = 0;  // one past the last readable message
  std::vector<StoredMessage> messages;
  uint64_t total_bytes = 0;
  std::vector<std::shared_ptr<const void>> pins;  // keep `messages` valid
};

struct QueueBounds {
  int64_t min_offset = 0;
  int64_t max_offset = 0;  // next offset to be assigned; max - min messages are readable
};

struct QueueId {
  std::string topic;
  int32_t queue_id = 0;
  bool operator==(const QueueId&) const = default;
};

struct StoreStats {
  int64_t min_physical_offset = 0;
  int64_t appended_offset = 0;    // end of the last appended record
  int64_t written_offset = 0;     // everything below is in the segment files (page cache)
  int64_t durable_offset = 0;     // everything below is synced
  int64_t dispatched_offset = 0;  // consume queues cover every record below this
  uint64_t sync_count = 0;        // commit-log syncs since open (group commit: << puts)
  uint64_t segment_count = 0;
  uint64_t queue_count = 0;
  bool recovered_from_crash = false;
  uint64_t recovery_scanned_bytes = 0;  // commit-log bytes validated and re-dispatched at open
  int64_t recovery_start_offset = 0;    // where that scan started (from the checkpoint)
  // Retention: puts are refused (kResourceExhausted) while the disk is fuller than
  // StoreOptions::disk_refuse_writes_percent, as of the last retention round.
  bool writes_refused = false;
  // Scheduled delivery (zero without StoreOptions::enable_schedule).
  uint64_t schedule_rounds = 0;   // scheduler rounds completed since open
  uint64_t timers_pending = 0;    // timer messages waiting for their time
  uint64_t timers_delivered = 0;  // timer messages delivered since open
};

// Called by the dispatcher thread after a message becomes readable (long polling hook).
// Must not block and must not call back into the store.
using ArrivalListener =
    std::function<void(std::string_view topic, int32_t queue_id, int64_t next_queue_offset)>;

class Store {
 public:
  // Opens (or, with create_if_missing, creates) the store in `dir`. Recovers after a crash
  // when the previous process did not close the store. Errors: kInvalidArgument (options),
  // kFailedPrecondition (locked by another process), kCorruption (a damaged file recovery
  // cannot repair), kIOError.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options, const std::string& dir);

  virtual ~Store() = default;

  // Flushes, writes a final checkpoint and marks the store cleanly closed. Later calls of
  // anything but Read* return kFailedPrecondition. Called by the destructor if needed.
  virtual Status Close() = 0;

  // Appends one message. Errors (nothing is written): kInvalidArgument (bad topic, body too
  // large, properties too long, a malformed or too distant delivery time),
  // kResourceExhausted (disk full), kFailedPrecondition (closed).
  // A message asking for later delivery (DELAY level > 0, or TIMER_DELIVER_MS,
  // TIMER_DELAY_SEC, TIMER_DELAY_MS, __STARTDELIVERTIME in the future) is parked in
  // SCHEDULE_TOPIC_XXXX / rmq_sys_wheel_timer and put into its topic when due (see
  // StoreOptions::enable_schedule); the result then describes the parked record.
  // With FlushMode::kSync the call returns after the record is durable, or with
  // PutStatus::kFlushDiskTimeout.
  virtual Result<PutResult> Put(const MessageView& message) = 0;
  // Appends messages contiguously and atomically with respect to other puts; queue offsets of
  // one queue are consecutive. Validation failure of any message rejects the whole batch.
  virtual Result<BatchPutResult> PutBatch(std::span<const MessageView> messages) = 0;

  // Put and PutBatch without waiting for the disk (RocketMQ's asyncPutMessage): a server can
  // keep any number of sends in flight on a few threads, and one sync acknowledges all of
  // them. `done` runs exactly once with what Put / PutBatch would have returned:
  //   - with FlushMode::kSync (and WAIT=true), on the store's sync thread once the record is
  //     durable, with PutStatus::kFlushDiskTimeout after sync_flush_timeout_ms, or with the
  //     sync error; the message views need not outlive the call;
  //   - otherwise, and for every error found before the append, before the call returns.
  // `done` must be quick and must not call Put, PutBatch, Flush or Close (they may wait for
  // the thread `done` runs on).
  using PutCallback = std::function<void(Result<PutResult>)>;
  using BatchPutCallback = std::function<void(Result<BatchPutResult>)>;
  virtual void PutAsync(const MessageView& message, PutCallback done) = 0;
  virtual void PutBatchAsync(std::span<const MessageView> messages, BatchPutCallback done) = 0;
  // PutAsync for each of `messages`, for a server that has several sends in hand at once (one
  // socket read's worth): they are appended in order under one acquisition of the log's
  // lock, and in SYNC_FLUSH wait for the disk as one. Each message still stands alone: one
  // that is invalid gets its own error and does not keep the others out, and each gets the
  // queue offset separate puts in this order would give it. `done(i, result)` runs exactly
  // once for each message i, with what PutAsync would have passed, on the threads PutAsync's
  // `done` runs on, and under the same rules.
  using PutEachCallback = std::function<void(size_t index, Result<PutResult>)>;
  virtual void PutEachAsync(std::span<const MessageView> messages, PutEachCallback done) = 0;

  // Reads up to `max_messages` messages / `max_bytes` bytes (at least one message when any is
  // available) of topic/queue starting at queue offset `offset`.
  virtual Result<ReadResult> Read(std::string_view topic, int32_t queue_id, int64_t offset,
                                  int32_t max_messages, uint64_t max_bytes) = 0;
  // kNotFound when the queue has never received a message.
  virtual Result<QueueBounds> GetQueueBounds(std::string_view topic, int32_t queue_id) = 0;
  virtual std::vector<QueueId> ListQueues() = 0;

  // The first queue offset whose message was stored at or after `timestamp_ms` (ms since the
  // epoch), for rewinding a consumer to a time; the max offset when every message is older.
  // kNotFound when the queue has never received a message. (RocketMQ's searchOffset.)
  virtual Result<int64_t> GetQueueOffsetByTime(std::string_view topic, int32_t queue_id,
                                               int64_t timestamp_ms) = 0;
  // Store time of the queue's first readable message. kNotFound for an unknown or empty queue.
  virtual Result<int64_t> GetEarliestStoreTime(std::string_view topic, int32_t queue_id) = 0;

  // The record at physical offset `offset`. kNotFound when no record starts there.
  virtual Result<RecordView> ReadRecord(int64_t offset) = 0;

  // Records indexed under `key` (one of their KEYS, or their UNIQ_KEY) in `topic`, stored in
  // [begin_ms, end_ms], newest first, at most `max_results`. Only readable records are
  // returned, each checked to really carry the key. kFailedPrecondition without an index
  // (StoreOptions::enable_index); kInvalidArgument for an empty or over-long key.
  virtual Result<std::vector<RecordView>> QueryByKey(std::string_view topic, std::string_view key,
                                                     int64_t begin_ms, int64_t end_ms,
                                                     size_t max_results) = 0;
  // The record with this message id: an offset message id (MakeOffsetMessageId: store host +
  // physical offset, 32 hex digits) naming a record of this store, or else a unique id
  // (UNIQ_KEY, also 32 hex digits from RocketMQ clients) looked up in `topic`'s index (the
  // newest record carrying it). kNotFound when neither finds one.
  virtual Result<RecordView> ReadByMessageId(std::string_view topic, std::string_view id) = 0;

  // The metadata store in <dir>/meta (topics, groups, consumer offsets, schedule progress);
  // null when StoreOptions::enable_metadata is off or the Env is not the POSIX one. Owned by
  // the store; valid until Close().
  virtual MetadataStore* metadata() = 0;

  // ---- Transactions (mqstore/transaction.h, docs/format/transactions.md)
  // A put of a prepared message (sysflag PREPARED, or TRAN_MSG=true) is stored as a half
  // message in RMQ_SYS_TRANS_HALF_TOPIC, where consumers of its topic do not see it.
  // EndTransaction commits (puts the message into its real topic) or rolls back the half
  // message at `half_physical_offset` (a put's physical_offset, or a check's). Errors:
  // kNotFound (no record there), kInvalidArgument (not a half message), kCorruption
  // (a commit of a half without a valid REAL_TOPIC/REAL_QID), the put errors.
  virtual Result<TransactionEndResult> EndTransaction(int64_t half_physical_offset,
                                                      TransactionResolution resolution) = 0;
  // One check pass: half messages unresolved for transaction_timeout_ms, at most
  // `max_checks`, for the broker to ask their producers about; those checked
  // transaction_check_max times are given up (moved to TRANS_CHECK_MAX_TIME_TOPIC).
  virtual Result<TransactionCheckResult> CheckTransactions(size_t max_checks) = 0;

  // ---- Retry and dead letter (mqstore/send_back.h, docs/format/retry.md)
  // Stores a copy of the consumed record at request.physical_offset for the consumer group
  // to see again: in %RETRY%<group> after delay level 3 + its reconsume times, or, once it
  // was reconsumed the group's retry_max_times (16), in %DLQ%<group>. Errors: kNotFound (no
  // record there), kInvalidArgument (bad group, a system topic's record), the put errors.
  virtual Result<SendBackResult> SendBack(const SendBackRequest& request) = 0;

  // Delay levels and timers are delivered by a background thread that wakes when a parked
  // message arrives and when the next one is due by the store's Clock. This wakes it and
  // waits until a full round of it has run after the call (with an injected clock: advance
  // the clock, then call this). Returns that round's error, if any; kTimedOut after
  // `timeout_ms`; kFailedPrecondition without StoreOptions::enable_schedule or when closed.
  virtual Status AwaitScheduleRound(int timeout_ms) = 0;

  // Runs a retention round now (it also runs every retention_interval_ms): makes the log
  // durable, writes a checkpoint, then removes the oldest commit-log segments that are
  // expired (file_reserved_ms) at a delete_when hour or when the disk is fuller than
  // disk_clean_percent, or any old segment when it is fuller than disk_force_clean_percent,
  // and the queue and index files below the new minimum; puts are refused or allowed again
  // per disk_refuse_writes_percent. Reads below a queue's new minimum get kOffsetTooSmall.
  virtual Status RunRetention() = 0;

  // Makes every appended record durable now, whatever the flush mode.
  virtual Status Flush() = 0;
  // Waits until the consume queues cover every record below `physical_end` (e.g. a put's
  // physical_offset + record_size). kTimedOut after `timeout_ms`.
  virtual Status AwaitDispatched(int64_t physical_end, int timeout_ms) = 0;
  virtual void SetArrivalListener(ArrivalListener listener) = 0;

  virtual StoreStats Stats() = 0;
  // How long the put under way has held the commit log's append lock (ms; 0 when no put
  // holds it). Every other put waits behind it; a broker refuses sends while this exceeds
  // its limit (RocketMQ's isOSPageCacheBusy) instead of blocking on the lock too. One atomic
  // load and a clock read.
  virtual int64_t AppendLockHeldMs() = 0;
};

}  // namespace mqstore

#endif  // MQSTORE_STORE_H_
