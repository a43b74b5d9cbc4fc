#include "schedule/metadata_progress_store.h"

#include <vector>

namespace mqstore {

Result<std::optional<ScheduleProgressEntry>> MetadataProgressStore::Load(std::string_view name) {
  MQ_ASSIGN_OR_RETURN(std::vector<ScheduleProgress> all, metadata_.LoadScheduleProgress());
  for (const ScheduleProgress& p : all) {
    if (p.name == name) {
      return std::optional<ScheduleProgressEntry>(
          ScheduleProgressEntry{p.name, p.offset, p.timestamp_ms});
    }
  }
  return std::optional<ScheduleProgressEntry>();
}

Status MetadataProgressStore::Commit(std::span<const ScheduleProgressEntry> entries) {
  std::vector<ScheduleProgress> progress;
  progress.reserve(entries.size());
  for (const ScheduleProgressEntry& e : entries) {
    progress.push_back(ScheduleProgress{e.name, e.offset, e.timestamp_ms});
  }
  return metadata_.CommitScheduleProgress(progress);
}

}  // namespace mqstore
