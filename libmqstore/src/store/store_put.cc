// StoreImpl's put path: Put, PutBatch and their asynchronous forms, from a message to
// records appended to the commit log and, under SYNC_FLUSH, the wait for the disk.
#include <algorithm>

#include "store/store_impl.h"

namespace mqstore {

Result<int64_t> StoreImpl::AppendRecords(std::span<const PreparedRecord> records,
                                         std::span<PutResult> out) {
  MQ_RETURN_IF_ERROR(flusher_.error());
  if (!retention_->writes_allowed()) {
    // RocketMQ's DISK_FULL: puts resume by themselves once retention frees space.
    return Status::ResourceExhausted("disk usage is above disk_refuse_writes_percent (" +
                                     std::to_string(options_.disk_refuse_writes_percent) +
                                     "%); puts resume when old segments are removed");
  }
  if (dispatcher_.blocked()) {
    // A full disk keeps the dispatcher from making a queue or index file: refuse puts rather
    // than pile up records no consumer can read. It tries again now, so puts resume by
    // themselves once there is room.
    Status s = dispatcher_.AwaitDispatched(VisibleLimit(), options_.sync_flush_timeout_ms);
    if (s.IsResourceExhausted()) {
      return s.WithContext(
          "the consume queues cannot follow the log; puts resume when there "
          "is room");
    }
  }
  // Single puts are the common case: keep their bookkeeping off the heap.
  AppendedRecord one;
  std::vector<AppendedRecord> many;
  std::span<AppendedRecord> appended(&one, 1);
  if (records.size() > 1) {
    many.resize(records.size());
    appended = many;
  }
  int64_t ts = 0;
  MQ_RETURN_IF_ERROR(log_.Append(records, &offsets_, appended, &ts));
  const int64_t end = appended.back().physical_offset + appended.back().size;
  const bool durable = flusher_.durable() >= end;
  for (size_t i = 0; i < records.size(); ++i) {
    PutResult& r = out[i];
    r.status = PutStatus::kOk;
    r.durable = durable;
    r.physical_offset = appended[i].physical_offset;
    r.record_size = appended[i].size;
    r.queue_offset = appended[i].queue_offset;
    r.store_timestamp_ms = ts;
    r.store_host = options_.store_host;
  }
  return end;
}

void StoreImpl::RequestWriteOut(int64_t end) {
  // Not waiting, but the record may be only in the write buffer: have it written out soon
  // rather than at the next periodic flush.
  if (log_.buffered()) flusher_.RequestDurable(end);
}

bool StoreImpl::WaitsForDisk(std::span<const MessageView> messages) const {
  if (options_.flush_mode != FlushMode::kSync) return false;
  for (const MessageView& message : messages) {
    if (FindProperty(message.properties, property::kWaitStoreMsgOk) != "false") return true;
  }
  return false;
}

namespace {

// What a put's results say once the wait for the disk ended with `waited` (OK or kTimedOut).
PutStatus ApplyWait(const Status& waited, bool durable, std::span<PutResult> results) {
  const PutStatus status = waited.ok() ? PutStatus::kOk : PutStatus::kFlushDiskTimeout;
  for (PutResult& r : results) {
    r.status = status;
    r.durable = durable;
  }
  return status;
}

}  // namespace

Result<PutStatus> StoreImpl::FinishPut(int64_t end, bool wait_for_durability,
                                       std::span<PutResult> results) {
  if (!wait_for_durability) {
    RequestWriteOut(end);
    return PutStatus::kOk;
  }
  Status waited = flusher_.WaitDurable(end, options_.sync_flush_timeout_ms);
  if (!waited.ok() && !waited.IsTimedOut()) return waited;
  return ApplyWait(waited, flusher_.durable() >= end, results);
}

Result<PutResult> StoreImpl::Put(const MessageView& message) {
  if (!open_.load(std::memory_order_relaxed)) return Status::FailedPrecondition("store is closed");
  std::shared_lock<std::shared_mutex> lifecycle(lifecycle_mu_);
  if (!open_.load(std::memory_order_relaxed)) return Status::FailedPrecondition("store is closed");
  Rewrites rewrites;
  MessageView to_store;
  PreparedRecord prepared;
  MQ_RETURN_IF_ERROR(PrepareForStorage(message, &rewrites, &to_store, &prepared));
  PutResult result;
  MQ_ASSIGN_OR_RETURN(int64_t end, AppendRecords({&prepared, 1}, {&result, 1}));
  MQ_RETURN_IF_ERROR(FinishPut(end, WaitsForDisk({&message, 1}), {&result, 1}).status());
  return result;
}

DurableCallbacks::Clock::time_point StoreImpl::SyncFlushDeadline() const {
  return DurableCallbacks::Clock::now() + std::chrono::milliseconds(options_.sync_flush_timeout_ms);
}

void StoreImpl::PutAsync(const MessageView& message, PutCallback done) {
  PutResult result;
  int64_t end = 0;
  {
    if (!open_.load(std::memory_order_relaxed)) {
      done(Status::FailedPrecondition("store is closed"));
      return;
    }
    std::shared_lock<std::shared_mutex> lifecycle(lifecycle_mu_);
    if (!open_.load(std::memory_order_relaxed)) {
      lifecycle.unlock();  // callbacks never run under the store's locks
      done(Status::FailedPrecondition("store is closed"));
      return;
    }
    Rewrites rewrites;
    MessageView to_store;
    PreparedRecord prepared;
    Status s = PrepareForStorage(message, &rewrites, &to_store, &prepared);
    Result<int64_t> appended = s.ok() ? AppendRecords({&prepared, 1}, {&result, 1}) : s;
    if (!appended.ok()) {
      lifecycle.unlock();
      done(appended.status());
      return;
    }
    end = *appended;
  }
  if (!WaitsForDisk({&message, 1}) || result.durable) {
    RequestWriteOut(end);
    done(std::move(result));
    return;
  }
  flusher_.NotifyWhenDurable(end, SyncFlushDeadline(),
                             [result, done = std::move(done)](Status waited) mutable {
                               if (!waited.ok() && !waited.IsTimedOut()) {
                                 done(std::move(waited));
                                 return;
                               }
                               ApplyWait(waited, waited.ok(), {&result, 1});
                               done(std::move(result));
                             });
}

void StoreImpl::PutBatchAsync(std::span<const MessageView> messages, BatchPutCallback done) {
  BatchPutResult batch;
  int64_t end = 0;
  {
    Result<int64_t> appended = AppendBatch(messages, &batch);
    if (!appended.ok()) {
      done(appended.status());
      return;
    }
    end = *appended;
  }
  if (!WaitsForDisk(messages) || batch.durable) {
    RequestWriteOut(end);
    done(std::move(batch));
    return;
  }
  flusher_.NotifyWhenDurable(
      end, SyncFlushDeadline(),
      [batch = std::move(batch), done = std::move(done)](Status waited) mutable {
        if (!waited.ok() && !waited.IsTimedOut()) {
          done(std::move(waited));
          return;
        }
        batch.status = ApplyWait(waited, waited.ok(), batch.items);
        batch.durable = waited.ok();
        done(std::move(batch));
      });
}

void StoreImpl::PutEachAsync(std::span<const MessageView> messages, PutEachCallback done) {
  const size_t count = messages.size();
  std::vector<Status> errors(count);
  std::vector<PutResult> results(count);
  std::vector<int64_t> ends(count, 0);  // log offset after message i; 0 when it was refused
  if (!open_.load(std::memory_order_relaxed)) {
    for (size_t i = 0; i < count; ++i) done(i, Status::FailedPrecondition("store is closed"));
    return;
  }
  {
    std::shared_lock<std::shared_mutex> lifecycle(lifecycle_mu_);
    if (!open_.load(std::memory_order_relaxed)) {
      lifecycle.unlock();  // callbacks never run under the store's locks
      for (size_t i = 0; i < count; ++i) done(i, Status::FailedPrecondition("store is closed"));
      return;
    }
    // A PreparedRecord points at its MessageView, and a parked view into its rewrite: all
    // three vectors keep their size until the appends are done.
    std::vector<Rewrites> rewrites(count);
    std::vector<MessageView> to_store(count);
    std::vector<PreparedRecord> prepared;  // of the valid messages only, in order
    std::vector<size_t> index_of;          // prepared[k] is messages[index_of[k]]
    prepared.reserve(count);
    index_of.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      PreparedRecord record;
      errors[i] = PrepareForStorage(messages[i], &rewrites[i], &to_store[i], &record);
      if (!errors[i].ok()) continue;
      prepared.push_back(record);
      index_of.push_back(i);
    }
    // As few appends as the log takes: a run of records must fit where one batch would. A
    // record too large on its own is appended alone, and fails as its own put would.
    std::vector<PutResult> appended(prepared.size());
    const uint64_t limit = log_.MaxAppendBytes();
    for (size_t first = 0; first < prepared.size();) {
      size_t last = first + 1;
      uint64_t bytes = static_cast<uint64_t>(prepared[first].total_size);
      while (last < prepared.size() &&
             bytes + static_cast<uint64_t>(prepared[last].total_size) <= limit) {
        bytes += static_cast<uint64_t>(prepared[last].total_size);
        ++last;
      }
      const std::span<const PreparedRecord> run(prepared.data() + first, last - first);
      Result<int64_t> end = AppendRecords(run, {appended.data() + first, last - first});
      for (size_t k = first; k < last; ++k) {
        const size_t i = index_of[k];
        if (!end.ok()) {
          errors[i] = end.status();
          continue;
        }
        results[i] = appended[k];
        ends[i] = appended[k].physical_offset + appended[k].record_size;
      }
      first = last;
    }
  }
  // Callbacks in message order, except that those waiting for the disk run once it has them.
  std::vector<size_t> waiting;
  int64_t write_out_end = 0;
  for (size_t i = 0; i < count; ++i) {
    if (!errors[i].ok() || results[i].durable || !WaitsForDisk({&messages[i], 1})) {
      write_out_end = std::max(write_out_end, ends[i]);
    } else {
      waiting.push_back(i);
    }
  }
  if (write_out_end > 0) RequestWriteOut(write_out_end);
  for (size_t i = 0, next_waiting = 0; i < count; ++i) {
    if (next_waiting < waiting.size() && waiting[next_waiting] == i) {
      ++next_waiting;
    } else if (!errors[i].ok()) {
      done(i, std::move(errors[i]));
    } else {
      done(i, std::move(results[i]));
    }
  }
  if (waiting.empty()) return;
  int64_t wait_end = 0;
  for (size_t i : waiting) wait_end = std::max(wait_end, ends[i]);
  flusher_.NotifyWhenDurable(wait_end, SyncFlushDeadline(),
                             [waiting = std::move(waiting), results = std::move(results),
                              done = std::move(done)](Status waited) mutable {
                               for (size_t i : waiting) {
                                 if (!waited.ok() && !waited.IsTimedOut()) {
                                   done(i, waited);
                                   continue;
                                 }
                                 ApplyWait(waited, waited.ok(), {&results[i], 1});
                                 done(i, std::move(results[i]));
                               }
                             });
}

Result<int64_t> StoreImpl::AppendBatch(std::span<const MessageView> messages,
                                       BatchPutResult* batch) {
  if (!open_.load(std::memory_order_relaxed)) return Status::FailedPrecondition("store is closed");
  std::shared_lock<std::shared_mutex> lifecycle(lifecycle_mu_);
  if (!open_.load(std::memory_order_relaxed)) return Status::FailedPrecondition("store is closed");
  if (messages.empty()) return Status::InvalidArgument("empty batch");
  std::vector<PreparedRecord> prepared(messages.size());
  // A PreparedRecord points at its MessageView, and a parked view into its rewrite: both
  // live until the append is done (and the vectors are never resized).
  std::vector<Rewrites> rewrites(messages.size());
  std::vector<MessageView> to_store(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    Status s = PrepareForStorage(messages[i], &rewrites[i], &to_store[i], &prepared[i]);
    if (!s.ok()) return s.WithContext("batch message " + std::to_string(i));
  }
  batch->items.resize(messages.size());
  MQ_ASSIGN_OR_RETURN(int64_t end, AppendRecords(prepared, batch->items));
  batch->status = PutStatus::kOk;
  batch->durable = batch->items.front().durable;
  return end;
}

Result<BatchPutResult> StoreImpl::PutBatch(std::span<const MessageView> messages) {
  BatchPutResult batch;
  MQ_ASSIGN_OR_RETURN(int64_t end, AppendBatch(messages, &batch));
  MQ_ASSIGN_OR_RETURN(batch.status, FinishPut(end, WaitsForDisk(messages), batch.items));
  batch.durable = batch.items.front().durable;
  return batch;
}

Result<MessageView> StoreImpl::RewriteForStorage(const MessageView& message, Rewrites* rewrites) {
  MQ_ASSIGN_OR_RETURN(rewrites->half, RewriteForHalf(message));
  if (rewrites->half) return rewrites->half->Apply(message);
  if (!options_.enable_schedule || !MayRequestSchedule(message)) return message;
  MQ_ASSIGN_OR_RETURN(rewrites->parked,
                      RewriteForSchedule(message, rewrite_options_, options_.clock->NowMillis()));
  return rewrites->parked ? rewrites->parked->Apply(message) : message;
}

Status StoreImpl::PrepareForStorage(const MessageView& message, Rewrites* rewrites,
                                    MessageView* to_store, PreparedRecord* prepared) {
  MQ_ASSIGN_OR_RETURN(*to_store, RewriteForStorage(message, rewrites));
  return PrepareRecord(*to_store, options_.store_host, options_.max_message_bytes, prepared);
}

}  // namespace mqstore
