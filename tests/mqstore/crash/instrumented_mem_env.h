// InstrumentedMemEnv: wraps a MemEnv for the crash tests.
//
// Crash points: at the N-th state-changing file operation made by one chosen thread, it takes
// a CrashCopy of the MemEnv *before* that operation runs: "the power went out just before
// operation N". Used to crash the store in the middle of its recovery.
//
// Counted operations: Env::OpenFile(kCreate), CreateDir, RemoveFile, RemoveDir, RenameFile,
// SyncDir, LockFile; File::Write, Sync, Allocate, Truncate, ZeroRange; MappedRegion::Sync.
// Writes through mapped memory are not operations (they cannot be intercepted), but every
// one of them is followed by a counted MappedRegion::Sync or File::Sync before it matters.
//
// Segment removals: it counts removals of commit-log segments, which a running store (past
// Open) should never need.
//
// Sync gate: while closed, syncs of commit-log segment data (msync of their mapping, or
// fdatasync through a descriptor opened on an existing segment; not the sync that creates a
// segment) block (a stuck disk), so tests can check what puts do when durability does
// not come. FailSegmentSyncs makes them fail (EIO); FailSegmentWrites does the same for
// File::Write of segments (the buffered write path).
#ifndef MQSTORE_TESTS_MQSTORE_CRASH_INSTRUMENTED_MEM_ENV_H_
#define MQSTORE_TESTS_MQSTORE_CRASH_INSTRUMENTED_MEM_ENV_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mqstore/mem_env.h"

namespace mqstore::test {

class InstrumentedMemEnv final : public Env {
 public:
  explicit InstrumentedMemEnv(MemEnv* base) : base_(base) {}

  // What a power cut would leave now (MemEnv::CrashCopy).
  std::unique_ptr<MemEnv> CrashCopy(const CrashOptions& options) {
    return base_->CrashCopy(options);
  }
  // Starts counting removals of commit-log segments (RemoveFile of ".../commitlog/<name>").
  void WatchSegmentRemovals() {
    segment_removals_.store(0);
    watch_removals_.store(true);
  }
  int segment_removals() const { return segment_removals_.load(); }

  // Commit-log syncs block from now until OpenSyncGate().
  void CloseSyncGate() {
    std::lock_guard<std::mutex> l(gate_mu_);
    gate_closed_ = true;
  }
  void OpenSyncGate() {
    {
      std::lock_guard<std::mutex> l(gate_mu_);
      gate_closed_ = false;
    }
    gate_cv_.notify_all();
  }
  // While `fail` holds, commit-log syncs return kIOError without syncing.
  void FailSegmentSyncs(bool fail) { fail_syncs_.store(fail); }
  void FailSegmentWrites(bool fail) { fail_writes_.store(fail); }
  // Waits (at most `timeout`) until a commit-log sync is blocked at the closed gate.
  bool WaitForBlockedSync(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> l(gate_mu_);
    return gate_cv_.wait_for(l, timeout, [&] { return blocked_syncs_ > 0; });
  }

  // Starts counting operations of the calling thread; at operation number `target` (0-based)
  // the crash image is taken with `options`.
  void Arm(uint64_t target, CrashOptions options) {
    std::lock_guard<std::mutex> l(mu_);
    armed_thread_ = std::this_thread::get_id();
    armed_ = true;
    count_ = 0;
    target_ = target;
    options_ = options;
    image_.reset();
  }
  // Stops counting. Returns the number of operations counted since Arm.
  uint64_t Disarm() {
    std::lock_guard<std::mutex> l(mu_);
    armed_ = false;
    return count_;
  }
  // The image taken at the target operation; null if the target was never reached.
  std::unique_ptr<MemEnv> TakeImage() {
    std::lock_guard<std::mutex> l(mu_);
    return std::move(image_);
  }

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    if (mode == OpenMode::kCreate) Tick();
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base_->OpenFile(path, mode));
    bool segment = path.find("/commitlog/") != std::string::npos;
    return std::unique_ptr<File>(std::make_unique<CountingFile>(
        this, std::move(file), segment, segment && mode != OpenMode::kCreate));
  }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    return base_->GetChildren(dir);
  }
  Status CreateDir(const std::string& dir) override {
    Tick();
    return base_->CreateDir(dir);
  }
  Status RemoveFile(const std::string& path) override {
    Tick();
    if (watch_removals_.load() && path.find("/commitlog/") != std::string::npos) {
      ++segment_removals_;
    }
    return base_->RemoveFile(path);
  }
  Status RemoveDir(const std::string& dir) override {
    Tick();
    return base_->RemoveDir(dir);
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    Tick();
    return base_->RenameFile(from, to);
  }
  Status SyncDir(const std::string& dir) override {
    Tick();
    return base_->SyncDir(dir);
  }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    return base_->GetFileSize(path);
  }
  Result<DiskSpace> GetDiskSpace(const std::string& path) override {
    return base_->GetDiskSpace(path);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    Tick();
    return base_->LockFile(path);
  }

 private:
  class CountingRegion final : public MappedRegion {
   public:
    CountingRegion(InstrumentedMemEnv* env, std::unique_ptr<MappedRegion> base, bool gated)
        : env_(env), base_(std::move(base)), gated_(gated) {}
    char* data() const override { return base_->data(); }
    size_t size() const override { return base_->size(); }
    Status Sync(size_t offset, size_t len) override {
      env_->Tick();
      if (gated_) {
        env_->PassSyncGate();
        if (env_->fail_syncs_.load()) return Status::IOError("msync: injected EIO");
      }
      return base_->Sync(offset, len);
    }
    void Prefault(size_t offset, size_t len) override { base_->Prefault(offset, len); }
    void Release(size_t offset, size_t len) override { base_->Release(offset, len); }

   private:
    InstrumentedMemEnv* env_;
    std::unique_ptr<MappedRegion> base_;
    bool gated_;  // a commit-log segment
  };

  class CountingFile final : public File {
   public:
    CountingFile(InstrumentedMemEnv* env, std::unique_ptr<File> base, bool segment,
                 bool gated)
        : File(base->path()), env_(env), base_(std::move(base)), segment_(segment),
          gated_(gated) {}
    Status Read(uint64_t offset, size_t n, char* scratch, size_t* bytes_read) override {
      return base_->Read(offset, n, scratch, bytes_read);
    }
    Status Write(uint64_t offset, std::string_view data) override {
      env_->Tick();
      if (segment_ && env_->fail_writes_.load()) return Status::IOError("pwrite: injected EIO");
      return base_->Write(offset, data);
    }
    Status Sync() override {
      env_->Tick();
      if (gated_) {
        env_->PassSyncGate();
        if (env_->fail_syncs_.load()) return Status::IOError("fdatasync: injected EIO");
      }
      return base_->Sync();
    }
    Status Allocate(uint64_t size) override {
      env_->Tick();
      return base_->Allocate(size);
    }
    Status Truncate(uint64_t size) override {
      env_->Tick();
      return base_->Truncate(size);
    }
    Status ZeroRange(uint64_t offset, uint64_t len) override {
      env_->Tick();
      return base_->ZeroRange(offset, len);
    }
    Result<uint64_t> Size() override { return base_->Size(); }
    Result<std::unique_ptr<MappedRegion>> Map(size_t len, bool writable) override {
      MQ_ASSIGN_OR_RETURN(std::unique_ptr<MappedRegion> region, base_->Map(len, writable));
      return std::unique_ptr<MappedRegion>(
          std::make_unique<CountingRegion>(env_, std::move(region), segment_));
    }

   private:
    InstrumentedMemEnv* env_;
    std::unique_ptr<File> base_;
    bool segment_;  // a commit-log segment
    bool gated_;    // ... opened to write records, not to be created
  };

  void PassSyncGate() {
    std::unique_lock<std::mutex> l(gate_mu_);
    if (!gate_closed_) return;
    ++blocked_syncs_;
    gate_cv_.notify_all();
    gate_cv_.wait(l, [&] { return !gate_closed_; });
    --blocked_syncs_;
  }

  // Counts one operation of the armed thread; takes the image at the target.
  void Tick() {
    std::lock_guard<std::mutex> l(mu_);
    if (!armed_ || std::this_thread::get_id() != armed_thread_) return;
    if (count_++ == target_) {
      image_ = base_->CrashCopy(options_);
    }
  }

  MemEnv* const base_;
  std::atomic<bool> watch_removals_{false};
  std::atomic<int> segment_removals_{0};
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool gate_closed_ = false;  // GUARDED_BY(gate_mu_)
  std::atomic<bool> fail_syncs_{false};
  std::atomic<bool> fail_writes_{false};
  int blocked_syncs_ = 0;  // GUARDED_BY(gate_mu_)
  std::mutex mu_;
  bool armed_ = false;
  std::thread::id armed_thread_;
  uint64_t count_ = 0;
  uint64_t target_ = 0;
  CrashOptions options_;
  std::unique_ptr<MemEnv> image_;
};

}  // namespace mqstore::test

#endif  // MQSTORE_TESTS_MQSTORE_CRASH_INSTRUMENTED_MEM_ENV_H_
