#include "consumer_admin_processor.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client_manage_processor.h"
#include "client_registry.h"
#include "consumer_offset_manager.h"
#include "mqstore/message.h"
#include "mqstore/metadata.h"
#include "mqstore/store.h"
#include "pull_stats.h"
#include "remoting/codes.h"
#include "remoting/consumer_admin_bodies.h"
#include "remoting/log_sink.h"
#include "topic_manager.h"

namespace mqbroker {

using mqremoting::ExtFieldReader;
using mqremoting::RemotingCommand;
namespace response_code = mqremoting::response_code;
namespace request_code = mqremoting::request_code;

namespace {

RemotingCommand SuccessWithBody(const RemotingCommand& request, std::string body) {
  RemotingCommand response = RemotingCommand::ResponseTo(request, response_code::kSuccess);
  response.body = std::move(body);
  return response;
}

// The store time of the message before `offset` (the last one the group consumed), 0 when
// there is none or it is gone.
int64_t LastConsumedStoreTime(mqstore::Store* store, const std::string& topic, int32_t queue_id,
                              int64_t offset) {
  if (offset <= 0) return 0;
  mqstore::Result<mqstore::ReadResult> read = store->Read(topic, queue_id, offset - 1, 1, 1);
  if (!read.ok() || read->messages.empty()) return 0;
  mqstore::ParsedRecord record;
  if (!mqstore::ParseRecord(read->messages.front().record, /*verify_checksums=*/false, &record)
           .ok()) {
    return 0;
  }
  return record.store_timestamp_ms;
}

}  // namespace

void ConsumerAdminProcessor::Process(const std::shared_ptr<mqremoting::Connection>& connection,
                                     RemotingCommand request) {
  switch (request.code) {
    case request_code::kUpdateAndCreateSubscriptionGroup:
      return UpdateGroup(connection, request);
    case request_code::kGetAllSubscriptionGroupConfig:
      return AllGroups(connection, request);
    case request_code::kDeleteSubscriptionGroup:
      return DeleteGroup(connection, request);
    case request_code::kGetConsumerConnectionList:
      return ConnectionList(connection, request);
    case request_code::kGetConsumeStats:
      return ConsumeStats(connection, request);
    case request_code::kQueryTopicConsumeByWho:
      return ConsumedByWho(connection, request);
    case request_code::kInvokeBrokerToResetOffset:
      return ResetOffset(connection, request);
    default:
      ReplyError(connection, request, response_code::kRequestCodeNotSupported,
                 " request type " + std::to_string(request.code) + " not supported");
  }
}

void ConsumerAdminProcessor::UpdateGroup(const std::shared_ptr<mqremoting::Connection>& connection,
                                         const RemotingCommand& request) {
  mqstore::MetadataStore* meta = context_->store->metadata();
  if (meta == nullptr) {
    ReplyError(connection, request, response_code::kSystemError, "the store keeps no metadata");
    return;
  }
  mqstore::Result<mqstore::SubscriptionGroupConfig> config =
      mqremoting::ParseSubscriptionGroupConfig(request.body);
  if (!config.ok()) {
    ReplyError(connection, request, response_code::kSystemError, config.status().ToString());
    return;
  }
  if (mqstore::Status put = meta->PutSubscriptionGroup(*config); !put.ok()) {
    ReplyError(connection, request, response_code::kSystemError, put.ToString());
    return;
  }
  mqremoting::Log(mqremoting::LogLevel::kInfo, "subscription group " + config->group_name +
                                                   " created or updated by " +
                                                   connection->remote_address());
  Reply(connection, request, RemotingCommand::ResponseTo(request, response_code::kSuccess));
}

void ConsumerAdminProcessor::AllGroups(const std::shared_ptr<mqremoting::Connection>& connection,
                                       const RemotingCommand& request) {
  mqstore::MetadataStore* meta = context_->store->metadata();
  std::vector<mqstore::SubscriptionGroupConfig> groups;
  if (meta != nullptr) {
    mqstore::Result<std::vector<mqstore::SubscriptionGroupConfig>> listed =
        meta->ListSubscriptionGroups();
    if (!listed.ok()) {
      ReplyError(connection, request, response_code::kSystemError, listed.status().ToString());
      return;
    }
    groups = std::move(*listed);
  }
  // The groups are not versioned (they live in LMDB, read fresh each time): the version says
  // when the table was read.
  mqremoting::DataVersion version;
  version.timestamp = WallClockMs();
  Reply(connection, request,
        SuccessWithBody(request, mqremoting::EncodeSubscriptionGroupWrapper(groups, version)));
}

void ConsumerAdminProcessor::DeleteGroup(const std::shared_ptr<mqremoting::Connection>& connection,
                                         const RemotingCommand& request) {
  ExtFieldReader fields(request);
  std::string group = fields.String("groupName");
  bool clean_offset = fields.OptBool("cleanOffset").value_or(false);
  if (!fields.status().ok()) {
    ReplyError(connection, request, response_code::kSystemError, fields.status().message());
    return;
  }
  mqstore::MetadataStore* meta = context_->store->metadata();
  if (meta == nullptr) {
    ReplyError(connection, request, response_code::kSystemError, "the store keeps no metadata");
    return;
  }
  mqstore::Status deleted = meta->DeleteSubscriptionGroup(group, mqstore::GroupOffsets::kKeep);
  if (deleted.IsNotFound()) {
    ReplyError(connection, request, response_code::kSubscriptionGroupNotExist,
               "subscription group [" + group + "] does not exist");
    return;
  }
  if (deleted.ok() && clean_offset) {
    deleted = context_->offsets->DeleteGroup(group);
    if (context_->pull_stats != nullptr) context_->pull_stats->ForgetGroup(group);
  }
  if (!deleted.ok()) {
    ReplyError(connection, request, response_code::kSystemError, deleted.ToString());
    return;
  }
  mqremoting::Log(mqremoting::LogLevel::kInfo, "subscription group " + group + " deleted" +
                                                   (clean_offset ? " with its offsets" : "") +
                                                   " by " + connection->remote_address());
  Reply(connection, request, RemotingCommand::ResponseTo(request, response_code::kSuccess));
}

void ConsumerAdminProcessor::ConnectionList(
    const std::shared_ptr<mqremoting::Connection>& connection, const RemotingCommand& request) {
  ExtFieldReader fields(request);
  std::string group = fields.String("consumerGroup");
  if (!fields.status().ok()) {
    ReplyError(connection, request, response_code::kSystemError, fields.status().message());
    return;
  }
  std::optional<ConsumerGroupSnapshot> snapshot = context_->clients->FindConsumerGroup(group);
  if (!snapshot || snapshot->client_ids.empty()) {
    ReplyError(connection, request, response_code::kConsumerNotOnline,
               "the consumer group[" + group + "] not online");
    return;
  }
  mqremoting::ConsumerConnection body;
  for (size_t i = 0; i < snapshot->client_ids.size(); ++i) {
    mqremoting::ClientConnection client;
    client.client_id = snapshot->client_ids[i];
    client.client_addr = snapshot->client_addresses[i];
    client.language = snapshot->client_versions[i].language;
    client.version = snapshot->client_versions[i].version;
    body.connections.push_back(std::move(client));
  }
  body.subscriptions = std::move(snapshot->subscriptions);
  body.consume_type = snapshot->consume_type;
  body.message_model = snapshot->message_model;
  body.consume_from_where = snapshot->consume_from_where;
  Reply(connection, request, SuccessWithBody(request, mqremoting::EncodeConsumerConnection(body)));
}

void ConsumerAdminProcessor::ConsumeStats(const std::shared_ptr<mqremoting::Connection>& connection,
                                          const RemotingCommand& request) {
  ExtFieldReader fields(request);
  std::string group = fields.String("consumerGroup");
  std::string topic = fields.OptString("topic").value_or("");
  if (!fields.status().ok()) {
    ReplyError(connection, request, response_code::kSystemError, fields.status().message());
    return;
  }
  std::map<std::pair<std::string, int32_t>, int64_t> committed =
      context_->offsets->GroupOffsets(group);
  // The topics to report: the one asked for, else every topic the group has offsets in or
  // subscribes to (as a Java broker: its offset table plus the live subscriptions).
  std::set<std::string> topics;
  if (!topic.empty()) {
    if (!context_->topics->Find(topic)) {
      ReplyError(connection, request, response_code::kTopicNotExist,
                 "topic[" + topic + "] not exist");
      return;
    }
    topics.insert(topic);
  } else {
    for (const auto& [key, offset] : committed) topics.insert(key.first);
    if (auto snapshot = context_->clients->FindConsumerGroup(group)) {
      for (const auto& sub : snapshot->subscriptions) topics.insert(sub.topic);
    }
  }

  mqremoting::ConsumeStats stats;
  const int64_t now_ms = WallClockMs();
  for (const std::string& name : topics) {
    std::optional<mqstore::TopicConfig> config = context_->topics->Find(name);
    if (!config) continue;  // deleted since
    // Messages pulled per second over the last minute (Java: GROUP_GET_NUMS per minute).
    if (context_->pull_stats != nullptr) {
      stats.consume_tps += context_->pull_stats->ConsumeTps(group, name, now_ms);
    }
    for (int32_t queue_id = 0; queue_id < config->read_queue_nums; ++queue_id) {
      mqremoting::OffsetWrapper offsets;
      mqstore::Result<mqstore::QueueBounds> bounds =
          context_->store->GetQueueBounds(name, queue_id);
      offsets.broker_offset = bounds.ok() ? bounds->max_offset : 0;
      auto it = committed.find({name, queue_id});
      offsets.consumer_offset = it != committed.end() ? it->second : 0;
      // Where the group's last pull left off (Java's pull offset table); before the first
      // pull since the broker started, the committed offset.
      std::optional<int64_t> pulled = context_->pull_stats != nullptr
                                          ? context_->pull_stats->PullOffset(group, name, queue_id)
                                          : std::nullopt;
      offsets.pull_offset = pulled.value_or(offsets.consumer_offset);
      offsets.last_timestamp =
          LastConsumedStoreTime(context_->store, name, queue_id, offsets.consumer_offset);
      stats.offset_table.push_back(
          {mqremoting::MessageQueue{name, context_->identity.broker_name, queue_id}, offsets});
    }
  }
  Reply(connection, request, SuccessWithBody(request, mqremoting::EncodeConsumeStats(stats)));
}

void ConsumerAdminProcessor::ConsumedByWho(
    const std::shared_ptr<mqremoting::Connection>& connection, const RemotingCommand& request) {
  ExtFieldReader fields(request);
  std::string topic = fields.String("topic");
  if (!fields.status().ok()) {
    ReplyError(connection, request, response_code::kSystemError, fields.status().message());
    return;
  }
  std::set<std::string> groups;
  for (std::string& group : context_->clients->ConsumerGroupsOf(topic)) groups.insert(group);
  for (std::string& group : context_->offsets->GroupsOfTopic(topic)) groups.insert(group);
  Reply(connection, request,
        SuccessWithBody(request, mqremoting::EncodeGroupList({groups.begin(), groups.end()})));
}

void ConsumerAdminProcessor::ResetOffset(const std::shared_ptr<mqremoting::Connection>& connection,
                                         const RemotingCommand& request) {
  ExtFieldReader fields(request);
  std::string topic = fields.String("topic");
  std::string group = fields.String("group");
  int64_t timestamp = fields.Long("timestamp");
  bool force = fields.OptBool("isForce").value_or(true);
  if (!fields.status().ok()) {
    ReplyError(connection, request, response_code::kSystemError, fields.status().message());
    return;
  }
  std::optional<mqstore::TopicConfig> config = context_->topics->Find(topic);
  if (!config) {
    ReplyError(connection, request, response_code::kTopicNotExist,
               "topic[" + topic + "] not exist");
    return;
  }

  // Per queue, Java's rule: the first offset stored at or after the time (-1: the end);
  // without force a group is only ever moved back, never past what it has not consumed.
  mqremoting::QueueOffsets moved;
  for (int32_t queue_id = 0; queue_id < config->read_queue_nums; ++queue_id) {
    int64_t target = 0;
    if (timestamp == -1) {
      mqstore::Result<mqstore::QueueBounds> bounds =
          context_->store->GetQueueBounds(topic, queue_id);
      target = bounds.ok() ? bounds->max_offset : 0;
    } else {
      mqstore::Result<int64_t> found =
          context_->store->GetQueueOffsetByTime(topic, queue_id, timestamp);
      target = found.ok() ? *found : 0;
    }
    std::optional<int64_t> current = context_->offsets->Query(group, topic, queue_id);
    int64_t offset = (force || !current || target < *current) ? target : *current;
    context_->offsets->Commit(group, topic, queue_id, offset);
    moved.push_back(
        {mqremoting::MessageQueue{topic, context_->identity.broker_name, queue_id}, offset});
  }
  std::string body = mqremoting::EncodeResetOffsetBody(moved);

  // Running members hold their own positions and commit them every few seconds: each is
  // told to move (RESET_CONSUMER_CLIENT_OFFSET), as a Java broker does, oneway.
  std::vector<std::shared_ptr<mqremoting::Connection>> members =
      context_->clients->ConsumerConnections(group);
  for (const auto& member : members) {
    RemotingCommand reset = RemotingCommand::Request(request_code::kResetConsumerClientOffset);
    reset.SetExt("topic", topic);
    reset.SetExt("group", group);
    reset.SetExt("timestamp", timestamp);
    reset.SetExt("isForce", force);
    reset.body = body;
    member->SendOneway(std::move(reset));
  }
  mqremoting::Log(mqremoting::LogLevel::kInfo,
                  "offsets of group " + group + " in topic " + topic + " reset to " +
                      std::to_string(timestamp) + " by " + connection->remote_address() + "; " +
                      std::to_string(members.size()) + " running member(s) told");
  RemotingCommand response = SuccessWithBody(request, std::move(body));
  Reply(connection, request, std::move(response));
}

}  // namespace mqbroker
