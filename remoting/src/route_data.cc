#include "remoting/route_data.h"

#include <cctype>
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "json_fields.h"

namespace mqremoting {
namespace {

using nlohmann::json;

// ---- Reading fields. A missing or null field keeps the default (fastjson does the same);
// a present one of the wrong type is an error naming the field.

Status WrongType(std::string_view key, std::string_view expected) {
  return Status::InvalidArgument(std::string(key) + ": expected " + std::string(expected));
}

bool ParseInt64(std::string_view text, int64_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end && !text.empty();
}

// Integers may also come as decimal strings (fastjson converts those too).
Status ValueToInt64(const json& value, std::string_view key, int64_t* out) {
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return WrongType(key, "a 64-bit integer");
    }
    *out = static_cast<int64_t>(v);
    return Status::OK();
  }
  if (value.is_number_integer()) {
    *out = value.get<int64_t>();
    return Status::OK();
  }
  if (value.is_string() && ParseInt64(value.get_ref<const std::string&>(), out)) {
    return Status::OK();
  }
  return WrongType(key, "an integer");
}

Status ReadInt64(const json& object, const char* key, int64_t* out) {
  const json* value = FindField(object, key);
  if (value == nullptr) return Status::OK();
  return ValueToInt64(*value, key, out);
}

Status ReadInt32(const json& object, const char* key, int32_t* out) {
  int64_t wide = *out;
  MQ_RETURN_IF_ERROR(ReadInt64(object, key, &wide));
  if (wide < std::numeric_limits<int32_t>::min() || wide > std::numeric_limits<int32_t>::max()) {
    return WrongType(key, "a 32-bit integer");
  }
  *out = static_cast<int32_t>(wide);
  return Status::OK();
}

Status ReadBool(const json& object, const char* key, bool* out) {
  const json* value = FindField(object, key);
  if (value == nullptr) return Status::OK();
  if (value->is_boolean()) {
    *out = value->get<bool>();
    return Status::OK();
  }
  if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    if (text == "true" || text == "false") {
      *out = text == "true";
      return Status::OK();
    }
  }
  return WrongType(key, "a boolean");
}

Status ReadString(const json& object, const char* key, std::string* out) {
  const json* value = FindField(object, key);
  if (value == nullptr) return Status::OK();
  if (!value->is_string()) return WrongType(key, "a string");
  *out = value->get<std::string>();
  return Status::OK();
}

// `*out` is nullptr when the field is missing or null.
Status ReadObject(const json& object, const char* key, const json** out) {
  *out = FindField(object, key);
  if (*out != nullptr && !(*out)->is_object()) return WrongType(key, "an object");
  return Status::OK();
}

Status ReadArray(const json& object, const char* key, const json** out) {
  *out = FindField(object, key);
  if (*out != nullptr && !(*out)->is_array()) return WrongType(key, "an array");
  return Status::OK();
}

Status ReadStringArray(const json& array, std::string_view key, std::vector<std::string>* out) {
  out->clear();
  for (const json& item : array) {
    if (!item.is_string()) return WrongType(key, "an array of strings");
    out->push_back(item.get<std::string>());
  }
  return Status::OK();
}

Status ReadStringMap(const json& object, std::string_view key,
                     std::map<std::string, std::string>* out) {
  out->clear();
  for (const auto& [name, value] : object.items()) {
    if (!value.is_string()) return WrongType(std::string(key) + "." + name, "a string");
    (*out)[name] = value.get<std::string>();
  }
  return Status::OK();
}

Status RequireObject(const json& value, std::string_view what) {
  if (!value.is_object()) return Status::InvalidArgument(std::string(what) + " is not an object");
  return Status::OK();
}

// ---- One FromJson / ToJson pair per type.

Status FromJson(const json& j, DataVersion* out) {
  MQ_RETURN_IF_ERROR(RequireObject(j, "DataVersion"));
  MQ_RETURN_IF_ERROR(ReadInt64(j, "timestamp", &out->timestamp));
  MQ_RETURN_IF_ERROR(ReadInt64(j, "counter", &out->counter));
  return ReadInt64(j, "stateVersion", &out->state_version);
}

json ToJson(const DataVersion& v) {
  return json{
      {"timestamp", v.timestamp}, {"counter", v.counter}, {"stateVersion", v.state_version}};
}

const char* FilterTypeName(TopicFilterType type) {
  return type == TopicFilterType::kMultiTag ? "MULTI_TAG" : "SINGLE_TAG";
}

Status FromJson(const json& j, TopicConfig* out) {
  MQ_RETURN_IF_ERROR(RequireObject(j, "TopicConfig"));
  MQ_RETURN_IF_ERROR(ReadString(j, "topicName", &out->topic_name));
  MQ_RETURN_IF_ERROR(ReadInt32(j, "readQueueNums", &out->read_queue_nums));
  MQ_RETURN_IF_ERROR(ReadInt32(j, "writeQueueNums", &out->write_queue_nums));
  MQ_RETURN_IF_ERROR(ReadInt32(j, "perm", &out->perm));
  std::string filter_type = FilterTypeName(out->topic_filter_type);
  MQ_RETURN_IF_ERROR(ReadString(j, "topicFilterType", &filter_type));
  if (filter_type == "SINGLE_TAG") {
    out->topic_filter_type = TopicFilterType::kSingleTag;
  } else if (filter_type == "MULTI_TAG") {
    out->topic_filter_type = TopicFilterType::kMultiTag;
  } else {
    return Status::InvalidArgument("topicFilterType: unknown value '" + filter_type + "'");
  }
  MQ_RETURN_IF_ERROR(ReadInt32(j, "topicSysFlag", &out->topic_sys_flag));
  MQ_RETURN_IF_ERROR(ReadBool(j, "order", &out->order));
  const json* attributes = nullptr;
  MQ_RETURN_IF_ERROR(ReadObject(j, "attributes", &attributes));
  if (attributes != nullptr) {
    MQ_RETURN_IF_ERROR(ReadStringMap(*attributes, "attributes", &out->attributes));
  }
  return Status::OK();
}

json ToJson(const TopicConfig& v) {
  return json{{"topicName", v.topic_name},
              {"readQueueNums", v.read_queue_nums},
              {"writeQueueNums", v.write_queue_nums},
              {"perm", v.perm},
              {"topicFilterType", FilterTypeName(v.topic_filter_type)},
              {"topicSysFlag", v.topic_sys_flag},
              {"order", v.order},
              {"attributes", json(v.attributes)}};
}

Status FromJson(const json& j, TopicConfigSerializeWrapper* out) {
  MQ_RETURN_IF_ERROR(RequireObject(j, "TopicConfigSerializeWrapper"));
  const json* table = nullptr;
  MQ_RETURN_IF_ERROR(ReadObject(j, "topicConfigTable", &table));
  out->topic_config_table.clear();
  if (table != nullptr) {
    for (const auto& [name, value] : table->items()) {
      TopicConfig config;
      MQ_RETURN_IF_ERROR(FromJson(value, &config).WithContext("topicConfigTable." + name));
      // The table is keyed by name; a config without its own name takes the key.
      if (config.topic_name.empty()) config.topic_name = name;
      out->topic_config_table.emplace(name, std::move(config));
    }
  }
  const json* version = nullptr;
  MQ_RETURN_IF_ERROR(ReadObject(j, "dataVersion", &version));
  if (version != nullptr) {
    MQ_RETURN_IF_ERROR(FromJson(*version, &out->data_version).WithContext("dataVersion"));
  }
  return Status::OK();
}

json ToJson(const TopicConfigSerializeWrapper& v) {
  json table = json::object();
  for (const auto& [name, config] : v.topic_config_table) table[name] = ToJson(config);
  return json{{"topicConfigTable", std::move(table)}, {"dataVersion", ToJson(v.data_version)}};
}

Status FromJson(const json& j, RegisterBrokerBody* out) {
  MQ_RETURN_IF_ERROR(RequireObject(j, "RegisterBrokerBody"));
  const json* wrapper = nullptr;
  MQ_RETURN_IF_ERROR(ReadObject(j, "topicConfigSerializeWrapper", &wrapper));
  if (wrapper != nullptr) {
    MQ_RETURN_IF_ERROR(FromJson(*wrapper, &out->topic_config_serialize_wrapper)
                           .WithContext("topicConfigSerializeWrapper"));
  }
  const json* filter_servers = nullptr;
  MQ_RETURN_IF_ERROR(ReadArray(j, "filterServerList", &filter_servers));
  if (filter_servers != nullptr) {
    MQ_RETURN_IF_ERROR(
        ReadStringArray(*filter_servers, "filterServerList", &out->filter_server_list));
  }
  return Status::OK();
}

json ToJson(const RegisterBrokerBody& v) {
  return json{{"topicConfigSerializeWrapper", ToJson(v.topic_config_serialize_wrapper)},
              {"filterServerList", json(v.filter_server_list)}};
}

Status FromJson(const json& j, QueueData* out) {
  MQ_RETURN_IF_ERROR(RequireObject(j, "QueueData"));
  MQ_RETURN_IF_ERROR(ReadString(j, "brokerName", &out->broker_name));
  MQ_RETURN_IF_ERROR(ReadInt32(j, "readQueueNums", &out->read_queue_nums));
  MQ_RETURN_IF_ERROR(ReadInt32(j, "writeQueueNums", &out->write_queue_nums));
  MQ_RETURN_IF_ERROR(ReadInt32(j, "perm", &out->perm));
  return ReadInt32(j, "topicSysFlag", &out->topic_sys_flag);
}

json ToJson(const QueueData& v) {
  return json{{"brokerName", v.broker_name},
              {"readQueueNums", v.read_queue_nums},
              {"writeQueueNums", v.write_queue_nums},
              {"perm", v.perm},
              {"topicSysFlag", v.topic_sys_flag}};
}

Status FromJson(const json& j, BrokerData* out) {
  MQ_RETURN_IF_ERROR(RequireObject(j, "BrokerData"));
  MQ_RETURN_IF_ERROR(ReadString(j, "cluster", &out->cluster));
  MQ_RETURN_IF_ERROR(ReadString(j, "brokerName", &out->broker_name));
  MQ_RETURN_IF_ERROR(ReadBool(j, "enableActingMaster", &out->enable_acting_master));
  const json* addrs = nullptr;
  MQ_RETURN_IF_ERROR(ReadObject(j, "brokerAddrs", &addrs));
  out->broker_addrs.clear();
  if (addrs != nullptr) {
    for (const auto& [key, value] : addrs->items()) {
      int64_t broker_id = 0;
      if (!ParseInt64(key, &broker_id)) {
        return Status::InvalidArgument("brokerAddrs: key '" + key + "' is not a broker id");
      }
      if (!value.is_string()) return WrongType("brokerAddrs." + key, "a string");
      out->broker_addrs[broker_id] = value.get<std::string>();
    }
  }
  return Status::OK();
}

json ToJson(const BrokerData& v) {
  json addrs = json::object();
  for (const auto& [broker_id, address] : v.broker_addrs) {
    addrs[std::to_string(broker_id)] = address;
  }
  return json{{"cluster", v.cluster},
              {"brokerName", v.broker_name},
              {"brokerAddrs", std::move(addrs)},
              {"enableActingMaster", v.enable_acting_master}};
}

template <typename T>
Status FromJsonArray(const json& object, const char* key, std::vector<T>* out) {
  const json* array = nullptr;
  MQ_RETURN_IF_ERROR(ReadArray(object, key, &array));
  out->clear();
  if (array == nullptr) return Status::OK();
  for (const json& item : *array) {
    T value;
    MQ_RETURN_IF_ERROR(FromJson(item, &value).WithContext(key));
    out->push_back(std::move(value));
  }
  return Status::OK();
}

template <typename T>
json ToJsonArray(const std::vector<T>& values) {
  json array = json::array();
  for (const T& value : values) array.push_back(ToJson(value));
  return array;
}

Status FromJson(const json& j, TopicRouteData* out) {
  MQ_RETURN_IF_ERROR(RequireObject(j, "TopicRouteData"));
  std::string order_conf;
  MQ_RETURN_IF_ERROR(ReadString(j, "orderTopicConf", &order_conf));
  out->order_topic_conf.reset();
  if (FindField(j, "orderTopicConf") != nullptr) out->order_topic_conf = std::move(order_conf);
  MQ_RETURN_IF_ERROR(FromJsonArray(j, "queueDatas", &out->queue_datas));
  MQ_RETURN_IF_ERROR(FromJsonArray(j, "brokerDatas", &out->broker_datas));
  const json* filter_servers = nullptr;
  MQ_RETURN_IF_ERROR(ReadObject(j, "filterServerTable", &filter_servers));
  out->filter_server_table.clear();
  if (filter_servers != nullptr) {
    for (const auto& [address, list] : filter_servers->items()) {
      if (!list.is_array()) return WrongType("filterServerTable." + address, "an array");
      MQ_RETURN_IF_ERROR(ReadStringArray(list, "filterServerTable." + address,
                                         &out->filter_server_table[address]));
    }
  }
  return Status::OK();
}

json ToJson(const TopicRouteData& v) {
  json result{{"queueDatas", ToJsonArray(v.queue_datas)},
              {"brokerDatas", ToJsonArray(v.broker_datas)},
              {"filterServerTable", json::object()}};
  for (const auto& [address, list] : v.filter_server_table) {
    result["filterServerTable"][address] = json(list);
  }
  if (v.order_topic_conf.has_value()) result["orderTopicConf"] = *v.order_topic_conf;
  return result;
}

Status FromJson(const json& j, ClusterInfo* out) {
  MQ_RETURN_IF_ERROR(RequireObject(j, "ClusterInfo"));
  const json* brokers = nullptr;
  MQ_RETURN_IF_ERROR(ReadObject(j, "brokerAddrTable", &brokers));
  out->broker_addr_table.clear();
  if (brokers != nullptr) {
    for (const auto& [name, value] : brokers->items()) {
      BrokerData data;
      MQ_RETURN_IF_ERROR(FromJson(value, &data).WithContext("brokerAddrTable." + name));
      out->broker_addr_table.emplace(name, std::move(data));
    }
  }
  const json* clusters = nullptr;
  MQ_RETURN_IF_ERROR(ReadObject(j, "clusterAddrTable", &clusters));
  out->cluster_addr_table.clear();
  if (clusters != nullptr) {
    for (const auto& [cluster, names] : clusters->items()) {
      if (!names.is_array()) return WrongType("clusterAddrTable." + cluster, "an array");
      std::vector<std::string> list;
      MQ_RETURN_IF_ERROR(ReadStringArray(names, "clusterAddrTable." + cluster, &list));
      out->cluster_addr_table[cluster] = std::set<std::string>(list.begin(), list.end());
    }
  }
  return Status::OK();
}

json ToJson(const ClusterInfo& v) {
  json brokers = json::object();
  for (const auto& [name, data] : v.broker_addr_table) brokers[name] = ToJson(data);
  json clusters = json::object();
  for (const auto& [cluster, names] : v.cluster_addr_table) clusters[cluster] = json(names);
  return json{{"brokerAddrTable", std::move(brokers)}, {"clusterAddrTable", std::move(clusters)}};
}

Status FromJson(const json& j, TopicList* out) {
  MQ_RETURN_IF_ERROR(RequireObject(j, "TopicList"));
  const json* topics = nullptr;
  MQ_RETURN_IF_ERROR(ReadArray(j, "topicList", &topics));
  out->topic_list.clear();
  if (topics != nullptr) {
    std::vector<std::string> list;
    MQ_RETURN_IF_ERROR(ReadStringArray(*topics, "topicList", &list));
    out->topic_list.insert(list.begin(), list.end());
  }
  return Status::OK();
}

json ToJson(const TopicList& v) { return json{{"topicList", json(v.topic_list)}}; }

Status FromJson(const json& j, KVTable* out) {
  MQ_RETURN_IF_ERROR(RequireObject(j, "KVTable"));
  const json* table = nullptr;
  MQ_RETURN_IF_ERROR(ReadObject(j, "table", &table));
  out->table.clear();
  if (table != nullptr) MQ_RETURN_IF_ERROR(ReadStringMap(*table, "table", &out->table));
  return Status::OK();
}

json ToJson(const KVTable& v) { return json{{"table", json(v.table)}}; }

// Invalid UTF-8 in a string is replaced (U+FFFD) rather than thrown about.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

size_t SkipSpace(std::string_view text, size_t pos) {
  while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
  return pos;
}

}  // namespace

std::string QuoteIntegerKeys(std::string_view json_text) {
  std::string out;
  out.reserve(json_text.size() + 16);
  bool in_string = false;
  size_t pos = 0;
  while (pos < json_text.size()) {
    char c = json_text[pos];
    out.push_back(c);
    ++pos;
    if (in_string) {
      if (c == '\\' && pos < json_text.size()) {
        out.push_back(json_text[pos]);
        ++pos;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != '{' && c != ',') continue;
    // A key position: `-?digits` followed by ':' is an unquoted integer key. In an array,
    // a number after ',' is followed by ',' or ']', never ':', so arrays are left alone.
    size_t start = SkipSpace(json_text, pos);
    size_t end = start;
    if (end < json_text.size() && json_text[end] == '-') ++end;
    size_t digits_start = end;
    while (end < json_text.size() && std::isdigit(static_cast<unsigned char>(json_text[end]))) {
      ++end;
    }
    if (end == digits_start) continue;
    size_t colon = SkipSpace(json_text, end);
    if (colon >= json_text.size() || json_text[colon] != ':') continue;
    out.append(json_text.substr(pos, start - pos));
    out.push_back('"');
    out.append(json_text.substr(start, end - start));
    out.push_back('"');
    pos = end;
  }
  return out;
}

std::string EncodeJson(const DataVersion& value) { return Dump(ToJson(value)); }
std::string EncodeJson(const TopicConfig& value) { return Dump(ToJson(value)); }
std::string EncodeJson(const TopicConfigSerializeWrapper& value) { return Dump(ToJson(value)); }
std::string EncodeJson(const RegisterBrokerBody& value) { return Dump(ToJson(value)); }
std::string EncodeJson(const QueueData& value) { return Dump(ToJson(value)); }
std::string EncodeJson(const BrokerData& value) { return Dump(ToJson(value)); }
std::string EncodeJson(const TopicRouteData& value) { return Dump(ToJson(value)); }
std::string EncodeJson(const ClusterInfo& value) { return Dump(ToJson(value)); }
std::string EncodeJson(const TopicList& value) { return Dump(ToJson(value)); }
std::string EncodeJson(const KVTable& value) { return Dump(ToJson(value)); }

template <typename T>
Result<T> DecodeJson(std::string_view json_text) {
  try {
    std::string normalized = QuoteIntegerKeys(json_text);
    json parsed = json::parse(normalized, /*cb=*/nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return Status::InvalidArgument("body is not valid JSON");
    T value;
    MQ_RETURN_IF_ERROR(FromJson(parsed, &value));
    return value;
  } catch (const json::exception& e) {
    // Not expected: every access above checks the type first.
    return Status::InvalidArgument(std::string("body JSON: ") + e.what());
  }
}

template Result<DataVersion> DecodeJson<DataVersion>(std::string_view);
template Result<TopicConfig> DecodeJson<TopicConfig>(std::string_view);
template Result<TopicConfigSerializeWrapper> DecodeJson<TopicConfigSerializeWrapper>(
    std::string_view);
template Result<RegisterBrokerBody> DecodeJson<RegisterBrokerBody>(std::string_view);
template Result<QueueData> DecodeJson<QueueData>(std::string_view);
template Result<BrokerData> DecodeJson<BrokerData>(std::string_view);
template Result<TopicRouteData> DecodeJson<TopicRouteData>(std::string_view);
template Result<ClusterInfo> DecodeJson<ClusterInfo>(std::string_view);
template Result<TopicList> DecodeJson<TopicList>(std::string_view);
template Result<KVTable> DecodeJson<KVTable>(std::string_view);

}  // namespace mqremoting
