// MetadataStore: the broker's small, transactional state next to the message data (topics,
// subscription groups, consumer offsets, delay/timer progress), kept in an LMDB environment
// in <store>/meta/ (docs/format/meta.md).
//
// RocketMQ keeps this state in JSON files (config/topics.json, consumerOffset.json,
// subscriptionGroup.json, delayOffset.json) rewritten every few seconds, so a crash loses the
// offsets committed since the last rewrite and consumers see those messages again. Here
// every call that changes something is one LMDB transaction: it commits entirely or not at
// all, and it is durable (fdatasync'ed) when the call returns OK.
//
// Example:
//   auto meta = mqstore::OpenMetadataStore("/var/lib/mqstore/meta", {}).value();
//   mqstore::TopicConfig topic;
//   topic.name = "Orders";
//   topic.read_queue_nums = topic.write_queue_nums = 4;
//   Status s = meta->PutTopic(topic);
//   mqstore::ConsumerOffset offsets[] = {{"Orders", 0, 42}, {"Orders", 1, 17}};
//   s = meta->CommitOffsets("OrderProcessors", offsets);   // both or neither
//
// Thread safety: a MetadataStore is safe for concurrent use by any number of threads.
// Reads run in parallel and do not wait for writers (only, rarely, for the map to grow);
// writes are serialised. Every method returns a Status or Result; none throws.
#ifndef MQSTORE_METADATA_H_
#define MQSTORE_METADATA_H_

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/status.h"

namespace mqstore {

// Topic permission bits (RocketMQ's PermName). A valid topic perm is 0..7: the priority bit
// (8) belongs to brokers, not topics.
namespace perm {
inline constexpr int32_t kInherit = 1;
inline constexpr int32_t kWrite = 2;
inline constexpr int32_t kRead = 4;
inline constexpr int32_t kReadWrite = kRead | kWrite;
}  // namespace perm

// How a topic's messages are tagged (RocketMQ's TopicFilterType).
enum class TopicFilterType : uint8_t {
  kSingleTag = 0,
  kMultiTag = 1,
};

// A topic as the broker registers it. Defaults are RocketMQ's TopicConfig defaults.
struct TopicConfig {
  // Topic name rules are the commit log's: 1..127 characters of [A-Za-z0-9_|%-], or up to
  // 255 for retry topics ("%RETRY%<group>").
  std::string name;
  // Queues consumers read from, and queues producers write to: 1..max_queues_per_topic.
  // A queue id is valid for the topic when it is below the larger of the two.
  int32_t read_queue_nums = 16;
  int32_t write_queue_nums = 16;
  // perm:: bits, 0..7. Default: read and write.
  int32_t perm = perm::kReadWrite;
  TopicFilterType filter_type = TopicFilterType::kSingleTag;
  // RocketMQ's topicSysFlag, kept as given (unit/unit-sub bits).
  int32_t topic_sys_flag = 0;
  // Ordered topic: consumers lock queues and consume each in order.
  bool order = false;
  // Free-form attributes (RocketMQ 5's topic attributes, e.g. "message.type" -> "NORMAL").
  // Keys are 1..255 bytes, values at most 65535 bytes, at most 65535 entries.
  std::map<std::string, std::string> attributes;

  bool operator==(const TopicConfig&) const = default;
};

// A consumer group's settings. Defaults are RocketMQ's SubscriptionGroupConfig defaults.
struct SubscriptionGroupConfig {
  // 1..248 characters of [A-Za-z0-9_|%-]: the group's retry topic "%RETRY%<group>" must
  // itself be a valid topic name.
  std::string group_name;
  bool consume_enable = true;
  bool consume_from_min_enable = true;
  bool consume_broadcast_enable = true;
  bool consume_message_orderly = false;
  // Queues of the group's retry topic. 0..max_queues_per_topic. Default: 1.
  int32_t retry_queue_nums = 1;
  // Deliveries before a message goes to the dead-letter topic. >= 0. Default: 16.
  int32_t retry_max_times = 16;
  // Broker consumers pull from (0 = master), and the one they move to when they fall behind.
  int64_t broker_id = 0;
  int64_t which_broker_when_consume_slowly = 1;
  // Push NOTIFY_CONSUMER_IDS_CHANGED to the group's clients when membership changes.
  bool notify_consumer_ids_changed_enable = true;
  int32_t group_sys_flag = 0;
  // Minutes a pushed message may stay unacknowledged. >= 0. Default: 15.
  int32_t consume_timeout_minute = 15;
  // Same limits as TopicConfig::attributes.
  std::map<std::string, std::string> attributes;

  bool operator==(const SubscriptionGroupConfig&) const = default;
};

// A consumer group's committed position in one queue: the offset of the next message the
// group will consume from (topic, queue_id).
struct ConsumerOffset {
  std::string topic;
  int32_t queue_id = 0;
  int64_t offset = 0;

  bool operator==(const ConsumerOffset&) const = default;
};

// How far one scheduler has got, e.g. one entry per delay level ("delay-level-3") or one
// for the timer wheel. What offset and timestamp mean is the scheduler's business; both are
// >= 0. Names are 1..255 bytes.
struct ScheduleProgress {
  std::string name;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;

  bool operator==(const ScheduleProgress&) const = default;
};

// Whether deleting a subscription group also deletes its consumer offsets (RocketMQ's admin
// command keeps them unless asked).
enum class GroupOffsets { kKeep, kDelete };

struct MetadataOptions {
  // Create the directory and an empty environment when missing. Default: true.
  bool create_if_missing = true;
  // LMDB map size at open. Address space only: the data file grows as it is written.
  // A multiple of 4096, at least 64 KiB. Default: 1 GiB (millions of offsets).
  uint64_t initial_map_bytes = 1ull << 30;
  // The map doubles when a write does not fit, up to this size; then writes fail with
  // kResourceExhausted. Default: 64 GiB.
  uint64_t max_map_bytes = 64ull << 30;
  // Read transactions that may run at once (LMDB reader slots). Default: 256.
  uint32_t max_readers = 256;
  // Largest read/write queue count of a topic and retry queue count of a group, 1..65536.
  // RocketMQ sets no limit; each queue is a directory of consume-queue files, so this
  // bound stops a typo from creating a million of them. Default: 1024 (RocketMQ creates 16
  // per topic by default, 8 when auto-creating).
  int32_t max_queues_per_topic = 1024;
  // Open an existing store for reading only (inspection tools): data.mdb is opened and
  // mapped read-only (MDB_RDONLY), create_if_missing is ignored, and every call that would
  // change something fails with kFailedPrecondition. Reading next to a process that has the
  // store open for writing is safe: the reader registers in LMDB's reader table in lock.mdb
  // (LMDB's shared memory, not data). Default: false.
  bool read_only = false;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // ---- Topics

  // Creates the topic or replaces its config. Consumer offsets are kept, even for queue
  // ids a smaller queue count no longer covers. Errors: kInvalidArgument (naming the field).
  virtual Status PutTopic(const TopicConfig& config) = 0;
  // kNotFound when the topic is not registered.
  virtual Result<TopicConfig> GetTopic(std::string_view name) = 0;
  // Every topic, sorted by name.
  virtual Result<std::vector<TopicConfig>> ListTopics() = 0;
  // Removes the topic and, in the same transaction, every group's offsets for it.
  // kNotFound when it is not registered.
  virtual Status DeleteTopic(std::string_view name) = 0;

  // ---- Subscription groups

  // Creates the group or replaces its config. Errors: kInvalidArgument.
  virtual Status PutSubscriptionGroup(const SubscriptionGroupConfig& config) = 0;
  // kNotFound when the group is not registered.
  virtual Result<SubscriptionGroupConfig> GetSubscriptionGroup(std::string_view group) = 0;
  // Every group, sorted by name.
  virtual Result<std::vector<SubscriptionGroupConfig>> ListSubscriptionGroups() = 0;
  // Removes the group's config and, with GroupOffsets::kDelete, its offsets in the same
  // transaction. kNotFound when the group is not registered.
  virtual Status DeleteSubscriptionGroup(std::string_view group, GroupOffsets offsets) = 0;

  // ---- Consumer offsets (a group need not be registered to commit offsets)

  // Commits `offsets` for `group` atomically: all of them or, on any error, none. A later
  // entry for the same (topic, queue) wins. An empty batch succeeds and writes nothing.
  // Errors: kInvalidArgument (bad group name, negative offset, queue id outside the topic's
  // queues), kNotFound (topic not registered); each names the offending value.
  virtual Status CommitOffsets(std::string_view group, std::span<const ConsumerOffset> offsets) = 0;
  // The committed offset; kNotFound when the group has none for that queue.
  virtual Result<int64_t> GetOffset(std::string_view group, std::string_view topic,
                                    int32_t queue_id) = 0;
  // Every offset of `group`, sorted by (topic, queue id). Empty when it has none.
  virtual Result<std::vector<ConsumerOffset>> GetGroupOffsets(std::string_view group) = 0;
  // The groups that have at least one offset for `topic`, sorted.
  virtual Result<std::vector<std::string>> GetGroupsOfTopic(std::string_view topic) = 0;
  // Removes every offset of `group`; returns how many. Not an error when there are none.
  virtual Result<uint64_t> DeleteGroupOffsets(std::string_view group) = 0;

  // ---- Delay / timer progress

  // Stores every entry atomically (a later entry with the same name wins). Errors:
  // kInvalidArgument (empty or long name, negative offset or timestamp); nothing is stored.
  virtual Status CommitScheduleProgress(std::span<const ScheduleProgress> progress) = 0;
  // Every stored entry, sorted by name.
  virtual Result<std::vector<ScheduleProgress>> LoadScheduleProgress() = 0;
};

// Opens (or creates) the metadata environment in directory `dir`, normally <store>/meta.
// One process may have a directory open once at a time. Errors: kInvalidArgument (options),
// kNotFound (missing and !create_if_missing or read_only), kFailedPrecondition (already open in
// this process), kCorruption (not an LMDB environment, not mqstore metadata, or damaged; the
// message names the path), kNotSupported (a newer metadata format version), kIOError.
Result<std::unique_ptr<MetadataStore>> OpenMetadataStore(const std::string& dir,
                                                         const MetadataOptions& options);

}  // namespace mqstore

#endif  // MQSTORE_METADATA_H_
