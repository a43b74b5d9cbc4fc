// MetadataProgressStore: the ScheduleProgressStore of a real store, kept in the LMDB
// metadata store's schedule table (MetadataStore::CommitScheduleProgress), so schedule
// progress commits are atomic and durable like consumer offsets.
//
// Load reads the whole table (a few dozen entries: one per delay level and four for the
// timer) and picks the name; schedulers load only when they start or recover.
//
// Thread safety: as the MetadataStore (safe for concurrent use).
#ifndef MQSTORE_SCHEDULE_METADATA_PROGRESS_STORE_H_
#define MQSTORE_SCHEDULE_METADATA_PROGRESS_STORE_H_

#include <optional>
#include <span>
#include <string_view>

#include "mqstore/metadata.h"
#include "schedule/schedule_progress.h"

namespace mqstore {

class MetadataProgressStore : public ScheduleProgressStore {
 public:
  // `metadata` must outlive this object.
  explicit MetadataProgressStore(MetadataStore& metadata) : metadata_(metadata) {}

  Result<std::optional<ScheduleProgressEntry>> Load(std::string_view name) override;
  Status Commit(std::span<const ScheduleProgressEntry> entries) override;

 private:
  MetadataStore& metadata_;
};

}  // namespace mqstore

#endif  // MQSTORE_SCHEDULE_METADATA_PROGRESS_STORE_H_
