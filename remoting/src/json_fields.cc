#include "json_fields.h"

#include <cmath>
#include <exception>
#include <limits>
#include <string>

namespace mqremoting {

using mqstore::Result;
using mqstore::Status;
using nlohmann::json;

std::string JoinPath(std::string_view where, std::string_view key) {
  std::string path(where);
  if (!path.empty()) path += '.';
  path += key;
  return path;
}

std::string IndexPath(std::string_view where, size_t i) {
  return std::string(where) + "[" + std::to_string(i) + "]";
}

Status MalformedField(std::string_view body, const std::string& path, std::string_view what) {
  return Status::InvalidArgument(std::string(body) + ": " + path + " " + std::string(what));
}

Status ReadStringField(std::string_view body, const json& object, const char* key,
                       std::string_view where, bool required, std::string* out) {
  const json* value = FindField(object, key);
  if (value == nullptr) {
    return required ? MalformedField(body, JoinPath(where, key), "is missing") : Status::OK();
  }
  if (!value->is_string()) return MalformedField(body, JoinPath(where, key), "is not a string");
  *out = value->get_ref<const std::string&>();
  return Status::OK();
}

Status ReadBoolField(std::string_view body, const json& object, const char* key,
                     std::string_view where, bool* out) {
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
  return MalformedField(body, JoinPath(where, key), "is not a boolean");
}

Status ToInteger(std::string_view body, const json& value, const std::string& path, int64_t min,
                 int64_t max, int64_t* out) {
  int64_t n = 0;
  if (value.is_number_unsigned()) {
    uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return MalformedField(body, path, "is out of range");
    }
    n = static_cast<int64_t>(u);
  } else if (value.is_number_integer()) {
    n = value.get<int64_t>();
  } else if (value.is_number_float()) {
    double d = value.get<double>();
    // 2^63 is exactly representable; anything at or above it does not fit.
    if (!std::isfinite(d) || std::trunc(d) != d || d < -9223372036854775808.0 ||
        d >= 9223372036854775808.0) {
      return MalformedField(body, path, "is not an integer");
    }
    n = static_cast<int64_t>(d);
  } else if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    size_t used = 0;
    try {
      n = std::stoll(text, &used, 10);
    } catch (const std::exception&) {
      return MalformedField(body, path, "is not an integer");
    }
    if (used != text.size()) return MalformedField(body, path, "is not an integer");
  } else {
    return MalformedField(body, path, "is not an integer");
  }
  if (n < min || n > max) return MalformedField(body, path, "is out of range");
  *out = n;
  return Status::OK();
}

Status ReadInt64Field(std::string_view body, const json& object, const char* key,
                      std::string_view where, int64_t* out) {
  const json* value = FindField(object, key);
  if (value == nullptr) return Status::OK();
  return ToInteger(body, *value, JoinPath(where, key), std::numeric_limits<int64_t>::min(),
                   std::numeric_limits<int64_t>::max(), out);
}

Status ReadInt32Field(std::string_view body, const json& object, const char* key,
                      std::string_view where, int32_t* out) {
  const json* value = FindField(object, key);
  if (value == nullptr) return Status::OK();
  int64_t n = 0;
  MQ_RETURN_IF_ERROR(ToInteger(body, *value, JoinPath(where, key),
                               std::numeric_limits<int32_t>::min(),
                               std::numeric_limits<int32_t>::max(), &n));
  *out = static_cast<int32_t>(n);
  return Status::OK();
}

Result<const json*> FindArrayField(std::string_view body, const json& object, const char* key,
                                   std::string_view where) {
  const json* value = FindField(object, key);
  if (value != nullptr && !value->is_array()) {
    return MalformedField(body, JoinPath(where, key), "is not an array");
  }
  return value;
}

Result<json> ParseJsonObject(std::string_view body, std::string_view text) {
  json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return MalformedField(body, "body", "is not valid JSON");
  if (!root.is_object()) return MalformedField(body, "body", "is not a JSON object");
  return root;
}

Result<MessageQueue> ParseMessageQueueJson(std::string_view body, const json& object,
                                           const std::string& where) {
  if (!object.is_object()) return MalformedField(body, where, "is not an object");
  MessageQueue queue;
  const json* topic = FindField(object, "topic");
  if (topic == nullptr || !topic->is_string() || topic->get_ref<const std::string&>().empty()) {
    return MalformedField(body, where + ".topic", "is missing or not a non-empty string");
  }
  queue.topic = topic->get<std::string>();
  const json* broker = FindField(object, "brokerName");
  if (broker == nullptr || !broker->is_string()) {
    return MalformedField(body, where + ".brokerName", "is missing or not a string");
  }
  queue.broker_name = broker->get<std::string>();
  const json* id = FindField(object, "queueId");
  if (id == nullptr || !(id->is_number_integer() || id->is_number_unsigned())) {
    return MalformedField(body, where + ".queueId", "is missing or not an integer");
  }
  bool in_range =
      id->is_number_unsigned()
          ? id->get<uint64_t>() <= std::numeric_limits<int32_t>::max()
          : id->get<int64_t>() >= 0 && id->get<int64_t>() <= std::numeric_limits<int32_t>::max();
  if (!in_range) return MalformedField(body, where + ".queueId", "is out of range");
  queue.queue_id = static_cast<int32_t>(id->get<int64_t>());
  return queue;
}

json MessageQueueJson(const MessageQueue& queue) {
  return {{"brokerName", queue.broker_name}, {"queueId", queue.queue_id}, {"topic", queue.topic}};
}

Result<SubscriptionData> ParseSubscriptionJson(std::string_view body, const json& object,
                                               const std::string& where) {
  if (!object.is_object()) return MalformedField(body, where, "is not an object");
  SubscriptionData sub;
  MQ_RETURN_IF_ERROR(ReadStringField(body, object, "topic", where, /*required=*/true, &sub.topic));
  if (sub.topic.empty()) return MalformedField(body, JoinPath(where, "topic"), "is empty");
  MQ_RETURN_IF_ERROR(ReadStringField(body, object, "subString", where, false, &sub.sub_string));
  MQ_RETURN_IF_ERROR(
      ReadStringField(body, object, "expressionType", where, false, &sub.expression_type));
  if (sub.expression_type.empty()) sub.expression_type = std::string(kExpressionTypeTag);
  MQ_RETURN_IF_ERROR(ReadInt64Field(body, object, "subVersion", where, &sub.sub_version));
  MQ_RETURN_IF_ERROR(ReadBoolField(body, object, "classFilterMode", where, &sub.class_filter_mode));

  MQ_ASSIGN_OR_RETURN(const json* tags, FindArrayField(body, object, "tagsSet", where));
  if (tags != nullptr) {
    std::string path = JoinPath(where, "tagsSet");
    for (size_t i = 0; i < tags->size(); ++i) {
      const json& tag = (*tags)[i];
      if (!tag.is_string()) return MalformedField(body, IndexPath(path, i), "is not a string");
      sub.tags_set.push_back(tag.get<std::string>());
    }
  }
  MQ_ASSIGN_OR_RETURN(const json* codes, FindArrayField(body, object, "codeSet", where));
  if (codes != nullptr) {
    std::string path = JoinPath(where, "codeSet");
    for (size_t i = 0; i < codes->size(); ++i) {
      int64_t code = 0;
      MQ_RETURN_IF_ERROR(ToInteger(body, (*codes)[i], IndexPath(path, i),
                                   std::numeric_limits<int32_t>::min(),
                                   std::numeric_limits<int32_t>::max(), &code));
      sub.code_set.push_back(static_cast<int32_t>(code));
    }
  }
  return sub;
}

json SubscriptionJson(const SubscriptionData& sub) {
  return {{"topic", sub.topic},
          {"subString", sub.sub_string},
          {"tagsSet", sub.tags_set},
          {"codeSet", sub.code_set},
          {"subVersion", sub.sub_version},
          {"expressionType", sub.expression_type},
          {"classFilterMode", sub.class_filter_mode}};
}

std::string DumpJson(const json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

}  // namespace mqremoting
