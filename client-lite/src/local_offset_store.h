// LocalOffsetStore: a broadcasting consumer's offsets, kept in a file on the consumer's host
// (in broadcasting every member reads every queue, so the broker keeps no offsets for it).
// One JSON file per group (docs/format/client-offsets.md), replaced atomically: written to
// "<path>.tmp", synced, renamed over the file, directory synced; so a crash leaves the old
// or the new table, never a torn one. File I/O goes through mqstore::Env.
#ifndef MQCLIENT_LOCAL_OFFSET_STORE_H_
#define MQCLIENT_LOCAL_OFFSET_STORE_H_

#include <cstdint>
#include <map>
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

}  // namespace mqclient

#endif  // MQCLIENT_LOCAL_OFFSET_STORE_H_
