#include "inspect/queue_slots.h"

#include <algorithm>

#include "inspect/log_position.h"
#include "queue/consume_queue.h"

namespace mqstore {

Result<QueueSlots> QueueSlots::Open(FileCache* cache, const QueueFiles& queue) {
  QueueSlots slots;
  int64_t expected_base = -1;
  for (const QueueFile& f : queue.files) {
    if (f.file_bytes == 0 || f.file_bytes % kQueueEntrySize != 0) break;
    // The first file shows the configured size; ConsumeQueue::Load removes a last file of
    // another size (a crash while creating it) and refuses one elsewhere: none is the queue.
    if (f.file_bytes != queue.files.front().file_bytes) break;
    if (expected_base >= 0 && f.base_byte_offset != expected_base) break;
    if (f.base_byte_offset % kQueueEntrySize != 0) break;
    MQ_ASSIGN_OR_RETURN(auto data, cache->Get(f.path));
    slots.files_.push_back(Run{&f, std::move(data)});
    expected_base = f.base_byte_offset + static_cast<int64_t>(f.file_bytes);
  }
  if (!slots.files_.empty()) {
    slots.first_ = slots.files_.front().file->base_byte_offset / kQueueEntrySize;
    slots.end_ = expected_base / kQueueEntrySize;
  }
  return slots;
}

const QueueSlots::Run& QueueSlots::RunFor(int64_t byte) const {
  auto it = std::upper_bound(files_.begin(), files_.end(), byte,
                             [](int64_t b, const Run& r) { return b < r.file->base_byte_offset; });
  return *(it - 1);
}

QueueEntryInfo QueueSlots::At(int64_t q) const {
  int64_t byte = q * kQueueEntrySize;
  const Run& run = RunFor(byte);
  QueueEntryInfo info;
  info.queue_offset = q;
  info.file_path = run.file->path;
  info.file_offset = static_cast<uint64_t>(byte - run.file->base_byte_offset);
  std::string_view data = run.data->data();
  if (info.file_offset + kQueueEntrySize > data.size()) return info;  // file shrank meanwhile
  QueueEntry e = DecodeQueueEntry(data.data() + info.file_offset);
  info.physical_offset = e.physical_offset;
  info.size = e.size;
  info.tags_code = e.tags_code;
  return info;
}

bool QueueSlots::IsEmpty(int64_t q) const {
  int64_t byte = q * kQueueEntrySize;
  const Run& run = RunFor(byte);
  std::string_view data = run.data->data();
  uint64_t pos = static_cast<uint64_t>(byte - run.file->base_byte_offset);
  if (pos + kQueueEntrySize > data.size()) return true;
  return AllZero(data.substr(pos, kQueueEntrySize));
}

QueueSlots::LoadedEnd QueueSlots::FindLoadedEnd() const {
  LoadedEnd out;
  out.max_offset = first_;
  int64_t prev_end = -1;
  for (int64_t q = first_; q < end_; ++q) {
    QueueEntryInfo e = At(q);
    if (!EntryCanFollow(e.physical_offset, e.size, prev_end)) break;  // as ConsumeQueue::Load
    prev_end = e.physical_offset + e.size;
    out.max_offset = q + 1;
  }
  out.last_record_end = std::max<int64_t>(prev_end, 0);
  return out;
}

int64_t QueueSlots::WrittenEnd() const {
  for (auto it = files_.rbegin(); it != files_.rend(); ++it) {
    size_t extent = NonZeroExtent(it->data->data());
    if (extent > 0) {
      int64_t slot = (static_cast<int64_t>(extent) + kQueueEntrySize - 1) / kQueueEntrySize;
      return it->file->base_byte_offset / kQueueEntrySize + slot;
    }
  }
  return first_;
}

QueueIteratorImpl::QueueIteratorImpl(QueueSlots slots, int64_t from)
    : slots_(std::move(slots)),
      next_(std::max(from, slots_.first_offset())),
      end_(slots_.FindLoadedEnd().max_offset) {
  Load();
}

void QueueIteratorImpl::Next() {
  ++next_;
  Load();
}

void QueueIteratorImpl::Load() {
  if (next_ < end_) entry_ = slots_.At(next_);
}

}  // namespace mqstore
