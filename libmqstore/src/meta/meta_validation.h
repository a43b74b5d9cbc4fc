// The rules a topic, group or schedule entry must meet before the metadata store writes it.
// Each check returns kInvalidArgument naming the field and the value that broke the rule.
//
// Topic names follow the commit log's rule (ValidateTopic in log/record_codec.h), so a
// topic that can be registered can also be written to. A group name must make a valid retry
// topic "%RETRY%<group>", which bounds it at 248 characters of the same set and keeps every
// offsets key within LMDB's 511-byte key limit (docs/format/meta.md).
#ifndef MQSTORE_META_META_VALIDATION_H_
#define MQSTORE_META_META_VALIDATION_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "mqstore/metadata.h"
#include "mqstore/status.h"

namespace mqstore {

inline constexpr size_t kMaxGroupNameLength = 248;
inline constexpr size_t kMaxScheduleNameLength = 255;
inline constexpr size_t kMaxAttributeKeyLength = 255;
inline constexpr size_t kMaxAttributeValueLength = 65535;
inline constexpr size_t kMaxAttributes = 65535;
inline constexpr int32_t kMaxQueuesPerTopicLimit = 65536;

Status ValidateGroupName(std::string_view group);
Status ValidateTopicConfig(const TopicConfig& config, int32_t max_queues_per_topic);
Status ValidateSubscriptionGroupConfig(const SubscriptionGroupConfig& config,
                                       int32_t max_queues_per_topic);
Status ValidateScheduleProgress(const ScheduleProgress& progress);
// `owner` names what the attributes belong to, for the message.
Status ValidateAttributes(const std::map<std::string, std::string>& attributes,
                          std::string_view owner);

}  // namespace mqstore

#endif  // MQSTORE_META_META_VALIDATION_H_
