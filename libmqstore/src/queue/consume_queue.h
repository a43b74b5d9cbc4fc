// ConsumeQueue: the index of one (topic, queue): entry i points at the record with queue
// offset i (docs/format/consume_queue.md).
//
//   consumequeue/<topic>/<queue>/00000000000000000000   entries 0 .. N-1   (N * 20 bytes)
//   consumequeue/<topic>/<queue>/00000000000006000000   entries N .. 2N-1
//
// Entry: physical offset (8) | record size (4) | tags hash (8), big-endian.
//
// Retention removes whole files from the front once the commit log no longer holds their
// records (ApplyLogMinOffset); min_offset() then says where the readable entries start.
//
// Thread safety: one writer (the dispatcher, or recovery before the store opens) and any
// number of readers. An entry is visible to readers once max_offset() covers it.
// ApplyLogMinOffset and Sync may run concurrently with the writer and the readers (one
// caller each at a time); Load and TruncateFrom may not.
#ifndef MQSTORE_QUEUE_CONSUME_QUEUE_H_
#define MQSTORE_QUEUE_CONSUME_QUEUE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "mqstore/env.h"
#include "util/mapped_file.h"

namespace mqstore {

struct QueueEntry {
  int64_t physical_offset = 0;
  int32_t size = 0;
  int64_t tags_code = 0;
};

inline constexpr int kQueueEntrySize = 20;

void EncodeQueueEntry(const QueueEntry& e, char* dst);
QueueEntry DecodeQueueEntry(const char* src);

// Whether an entry can follow one whose record ended at `prev_end` (-1 for the first): a
// positive size, a record starting at or after `prev_end`, and an end that fits in int64
// (garbage could overflow it). Load ends a queue at the first entry that cannot; so does
// the inspector.
inline bool EntryCanFollow(int64_t physical_offset, int64_t size, int64_t prev_end) {
  return size > 0 && physical_offset >= 0 && physical_offset >= prev_end &&
         physical_offset <= INT64_MAX - size;
}

class ConsumeQueue;
// Whether entry `queue_offset` of `queue` is trustworthy. Recovery passes one that checks an
// entry against the commit log: entries written after the last checkpoint were not synced,
// and a crash may leave them torn or garbage (docs/design/recovery.md).
using QueueEntryCheck =
    std::function<bool(const ConsumeQueue& queue, int64_t queue_offset, const QueueEntry& entry)>;

class ConsumeQueue {
 public:
  ConsumeQueue(Env* env, std::string root, std::string topic, int32_t queue_id,
               uint32_t entries_per_file);

  const std::string& topic() const { return topic_; }
  int32_t queue_id() const { return queue_id_; }

  // Maps the existing files and finds the last entry: scanning the last file forward, the
  // queue ends at the first entry that is empty or not after its predecessor.
  Status Load();
  // Removes entries whose record starts at or after `physical_offset` (recovery), and with
  // `trusted`, the run of entries just before those that it rejects (FirstOffsetAtOrAfter).
  Status TruncateFrom(int64_t physical_offset, const QueueEntryCheck& trusted = nullptr);
  // What max_offset() would be after TruncateFrom: the queue offset of the first entry whose
  // record starts at or after `physical_offset` (max_offset() if none), then, with `trusted`,
  // moved down past every entry right below it that `trusted` rejects. Changes nothing.
  // Only the tail is checked, walking down to the first entry `trusted` accepts: damage a
  // crash leaves is at the tail, and a rejected entry deeper down (bit rot in the durable
  // part) must not cut everything after it at one open and not at the next, depending on
  // where a search happened to look (mqdump verify reports it).
  int64_t FirstOffsetAtOrAfter(int64_t physical_offset,
                               const QueueEntryCheck& trusted = nullptr) const;

  // Appends the entry for `queue_offset`. An offset below max_offset() is a replay and is
  // ignored; one above it is a gap and kCorruption. REQUIRES: single writer.
  Status Append(int64_t queue_offset, const QueueEntry& entry);

  int64_t min_offset() const { return min_offset_.load(std::memory_order_acquire); }
  int64_t max_offset() const { return max_offset_.load(std::memory_order_acquire); }
  // End (offset + size) of the record of the last entry; 0 when empty.
  int64_t last_record_end() const { return last_record_end_; }

  // Appends up to `n` entries starting at `queue_offset` (clipped to what is visible) to
  // `out`; returns how many.
  size_t ReadEntries(int64_t queue_offset, size_t n, std::vector<QueueEntry>* out) const;

  // Makes every appended entry durable.
  Status Sync();

  // The commit log now starts at `log_min_offset` (retention removed what was before, or the
  // store is opening on a log whose start moved): min_offset() becomes the first entry whose
  // record starts at or after it, max_offset() if none (RocketMQ's correctMinOffset), then
  // every file but the last whose entries all lie below min_offset() is removed, oldest
  // first, each removal made durable before the next. min_offset() never moves down.
  // Returns the number of files removed.
  Result<size_t> ApplyLogMinOffset(int64_t log_min_offset);

 private:
  uint64_t file_bytes() const { return uint64_t{entries_per_file_} * kQueueEntrySize; }
  std::string dir() const;
  // REQUIRES: files_mu_ held; min_offset() <= queue_offset < max_offset().
  QueueEntry EntryAt(int64_t queue_offset) const;
  int64_t FirstOffsetAtOrAfterLocked(int64_t physical_offset, const QueueEntryCheck& trusted) const;

  Env* const env_;
  const std::string root_;
  const std::string topic_;
  const int32_t queue_id_;
  const uint32_t entries_per_file_;

  mutable std::shared_mutex files_mu_;
  std::vector<std::shared_ptr<MappedFile>> files_;  // GUARDED_BY(files_mu_); base = byte offset

  std::atomic<int64_t> min_offset_{0};
  std::atomic<int64_t> max_offset_{0};
  int64_t last_record_end_ = 0;  // writer only
  // Writer only: the file the next entry goes into, so that Append takes no lock for it.
  // Retention never removes the last file, and TruncateFrom (recovery, no writer running)
  // resets it.
  std::shared_ptr<MappedFile> tail_;
  int64_t synced_offset_ = 0;  // writer / Sync caller only (Sync is serialised by the store)
  // Sync caller only: files ending at or below this byte offset had their pages released.
  // A byte offset, not a file count, because retention removes files from the front.
  int64_t released_end_ = 0;
  std::mutex retention_mu_;  // one ApplyLogMinOffset at a time
};

}  // namespace mqstore

#endif  // MQSTORE_QUEUE_CONSUME_QUEUE_H_
