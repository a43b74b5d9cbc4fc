// Keys and values of the metadata databases, byte by byte as docs/format/meta.md shows them.
//
// Integers are big-endian (mqstore/coding.h), so integer key parts sort numerically under
// LMDB's bytewise key order. Names inside composite keys end in a 0x00 byte: names cannot
// contain one (their character set is [A-Za-z0-9_|%-]), and "group 0x00" is then a prefix
// of exactly that group's keys. Every value starts with a version byte so that a value
// layout can change without a new database; a decoder rejects versions it does not know
// (kNotSupported) and bytes that do not parse (kCorruption).
#ifndef MQSTORE_META_META_CODEC_H_
#define MQSTORE_META_META_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "mqstore/metadata.h"
#include "mqstore/status.h"

namespace mqstore {

// Version of the whole layout (database set and key encodings), stored once per
// environment in the "store_info" database under the key "format_version".
inline constexpr uint32_t kMetaFormatVersion = 1;
// The first byte of every value this version writes.
inline constexpr uint8_t kMetaValueVersion = 1;

// Database names.
inline constexpr std::string_view kStoreInfoDb = "store_info";
inline constexpr std::string_view kTopicsDb = "topics";
inline constexpr std::string_view kGroupsDb = "groups";
inline constexpr std::string_view kOffsetsDb = "offsets";
inline constexpr std::string_view kTopicGroupsDb = "topic_groups";
inline constexpr std::string_view kScheduleDb = "schedule";
inline constexpr std::string_view kFormatVersionKey = "format_version";

// store_info["format_version"]: uint32.
std::string EncodeFormatVersion(uint32_t version);
Status DecodeFormatVersion(std::string_view value, uint32_t* version);

// topics[name]: the config without its name (the key is the name).
std::string EncodeTopicValue(const TopicConfig& config);
Status DecodeTopicValue(std::string_view name, std::string_view value, TopicConfig* out);

// groups[name]: the config without its name.
std::string EncodeGroupValue(const SubscriptionGroupConfig& config);
Status DecodeGroupValue(std::string_view name, std::string_view value,
                        SubscriptionGroupConfig* out);

// offsets[group 0x00 topic 0x00 queue_id(4)]: offset.
std::string OffsetKey(std::string_view group, std::string_view topic, int32_t queue_id);
// The prefix of every offsets key of `group`.
std::string OffsetKeyPrefix(std::string_view group);
// The prefix of the offsets keys of `group` for `topic`.
std::string OffsetKeyPrefix(std::string_view group, std::string_view topic);
// Views point into `key`.
Status DecodeOffsetKey(std::string_view key, std::string_view* group, std::string_view* topic,
                       int32_t* queue_id);
std::string EncodeOffsetValue(int64_t offset);
Status DecodeOffsetValue(std::string_view value, int64_t* offset);

// topic_groups[topic 0x00 group]: empty. Present exactly when offsets holds at least one
// key of (group, topic).
std::string TopicGroupKey(std::string_view topic, std::string_view group);
std::string TopicGroupKeyPrefix(std::string_view topic);
Status DecodeTopicGroupKey(std::string_view key, std::string_view* topic, std::string_view* group);

// schedule[name]: offset, timestamp.
std::string EncodeScheduleValue(const ScheduleProgress& progress);
Status DecodeScheduleValue(std::string_view name, std::string_view value, ScheduleProgress* out);

}  // namespace mqstore

#endif  // MQSTORE_META_META_CODEC_H_
