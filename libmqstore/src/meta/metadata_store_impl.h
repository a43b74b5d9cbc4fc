// MetadataStoreImpl: MetadataStore (mqstore/metadata.h) over one LMDB environment. Each
// public call is one LMDB transaction: a read runs in a read transaction, a change validates
// its input against the state inside the write transaction (so "the topic exists" and "the
// offset is written" cannot be split by a concurrent DeleteTopic) and commits durably.
//
// The databases and their encodings are in docs/format/meta.md; the consumer offsets and
// their per-topic index are kept in step by OffsetTable.
#ifndef MQSTORE_META_METADATA_STORE_IMPL_H_
#define MQSTORE_META_METADATA_STORE_IMPL_H_

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "meta/lmdb_env.h"
#include "meta/offset_table.h"
#include "mqstore/metadata.h"

namespace mqstore {

class MetadataStoreImpl final : public MetadataStore {
 public:
  // See OpenMetadataStore.
  static Result<std::unique_ptr<MetadataStoreImpl>> Open(const std::string& dir,
                                                         const MetadataOptions& options);

  Status PutTopic(const TopicConfig& config) override;
  Result<TopicConfig> GetTopic(std::string_view name) override;
  Result<std::vector<TopicConfig>> ListTopics() override;
  Status DeleteTopic(std::string_view name) override;

  Status PutSubscriptionGroup(const SubscriptionGroupConfig& config) override;
  Result<SubscriptionGroupConfig> GetSubscriptionGroup(std::string_view group) override;
  Result<std::vector<SubscriptionGroupConfig>> ListSubscriptionGroups() override;
  Status DeleteSubscriptionGroup(std::string_view group, GroupOffsets offsets) override;

  Status CommitOffsets(std::string_view group, std::span<const ConsumerOffset> offsets) override;
  Result<int64_t> GetOffset(std::string_view group, std::string_view topic,
                            int32_t queue_id) override;
  Result<std::vector<ConsumerOffset>> GetGroupOffsets(std::string_view group) override;
  Result<std::vector<std::string>> GetGroupsOfTopic(std::string_view topic) override;
  Result<uint64_t> DeleteGroupOffsets(std::string_view group) override;

  Status CommitScheduleProgress(std::span<const ScheduleProgress> progress) override;
  Result<std::vector<ScheduleProgress>> LoadScheduleProgress() override;

  struct Databases {
    LmdbDb store_info, topics, groups, offsets, topic_groups, schedule;
  };

  // The environment underneath and its databases, for tests (map size) and tools that walk
  // the raw entries (the inspector's metadata checks).
  const LmdbEnv& env() const { return *env_; }
  const Databases& databases() const { return dbs_; }

 private:
  MetadataStoreImpl(std::unique_ptr<LmdbEnv> env, const Databases& dbs, int32_t max_queues)
      : env_(std::move(env)),
        dbs_(dbs),
        offsets_(dbs.offsets, dbs.topic_groups),
        max_queues_per_topic_(max_queues) {}

  // Opens the databases of an existing environment, or creates them (and the format
  // version) in an empty one. kCorruption when the environment holds something else.
  static Status OpenDatabases(LmdbWriteTxn& txn, const std::string& dir, Databases* dbs);
  // The same for a read-only environment, which must already hold the databases.
  static Status OpenDatabasesReadOnly(const LmdbTxn& txn, const std::string& dir, Databases* dbs);
  // kCorruption / kNotSupported unless store_info holds this build's format version.
  static Status CheckFormatVersion(const LmdbTxn& txn, const LmdbDb& store_info,
                                   const std::string& dir);
  // Opens every database after store_info with `open` (create or not); a missing one is
  // kCorruption.
  static Status OpenDataDatabases(const std::function<Result<LmdbDb>(std::string_view)>& open,
                                  const std::string& dir, Databases* dbs);
  // The topic's config as of `txn`; nullopt when not registered.
  Result<std::optional<TopicConfig>> FindTopic(const LmdbTxn& txn, std::string_view name) const;
  // kInvalidArgument / kNotFound when `offset` may not be committed as of `txn`.
  Status CheckOffset(const LmdbTxn& txn, const ConsumerOffset& offset) const;

  const std::unique_ptr<LmdbEnv> env_;
  const Databases dbs_;
  const OffsetTable offsets_;
  const int32_t max_queues_per_topic_;
};

}  // namespace mqstore

#endif  // MQSTORE_META_METADATA_STORE_IMPL_H_
