// The 20-byte entry slots of one consume queue's files (docs/format/consume_queue.md), and
// the iterator over them behind ConsumeQueueIterator (include/mqstore/inspect.h).
#ifndef MQSTORE_INSPECT_QUEUE_SLOTS_H_
#define MQSTORE_INSPECT_QUEUE_SLOTS_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "inspect/mapped_store_file.h"
#include "mqstore/inspect.h"

namespace mqstore {

class QueueSlots {
 public:
  // Maps the files of `queue` that follow each other without a gap, starting with the
  // first; a file after a gap (or of a size that is no multiple of 20) ends the run.
  // `queue` must outlive the result.
  static Result<QueueSlots> Open(FileCache* cache, const QueueFiles& queue);

  int64_t first_offset() const { return first_; }
  int64_t end_offset() const { return end_; }  // one past the last slot of the run
  size_t file_count() const { return files_.size(); }

  // REQUIRES: first_offset() <= q < end_offset().
  QueueEntryInfo At(int64_t q) const;
  bool IsEmpty(int64_t q) const;  // all 20 bytes are zero

  // Where ConsumeQueue::Load ends the queue: the first slot whose size is not positive,
  // whose offset is negative, or whose record starts before the previous one ends.
  struct LoadedEnd {
    int64_t max_offset = 0;
    int64_t last_record_end = 0;
  };
  LoadedEnd FindLoadedEnd() const;
  // One past the last slot that is not all zeros (first_offset() when none).
  int64_t WrittenEnd() const;

 private:
  struct Run {
    const QueueFile* file;
    std::shared_ptr<const MappedStoreFile> data;
  };
  const Run& RunFor(int64_t byte) const;

  std::vector<Run> files_;
  int64_t first_ = 0;
  int64_t end_ = 0;
};

class QueueIteratorImpl final : public ConsumeQueueIterator {
 public:
  // Iterates [max(from, first), loaded end).
  QueueIteratorImpl(QueueSlots slots, int64_t from);

  bool Valid() const override { return next_ < end_; }
  const QueueEntryInfo& entry() const override { return entry_; }
  void Next() override;
  Status status() const override { return Status::OK(); }

 private:
  void Load();

  QueueSlots slots_;
  int64_t next_;
  int64_t end_;
  QueueEntryInfo entry_;
};

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_QUEUE_SLOTS_H_
