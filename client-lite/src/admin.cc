#include "mqclient/admin.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "consumer_requests.h"
#include "mqstore/send_back.h"
#include "remoting/codes.h"
#include "remoting/tag_filter.h"

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
                                                            int64_t timestamp_ms, bool force) {
  if (group.empty()) return Status::InvalidArgument("no consumer group given");
  MQ_ASSIGN_OR_RETURN(std::vector<QueueProgress> progress, QueueOffsets(topic));
  // Each master resets its own queues and tells the running members.
  std::map<std::string, std::vector<QueueProgress*>> by_master;
  for (QueueProgress& p : progress) {
    MQ_ASSIGN_OR_RETURN(std::string address, MasterOf(p.queue));
    by_master[address].push_back(&p);
  }
  for (auto& [address, queues] : by_master) {
    RemotingCommand request = RemotingCommand::Request(request_code::kInvokeBrokerToResetOffset);
    request.SetExt("topic", topic);
    request.SetExt("group", group);
    request.SetExt("timestamp", timestamp_ms);
    request.SetExt("isForce", force);
    MQ_ASSIGN_OR_RETURN(RemotingCommand response, Call(address, std::move(request)));
    if (response.code == response_code::kSuccess) {
      MQ_ASSIGN_OR_RETURN(mqremoting::QueueOffsets moved,
                          mqremoting::ParseResetOffsetBody(response.BodyBytes()));
      for (QueueProgress* p : queues) {
        for (const auto& [queue, offset] : moved) {
          if (queue.topic == p->queue.topic && queue.broker_name == p->queue.broker_name &&
              queue.queue_id == p->queue.queue_id) {
            p->consumer_offset = offset;
          }
        }
      }
      continue;
    }
    if (response.code != response_code::kRequestCodeNotSupported) {
      return ResponseStatus(response, "reset offsets of " + group + " on " + address);
    }
    // An older broker: set the offsets one by one (running members are not told).
    for (QueueProgress* p : queues) {
      if (timestamp_ms == -1) {
        p->consumer_offset = p->max_offset;
      } else {
        MQ_ASSIGN_OR_RETURN(
            RemotingCommand found,
            Call(address, MakeQueueOffsetRequest(request_code::kSearchOffsetByTimestamp, p->queue,
                                                 timestamp_ms)));
        MQ_ASSIGN_OR_RETURN(p->consumer_offset,
                            ReadOffsetResponse(found, "offset by time in " + p->queue.ToString()));
      }
      MQ_ASSIGN_OR_RETURN(
          RemotingCommand updated,
          Call(address, MakeUpdateConsumerOffsetRequest(group, p->queue, p->consumer_offset)));
      if (updated.code != response_code::kSuccess) {
        return ResponseStatus(updated, "reset offset of " + group + " in " + p->queue.ToString());
      }
    }
  }
  return progress;
}

Result<std::vector<std::string>> Admin::AllMasters() {
  MQ_ASSIGN_OR_RETURN(mqremoting::ClusterInfo info, name_server_->GetClusterInfo());
  std::set<std::string> masters;
  for (const auto& [name, broker] : info.broker_addr_table) {
    auto master = broker.broker_addrs.find(mqremoting::kMasterBrokerId);
    if (master != broker.broker_addrs.end()) masters.insert(master->second);
  }
  if (masters.empty()) return Status::NotFound("the name servers know no master broker");
  return std::vector<std::string>(masters.begin(), masters.end());
}

Status Admin::UpdateSubscriptionGroup(const mqstore::SubscriptionGroupConfig& config,
                                      const std::string& broker_addr) {
  RemotingCommand request =
      RemotingCommand::Request(request_code::kUpdateAndCreateSubscriptionGroup);
  request.body = mqremoting::EncodeSubscriptionGroupConfig(config);
  MQ_ASSIGN_OR_RETURN(RemotingCommand response, Call(broker_addr, std::move(request)));
  if (response.code != response_code::kSuccess) {
    return ResponseStatus(response,
                          "update subscription group " + config.group_name + " on " + broker_addr);
  }
  return Status::OK();
}

Result<std::vector<std::string>> Admin::UpdateSubscriptionGroupInCluster(
    const mqstore::SubscriptionGroupConfig& config, const std::string& cluster) {
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> masters,
                      ClusterMasters(name_server_.get(), cluster));
  for (const std::string& address : masters) {
    MQ_RETURN_IF_ERROR(UpdateSubscriptionGroup(config, address));
  }
  return masters;
}

Result<std::vector<mqstore::SubscriptionGroupConfig>> Admin::SubscriptionGroups(
    const std::string& broker_addr) {
  MQ_ASSIGN_OR_RETURN(
      RemotingCommand response,
      Call(broker_addr, RemotingCommand::Request(request_code::kGetAllSubscriptionGroupConfig)));
  if (response.code != response_code::kSuccess) {
    return ResponseStatus(response, "subscription groups of " + broker_addr);
  }
  return mqremoting::ParseSubscriptionGroupWrapper(response.BodyBytes());
}

Status Admin::DeleteSubscriptionGroup(const std::string& group, const std::string& cluster,
                                      bool clean_offset) {
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> masters,
                      ClusterMasters(name_server_.get(), cluster));
  bool deleted = false;
  for (const std::string& address : masters) {
    RemotingCommand request = RemotingCommand::Request(request_code::kDeleteSubscriptionGroup);
    request.SetExt("groupName", group);
    request.SetExt("cleanOffset", clean_offset);
    MQ_ASSIGN_OR_RETURN(RemotingCommand response, Call(address, std::move(request)));
    if (response.code == response_code::kSubscriptionGroupNotExist) continue;
    if (response.code != response_code::kSuccess) {
      return ResponseStatus(response, "delete subscription group " + group + " on " + address);
    }
    deleted = true;
  }
  if (!deleted) {
    return Status::NotFound("no broker of cluster " + cluster + " has subscription group " + group);
  }
  return Status::OK();
}

Result<mqremoting::ConsumerConnection> Admin::ConsumerConnection(const std::string& group) {
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> masters, AllMasters());
  for (const std::string& address : masters) {
    RemotingCommand request = RemotingCommand::Request(request_code::kGetConsumerConnectionList);
    request.SetExt("consumerGroup", group);
    MQ_ASSIGN_OR_RETURN(RemotingCommand response, Call(address, std::move(request)));
    if (response.code == response_code::kConsumerNotOnline) continue;
    if (response.code != response_code::kSuccess) {
      return ResponseStatus(response, "connections of group " + group + " on " + address);
    }
    return mqremoting::ParseConsumerConnection(response.BodyBytes());
  }
  return Status::NotFound("consumer group " + group + " has no running member");
}

Result<std::vector<QueueProgress>> Admin::ConsumeProgress(const std::string& group,
                                                          const std::string& topic,
                                                          double* consume_tps) {
  if (group.empty()) return Status::InvalidArgument("no consumer group given");
  if (consume_tps != nullptr) *consume_tps = 0;
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> masters, AllMasters());
  std::vector<QueueProgress> progress;
  Status first_error;
  bool any = false;
  for (const std::string& address : masters) {
    RemotingCommand request = RemotingCommand::Request(request_code::kGetConsumeStats);
    request.SetExt("consumerGroup", group);
    if (!topic.empty()) request.SetExt("topic", topic);
    MQ_ASSIGN_OR_RETURN(RemotingCommand response, Call(address, std::move(request)));
    if (response.code != response_code::kSuccess) {
      // A broker without the topic is not an error while another one has it.
      if (first_error.ok()) {
        first_error = ResponseStatus(response, "consume stats of " + group + " on " + address);
      }
      continue;
    }
    MQ_ASSIGN_OR_RETURN(mqremoting::ConsumeStats stats,
                        mqremoting::ParseConsumeStats(response.BodyBytes()));
    any = true;
    if (consume_tps != nullptr) *consume_tps += stats.consume_tps;
    for (const auto& [queue, offsets] : stats.offset_table) {
      QueueProgress p;
      p.queue = MessageQueue{queue.topic, queue.broker_name, queue.queue_id};
      p.max_offset = offsets.broker_offset;
      p.consumer_offset = offsets.consumer_offset;
      p.pull_offset = offsets.pull_offset;
      p.last_timestamp_ms = offsets.last_timestamp;
      progress.push_back(std::move(p));
    }
  }
  if (!any) return first_error;
  std::sort(progress.begin(), progress.end(),
            [](const QueueProgress& a, const QueueProgress& b) { return a.queue < b.queue; });
  return progress;
}

Result<std::vector<std::string>> Admin::TopicConsumedByWho(const std::string& topic) {
  MQ_ASSIGN_OR_RETURN(mqremoting::TopicRouteData route, name_server_->GetRoute(topic, true));
  std::set<std::string> groups;
  for (const mqremoting::BrokerData& broker : route.broker_datas) {
    std::string address = MasterAddress(route, broker.broker_name);
    if (address.empty()) continue;
    RemotingCommand request = RemotingCommand::Request(request_code::kQueryTopicConsumeByWho);
    request.SetExt("topic", topic);
    MQ_ASSIGN_OR_RETURN(RemotingCommand response, Call(address, std::move(request)));
    if (response.code != response_code::kSuccess) {
      return ResponseStatus(response, "groups of topic " + topic + " on " + address);
    }
    MQ_ASSIGN_OR_RETURN(std::vector<std::string> found,
                        mqremoting::ParseGroupList(response.BodyBytes()));
    groups.insert(found.begin(), found.end());
  }
  return std::vector<std::string>(groups.begin(), groups.end());
}

std::string_view TrackTypeName(TrackType type) {
  switch (type) {
    case TrackType::kConsumed:
      return "CONSUMED";
    case TrackType::kConsumedButFiltered:
      return "CONSUMED_BUT_FILTERED";
    case TrackType::kNotConsumedYet:
      return "NOT_CONSUME_YET";
    case TrackType::kNotOnline:
      return "NOT_ONLINE";
    case TrackType::kBroadcasting:
      return "CONSUME_BROADCASTING";
  }
  return "UNKNOWN";
}

Result<std::vector<MessageTrack>> Admin::TrackMessage(const std::string& topic,
                                                      const std::string& id) {
  MQ_ASSIGN_OR_RETURN(ReceivedMessage message, QueryMessageById(topic, id));
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> groups, TopicConsumedByWho(topic));
  // The broker the message is on: the one whose master stored it.
  std::string broker_name;
  if (Result<mqremoting::TopicRouteData> route = name_server_->GetRoute(topic, false); route.ok()) {
    for (const mqremoting::BrokerData& broker : route->broker_datas) {
      if (MasterAddress(*route, broker.broker_name) == message.store_host) {
        broker_name = broker.broker_name;
      }
    }
  }
  std::vector<MessageTrack> tracks;
  for (const std::string& group : groups) {
    MessageTrack track;
    track.group = group;
    Result<mqremoting::ConsumerConnection> members = ConsumerConnection(group);
    track.online = members.ok();
    bool broadcasting = members.ok() && members->message_model == mqremoting::kBroadcasting;
    bool consumed = false;
    Result<std::vector<QueueProgress>> progress = ConsumeProgress(group, topic);
    if (progress.ok()) {
      for (const QueueProgress& p : *progress) {
        if (p.queue.queue_id == message.queue_id &&
            (broker_name.empty() || p.queue.broker_name == broker_name)) {
          consumed = p.consumer_offset > message.queue_offset;
        }
      }
    }
    if (broadcasting) {
      track.type = TrackType::kBroadcasting;
    } else if (consumed) {
      track.type = TrackType::kConsumed;
      if (members.ok()) {
        for (const mqremoting::SubscriptionData& sub : members->subscriptions) {
          if (sub.topic != topic) continue;
          Result<mqremoting::TagFilter> filter = mqremoting::TagFilterFromSubscription(sub);
          if (filter.ok() && !filter->MatchesTag(message.tags)) {
            track.type = TrackType::kConsumedButFiltered;
          }
        }
      }
    } else {
      track.type = members.ok() ? TrackType::kNotConsumedYet : TrackType::kNotOnline;
    }
    // Retries and dead letters keep the message's unique key.
    const std::string& key = message.unique_id.empty() ? id : message.unique_id;
    Result<std::vector<ReceivedMessage>> retried =
        QueryIndex(mqstore::RetryTopic(group), key, 64, /*unique_key=*/true);
    if (retried.ok()) track.retries = static_cast<int>(retried->size());
    track.dead = QueryIndex(mqstore::DlqTopic(group), key, 1, /*unique_key=*/true).ok();
    tracks.push_back(std::move(track));
  }
  return tracks;
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
