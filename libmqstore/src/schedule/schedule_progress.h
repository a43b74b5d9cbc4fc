// ScheduleProgressStore: where the schedulers keep how far they have got, behind a narrow
// interface so that the component does not depend on the metadata store.
//
// The store's implementation is the LMDB metadata store (MetadataStore::
// CommitScheduleProgress / LoadScheduleProgress; ScheduleProgressEntry maps one to one onto
// its ScheduleProgress). InMemoryScheduleProgressStore serves tests and stores without
// metadata; a crash test "crashes" a scheduler by dropping it and building a new one over the
// same in-memory store, which then holds exactly what was committed.
//
// Contract the schedulers rely on: Commit is atomic (all entries or none) and durable when
// it returns OK. Both values of an entry are >= 0.
#ifndef MQSTORE_SCHEDULE_SCHEDULE_PROGRESS_H_
#define MQSTORE_SCHEDULE_SCHEDULE_PROGRESS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "mqstore/status.h"

namespace mqstore {

// One scheduler's position. What the two numbers mean is the scheduler's business (see
// DelayScheduler and TimerScheduler).
struct ScheduleProgressEntry {
  std::string name;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;

  bool operator==(const ScheduleProgressEntry&) const = default;
};

class ScheduleProgressStore {
 public:
  virtual ~ScheduleProgressStore() = default;

  // The entry last committed under `name`; nullopt when there is none.
  virtual Result<std::optional<ScheduleProgressEntry>> Load(std::string_view name) = 0;
  // Stores every entry, atomically and durably; a later entry with the same name wins.
  virtual Status Commit(std::span<const ScheduleProgressEntry> entries) = 0;
};

// Keeps entries in memory. Thread-safe. Tests can make the next commits fail.
class InMemoryScheduleProgressStore : public ScheduleProgressStore {
 public:
  Result<std::optional<ScheduleProgressEntry>> Load(std::string_view name) override;
  Status Commit(std::span<const ScheduleProgressEntry> entries) override;

  // The next `n` commits fail with kIOError and store nothing.
  void FailNextCommits(int n);
  // Number of successful commits so far.
  uint64_t commit_count() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, ScheduleProgressEntry, std::less<>> entries_;  // GUARDED_BY(mu_)
  int fail_next_ = 0;                                                  // GUARDED_BY(mu_)
  uint64_t commits_ = 0;                                               // GUARDED_BY(mu_)
};

}  // namespace mqstore

#endif  // MQSTORE_SCHEDULE_SCHEDULE_PROGRESS_H_
