// The JSON bodies of the name server's requests (docs/format/nameserver.md): what a broker
// registers (RegisterBrokerBody), what a client gets back for a topic (TopicRouteData), and
// the admin views (ClusterInfo, TopicList, KVTable).
//
// Field names on the wire are RocketMQ's (camelCase, as fastjson writes the Java beans).
// EncodeJson always writes standard JSON: quoted keys, keys in sorted order, absent optional
// fields omitted. DecodeJson accepts that and, in addition, fastjson's unquoted integer keys
// (`{0:"127.0.0.1:10911"}`), which Java name servers send to old clients inside
// `brokerAddrs`. Unknown fields are ignored and missing ones keep their defaults, as fastjson
// does; a field of the wrong type, a map key that must be an integer and is not, or text that
// is not JSON at all is kInvalidArgument. Nothing here throws.
#ifndef REMOTING_ROUTE_DATA_H_
#define REMOTING_ROUTE_DATA_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/status.h"

namespace mqremoting {

using mqstore::Result;
using mqstore::Status;

// Permission bits of a topic or queue (RocketMQ's PermName).
namespace perm {
inline constexpr int32_t kPriority = 1 << 3;
inline constexpr int32_t kRead = 1 << 2;
inline constexpr int32_t kWrite = 1 << 1;
inline constexpr int32_t kInherit = 1 << 0;
}  // namespace perm

// The broker id of a master; slaves have ids above it.
inline constexpr int64_t kMasterBrokerId = 0;

// A broker's version of its topic table: it changes whenever a topic is created, updated or
// deleted, and the name server rebuilds a broker's queue data only when it does.
struct DataVersion {
  int64_t timestamp = 0;
  int64_t counter = 0;
  int64_t state_version = 0;  // "stateVersion"

  bool operator==(const DataVersion&) const = default;
};

enum class TopicFilterType { kSingleTag, kMultiTag };  // "SINGLE_TAG" / "MULTI_TAG"

// A topic as a broker registers it (RocketMQ's TopicConfig bean). Defaults are the Java
// bean's, so a field a sender left out means what it means to a Java name server.
struct TopicConfig {
  std::string topic_name;
  int32_t read_queue_nums = 16;
  int32_t write_queue_nums = 16;
  int32_t perm = perm::kRead | perm::kWrite;
  TopicFilterType topic_filter_type = TopicFilterType::kSingleTag;
  int32_t topic_sys_flag = 0;
  bool order = false;
  std::map<std::string, std::string> attributes;

  bool operator==(const TopicConfig&) const = default;
};

// {"topicConfigTable": {name: TopicConfig}, "dataVersion": DataVersion}. The static-topic
// mapping fields a Java 5.x broker adds are ignored.
struct TopicConfigSerializeWrapper {
  std::map<std::string, TopicConfig> topic_config_table;
  DataVersion data_version;

  bool operator==(const TopicConfigSerializeWrapper&) const = default;
};

// The body of REGISTER_BROKER (uncompressed form): the broker's whole topic table.
struct RegisterBrokerBody {
  TopicConfigSerializeWrapper topic_config_serialize_wrapper;
  std::vector<std::string> filter_server_list;

  bool operator==(const RegisterBrokerBody&) const = default;
};

// The queues one broker (group) serves for a topic.
struct QueueData {
  std::string broker_name;
  int32_t read_queue_nums = 0;
  int32_t write_queue_nums = 0;
  int32_t perm = 0;
  int32_t topic_sys_flag = 0;

  bool operator==(const QueueData&) const = default;
};

// One broker group: its master (id 0) and slaves by id, each as "ip:port".
struct BrokerData {
  std::string cluster;
  std::string broker_name;
  std::map<int64_t, std::string> broker_addrs;
  bool enable_acting_master = false;

  bool operator==(const BrokerData&) const = default;
};

// The body of a GET_ROUTEINFO_BY_TOPIC response.
struct TopicRouteData {
  std::optional<std::string> order_topic_conf;  // "brokerName:queueNum;..." for order topics
  std::vector<QueueData> queue_datas;
  std::vector<BrokerData> broker_datas;
  // Broker address -> filter server addresses (RocketMQ's class filter servers; kept for
  // completeness, normally empty).
  std::map<std::string, std::vector<std::string>> filter_server_table;

  bool operator==(const TopicRouteData&) const = default;
};

// The body of a GET_BROKER_CLUSTER_INFO response.
struct ClusterInfo {
  std::map<std::string, BrokerData> broker_addr_table;              // brokerName -> data
  std::map<std::string, std::set<std::string>> cluster_addr_table;  // cluster -> names

  bool operator==(const ClusterInfo&) const = default;
};

// The body of a GET_ALL_TOPIC_LIST_FROM_NAMESERVER response.
struct TopicList {
  std::set<std::string> topic_list;

  bool operator==(const TopicList&) const = default;
};

// A string map body ({"table": {...}}), e.g. GET_BROKER_RUNTIME_INFO.
struct KVTable {
  std::map<std::string, std::string> table;

  bool operator==(const KVTable&) const = default;
};

std::string EncodeJson(const DataVersion& value);
std::string EncodeJson(const TopicConfig& value);
std::string EncodeJson(const TopicConfigSerializeWrapper& value);
std::string EncodeJson(const RegisterBrokerBody& value);
std::string EncodeJson(const QueueData& value);
std::string EncodeJson(const BrokerData& value);
std::string EncodeJson(const TopicRouteData& value);
std::string EncodeJson(const ClusterInfo& value);
std::string EncodeJson(const TopicList& value);
std::string EncodeJson(const KVTable& value);

// Decodes one of the types above (any other T does not link).
template <typename T>
Result<T> DecodeJson(std::string_view json);

extern template Result<DataVersion> DecodeJson<DataVersion>(std::string_view);
extern template Result<TopicConfig> DecodeJson<TopicConfig>(std::string_view);
extern template Result<TopicConfigSerializeWrapper> DecodeJson<TopicConfigSerializeWrapper>(
    std::string_view);
extern template Result<RegisterBrokerBody> DecodeJson<RegisterBrokerBody>(std::string_view);
extern template Result<QueueData> DecodeJson<QueueData>(std::string_view);
extern template Result<BrokerData> DecodeJson<BrokerData>(std::string_view);
extern template Result<TopicRouteData> DecodeJson<TopicRouteData>(std::string_view);
extern template Result<ClusterInfo> DecodeJson<ClusterInfo>(std::string_view);
extern template Result<TopicList> DecodeJson<TopicList>(std::string_view);
extern template Result<KVTable> DecodeJson<KVTable>(std::string_view);

// `json` with every unquoted integer object key (`{0:` / `,12:`) put in quotes, outside string
// literals; everything else unchanged. The one fastjson extension DecodeJson accepts.
std::string QuoteIntegerKeys(std::string_view json);

}  // namespace mqremoting

#endif  // REMOTING_ROUTE_DATA_H_
