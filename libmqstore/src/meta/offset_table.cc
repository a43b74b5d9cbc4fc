#include "meta/offset_table.h"

#include <set>

#include "meta/meta_codec.h"

namespace mqstore {

Status OffsetTable::Put(LmdbWriteTxn& txn, std::string_view group,
                        const ConsumerOffset& offset) const {
  MQ_RETURN_IF_ERROR(txn.Put(offsets_, OffsetKey(group, offset.topic, offset.queue_id),
                             EncodeOffsetValue(offset.offset)));
  std::string index_key = TopicGroupKey(offset.topic, group);
  MQ_ASSIGN_OR_RETURN(std::optional<std::string_view> indexed, txn.Get(topic_groups_, index_key));
  if (indexed) return Status::OK();  // the common case: no second page to dirty
  return txn.Put(topic_groups_, index_key, "");
}

Result<std::optional<int64_t>> OffsetTable::Get(const LmdbTxn& txn, std::string_view group,
                                                std::string_view topic, int32_t queue_id) const {
  MQ_ASSIGN_OR_RETURN(std::optional<std::string_view> value,
                      txn.Get(offsets_, OffsetKey(group, topic, queue_id)));
  if (!value) return std::optional<int64_t>();
  int64_t offset = 0;
  MQ_RETURN_IF_ERROR(DecodeOffsetValue(*value, &offset));
  return std::optional<int64_t>(offset);
}

Result<std::vector<ConsumerOffset>> OffsetTable::ListGroup(const LmdbTxn& txn,
                                                           std::string_view group) const {
  std::vector<ConsumerOffset> out;
  auto add = [&](std::string_view key, std::string_view value) {
    std::string_view key_group, topic;
    ConsumerOffset entry;
    MQ_RETURN_IF_ERROR(DecodeOffsetKey(key, &key_group, &topic, &entry.queue_id));
    MQ_RETURN_IF_ERROR(DecodeOffsetValue(value, &entry.offset));
    entry.topic = std::string(topic);
    out.push_back(std::move(entry));
    return Status::OK();
  };
  MQ_RETURN_IF_ERROR(txn.ForEachWithPrefix(offsets_, OffsetKeyPrefix(group), add));
  return out;
}

Result<std::vector<std::string>> OffsetTable::ListGroupsOfTopic(const LmdbTxn& txn,
                                                                std::string_view topic) const {
  std::vector<std::string> out;
  auto add = [&](std::string_view key, std::string_view) {
    std::string_view key_topic, group;
    MQ_RETURN_IF_ERROR(DecodeTopicGroupKey(key, &key_topic, &group));
    out.emplace_back(group);
    return Status::OK();
  };
  MQ_RETURN_IF_ERROR(txn.ForEachWithPrefix(topic_groups_, TopicGroupKeyPrefix(topic), add));
  return out;
}

Result<uint64_t> OffsetTable::DeleteGroup(LmdbWriteTxn& txn, std::string_view group) const {
  // Collect the topics first: the views die with the first write.
  std::set<std::string> topics;
  auto add = [&](std::string_view key, std::string_view) {
    std::string_view key_group, topic;
    int32_t queue_id = 0;
    MQ_RETURN_IF_ERROR(DecodeOffsetKey(key, &key_group, &topic, &queue_id));
    topics.emplace(topic);
    return Status::OK();
  };
  MQ_RETURN_IF_ERROR(txn.ForEachWithPrefix(offsets_, OffsetKeyPrefix(group), add));
  MQ_ASSIGN_OR_RETURN(uint64_t deleted, txn.DeleteWithPrefix(offsets_, OffsetKeyPrefix(group)));
  for (const std::string& topic : topics) {
    MQ_ASSIGN_OR_RETURN(bool removed, txn.Delete(topic_groups_, TopicGroupKey(topic, group)));
    (void)removed;  // a missing index entry is what we want anyway
  }
  return deleted;
}

Result<uint64_t> OffsetTable::DeleteTopic(LmdbWriteTxn& txn, std::string_view topic) const {
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> groups, ListGroupsOfTopic(txn, topic));
  uint64_t deleted = 0;
  for (const std::string& group : groups) {
    MQ_ASSIGN_OR_RETURN(uint64_t n, txn.DeleteWithPrefix(offsets_, OffsetKeyPrefix(group, topic)));
    deleted += n;
  }
  MQ_ASSIGN_OR_RETURN(uint64_t unindexed,
                      txn.DeleteWithPrefix(topic_groups_, TopicGroupKeyPrefix(topic)));
  (void)unindexed;
  return deleted;
}

}  // namespace mqstore
