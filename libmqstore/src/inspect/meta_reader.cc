#include "inspect/meta_reader.h"

#include <utility>

#include "meta/meta_codec.h"
#include "meta/metadata_store_impl.h"

namespace mqstore {
namespace {

Status CopyAll(const LmdbTxn& txn, const LmdbDb& db, std::vector<RawMetaEntry>* out) {
  return txn.ForEachWithPrefix(db, "", [out](std::string_view key, std::string_view value) {
    out->push_back({std::string(key), std::string(value)});
    return Status::OK();
  });
}

}  // namespace

Result<RawMetadata> ReadRawMetadata(const std::string& meta_dir) {
  MetadataOptions options;
  options.read_only = true;
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<MetadataStoreImpl> store,
                      MetadataStoreImpl::Open(meta_dir, options));
  const MetadataStoreImpl::Databases& dbs = store->databases();
  RawMetadata raw;
  raw.dir = meta_dir;
  Status read = store->env().Read([&](LmdbReadTxn& txn) -> Status {
    MQ_RETURN_IF_ERROR(CopyAll(txn, dbs.topics, &raw.topics));
    MQ_RETURN_IF_ERROR(CopyAll(txn, dbs.groups, &raw.groups));
    MQ_RETURN_IF_ERROR(CopyAll(txn, dbs.offsets, &raw.offsets));
    MQ_RETURN_IF_ERROR(CopyAll(txn, dbs.topic_groups, &raw.topic_groups));
    return CopyAll(txn, dbs.schedule, &raw.schedule);
  });
  MQ_RETURN_IF_ERROR(read);
  return raw;
}

Result<MetadataSnapshot> DecodeMetadata(const RawMetadata& raw) {
  MetadataSnapshot snapshot;
  snapshot.dir = raw.dir;
  for (const RawMetaEntry& e : raw.topics) {
    TopicConfig topic;
    MQ_RETURN_IF_ERROR(DecodeTopicValue(e.key, e.value, &topic));
    snapshot.topics.push_back(std::move(topic));
  }
  for (const RawMetaEntry& e : raw.groups) {
    SubscriptionGroupConfig group;
    MQ_RETURN_IF_ERROR(DecodeGroupValue(e.key, e.value, &group));
    snapshot.groups.push_back(std::move(group));
  }
  for (const RawMetaEntry& e : raw.offsets) {
    std::string_view group, topic;
    GroupOffset o;
    MQ_RETURN_IF_ERROR(DecodeOffsetKey(e.key, &group, &topic, &o.offset.queue_id));
    MQ_RETURN_IF_ERROR(
        DecodeOffsetValue(e.value, &o.offset.offset).WithContext(DescribeOffsetKey(e.key)));
    o.group = std::string(group);
    o.offset.topic = std::string(topic);
    snapshot.offsets.push_back(std::move(o));
  }
  for (const RawMetaEntry& e : raw.schedule) {
    ScheduleProgress progress;
    MQ_RETURN_IF_ERROR(DecodeScheduleValue(e.key, e.value, &progress));
    snapshot.schedule.push_back(std::move(progress));
  }
  return snapshot;
}

std::string DescribeOffsetKey(std::string_view key) {
  std::string_view group, topic;
  int32_t queue_id = 0;
  if (DecodeOffsetKey(key, &group, &topic, &queue_id).ok()) {
    return "offsets['" + std::string(group) + "'/'" + std::string(topic) + "'/" +
           std::to_string(queue_id) + "]";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (char c : key) {
    hex += kHex[static_cast<unsigned char>(c) >> 4];
    hex += kHex[static_cast<unsigned char>(c) & 0xF];
  }
  return "offsets[0x" + hex + "]";
}

}  // namespace mqstore
