#include "remoting/consumer_admin_bodies.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "json_fields.h"

namespace mqremoting {

using mqstore::Result;
using mqstore::Status;
using mqstore::SubscriptionGroupConfig;
using nlohmann::json;

namespace {

constexpr std::string_view kGroupBody = "subscription group config";
constexpr std::string_view kWrapperBody = "subscription group table";
constexpr std::string_view kStatsBody = "consume stats";
constexpr std::string_view kResetBody = "reset offset body";
constexpr std::string_view kGroupListBody = "group list";
constexpr std::string_view kConnectionBody = "consumer connection";

size_t SkipSpace(std::string_view text, size_t pos) {
  while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
  return pos;
}

// `text[pos]` is '"': the position after the closing quote (text.size() when unterminated).
size_t SkipString(std::string_view text, size_t pos) {
  for (++pos; pos < text.size(); ++pos) {
    if (text[pos] == '\\') {
      ++pos;
    } else if (text[pos] == '"') {
      return pos + 1;
    }
  }
  return text.size();
}

// `text[pos]` is '{': the position after its matching '}', or npos when it has none.
size_t SkipObject(std::string_view text, size_t pos) {
  int depth = 0;
  while (pos < text.size()) {
    char c = text[pos];
    if (c == '"') {
      pos = SkipString(text, pos);
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') {
      if (--depth == 0) return pos + 1;
    }
    ++pos;
  }
  return std::string_view::npos;
}

Result<json> ParseBody(std::string_view body, std::string_view text) {
  std::string normalized = QuoteObjectKeys(text);
  return ParseJsonObject(body, normalized);
}

// The queue of a queue-keyed map's key: the key's text is a MessageQueue object.
Result<MessageQueue> ParseQueueKey(std::string_view body, const std::string& key,
                                   const std::string& where) {
  json object = json::parse(key, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return MalformedField(body, where, "has a key that is not a queue");
  return ParseMessageQueueJson(body, object, where + "{" + key + "}");
}

// A map keyed by queues, written as fastjson writes it: `{{queue}:value,...}`.
template <typename Value, typename ToJson>
std::string EncodeQueueKeyedMap(const std::vector<std::pair<MessageQueue, Value>>& entries,
                                ToJson to_json) {
  std::string out = "{";
  bool first = true;
  for (const auto& [queue, value] : entries) {
    if (!first) out += ',';
    first = false;
    out += DumpJson(MessageQueueJson(queue));
    out += ':';
    out += DumpJson(to_json(value));
  }
  out += '}';
  return out;
}

// For each entry of the queue-keyed map under `key` (absent or null = none), calls
// `read(queue, value, path)`. Two keys that spell one queue differently (key order, spacing,
// escapes, extra fields) are refused: a map holds a queue once, and which of the two values
// was meant cannot be told.
template <typename Read>
Status ReadQueueKeyedMap(std::string_view body, const json& root, const char* key, Read read) {
  const json* table = FindField(root, key);
  if (table == nullptr) return Status::OK();
  if (!table->is_object()) return MalformedField(body, key, "is not an object");
  std::set<MessageQueue> seen;
  for (const auto& [text, value] : table->items()) {
    MQ_ASSIGN_OR_RETURN(MessageQueue queue, ParseQueueKey(body, text, key));
    if (!seen.insert(queue).second) {
      return MalformedField(body, std::string(key) + "{" + text + "}",
                            "names a queue another key already named");
    }
    MQ_RETURN_IF_ERROR(read(std::move(queue), value, std::string(key) + "{" + text + "}"));
  }
  return Status::OK();
}

json GroupConfigJson(const SubscriptionGroupConfig& config) {
  return {{"groupName", config.group_name},
          {"consumeEnable", config.consume_enable},
          {"consumeFromMinEnable", config.consume_from_min_enable},
          {"consumeBroadcastEnable", config.consume_broadcast_enable},
          {"consumeMessageOrderly", config.consume_message_orderly},
          {"retryQueueNums", config.retry_queue_nums},
          {"retryMaxTimes", config.retry_max_times},
          {"brokerId", config.broker_id},
          {"whichBrokerWhenConsumeSlowly", config.which_broker_when_consume_slowly},
          {"notifyConsumerIdsChangedEnable", config.notify_consumer_ids_changed_enable},
          {"groupSysFlag", config.group_sys_flag},
          {"consumeTimeoutMinute", config.consume_timeout_minute},
          {"attributes", config.attributes}};
}

Result<SubscriptionGroupConfig> ParseGroupConfig(std::string_view body, const json& object,
                                                 const std::string& where) {
  if (!object.is_object()) return MalformedField(body, where, "is not an object");
  SubscriptionGroupConfig config;
  MQ_RETURN_IF_ERROR(
      ReadStringField(body, object, "groupName", where, /*required=*/true, &config.group_name));
  if (config.group_name.empty()) {
    return MalformedField(body, JoinPath(where, "groupName"), "is empty");
  }
  MQ_RETURN_IF_ERROR(ReadBoolField(body, object, "consumeEnable", where, &config.consume_enable));
  MQ_RETURN_IF_ERROR(
      ReadBoolField(body, object, "consumeFromMinEnable", where, &config.consume_from_min_enable));
  MQ_RETURN_IF_ERROR(ReadBoolField(body, object, "consumeBroadcastEnable", where,
                                   &config.consume_broadcast_enable));
  MQ_RETURN_IF_ERROR(
      ReadBoolField(body, object, "consumeMessageOrderly", where, &config.consume_message_orderly));
  MQ_RETURN_IF_ERROR(
      ReadInt32Field(body, object, "retryQueueNums", where, &config.retry_queue_nums));
  MQ_RETURN_IF_ERROR(ReadInt32Field(body, object, "retryMaxTimes", where, &config.retry_max_times));
  MQ_RETURN_IF_ERROR(ReadInt64Field(body, object, "brokerId", where, &config.broker_id));
  MQ_RETURN_IF_ERROR(ReadInt64Field(body, object, "whichBrokerWhenConsumeSlowly", where,
                                    &config.which_broker_when_consume_slowly));
  MQ_RETURN_IF_ERROR(ReadBoolField(body, object, "notifyConsumerIdsChangedEnable", where,
                                   &config.notify_consumer_ids_changed_enable));
  MQ_RETURN_IF_ERROR(ReadInt32Field(body, object, "groupSysFlag", where, &config.group_sys_flag));
  MQ_RETURN_IF_ERROR(
      ReadInt32Field(body, object, "consumeTimeoutMinute", where, &config.consume_timeout_minute));
  if (const json* attributes = FindField(object, "attributes")) {
    std::string path = JoinPath(where, "attributes");
    if (!attributes->is_object()) return MalformedField(body, path, "is not an object");
    for (const auto& [name, value] : attributes->items()) {
      if (!value.is_string()) return MalformedField(body, JoinPath(path, name), "is not a string");
      config.attributes[name] = value.get<std::string>();
    }
  }
  return config;
}

json OffsetWrapperJson(const OffsetWrapper& offsets) {
  return {{"brokerOffset", offsets.broker_offset},
          {"consumerOffset", offsets.consumer_offset},
          {"pullOffset", offsets.pull_offset},
          {"lastTimestamp", offsets.last_timestamp}};
}

// Runs `parse` and turns what little may still throw (allocation) into a status.
template <typename Parse>
auto Guarded(std::string_view body, Parse parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(body) + ": " + e.what());
  }
}

}  // namespace

std::string QuoteObjectKeys(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  std::vector<char> open;  // the containers the position is in: '{' or '['
  bool key_position = false;
  size_t pos = 0;
  while (pos < text.size()) {
    char c = text[pos];
    if (c == '"') {
      size_t end = SkipString(text, pos);
      out.append(text.substr(pos, end - pos));
      pos = end;
      key_position = false;
      continue;
    }
    if (key_position && c == '{') {
      size_t end = SkipObject(text, pos);
      if (end != std::string_view::npos) {
        size_t colon = SkipSpace(text, end);
        if (colon < text.size() && text[colon] == ':') {
          out += DumpJson(json(std::string(text.substr(pos, end - pos))));
          pos = end;
          key_position = false;
          continue;
        }
      }
    }
    out.push_back(c);
    ++pos;
    if (c == '{' || c == '[') {
      open.push_back(c);
      key_position = c == '{';
    } else if (c == '}' || c == ']') {
      if (!open.empty()) open.pop_back();
      key_position = false;
    } else if (c == ',') {
      key_position = !open.empty() && open.back() == '{';
    } else if (!std::isspace(static_cast<unsigned char>(c))) {
      key_position = false;
    }
  }
  return out;
}

std::string EncodeSubscriptionGroupConfig(const SubscriptionGroupConfig& config) {
  return DumpJson(GroupConfigJson(config));
}

Result<SubscriptionGroupConfig> ParseSubscriptionGroupConfig(std::string_view text) {
  return Guarded(kGroupBody, [&]() -> Result<SubscriptionGroupConfig> {
    MQ_ASSIGN_OR_RETURN(json root, ParseJsonObject(kGroupBody, text));
    return ParseGroupConfig(kGroupBody, root, "");
  });
}

std::string EncodeSubscriptionGroupWrapper(const std::vector<SubscriptionGroupConfig>& groups,
                                           const DataVersion& version) {
  json table = json::object();
  for (const SubscriptionGroupConfig& config : groups) {
    table[config.group_name] = GroupConfigJson(config);
  }
  return DumpJson(json{{"subscriptionGroupTable", std::move(table)},
                       {"dataVersion",
                        {{"counter", version.counter},
                         {"stateVersion", version.state_version},
                         {"timestamp", version.timestamp}}}});
}

Result<std::vector<SubscriptionGroupConfig>> ParseSubscriptionGroupWrapper(std::string_view text) {
  return Guarded(kWrapperBody, [&]() -> Result<std::vector<SubscriptionGroupConfig>> {
    MQ_ASSIGN_OR_RETURN(json root, ParseJsonObject(kWrapperBody, text));
    std::vector<SubscriptionGroupConfig> groups;
    const json* table = FindField(root, "subscriptionGroupTable");
    if (table == nullptr) return groups;
    if (!table->is_object()) {
      return MalformedField(kWrapperBody, "subscriptionGroupTable", "is not an object");
    }
    for (const auto& [name, value] : table->items()) {
      MQ_ASSIGN_OR_RETURN(
          SubscriptionGroupConfig config,
          ParseGroupConfig(kWrapperBody, value, JoinPath("subscriptionGroupTable", name)));
      groups.push_back(std::move(config));
    }
    return groups;
  });
}

std::string EncodeConsumeStats(const ConsumeStats& stats) {
  return "{\"consumeTps\":" + DumpJson(json(stats.consume_tps)) +
         ",\"offsetTable\":" + EncodeQueueKeyedMap(stats.offset_table, OffsetWrapperJson) + "}";
}

Result<ConsumeStats> ParseConsumeStats(std::string_view text) {
  return Guarded(kStatsBody, [&]() -> Result<ConsumeStats> {
    MQ_ASSIGN_OR_RETURN(json root, ParseBody(kStatsBody, text));
    ConsumeStats stats;
    if (const json* tps = FindField(root, "consumeTps")) {
      if (!tps->is_number() || !std::isfinite(tps->get<double>())) {
        return MalformedField(kStatsBody, "consumeTps", "is not a finite number");
      }
      stats.consume_tps = tps->get<double>();
    }
    auto read_entry = [&](MessageQueue queue, const json& value,
                          const std::string& path) -> Status {
      if (!value.is_object()) return MalformedField(kStatsBody, path, "is not an object");
      OffsetWrapper offsets;
      MQ_RETURN_IF_ERROR(
          ReadInt64Field(kStatsBody, value, "brokerOffset", path, &offsets.broker_offset));
      MQ_RETURN_IF_ERROR(
          ReadInt64Field(kStatsBody, value, "consumerOffset", path, &offsets.consumer_offset));
      MQ_RETURN_IF_ERROR(
          ReadInt64Field(kStatsBody, value, "pullOffset", path, &offsets.pull_offset));
      MQ_RETURN_IF_ERROR(
          ReadInt64Field(kStatsBody, value, "lastTimestamp", path, &offsets.last_timestamp));
      stats.offset_table.emplace_back(std::move(queue), offsets);
      return Status::OK();
    };
    MQ_RETURN_IF_ERROR(ReadQueueKeyedMap(kStatsBody, root, "offsetTable", read_entry));
    std::sort(stats.offset_table.begin(), stats.offset_table.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return stats;
  });
}

std::string EncodeResetOffsetBody(const QueueOffsets& offsets) {
  return "{\"offsetTable\":" +
         EncodeQueueKeyedMap(offsets, [](int64_t offset) { return json(offset); }) + "}";
}

Result<QueueOffsets> ParseResetOffsetBody(std::string_view text) {
  return Guarded(kResetBody, [&]() -> Result<QueueOffsets> {
    MQ_ASSIGN_OR_RETURN(json root, ParseBody(kResetBody, text));
    QueueOffsets offsets;
    auto read_entry = [&](MessageQueue queue, const json& value,
                          const std::string& path) -> Status {
      int64_t offset = 0;
      MQ_RETURN_IF_ERROR(
          ToInteger(kResetBody, value, path, 0, std::numeric_limits<int64_t>::max(), &offset));
      offsets.emplace_back(std::move(queue), offset);
      return Status::OK();
    };
    MQ_RETURN_IF_ERROR(ReadQueueKeyedMap(kResetBody, root, "offsetTable", read_entry));
    std::sort(offsets.begin(), offsets.end());
    return offsets;
  });
}

std::string EncodeGroupList(const std::vector<std::string>& groups) {
  return DumpJson(json{{"groupList", groups}});
}

Result<std::vector<std::string>> ParseGroupList(std::string_view text) {
  return Guarded(kGroupListBody, [&]() -> Result<std::vector<std::string>> {
    MQ_ASSIGN_OR_RETURN(json root, ParseJsonObject(kGroupListBody, text));
    std::vector<std::string> groups;
    MQ_ASSIGN_OR_RETURN(const json* list, FindArrayField(kGroupListBody, root, "groupList", ""));
    if (list == nullptr) return groups;
    for (size_t i = 0; i < list->size(); ++i) {
      if (!(*list)[i].is_string()) {
        return MalformedField(kGroupListBody, IndexPath("groupList", i), "is not a string");
      }
      groups.push_back((*list)[i].get<std::string>());
    }
    return groups;
  });
}

std::string EncodeConsumerConnection(const ConsumerConnection& connection) {
  json connections = json::array();
  for (const ClientConnection& client : connection.connections) {
    connections.push_back({{"clientId", client.client_id},
                           {"clientAddr", client.client_addr},
                           {"language", client.language},
                           {"version", client.version}});
  }
  json subscriptions = json::object();
  for (const SubscriptionData& sub : connection.subscriptions) {
    subscriptions[sub.topic] = SubscriptionJson(sub);
  }
  return DumpJson(json{{"connectionSet", std::move(connections)},
                       {"subscriptionTable", std::move(subscriptions)},
                       {"consumeType", connection.consume_type},
                       {"messageModel", connection.message_model},
                       {"consumeFromWhere", connection.consume_from_where}});
}

Result<ConsumerConnection> ParseConsumerConnection(std::string_view text) {
  return Guarded(kConnectionBody, [&]() -> Result<ConsumerConnection> {
    MQ_ASSIGN_OR_RETURN(json root, ParseJsonObject(kConnectionBody, text));
    ConsumerConnection connection;
    MQ_ASSIGN_OR_RETURN(const json* set,
                        FindArrayField(kConnectionBody, root, "connectionSet", ""));
    if (set != nullptr) {
      for (size_t i = 0; i < set->size(); ++i) {
        const json& item = (*set)[i];
        std::string where = IndexPath("connectionSet", i);
        if (!item.is_object()) return MalformedField(kConnectionBody, where, "is not an object");
        ClientConnection client;
        MQ_RETURN_IF_ERROR(
            ReadStringField(kConnectionBody, item, "clientId", where, true, &client.client_id));
        MQ_RETURN_IF_ERROR(ReadStringField(kConnectionBody, item, "clientAddr", where, false,
                                           &client.client_addr));
        MQ_RETURN_IF_ERROR(
            ReadStringField(kConnectionBody, item, "language", where, false, &client.language));
        MQ_RETURN_IF_ERROR(
            ReadInt32Field(kConnectionBody, item, "version", where, &client.version));
        connection.connections.push_back(std::move(client));
      }
    }
    if (const json* table = FindField(root, "subscriptionTable")) {
      if (!table->is_object()) {
        return MalformedField(kConnectionBody, "subscriptionTable", "is not an object");
      }
      for (const auto& [topic, value] : table->items()) {
        MQ_ASSIGN_OR_RETURN(
            SubscriptionData sub,
            ParseSubscriptionJson(kConnectionBody, value, JoinPath("subscriptionTable", topic)));
        connection.subscriptions.push_back(std::move(sub));
      }
    }
    MQ_RETURN_IF_ERROR(
        ReadStringField(kConnectionBody, root, "consumeType", "", false, &connection.consume_type));
    MQ_RETURN_IF_ERROR(ReadStringField(kConnectionBody, root, "messageModel", "", false,
                                       &connection.message_model));
    MQ_RETURN_IF_ERROR(ReadStringField(kConnectionBody, root, "consumeFromWhere", "", false,
                                       &connection.consume_from_where));
    return connection;
  });
}

}  // namespace mqremoting
