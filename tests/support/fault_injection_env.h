// FaultInjectionEnv: an Env for tests that makes the disk misbehave on purpose.
//
// It wraps a MemEnv, which remembers what was made durable (file data and directory entries),
// and adds:
//   - Power cuts. CrashCopy(CrashOptions) is what a power cut would leave now: unsynced data
//     dropped, a random prefix of it kept (torn writes), random pages of it kept, or random
//     pages kept with bits flipped (mem_env.h, CrashMode). Seeded: a seed replays the image.
//   - Crash points. Arm(n) takes the crash image just before the n-th counted operation of
//     the calling thread: "the power went out in the middle of this (e.g. recovery)".
//   - Errors. InjectErrors(rule) makes the n-th matching operation fail with EIO
//     (kIOError) or ENOSPC (kResourceExhausted), once, or from then on (a dead or full
//     disk), or each matching operation with a seeded probability. ClearErrors() heals.
//   - A stuck or failing commit-log device for flush tests (the sync gate, FailSegment*).
//   - Counts of operations per component (commit log, consume queue, index, checkpoint, ...),
//     so a randomized test can report where its crash points and errors landed.
//
// Counted operations: Env::OpenFile(kCreate), CreateDir, RemoveFile, RemoveDir, RenameFile,
// SyncDir, LockFile; File::Write, Sync, Allocate, Truncate, ZeroRange; MappedRegion::Sync.
// Writes through mapped memory are not operations (they cannot be intercepted), but every
// one of them is followed by a counted MappedRegion::Sync or File::Sync before it matters.
// Errors may also be injected into OpenFile of existing files and File::Map (kOpen, kMap),
// which are not counted as crash points.
#ifndef MQSTORE_TESTS_SUPPORT_FAULT_INJECTION_ENV_H_
#define MQSTORE_TESTS_SUPPORT_FAULT_INJECTION_ENV_H_

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mqstore/mem_env.h"

namespace mqstore::test {

// Operation kinds, as bits for ErrorRule::ops.
enum FaultOp : uint32_t {
  kOpCreate = 1u << 0,  // OpenFile(kCreate)
  kOpOpen = 1u << 1,    // OpenFile of an existing file (not a crash point)
  kOpMap = 1u << 2,     // File::Map (not a crash point)
  kOpCreateDir = 1u << 3,
  kOpRemove = 1u << 4,  // RemoveFile, RemoveDir
  kOpRename = 1u << 5,
  kOpSyncDir = 1u << 6,
  kOpLock = 1u << 7,
  kOpWrite = 1u << 8,
  kOpSync = 1u << 9,  // File::Sync, MappedRegion::Sync
  kOpAllocate = 1u << 10,
  kOpTruncate = 1u << 11,
  kOpZeroRange = 1u << 12,
  kAllOps = (1u << 13) - 1,
  // The operations that take disk space: where ENOSPC comes from.
  kSpaceOps = kOpCreate | kOpCreateDir | kOpWrite | kOpAllocate | kOpTruncate | kOpRename,
};

// The part of the store a path belongs to (for statistics), from its place in the layout
// (docs/format/files.md).
enum class StoreComponent {
  kCommitLog,
  kConsumeQueue,
  kIndex,
  kCheckpoint,
  kTimer,
  kScheduleProgress,
  kOther,  // abort marker, lock, directories
  kCount,
};
const char* StoreComponentName(StoreComponent c);
StoreComponent ComponentOf(const std::string& path);

struct ErrorRule {
  uint32_t ops = kAllOps;  // FaultOp bits
  std::string path_part;   // only paths containing this (empty: every path)
  uint64_t nth = 0;        // fail the nth matching operation (0-based) ...
  bool sticky = false;     // ... and, if set, every matching one after it
  double probability = 0;  // > 0: instead, each matching operation fails with this chance
  uint64_t seed = 0;       // for `probability`
  Status::Code code = Status::Code::kIOError;  // or kResourceExhausted (ENOSPC)
};

class FaultInjectionEnv final : public Env {
 public:
  explicit FaultInjectionEnv(MemEnv* base) : base_(base) {}
  ~FaultInjectionEnv() override = default;

  MemEnv* base() const { return base_; }

  // ---- Power cuts and crash points ----
  // What a power cut would leave now (MemEnv::CrashCopy).
  std::unique_ptr<MemEnv> CrashCopy(const CrashOptions& options) {
    return base_->CrashCopy(options);
  }
  // Starts counting operations of the calling thread (or, with `any_thread`, of every
  // thread: a crash in the middle of a running store); at operation number `target`
  // (0-based) the crash image is taken with `options`, before the operation runs.
  void Arm(uint64_t target, CrashOptions options, bool any_thread = false);
  // True once the armed crash image was taken (until the next Arm). A put acknowledged
  // while this was still false was acknowledged before the power went out.
  bool crashed() const { return crashed_.load(); }
  // Stops counting. Returns the number of operations counted since Arm.
  uint64_t Disarm();
  // The image taken at the target operation; null if the target was never reached.
  std::unique_ptr<MemEnv> TakeImage();
  // Where the last crash image was taken (operation and component), e.g. "Sync commitlog".
  std::string crash_point() const;
  StoreComponent crash_point_component() const;

  // ---- Errors ----
  void InjectErrors(const ErrorRule& rule);
  void ClearErrors();
  // Operations failed by the current rule so far, and the first one ("Write consumequeue").
  uint64_t errors_injected() const { return errors_injected_.load(); }
  std::string first_error() const;
  StoreComponent first_error_component() const;

  // ---- Statistics ----
  // Counted operations per component since construction.
  std::array<uint64_t, static_cast<size_t>(StoreComponent::kCount)> OperationCounts() const;

  // ---- Commit-log device for flush tests ----
  // Counts removals of commit-log segments from now (a running store should never need one).
  void WatchSegmentRemovals() {
    segment_removals_.store(0);
    watch_removals_.store(true);
  }
  int segment_removals() const { return segment_removals_.load(); }
  // While closed, syncs of commit-log segment data (msync of their mapping, or fdatasync
  // through a descriptor opened on an existing segment; not the sync that creates a segment)
  // block: a stuck disk.
  void CloseSyncGate();
  void OpenSyncGate();
  // Waits (at most `timeout`) until a commit-log sync is blocked at the closed gate.
  bool WaitForBlockedSync(std::chrono::milliseconds timeout);
  // While set, commit-log syncs (writes) of records fail with kIOError.
  void FailSegmentSyncs(bool fail) { fail_syncs_.store(fail); }
  void FailSegmentWrites(bool fail) { fail_writes_.store(fail); }

  // ---- Env ----
  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override;
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    return base_->GetChildren(dir);
  }
  Status CreateDir(const std::string& dir) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDir(const std::string& dir) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Result<uint64_t> GetFileSize(const std::string& path) override {
    return base_->GetFileSize(path);
  }
  Result<DiskSpace> GetDiskSpace(const std::string& path) override {
    return base_->GetDiskSpace(path);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

 private:
  class FaultFile;
  class FaultRegion;

  // Called before every operation: counts it, takes the crash image at the armed target,
  // and returns the injected error, if any. `crash_point`: the operation is counted.
  Status Before(FaultOp op, const std::string& path, bool crash_point = true);
  bool RuleMatches(FaultOp op, const std::string& path);  // REQUIRES: mu_
  void PassSyncGate();

  MemEnv* const base_;

  mutable std::mutex mu_;
  // Crash point.
  bool armed_ = false;
  bool armed_any_thread_ = false;
  std::thread::id armed_thread_;
  std::atomic<bool> crashed_{false};
  uint64_t count_ = 0;
  uint64_t target_ = 0;
  CrashOptions options_;
  std::unique_ptr<MemEnv> image_;
  std::string crash_point_;
  StoreComponent crash_point_component_ = StoreComponent::kOther;
  // Errors.
  std::optional<ErrorRule> rule_;
  uint64_t rule_matches_ = 0;
  bool rule_tripped_ = false;
  std::mt19937_64 rule_rng_;
  std::string first_error_;
  StoreComponent first_error_component_ = StoreComponent::kOther;
  std::atomic<uint64_t> errors_injected_{0};
  std::array<uint64_t, static_cast<size_t>(StoreComponent::kCount)> op_counts_{};

  // Commit-log device.
  std::atomic<bool> watch_removals_{false};
  std::atomic<int> segment_removals_{0};
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool gate_closed_ = false;  // GUARDED_BY(gate_mu_)
  int blocked_syncs_ = 0;     // GUARDED_BY(gate_mu_)
  std::atomic<bool> fail_syncs_{false};
  std::atomic<bool> fail_writes_{false};
};

}  // namespace mqstore::test

#endif  // MQSTORE_TESTS_SUPPORT_FAULT_INJECTION_ENV_H_
