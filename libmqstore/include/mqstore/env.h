// Env: the one seam through which libmqstore touches files, directories and time.
//
// Every file operation of the store goes through an Env so that tests can replace the
// operating system: NewMemEnv() (mem_env.h) keeps files in memory and remembers what was
// synced, so a test can cut the power at any point and reopen the store on what survived.
//
// Durability contract the store relies on (and that MemEnv models):
//   - File::Write / writes through a MappedRegion are visible to readers at once but are
//     durable only after File::Sync or MappedRegion::Sync covering them returns OK.
//   - A newly created, renamed or removed directory entry is durable only after
//     Env::SyncDir on its parent directory returns OK.
//   - On POSIX a failed write-back is reported once per open File (descriptor), by the
//     first Sync or WriteBack through it that looks: a File whose Sync must not miss an
//     error is never synced or written back through by anyone else.
//
// Thread safety: an Env is safe for concurrent use. A File may be used by several threads
// for positional reads and writes to disjoint ranges; Close happens in the destructor.
#ifndef MQSTORE_ENV_H_
#define MQSTORE_ENV_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/status.h"

namespace mqstore {

// A shared, memory-mapped view of a file range. Unmapped in the destructor.
class MappedRegion {
 public:
  virtual ~MappedRegion() = default;
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;

  virtual char* data() const = 0;
  virtual size_t size() const = 0;

  // Makes bytes [offset, offset + len) of the region durable (msync(MS_SYNC) on POSIX).
  virtual Status Sync(size_t offset, size_t len) = 0;
  // Hint: fault in pages of [offset, offset + len) for writing before they are needed.
  virtual void Prefault(size_t offset, size_t len) = 0;
  // Hint: whether a fault in [offset, offset + len) reads ahead, filling the page cache in
  // large folios, or fills the one page it needs. Pages that writes fill are cheaper filled
  // one at a time (docs/design/0018-single-page-cache-fill.md); pages read back from the
  // disk want readahead. A new mapping reads ahead.
  virtual void SetReadAhead(size_t offset, size_t len, bool enabled) = 0;
  // Hint: drop [offset, offset + len) from this process's page tables (the data stays in the
  // page cache and on disk; the next access faults it back). Keeps resident memory bounded.
  virtual void Release(size_t offset, size_t len) = 0;

 protected:
  MappedRegion() = default;
};

class File {
 public:
  virtual ~File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // Reads up to `n` bytes at `offset` into `scratch`; `*bytes_read` < n only at end of file.
  virtual Status Read(uint64_t offset, size_t n, char* scratch, size_t* bytes_read) = 0;
  // Writes all of `data` at `offset`, extending the file when needed.
  virtual Status Write(uint64_t offset, std::string_view data) = 0;
  // Writes `first` and then `second` at `offset` as one write (pwritev on POSIX): a page
  // they fill together is never filled in halves (a half-page write of an uncached page
  // reads it from the disk first). The default joins them and calls Write.
  virtual Status WriteGather(uint64_t offset, std::string_view first, std::string_view second) {
    std::string joined;
    joined.reserve(first.size() + second.size());
    joined.append(first).append(second);
    return Write(offset, joined);
  }
  // Makes every completed write of this file durable (fdatasync on POSIX).
  virtual Status Sync() = 0;
  // Reserves disk blocks so that the file is at least `size` bytes long (fallocate).
  // Returns kResourceExhausted when the disk is full.
  virtual Status Allocate(uint64_t size) = 0;
  virtual Status Truncate(uint64_t size) = 0;
  // Turns [offset, offset + len) into zeros without changing the file size.
  virtual Status ZeroRange(uint64_t offset, uint64_t len) = 0;
  // Hint: the cached pages of [offset, offset + len) will not be needed soon; clean ones that
  // no process maps may be dropped from the page cache (posix_fadvise DONTNEED on POSIX), so
  // that their memory is reused. Data is never lost: the next read comes from disk.
  virtual void DropCache(uint64_t offset, uint64_t len) = 0;
  // Writes the dirty cached pages of [offset, offset + len) to the disk now and waits for
  // them (sync_file_range on POSIX). Not a durability promise: no metadata and no device
  // cache flush; only Sync() is one. But an error it returns must be treated like a failed
  // Sync: on POSIX it has consumed the write-back error that a later Sync through the same
  // descriptor would otherwise have reported. The default does nothing.
  virtual Status WriteBack(uint64_t offset, uint64_t len) {
    (void)offset;
    (void)len;
    return Status::OK();
  }
  // Hint: starts writing the dirty cached pages of [offset, offset + len) to the disk and
  // returns without waiting for them (sync_file_range WRITE on POSIX), so that a later
  // Sync finds less to write. Consumes no write-back error: the Sync that follows on any
  // descriptor reports it. The default does nothing.
  virtual void StartWriteBack(uint64_t offset, uint64_t len) {
    (void)offset;
    (void)len;
  }
  virtual Result<uint64_t> Size() = 0;
  // Maps [0, len) of the file; `len` must not exceed the file size.
  virtual Result<std::unique_ptr<MappedRegion>> Map(size_t len, bool writable) = 0;

  const std::string& path() const { return path_; }

 protected:
  explicit File(std::string path) : path_(std::move(path)) {}

 private:
  std::string path_;
};

// Held while a store directory is open; released in the destructor.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

enum class OpenMode {
  kReadOnly,   // must exist
  kReadWrite,  // must exist
  kCreate,     // read-write; created empty when missing
  // Read-write (must exist), writing to the disk past the page cache (O_DIRECT on POSIX).
  // The offset, length and memory of every write must be multiples of kDirectIoAlignment.
  // Pages of the range that are cached are dropped or left stale, so it is only for
  // ranges nobody reads through the cache (zeros ahead of a log's end). kNotSupported where
  // the file system refuses it: at the open, or (some do) at the first write.
  kReadWriteDirect,
};

// The alignment of OpenMode::kReadWriteDirect writes: a page, and a multiple of every
// logical block size in use.
inline constexpr size_t kDirectIoAlignment = 4096;

struct DiskSpace {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX environment. Never deleted.
  static Env* Default();

  // True when paths name files of the real file system: the POSIX Env, or an Env that passes
  // its paths on to it (a test wrapper). Only then does a store open its LMDB metadata, which
  // does its own file I/O.
  virtual bool OnFileSystem() const { return false; }

  virtual Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, without "." and "..".
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  // Creates `dir` (and missing parents). OK when it already exists.
  virtual Status CreateDir(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes an empty directory.
  virtual Status RemoveDir(const std::string& dir) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Makes the entries of `dir` (creations, renames, removals) durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  virtual Result<DiskSpace> GetDiskSpace(const std::string& path) = 0;
  // Takes an exclusive lock on `path` (created when missing). kFailedPrecondition when another
  // holder (another process, or another open store in this process) has it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// Wall-clock time for store timestamps. Injectable so tests control time.
class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMillis() = 0;
  // The system clock. Never deleted.
  static Clock* System();
};

}  // namespace mqstore

#endif  // MQSTORE_ENV_H_
