// The POSIX Env: files through pread/pwrite/fdatasync, mappings through mmap/msync.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>

#include "mqstore/env.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace mqstore {
namespace {

Status PosixError(const std::string& context, int err) {
  std::string msg = context + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status::ResourceExhausted(msg);
  if (err == ENOENT) return Status::NotFound(msg);
  return Status::IOError(msg);
}

size_t PageSize() {
  static const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return kPage;
}

class PosixMappedRegion final : public MappedRegion {
 public:
  PosixMappedRegion(char* base, size_t size, std::string path)
      : base_(base), size_(size), path_(std::move(path)) {}
  ~PosixMappedRegion() override { munmap(base_, size_); }

  char* data() const override { return base_; }
  size_t size() const override { return size_; }

  Status Sync(size_t offset, size_t len) override {
    if (len == 0) return Status::OK();
    size_t start = offset & ~(PageSize() - 1);
    if (msync(base_ + start, offset + len - start, MS_SYNC) != 0) {
      return PosixError("msync " + path_, errno);
    }
    return Status::OK();
  }
  void Prefault(size_t offset, size_t len) override {
    // Every page the range touches, partly or wholly: a page left out at each end of a step
    // would be faulted in by the writer later.
    const size_t page = PageSize();
    size_t start = offset & ~(page - 1);
    size_t end = (std::min(size_, offset + len) + page - 1) & ~(page - 1);
    if (end > start) madvise(base_ + start, end - start, MADV_POPULATE_WRITE);  // a hint
  }
  void SetReadAhead(size_t offset, size_t len, bool enabled) override {
    Advise(offset, len, enabled ? MADV_NORMAL : MADV_RANDOM);
  }
  void Release(size_t offset, size_t len) override { Advise(offset, len, MADV_DONTNEED); }

 private:
  // On the whole pages inside [offset, offset + len): a page partly outside may be in use.
  void Advise(size_t offset, size_t len, int advice) {
    size_t start = (offset + PageSize() - 1) & ~(PageSize() - 1);
    size_t end = std::min(size_, offset + len) & ~(PageSize() - 1);
    if (end > start) madvise(base_ + start, end - start, advice);  // a hint: errors ignored
  }

  char* base_;
  size_t size_;
  std::string path_;
};

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd, bool writable, bool direct = false)
      : File(std::move(path)), fd_(fd), writable_(writable), direct_(direct) {}
  ~PosixFile() override { close(fd_); }

  Status Read(uint64_t offset, size_t n, char* scratch, size_t* bytes_read) override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("read " + path(), errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    *bytes_read = done;
    return Status::OK();
  }

  Status Write(uint64_t offset, std::string_view data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t r =
          pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        // Some file systems open with O_DIRECT and refuse the writes.
        if (direct_ && errno == EINVAL) {
          return Status::NotSupported("direct write to " + path() + ": refused (" +
                                      std::strerror(errno) + ")");
        }
        return PosixError("write " + path(), errno);
      }
      done += static_cast<size_t>(r);
    }
    return Status::OK();
  }

  Status WriteGather(uint64_t offset, std::string_view first, std::string_view second) override {
    iovec pieces[2] = {{const_cast<char*>(first.data()), first.size()},
                       {const_cast<char*>(second.data()), second.size()}};
    ssize_t r;
    do {
      r = pwritev(fd_, pieces, 2, static_cast<off_t>(offset));
    } while (r < 0 && errno == EINTR);
    if (r < 0) return PosixError("write " + path(), errno);
    // A short write (rare: a signal, a full disk) goes on piece by piece.
    const size_t done = static_cast<size_t>(r);
    if (done < first.size()) {
      MQ_RETURN_IF_ERROR(Write(offset + done, first.substr(done)));
      return Write(offset + first.size(), second);
    }
    return Write(offset + done, second.substr(done - first.size()));
  }

  Status Sync() override {
    if (fdatasync(fd_) != 0) return PosixError("fdatasync " + path(), errno);
    return Status::OK();
  }

  Status Allocate(uint64_t size) override {
    int r = fallocate(fd_, 0, 0, static_cast<off_t>(size));
    if (r == 0) return Status::OK();
    if (errno != EOPNOTSUPP && errno != ENOSYS) return PosixError("fallocate " + path(), errno);
    // File systems without fallocate (tmpfs on old kernels): extend and let writes allocate.
    struct stat st;
    if (fstat(fd_, &st) != 0) return PosixError("fstat " + path(), errno);
    if (static_cast<uint64_t>(st.st_size) >= size) return Status::OK();
    return Truncate(size);
  }

  Status Truncate(uint64_t size) override {
    if (ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return PosixError("ftruncate " + path(), errno);
    }
    return Status::OK();
  }

  void DropCache(uint64_t offset, uint64_t len) override {
    if (len > 0) {
      posix_fadvise(fd_, static_cast<off_t>(offset), static_cast<off_t>(len),
                    POSIX_FADV_DONTNEED);  // a hint: errors ignored
    }
  }

  Status WriteBack(uint64_t offset, uint64_t len) override {
    if (len > 0 && sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(len),
                                   SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                       SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
      return PosixError("sync_file_range " + path(), errno);
    }
    return Status::OK();
  }

  void StartWriteBack(uint64_t offset, uint64_t len) override {
    // Without SYNC_FILE_RANGE_WAIT_AFTER the call reads no write-back error (the kernel
    // checks them only when it waits), so the Sync that follows still reports it.
    if (len > 0) {
      (void)sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(len),
                            SYNC_FILE_RANGE_WRITE);
    }
  }

  Status ZeroRange(uint64_t offset, uint64_t len) override {
    if (len == 0) return Status::OK();
    if (fallocate(fd_, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(len)) == 0) {
      return Status::OK();
    }
    if (fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(len)) == 0) {
      return Status::OK();
    }
    // Fallback: write zeros.
    static const std::string kZeros(1 << 16, '\0');
    for (uint64_t done = 0; done < len;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(kZeros.size(), len - done));
      MQ_RETURN_IF_ERROR(Write(offset + done, std::string_view(kZeros.data(), n)));
      done += n;
    }
    return Status::OK();
  }

  Result<uint64_t> Size() override {
    struct stat st;
    if (fstat(fd_, &st) != 0) return PosixError("fstat " + path(), errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<std::unique_ptr<MappedRegion>> Map(size_t len, bool writable) override {
    if (writable && !writable_) {
      return Status::FailedPrecondition("cannot map read-only file " + path() + " writable");
    }
    if (len == 0) return Status::InvalidArgument("cannot map 0 bytes of " + path());
    void* p = mmap(nullptr, len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) return PosixError("mmap " + path(), errno);
    return std::unique_ptr<MappedRegion>(
        std::make_unique<PosixMappedRegion>(static_cast<char*>(p), len, path()));
  }

 private:
  int fd_;
  bool writable_;
  bool direct_;  // opened with O_DIRECT
};

// flock() locks are per open file description, so two opens in one process would conflict
// only if we track them ourselves: the set guards against opening one store twice here.
std::mutex g_locks_mu;
std::set<std::string> g_locked_paths;

class PosixFileLock final : public FileLock {
 public:
  PosixFileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFileLock() override {
    flock(fd_, LOCK_UN);
    close(fd_);
    std::lock_guard<std::mutex> l(g_locks_mu);
    g_locked_paths.erase(path_);
  }

 private:
  int fd_;
  std::string path_;
};

class PosixEnv final : public Env {
 public:
  bool OnFileSystem() const override { return true; }

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::kReadOnly:
        flags |= O_RDONLY;
        break;
      case OpenMode::kReadWrite:
        flags |= O_RDWR;
        break;
      case OpenMode::kCreate:
        flags |= O_RDWR | O_CREAT;
        break;
      case OpenMode::kReadWriteDirect:
        flags |= O_RDWR | O_DIRECT;
        break;
    }
    int fd = open(path.c_str(), flags, 0644);
    if (fd < 0 && mode == OpenMode::kReadWriteDirect && errno == EINVAL) {
      return Status::NotSupported("open " + path + " with O_DIRECT: the file system refuses it");
    }
    if (fd < 0) return PosixError("open " + path, errno);
    return std::unique_ptr<File>(std::make_unique<PosixFile>(path, fd, mode != OpenMode::kReadOnly,
                                                             mode == OpenMode::kReadWriteDirect));
  }

  bool FileExists(const std::string& path) override { return access(path.c_str(), F_OK) == 0; }

  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return PosixError("opendir " + dir, errno);
    std::vector<std::string> names;
    while (struct dirent* e = readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      names.emplace_back(e->d_name);
    }
    closedir(d);
    return names;
  }

  Status CreateDir(const std::string& dir) override {
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
      if (pos != dir.size() && dir[pos] != '/') continue;
      std::string prefix = dir.substr(0, pos);
      if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        return PosixError("mkdir " + prefix, errno);
      }
    }
    return Status::OK();
  }

  Status RemoveFile(const std::string& path) override {
    if (unlink(path.c_str()) != 0) return PosixError("unlink " + path, errno);
    return Status::OK();
  }

  Status RemoveDir(const std::string& dir) override {
    if (rmdir(dir.c_str()) != 0) return PosixError("rmdir " + dir, errno);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (rename(from.c_str(), to.c_str()) != 0) return PosixError("rename " + from, errno);
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open dir " + dir, errno);
    int r = fsync(fd);
    int err = errno;
    close(fd);
    if (r != 0) return PosixError("fsync dir " + dir, err);
    return Status::OK();
  }

  Result<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return PosixError("stat " + path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<DiskSpace> GetDiskSpace(const std::string& path) override {
    struct statvfs st;
    if (statvfs(path.c_str(), &st) != 0) return PosixError("statvfs " + path, errno);
    DiskSpace d;
    d.total_bytes = static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
    d.available_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
    return d;
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    {
      std::lock_guard<std::mutex> l(g_locks_mu);
      if (!g_locked_paths.insert(path).second) {
        return Status::FailedPrecondition(path + " is locked by this process");
      }
    }
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      if (fd >= 0) close(fd);
      std::lock_guard<std::mutex> l(g_locks_mu);
      g_locked_paths.erase(path);
      if (err == EWOULDBLOCK) {
        return Status::FailedPrecondition(path + " is locked by another process");
      }
      return PosixError("lock " + path, err);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd, path));
  }
};

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv;
  return env;
}

Clock* Clock::System() {
  static SystemClock* clock = new SystemClock;
  return clock;
}

}  // namespace mqstore
