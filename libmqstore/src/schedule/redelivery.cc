#include "schedule/redelivery.h"

#include <span>

#include "schedule/schedule_rewrite.h"

namespace mqstore {

Redelivery::Redelivery(Store& store, const RedeliveryOptions& options)
    : store_(store), options_(options) {
  if (options_.max_messages == 0) options_.max_messages = 1;
  properties_.resize(options_.max_messages);
  views_.resize(options_.max_messages);
}

void Redelivery::Add(std::string_view record, std::shared_ptr<const void> pin) {
  ParsedRecord parsed;
  if (!ParseRecord(record, /*verify_checksums=*/false, &parsed).ok()) {
    ++dropped_;
    return;
  }
  Add(parsed, std::move(pin));
}

void Redelivery::Add(const ParsedRecord& record, std::shared_ptr<const void> pin) {
  if (!RestoreForDelivery(record, &properties_[count_], &views_[count_]).ok()) {
    ++dropped_;
    return;
  }
  ++count_;
  bytes_ += static_cast<size_t>(record.total_size);
  if (pin != nullptr && (pins_.empty() || pins_.back() != pin)) pins_.push_back(std::move(pin));
}

Status Redelivery::Flush() {
  if (count_ == 0) return Status::OK();
  std::span<const MessageView> batch(views_.data(), count_);
  Result<BatchPutResult> put = store_.PutBatch(batch);
  Status status = put.status();
  if (put.ok()) {
    delivered_ += count_;
  } else if (status.IsInvalidArgument()) {
    // One message spoils the batch; find it (them) by putting one at a time.
    status = Status::OK();
    for (const MessageView& m : batch) {
      Result<PutResult> one = store_.Put(m);
      if (one.ok()) {
        ++delivered_;
      } else if (one.status().IsInvalidArgument()) {
        ++dropped_;
      } else {
        status = one.status();
        break;
      }
    }
  }
  Clear();
  return status;
}

void Redelivery::Clear() {
  count_ = 0;
  bytes_ = 0;
  pins_.clear();
}

}  // namespace mqstore
