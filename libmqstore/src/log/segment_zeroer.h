// SegmentZeroer: writes zeros into a commit-log segment, for SYNC_FLUSH's zero-ahead (ADR
// 0014): past the page cache where the file system allows it (O_DIRECT, whole pages), else
// through the cache a page per write (ADR 0018). It knows nothing of the log: the caller
// chooses the ranges, and keeps them clear of records.
//
// Through a descriptor of its own, never the flusher's: the kernel reports a failed
// write-back once per descriptor, to whichever fdatasync or sync_file_range looks first.
// Were it the flusher's, a failed write-back of records met here would leave the flusher's
// next fdatasync returning OK, which would acknowledge records the disk lost.
#ifndef MQSTORE_LOG_SEGMENT_ZEROER_H_
#define MQSTORE_LOG_SEGMENT_ZEROER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "mqstore/env.h"
#include "mqstore/status.h"

namespace mqstore {

class SegmentZeroer {
 public:
  explicit SegmentZeroer(Env* env) : env_(env) {}

  // Opens the segment at `path`: directly unless a direct write was refused before.
  Status Open(const std::string& path);
  // Whether writes go past the page cache: then Write takes whole pages only.
  bool direct() const { return direct_; }
  // The most bytes one Write should take (one hold of the caller's lock).
  uint64_t piece_bytes() const;
  // Zeros file bytes [from, to). kNotSupported when the file system opened the file for
  // direct writes but refuses them: from then on Open goes through the page cache.
  Status Write(uint64_t from, uint64_t to);
  // Through the page cache: writes [from, to) back to the disk now (File::WriteBack).
  Status WriteBack(uint64_t from, uint64_t to) { return file_->WriteBack(from, to - from); }
  // The device's cache, and the block map the writes changed.
  Status Sync() { return file_->Sync(); }

 private:
  Env* const env_;
  std::atomic<bool> direct_refused_{false};  // by the file system, once: for good
  std::unique_ptr<File> file_;
  bool direct_ = false;
};

}  // namespace mqstore

#endif  // MQSTORE_LOG_SEGMENT_ZEROER_H_
