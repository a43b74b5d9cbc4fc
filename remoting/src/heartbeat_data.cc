#include "remoting/heartbeat_data.h"

#include <cmath>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "json_fields.h"

namespace mqremoting {

using mqstore::Result;
using mqstore::Status;
using nlohmann::json;

namespace {

std::string Join(std::string_view where, std::string_view key) {
  std::string path(where);
  if (!path.empty()) path += '.';
  path += key;
  return path;
}

std::string Index(std::string_view where, size_t i) {
  return std::string(where) + "[" + std::to_string(i) + "]";
}

Status Malformed(const std::string& path, std::string_view what) {
  return Status::InvalidArgument("heartbeat body: " + path + " " + std::string(what));
}

// Leaves *out unchanged when the field is absent and not `required`.
Status ReadString(const json& object, const char* key, std::string_view where, bool required,
                  std::string* out) {
  const json* value = FindField(object, key);
  if (value == nullptr) {
    return required ? Malformed(Join(where, key), "is missing") : Status::OK();
  }
  if (!value->is_string()) return Malformed(Join(where, key), "is not a string");
  *out = value->get_ref<const std::string&>();
  return Status::OK();
}

// Accepts true/false and the strings "true"/"false" (fastjson reads both).
Status ReadBool(const json& object, const char* key, std::string_view where, bool* out) {
  const json* value = FindField(object, key);
  if (value == nullptr) return Status::OK();
  if (value->is_boolean()) {
    *out = value->get<bool>();
    return Status::OK();
  }
  if (value->is_string()) {
    const auto& text = value->get_ref<const std::string&>();
    if (text == "true" || text == "false") {
      *out = text == "true";
      return Status::OK();
    }
  }
  return Malformed(Join(where, key), "is not a boolean");
}

// An integer in [min, max] from a JSON integer, an integral float or a decimal string.
Status ToInteger(const json& value, const std::string& path, int64_t min, int64_t max,
                 int64_t* out) {
  int64_t n = 0;
  if (value.is_number_unsigned()) {
    uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Malformed(path, "is out of range");
    }
    n = static_cast<int64_t>(u);
  } else if (value.is_number_integer()) {
    n = value.get<int64_t>();
  } else if (value.is_number_float()) {
    double d = value.get<double>();
    // 2^63 is exactly representable; anything at or above it does not fit.
    if (!std::isfinite(d) || std::trunc(d) != d || d < -9223372036854775808.0 ||
        d >= 9223372036854775808.0) {
      return Malformed(path, "is not an integer");
    }
    n = static_cast<int64_t>(d);
  } else if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    size_t used = 0;
    try {
      n = std::stoll(text, &used, 10);
    } catch (const std::exception&) {
      return Malformed(path, "is not an integer");
    }
    if (used != text.size()) return Malformed(path, "is not an integer");
  } else {
    return Malformed(path, "is not an integer");
  }
  if (n < min || n > max) return Malformed(path, "is out of range");
  *out = n;
  return Status::OK();
}

Status ReadInt64(const json& object, const char* key, std::string_view where, int64_t* out) {
  const json* value = FindField(object, key);
  if (value == nullptr) return Status::OK();
  return ToInteger(*value, Join(where, key), std::numeric_limits<int64_t>::min(),
                   std::numeric_limits<int64_t>::max(), out);
}

// The array under `key`; nullptr (not an error) when absent or null.
Result<const json*> FindArray(const json& object, const char* key, std::string_view where) {
  const json* value = FindField(object, key);
  if (value != nullptr && !value->is_array()) {
    return Malformed(Join(where, key), "is not an array");
  }
  return value;
}

Result<SubscriptionData> ParseSubscription(const json& object, const std::string& where) {
  if (!object.is_object()) return Malformed(where, "is not an object");
  SubscriptionData sub;
  MQ_RETURN_IF_ERROR(ReadString(object, "topic", where, /*required=*/true, &sub.topic));
  if (sub.topic.empty()) return Malformed(Join(where, "topic"), "is empty");
  MQ_RETURN_IF_ERROR(ReadString(object, "subString", where, false, &sub.sub_string));
  MQ_RETURN_IF_ERROR(ReadString(object, "expressionType", where, false, &sub.expression_type));
  if (sub.expression_type.empty()) sub.expression_type = std::string(kExpressionTypeTag);
  MQ_RETURN_IF_ERROR(ReadInt64(object, "subVersion", where, &sub.sub_version));
  MQ_RETURN_IF_ERROR(ReadBool(object, "classFilterMode", where, &sub.class_filter_mode));

  MQ_ASSIGN_OR_RETURN(const json* tags, FindArray(object, "tagsSet", where));
  if (tags != nullptr) {
    std::string path = Join(where, "tagsSet");
    for (size_t i = 0; i < tags->size(); ++i) {
      const json& tag = (*tags)[i];
      if (!tag.is_string()) return Malformed(Index(path, i), "is not a string");
      sub.tags_set.push_back(tag.get<std::string>());
    }
  }
  MQ_ASSIGN_OR_RETURN(const json* codes, FindArray(object, "codeSet", where));
  if (codes != nullptr) {
    std::string path = Join(where, "codeSet");
    for (size_t i = 0; i < codes->size(); ++i) {
      int64_t code = 0;
      MQ_RETURN_IF_ERROR(ToInteger((*codes)[i], Index(path, i), std::numeric_limits<int32_t>::min(),
                                   std::numeric_limits<int32_t>::max(), &code));
      sub.code_set.push_back(static_cast<int32_t>(code));
    }
  }
  return sub;
}

Result<ConsumerData> ParseConsumer(const json& object, const std::string& where) {
  if (!object.is_object()) return Malformed(where, "is not an object");
  ConsumerData consumer;
  MQ_RETURN_IF_ERROR(ReadString(object, "groupName", where, true, &consumer.group_name));
  if (consumer.group_name.empty()) return Malformed(Join(where, "groupName"), "is empty");
  MQ_RETURN_IF_ERROR(ReadString(object, "consumeType", where, false, &consumer.consume_type));
  MQ_RETURN_IF_ERROR(ReadString(object, "messageModel", where, false, &consumer.message_model));
  MQ_RETURN_IF_ERROR(
      ReadString(object, "consumeFromWhere", where, false, &consumer.consume_from_where));
  MQ_RETURN_IF_ERROR(ReadBool(object, "unitMode", where, &consumer.unit_mode));
  MQ_ASSIGN_OR_RETURN(const json* subs, FindArray(object, "subscriptionDataSet", where));
  if (subs != nullptr) {
    std::string path = Join(where, "subscriptionDataSet");
    for (size_t i = 0; i < subs->size(); ++i) {
      MQ_ASSIGN_OR_RETURN(SubscriptionData sub, ParseSubscription((*subs)[i], Index(path, i)));
      consumer.subscriptions.push_back(std::move(sub));
    }
  }
  return consumer;
}

Result<ProducerData> ParseProducer(const json& object, const std::string& where) {
  if (!object.is_object()) return Malformed(where, "is not an object");
  ProducerData producer;
  MQ_RETURN_IF_ERROR(ReadString(object, "groupName", where, true, &producer.group_name));
  if (producer.group_name.empty()) return Malformed(Join(where, "groupName"), "is empty");
  return producer;
}

Result<HeartbeatData> ParseHeartbeatObject(const json& root) {
  if (!root.is_object()) return Malformed("body", "is not a JSON object");
  HeartbeatData data;
  MQ_RETURN_IF_ERROR(ReadString(root, "clientID", "", true, &data.client_id));
  if (data.client_id.empty()) return Malformed("clientID", "is empty");
  MQ_RETURN_IF_ERROR(ReadInt64(root, "heartbeatFingerprint", "", &data.heartbeat_fingerprint));
  MQ_RETURN_IF_ERROR(ReadBool(root, "withoutSub", "", &data.without_sub));

  MQ_ASSIGN_OR_RETURN(const json* producers, FindArray(root, "producerDataSet", ""));
  if (producers != nullptr) {
    for (size_t i = 0; i < producers->size(); ++i) {
      MQ_ASSIGN_OR_RETURN(ProducerData producer,
                          ParseProducer((*producers)[i], Index("producerDataSet", i)));
      data.producers.push_back(std::move(producer));
    }
  }
  MQ_ASSIGN_OR_RETURN(const json* consumers, FindArray(root, "consumerDataSet", ""));
  if (consumers != nullptr) {
    for (size_t i = 0; i < consumers->size(); ++i) {
      MQ_ASSIGN_OR_RETURN(ConsumerData consumer,
                          ParseConsumer((*consumers)[i], Index("consumerDataSet", i)));
      data.consumers.push_back(std::move(consumer));
    }
  }
  return data;
}

// Invalid UTF-8 in a string is replaced instead of making dump() throw.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

}  // namespace

Result<HeartbeatData> ParseHeartbeatData(std::string_view text) {
  try {
    json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) return Malformed("body", "is not valid JSON");
    return ParseHeartbeatObject(root);
  } catch (const std::exception& e) {  // only allocation failures are left to throw
    return Status::InvalidArgument(std::string("heartbeat body: ") + e.what());
  }
}

std::string EncodeHeartbeatData(const HeartbeatData& data) {
  json producers = json::array();
  for (const ProducerData& producer : data.producers) {
    producers.push_back({{"groupName", producer.group_name}});
  }
  json consumers = json::array();
  for (const ConsumerData& consumer : data.consumers) {
    json subs = json::array();
    for (const SubscriptionData& sub : consumer.subscriptions) {
      subs.push_back({{"topic", sub.topic},
                      {"subString", sub.sub_string},
                      {"tagsSet", sub.tags_set},
                      {"codeSet", sub.code_set},
                      {"subVersion", sub.sub_version},
                      {"expressionType", sub.expression_type},
                      {"classFilterMode", sub.class_filter_mode}});
    }
    consumers.push_back({{"groupName", consumer.group_name},
                         {"consumeType", consumer.consume_type},
                         {"messageModel", consumer.message_model},
                         {"consumeFromWhere", consumer.consume_from_where},
                         {"unitMode", consumer.unit_mode},
                         {"subscriptionDataSet", std::move(subs)}});
  }
  json root = {{"clientID", data.client_id},
               {"producerDataSet", std::move(producers)},
               {"consumerDataSet", std::move(consumers)},
               {"heartbeatFingerprint", data.heartbeat_fingerprint},
               {"withoutSub", data.without_sub}};
  return Dump(root);
}

std::string EncodeConsumerIdList(const std::vector<std::string>& consumer_ids) {
  return Dump(json{{"consumerIdList", consumer_ids}});
}

Result<std::vector<std::string>> ParseConsumerIdList(std::string_view text) {
  try {
    json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded() || !root.is_object()) {
      return Status::InvalidArgument("consumer id list: body is not a JSON object");
    }
    auto it = root.find("consumerIdList");
    if (it == root.end() || !it->is_array()) {
      return Status::InvalidArgument("consumer id list: consumerIdList is missing or not an array");
    }
    std::vector<std::string> ids;
    ids.reserve(it->size());
    for (const json& id : *it) {
      if (!id.is_string()) {
        return Status::InvalidArgument("consumer id list: an entry is not a string");
      }
      ids.push_back(id.get<std::string>());
    }
    return ids;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("consumer id list: ") + e.what());
  }
}

}  // namespace mqremoting
