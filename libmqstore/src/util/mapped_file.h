// MappedFile: a fixed-size file mapped whole, read and written through memory.
//
// Commit-log segments and consume-queue files are both MappedFiles. Created files are
// fully allocated on disk (fallocate) before use: writing into a sparse mapping costs a
// block allocation per page fault and is an order of magnitude slower.
//
// A MappedFile is shared (std::shared_ptr) between its owner and readers holding views into
// it; the mapping lives until the last holder lets go, even after the file is removed.
// It keeps no file descriptor open (a mapping does not need one), so the number of files a
// store can hold is bounded by the kernel's map count, not by the descriptor limit; the
// exception is a file being written with Write(), which keeps one until CloseWriter().
#ifndef MQSTORE_UTIL_MAPPED_FILE_H_
#define MQSTORE_UTIL_MAPPED_FILE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "mqstore/env.h"

namespace mqstore {

class MappedFile {
 public:
  // Creates `path` at exactly `size` bytes (zeros), makes size and directory entry durable.
  static Result<std::shared_ptr<MappedFile>> Create(Env* env, const std::string& path, int64_t base,
                                                    uint64_t size);
  // Opens an existing file; kCorruption when its size is not `size`.
  static Result<std::shared_ptr<MappedFile>> Open(Env* env, const std::string& path, int64_t base,
                                                  uint64_t size, bool writable);

  const std::string& path() const { return path_; }
  // The logical offset of the file's first byte (its name).
  int64_t base() const { return base_; }
  uint64_t size() const { return size_; }
  int64_t end() const { return base_ + static_cast<int64_t>(size_); }
  char* data() const { return region_->data(); }
  // Bytes [pos, pos + len) of the file, clipped to its size.
  std::string_view View(uint64_t pos, uint64_t len) const {
    if (pos >= size_) return {};
    return std::string_view(region_->data() + pos, std::min<uint64_t>(len, size_ - pos));
  }

  // Makes file bytes [from, to) durable.
  Status Sync(uint64_t from, uint64_t to) {
    return to > from ? region_->Sync(from, to - from) : Status::OK();
  }
  // Sync for bytes written through the mapping whose writer has moved on: drops the whole
  // pages of [from, to) from the page tables first, all but the one holding `to` (it may
  // still be written), then syncs. Writeback write-protects every dirty page still mapped
  // writable with one TLB flush per page, a hypercall in a guest; one release flushes the
  // range once (docs/design/0015-unmap-before-writeback.md). Readers fault the pages back
  // in from the page cache, read-only and clean.
  Status SyncReleasingPages(uint64_t from, uint64_t to) {
    constexpr uint64_t kPage = 4096;
    Release(from / kPage * kPage, to / kPage * kPage);
    return Sync(from, to);
  }
  void Prefault(uint64_t from, uint64_t to) {
    if (to > from) region_->Prefault(from, to - from);
  }
  void Release(uint64_t from, uint64_t to) {
    if (to > from) region_->Release(from, to - from);
  }
  // MappedRegion::SetReadAhead for file bytes [from, to). A created file starts without
  // readahead: writes fill its pages.
  void SetReadAhead(uint64_t from, uint64_t to, bool enabled) {
    if (to > from) region_->SetReadAhead(from, to - from, enabled);
  }
  // Asks the kernel to drop the clean cached pages of file bytes [from, to), so that their
  // memory is reused (a hint). Pages still mapped (here or elsewhere) stay: Release first.
  // Faults in the range read ahead again (a created file's mapping does not).
  void DropCache(uint64_t from, uint64_t to);
  // Hint for bytes written through the mapping whose writer has moved on: drops the whole
  // pages of [from, to) from the page tables (as SyncReleasingPages) and starts writing them
  // back without waiting (File::StartWriteBack), so that the next Sync has little left to do.
  void StartWriteBack(uint64_t from, uint64_t to);
  // The write path that bypasses the mapping (the commit log's buffered mode): pwrite
  // through a descriptor opened on first use and kept until CloseWriter(). Readers see the
  // bytes through the mapping at once: both are views of the same page cache.
  Status Write(uint64_t pos, std::string_view data);
  // Write of `data` then `zeros` zero bytes, as one write (File::WriteGather).
  // REQUIRES: zeros <= kAlignedZerosBytes.
  Status WriteThenZeros(uint64_t pos, std::string_view data, size_t zeros);
  // Makes every completed write of the file durable, through either path (fdatasync).
  Status SyncFile();
  // Drops the descriptor kept by Write; a later Write or SyncFile opens it again.
  void CloseWriter();

  // Zeros [pos, size) and makes that durable: what a crash left after a recovered end must
  // never be read as records later.
  Status ZeroFromAndSync(uint64_t pos);

 private:
  MappedFile(Env* env, std::string path, std::unique_ptr<MappedRegion> region, int64_t base,
             uint64_t size)
      : env_(env), path_(std::move(path)), region_(std::move(region)), base_(base), size_(size) {}

  Result<std::shared_ptr<File>> Writer();

  Env* env_;
  std::string path_;
  std::unique_ptr<MappedRegion> region_;
  int64_t base_;
  uint64_t size_;
  std::mutex writer_mu_;
  std::shared_ptr<File> writer_;  // GUARDED_BY(writer_mu_)
};

// Directory part of a path ("a/b/c" -> "a/b").
std::string DirName(const std::string& path);

}  // namespace mqstore

#endif  // MQSTORE_UTIL_MAPPED_FILE_H_
