#include "client_manage_processor.h"

#include <chrono>

#include "client_registry.h"
#include "mqstore/metadata.h"
#include "mqstore/send_back.h"
#include "mqstore/store.h"
#include "nameserver_registrar.h"
#include "queue_lock_manager.h"
#include "remoting/codes.h"
#include "remoting/heartbeat_data.h"
#include "remoting/lock_batch_body.h"
#include "remoting/log_sink.h"
#include "topic_manager.h"

namespace mqbroker {

using mqremoting::ExtFieldReader;
using mqremoting::RemotingCommand;
namespace response_code = mqremoting::response_code;
namespace request_code = mqremoting::request_code;

int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void NotifyConsumerIdsChanged(const BrokerContext& context,
                              const std::vector<std::string>& groups) {
  for (const std::string& group : groups) {
    if (mqstore::MetadataStore* meta = context.store->metadata()) {
      auto config = meta->GetSubscriptionGroup(group);
      if (config.ok() && !config->notify_consumer_ids_changed_enable) continue;
    }
    for (const auto& member : context.clients->ConsumerConnections(group)) {
      RemotingCommand notify = RemotingCommand::Request(request_code::kNotifyConsumerIdsChanged);
      notify.SetExt("consumerGroup", group);
      member->SendOneway(std::move(notify));
    }
  }
}

void ClientManageProcessor::Process(const std::shared_ptr<mqremoting::Connection>& connection,
                                    RemotingCommand request) {
  switch (request.code) {
    case request_code::kHeartBeat:
      return HeartBeat(connection, request);
    case request_code::kUnregisterClient:
      return Unregister(connection, request);
    case request_code::kGetConsumerListByGroup:
      return ConsumerList(connection, request);
    case request_code::kLockBatchMq:
      return LockBatch(connection, request);
    case request_code::kUnlockBatchMq:
      return UnlockBatch(connection, request);
    default:
      ReplyError(connection, request, response_code::kRequestCodeNotSupported,
                 " request type " + std::to_string(request.code) + " not supported");
  }
}

void ClientManageProcessor::HeartBeat(const std::shared_ptr<mqremoting::Connection>& connection,
                                      const RemotingCommand& request) {
  mqstore::Result<mqremoting::HeartbeatData> heartbeat =
      mqremoting::ParseHeartbeatData(request.body);
  if (!heartbeat.ok()) {
    ReplyError(connection, request, response_code::kSystemError,
               "bad heartbeat body: " + heartbeat.status().ToString());
    return;
  }
  HeartbeatOutcome outcome = context_->clients->OnHeartbeat(
      *heartbeat, connection, WallClockMs(), ClientVersion{request.language, request.version});

  bool topics_created = false;
  mqstore::MetadataStore* meta = context_->store->metadata();
  for (const mqremoting::ConsumerData& consumer : heartbeat->consumers) {
    int32_t retry_queues = mqstore::kDefaultRetryQueueNums;
    if (meta != nullptr) {
      auto group = meta->GetSubscriptionGroup(consumer.group_name);
      if (group.ok()) {
        retry_queues = group->retry_queue_nums;
      } else {
        mqstore::SubscriptionGroupConfig config;
        config.group_name = consumer.group_name;
        if (mqstore::Status created = meta->PutSubscriptionGroup(config); !created.ok()) {
          ReplyError(connection, request, response_code::kSubscriptionGroupNotExist,
                     "subscription group [" + consumer.group_name +
                         "] cannot be created: " + created.ToString());
          return;
        }
      }
    }
    std::string retry_topic = mqstore::RetryTopic(consumer.group_name);
    if (context_->topics->Find(retry_topic)) continue;
    auto created = context_->topics->FindOrCreateSystemOwned(retry_topic, retry_queues,
                                                             mqstore::perm::kReadWrite);
    if (!created.ok()) {
      ReplyError(
          connection, request, response_code::kSystemError,
          "retry topic " + retry_topic + " cannot be created: " + created.status().ToString());
      return;
    }
    topics_created = true;
  }
  // The client asks the name server for the retry topic's route right after this answer.
  if (topics_created && context_->registrar != nullptr) {
    context_->registrar->RegisterNow().IgnoreError();  // logged by the registrar
  }
  Reply(connection, request, RemotingCommand::ResponseTo(request, response_code::kSuccess));
  NotifyConsumerIdsChanged(*context_, outcome.membership_changed);
}

void ClientManageProcessor::Unregister(const std::shared_ptr<mqremoting::Connection>& connection,
                                       const RemotingCommand& request) {
  ExtFieldReader fields(request);
  std::string client_id = fields.String("clientID");
  std::string producer_group = fields.OptString("producerGroup").value_or("");
  std::string consumer_group = fields.OptString("consumerGroup").value_or("");
  if (!fields.status().ok()) {
    ReplyError(connection, request, response_code::kSystemError, fields.status().message());
    return;
  }
  std::vector<std::string> changed =
      context_->clients->Unregister(client_id, producer_group, consumer_group);
  if (!consumer_group.empty()) context_->locks->ReleaseClient(consumer_group, client_id);
  Reply(connection, request, RemotingCommand::ResponseTo(request, response_code::kSuccess));
  NotifyConsumerIdsChanged(*context_, changed);
}

void ClientManageProcessor::ConsumerList(const std::shared_ptr<mqremoting::Connection>& connection,
                                         const RemotingCommand& request) {
  ExtFieldReader fields(request);
  std::string group = fields.String("consumerGroup");
  if (!fields.status().ok()) {
    ReplyError(connection, request, response_code::kSystemError, fields.status().message());
    return;
  }
  std::vector<std::string> ids = context_->clients->ConsumerIds(group);
  if (ids.empty()) {
    ReplyError(connection, request, response_code::kSystemError,
               "no consumer for this group, " + group);
    return;
  }
  RemotingCommand response = RemotingCommand::ResponseTo(request, response_code::kSuccess);
  response.body = mqremoting::EncodeConsumerIdList(ids);
  Reply(connection, request, std::move(response));
}

namespace {

// Only this broker's queues can be locked here.
std::vector<MessageQueue> OwnQueues(const BrokerContext& context,
                                    const std::vector<MessageQueue>& queues) {
  std::vector<MessageQueue> own;
  for (const MessageQueue& queue : queues) {
    if (queue.broker_name == context.identity.broker_name) own.push_back(queue);
  }
  return own;
}

}  // namespace

void ClientManageProcessor::LockBatch(const std::shared_ptr<mqremoting::Connection>& connection,
                                      const RemotingCommand& request) {
  mqstore::Result<mqremoting::LockBatchRequestBody> body =
      mqremoting::ParseLockBatchRequestBody(request.body);
  if (!body.ok()) {
    ReplyError(connection, request, response_code::kSystemError, body.status().ToString());
    return;
  }
  std::vector<MessageQueue> locked = context_->locks->TryLockBatch(
      body->consumer_group, OwnQueues(*context_, body->mq_set), body->client_id, WallClockMs());
  RemotingCommand response = RemotingCommand::ResponseTo(request, response_code::kSuccess);
  response.body = mqremoting::EncodeLockBatchResponseBody(locked);
  Reply(connection, request, std::move(response));
}

void ClientManageProcessor::UnlockBatch(const std::shared_ptr<mqremoting::Connection>& connection,
                                        const RemotingCommand& request) {
  mqstore::Result<mqremoting::LockBatchRequestBody> body =
      mqremoting::ParseLockBatchRequestBody(request.body);
  if (!body.ok()) {
    ReplyError(connection, request, response_code::kSystemError, body.status().ToString());
    return;
  }
  context_->locks->UnlockBatch(body->consumer_group, body->mq_set, body->client_id);
  Reply(connection, request, RemotingCommand::ResponseTo(request, response_code::kSuccess));
}

}  // namespace mqbroker
