// Read-only mappings of store files for the inspector (include/mqstore/inspect.h).
//
// The inspector maps whole files read-only through the Env: records are parsed in place, as
// the store itself does, and nothing can be written by mistake. Mappings are cached for the
// inspector's lifetime so that views handed out (LogEntry::record) stay valid.
#ifndef MQSTORE_INSPECT_MAPPED_STORE_FILE_H_
#define MQSTORE_INSPECT_MAPPED_STORE_FILE_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "mqstore/env.h"

namespace mqstore {

class MappedStoreFile {
 public:
  // Maps all of `path` read-only. A zero-length file gives an empty view.
  static Result<std::shared_ptr<MappedStoreFile>> Open(Env* env, const std::string& path);

  const std::string& path() const { return file_->path(); }
  std::string_view data() const {
    return region_ ? std::string_view(region_->data(), region_->size()) : std::string_view();
  }
  // Drops the pages from this process's page tables; they fault back in when read again.
  // Verify walks gigabytes and would otherwise keep them all resident.
  void Release() const {
    if (region_) region_->Release(0, region_->size());
  }

 private:
  MappedStoreFile(std::unique_ptr<File> file, std::unique_ptr<MappedRegion> region)
      : file_(std::move(file)), region_(std::move(region)) {}

  std::unique_ptr<File> file_;
  std::unique_ptr<MappedRegion> region_;  // null for an empty file
};

// Maps each file once. Not thread-safe (neither is the inspector).
class FileCache {
 public:
  explicit FileCache(Env* env) : env_(env) {}
  Result<std::shared_ptr<const MappedStoreFile>> Get(const std::string& path);
  Env* env() const { return env_; }

 private:
  Env* const env_;
  std::map<std::string, std::shared_ptr<const MappedStoreFile>> files_;
};

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_MAPPED_STORE_FILE_H_
