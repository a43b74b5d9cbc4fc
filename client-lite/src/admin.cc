#include "mqclient/admin.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include "consumer_requests.h"
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

namespace {

// The master addresses of `cluster`'s brokers. kNotFound for an unknown cluster or one
// without a master.
Result<std::vector<std::string>> ClusterMasters(NameServerClient* name_server,
                                                const std::string& cluster) {
  MQ_ASSIGN_OR_RETURN(mqremoting::ClusterInfo info, name_server->GetClusterInfo());
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
  return masters;
}

}  // namespace

Result<std::vector<std::string>> Admin::CreateTopicInCluster(const TopicSpec& spec,
                                                             const std::string& cluster) {
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> masters,
                      ClusterMasters(name_server_.get(), cluster));
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
        Result<std::map<std::string, std::string>> runtime = BrokerRuntime(address);
        if (runtime.ok()) {
          status.runtime = std::move(runtime).value();
        } else {
          status.runtime_status = runtime.status();
        }
        brokers.push_back(std::move(status));
      }
    }
  }
  return brokers;
}

Result<std::map<std::string, std::string>> Admin::BrokerRuntime(const std::string& broker_addr) {
  MQ_ASSIGN_OR_RETURN(
      RemotingCommand response,
      Call(broker_addr, RemotingCommand::Request(request_code::kGetBrokerRuntimeInfo)));
  if (response.code != response_code::kSuccess) {
    return ResponseStatus(response, "runtime info of " + broker_addr);
  }
  MQ_ASSIGN_OR_RETURN(mqremoting::KVTable table,
                      mqremoting::DecodeJson<mqremoting::KVTable>(response.BodyBytes()));
  return std::move(table.table);
}

Result<std::string> Admin::MasterOf(const MessageQueue& queue) {
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<const mqremoting::TopicRouteData> route,
                      name_server_->GetSharedRoute(queue.topic));
  std::string address = MasterAddress(*route, queue.broker_name);
  if (address.empty()) {
    return Status::NotFound("broker " + queue.broker_name + " of topic " + queue.topic +
                            " has no master");
  }
  return address;
}

Result<std::vector<QueueProgress>> Admin::QueueOffsets(const std::string& topic,
                                                       const std::string& group) {
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<const mqremoting::TopicRouteData> route,
                      name_server_->GetSharedRoute(topic, /*refresh=*/true));
  std::vector<MessageQueue> queues = ReadableQueues(*route, topic);
  std::sort(queues.begin(), queues.end());
  std::vector<QueueProgress> progress;
  for (const MessageQueue& queue : queues) {
    MQ_ASSIGN_OR_RETURN(std::string address, MasterOf(queue));
    QueueProgress p;
    p.queue = queue;
    const std::string what = queue.ToString();
    MQ_ASSIGN_OR_RETURN(
        RemotingCommand max,
        Call(address, MakeQueueOffsetRequest(request_code::kGetMaxOffset, queue, std::nullopt)));
    MQ_ASSIGN_OR_RETURN(p.max_offset, ReadOffsetResponse(max, "max offset of " + what));
    MQ_ASSIGN_OR_RETURN(
        RemotingCommand min,
        Call(address, MakeQueueOffsetRequest(request_code::kGetMinOffset, queue, std::nullopt)));
    MQ_ASSIGN_OR_RETURN(p.min_offset, ReadOffsetResponse(min, "min offset of " + what));
    if (!group.empty()) {
      MQ_ASSIGN_OR_RETURN(RemotingCommand committed,
                          Call(address, MakeQueryConsumerOffsetRequest(group, queue, false)));
      Result<int64_t> offset = ReadOffsetResponse(committed, "offset of " + group + " in " + what);
      if (offset.ok()) {
        p.consumer_offset = *offset;
      } else if (!offset.status().IsNotFound()) {
        return offset.status();
      }
    }
    progress.push_back(p);
  }
  return progress;
}

Result<std::vector<QueueProgress>> Admin::ResetOffsetByTime(const std::string& group,
                                                            const std::string& topic,
                                                            int64_t timestamp_ms) {
  if (group.empty()) return Status::InvalidArgument("no consumer group given");
  MQ_ASSIGN_OR_RETURN(std::vector<QueueProgress> progress, QueueOffsets(topic));
  for (QueueProgress& p : progress) {
    MQ_ASSIGN_OR_RETURN(std::string address, MasterOf(p.queue));
    MQ_ASSIGN_OR_RETURN(RemotingCommand found,
                        Call(address, MakeQueueOffsetRequest(request_code::kSearchOffsetByTimestamp,
                                                             p.queue, timestamp_ms)));
    MQ_ASSIGN_OR_RETURN(p.consumer_offset,
                        ReadOffsetResponse(found, "offset by time in " + p.queue.ToString()));
    MQ_ASSIGN_OR_RETURN(
        RemotingCommand updated,
        Call(address, MakeUpdateConsumerOffsetRequest(group, p.queue, p.consumer_offset)));
    if (updated.code != response_code::kSuccess) {
      return ResponseStatus(updated, "reset offset of " + group + " in " + p.queue.ToString());
    }
  }
  return progress;
}

Status Admin::DeleteTopic(const std::string& topic, const std::string& cluster) {
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> masters,
                      ClusterMasters(name_server_.get(), cluster));
  for (const std::string& address : masters) {
    RemotingCommand request = RemotingCommand::Request(request_code::kDeleteTopicInBroker);
    request.SetExt("topic", topic);
    MQ_ASSIGN_OR_RETURN(RemotingCommand response, Call(address, std::move(request)));
    if (response.code != response_code::kSuccess) {
      return ResponseStatus(response, "delete topic " + topic + " on " + address);
    }
  }
  for (const std::string& address : name_server_->addresses()) {
    RemotingCommand request = RemotingCommand::Request(request_code::kDeleteTopicInNamesrv);
    request.SetExt("topic", topic);
    MQ_ASSIGN_OR_RETURN(RemotingCommand response, Call(address, std::move(request)));
    if (response.code != response_code::kSuccess) {
      return ResponseStatus(response, "delete topic " + topic + " on name server " + address);
    }
  }
  name_server_->Invalidate(topic);
  return Status::OK();
}

Result<ReceivedMessage> Admin::QueryMessageByOffset(const MessageQueue& queue, int64_t offset) {
  MQ_ASSIGN_OR_RETURN(std::string address, MasterOf(queue));
  PullRequestFields fields;
  fields.group = "TOOLS_CONSUMER";  // RocketMQ's admin tool pulls as this group
  fields.queue = queue;
  fields.offset = offset;
  fields.max_messages = 1;
  MQ_ASSIGN_OR_RETURN(RemotingCommand response, Call(address, MakePullRequest(fields)));
  MQ_ASSIGN_OR_RETURN(PullResult pulled, ReadPullResponse(response, queue, offset));
  if (pulled.messages.empty() || pulled.messages.front().queue_offset != offset) {
    return Status::NotFound("no message at offset " + std::to_string(offset) + " of " +
                            queue.ToString() + " (it holds " + std::to_string(pulled.min_offset) +
                            ".." + std::to_string(pulled.max_offset) + ")");
  }
  return std::move(pulled.messages.front());
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
