#include "schedule/schedule_progress.h"

namespace mqstore {

Result<std::optional<ScheduleProgressEntry>> InMemoryScheduleProgressStore::Load(
    std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return std::optional<ScheduleProgressEntry>();
  return std::optional<ScheduleProgressEntry>(it->second);
}

Status InMemoryScheduleProgressStore::Commit(std::span<const ScheduleProgressEntry> entries) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fail_next_ > 0) {
    --fail_next_;
    return Status::IOError("injected schedule progress commit failure");
  }
  for (const ScheduleProgressEntry& e : entries) {
    if (e.name.empty() || e.offset < 0 || e.timestamp_ms < 0) {
      return Status::InvalidArgument("schedule progress entry '" + e.name +
                                     "' has an empty name or a negative value");
    }
  }
  for (const ScheduleProgressEntry& e : entries) entries_[e.name] = e;
  ++commits_;
  return Status::OK();
}

void InMemoryScheduleProgressStore::FailNextCommits(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_next_ = n;
}

uint64_t InMemoryScheduleProgressStore::commit_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return commits_;
}

}  // namespace mqstore
