#include "mqclient/admin.h"

#include <limits>
#include <set>
#include <utility>

#include "remoting/codes.h"

namespace mqclient {

using mqremoting::RemotingCommand;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;

Admin::Admin(const std::string& namesrv_addr, std::chrono::milliseconds timeout)
    : timeout_(timeout),
      remoting_(mqremoting::RemotingClient::Create({})),
      name_server_(std::make_unique<NameServerClient>(SplitAddressList(namesrv_addr),
                                                      remoting_.get(), timeout)) {}

Admin::~Admin() { remoting_->Shutdown(); }

Result<RemotingCommand> Admin::Call(const std::string& address, RemotingCommand request) {
  return remoting_->InvokeSync(address, std::move(request), timeout_);
}

Status Admin::CreateTopicOnBroker(const TopicSpec& spec, const std::string& broker_addr) {
  MQ_RETURN_IF_ERROR(mqstore::ValidateTopic(spec.topic));
  RemotingCommand request = RemotingCommand::Request(request_code::kUpdateAndCreateTopic);
  request.SetExt("topic", spec.topic);
  request.SetExt("defaultTopic", "TBW102");
  request.SetExt("readQueueNums", spec.read_queue_nums);
  request.SetExt("writeQueueNums", spec.write_queue_nums);
  request.SetExt("perm", spec.perm);
  request.SetExt("topicFilterType", "SINGLE_TAG");
  request.SetExt("topicSysFlag", int32_t{0});
  request.SetExt("order", false);
  MQ_ASSIGN_OR_RETURN(RemotingCommand response, Call(broker_addr, std::move(request)));
  if (response.code != response_code::kSuccess) {
    return ResponseStatus(response, "create topic " + spec.topic + " on " + broker_addr);
  }
  name_server_->Invalidate(spec.topic);
  return Status::OK();
}

Result<std::vector<std::string>> Admin::CreateTopicInCluster(const TopicSpec& spec,
                                                             const std::string& cluster) {
  MQ_ASSIGN_OR_RETURN(mqremoting::ClusterInfo info, name_server_->GetClusterInfo());
  auto names = info.cluster_addr_table.find(cluster);
  if (names == info.cluster_addr_table.end()) {
    return Status::NotFound("cluster " + cluster + " is not known to the name servers");
  }
  std::vector<std::string> masters;
  for (const std::string& name : names->second) {
    auto broker = info.broker_addr_table.find(name);
    if (broker == info.broker_addr_table.end()) continue;
    auto master = broker->second.broker_addrs.find(mqremoting::kMasterBrokerId);
    if (master != broker->second.broker_addrs.end()) masters.push_back(master->second);
  }
  if (masters.empty()) return Status::NotFound("cluster " + cluster + " has no master broker");
  for (const std::string& address : masters) {
    MQ_RETURN_IF_ERROR(CreateTopicOnBroker(spec, address));
  }
  return masters;
}

Result<mqremoting::TopicList> Admin::TopicList() { return name_server_->GetTopicList(); }

Result<mqremoting::TopicRouteData> Admin::TopicRoute(const std::string& topic) {
  return name_server_->GetRoute(topic, /*refresh=*/true);
}

Result<mqremoting::ClusterInfo> Admin::ClusterInfo() { return name_server_->GetClusterInfo(); }

Result<std::vector<BrokerStatus>> Admin::ClusterList() {
  MQ_ASSIGN_OR_RETURN(mqremoting::ClusterInfo info, name_server_->GetClusterInfo());
  std::vector<BrokerStatus> brokers;
  for (const auto& [cluster, names] : info.cluster_addr_table) {
    for (const std::string& name : names) {
      auto broker = info.broker_addr_table.find(name);
      if (broker == info.broker_addr_table.end()) continue;
      for (const auto& [id, address] : broker->second.broker_addrs) {
        BrokerStatus status;
        status.cluster = cluster;
        status.broker_name = name;
        status.broker_id = id;
        status.address = address;
        Result<RemotingCommand> response =
            Call(address, RemotingCommand::Request(request_code::kGetBrokerRuntimeInfo));
        if (!response.ok()) {
          status.runtime_status = response.status();
        } else if (response->code != response_code::kSuccess) {
          status.runtime_status = ResponseStatus(*response, "runtime info of " + address);
        } else {
          Result<mqremoting::KVTable> table =
              mqremoting::DecodeJson<mqremoting::KVTable>(response->BodyBytes());
          if (table.ok()) {
            status.runtime = std::move(table->table);
          } else {
            status.runtime_status = table.status();
          }
        }
        brokers.push_back(std::move(status));
      }
    }
  }
  return brokers;
}

Result<std::vector<ReceivedMessage>> Admin::QueryIndex(const std::string& topic,
                                                       const std::string& key, int32_t max_num,
                                                       bool unique_key) {
  MQ_ASSIGN_OR_RETURN(mqremoting::TopicRouteData route, name_server_->GetRoute(topic, true));
  std::vector<ReceivedMessage> found;
  std::string failures;
  for (const mqremoting::BrokerData& broker : route.broker_datas) {
    for (const auto& [id, address] : broker.broker_addrs) {
      RemotingCommand request = RemotingCommand::Request(request_code::kQueryMessage);
      request.SetExt("topic", topic);
      request.SetExt("key", key);
      request.SetExt("maxNum", max_num);
      request.SetExt("beginTimestamp", int64_t{0});
      request.SetExt("endTimestamp", std::numeric_limits<int64_t>::max());
      if (unique_key) request.SetExt("_UNIQUE_KEY_QUERY", true);
      Result<RemotingCommand> response = Call(address, std::move(request));
      if (!response.ok()) {
        failures += " " + address + ": " + response.status().ToString();
        continue;
      }
      if (response->code == response_code::kQueryNotFound) continue;
      if (response->code != response_code::kSuccess) {
        failures += " " + ResponseStatus(*response, address).ToString();
        continue;
      }
      MQ_ASSIGN_OR_RETURN(std::vector<ReceivedMessage> messages,
                          DecodeMessages(response->BodyBytes()));
      for (ReceivedMessage& message : messages) {
        // The index matches hashes: keep only real matches.
        bool matches = false;
        if (unique_key) {
          matches = message.unique_id == key;
        } else {
          std::string_view keys = message.keys;
          while (!keys.empty() && !matches) {
            size_t end = keys.find(' ');
            matches = keys.substr(0, end) == key;
            keys.remove_prefix(end == std::string_view::npos ? keys.size() : end + 1);
          }
        }
        if (matches && message.topic == topic) found.push_back(std::move(message));
      }
    }
  }
  if (found.empty()) {
    return Status::NotFound("no message of topic " + topic + " with " +
                            (unique_key ? "unique key " : "key ") + key +
                            (failures.empty() ? "" : " (errors:" + failures + ")"));
  }
  return found;
}

Result<std::vector<ReceivedMessage>> Admin::QueryMessageByKey(const std::string& topic,
                                                              const std::string& key,
                                                              int32_t max_num) {
  return QueryIndex(topic, key, max_num, /*unique_key=*/false);
}

Result<ReceivedMessage> Admin::QueryMessageById(const std::string& topic, const std::string& id) {
  if (auto decoded = mqstore::DecodeOffsetMessageId(id)) {
    RemotingCommand request = RemotingCommand::Request(request_code::kViewMessageById);
    request.SetExt("offset", decoded->second);
    Result<RemotingCommand> response = Call(decoded->first.ToString(), std::move(request));
    if (response.ok() && response->code == response_code::kSuccess) {
      Result<std::vector<ReceivedMessage>> messages = DecodeMessages(response->BodyBytes());
      if (messages.ok() && messages->size() == 1) return std::move(messages->front());
    }
  }
  MQ_ASSIGN_OR_RETURN(std::vector<ReceivedMessage> messages,
                      QueryIndex(topic, id, 32, /*unique_key=*/true));
  return std::move(messages.front());
}

}  // namespace mqclient
