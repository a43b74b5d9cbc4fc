// MemEnv: files in memory with a second, "durable" image per file and per directory, so a
// test can ask what a power cut would leave (mqstore/mem_env.h).
//
// Simplification: directories are durable as soon as they are created; file entries (create,
// rename, remove) are durable only after SyncDir of their parent.
#include "mqstore/mem_env.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <shared_mutex>

namespace mqstore {
namespace {

constexpr size_t kPage = 4096;

std::string Normalize(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

struct FileState {
  std::mutex mu;
  std::unique_ptr<char[]> buf;
  size_t size = 0;
  size_t capacity = 0;
  int map_count = 0;
  std::vector<char> durable;  // contents a crash would leave

  // REQUIRES: mu held.
  bool Grow(size_t new_size) {
    if (new_size <= capacity) {
      if (new_size > size) std::memset(buf.get() + size, 0, new_size - size);
      size = std::max(size, new_size);
      return true;
    }
    if (map_count > 0) return false;  // mapped memory must not move
    size_t cap = std::max(new_size, capacity * 2);
    auto nb = std::make_unique<char[]>(cap);
    if (size) std::memcpy(nb.get(), buf.get(), size);
    std::memset(nb.get() + size, 0, cap - size);
    buf = std::move(nb);
    capacity = cap;
    size = new_size;
    return true;
  }
};

class MemEnvImpl;

class MemMappedRegion final : public MappedRegion {
 public:
  MemMappedRegion(std::shared_ptr<FileState> state, char* data, size_t size,
                  std::shared_mutex* durability_mu)
      : state_(std::move(state)), data_(data), size_(size), durability_mu_(durability_mu) {}
  ~MemMappedRegion() override {
    std::lock_guard<std::mutex> l(state_->mu);
    --state_->map_count;
  }
  char* data() const override { return data_; }
  size_t size() const override { return size_; }
  Status Sync(size_t offset, size_t len) override {
    std::shared_lock<std::shared_mutex> durability(*durability_mu_);
    std::lock_guard<std::mutex> l(state_->mu);
    size_t end = std::min(offset + len, state_->size);
    if (state_->durable.size() < state_->size) state_->durable.resize(state_->size, 0);
    if (end > offset) std::memcpy(state_->durable.data() + offset, data_ + offset, end - offset);
    return Status::OK();
  }
  void Prefault(size_t, size_t) override {}
  void SetReadAhead(size_t, size_t, bool) override {}
  void Release(size_t, size_t) override {}

 private:
  std::shared_ptr<FileState> state_;
  char* data_;
  size_t size_;
  std::shared_mutex* durability_mu_;
};

class MemFile final : public File {
 public:
  MemFile(std::string path, std::shared_ptr<FileState> state, MemEnvImpl* env, bool writable,
          bool direct)
      : File(std::move(path)),
        state_(std::move(state)),
        env_(env),
        writable_(writable),
        direct_(direct) {}

  Status Read(uint64_t offset, size_t n, char* scratch, size_t* bytes_read) override {
    std::lock_guard<std::mutex> l(state_->mu);
    size_t avail = offset >= state_->size ? 0 : state_->size - offset;
    size_t k = std::min(n, avail);
    if (k) std::memcpy(scratch, state_->buf.get() + offset, k);
    *bytes_read = k;
    return Status::OK();
  }
  Status Write(uint64_t offset, std::string_view data) override;
  Status Sync() override;
  Status Allocate(uint64_t size) override;
  Status Truncate(uint64_t size) override;
  Status ZeroRange(uint64_t offset, uint64_t len) override {
    if (!writable_) return Status::FailedPrecondition("read-only file " + path());
    std::lock_guard<std::mutex> l(state_->mu);
    if (offset < state_->size) {
      std::memset(state_->buf.get() + offset, 0, std::min<uint64_t>(len, state_->size - offset));
    }
    return Status::OK();
  }
  void DropCache(uint64_t, uint64_t) override {}  // no page cache: the buffer is the file
  Result<uint64_t> Size() override {
    std::lock_guard<std::mutex> l(state_->mu);
    return static_cast<uint64_t>(state_->size);
  }
  Result<std::unique_ptr<MappedRegion>> Map(size_t len, bool writable) override;

 private:
  std::shared_ptr<FileState> state_;
  MemEnvImpl* env_;
  bool writable_;
  bool direct_;  // OpenMode::kReadWriteDirect: writes are checked for its alignment
};

class MemFileLock final : public FileLock {
 public:
  MemFileLock(MemEnvImpl* env, std::string path) : env_(env), path_(std::move(path)) {}
  ~MemFileLock() override;

 private:
  MemEnvImpl* env_;
  std::string path_;
};

class MemEnvImpl final : public MemEnv {
 public:
  MemEnvImpl() { dirs_.insert("/"); }

  Result<std::unique_ptr<File>> OpenFile(const std::string& p, OpenMode mode) override {
    std::string path = Normalize(p);
    std::lock_guard<std::mutex> l(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) {
      if (mode != OpenMode::kCreate) return Status::NotFound("open " + path + ": no such file");
      if (!dirs_.count(Parent(path))) return Status::NotFound("open " + path + ": no directory");
      it = files_.emplace(path, std::make_shared<FileState>()).first;
    }
    return std::unique_ptr<File>(std::make_unique<MemFile>(
        path, it->second, this, mode != OpenMode::kReadOnly, mode == OpenMode::kReadWriteDirect));
  }

  bool FileExists(const std::string& p) override {
    std::string path = Normalize(p);
    std::lock_guard<std::mutex> l(mu_);
    return files_.count(path) || dirs_.count(path);
  }

  Result<std::vector<std::string>> GetChildren(const std::string& d) override {
    std::string dir = Normalize(d);
    std::lock_guard<std::mutex> l(mu_);
    if (!dirs_.count(dir)) return Status::NotFound("no directory " + dir);
    std::vector<std::string> out;
    auto collect = [&](const std::string& path) {
      if (path != dir && Parent(path) == dir) out.push_back(path.substr(path.rfind('/') + 1));
    };
    for (const auto& [path, _] : files_) collect(path);
    for (const auto& path : dirs_) collect(path);
    return out;
  }

  Status CreateDir(const std::string& d) override {
    std::string dir = Normalize(d);
    std::lock_guard<std::mutex> l(mu_);
    for (std::string cur = dir; cur != "/" && cur != "."; cur = Parent(cur)) {
      if (files_.count(cur)) return Status::IOError("mkdir " + cur + ": is a file");
      dirs_.insert(cur);
    }
    return Status::OK();
  }

  Status RemoveFile(const std::string& p) override {
    std::string path = Normalize(p);
    std::shared_ptr<FileState> victim;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = files_.find(path);
      if (it == files_.end()) return Status::NotFound("unlink " + path + ": no such file");
      victim = std::move(it->second);
      files_.erase(it);
    }
    Release(Accounted(victim.get()));
    return Status::OK();
  }

  Status RemoveDir(const std::string& d) override {
    std::string dir = Normalize(d);
    std::lock_guard<std::mutex> l(mu_);
    if (!dirs_.count(dir)) return Status::NotFound("rmdir " + dir + ": no such directory");
    for (const auto& [path, _] : files_) {
      if (Parent(path) == dir) return Status::IOError("rmdir " + dir + ": not empty");
    }
    for (const auto& path : dirs_) {
      if (path != dir && Parent(path) == dir)
        return Status::IOError("rmdir " + dir + ": not empty");
    }
    dirs_.erase(dir);
    return Status::OK();
  }

  Status RenameFile(const std::string& f, const std::string& t) override {
    std::string from = Normalize(f), to = Normalize(t);
    std::shared_ptr<FileState> replaced;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = files_.find(from);
      if (it == files_.end()) return Status::NotFound("rename " + from + ": no such file");
      auto state = it->second;
      files_.erase(it);
      auto old = files_.find(to);
      if (old != files_.end()) replaced = std::move(old->second);
      files_[to] = std::move(state);
    }
    if (replaced) Release(Accounted(replaced.get()));
    return Status::OK();
  }

  Status SyncDir(const std::string& d) override {
    std::string dir = Normalize(d);
    std::shared_lock<std::shared_mutex> durability(durability_mu_);
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = durable_files_.begin(); it != durable_files_.end();) {
      if (Parent(it->first) == dir && !files_.count(it->first)) {
        it = durable_files_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [path, state] : files_) {
      if (Parent(path) == dir) durable_files_[path] = state;
    }
    return Status::OK();
  }

  Result<uint64_t> GetFileSize(const std::string& p) override {
    std::string path = Normalize(p);
    std::shared_ptr<FileState> state;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = files_.find(path);
      if (it == files_.end()) return Status::NotFound("stat " + path + ": no such file");
      state = it->second;
    }
    std::lock_guard<std::mutex> l(state->mu);
    return static_cast<uint64_t>(state->size);
  }

  Result<DiskSpace> GetDiskSpace(const std::string&) override {
    std::lock_guard<std::mutex> l(mu_);
    DiskSpace d;
    d.total_bytes = capacity_;
    d.available_bytes = capacity_ > used_ ? capacity_ - used_ : 0;
    return d;
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& p) override {
    std::string path = Normalize(p);
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!locks_.insert(path).second) return Status::FailedPrecondition(path + " is locked");
    }
    auto file = OpenFile(path, OpenMode::kCreate);
    if (!file.ok()) {
      Unlock(path);
      return file.status();
    }
    return std::unique_ptr<FileLock>(std::make_unique<MemFileLock>(this, path));
  }

  void Unlock(const std::string& path) {
    std::lock_guard<std::mutex> l(mu_);
    locks_.erase(path);
  }

  std::unique_ptr<MemEnv> CrashCopy(const CrashOptions& options) override {
    auto copy = std::make_unique<MemEnvImpl>();
    std::mt19937_64 rng(options.seed);
    // A power cut is one instant: no sync may land between copying one file and the next
    // (a store syncing in the background would otherwise yield an image no crash can make,
    // e.g. a later index file's header durable and an earlier one's not).
    std::unique_lock<std::shared_mutex> durability(durability_mu_);
    // File locks are taken after the env lock is released: writers take them in the other
    // order (file, then env for space accounting).
    std::map<std::string, std::shared_ptr<FileState>> durable_files;
    {
      std::lock_guard<std::mutex> l(mu_);
      copy->dirs_ = dirs_;
      copy->capacity_ = capacity_;
      durable_files = durable_files_;
    }
    for (const auto& [path, state] : durable_files) {
      auto fresh = std::make_shared<FileState>();
      std::vector<char> image;
      {
        std::lock_guard<std::mutex> fl(state->mu);
        image = SurvivingImage(*state, options.mode, rng);
      }
      fresh->Grow(image.size());
      if (!image.empty()) std::memcpy(fresh->buf.get(), image.data(), image.size());
      fresh->durable = image;
      copy->used_ += fresh->size;
      copy->files_[path] = fresh;
      copy->durable_files_[path] = fresh;
    }
    return copy;
  }

  // Returns `bytes` of accounted space (a file went away).
  void Release(size_t bytes) {
    std::lock_guard<std::mutex> l(mu_);
    used_ -= std::min<uint64_t>(used_, bytes);
  }

  size_t FileCount() override {
    std::lock_guard<std::mutex> l(mu_);
    return files_.size() + dirs_.size();
  }

  void SetCapacity(uint64_t bytes) override {
    std::lock_guard<std::mutex> l(mu_);
    capacity_ = bytes;
  }

  // Accounts for a file growing from `old_size` to `new_size` (or shrinking); false when
  // growing would pass the capacity.
  bool Reserve(size_t old_size, size_t new_size) {
    std::lock_guard<std::mutex> l(mu_);
    if (new_size <= old_size) {
      used_ -= std::min<uint64_t>(used_, old_size - new_size);
      return true;
    }
    if (used_ + (new_size - old_size) > capacity_) return false;
    used_ += new_size - old_size;
    return true;
  }

  // Held shared by everything that changes what a crash would leave (file and directory
  // syncs), exclusively by CrashCopy. Taken before mu_ and before any file's mutex.
  std::shared_mutex durability_mu_;

 private:
  static size_t Accounted(FileState* s) {
    std::lock_guard<std::mutex> l(s->mu);
    return s->size;
  }

  // What a crash leaves of one file. REQUIRES: state.mu held.
  static std::vector<char> SurvivingImage(const FileState& state, CrashMode mode,
                                          std::mt19937_64& rng) {
    std::vector<char> image = state.durable;
    if (mode == CrashMode::kDropUnsynced) return image;
    size_t cur = state.size;
    size_t span = std::max(cur, image.size());
    auto current_at = [&](size_t i) { return i < cur ? state.buf[i] : '\0'; };
    auto durable_at = [&](size_t i) { return i < image.size() ? image[i] : '\0'; };
    size_t first = span, last = 0;
    for (size_t i = 0; i < span; ++i) {
      if (current_at(i) != durable_at(i) || (i >= image.size()) != (i >= cur)) {
        first = std::min(first, i);
        last = i + 1;
      }
    }
    if (first == span) return image;
    size_t keep_end = image.size();
    if (mode == CrashMode::kTornPrefix) {
      size_t k = first + rng() % (last - first + 1);
      if (k > image.size()) image.resize(k, 0);
      for (size_t i = first; i < k; ++i) image[i] = current_at(i);
      keep_end = std::max(keep_end, std::min(k, cur));
    } else {
      const size_t durable_size = state.durable.size();
      for (size_t page = first / kPage * kPage; page < last; page += kPage) {
        if (rng() & 1) continue;
        size_t end = std::min(page + kPage, last);
        if (end > image.size()) image.resize(end, 0);
        std::vector<size_t> unsynced;
        for (size_t i = page; i < end; ++i) {
          if (i >= durable_size || current_at(i) != state.durable[i]) unsynced.push_back(i);
          image[i] = current_at(i);
        }
        keep_end = std::max(keep_end, std::min(end, cur));
        if (mode != CrashMode::kCorruptUnsynced || unsynced.empty()) continue;
        for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
          size_t at = unsynced[rng() % unsynced.size()];
          image[at] = static_cast<char>(image[at] ^ (1 << (rng() % 8)));
        }
      }
    }
    image.resize(keep_end);
    return image;
  }

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<FileState>> files_;
  std::map<std::string, std::shared_ptr<FileState>> durable_files_;
  std::set<std::string> dirs_;
  std::set<std::string> locks_;
  uint64_t capacity_ = 1ull << 40;
  uint64_t used_ = 0;
};

Status MemFile::Sync() {
  std::shared_lock<std::shared_mutex> durability(env_->durability_mu_);
  std::lock_guard<std::mutex> l(state_->mu);
  state_->durable.assign(state_->buf.get(), state_->buf.get() + state_->size);
  return Status::OK();
}

Result<std::unique_ptr<MappedRegion>> MemFile::Map(size_t len, bool writable) {
  if (writable && !writable_) return Status::FailedPrecondition("read-only file " + path());
  std::lock_guard<std::mutex> l(state_->mu);
  if (len == 0 || len > state_->size) {
    return Status::InvalidArgument("cannot map " + std::to_string(len) + " bytes of " + path());
  }
  ++state_->map_count;
  return std::unique_ptr<MappedRegion>(
      std::make_unique<MemMappedRegion>(state_, state_->buf.get(), len, &env_->durability_mu_));
}

Status MemFile::Write(uint64_t offset, std::string_view data) {
  if (!writable_) return Status::FailedPrecondition("read-only file " + path());
  // As O_DIRECT refuses them (EINVAL), so that a test sees the mistake.
  if (direct_ && (offset % kDirectIoAlignment != 0 || data.size() % kDirectIoAlignment != 0 ||
                  reinterpret_cast<uintptr_t>(data.data()) % kDirectIoAlignment != 0)) {
    return Status::InvalidArgument("direct write to " + path() + " not aligned to " +
                                   std::to_string(kDirectIoAlignment) + " bytes");
  }
  std::lock_guard<std::mutex> l(state_->mu);
  size_t end = offset + data.size();
  if (end > state_->size) {
    if (!env_->Reserve(state_->size, end)) {
      return Status::ResourceExhausted("write " + path() + ": no space left on device");
    }
    if (!state_->Grow(end)) return Status::FailedPrecondition("cannot grow mapped " + path());
  }
  if (!data.empty()) std::memcpy(state_->buf.get() + offset, data.data(), data.size());
  return Status::OK();
}

Status MemFile::Allocate(uint64_t size) {
  if (!writable_) return Status::FailedPrecondition("read-only file " + path());
  std::lock_guard<std::mutex> l(state_->mu);
  if (size <= state_->size) return Status::OK();
  if (!env_->Reserve(state_->size, size)) {
    return Status::ResourceExhausted("fallocate " + path() + ": no space left on device");
  }
  if (!state_->Grow(size)) return Status::FailedPrecondition("cannot grow mapped " + path());
  return Status::OK();
}

Status MemFile::Truncate(uint64_t size) {
  if (!writable_) return Status::FailedPrecondition("read-only file " + path());
  std::lock_guard<std::mutex> l(state_->mu);
  if (!env_->Reserve(state_->size, size)) {
    return Status::ResourceExhausted("ftruncate " + path() + ": no space left on device");
  }
  if (size <= state_->size) {
    state_->size = size;
    return Status::OK();
  }
  if (!state_->Grow(size)) {
    env_->Reserve(size, state_->size);  // give the space back
    return Status::FailedPrecondition("cannot grow mapped " + path());
  }
  return Status::OK();
}

MemFileLock::~MemFileLock() { env_->Unlock(path_); }

}  // namespace

std::unique_ptr<MemEnv> NewMemEnv() { return std::make_unique<MemEnvImpl>(); }

}  // namespace mqstore
