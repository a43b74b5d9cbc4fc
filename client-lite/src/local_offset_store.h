// LocalOffsetStore: a broadcasting consumer's offsets, kept in a file on the consumer's host
// (in broadcasting every member reads every queue, so the broker keeps no offsets for it).
// One JSON file per group (docs/format/client-offsets.md), replaced atomically: written to
// "<path>.tmp", synced, renamed over the file, directory synced; so a crash leaves the old
// or the new table, never a torn one. File I/O goes through mqstore::Env.
#ifndef MQCLIENT_LOCAL_OFFSET_STORE_H_
#define MQCLIENT_LOCAL_OFFSET_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "mqclient/message.h"
#include "mqstore/env.h"
#include "mqstore/status.h"

namespace mqclient {

using OffsetTable = std::map<MessageQueue, int64_t>;

// Where a group's offset file is when the options name none:
// $HOME/.mqclient_offsets/<group>/offsets.json (the working directory without HOME).
std::string DefaultLocalOffsetPath(const std::string& group);

class LocalOffsetStore {
 public:
  LocalOffsetStore(mqstore::Env* env, std::string path, std::string group)
      : env_(env), path_(std::move(path)), group_(std::move(group)) {}

  // The table saved last; empty when there is no file yet. kCorruption (naming the file)
  // when it is not a table this store wrote, or belongs to another group.
  Result<OffsetTable> Load() const;
  // Replaces the file with `table`, creating its directory when needed.
  Status Save(const OffsetTable& table) const;

  const std::string& path() const { return path_; }

  static std::string Encode(std::string_view group, const OffsetTable& table);
  static Result<OffsetTable> Decode(std::string_view group, std::string_view json);

 private:
  mqstore::Env* const env_;
  const std::string path_;
  const std::string group_;
};

// A broadcasting consumer's offsets in memory, as its LocalOffsetStore file holds them. The
// push and the lite pull consumer share it. Thread-safe; saves are serialised, so two threads
// (a periodic persist and the application's commit) never write the file at once.
class LocalOffsetTable {
 public:
  // Loads the table saved last (see LocalOffsetStore::Load for its errors).
  static Result<std::unique_ptr<LocalOffsetTable>> Open(mqstore::Env* env, std::string path,
                                                        std::string group);

  // The offset saved for `queue`, if any.
  std::optional<int64_t> Find(const MessageQueue& queue) const;
  // Saves the table with `offsets` (pairs of queue and offset) merged in: a queue not named
  // keeps its offset (not held now, or held before a restart). Find answers what the file
  // holds, so the saved table changes only once the file does; the offsets of a merge whose
  // save failed go with the next merge (unless it names their queues again), so that a
  // queue given up meanwhile does not lose its last offset.
  template <typename Offsets>
  Status Merge(const Offsets& offsets) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [queue, offset] : offsets) unsaved_[queue] = offset;
    OffsetTable table = saved_;
    for (const auto& [queue, offset] : unsaved_) table[queue] = offset;
    MQ_RETURN_IF_ERROR(store_.Save(table));
    saved_ = std::move(table);
    unsaved_.clear();
    return Status::OK();
  }

  const std::string& path() const { return store_.path(); }

 private:
  LocalOffsetTable(LocalOffsetStore store, OffsetTable saved)
      : store_(std::move(store)), saved_(std::move(saved)) {}

  const LocalOffsetStore store_;
  mutable std::mutex mu_;
  OffsetTable saved_;    // guarded by mu_: what the file holds
  OffsetTable unsaved_;  // guarded by mu_: merged, but their save failed
};

}  // namespace mqclient

#endif  // MQCLIENT_LOCAL_OFFSET_STORE_H_
