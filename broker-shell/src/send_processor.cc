#include "send_processor.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker_config.h"
#include "mqstore/metadata.h"
#include "mqstore/send_back.h"
#include "mqstore/store.h"
#include "remoting/codes.h"
#include "remoting/message_batch_body.h"
#include "remoting/unique_message_id.h"
#include "topic_manager.h"

namespace mqbroker {

using mqremoting::ExtFieldReader;
using mqremoting::RemotingCommand;
namespace response_code = mqremoting::response_code;
namespace request_code = mqremoting::request_code;

namespace {

constexpr std::string_view kClusterProperty = "CLUSTER";
constexpr std::string_view kDefaultRegion = "DefaultRegion";

// SEND_MESSAGE's header, whichever of the two spellings (10: full names; 310 and 320: the
// one-letter names of SendMessageRequestHeaderV2) carried it.
struct SendHeader {
  std::string producer_group;
  std::string topic;
  std::string default_topic;
  int32_t default_topic_queue_nums = 0;
  int32_t queue_id = -1;
  int32_t sys_flag = 0;
  int64_t born_timestamp_ms = 0;
  int32_t flag = 0;
  std::string properties;
  int32_t reconsume_times = 0;
  std::optional<int32_t> max_reconsume_times;
};

mqstore::Result<SendHeader> ParseSendHeader(const RemotingCommand& request) {
  const bool short_names = request.code != request_code::kSendMessage;
  auto name = [short_names](std::string_view long_name, std::string_view short_name) {
    return short_names ? short_name : long_name;
  };
  ExtFieldReader fields(request);
  SendHeader h;
  h.producer_group = fields.String(name("producerGroup", "a"));
  h.topic = fields.String(name("topic", "b"));
  h.default_topic = fields.String(name("defaultTopic", "c"));
  h.default_topic_queue_nums = fields.Int(name("defaultTopicQueueNums", "d"));
  h.queue_id = fields.Int(name("queueId", "e"));
  h.sys_flag = fields.Int(name("sysFlag", "f"));
  h.born_timestamp_ms = fields.Long(name("bornTimestamp", "g"));
  h.flag = fields.Int(name("flag", "h"));
  h.properties = fields.OptString(name("properties", "i")).value_or("");
  h.reconsume_times = fields.OptInt(name("reconsumeTimes", "j")).value_or(0);
  h.max_reconsume_times = fields.OptInt(name("maxReconsumeTimes", "l"));
  if (!fields.status().ok()) return fields.status();
  return h;
}

mqstore::SocketAddress PeerAddress(const mqremoting::Connection& connection) {
  std::optional<mqstore::SocketAddress> peer =
      mqstore::SocketAddress::Parse(connection.remote_address());
  return peer ? *peer : mqstore::SocketAddress::V4(127, 0, 0, 1, 0);
}

// The properties to store: the producer's, plus UNIQ_KEY when it set none and CLUSTER.
// Returns the unique id.
std::string CompleteProperties(const BrokerContext& context, std::string* properties) {
  std::string unique_id;
  if (std::optional<std::string_view> id =
          mqstore::FindProperty(*properties, mqstore::property::kUniqueKey)) {
    unique_id = std::string(*id);
  } else {
    unique_id = context.message_ids->Next();
    mqstore::AppendProperty(mqstore::property::kUniqueKey, unique_id, properties);
  }
  if (!mqstore::FindProperty(*properties, kClusterProperty)) {
    mqstore::AppendProperty(kClusterProperty, context.identity.cluster_name, properties);
  }
  return unique_id;
}

// The checks of a Java broker's msgCheck, and the topic config to send with. On failure
// `error_code` and `remark` say what to answer.
struct TopicCheck {
  std::optional<mqstore::TopicConfig> config;
  int32_t error_code = response_code::kSuccess;
  std::string remark;
};

TopicCheck CheckTopic(const BrokerContext& context, const SendHeader& header) {
  TopicCheck check;
  if (mqstore::Status valid = mqstore::ValidateTopic(header.topic); !valid.ok()) {
    check.error_code = response_code::kInvalidParameter;
    check.remark = "the topic[" + header.topic + "] is invalid: " + std::string(valid.message());
    return check;
  }
  if (TopicManager::IsSystemTopic(header.topic)) {
    check.error_code = response_code::kNoPermission;
    check.remark = "Sending message to topic[" + header.topic + "] is forbidden.";
    return check;
  }
  mqstore::Result<mqstore::TopicConfig> config = context.topics->FindOrCreateForSend(
      header.topic, header.default_topic, header.default_topic_queue_nums);
  if (!config.ok()) {
    check.error_code = config.status().IsNotFound() ? response_code::kTopicNotExist
                                                    : ResponseCodeOf(config.status());
    check.remark = std::string(config.status().message());
    return check;
  }
  if ((config->perm & mqstore::perm::kWrite) == 0) {
    check.error_code = response_code::kNoPermission;
    check.remark = "the topic[" + header.topic + "] sending message is forbidden";
    return check;
  }
  int32_t queue_limit = std::max(config->read_queue_nums, config->write_queue_nums);
  if (header.queue_id >= queue_limit) {
    check.error_code = response_code::kInvalidParameter;
    check.remark = "request queueId[" + std::to_string(header.queue_id) + "] is illegal, topic[" +
                   header.topic + "] has " + std::to_string(queue_limit) + " queues";
    return check;
  }
  check.config = std::move(config).value();
  return check;
}

// A retry that has been retried more often than its group allows goes to the group's
// dead-letter topic instead (RocketMQ's handleRetryAndDLQ: note `>` here, `>=` in send-back).
void DivertExhaustedRetry(const BrokerContext& context, const RemotingCommand& request,
                          SendHeader* header) {
  if (!header->topic.starts_with(mqstore::kRetryTopicPrefix)) return;
  std::string group = header->topic.substr(mqstore::kRetryTopicPrefix.size());
  int32_t max_times = mqstore::kDefaultRetryMaxTimes;
  if (request.version >= mqremoting::version::kV3_4_9 && header->max_reconsume_times) {
    max_times = *header->max_reconsume_times;
  } else if (mqstore::MetadataStore* meta = context.store->metadata()) {
    if (auto registered = meta->GetSubscriptionGroup(group); registered.ok()) {
      max_times = registered->retry_max_times;
    }
  }
  if (header->reconsume_times <= max_times) return;
  header->topic = mqstore::DlqTopic(group);
  header->queue_id = 0;
  context.topics->FindOrCreateSystemOwned(header->topic, 1, mqstore::perm::kReadWrite)
      .status()
      .IgnoreError();  // the put below reports the store's own error if any
}

// Parses and checks a send (a batch may not go to a retry topic) and picks its queue when
// the producer left that to the broker. On failure it has replied, and returns nullopt.
std::optional<SendHeader> AcceptSend(const BrokerContext& context,
                                     std::atomic<uint32_t>* next_queue,
                                     const std::shared_ptr<mqremoting::Connection>& connection,
                                     const RemotingCommand& request, bool batch) {
  mqstore::Result<SendHeader> parsed = ParseSendHeader(request);
  if (!parsed.ok()) {
    ReplyError(connection, request, response_code::kSystemError, parsed.status().message());
    return std::nullopt;
  }
  SendHeader& header = *parsed;
  if (batch && header.topic.starts_with(mqstore::kRetryTopicPrefix)) {
    ReplyError(connection, request, response_code::kMessageIllegal,
               "batch request does not support retry group " + header.topic);
    return std::nullopt;
  }
  TopicCheck check = CheckTopic(context, header);
  if (check.error_code != response_code::kSuccess) {
    ReplyError(connection, request, check.error_code, check.remark);
    return std::nullopt;
  }
  if (header.queue_id < 0) {
    header.queue_id = static_cast<int32_t>(next_queue->fetch_add(1, std::memory_order_relaxed) %
                                           static_cast<uint32_t>(check.config->write_queue_nums));
  }
  return std::move(header);
}

int32_t PutResponseCode(mqstore::PutStatus status) {
  return status == mqstore::PutStatus::kFlushDiskTimeout ? response_code::kFlushDiskTimeout
                                                         : response_code::kSuccess;
}

// What answering a request needs of it once the request itself is gone: its opaque, its
// flag (a oneway request gets no answer) and its header type (the response's).
RemotingCommand ResponseShape(const RemotingCommand& request) {
  RemotingCommand shape;
  shape.opaque = request.opaque;
  shape.flag = request.flag;
  shape.serialize_type = request.serialize_type;
  return shape;
}

// The fields of a send's response. Set in ExtFields' (byte) order, so that each is appended
// without a search or a shift, into room made once.
void SetSendResponseFields(std::string message_id, int32_t queue_id, int64_t queue_offset,
                           std::optional<std::string> transaction_id, RemotingCommand* response) {
  response->ext_fields.reserve(6);
  response->SetExt("MSG_REGION", kDefaultRegion);
  response->SetExt("TRACE_ON", true);
  response->SetExt("msgId", std::move(message_id));
  response->SetExt("queueId", int64_t{queue_id});
  response->SetExt("queueOffset", queue_offset);
  if (transaction_id) response->SetExt("transactionId", std::move(*transaction_id));
}

// The message a single send puts; it points into `header` and `body`.
mqstore::MessageView MessageOf(const SendHeader& header, std::string_view body,
                               const mqstore::SocketAddress& born_host) {
  mqstore::MessageView message;
  message.topic = header.topic;
  message.queue_id = header.queue_id;
  message.body = body;
  message.flag = header.flag;
  message.properties = header.properties;
  message.sys_flag = header.sys_flag;
  message.born_timestamp_ms = header.born_timestamp_ms;
  message.born_host = born_host;
  message.reconsume_times = header.reconsume_times;
  return message;
}

// Answers a single send once the store says its put is done: at once, or in SYNC_FLUSH once
// durable (on the store's sync thread).
void AnswerPut(const std::shared_ptr<mqremoting::Connection>& connection,
               const RemotingCommand& shape, int32_t queue_id, std::string unique_id,
               const mqstore::Result<mqstore::PutResult>& put) {
  if (!put.ok()) {
    ReplyError(connection, shape, ResponseCodeOf(put.status()), put.status().ToString());
    return;
  }
  RemotingCommand response = RemotingCommand::ResponseTo(shape, PutResponseCode(put->status));
  SetSendResponseFields(put->offset_message_id(), queue_id, put->queue_offset, std::move(unique_id),
                        &response);
  Reply(connection, shape, std::move(response));
}

bool IsSingleSend(const RemotingCommand& request) {
  return request.code == request_code::kSendMessage || request.code == request_code::kSendMessageV2;
}

}  // namespace

int32_t ResponseCodeOf(const mqstore::Status& status) {
  switch (status.code()) {
    case mqstore::Status::Code::kOk:
      return response_code::kSuccess;
    case mqstore::Status::Code::kInvalidArgument:
      return response_code::kMessageIllegal;
    case mqstore::Status::Code::kResourceExhausted:
      return response_code::kServiceNotAvailable;
    case mqstore::Status::Code::kBusy:
      return response_code::kSystemBusy;
    case mqstore::Status::Code::kFailedPrecondition:
    case mqstore::Status::Code::kAborted:
      return response_code::kServiceNotAvailable;
    default:
      return response_code::kSystemError;
  }
}

bool SendProcessor::RefuseWhileLogBusy(const std::shared_ptr<mqremoting::Connection>& connection,
                                       std::span<const RemotingCommand> requests) {
  // A put that has held the append lock this long (a stuck disk under a full write buffer,
  // a segment made in the foreground) would make this one wait on the I/O thread too, and
  // with it every connection of that thread: refuse at once, as RocketMQ's rejectRequest
  // does while the OS page cache is busy.
  const int64_t held = context_->store->AppendLockHeldMs();
  if (held <= context_->config->osPageCacheBusyTimeOutMills) return false;
  for (const RemotingCommand& request : requests) {
    ReplyError(connection, request, response_code::kSystemBusy,
               "[REJECTREQUEST]system busy, start flow control for a while: a put has held "
               "the commit log for " +
                   std::to_string(held) + " ms");
  }
  return true;
}

void SendProcessor::Process(const std::shared_ptr<mqremoting::Connection>& connection,
                            RemotingCommand request) {
  if (RefuseWhileLogBusy(connection, {&request, 1})) return;
  switch (request.code) {
    case request_code::kSendBatchMessage:
      SendBatch(connection, request);
      return;
    case request_code::kConsumerSendMsgBack:
      SendBack(connection, request);
      return;
    default:
      SendOne(connection, request);
      return;
  }
}

bool SendProcessor::AdmitDiskWait(const std::shared_ptr<mqremoting::Connection>& connection,
                                  const RemotingCommand& request) {
  const int64_t limit = context_->config->sendThreadPoolQueueCapacity;
  if (awaiting_disk_->fetch_add(1, std::memory_order_acq_rel) >= limit) {
    awaiting_disk_->fetch_sub(1, std::memory_order_acq_rel);
    ReplyError(connection, request, response_code::kSystemBusy,
               "[PC_SYNCHRONIZED]broker busy, start flow control for a while: " +
                   std::to_string(limit) + " sends are waiting for the disk");
    return false;
  }
  return true;
}

void SendProcessor::ProcessEach(const std::shared_ptr<mqremoting::Connection>& connection,
                                std::span<RemotingCommand> requests) {
  if (requests.size() < 2 || !std::all_of(requests.begin(), requests.end(), IsSingleSend)) {
    Processor::ProcessEach(connection, requests);
    return;
  }
  if (RefuseWhileLogBusy(connection, requests)) return;
  SendEach(connection, requests);
}

void SendProcessor::SendOne(const std::shared_ptr<mqremoting::Connection>& connection,
                            const RemotingCommand& request) {
  std::optional<SendHeader> accepted =
      AcceptSend(*context_, &next_queue_, connection, request, /*batch=*/false);
  if (!accepted) return;
  SendHeader& header = *accepted;
  DivertExhaustedRetry(*context_, request, &header);
  if (!AdmitDiskWait(connection, request)) return;

  std::string unique_id = CompleteProperties(*context_, &header.properties);
  // Nothing of `request` is needed once the put is done but its opaque, flag and header type.
  context_->store->PutAsync(MessageOf(header, request.body, PeerAddress(*connection)),
                            [connection, shape = ResponseShape(request), queue_id = header.queue_id,
                             unique_id = std::move(unique_id), awaiting_disk = awaiting_disk_](
                                mqstore::Result<mqstore::PutResult> put) mutable {
                              awaiting_disk->fetch_sub(1, std::memory_order_acq_rel);
                              AnswerPut(connection, shape, queue_id, std::move(unique_id), put);
                            });
}

void SendProcessor::SendEach(const std::shared_ptr<mqremoting::Connection>& connection,
                             std::span<const RemotingCommand> requests) {
  // What answering each put needs once the requests are gone, shared by the put callbacks.
  struct Answer {
    RemotingCommand shape;
    int32_t queue_id = 0;
    std::string unique_id;
  };
  struct Answers {
    std::shared_ptr<mqremoting::Connection> connection;
    std::shared_ptr<std::atomic<int64_t>> awaiting_disk;
    std::vector<Answer> each;  // in the order of the messages put
  };
  auto answers = std::make_shared<Answers>();
  answers->connection = connection;
  answers->awaiting_disk = awaiting_disk_;
  answers->each.reserve(requests.size());
  std::vector<SendHeader> headers;  // the messages point into these: no reallocation
  headers.reserve(requests.size());
  std::vector<mqstore::MessageView> messages;
  messages.reserve(requests.size());
  const mqstore::SocketAddress born_host = PeerAddress(*connection);
  for (const RemotingCommand& request : requests) {
    std::optional<SendHeader> accepted =
        AcceptSend(*context_, &next_queue_, connection, request, /*batch=*/false);
    if (!accepted) continue;
    DivertExhaustedRetry(*context_, request, &*accepted);
    if (!AdmitDiskWait(connection, request)) continue;
    SendHeader& header = headers.emplace_back(std::move(*accepted));
    std::string unique_id = CompleteProperties(*context_, &header.properties);
    messages.push_back(MessageOf(header, request.body, born_host));
    answers->each.push_back(Answer{ResponseShape(request), header.queue_id, std::move(unique_id)});
  }
  if (messages.empty()) return;
  // The answers given at once (ASYNC_FLUSH) are sent on the connection's own thread, which
  // queues them and writes them together once this read is done.
  context_->store->PutEachAsync(messages, [answers](size_t index,
                                                    mqstore::Result<mqstore::PutResult> put) {
    answers->awaiting_disk->fetch_sub(1, std::memory_order_acq_rel);
    Answer& answer = answers->each[index];
    AnswerPut(answers->connection, answer.shape, answer.queue_id, std::move(answer.unique_id), put);
  });
}

void SendProcessor::SendBatch(const std::shared_ptr<mqremoting::Connection>& connection,
                              const RemotingCommand& request) {
  std::optional<SendHeader> accepted =
      AcceptSend(*context_, &next_queue_, connection, request, /*batch=*/true);
  if (!accepted) return;
  SendHeader& header = *accepted;
  mqstore::Result<std::vector<mqremoting::BatchItem>> items =
      mqremoting::DecodeBatchBody(request.body);
  if (!items.ok()) {
    ReplyError(connection, request, response_code::kMessageIllegal, items.status().message());
    return;
  }
  std::vector<std::string> properties;  // completed by the broker; the views point here
  properties.reserve(items->size());
  std::vector<mqstore::MessageView> messages;
  messages.reserve(items->size());
  const mqstore::SocketAddress born_host = PeerAddress(*connection);
  for (const mqremoting::BatchItem& item : *items) {
    properties.emplace_back(item.properties);
    CompleteProperties(*context_, &properties.back());
    mqstore::MessageView message;
    message.topic = header.topic;
    message.queue_id = header.queue_id;
    message.body = item.body;
    message.flag = item.flag;
    message.properties = properties.back();
    message.sys_flag = header.sys_flag;
    message.born_timestamp_ms = header.born_timestamp_ms;
    message.born_host = born_host;
    messages.push_back(message);
  }
  if (!AdmitDiskWait(connection, request)) return;
  context_->store->PutBatchAsync(
      messages, [connection, shape = ResponseShape(request), queue_id = header.queue_id,
                 awaiting_disk = awaiting_disk_](mqstore::Result<mqstore::BatchPutResult> put) {
        awaiting_disk->fetch_sub(1, std::memory_order_acq_rel);
        if (!put.ok()) {
          ReplyError(connection, shape, ResponseCodeOf(put.status()), put.status().ToString());
          return;
        }
        std::string message_ids;
        for (const mqstore::PutResult& one : put->items) {
          if (!message_ids.empty()) message_ids.push_back(',');
          message_ids.append(one.offset_message_id());
        }
        RemotingCommand response = RemotingCommand::ResponseTo(shape, PutResponseCode(put->status));
        SetSendResponseFields(std::move(message_ids), queue_id, put->items.front().queue_offset,
                              std::nullopt, &response);
        Reply(connection, shape, std::move(response));
      });
}

void SendProcessor::SendBack(const std::shared_ptr<mqremoting::Connection>& connection,
                             const RemotingCommand& request) {
  ExtFieldReader fields(request);
  mqstore::SendBackRequest send_back;
  send_back.physical_offset = fields.Long("offset");
  send_back.group = fields.String("group");
  send_back.delay_level = fields.Int("delayLevel");
  send_back.origin_message_id = fields.OptString("originMsgId").value_or("");
  std::optional<int32_t> max_times = fields.OptInt("maxReconsumeTimes");
  if (!fields.status().ok()) {
    ReplyError(connection, request, response_code::kSystemError, fields.status().message());
    return;
  }
  if (request.version >= mqremoting::version::kV3_4_9) send_back.max_reconsume_times = max_times;

  std::string retry_topic = mqstore::RetryTopic(send_back.group);
  if (auto created = context_->topics->FindOrCreateSystemOwned(
          retry_topic, mqstore::kDefaultRetryQueueNums, mqstore::perm::kReadWrite);
      !created.ok()) {
    ReplyError(connection, request, response_code::kSystemError,
               "topic[" + retry_topic + "] not exist: " + created.status().ToString());
    return;
  }
  mqstore::Result<mqstore::SendBackResult> sent = context_->store->SendBack(send_back);
  if (!sent.ok()) {
    std::string remark = sent.status().IsNotFound() ? "look message by offset failed, " +
                                                          std::to_string(send_back.physical_offset)
                                                    : sent.status().ToString();
    ReplyError(connection, request, response_code::kSystemError, remark);
    return;
  }
  if (sent->dead_lettered) {
    context_->topics->FindOrCreateSystemOwned(sent->topic, 1, mqstore::perm::kReadWrite)
        .status()
        .IgnoreError();  // the copy is stored; the table entry only serves routes and offsets
  }
  Reply(connection, request,
        RemotingCommand::ResponseTo(request, PutResponseCode(sent->put.status)));
}

}  // namespace mqbroker
