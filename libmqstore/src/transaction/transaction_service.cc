#include "transaction/transaction_service.h"

#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <vector>

#include "transaction/transaction_names.h"
#include "transaction/transaction_rewrite.h"

namespace mqstore {
namespace {

using transaction::kCheckMaxTopic;
using transaction::kHalfQueueId;
using transaction::kHalfTopic;
using transaction::kOpQueueId;
using transaction::kOpTopic;
namespace tprop = transaction::prop;

// Bytes asked for per Store::Read; the message count limit is normally what binds.
constexpr uint64_t kReadMaxBytes = 4ull << 20;

// The value of `name`, else of `fallback` (when given), else "".
std::string PropertyOr(std::string_view encoded, std::string_view name,
                       std::string_view fallback = {}) {
  std::optional<std::string_view> v = FindProperty(encoded, name);
  if (!v && !fallback.empty()) v = FindProperty(encoded, fallback);
  return v ? std::string(*v) : std::string();
}

}  // namespace

TransactionServiceOptions TransactionServiceOptions::FromStoreOptions(
    const StoreOptions& options) {
  TransactionServiceOptions o;
  o.timeout_ms = options.transaction_timeout_ms;
  o.check_max = options.transaction_check_max;
  return o;
}

TransactionService::TransactionService(Store& store, ScheduleProgressStore& progress,
                                       const TransactionServiceOptions& options)
    : store_(store), progress_(progress), options_(options) {
  if (options_.read_batch < 1) options_.read_batch = 1;
  if (options_.commit_every_records < 1) options_.commit_every_records = 1;
}

Result<TransactionEndResult> TransactionService::EndTransaction(
    int64_t half_physical_offset, TransactionResolution resolution) {
  MQ_ASSIGN_OR_RETURN(RecordView view, store_.ReadRecord(half_physical_offset));
  ParsedRecord half;
  MQ_RETURN_IF_ERROR(ParseRecord(view.bytes, /*verify_checksums=*/false, &half));
  if (half.topic != kHalfTopic) {
    return Status::InvalidArgument("record at " + std::to_string(half_physical_offset) +
                                   " is a message of " + std::string(half.topic) +
                                   ", not a half message");
  }

  std::lock_guard<std::mutex> lock(mu_);
  MQ_RETURN_IF_ERROR(LoadLocked());
  // Op records written before a restart are only in the op queue.
  MQ_RETURN_IF_ERROR(ReadOpsLocked());
  const int64_t transaction_offset = TransactionOffsetOf(half);
  TransactionEndResult result;
  if (ended_.Contains(transaction_offset)) {
    result.already_ended = true;
    return result;
  }

  std::array<int64_t, 1> ended = {transaction_offset};
  std::string op_body = EncodeOpBody(ended);
  std::string op_properties = EncodeProperties(
      {{std::string(property::kTags), std::string(transaction::kOpTag)}});
  MessageView op;
  op.topic = kOpTopic;
  op.queue_id = kOpQueueId;
  op.body = op_body;
  op.properties = op_properties;
  // The service has no clock; the half's born time and host say where the op comes from.
  op.born_timestamp_ms = half.born_timestamp_ms;
  op.born_host = half.born_host;

  if (resolution == TransactionResolution::kCommit) {
    std::string commit_properties;
    MessageView commit;
    MQ_RETURN_IF_ERROR(RestoreForCommit(half, &commit_properties, &commit));
    std::array<MessageView, 2> batch = {commit, op};
    MQ_ASSIGN_OR_RETURN(BatchPutResult put, store_.PutBatch(batch));
    result.committed = put.items[0];
    result.op = put.items[1];
  } else {
    MQ_ASSIGN_OR_RETURN(PutResult put, store_.Put(op));
    result.op = put;
  }
  ended_.Add(result.op->queue_offset,
             std::max(WatermarkFor(transaction_offset), half.queue_offset + 1), ended);
  return result;
}

Result<TransactionCheckResult> TransactionService::Check(int64_t now_ms, size_t max_checks) {
  std::lock_guard<std::mutex> lock(mu_);
  MQ_RETURN_IF_ERROR(LoadLocked());
  MQ_RETURN_IF_ERROR(ReadOpsLocked());
  TransactionCheckResult result;
  first_copy_ = std::numeric_limits<int64_t>::max();
  bool more = true;
  while (more) {
    MQ_ASSIGN_OR_RETURN(ReadResult read, store_.Read(kHalfTopic, kHalfQueueId, half_offset_,
                                                     options_.read_batch, kReadMaxBytes));
    if ((read.status == ReadStatus::kOffsetTooSmall ||
         read.status == ReadStatus::kOffsetTooLarge) &&
        read.next_offset != half_offset_) {
      // Retention removed the head (those halves are gone), or the saved offset is past a
      // queue that lost its tail in a crash; continue from where the queue really is.
      half_offset_ = read.next_offset;
      continue;
    }
    if (read.status != ReadStatus::kFound) break;  // the end, or no half yet
    for (const StoredMessage& m : read.messages) {
      MQ_ASSIGN_OR_RETURN(Visit visit, VisitLocked(m, now_ms, max_checks, &result));
      if (visit == Visit::kStop) {
        more = false;
        break;
      }
      half_offset_ = m.queue_offset + 1;
      if (++walked_since_commit_ >= options_.commit_every_records) {
        MQ_RETURN_IF_ERROR(CommitLocked(now_ms));
      }
    }
  }
  MQ_RETURN_IF_ERROR(CommitLocked(now_ms));
  return result;
}

Result<TransactionService::Visit> TransactionService::VisitLocked(
    const StoredMessage& m, int64_t now_ms, size_t max_checks, TransactionCheckResult* result) {
  if (m.queue_offset >= first_copy_) {
    // A pass never walks its own copies. They are young unless the clock went back, and
    // then they would be copied again and again within the pass.
    result->next_check_ms = now_ms + options_.timeout_ms;
    return Visit::kStop;
  }
  ParsedRecord half;
  if (!ParseRecord(m.record, /*verify_checksums=*/false, &half).ok()) {
    ++result->dropped;
    return Visit::kNext;
  }
  const int64_t transaction_offset = TransactionOffsetOf(half);
  if (ended_.Contains(transaction_offset)) {
    ++result->skipped;
    return Visit::kNext;
  }
  int64_t due = half.store_timestamp_ms + options_.timeout_ms;
  if (half.store_timestamp_ms > now_ms) due = now_ms;  // the clock went back
  if (due > now_ms) {
    result->next_check_ms = due;
    return Visit::kStop;
  }

  const int check_times = CheckTimesOf(half.properties);
  Result<RealDestination> real = FindRealDestination(half);
  std::string properties;
  MessageView copy;
  if (!real.ok() || check_times >= options_.check_max) {
    CopyForParking(half, &properties, &copy);
    MQ_RETURN_IF_ERROR(store_.Put(copy).status());
    ++result->parked;
    return Visit::kNext;
  }
  if (result->checks.size() >= max_checks) {
    result->more = true;
    return Visit::kStop;
  }

  CopyForCheck(half, transaction_offset, check_times + 1, &properties, &copy);
  MQ_ASSIGN_OR_RETURN(PutResult put, store_.Put(copy));
  copy_watermark_ = std::max(copy_watermark_, put.queue_offset + 1);
  first_copy_ = std::min(first_copy_, put.queue_offset);
  TransactionCheck check;
  check.physical_offset = put.physical_offset;
  check.queue_offset = put.queue_offset;
  check.real_topic = std::string(real->topic);
  check.real_queue_id = real->queue_id;
  check.transaction_id = PropertyOr(half.properties, tprop::kTransactionId, property::kUniqueKey);
  check.producer_group = PropertyOr(half.properties, tprop::kProducerGroup);
  check.check_times = check_times + 1;
  // In SYNC_FLUSH a put with WAIT=false returns before the copy is readable.
  Result<RecordView> record = store_.ReadRecord(put.physical_offset);
  if (!record.ok()) record = store_.ReadRecord(m.physical_offset);
  MQ_RETURN_IF_ERROR(record.status());
  check.record = std::move(record).value();
  result->checks.push_back(std::move(check));
  return Visit::kNext;
}

Status TransactionService::LoadLocked() {
  if (loaded_) return Status::OK();
  // A previous service's copies must be in the half queue's bounds (copy_watermark_).
  MQ_RETURN_IF_ERROR(
      store_.AwaitDispatched(store_.Stats().appended_offset, options_.dispatch_wait_ms));
  MQ_ASSIGN_OR_RETURN(std::optional<ScheduleProgressEntry> half,
                      progress_.Load(transaction::kHalfProgress));
  MQ_ASSIGN_OR_RETURN(std::optional<ScheduleProgressEntry> op,
                      progress_.Load(transaction::kOpProgress));
  Result<QueueBounds> bounds = store_.GetQueueBounds(kHalfTopic, kHalfQueueId);
  if (!bounds.ok() && !bounds.status().IsNotFound()) return bounds.status();
  half_offset_ = half ? half->offset : 0;
  committed_half_ = half ? half->offset : -1;
  op_read_ = op ? op->offset : 0;
  committed_op_ = op ? op->offset : -1;
  copy_watermark_ = bounds.ok() ? bounds->max_offset : 0;
  loaded_ = true;
  return Status::OK();
}

Status TransactionService::ReadOpsLocked() {
  while (true) {
    MQ_ASSIGN_OR_RETURN(ReadResult read, store_.Read(kOpTopic, kOpQueueId, op_read_,
                                                     options_.read_batch, kReadMaxBytes));
    if ((read.status == ReadStatus::kOffsetTooSmall ||
         read.status == ReadStatus::kOffsetTooLarge) &&
        read.next_offset != op_read_) {
      // Op records removed by retention are lost: their transactions get checked again.
      op_read_ = read.next_offset;
      continue;
    }
    if (read.status != ReadStatus::kFound) return Status::OK();
    for (const StoredMessage& m : read.messages) {
      ParsedRecord op;
      if (!ended_.HasOp(m.queue_offset) &&
          ParseRecord(m.record, /*verify_checksums=*/false, &op).ok()) {
        std::vector<int64_t> ended = ParseOpBody(op.body);
        int64_t watermark = copy_watermark_;
        for (int64_t t : ended) watermark = std::max(watermark, WatermarkFor(t));
        if (!ended.empty()) ended_.Add(m.queue_offset, watermark, ended);
      }
      op_read_ = m.queue_offset + 1;
    }
  }
}

Status TransactionService::CommitLocked(int64_t now_ms) {
  const int64_t op_progress = ended_.Retire(half_offset_, op_read_);
  walked_since_commit_ = 0;
  if (half_offset_ == committed_half_ && op_progress == committed_op_) return Status::OK();
  // Copies, parked copies and the op records that let the walk skip halves must be durable
  // before progress covers the halves they stand for.
  if (options_.flush_before_commit) MQ_RETURN_IF_ERROR(store_.Flush());
  const int64_t ts = now_ms < 0 ? 0 : now_ms;
  std::array<ScheduleProgressEntry, 2> entries = {
      ScheduleProgressEntry{std::string(transaction::kHalfProgress), half_offset_, ts},
      ScheduleProgressEntry{std::string(transaction::kOpProgress), op_progress, ts}};
  MQ_RETURN_IF_ERROR(progress_.Commit(entries));
  committed_half_ = half_offset_;
  committed_op_ = op_progress;
  return Status::OK();
}

int64_t TransactionService::WatermarkFor(int64_t transaction_offset) const {
  // The original half is at its transaction offset; every copy is below copy_watermark_.
  return std::max(copy_watermark_, transaction_offset + 1);
}

int64_t TransactionService::half_offset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return half_offset_;
}

int64_t TransactionService::op_read_offset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return op_read_;
}

size_t TransactionService::ended_ops() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ended_.op_count();
}

size_t TransactionService::ended_transactions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ended_.transaction_count();
}

}  // namespace mqstore
