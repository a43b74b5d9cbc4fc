#include "store/store_impl.h"

#include <unistd.h>

#include <algorithm>
#include <limits>

#include "queue/queue_time_search.h"
#include "recovery/recovery.h"
#include "retry/send_back.h"
#include "schedule/file_progress_store.h"
#include "schedule/metadata_progress_store.h"
#include "schedule/schedule_names.h"
#include "store/store_options.h"
#include "util/filename.h"
#include "util/mapped_file.h"

namespace mqstore {
const char* ReadStatusName(ReadStatus status) {
  switch (status) {
    case ReadStatus::kFound:
      return "FOUND";
    case ReadStatus::kNoNewMessage:
      return "NO_NEW_MESSAGE";
    case ReadStatus::kOffsetTooSmall:
      return "OFFSET_TOO_SMALL";
    case ReadStatus::kOffsetTooLarge:
      return "OFFSET_TOO_LARGE";
    case ReadStatus::kNoSuchQueue:
      return "NO_SUCH_QUEUE";
  }
  return "UNKNOWN";
}

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options, const std::string& dir) {
  MQ_RETURN_IF_ERROR(options.Validate());
  auto store = std::make_unique<StoreImpl>(options, dir);
  MQ_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<Store>(std::move(store));
}

StoreImpl::StoreImpl(const StoreOptions& options, std::string dir)
    : options_(WithDefaults(options)),
      dir_(std::move(dir)),
      env_(options_.env),
      log_(env_, dir_, LogOptions(options_)),
      flusher_(
          &log_, [this] { durable_event_.Notify(); }, options_.put_completion_group),
      queues_(env_, dir_, options_.consume_queue_entries_per_file),
      index_(options_.enable_index
                 ? std::make_unique<IndexService>(
                       env_, dir_,
                       IndexOptions{options_.index_slots_per_file, options_.index_entries_per_file})
                 : nullptr),
      dispatcher_(
          &log_, &queues_, index_.get(), [this] { return VisibleLimit(); },
          // In kSync the dispatch limit moves with the durable offset only: waking
          // the dispatcher at every append would be a futex call per put for nothing.
          options_.flush_mode == FlushMode::kSync ? &durable_event_ : &log_.append_event(),
          std::chrono::microseconds(options_.dispatch_batch_wait_us)),
      rewrite_options_(RewriteOptions(options_)) {}

StoreImpl::~StoreImpl() {
  if (open_.load()) Close().IgnoreError();  // the caller chose not to see the result
}

int64_t StoreImpl::VisibleLimit() const {
  return options_.flush_mode == FlushMode::kSync ? flusher_.durable() : log_.appended();
}

Status StoreImpl::Open() {
  if (!env_->FileExists(dir_)) {
    if (!options_.create_if_missing) return Status::NotFound("no store at " + dir_);
  }
  MQ_RETURN_IF_ERROR(env_->CreateDir(dir_));
  MQ_ASSIGN_OR_RETURN(lock_, env_->LockFile(filename::Lock(dir_)));

  std::string checkpoint_path = filename::Checkpoint(dir_);
  std::optional<CheckpointData> checkpoint;
  bool checkpoint_lost = false;
  {
    auto read = Checkpoint::Read(env_, checkpoint_path);
    if (read.ok()) {
      checkpoint = *read;
    } else if (read.status().IsCorruption()) {
      // Both slots damaged (or never written): rebuild the queues from the whole log.
      checkpoint_lost = true;
    } else {
      return read.status();
    }
  }
  if (checkpoint && checkpoint->segment_bytes != 0 &&
      checkpoint->segment_bytes != options_.commitlog_segment_bytes) {
    return Status::InvalidArgument("store was created with commitlog_segment_bytes=" +
                                   std::to_string(checkpoint->segment_bytes) + ", options say " +
                                   std::to_string(options_.commitlog_segment_bytes));
  }
  recovered_from_crash_ = env_->FileExists(filename::AbortMarker(dir_)) || checkpoint_lost;

  MQ_RETURN_IF_ERROR(log_.Load());
  MQ_RETURN_IF_ERROR(queues_.Load());
  // The store directory and its subdirectories may be new: make their entries durable
  // before any file in them is relied on.
  MQ_RETURN_IF_ERROR(env_->SyncDir(DirName(dir_)));
  MQ_RETURN_IF_ERROR(env_->SyncDir(dir_));
  MQ_ASSIGN_OR_RETURN(RecoveryOutcome recovered,
                      RecoverStore(&log_, &queues_, checkpoint,
                                   /*zero_tail=*/recovered_from_crash_ || !checkpoint));
  recovery_start_ = recovered.start;
  recovery_scanned_ = recovered.scanned_bytes;
  queues_.ForEach([&](ConsumeQueue& q) { offsets_.Set(q.topic(), q.queue_id(), q.max_offset()); });
  // The recovered tail may survive only in the page cache (the previous process died, the
  // machine did not): make it durable before the checkpoint below says it is.
  MQ_RETURN_IF_ERROR(log_.Sync(recovered.start, recovered.end));
  flusher_.Reset(recovered.end);

  MQ_ASSIGN_OR_RETURN(checkpoint_, Checkpoint::OpenForWrite(env_, checkpoint_path, checkpoint));
  MQ_RETURN_IF_ERROR(queues_.SyncAll());
  MQ_RETURN_IF_ERROR(checkpoint_->Write(
      CheckpointData{0, recovered.end, recovered.end, log_.min_offset(),
                     options_.commitlog_segment_bytes, options_.clock->NowMillis()}));

  // Present from now until a clean close: its presence at the next open means a crash.
  {
    MQ_ASSIGN_OR_RETURN(auto marker,
                        env_->OpenFile(filename::AbortMarker(dir_), OpenMode::kCreate));
    MQ_RETURN_IF_ERROR(marker->Truncate(0));
    // Only its presence matters: a store must open on a full disk (to be read, and to take
    // puts again once there is room) even when the pid does not fit.
    Status wrote = marker->Write(0, std::to_string(getpid()) + "\n");
    if (!wrote.IsResourceExhausted()) MQ_RETURN_IF_ERROR(wrote);
    MQ_RETURN_IF_ERROR(marker->Sync());
    MQ_RETURN_IF_ERROR(env_->SyncDir(dir_));
  }

  // The index is derived like the queues, but keeps its own durable point: drop what points
  // past the recovered end, then let the dispatcher re-add the records after its durable
  // point (only to the index: the queues are complete up to recovered.end).
  int64_t dispatch_from = recovered.end;
  if (index_) {
    Status loaded = index_->Load(recovered_from_crash_);
    if (loaded.IsCorruption()) {
      // Derived data: the user may drop it and the store re-indexes the log at the next open.
      return loaded.WithContext("the hash index is damaged; remove " + dir_ +
                                "/index/ to have it rebuilt from the commit log");
    }
    MQ_RETURN_IF_ERROR(loaded);
    MQ_RETURN_IF_ERROR(index_->TruncateFrom(recovered.end));
    dispatch_from = std::max(std::min(index_->indexed_end(), recovered.end), log_.min_offset());
    // Recovery validated the log from its start only; the dispatcher must not stop on a
    // damaged record below it after Open has returned.
    MQ_RETURN_IF_ERROR(CheckLogRange(log_, dispatch_from, recovered.start));
  }
  if (options_.enable_metadata && env_->OnFileSystem()) {
    MQ_ASSIGN_OR_RETURN(metadata_, OpenMetadataStore(filename::MetaDir(dir_), MetadataOptions{}));
  }

  // A crash may have come between removing old segments and the queue and index files
  // below them: finish that before anything reads the queues.
  MQ_ASSIGN_OR_RETURN(RetentionPolicy policy,
                      RetentionPolicy::Create(RetentionPolicyOptions::From(options_)));
  retention_ = std::make_unique<RetentionService>(env_, dir_, &log_, &queues_, index_.get(),
                                                  std::move(policy));
  MQ_RETURN_IF_ERROR(retention_->ApplyLogMinOffset());
  checkpointed_dispatch_.store(recovered.end);

  if (options_.enable_schedule) {
    // Wakes the schedulers when a parked message becomes readable (they start below).
    dispatcher_.SetTopicHook(
        {std::string(schedule::kScheduleTopic), std::string(schedule::kTimerTopic)},
        [this](std::string_view topic) {
          ScheduleService* s = schedule_listener_.load(std::memory_order_acquire);
          if (s != nullptr) s->OnArrival(topic);
        });
  }
  log_.StartAllocator();
  dispatcher_.Start(dispatch_from, recovered.end);
  std::vector<StoreMaintenance::Task> tasks;
  tasks.push_back({std::chrono::milliseconds(options_.flush_interval_ms), [this] {
                     flusher_.FlushAll().IgnoreError();  // sticky: puts report it
                   }});
  tasks.push_back({std::chrono::milliseconds(options_.checkpoint_interval_ms),
                   [this] { WriteCheckpoint().IgnoreError(); }});  // retried next period
  if (index_) {
    // The index keeps its own durable point (recovery re-indexes past it), so it is synced
    // less often than the queues: see StoreOptions::index_sync_interval_ms.
    tasks.push_back({std::chrono::milliseconds(options_.index_sync_interval_ms),
                     [this] { index_->Flush().IgnoreError(); }});  // retried next period
  }
  maintenance_ = std::make_unique<StoreMaintenance>(std::move(tasks));
  std::vector<StoreMaintenance::Task> retention_tasks;
  retention_tasks.push_back({std::chrono::milliseconds(options_.retention_interval_ms), [this] {
                               RetentionRound().IgnoreError();  // retried next period
                             }});
  retention_maintenance_ = std::make_unique<StoreMaintenance>(std::move(retention_tasks));
  open_.store(true);
  // The schedulers and the transaction checks are clients of the open store (they read
  // and put through it).
  if (Status s = OpenProgress(); !s.ok()) {
    Close().IgnoreError();  // the open error is the one to report
    return s;
  }
  if (Status s = StartSchedule(); !s.ok()) {
    Close().IgnoreError();  // the start error is the one to report
    return s.WithContext("starting scheduled delivery");
  }
  return Status::OK();
}

Status StoreImpl::OpenProgress() {
  if (metadata_) {
    progress_ = std::make_shared<MetadataProgressStore>(*metadata_);
  } else {
    MQ_ASSIGN_OR_RETURN(progress_, FileProgressStore::Open(env_, filename::ScheduleProgress(dir_)));
  }
  transactions_ = std::make_unique<TransactionService>(
      *this, *progress_, TransactionServiceOptions::FromStoreOptions(options_));
  return Status::OK();
}

Status StoreImpl::StartSchedule() {
  if (!options_.enable_schedule) return Status::OK();
  ScheduleServiceOptions o;
  o.levels = rewrite_options_.levels;
  o.timer_enabled = options_.enable_timer;
  o.timer = TimerOptions(options_);
  o.delay.redelivery.max_bytes = o.timer.redelivery.max_bytes;
  std::lock_guard<std::mutex> l(schedule_mu_);
  MQ_ASSIGN_OR_RETURN(schedule_,
                      ScheduleService::Start(env_, dir_, *this, options_.clock, progress_, o));
  schedule_listener_.store(schedule_.get(), std::memory_order_release);
  return Status::OK();
}

Status StoreImpl::StopSchedule() {
  std::lock_guard<std::mutex> l(schedule_mu_);
  return schedule_ ? schedule_->Stop() : Status::OK();
}

Status StoreImpl::RetentionRound() {
  std::lock_guard<std::mutex> l(retention_mu_);
  int64_t limit = std::min(checkpointed_dispatch_.load(), flusher_.durable());
  return retention_->RunOnce(options_.clock->NowMillis(), limit).status();
}

Status StoreImpl::RunRetention() {
  if (!open_.load(std::memory_order_relaxed)) return Status::FailedPrecondition("store is closed");
  std::shared_lock<std::shared_mutex> lifecycle(lifecycle_mu_);
  if (!open_.load(std::memory_order_relaxed)) return Status::FailedPrecondition("store is closed");
  // What the round may remove is bounded by the durable log and the last checkpoint:
  // move both up to now.
  MQ_RETURN_IF_ERROR(flusher_.FlushAll());
  MQ_RETURN_IF_ERROR(dispatcher_.AwaitDispatched(flusher_.durable(), 60'000));
  MQ_RETURN_IF_ERROR(WriteCheckpoint());
  return RetentionRound();
}

Status StoreImpl::WriteCheckpoint() {
  std::lock_guard<std::mutex> l(checkpoint_mu_);
  // Order matters: capture the dispatch position, then sync the queues (which covers every
  // entry below it), then record the log's durable offset.
  int64_t dispatched = dispatcher_.dispatched();
  MQ_RETURN_IF_ERROR(queues_.SyncAll());
  CheckpointData data;
  data.log_durable_offset = flusher_.durable();
  data.dispatch_durable_offset = dispatched;
  data.log_min_offset = log_.min_offset();
  data.segment_bytes = options_.commitlog_segment_bytes;
  data.written_at_ms = options_.clock->NowMillis();
  MQ_RETURN_IF_ERROR(checkpoint_->Write(data));
  checkpointed_dispatch_.store(dispatched);
  return Status::OK();
}

Status StoreImpl::Close() {
  // Refuse new puts first, then wait for the ones in flight (they re-check open_ after
  // taking the lock, so a stream of puts cannot starve this exclusive lock).
  if (!open_.load()) return Status::FailedPrecondition("store is not open");
  Status schedule_stopped = StopSchedule();
  if (!open_.exchange(false)) return Status::FailedPrecondition("store is not open");
  // Taken out now, not under lifecycle_mu_: a timer round holds its scheduler's mutex while
  // it puts (lifecycle_mu_), and Stats holds schedule_mu_ while it reads that scheduler, so
  // schedule_mu_ under lifecycle_mu_ would close a lock-order cycle (ThreadSanitizer).
  std::shared_ptr<ScheduleService> schedule;
  {
    std::lock_guard<std::mutex> l(schedule_mu_);
    schedule = std::move(schedule_);
  }
  // Service calls in flight finish (their puts now fail); later ones see the store closed.
  { std::unique_lock<std::shared_mutex> drain(services_mu_); }
  std::unique_lock<std::shared_mutex> lifecycle(lifecycle_mu_);
  retention_maintenance_.reset();
  maintenance_.reset();
  Status result = flusher_.FlushAll();
  if (result.ok()) {
    result = dispatcher_.AwaitDispatched(flusher_.durable(), 60'000);
  }
  dispatcher_.Stop();
  schedule_listener_.store(nullptr, std::memory_order_release);
  schedule.reset();  // before the metadata store its progress may live in
  transactions_.reset();
  progress_.reset();
  Status s = index_ ? index_->Flush() : Status::OK();
  if (s.ok()) s = WriteCheckpoint();
  if (result.ok()) result = s;
  if (result.ok() && dispatcher_.dispatched() == flusher_.durable()) {
    // Only a store whose queues cover the whole durable log counts as cleanly closed.
    s = env_->RemoveFile(filename::AbortMarker(dir_));
    if (s.ok()) s = env_->SyncDir(dir_);
    if (result.ok()) result = s;
  }
  metadata_.reset();
  lock_.reset();
  if (result.ok()) result = schedule_stopped;
  return result;
}

Result<ReadResult> StoreImpl::Read(std::string_view topic, int32_t queue_id, int64_t offset,
                                   int32_t max_messages, uint64_t max_bytes) {
  ReadResult result;
  auto queue = queues_.Find(topic, queue_id);
  if (!queue) {
    result.status = ReadStatus::kNoSuchQueue;
    result.next_offset = 0;
    return result;
  }
  result.min_offset = queue->min_offset();
  result.max_offset = queue->max_offset();
  if (offset < result.min_offset) {
    result.status = ReadStatus::kOffsetTooSmall;
    result.next_offset = result.min_offset;
    return result;
  }
  if (offset > result.max_offset) {
    result.status = ReadStatus::kOffsetTooLarge;
    result.next_offset = result.max_offset;
    return result;
  }
  if (offset == result.max_offset || max_messages <= 0) {
    result.status = ReadStatus::kNoNewMessage;
    result.next_offset = offset;
    return result;
  }
  thread_local std::vector<QueueEntry> entries;
  entries.clear();
  queue->ReadEntries(offset, static_cast<size_t>(max_messages), &entries);
  std::shared_ptr<MappedFile> seg;
  result.messages.reserve(entries.size());
  int64_t next = offset;
  for (const QueueEntry& e : entries) {
    if (!result.messages.empty() &&
        result.total_bytes + static_cast<uint64_t>(e.size) > max_bytes) {
      break;
    }
    if (!seg || e.physical_offset < seg->base() || e.physical_offset >= seg->end()) {
      seg = log_.SegmentFor(e.physical_offset);
      if (!seg) {
        // Retention removed the segment after the entry was read; the queue's minimum is
        // (or is about to be) past it. Say so rather than returning nothing.
        if (result.messages.empty()) {
          int64_t min = std::max(queue->min_offset(), offset + 1);
          result.status = ReadStatus::kOffsetTooSmall;
          result.min_offset = std::max(result.min_offset, queue->min_offset());
          result.next_offset = min;
          return result;
        }
        break;
      }
      result.pins.push_back(seg);
    }
    uint64_t in_seg = static_cast<uint64_t>(e.physical_offset - seg->base());
    result.messages.push_back(
        StoredMessage{seg->View(in_seg, static_cast<uint64_t>(e.size)), next, e.physical_offset});
    result.total_bytes += static_cast<uint64_t>(e.size);
    ++next;
  }
  result.next_offset = next;
  result.status = result.messages.empty() ? ReadStatus::kNoNewMessage : ReadStatus::kFound;
  return result;
}

Result<QueueBounds> StoreImpl::GetQueueBounds(std::string_view topic, int32_t queue_id) {
  auto queue = queues_.Find(topic, queue_id);
  if (!queue) {
    return Status::NotFound("no queue " + std::string(topic) + "/" + std::to_string(queue_id));
  }
  return QueueBounds{queue->min_offset(), queue->max_offset()};
}

std::vector<QueueId> StoreImpl::ListQueues() {
  std::vector<QueueId> out;
  queues_.ForEach([&](ConsumeQueue& q) { out.push_back(QueueId{q.topic(), q.queue_id()}); });
  return out;
}

Result<RecordView> StoreImpl::ReadRecord(int64_t offset) {
  RecordSummary summary;
  return ReadVisibleRecord(offset, &summary);
}

Result<int64_t> StoreImpl::GetQueueOffsetByTime(std::string_view topic, int32_t queue_id,
                                                int64_t timestamp_ms) {
  auto queue = queues_.Find(topic, queue_id);
  if (!queue) {
    return Status::NotFound("no queue " + std::string(topic) + "/" + std::to_string(queue_id));
  }
  return FindQueueOffsetByTime(
      *queue, [this](int64_t offset) { return StoreTimeAt(offset); }, timestamp_ms);
}

Result<int64_t> StoreImpl::GetEarliestStoreTime(std::string_view topic, int32_t queue_id) {
  auto queue = queues_.Find(topic, queue_id);
  std::optional<int64_t> t;
  if (queue) t = EarliestStoreTime(*queue, [this](int64_t offset) { return StoreTimeAt(offset); });
  if (!t) {
    return Status::NotFound("no readable message in " + std::string(topic) + "/" +
                            std::to_string(queue_id));
  }
  return *t;
}

std::optional<int64_t> StoreImpl::StoreTimeAt(int64_t physical_offset) {
  RecordSummary summary;
  if (!ReadVisibleRecord(physical_offset, &summary).ok()) return std::nullopt;
  return summary.store_timestamp_ms;
}

Result<RecordView> StoreImpl::ReadVisibleRecord(int64_t offset, RecordSummary* summary) {
  auto seg = log_.SegmentFor(offset);
  if (!seg || offset >= VisibleLimit()) {
    return Status::NotFound("no record at offset " + std::to_string(offset));
  }
  uint64_t in_seg = static_cast<uint64_t>(offset - seg->base());
  RecordSummary r;
  std::string problem;
  if (CheckRecord(seg->View(in_seg, seg->size() - in_seg), false, &r, &problem) !=
          RecordCheck::kRecord ||
      r.physical_offset != offset) {
    return Status::NotFound("no record starts at offset " + std::to_string(offset));
  }
  *summary = r;
  return RecordView{seg->View(in_seg, static_cast<uint64_t>(r.total_size)), offset, seg};
}

Result<std::vector<RecordView>> StoreImpl::QueryByKey(std::string_view topic, std::string_view key,
                                                      int64_t begin_ms, int64_t end_ms,
                                                      size_t max_results) {
  if (!index_) return Status::FailedPrecondition("the store has no index (enable_index is off)");
  std::vector<RecordView> out;
  // Candidates may include hash collisions: ask for a few more and check each record.
  MQ_ASSIGN_OR_RETURN(std::vector<int64_t> offsets,
                      index_->Query(topic, key, begin_ms, end_ms, max_results + 8, VisibleLimit()));
  for (int64_t offset : offsets) {
    if (out.size() >= max_results) break;
    RecordSummary summary;
    auto record = ReadVisibleRecord(offset, &summary);
    if (!record.ok()) continue;  // removed by retention since it was indexed
    if (summary.topic != topic || !RecordHasIndexKey(topic, summary.properties, key)) continue;
    out.push_back(std::move(record).value());
  }
  return out;
}

Result<RecordView> StoreImpl::ReadByMessageId(std::string_view topic, std::string_view id) {
  // Client unique ids are 32 hex digits too, so an id that decodes as an offset id may still
  // be a unique id (RocketMQ's admin tools fall back the same way).
  if (auto decoded = DecodeOffsetMessageId(id)) {
    if (decoded->first == options_.store_host) {
      auto record = ReadRecord(decoded->second);
      if (record.ok()) return record;
    }
  }
  if (!index_) {
    return Status::NotFound("no record at offset id " + std::string(id) +
                            " (and no index to look it up as a unique id)");
  }
  MQ_ASSIGN_OR_RETURN(std::vector<RecordView> found,
                      QueryByKey(topic, id, std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max(), 1));
  if (found.empty()) {
    return Status::NotFound("no message with id " + std::string(id) + " in topic " +
                            std::string(topic));
  }
  return std::move(found.front());
}

Status StoreImpl::Flush() {
  if (!open_.load(std::memory_order_relaxed)) return Status::FailedPrecondition("store is closed");
  std::shared_lock<std::shared_mutex> lifecycle(lifecycle_mu_);
  if (!open_.load(std::memory_order_relaxed)) return Status::FailedPrecondition("store is closed");
  return flusher_.FlushAll();
}

Status StoreImpl::AwaitDispatched(int64_t physical_end, int timeout_ms) {
  if (!open_.load(std::memory_order_relaxed)) return Status::FailedPrecondition("store is closed");
  return dispatcher_.AwaitDispatched(physical_end, timeout_ms);
}

void StoreImpl::SetArrivalListener(ArrivalListener listener) {
  dispatcher_.SetListener(std::move(listener));
}

Result<TransactionEndResult> StoreImpl::EndTransaction(int64_t half_physical_offset,
                                                       TransactionResolution resolution) {
  // Not under lifecycle_mu_: the service puts through this store.
  std::shared_lock<std::shared_mutex> services(services_mu_);
  if (!open_.load()) return Status::FailedPrecondition("store is closed");
  return transactions_->EndTransaction(half_physical_offset, resolution);
}

Result<TransactionCheckResult> StoreImpl::CheckTransactions(size_t max_checks) {
  std::shared_lock<std::shared_mutex> services(services_mu_);
  if (!open_.load()) return Status::FailedPrecondition("store is closed");
  return transactions_->Check(options_.clock->NowMillis(), max_checks);
}

Result<SendBackResult> StoreImpl::SendBack(const SendBackRequest& request) {
  // Not under lifecycle_mu_: the copy is put through this store.
  std::shared_lock<std::shared_mutex> services(services_mu_);
  if (!open_.load()) return Status::FailedPrecondition("store is closed");
  return SendMessageBack(*this, metadata(), request);
}

Status StoreImpl::AwaitScheduleRound(int timeout_ms) {
  if (!open_.load()) return Status::FailedPrecondition("store is closed");
  std::shared_ptr<ScheduleService> schedule;
  {
    std::lock_guard<std::mutex> l(schedule_mu_);
    schedule = schedule_;
  }
  if (!schedule) return Status::FailedPrecondition("scheduled delivery is off (enable_schedule)");
  return schedule->AwaitRound(timeout_ms);
}

int64_t StoreImpl::AppendLockHeldMs() { return log_.AppendLockHeldMs(options_.clock->NowMillis()); }

StoreStats StoreImpl::Stats() {
  StoreStats s;
  s.min_physical_offset = log_.min_offset();
  s.appended_offset = log_.appended();
  s.written_offset = log_.written();
  s.durable_offset = flusher_.durable();
  s.dispatched_offset = dispatcher_.dispatched();
  s.sync_count = flusher_.sync_count();
  s.segment_count = log_.Segments().size();
  s.queue_count = queues_.size();
  s.recovered_from_crash = recovered_from_crash_;
  s.recovery_scanned_bytes = recovery_scanned_;
  s.recovery_start_offset = recovery_start_;
  s.writes_refused = retention_ && !retention_->writes_allowed();
  std::lock_guard<std::mutex> l(schedule_mu_);
  if (schedule_) {
    ScheduleServiceStats schedule = schedule_->stats();
    s.schedule_rounds = schedule.rounds;
    s.timers_pending = schedule.timers_pending;
    s.timers_delivered = schedule.timers_delivered;
  }
  return s;
}

}  // namespace mqstore
