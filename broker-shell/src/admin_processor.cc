#include "admin_processor.h"

#include <string>

#include "broker_config.h"
#include "client_manage_processor.h"
#include "client_registry.h"
#include "mqstore/store.h"
#include "nameserver_registrar.h"
#include "remoting/codes.h"
#include "remoting/route_data.h"
#include "topic_manager.h"

namespace mqbroker {

using mqremoting::ExtFieldReader;
using mqremoting::RemotingCommand;
namespace response_code = mqremoting::response_code;
namespace request_code = mqremoting::request_code;

namespace {

// QUERY_MESSAGE without an explicit limit (unique-key queries) returns at most this many.
constexpr int32_t kDefaultQueryMaxNum = 32;

}  // namespace

void AdminProcessor::Process(const std::shared_ptr<mqremoting::Connection>& connection,
                             RemotingCommand request) {
  switch (request.code) {
    case request_code::kUpdateAndCreateTopic:
      return CreateTopic(connection, request);
    case request_code::kDeleteTopicInBroker:
      return DeleteTopic(connection, request);
    case request_code::kGetAllTopicConfig:
      return AllTopicConfig(connection, request);
    case request_code::kGetBrokerRuntimeInfo:
      return RuntimeInfo(connection, request);
    case request_code::kQueryMessage:
      return QueryMessage(connection, request);
    case request_code::kViewMessageById:
      return ViewMessage(connection, request);
    default:
      ReplyError(connection, request, response_code::kRequestCodeNotSupported,
                 " request type " + std::to_string(request.code) + " not supported");
  }
}

void AdminProcessor::CreateTopic(const std::shared_ptr<mqremoting::Connection>& connection,
                                 const RemotingCommand& request) {
  ExtFieldReader fields(request);
  mqstore::TopicConfig config;
  config.name = fields.String("topic");
  config.read_queue_nums = fields.Int("readQueueNums");
  config.write_queue_nums = fields.Int("writeQueueNums");
  config.perm = fields.Int("perm");
  std::string filter_type = fields.OptString("topicFilterType").value_or("SINGLE_TAG");
  config.topic_sys_flag = fields.OptInt("topicSysFlag").value_or(0);
  config.order = fields.OptBool("order").value_or(false);
  if (!fields.status().ok()) {
    ReplyError(connection, request, response_code::kSystemError, fields.status().message());
    return;
  }
  config.filter_type = filter_type == "MULTI_TAG" ? mqstore::TopicFilterType::kMultiTag
                                                  : mqstore::TopicFilterType::kSingleTag;
  if (TopicManager::IsSystemTopic(config.name)) {
    ReplyError(connection, request, response_code::kSystemError,
               "The topic[" + config.name + "] is conflict with system topic.");
    return;
  }
  if (mqstore::Status put = context_->topics->Put(config); !put.ok()) {
    ReplyError(connection, request, response_code::kSystemError, put.ToString());
    return;
  }
  if (context_->registrar != nullptr) context_->registrar->RegisterNow().IgnoreError();
  Reply(connection, request, RemotingCommand::ResponseTo(request, response_code::kSuccess));
}

void AdminProcessor::DeleteTopic(const std::shared_ptr<mqremoting::Connection>& connection,
                                 const RemotingCommand& request) {
  ExtFieldReader fields(request);
  std::string topic = fields.String("topic");
  if (!fields.status().ok()) {
    ReplyError(connection, request, response_code::kSystemError, fields.status().message());
    return;
  }
  if (TopicManager::IsSystemTopic(topic)) {
    ReplyError(connection, request, response_code::kSystemError,
               "The topic[" + topic + "] is conflict with system topic.");
    return;
  }
  mqstore::Status deleted = context_->topics->Delete(topic);
  if (!deleted.ok() && !deleted.IsNotFound()) {
    ReplyError(connection, request, response_code::kSystemError, deleted.ToString());
    return;
  }
  if (context_->registrar != nullptr) context_->registrar->RegisterNow().IgnoreError();
  Reply(connection, request, RemotingCommand::ResponseTo(request, response_code::kSuccess));
}

void AdminProcessor::AllTopicConfig(const std::shared_ptr<mqremoting::Connection>& connection,
                                    const RemotingCommand& request) {
  mqremoting::TopicConfigSerializeWrapper wrapper = context_->topics->SerializeWrapper();
  RemotingCommand response = RemotingCommand::ResponseTo(request, response_code::kSuccess);
  response.SetExt("totalTopicNum", static_cast<int64_t>(wrapper.topic_config_table.size()));
  response.body = mqremoting::EncodeJson(wrapper);
  Reply(connection, request, std::move(response));
}

void AdminProcessor::RuntimeInfo(const std::shared_ptr<mqremoting::Connection>& connection,
                                 const RemotingCommand& request) {
  mqstore::StoreStats stats = context_->store->Stats();
  ClientRegistryCounts clients = context_->clients->Counts();
  mqremoting::KVTable info;
  auto put = [&info](const char* key, auto value) {
    if constexpr (std::is_same_v<decltype(value), std::string>) {
      info.table[key] = value;
    } else {
      info.table[key] = std::to_string(value);
    }
  };
  put("brokerVersionDesc", std::string("V5_3_3"));
  put("brokerVersion", int64_t{mqremoting::version::kCurrent});
  put("brokerActive", std::string("true"));
  put("commitLogMinOffset", stats.min_physical_offset);
  put("commitLogMaxOffset", stats.appended_offset);
  put("commitLogDurableOffset", stats.durable_offset);
  put("dispatchBehindBytes", stats.appended_offset - stats.dispatched_offset);
  put("commitLogSegments", stats.segment_count);
  put("consumeQueueCount", stats.queue_count);
  put("commitLogSyncs", stats.sync_count);
  put("writesRefused", std::string(stats.writes_refused ? "true" : "false"));
  put("scheduleMessageOffsetPending", stats.timers_pending);
  put("producerGroups", clients.producer_groups);
  put("consumerGroups", clients.consumer_groups);
  put("producerClients", clients.producer_clients);
  put("consumerClients", clients.consumer_clients);
  put("flushDiskType", std::string(FlushDiskTypeName(context_->config->flushDiskType)));
  put("brokerRole", std::string(BrokerRoleName(context_->config->brokerRole)));
  RemotingCommand response = RemotingCommand::ResponseTo(request, response_code::kSuccess);
  response.body = mqremoting::EncodeJson(info);
  Reply(connection, request, std::move(response));
}

void AdminProcessor::QueryMessage(const std::shared_ptr<mqremoting::Connection>& connection,
                                  const RemotingCommand& request) {
  ExtFieldReader fields(request);
  std::string topic = fields.String("topic");
  std::string key = fields.String("key");
  int32_t max_num = fields.Int("maxNum");
  int64_t begin_ms = fields.Long("beginTimestamp");
  int64_t end_ms = fields.Long("endTimestamp");
  bool unique_key_query = fields.OptString("_UNIQUE_KEY_QUERY").value_or("") == "true";
  if (!fields.status().ok()) {
    ReplyError(connection, request, response_code::kSystemError, fields.status().message());
    return;
  }
  if (unique_key_query || max_num <= 0) max_num = kDefaultQueryMaxNum;
  auto found =
      context_->store->QueryByKey(topic, key, begin_ms, end_ms, static_cast<size_t>(max_num));
  if (!found.ok() || found->empty()) {
    ReplyError(connection, request, response_code::kQueryNotFound,
               found.ok() ? "can not find message, maybe time range not correct"
                          : found.status().ToString());
    return;
  }
  RemotingCommand response = RemotingCommand::ResponseTo(request, response_code::kSuccess);
  int64_t last_offset = 0;
  for (mqstore::RecordView& record : *found) {
    last_offset = std::max(last_offset, record.physical_offset);
    response.body_slices.push_back({record.bytes, std::move(record.pin)});
  }
  response.SetExt("indexLastUpdateTimestamp", WallClockMs());
  response.SetExt("indexLastUpdatePhyoffset", last_offset);
  Reply(connection, request, std::move(response));
}

void AdminProcessor::ViewMessage(const std::shared_ptr<mqremoting::Connection>& connection,
                                 const RemotingCommand& request) {
  ExtFieldReader fields(request);
  int64_t offset = fields.Long("offset");
  if (!fields.status().ok()) {
    ReplyError(connection, request, response_code::kSystemError, fields.status().message());
    return;
  }
  mqstore::Result<mqstore::RecordView> record = context_->store->ReadRecord(offset);
  if (!record.ok()) {
    ReplyError(connection, request, response_code::kSystemError,
               "can not find message by the offset, " + std::to_string(offset));
    return;
  }
  RemotingCommand response = RemotingCommand::ResponseTo(request, response_code::kSuccess);
  response.body_slices.push_back({record->bytes, std::move(record->pin)});
  Reply(connection, request, std::move(response));
}

}  // namespace mqbroker
