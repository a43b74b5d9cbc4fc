// The commit-log walk behind CommitLogIterator (include/mqstore/inspect.h).
#ifndef MQSTORE_INSPECT_LOG_ITERATOR_H_
#define MQSTORE_INSPECT_LOG_ITERATOR_H_

#include <memory>
#include <vector>

#include "inspect/mapped_store_file.h"
#include "mqstore/inspect.h"

namespace mqstore {

// Describes the position `offset` of `segment`, whose bytes are `data`.
LogEntry DescribeLogPosition(const SegmentFile& segment, std::string_view data, int64_t offset);

class LogIteratorImpl final : public CommitLogIterator {
 public:
  // `segments` (sorted) must outlive the iterator.
  LogIteratorImpl(FileCache* cache, const std::vector<SegmentFile>* segments)
      : cache_(cache), segments_(segments) {}

  // Positions at exactly `offset`, which recovery treats as a record boundary.
  void SeekExact(int64_t offset);
  // Positions at the first entry starting at or after `offset`, walking from the start of
  // the segment holding it (segment starts are the only boundaries known without a walk).
  void SeekAtOrAfter(int64_t offset);

  bool Valid() const override { return valid_; }
  const LogEntry& entry() const override { return entry_; }
  void Next() override;
  Status status() const override { return status_; }

 private:
  // Fills entry_ for (segment_, pos_).
  void Load();

  FileCache* const cache_;
  const std::vector<SegmentFile>* const segments_;
  size_t segment_ = 0;  // index into *segments_; == size() past the last one
  int64_t pos_ = 0;
  std::shared_ptr<const MappedStoreFile> file_;  // pins entry_'s views
  bool valid_ = false;
  LogEntry entry_;
  Status status_;
};

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_LOG_ITERATOR_H_
