#include "meta/metadata_store_impl.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "log/record_codec.h"
#include "meta/meta_codec.h"
#include "meta/meta_validation.h"

namespace mqstore {

namespace {

// Calls `fn` (Txn& -> Result<T>): keeps its value, returns its status.
template <typename T, typename Txn, typename Fn>
Status RunForValue(Txn& txn, Fn& fn, std::optional<T>* value) {
  Result<T> r = fn(txn);
  if (!r.ok()) return r.status();
  *value = std::move(r).value();  // replaces the value of an attempt that ran out of map space
  return Status::OK();
}

// Runs `fn` (LmdbTxn& -> Result<T>) in a read or write transaction of `env` and returns its
// result. A write transaction commits only when `fn` returns a value.
template <typename T, typename Fn>
Result<T> ReadValue(const LmdbEnv& env, Fn&& fn) {
  std::optional<T> value;
  Status s = env.Read([&](LmdbReadTxn& txn) { return RunForValue<T>(txn, fn, &value); });
  if (!s.ok()) return s;
  return std::move(*value);
}

template <typename T, typename Fn>
Result<T> WriteValue(LmdbEnv& env, Fn&& fn) {
  std::optional<T> value;
  Status s = env.Write([&](LmdbWriteTxn& txn) { return RunForValue<T>(txn, fn, &value); });
  if (!s.ok()) return s;
  return std::move(*value);
}

// Calls `decode(key, value, &item)` on every entry of `db` and collects the items.
template <typename T, typename Decode>
Result<std::vector<T>> ReadAll(const LmdbEnv& env, const LmdbDb& db, Decode&& decode) {
  return ReadValue<std::vector<T>>(env, [&](LmdbReadTxn& txn) -> Result<std::vector<T>> {
    std::vector<T> out;
    auto add = [&](std::string_view key, std::string_view value) {
      T item;
      MQ_RETURN_IF_ERROR(decode(key, value, &item));
      out.push_back(std::move(item));
      return Status::OK();
    };
    MQ_RETURN_IF_ERROR(txn.ForEachWithPrefix(db, "", add));
    return out;
  });
}

}  // namespace

Result<std::unique_ptr<MetadataStore>> OpenMetadataStore(const std::string& dir,
                                                         const MetadataOptions& options) {
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<MetadataStoreImpl> store,
                      MetadataStoreImpl::Open(dir, options));
  return std::unique_ptr<MetadataStore>(std::move(store));
}

Result<std::unique_ptr<MetadataStoreImpl>> MetadataStoreImpl::Open(const std::string& dir,
                                                                   const MetadataOptions& options) {
  if (options.max_queues_per_topic < 1 || options.max_queues_per_topic > kMaxQueuesPerTopicLimit) {
    return Status::InvalidArgument("max_queues_per_topic " +
                                   std::to_string(options.max_queues_per_topic) +
                                   " is outside 1.." + std::to_string(kMaxQueuesPerTopicLimit));
  }
  LmdbEnvOptions env_options;
  env_options.create_if_missing = options.create_if_missing;
  env_options.initial_map_bytes = options.initial_map_bytes;
  env_options.max_map_bytes = options.max_map_bytes;
  env_options.max_readers = options.max_readers;
  env_options.read_only = options.read_only;
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<LmdbEnv> env, LmdbEnv::Open(dir, env_options));
  Databases dbs;
  Status opened =
      options.read_only
          ? env->Read(
                [&](LmdbReadTxn& txn) { return OpenDatabasesReadOnly(txn, env->dir(), &dbs); })
          : env->Write([&](LmdbWriteTxn& txn) { return OpenDatabases(txn, env->dir(), &dbs); });
  MQ_RETURN_IF_ERROR(opened);
  return std::unique_ptr<MetadataStoreImpl>(
      new MetadataStoreImpl(std::move(env), dbs, options.max_queues_per_topic));
}

Status MetadataStoreImpl::OpenDatabases(LmdbWriteTxn& txn, const std::string& dir, Databases* dbs) {
  Result<LmdbDb> info = txn.OpenDb(kStoreInfoDb, /*create=*/false);
  bool fresh = false;
  if (info.status().IsNotFound()) {
    // Either a new environment or someone else's: only an empty one may become ours.
    MQ_ASSIGN_OR_RETURN(LmdbDb main, txn.OpenMainDb());
    MQ_ASSIGN_OR_RETURN(uint64_t entries, txn.CountEntries(main));
    if (entries != 0) {
      return Status::Corruption(dir + " is an LMDB environment but not mqstore metadata (it " +
                                "has no '" + std::string(kStoreInfoDb) + "' database)");
    }
    fresh = true;
    info = txn.OpenDb(kStoreInfoDb, /*create=*/true);
  }
  MQ_RETURN_IF_ERROR(info.status());
  dbs->store_info = *info;
  if (fresh) {
    MQ_RETURN_IF_ERROR(
        txn.Put(dbs->store_info, kFormatVersionKey, EncodeFormatVersion(kMetaFormatVersion)));
  } else {
    MQ_RETURN_IF_ERROR(CheckFormatVersion(txn, dbs->store_info, dir));
  }
  return OpenDataDatabases(
      [&](std::string_view name) { return txn.OpenDb(name, /*create=*/fresh); }, dir, dbs);
}

Status MetadataStoreImpl::OpenDatabasesReadOnly(const LmdbTxn& txn, const std::string& dir,
                                                Databases* dbs) {
  Result<LmdbDb> info = txn.OpenExistingDb(kStoreInfoDb);
  if (info.status().IsNotFound()) {
    return Status::Corruption(dir + " holds no mqstore metadata (it has no '" +
                              std::string(kStoreInfoDb) + "' database)");
  }
  MQ_RETURN_IF_ERROR(info.status());
  dbs->store_info = *info;
  MQ_RETURN_IF_ERROR(CheckFormatVersion(txn, dbs->store_info, dir));
  return OpenDataDatabases([&](std::string_view name) { return txn.OpenExistingDb(name); }, dir,
                           dbs);
}

Status MetadataStoreImpl::CheckFormatVersion(const LmdbTxn& txn, const LmdbDb& store_info,
                                             const std::string& dir) {
  MQ_ASSIGN_OR_RETURN(std::optional<std::string_view> value,
                      txn.Get(store_info, kFormatVersionKey));
  if (!value) {
    return Status::Corruption(dir + ": store_info has no '" + std::string(kFormatVersionKey) + "'");
  }
  uint32_t version = 0;
  MQ_RETURN_IF_ERROR(DecodeFormatVersion(*value, &version).WithContext(dir));
  if (version != kMetaFormatVersion) {
    return Status::NotSupported(dir + " holds metadata format version " + std::to_string(version) +
                                "; this build reads " + std::to_string(kMetaFormatVersion));
  }
  return Status::OK();
}

Status MetadataStoreImpl::OpenDataDatabases(
    const std::function<Result<LmdbDb>(std::string_view)>& open_db, const std::string& dir,
    Databases* dbs) {
  auto open = [&](std::string_view name, LmdbDb* db) -> Status {
    Result<LmdbDb> r = open_db(name);
    if (r.status().IsNotFound()) {
      return Status::Corruption(dir + " has no '" + std::string(name) + "' database");
    }
    MQ_RETURN_IF_ERROR(r.status());
    *db = *r;
    return Status::OK();
  };
  MQ_RETURN_IF_ERROR(open(kTopicsDb, &dbs->topics));
  MQ_RETURN_IF_ERROR(open(kGroupsDb, &dbs->groups));
  MQ_RETURN_IF_ERROR(open(kOffsetsDb, &dbs->offsets));
  MQ_RETURN_IF_ERROR(open(kTopicGroupsDb, &dbs->topic_groups));
  return open(kScheduleDb, &dbs->schedule);
}

// ---- Topics

Result<std::optional<TopicConfig>> MetadataStoreImpl::FindTopic(const LmdbTxn& txn,
                                                                std::string_view name) const {
  MQ_ASSIGN_OR_RETURN(std::optional<std::string_view> value, txn.Get(dbs_.topics, name));
  if (!value) return std::optional<TopicConfig>();
  TopicConfig config;
  MQ_RETURN_IF_ERROR(DecodeTopicValue(name, *value, &config));
  return std::optional<TopicConfig>(std::move(config));
}

Status MetadataStoreImpl::PutTopic(const TopicConfig& config) {
  MQ_RETURN_IF_ERROR(ValidateTopicConfig(config, max_queues_per_topic_));
  std::string value = EncodeTopicValue(config);
  return env_->Write([&](LmdbWriteTxn& txn) { return txn.Put(dbs_.topics, config.name, value); });
}

Result<TopicConfig> MetadataStoreImpl::GetTopic(std::string_view name) {
  MQ_ASSIGN_OR_RETURN(std::optional<TopicConfig> found,
                      ReadValue<std::optional<TopicConfig>>(
                          *env_, [&](LmdbReadTxn& txn) { return FindTopic(txn, name); }));
  if (!found) return Status::NotFound("topic '" + std::string(name) + "' is not registered");
  return std::move(*found);
}

Result<std::vector<TopicConfig>> MetadataStoreImpl::ListTopics() {
  return ReadAll<TopicConfig>(*env_, dbs_.topics, DecodeTopicValue);
}

Status MetadataStoreImpl::DeleteTopic(std::string_view name) {
  MQ_RETURN_IF_ERROR(ValidateTopic(name));
  return env_->Write([&](LmdbWriteTxn& txn) -> Status {
    MQ_ASSIGN_OR_RETURN(bool removed, txn.Delete(dbs_.topics, name));
    if (!removed) return Status::NotFound("topic '" + std::string(name) + "' is not registered");
    return offsets_.DeleteTopic(txn, name).status();
  });
}

// ---- Subscription groups

Status MetadataStoreImpl::PutSubscriptionGroup(const SubscriptionGroupConfig& config) {
  MQ_RETURN_IF_ERROR(ValidateSubscriptionGroupConfig(config, max_queues_per_topic_));
  std::string value = EncodeGroupValue(config);
  return env_->Write(
      [&](LmdbWriteTxn& txn) { return txn.Put(dbs_.groups, config.group_name, value); });
}

Result<SubscriptionGroupConfig> MetadataStoreImpl::GetSubscriptionGroup(std::string_view group) {
  using Found = std::optional<SubscriptionGroupConfig>;
  MQ_ASSIGN_OR_RETURN(Found found, ReadValue<Found>(*env_, [&](LmdbReadTxn& txn) -> Result<Found> {
                        MQ_ASSIGN_OR_RETURN(std::optional<std::string_view> value,
                                            txn.Get(dbs_.groups, group));
                        if (!value) return Found();
                        SubscriptionGroupConfig config;
                        MQ_RETURN_IF_ERROR(DecodeGroupValue(group, *value, &config));
                        return Found(std::move(config));
                      }));
  if (!found) return Status::NotFound("group '" + std::string(group) + "' is not registered");
  return std::move(*found);
}

Result<std::vector<SubscriptionGroupConfig>> MetadataStoreImpl::ListSubscriptionGroups() {
  return ReadAll<SubscriptionGroupConfig>(*env_, dbs_.groups, DecodeGroupValue);
}

Status MetadataStoreImpl::DeleteSubscriptionGroup(std::string_view group, GroupOffsets offsets) {
  MQ_RETURN_IF_ERROR(ValidateGroupName(group));
  return env_->Write([&](LmdbWriteTxn& txn) -> Status {
    MQ_ASSIGN_OR_RETURN(bool removed, txn.Delete(dbs_.groups, group));
    if (!removed) return Status::NotFound("group '" + std::string(group) + "' is not registered");
    if (offsets == GroupOffsets::kKeep) return Status::OK();
    return offsets_.DeleteGroup(txn, group).status();
  });
}

// ---- Consumer offsets

Status MetadataStoreImpl::CheckOffset(const LmdbTxn& txn, const ConsumerOffset& offset) const {
  std::string where =
      "topic '" + offset.topic + "' queue " + std::to_string(offset.queue_id) + ": ";
  if (offset.offset < 0) {
    return Status::InvalidArgument(where + "offset " + std::to_string(offset.offset) +
                                   " is negative");
  }
  MQ_RETURN_IF_ERROR(ValidateTopic(offset.topic));
  MQ_ASSIGN_OR_RETURN(std::optional<TopicConfig> topic, FindTopic(txn, offset.topic));
  if (!topic) {
    return Status::NotFound(where + "topic '" + offset.topic +
                            "' is not registered; register it first");
  }
  int32_t queues = std::max(topic->read_queue_nums, topic->write_queue_nums);
  if (offset.queue_id < 0 || offset.queue_id >= queues) {
    return Status::InvalidArgument(where + "queue id " + std::to_string(offset.queue_id) +
                                   " is not one of the topic's " + std::to_string(queues) +
                                   " queues (0.." + std::to_string(queues - 1) + ")");
  }
  return Status::OK();
}

Status MetadataStoreImpl::CommitOffsets(std::string_view group,
                                        std::span<const ConsumerOffset> offsets) {
  MQ_RETURN_IF_ERROR(ValidateGroupName(group));
  if (offsets.empty()) return Status::OK();
  return env_->Write([&](LmdbWriteTxn& txn) -> Status {
    // Check the whole batch before writing any of it; an error aborts the transaction.
    for (const ConsumerOffset& offset : offsets) {
      MQ_RETURN_IF_ERROR(
          CheckOffset(txn, offset).WithContext("group '" + std::string(group) + "'"));
    }
    for (const ConsumerOffset& offset : offsets) {
      MQ_RETURN_IF_ERROR(offsets_.Put(txn, group, offset));
    }
    return Status::OK();
  });
}

Result<int64_t> MetadataStoreImpl::GetOffset(std::string_view group, std::string_view topic,
                                             int32_t queue_id) {
  MQ_RETURN_IF_ERROR(ValidateGroupName(group));
  MQ_RETURN_IF_ERROR(ValidateTopic(topic));
  MQ_ASSIGN_OR_RETURN(std::optional<int64_t> found,
                      ReadValue<std::optional<int64_t>>(*env_, [&](LmdbReadTxn& txn) {
                        return offsets_.Get(txn, group, topic, queue_id);
                      }));
  if (!found) {
    return Status::NotFound("group '" + std::string(group) + "' has no offset for topic '" +
                            std::string(topic) + "' queue " + std::to_string(queue_id));
  }
  return *found;
}

Result<std::vector<ConsumerOffset>> MetadataStoreImpl::GetGroupOffsets(std::string_view group) {
  MQ_RETURN_IF_ERROR(ValidateGroupName(group));
  return ReadValue<std::vector<ConsumerOffset>>(
      *env_, [&](LmdbReadTxn& txn) { return offsets_.ListGroup(txn, group); });
}

Result<std::vector<std::string>> MetadataStoreImpl::GetGroupsOfTopic(std::string_view topic) {
  MQ_RETURN_IF_ERROR(ValidateTopic(topic));
  return ReadValue<std::vector<std::string>>(
      *env_, [&](LmdbReadTxn& txn) { return offsets_.ListGroupsOfTopic(txn, topic); });
}

Result<uint64_t> MetadataStoreImpl::DeleteGroupOffsets(std::string_view group) {
  MQ_RETURN_IF_ERROR(ValidateGroupName(group));
  return WriteValue<uint64_t>(*env_,
                              [&](LmdbWriteTxn& txn) { return offsets_.DeleteGroup(txn, group); });
}

// ---- Delay / timer progress

Status MetadataStoreImpl::CommitScheduleProgress(std::span<const ScheduleProgress> progress) {
  for (const ScheduleProgress& p : progress) MQ_RETURN_IF_ERROR(ValidateScheduleProgress(p));
  if (progress.empty()) return Status::OK();
  return env_->Write([&](LmdbWriteTxn& txn) {
    for (const ScheduleProgress& p : progress) {
      MQ_RETURN_IF_ERROR(txn.Put(dbs_.schedule, p.name, EncodeScheduleValue(p)));
    }
    return Status::OK();
  });
}

Result<std::vector<ScheduleProgress>> MetadataStoreImpl::LoadScheduleProgress() {
  return ReadAll<ScheduleProgress>(*env_, dbs_.schedule, DecodeScheduleValue);
}

}  // namespace mqstore
