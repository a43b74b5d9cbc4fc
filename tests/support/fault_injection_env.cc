#include "support/fault_injection_env.h"

#include <utility>

namespace mqstore::test {

const char* StoreComponentName(StoreComponent c) {
  switch (c) {
    case StoreComponent::kCommitLog:
      return "commitlog";
    case StoreComponent::kConsumeQueue:
      return "consumequeue";
    case StoreComponent::kIndex:
      return "index";
    case StoreComponent::kCheckpoint:
      return "checkpoint";
    case StoreComponent::kTimer:
      return "timer";
    case StoreComponent::kScheduleProgress:
      return "schedule_progress";
    case StoreComponent::kOther:
    case StoreComponent::kCount:
      break;
  }
  return "other";
}

StoreComponent ComponentOf(const std::string& path) {
  auto has = [&](const char* part) { return path.find(part) != std::string::npos; };
  if (has("/commitlog/")) return StoreComponent::kCommitLog;
  if (has("/consumequeue/")) return StoreComponent::kConsumeQueue;
  if (has("/index/")) return StoreComponent::kIndex;
  if (has("/timer/")) return StoreComponent::kTimer;
  if (has("/schedule_progress")) return StoreComponent::kScheduleProgress;
  size_t slash = path.rfind('/');
  if (path.compare(slash + 1, std::string::npos, "checkpoint") == 0) {
    return StoreComponent::kCheckpoint;
  }
  return StoreComponent::kOther;
}

namespace {

const char* OpName(FaultOp op) {
  switch (op) {
    case kOpCreate:
      return "Create";
    case kOpOpen:
      return "Open";
    case kOpMap:
      return "Map";
    case kOpCreateDir:
      return "CreateDir";
    case kOpRemove:
      return "Remove";
    case kOpRename:
      return "Rename";
    case kOpSyncDir:
      return "SyncDir";
    case kOpLock:
      return "Lock";
    case kOpWrite:
      return "Write";
    case kOpSync:
      return "Sync";
    case kOpAllocate:
      return "Allocate";
    case kOpTruncate:
      return "Truncate";
    case kOpZeroRange:
      return "ZeroRange";
    default:
      return "?";
  }
}

Status InjectedError(Status::Code code, FaultOp op, const std::string& path) {
  std::string what = std::string(OpName(op)) + " " + path + ": injected ";
  if (code == Status::Code::kResourceExhausted) {
    return Status::ResourceExhausted(what + "ENOSPC (no space left on device)");
  }
  return Status::IOError(what + "EIO");
}

}  // namespace

// ---- The wrapped files ----

class FaultInjectionEnv::FaultRegion final : public MappedRegion {
 public:
  FaultRegion(FaultInjectionEnv* env, std::unique_ptr<MappedRegion> base, std::string path,
              bool gated)
      : env_(env), base_(std::move(base)), path_(std::move(path)), gated_(gated) {}
  char* data() const override { return base_->data(); }
  size_t size() const override { return base_->size(); }
  Status Sync(size_t offset, size_t len) override {
    MQ_RETURN_IF_ERROR(env_->Before(kOpSync, path_));
    if (gated_) {
      env_->PassSyncGate();
      if (env_->fail_syncs_.load()) return Status::IOError("msync: injected EIO");
    }
    return base_->Sync(offset, len);
  }
  void Prefault(size_t offset, size_t len) override { base_->Prefault(offset, len); }
  void SetReadAhead(size_t offset, size_t len, bool enabled) override {
    base_->SetReadAhead(offset, len, enabled);
  }
  void Release(size_t offset, size_t len) override { base_->Release(offset, len); }

 private:
  FaultInjectionEnv* env_;
  std::unique_ptr<MappedRegion> base_;
  std::string path_;
  bool gated_;  // a commit-log segment
};

class FaultInjectionEnv::FaultFile final : public File {
 public:
  FaultFile(FaultInjectionEnv* env, std::unique_ptr<File> base, bool segment, bool gated)
      : File(base->path()), env_(env), base_(std::move(base)), segment_(segment), gated_(gated) {}
  Status Read(uint64_t offset, size_t n, char* scratch, size_t* bytes_read) override {
    return base_->Read(offset, n, scratch, bytes_read);
  }
  Status Write(uint64_t offset, std::string_view data) override {
    MQ_RETURN_IF_ERROR(env_->Before(kOpWrite, path()));
    if (segment_ && env_->fail_writes_.load()) return Status::IOError("pwrite: injected EIO");
    return base_->Write(offset, data);
  }
  Status Sync() override {
    MQ_RETURN_IF_ERROR(env_->Before(kOpSync, path()));
    if (gated_) {
      env_->PassSyncGate();
      if (env_->fail_syncs_.load()) return Status::IOError("fdatasync: injected EIO");
    }
    return base_->Sync();
  }
  Status Allocate(uint64_t size) override {
    MQ_RETURN_IF_ERROR(env_->Before(kOpAllocate, path()));
    return base_->Allocate(size);
  }
  Status Truncate(uint64_t size) override {
    MQ_RETURN_IF_ERROR(env_->Before(kOpTruncate, path()));
    return base_->Truncate(size);
  }
  Status ZeroRange(uint64_t offset, uint64_t len) override {
    MQ_RETURN_IF_ERROR(env_->Before(kOpZeroRange, path()));
    return base_->ZeroRange(offset, len);
  }
  void DropCache(uint64_t offset, uint64_t len) override { base_->DropCache(offset, len); }
  Status WriteBack(uint64_t offset, uint64_t len) override { return base_->WriteBack(offset, len); }
  void StartWriteBack(uint64_t offset, uint64_t len) override {
    base_->StartWriteBack(offset, len);
  }
  Result<uint64_t> Size() override { return base_->Size(); }
  Result<std::unique_ptr<MappedRegion>> Map(size_t len, bool writable) override {
    MQ_RETURN_IF_ERROR(env_->Before(kOpMap, path(), /*crash_point=*/false));
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<MappedRegion> region, base_->Map(len, writable));
    return std::unique_ptr<MappedRegion>(
        std::make_unique<FaultRegion>(env_, std::move(region), path(), segment_));
  }

 private:
  FaultInjectionEnv* env_;
  std::unique_ptr<File> base_;
  bool segment_;  // a commit-log segment
  bool gated_;    // ... opened to write records, not to be created
};

// ---- Env ----

Result<std::unique_ptr<File>> FaultInjectionEnv::OpenFile(const std::string& path, OpenMode mode) {
  bool create = mode == OpenMode::kCreate;
  MQ_RETURN_IF_ERROR(Before(create ? kOpCreate : kOpOpen, path, /*crash_point=*/create));
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base_->OpenFile(path, mode));
  bool segment = ComponentOf(path) == StoreComponent::kCommitLog;
  return std::unique_ptr<File>(
      std::make_unique<FaultFile>(this, std::move(file), segment, segment && !create));
}

Status FaultInjectionEnv::CreateDir(const std::string& dir) {
  MQ_RETURN_IF_ERROR(Before(kOpCreateDir, dir));
  return base_->CreateDir(dir);
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  MQ_RETURN_IF_ERROR(Before(kOpRemove, path));
  if (watch_removals_.load() && ComponentOf(path) == StoreComponent::kCommitLog) {
    ++segment_removals_;
  }
  return base_->RemoveFile(path);
}

Status FaultInjectionEnv::RemoveDir(const std::string& dir) {
  MQ_RETURN_IF_ERROR(Before(kOpRemove, dir));
  return base_->RemoveDir(dir);
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  MQ_RETURN_IF_ERROR(Before(kOpRename, to));
  return base_->RenameFile(from, to);
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  MQ_RETURN_IF_ERROR(Before(kOpSyncDir, dir + "/"));
  return base_->SyncDir(dir);
}

Result<std::unique_ptr<FileLock>> FaultInjectionEnv::LockFile(const std::string& path) {
  MQ_RETURN_IF_ERROR(Before(kOpLock, path));
  return base_->LockFile(path);
}

// ---- Crash points, errors, statistics ----

void FaultInjectionEnv::Arm(uint64_t target, CrashOptions options, bool any_thread) {
  std::lock_guard<std::mutex> l(mu_);
  armed_thread_ = std::this_thread::get_id();
  armed_any_thread_ = any_thread;
  armed_ = true;
  crashed_.store(false);
  count_ = 0;
  target_ = target;
  options_ = options;
  image_.reset();
}

uint64_t FaultInjectionEnv::Disarm() {
  std::lock_guard<std::mutex> l(mu_);
  armed_ = false;
  return count_;
}

std::unique_ptr<MemEnv> FaultInjectionEnv::TakeImage() {
  std::lock_guard<std::mutex> l(mu_);
  return std::move(image_);
}

std::string FaultInjectionEnv::crash_point() const {
  std::lock_guard<std::mutex> l(mu_);
  return crash_point_;
}

StoreComponent FaultInjectionEnv::crash_point_component() const {
  std::lock_guard<std::mutex> l(mu_);
  return crash_point_component_;
}

void FaultInjectionEnv::InjectErrors(const ErrorRule& rule) {
  std::lock_guard<std::mutex> l(mu_);
  rule_ = rule;
  rule_matches_ = 0;
  rule_tripped_ = false;
  rule_rng_.seed(rule.seed);
  errors_injected_.store(0);
  first_error_.clear();
  first_error_component_ = StoreComponent::kOther;
}

void FaultInjectionEnv::ClearErrors() {
  std::lock_guard<std::mutex> l(mu_);
  rule_.reset();
}

std::string FaultInjectionEnv::first_error() const {
  std::lock_guard<std::mutex> l(mu_);
  return first_error_;
}

StoreComponent FaultInjectionEnv::first_error_component() const {
  std::lock_guard<std::mutex> l(mu_);
  return first_error_component_;
}

std::array<uint64_t, static_cast<size_t>(StoreComponent::kCount)>
FaultInjectionEnv::OperationCounts() const {
  std::lock_guard<std::mutex> l(mu_);
  return op_counts_;
}

bool FaultInjectionEnv::RuleMatches(FaultOp op, const std::string& path) {
  if (!rule_ || (rule_->ops & op) == 0) return false;
  if (!rule_->path_part.empty() && path.find(rule_->path_part) == std::string::npos) {
    return false;
  }
  if (rule_->probability > 0) {
    return std::uniform_real_distribution<>(0, 1)(rule_rng_) < rule_->probability;
  }
  if (rule_tripped_) return rule_->sticky;
  if (rule_matches_++ != rule_->nth) return false;
  rule_tripped_ = true;
  return true;
}

Status FaultInjectionEnv::Before(FaultOp op, const std::string& path, bool crash_point) {
  std::lock_guard<std::mutex> l(mu_);
  StoreComponent component = ComponentOf(path);
  if (crash_point) {
    ++op_counts_[static_cast<size_t>(component)];
    if (armed_ && (armed_any_thread_ || std::this_thread::get_id() == armed_thread_) &&
        count_++ == target_) {
      // Set before the copy starts: a put that still sees crashed() false afterwards was
      // made durable before the copy read its file.
      crashed_.store(true);
      image_ = base_->CrashCopy(options_);
      crash_point_ = std::string(OpName(op)) + " " + StoreComponentName(component);
      crash_point_component_ = component;
    }
  }
  if (!RuleMatches(op, path)) return Status::OK();
  if (errors_injected_.fetch_add(1) == 0) {
    first_error_ = std::string(OpName(op)) + " " + StoreComponentName(component);
    first_error_component_ = component;
  }
  return InjectedError(rule_->code, op, path);
}

// ---- Commit-log device ----

void FaultInjectionEnv::CloseSyncGate() {
  std::lock_guard<std::mutex> l(gate_mu_);
  gate_closed_ = true;
}

void FaultInjectionEnv::OpenSyncGate() {
  {
    std::lock_guard<std::mutex> l(gate_mu_);
    gate_closed_ = false;
  }
  gate_cv_.notify_all();
}

bool FaultInjectionEnv::WaitForBlockedSync(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(gate_mu_);
  return gate_cv_.wait_for(l, timeout, [&] { return blocked_syncs_ > 0; });
}

void FaultInjectionEnv::PassSyncGate() {
  std::unique_lock<std::mutex> l(gate_mu_);
  if (!gate_closed_) return;
  ++blocked_syncs_;
  gate_cv_.notify_all();
  gate_cv_.wait(l, [&] { return !gate_closed_; });
  --blocked_syncs_;
}

}  // namespace mqstore::test
