// FileProgressStore: a ScheduleProgressStore in one small file written through the Env, for
// stores without the LMDB metadata store (StoreOptions::enable_metadata off, or an Env other
// than the POSIX one, as in the crash tests). docs/format/schedule_progress.md has the bytes.
//
// The whole table (a few dozen entries) is rewritten at every commit: the new contents go to
// <path>.tmp, which is synced and renamed over <path>, and the directory is synced, so a
// crash leaves either the old table or the new one, never a mix. A checksum catches damage.
//
// Thread safety: safe for concurrent use (one mutex).
#ifndef MQSTORE_SCHEDULE_FILE_PROGRESS_STORE_H_
#define MQSTORE_SCHEDULE_FILE_PROGRESS_STORE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "mqstore/env.h"
#include "schedule/schedule_progress.h"

namespace mqstore {

class FileProgressStore : public ScheduleProgressStore {
 public:
  // Loads `path` (missing: an empty table). kCorruption when the file is damaged.
  static Result<std::unique_ptr<FileProgressStore>> Open(Env* env, std::string path);

  Result<std::optional<ScheduleProgressEntry>> Load(std::string_view name) override;
  Status Commit(std::span<const ScheduleProgressEntry> entries) override;

  // The file's encoding of `entries` and its inverse (kCorruption naming the problem).
  static std::string Encode(const std::map<std::string, ScheduleProgressEntry, std::less<>>& entries);
  static Status Decode(std::string_view bytes,
                       std::map<std::string, ScheduleProgressEntry, std::less<>>* entries);

 private:
  FileProgressStore(Env* env, std::string path) : env_(env), path_(std::move(path)) {}

  Env* const env_;
  const std::string path_;
  std::mutex mu_;
  std::map<std::string, ScheduleProgressEntry, std::less<>> entries_;  // GUARDED_BY(mu_)
};

}  // namespace mqstore

#endif  // MQSTORE_SCHEDULE_FILE_PROGRESS_STORE_H_
