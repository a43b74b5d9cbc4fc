// OffsetTable: consumer offsets, kept in two LMDB databases that must agree
// (docs/format/meta.md):
//
//   offsets       group 0x00 topic 0x00 queue_id(4)  ->  offset    a group's offsets, in order
//   topic_groups  topic 0x00 group                   ->  (empty)   the groups of a topic
//
// topic_groups has an entry for (topic, group) exactly when offsets has at least one key of
// that group and topic. Every change to offsets goes through this class, inside the caller's
// transaction, so that the two stay in step whatever else the transaction does.
//
// Thread safety: stateless apart from the database handles; the transaction passed in
// decides what is seen and when it becomes visible.
#ifndef MQSTORE_META_OFFSET_TABLE_H_
#define MQSTORE_META_OFFSET_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "meta/lmdb_env.h"
#include "mqstore/metadata.h"
#include "mqstore/status.h"

namespace mqstore {

class OffsetTable {
 public:
  OffsetTable(LmdbDb offsets, LmdbDb topic_groups)
      : offsets_(std::move(offsets)), topic_groups_(std::move(topic_groups)) {}

  // Stores `offset` for `group`. REQUIRES: the caller validated names, queue id and offset.
  Status Put(LmdbWriteTxn& txn, std::string_view group, const ConsumerOffset& offset) const;

  // nullopt when the group has no offset for the queue.
  Result<std::optional<int64_t>> Get(const LmdbTxn& txn, std::string_view group,
                                     std::string_view topic, int32_t queue_id) const;
  // Every offset of `group`, sorted by (topic, queue id).
  Result<std::vector<ConsumerOffset>> ListGroup(const LmdbTxn& txn, std::string_view group) const;
  // The groups with at least one offset for `topic`, sorted.
  Result<std::vector<std::string>> ListGroupsOfTopic(const LmdbTxn& txn,
                                                     std::string_view topic) const;

  // Removes every offset of `group`; returns how many.
  Result<uint64_t> DeleteGroup(LmdbWriteTxn& txn, std::string_view group) const;
  // Removes every group's offsets for `topic`; returns how many.
  Result<uint64_t> DeleteTopic(LmdbWriteTxn& txn, std::string_view topic) const;

 private:
  const LmdbDb offsets_;
  const LmdbDb topic_groups_;
};

}  // namespace mqstore

#endif  // MQSTORE_META_OFFSET_TABLE_H_
