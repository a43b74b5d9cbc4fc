#include "meta/meta_validation.h"

#include <string>

#include "log/record_codec.h"

namespace mqstore {

namespace {

Status CheckRange(std::string_view what, std::string_view field, int64_t value, int64_t lo,
                  int64_t hi) {
  if (value >= lo && value <= hi) return Status::OK();
  return Status::InvalidArgument(std::string(what) + ": " + std::string(field) + " " +
                                 std::to_string(value) + " is outside " + std::to_string(lo) +
                                 ".." + std::to_string(hi));
}

}  // namespace

Status ValidateGroupName(std::string_view group) {
  if (group.empty()) return Status::InvalidArgument("group name is empty");
  if (group.size() > kMaxGroupNameLength) {
    return Status::InvalidArgument("group name is " + std::to_string(group.size()) +
                                   " characters; the limit is " +
                                   std::to_string(kMaxGroupNameLength) +
                                   " so that its retry topic %RETRY%<group> is a valid topic");
  }
  std::string retry_topic = "%RETRY%" + std::string(group);
  return ValidateTopic(retry_topic).WithContext("group '" + std::string(group) + "'");
}

Status ValidateAttributes(const std::map<std::string, std::string>& attributes,
                          std::string_view owner) {
  if (attributes.size() > kMaxAttributes) {
    return Status::InvalidArgument(std::string(owner) + " has " +
                                   std::to_string(attributes.size()) +
                                   " attributes; the limit is " + std::to_string(kMaxAttributes));
  }
  for (const auto& [key, value] : attributes) {
    if (key.empty() || key.size() > kMaxAttributeKeyLength) {
      return Status::InvalidArgument(std::string(owner) + ": attribute key '" + key + "' is " +
                                     std::to_string(key.size()) + " bytes; keys are 1.." +
                                     std::to_string(kMaxAttributeKeyLength));
    }
    if (value.size() > kMaxAttributeValueLength) {
      return Status::InvalidArgument(std::string(owner) + ": attribute '" + key + "' is " +
                                     std::to_string(value.size()) + " bytes; the limit is " +
                                     std::to_string(kMaxAttributeValueLength));
    }
  }
  return Status::OK();
}

Status ValidateTopicConfig(const TopicConfig& config, int32_t max_queues_per_topic) {
  MQ_RETURN_IF_ERROR(ValidateTopic(config.name));
  std::string what = "topic '" + config.name + "'";
  MQ_RETURN_IF_ERROR(
      CheckRange(what, "read_queue_nums", config.read_queue_nums, 1, max_queues_per_topic));
  MQ_RETURN_IF_ERROR(
      CheckRange(what, "write_queue_nums", config.write_queue_nums, 1, max_queues_per_topic));
  MQ_RETURN_IF_ERROR(
      CheckRange(what, "perm", config.perm, 0, perm::kRead | perm::kWrite | perm::kInherit));
  if (config.filter_type != TopicFilterType::kSingleTag &&
      config.filter_type != TopicFilterType::kMultiTag) {
    return Status::InvalidArgument(what + ": filter type " +
                                   std::to_string(static_cast<int>(config.filter_type)) +
                                   " is neither SINGLE_TAG (0) nor MULTI_TAG (1)");
  }
  return ValidateAttributes(config.attributes, what);
}

Status ValidateSubscriptionGroupConfig(const SubscriptionGroupConfig& config,
                                       int32_t max_queues_per_topic) {
  MQ_RETURN_IF_ERROR(ValidateGroupName(config.group_name));
  std::string what = "group '" + config.group_name + "'";
  MQ_RETURN_IF_ERROR(
      CheckRange(what, "retry_queue_nums", config.retry_queue_nums, 0, max_queues_per_topic));
  MQ_RETURN_IF_ERROR(CheckRange(what, "retry_max_times", config.retry_max_times, 0, INT32_MAX));
  MQ_RETURN_IF_ERROR(CheckRange(what, "broker_id", config.broker_id, 0, INT64_MAX));
  MQ_RETURN_IF_ERROR(CheckRange(what, "which_broker_when_consume_slowly",
                                config.which_broker_when_consume_slowly, 0, INT64_MAX));
  MQ_RETURN_IF_ERROR(
      CheckRange(what, "consume_timeout_minute", config.consume_timeout_minute, 0, INT32_MAX));
  return ValidateAttributes(config.attributes, what);
}

Status ValidateScheduleProgress(const ScheduleProgress& progress) {
  if (progress.name.empty() || progress.name.size() > kMaxScheduleNameLength) {
    return Status::InvalidArgument("schedule name '" + progress.name + "' is " +
                                   std::to_string(progress.name.size()) + " bytes; names are 1.." +
                                   std::to_string(kMaxScheduleNameLength));
  }
  std::string what = "schedule '" + progress.name + "'";
  MQ_RETURN_IF_ERROR(CheckRange(what, "offset", progress.offset, 0, INT64_MAX));
  return CheckRange(what, "timestamp_ms", progress.timestamp_ms, 0, INT64_MAX);
}

}  // namespace mqstore
