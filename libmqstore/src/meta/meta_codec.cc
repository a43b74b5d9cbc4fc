#include "meta/meta_codec.h"

#include <utility>

#include "mqstore/coding.h"

namespace mqstore {

namespace {

// Topic flag bits.
constexpr uint8_t kTopicOrder = 0x01;
// Group flag bits.
constexpr uint8_t kGroupConsumeEnable = 0x01;
constexpr uint8_t kGroupConsumeFromMinEnable = 0x02;
constexpr uint8_t kGroupConsumeBroadcastEnable = 0x04;
constexpr uint8_t kGroupConsumeMessageOrderly = 0x08;
constexpr uint8_t kGroupNotifyConsumerIdsChanged = 0x10;
constexpr uint8_t kGroupFlagsKnown = 0x1F;

void PutU8(std::string* dst, uint8_t v) { dst->push_back(static_cast<char>(v)); }
void PutI32(std::string* dst, int32_t v) { PutBig32(dst, static_cast<uint32_t>(v)); }
void PutI64(std::string* dst, int64_t v) { PutBig64(dst, static_cast<uint64_t>(v)); }

// REQUIRES: the attribute limits of metadata.h (checked by meta_validation).
void PutAttributes(std::string* dst, const std::map<std::string, std::string>& attributes) {
  PutBig16(dst, static_cast<uint16_t>(attributes.size()));
  for (const auto& [key, value] : attributes) {
    PutBig16(dst, static_cast<uint16_t>(key.size()));
    dst->append(key);
    PutBig16(dst, static_cast<uint16_t>(value.size()));
    dst->append(value);
  }
}

// Parses one value: checks the version byte, then reads fields front to back. The first
// failure sticks; Finish() reports it (or trailing bytes) with `what` as context.
class ValueReader {
 public:
  ValueReader(std::string what, std::string_view value) : what_(std::move(what)), in_(value) {
    uint8_t version = 0;
    if (!U8(&version)) return;
    if (version != kMetaValueVersion) {
      status_ = Status::NotSupported(what_ + " has value version " + std::to_string(version) +
                                     "; this build reads " + std::to_string(kMetaValueVersion));
    }
  }

  bool U8(uint8_t* v) {
    if (!status_.ok()) return false;
    if (in_.empty()) return Fail("is truncated");
    *v = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return true;
  }
  bool I32(int32_t* v) {
    uint32_t u = 0;
    if (!status_.ok()) return false;
    if (!GetBig32(&in_, &u)) return Fail("is truncated");
    *v = static_cast<int32_t>(u);
    return true;
  }
  bool I64(int64_t* v) {
    uint64_t u = 0;
    if (!status_.ok()) return false;
    if (!GetBig64(&in_, &u)) return Fail("is truncated");
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool Attributes(std::map<std::string, std::string>* out) {
    uint16_t count = 0;
    if (!status_.ok()) return false;
    if (!GetBig16(&in_, &count)) return Fail("is truncated");
    out->clear();
    for (uint16_t i = 0; i < count; ++i) {
      std::string_view key, value;
      if (!String16(&key) || !String16(&value)) return false;
      if (key.empty()) return Fail("has an attribute with an empty key");
      if (!out->emplace(key, value).second) return Fail("has a duplicate attribute key");
    }
    return true;
  }
  bool Fail(std::string_view problem) {
    if (status_.ok()) status_ = Status::Corruption(what_ + " " + std::string(problem));
    return false;
  }
  Status Finish() {
    if (status_.ok() && !in_.empty()) {
      Fail("has " + std::to_string(in_.size()) + " bytes after its last field");
    }
    return status_;
  }

 private:
  bool String16(std::string_view* s) {
    uint16_t len = 0;
    if (!GetBig16(&in_, &len) || !GetBytes(&in_, len, s)) return Fail("is truncated");
    return true;
  }

  const std::string what_;
  std::string_view in_;
  Status status_;
};

std::string Quoted(std::string_view db, std::string_view key) {
  return std::string(db) + "['" + std::string(key) + "']";
}

// Splits `key` at its first 0x00: `*head` before it, `*rest` after it.
bool SplitName(std::string_view key, std::string_view* head, std::string_view* rest) {
  size_t nul = key.find('\0');
  if (nul == std::string_view::npos || nul == 0) return false;
  *head = key.substr(0, nul);
  *rest = key.substr(nul + 1);
  return true;
}

}  // namespace

std::string EncodeFormatVersion(uint32_t version) {
  std::string out;
  PutBig32(&out, version);
  return out;
}

Status DecodeFormatVersion(std::string_view value, uint32_t* version) {
  if (value.size() != 4) {
    return Status::Corruption("store_info['format_version'] is " + std::to_string(value.size()) +
                              " bytes, not 4");
  }
  *version = DecodeBig32(value.data());
  return Status::OK();
}

std::string EncodeTopicValue(const TopicConfig& config) {
  std::string out;
  PutU8(&out, kMetaValueVersion);
  PutI32(&out, config.read_queue_nums);
  PutI32(&out, config.write_queue_nums);
  PutI32(&out, config.perm);
  PutU8(&out, static_cast<uint8_t>(config.filter_type));
  PutU8(&out, config.order ? kTopicOrder : 0);
  PutI32(&out, config.topic_sys_flag);
  PutAttributes(&out, config.attributes);
  return out;
}

Status DecodeTopicValue(std::string_view name, std::string_view value, TopicConfig* out) {
  TopicConfig c;
  c.name = std::string(name);
  ValueReader r(Quoted(kTopicsDb, name), value);
  uint8_t filter = 0, flags = 0;
  if (r.I32(&c.read_queue_nums) && r.I32(&c.write_queue_nums) && r.I32(&c.perm) && r.U8(&filter) &&
      r.U8(&flags) && r.I32(&c.topic_sys_flag) && r.Attributes(&c.attributes)) {
    if (filter > static_cast<uint8_t>(TopicFilterType::kMultiTag)) {
      r.Fail("has filter type " + std::to_string(filter));
    } else if ((flags & ~kTopicOrder) != 0) {
      r.Fail("has unknown flag bits " + std::to_string(flags));
    }
  }
  MQ_RETURN_IF_ERROR(r.Finish());
  c.filter_type = static_cast<TopicFilterType>(filter);
  c.order = (flags & kTopicOrder) != 0;
  *out = std::move(c);
  return Status::OK();
}

std::string EncodeGroupValue(const SubscriptionGroupConfig& config) {
  uint8_t flags = 0;
  if (config.consume_enable) flags |= kGroupConsumeEnable;
  if (config.consume_from_min_enable) flags |= kGroupConsumeFromMinEnable;
  if (config.consume_broadcast_enable) flags |= kGroupConsumeBroadcastEnable;
  if (config.consume_message_orderly) flags |= kGroupConsumeMessageOrderly;
  if (config.notify_consumer_ids_changed_enable) flags |= kGroupNotifyConsumerIdsChanged;
  std::string out;
  PutU8(&out, kMetaValueVersion);
  PutU8(&out, flags);
  PutI32(&out, config.retry_queue_nums);
  PutI32(&out, config.retry_max_times);
  PutI64(&out, config.broker_id);
  PutI64(&out, config.which_broker_when_consume_slowly);
  PutI32(&out, config.group_sys_flag);
  PutI32(&out, config.consume_timeout_minute);
  PutAttributes(&out, config.attributes);
  return out;
}

Status DecodeGroupValue(std::string_view name, std::string_view value,
                        SubscriptionGroupConfig* out) {
  SubscriptionGroupConfig c;
  c.group_name = std::string(name);
  ValueReader r(Quoted(kGroupsDb, name), value);
  uint8_t flags = 0;
  if (r.U8(&flags) && r.I32(&c.retry_queue_nums) && r.I32(&c.retry_max_times) &&
      r.I64(&c.broker_id) && r.I64(&c.which_broker_when_consume_slowly) &&
      r.I32(&c.group_sys_flag) && r.I32(&c.consume_timeout_minute) && r.Attributes(&c.attributes)) {
    if ((flags & ~kGroupFlagsKnown) != 0) r.Fail("has unknown flag bits " + std::to_string(flags));
  }
  MQ_RETURN_IF_ERROR(r.Finish());
  c.consume_enable = (flags & kGroupConsumeEnable) != 0;
  c.consume_from_min_enable = (flags & kGroupConsumeFromMinEnable) != 0;
  c.consume_broadcast_enable = (flags & kGroupConsumeBroadcastEnable) != 0;
  c.consume_message_orderly = (flags & kGroupConsumeMessageOrderly) != 0;
  c.notify_consumer_ids_changed_enable = (flags & kGroupNotifyConsumerIdsChanged) != 0;
  *out = std::move(c);
  return Status::OK();
}

std::string OffsetKey(std::string_view group, std::string_view topic, int32_t queue_id) {
  std::string key = OffsetKeyPrefix(group, topic);
  PutI32(&key, queue_id);
  return key;
}

std::string OffsetKeyPrefix(std::string_view group) {
  std::string key(group);
  key.push_back('\0');
  return key;
}

std::string OffsetKeyPrefix(std::string_view group, std::string_view topic) {
  std::string key = OffsetKeyPrefix(group);
  key.append(topic);
  key.push_back('\0');
  return key;
}

Status DecodeOffsetKey(std::string_view key, std::string_view* group, std::string_view* topic,
                       int32_t* queue_id) {
  std::string_view rest, tail;
  if (!SplitName(key, group, &rest) || !SplitName(rest, topic, &tail) || tail.size() != 4) {
    return Status::Corruption("offsets key of " + std::to_string(key.size()) +
                              " bytes is not group 0x00 topic 0x00 queue_id(4)");
  }
  *queue_id = static_cast<int32_t>(DecodeBig32(tail.data()));
  return Status::OK();
}

std::string EncodeOffsetValue(int64_t offset) {
  std::string out;
  PutU8(&out, kMetaValueVersion);
  PutI64(&out, offset);
  return out;
}

Status DecodeOffsetValue(std::string_view value, int64_t* offset) {
  ValueReader r("offsets value", value);
  if (r.I64(offset) && *offset < 0) r.Fail("holds negative offset " + std::to_string(*offset));
  return r.Finish();
}

std::string TopicGroupKey(std::string_view topic, std::string_view group) {
  std::string key = TopicGroupKeyPrefix(topic);
  key.append(group);
  return key;
}

std::string TopicGroupKeyPrefix(std::string_view topic) {
  std::string key(topic);
  key.push_back('\0');
  return key;
}

Status DecodeTopicGroupKey(std::string_view key, std::string_view* topic, std::string_view* group) {
  if (!SplitName(key, topic, group) || group->empty() ||
      group->find('\0') != std::string_view::npos) {
    return Status::Corruption("topic_groups key of " + std::to_string(key.size()) +
                              " bytes is not topic 0x00 group");
  }
  return Status::OK();
}

std::string EncodeScheduleValue(const ScheduleProgress& progress) {
  std::string out;
  PutU8(&out, kMetaValueVersion);
  PutI64(&out, progress.offset);
  PutI64(&out, progress.timestamp_ms);
  return out;
}

Status DecodeScheduleValue(std::string_view name, std::string_view value, ScheduleProgress* out) {
  ScheduleProgress p;
  p.name = std::string(name);
  ValueReader r(Quoted(kScheduleDb, name), value);
  if (r.I64(&p.offset) && r.I64(&p.timestamp_ms) && (p.offset < 0 || p.timestamp_ms < 0)) {
    r.Fail("holds a negative offset or timestamp");
  }
  MQ_RETURN_IF_ERROR(r.Finish());
  *out = std::move(p);
  return Status::OK();
}

}  // namespace mqstore
