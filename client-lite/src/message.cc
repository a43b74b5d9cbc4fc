#include "mqclient/message.h"

#include <array>

#include "mqstore/coding.h"
#include "mqstore/compression.h"

namespace mqclient {

namespace {

// RocketMQ's MessageConst system property names that producers do not set themselves.
constexpr std::array<std::string_view, 24> kSystemProperties = {"KEYS",
                                                                "TAGS",
                                                                "WAIT",
                                                                "DELAY",
                                                                "RETRY_TOPIC",
                                                                "REAL_TOPIC",
                                                                "REAL_QID",
                                                                "TRAN_MSG",
                                                                "PGROUP",
                                                                "MIN_OFFSET",
                                                                "MAX_OFFSET",
                                                                "BUYER_ID",
                                                                "ORIGIN_MESSAGE_ID",
                                                                "TRANSFER_FLAG",
                                                                "CORRECTION_FLAG",
                                                                "MQ2_FLAG",
                                                                "RECONSUME_TIME",
                                                                "MSG_REGION",
                                                                "TRACE_ON",
                                                                "UNIQ_KEY",
                                                                "MAX_RECONSUME_TIMES",
                                                                "CONSUME_START_TIME",
                                                                "CLUSTER",
                                                                "__CRC32#"};

}  // namespace

std::string MessageQueue::ToString() const {
  return "MessageQueue [topic=" + topic + ", brokerName=" + broker_name +
         ", queueId=" + std::to_string(queue_id) + "]";
}

bool IsSystemProperty(std::string_view name) {
  for (std::string_view reserved : kSystemProperties) {
    if (name == reserved) return true;
  }
  return name.starts_with("TRAN_") || name.starts_with("__");
}

std::map<std::string, std::string> ReceivedMessage::UserProperties() const {
  std::map<std::string, std::string> user;
  for (const auto& [name, value] : properties) {
    if (!IsSystemProperty(name)) user.emplace(name, value);
  }
  return user;
}

std::string EncodeSendProperties(const Message& message, std::string_view unique_id) {
  // Sized once: this runs for every message, and growing a string from empty reallocates it
  // three or four times on the way.
  size_t size = message.tags.size() + message.keys.size() + unique_id.size() + 64;
  for (const auto& [name, value] : message.user_properties) size += name.size() + value.size() + 2;
  std::string encoded;
  encoded.reserve(size);
  if (!message.tags.empty())
    mqstore::AppendProperty(mqstore::property::kTags, message.tags, &encoded);
  if (!message.keys.empty())
    mqstore::AppendProperty(mqstore::property::kKeys, message.keys, &encoded);
  if (message.delay_level > 0) {
    mqstore::AppendProperty(mqstore::property::kDelayLevel, std::to_string(message.delay_level),
                            &encoded);
  }
  mqstore::AppendProperty(mqstore::property::kWaitStoreMsgOk, "true", &encoded);
  for (const auto& [name, value] : message.user_properties) {
    mqstore::AppendProperty(name, value, &encoded);
  }
  mqstore::AppendProperty(mqstore::property::kUniqueKey, unique_id, &encoded);
  return encoded;
}

Result<std::vector<ReceivedMessage>> DecodeMessages(std::string_view body) {
  std::vector<ReceivedMessage> messages;
  while (!body.empty()) {
    std::string_view size_bytes = body;
    uint32_t total_size = 0;
    if (!mqstore::GetBig32(&size_bytes, &total_size) || total_size < 4 ||
        total_size > body.size()) {
      return Status::Corruption("message " + std::to_string(messages.size()) +
                                ": record size does not fit the body");
    }
    mqstore::ParsedRecord record;
    MQ_RETURN_IF_ERROR(
        mqstore::ParseRecord(body.substr(0, total_size), /*verify_checksums=*/false, &record));
    body.remove_prefix(total_size);
    ReceivedMessage m;
    m.topic = std::string(record.topic);
    m.queue_id = record.queue_id;
    m.queue_offset = record.queue_offset;
    m.commit_log_offset = record.physical_offset;
    m.body = std::string(record.body);
    m.flag = record.flag;
    m.sys_flag = record.sys_flag;
    if ((record.sys_flag & mqstore::sysflag::kCompressed) != 0) {
      // The body as the producer wrote it. One that does not inflate (LZ4, damaged) stays as
      // stored, its sys_flag still saying so, rather than failing the messages around it.
      if (Result<std::string> inflated = mqstore::DecompressBody(record.body, record.sys_flag);
          inflated.ok()) {
        m.body = std::move(inflated).value();
        m.sys_flag &= ~(mqstore::sysflag::kCompressed | mqstore::sysflag::kCompressionTypeMask);
      }
    }
    m.reconsume_times = record.reconsume_times;
    m.born_timestamp_ms = record.born_timestamp_ms;
    m.store_timestamp_ms = record.store_timestamp_ms;
    m.born_host = record.born_host.ToString();
    m.store_host = record.store_host.ToString();
    m.msg_id = mqstore::MakeOffsetMessageId(record.store_host, record.physical_offset);
    mqstore::ForEachProperty(record.properties,
                             [&m](std::string_view name, std::string_view value) {
                               m.properties[std::string(name)] = std::string(value);
                             });
    if (auto it = m.properties.find("TAGS"); it != m.properties.end()) m.tags = it->second;
    if (auto it = m.properties.find("KEYS"); it != m.properties.end()) m.keys = it->second;
    if (auto it = m.properties.find("UNIQ_KEY"); it != m.properties.end()) m.unique_id = it->second;
    messages.push_back(std::move(m));
  }
  return messages;
}

}  // namespace mqclient
