// StoreImpl: the façade behind mqstore::Store. It builds the components, runs recovery, and
// forwards calls; the algorithms live in the components:
//
//   CommitLog (log/)        append, segments          LogFlusher (log/)   durability
//   ConsumeQueueSet (queue/) per-queue indexes         Dispatcher (queue/) log -> queues, index
//   IndexService (index/)   lookup by key / id         MetadataStore (meta/) LMDB metadata
//   Checkpoint, RecoverStore (recovery/)               StoreMaintenance    periodic work
//   ScheduleService (schedule/)  delay levels and timers: parks at put, re-puts when due
//   RetentionService (retention/) deletes old segments; refuses puts on a full disk
//   TransactionService (transaction/) half messages: end, check
//   SendMessageBack (retry/)     consumed message -> retry / dead-letter topic
#ifndef MQSTORE_STORE_STORE_IMPL_H_
#define MQSTORE_STORE_STORE_IMPL_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>

#include "index/index_service.h"
#include "log/commit_log.h"
#include "log/log_flusher.h"
#include "log/queue_offset_table.h"
#include "mqstore/store.h"
#include "queue/consume_queue_set.h"
#include "queue/dispatcher.h"
#include "recovery/checkpoint.h"
#include "retention/retention_service.h"
#include "schedule/schedule_rewrite.h"
#include "schedule/schedule_service.h"
#include "store/store_maintenance.h"
#include "transaction/transaction_rewrite.h"
#include "transaction/transaction_service.h"

namespace mqstore {

class StoreImpl final : public Store {
 public:
  StoreImpl(const StoreOptions& options, std::string dir);
  ~StoreImpl() override;

  // Locks the directory, recovers and starts the background threads.
  Status Open();

  Status Close() override;
  Result<PutResult> Put(const MessageView& message) override;
  Result<BatchPutResult> PutBatch(std::span<const MessageView> messages) override;
  void PutAsync(const MessageView& message, PutCallback done) override;
  void PutBatchAsync(std::span<const MessageView> messages, BatchPutCallback done) override;
  void PutEachAsync(std::span<const MessageView> messages, PutEachCallback done) override;
  Result<ReadResult> Read(std::string_view topic, int32_t queue_id, int64_t offset,
                          int32_t max_messages, uint64_t max_bytes) override;
  Result<QueueBounds> GetQueueBounds(std::string_view topic, int32_t queue_id) override;
  std::vector<QueueId> ListQueues() override;
  Result<RecordView> ReadRecord(int64_t offset) override;
  Result<int64_t> GetQueueOffsetByTime(std::string_view topic, int32_t queue_id,
                                       int64_t timestamp_ms) override;
  Result<int64_t> GetEarliestStoreTime(std::string_view topic, int32_t queue_id) override;
  Status Flush() override;
  Status AwaitDispatched(int64_t physical_end, int timeout_ms) override;
  void SetArrivalListener(ArrivalListener listener) override;
  StoreStats Stats() override;
  int64_t AppendLockHeldMs() override;
  Result<std::vector<RecordView>> QueryByKey(std::string_view topic, std::string_view key,
                                             int64_t begin_ms, int64_t end_ms,
                                             size_t max_results) override;
  Result<RecordView> ReadByMessageId(std::string_view topic, std::string_view id) override;
  MetadataStore* metadata() override { return metadata_.get(); }
  Status AwaitScheduleRound(int timeout_ms) override;
  Status RunRetention() override;
  Result<TransactionEndResult> EndTransaction(int64_t half_physical_offset,
                                              TransactionResolution resolution) override;
  Result<TransactionCheckResult> CheckTransactions(size_t max_checks) override;
  Result<SendBackResult> SendBack(const SendBackRequest& request) override;

 private:
  // Appends prepared records (refusing them on a full disk or after a sync failure) and fills
  // `out`, one per record. Returns the log offset after the last record.
  Result<int64_t> AppendRecords(std::span<const PreparedRecord> records, std::span<PutResult> out);
  // After a put's records were appended (up to `end`): waits until they are durable and
  // says so in `results` when `wait_for_durability`, else has them written out soon.
  Result<PutStatus> FinishPut(int64_t end, bool wait_for_durability, std::span<PutResult> results);
  // Checks, rewrites and appends a batch; fills `batch` as if nobody waits for the disk.
  Result<int64_t> AppendBatch(std::span<const MessageView> messages, BatchPutResult* batch);
  // Whether a put of `messages` is acknowledged only once durable (kSync, unless every
  // message says WAIT=false).
  bool WaitsForDisk(std::span<const MessageView> messages) const;
  // For a put that does not wait: a record still in the write buffer is written out soon.
  void RequestWriteOut(int64_t end);
  DurableCallbacks::Clock::time_point SyncFlushDeadline() const;
  // Offset below which records may be read (durable in kSync mode, appended otherwise).
  int64_t VisibleLimit() const;
  Status WriteCheckpoint();
  Status RetentionRound();
  // The readable record at `offset` (and its summary), or kNotFound.
  Result<RecordView> ReadVisibleRecord(int64_t offset, RecordSummary* summary);
  std::optional<int64_t> StoreTimeAt(int64_t physical_offset);
  // The message to append for `message`: itself, its half message (a prepared transaction
  // message; `half` then owns the new properties) or its parked form (a delay level or a
  // delivery time; `parked` owns them).
  struct Rewrites {
    std::optional<HalfRewrite> half;
    std::optional<ScheduleRewrite> parked;
  };
  Result<MessageView> RewriteForStorage(const MessageView& message, Rewrites* rewrites);
  // RewriteForStorage, then PrepareRecord of what is to be stored. `*prepared` points into
  // `*to_store`, which may point into `*rewrites`: all three must outlive the append.
  Status PrepareForStorage(const MessageView& message, Rewrites* rewrites, MessageView* to_store,
                           PreparedRecord* prepared);
  // Opens the progress store the schedulers and the transaction checks share.
  Status OpenProgress();
  Status StartSchedule();
  // Stops the schedulers (they put into the store, so before puts are refused).
  Status StopSchedule();

  const StoreOptions options_;  // env and clock filled in
  const std::string dir_;
  Env* const env_;

  std::unique_ptr<FileLock> lock_;
  CommitLog log_;
  EventCount durable_event_;  // notified when the flusher moves the durable offset
  QueueOffsetTable offsets_;  // used under the commit log's append lock
  LogFlusher flusher_;
  ConsumeQueueSet queues_;
  std::unique_ptr<IndexService> index_;  // null without StoreOptions::enable_index
  Dispatcher dispatcher_;
  std::unique_ptr<MetadataStore> metadata_;
  std::unique_ptr<Checkpoint> checkpoint_;
  std::mutex checkpoint_mu_;
  std::unique_ptr<StoreMaintenance> maintenance_;
  std::unique_ptr<RetentionService> retention_;
  std::mutex retention_mu_;  // one round at a time (the periodic one, RunRetention)
  // Retention runs on its own thread: a round of file removals and directory syncs must not
  // delay the periodic flush and checkpoint.
  std::unique_ptr<StoreMaintenance> retention_maintenance_;
  // Dispatch offset of the last checkpoint written: retention removes only segments below
  // it (and below the durable offset), so every removed record's queue entry is durable and
  // recovery never has to re-dispatch from a segment that is gone.
  std::atomic<int64_t> checkpointed_dispatch_{0};
  const ScheduleRewriteOptions rewrite_options_;
  // Schedule and transaction progress: in the metadata store, else in schedule_progress.
  std::shared_ptr<ScheduleProgressStore> progress_;
  std::unique_ptr<TransactionService> transactions_;
  // EndTransaction, CheckTransactions and SendBack run outside lifecycle_mu_ (they put
  // through the store); they hold this shared, and Close waits for them (exclusive) before
  // it tears down what they use (the transaction service, the metadata store).
  std::shared_mutex services_mu_;
  std::mutex schedule_mu_;                     // serialises StartSchedule / StopSchedule
  std::shared_ptr<ScheduleService> schedule_;  // null without StoreOptions::enable_schedule
  // What the dispatcher's topic hook sees; cleared only after the dispatcher stopped.
  std::atomic<ScheduleService*> schedule_listener_{nullptr};

  // Puts hold it shared; Close takes it exclusively so no put is half-done at close.
  std::shared_mutex lifecycle_mu_;
  std::atomic<bool> open_{false};
  bool recovered_from_crash_ = false;
  int64_t recovery_start_ = 0;
  uint64_t recovery_scanned_ = 0;
};

}  // namespace mqstore

#endif  // MQSTORE_STORE_STORE_IMPL_H_
