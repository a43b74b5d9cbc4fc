#include "schedule/file_progress_store.h"

#include "mqstore/coding.h"
#include "util/crc32.h"
#include "util/mapped_file.h"

namespace mqstore {
namespace {

constexpr uint32_t kMagic = 0x4D515350;  // "MQSP"
constexpr uint32_t kVersion = 1;
constexpr size_t kMaxFileBytes = 1 << 20;  // a table of a few dozen entries is ~2 KiB

Status Damaged(const std::string& what) {
  return Status::Corruption("schedule progress file: " + what);
}

}  // namespace

std::string FileProgressStore::Encode(
    const std::map<std::string, ScheduleProgressEntry, std::less<>>& entries) {
  std::string out;
  PutBig32(&out, kMagic);
  PutBig32(&out, kVersion);
  PutBig32(&out, static_cast<uint32_t>(entries.size()));
  for (const auto& [name, e] : entries) {
    PutBig16(&out, static_cast<uint16_t>(name.size()));
    out.append(name);
    PutBig64(&out, static_cast<uint64_t>(e.offset));
    PutBig64(&out, static_cast<uint64_t>(e.timestamp_ms));
  }
  PutBig32(&out, crc32::Value(out.data(), out.size()));
  return out;
}

Status FileProgressStore::Decode(std::string_view bytes,
                                 std::map<std::string, ScheduleProgressEntry, std::less<>>* entries) {
  if (bytes.size() < 16) return Damaged("too short (" + std::to_string(bytes.size()) + " bytes)");
  uint32_t stored_crc = DecodeBig32(bytes.data() + bytes.size() - 4);
  std::string_view body = bytes.substr(0, bytes.size() - 4);
  if (crc32::Value(body.data(), body.size()) != stored_crc) return Damaged("checksum mismatch");
  uint32_t magic = 0, version = 0, count = 0;
  GetBig32(&body, &magic);
  GetBig32(&body, &version);
  GetBig32(&body, &count);
  if (magic != kMagic) return Damaged("bad magic");
  if (version != kVersion) return Damaged("unknown version " + std::to_string(version));
  entries->clear();
  for (uint32_t i = 0; i < count; ++i) {
    uint16_t len = 0;
    std::string_view name;
    uint64_t offset = 0, timestamp = 0;
    if (!GetBig16(&body, &len) || !GetBytes(&body, len, &name) || !GetBig64(&body, &offset) ||
        !GetBig64(&body, &timestamp)) {
      return Damaged("entry " + std::to_string(i) + " is truncated");
    }
    ScheduleProgressEntry e{std::string(name), static_cast<int64_t>(offset),
                            static_cast<int64_t>(timestamp)};
    if (e.name.empty() || e.offset < 0 || e.timestamp_ms < 0) {
      return Damaged("entry " + std::to_string(i) + " is invalid");
    }
    (*entries)[e.name] = std::move(e);
  }
  if (!body.empty()) return Damaged("trailing bytes");
  return Status::OK();
}

Result<std::unique_ptr<FileProgressStore>> FileProgressStore::Open(Env* env, std::string path) {
  std::unique_ptr<FileProgressStore> store(new FileProgressStore(env, std::move(path)));
  if (!env->FileExists(store->path_)) return store;
  MQ_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(store->path_));
  if (size > kMaxFileBytes) return Damaged("too large (" + std::to_string(size) + " bytes)");
  MQ_ASSIGN_OR_RETURN(auto file, env->OpenFile(store->path_, OpenMode::kReadOnly));
  std::string bytes(size, '\0');
  size_t n = 0;
  MQ_RETURN_IF_ERROR(file->Read(0, bytes.size(), bytes.data(), &n));
  bytes.resize(n);
  MQ_RETURN_IF_ERROR(Decode(bytes, &store->entries_).WithContext(store->path_));
  return store;
}

Result<std::optional<ScheduleProgressEntry>> FileProgressStore::Load(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return std::optional<ScheduleProgressEntry>();
  return std::optional<ScheduleProgressEntry>(it->second);
}

Status FileProgressStore::Commit(std::span<const ScheduleProgressEntry> entries) {
  std::lock_guard<std::mutex> lock(mu_);
  auto next = entries_;
  for (const ScheduleProgressEntry& e : entries) {
    if (e.name.empty() || e.name.size() > 255 || e.offset < 0 || e.timestamp_ms < 0) {
      return Status::InvalidArgument("schedule progress entry '" + e.name +
                                     "' has a bad name or a negative value");
    }
    next[e.name] = e;
  }
  std::string tmp = path_ + ".tmp";
  {
    MQ_ASSIGN_OR_RETURN(auto file, env_->OpenFile(tmp, OpenMode::kCreate));
    MQ_RETURN_IF_ERROR(file->Truncate(0));
    MQ_RETURN_IF_ERROR(file->Write(0, Encode(next)));
    MQ_RETURN_IF_ERROR(file->Sync());
  }
  MQ_RETURN_IF_ERROR(env_->RenameFile(tmp, path_));
  MQ_RETURN_IF_ERROR(env_->SyncDir(DirName(path_)));
  entries_ = std::move(next);
  return Status::OK();
}

}  // namespace mqstore
