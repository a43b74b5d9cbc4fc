#include "mqclient/pull_consumer.h"

#include <unistd.h>

#include <memory>
#include <string_view>
#include <utility>

#include "remoting/codes.h"
#include "remoting/heartbeat_data.h"

namespace mqclient {

using mqremoting::RemotingCommand;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;

namespace {

// PullSysFlag bits.
constexpr int32_t kSuspendFlag = 1 << 1;
constexpr int32_t kSubscriptionFlag = 1 << 2;

}  // namespace

std::string_view PullStatusName(PullStatus status) {
  switch (status) {
    case PullStatus::kFound:
      return "FOUND";
    case PullStatus::kNoNewMessage:
      return "NO_NEW_MSG";
    case PullStatus::kNoMatchedMessage:
      return "NO_MATCHED_MSG";
    case PullStatus::kOffsetIllegal:
      return "OFFSET_ILLEGAL";
  }
  return "UNKNOWN";
}

PullConsumer::PullConsumer(PullConsumerOptions options) : options_(std::move(options)) {}

PullConsumer::~PullConsumer() { Shutdown(); }

Status PullConsumer::Start() {
  if (remoting_) return Status::OK();
  std::vector<std::string> addresses = SplitAddressList(options_.namesrv_addr);
  if (addresses.empty()) return Status::InvalidArgument("no name server address given");
  if (options_.group.empty()) return Status::InvalidArgument("the consumer group is empty");
  mqremoting::ClientOptions transport;
  transport.shared_threads = options_.transport_threads;
  remoting_ = mqremoting::RemotingClient::Create(transport);
  name_server_ = std::make_unique<NameServerClient>(std::move(addresses), remoting_.get(),
                                                    options_.call_timeout);
  client_id_ = "127.0.0.1@" + std::to_string(::getpid()) + "#" +
               std::to_string(reinterpret_cast<uintptr_t>(this));
  return Status::OK();
}

void PullConsumer::Shutdown() {
  if (!remoting_) return;
  remoting_->Shutdown();
}

Result<std::vector<MessageQueue>> PullConsumer::FetchQueues(const std::string& topic) {
  if (!remoting_) return Status::FailedPrecondition("the consumer is not started");
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<const mqremoting::TopicRouteData> route,
                      name_server_->GetSharedRoute(topic, /*refresh=*/true));
  std::vector<MessageQueue> queues;
  for (const mqremoting::QueueData& data : route->queue_datas) {
    if ((data.perm & mqremoting::perm::kRead) == 0) continue;
    for (int32_t id = 0; id < data.read_queue_nums; ++id) {
      queues.push_back({topic, data.broker_name, id});
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    topics_.insert(topic);
  }
  return queues;
}

Result<std::string> PullConsumer::BrokerAddress(const MessageQueue& queue) {
  // The cached route itself (shared, not copied): a pull costs one lookup, no route copy.
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<const mqremoting::TopicRouteData> route,
                      name_server_->GetSharedRoute(queue.topic));
  std::string address = MasterAddress(*route, queue.broker_name);
  if (address.empty()) {
    MQ_ASSIGN_OR_RETURN(route, name_server_->GetSharedRoute(queue.topic, /*refresh=*/true));
    address = MasterAddress(*route, queue.broker_name);
  }
  if (address.empty()) {
    return Status::NotFound("broker " + queue.broker_name + " of topic " + queue.topic +
                            " has no master");
  }
  return address;
}

Result<RemotingCommand> PullConsumer::CallBroker(const MessageQueue& queue, RemotingCommand request,
                                                 std::chrono::milliseconds timeout) {
  if (!remoting_) return Status::FailedPrecondition("the consumer is not started");
  MQ_ASSIGN_OR_RETURN(std::string address, BrokerAddress(queue));
  Result<RemotingCommand> response = remoting_->InvokeSync(address, std::move(request), timeout);
  if (!response.ok()) name_server_->Invalidate(queue.topic);
  return response;
}

Result<PullResult> PullConsumer::Pull(const MessageQueue& queue, int64_t offset,
                                      int32_t max_messages, std::chrono::milliseconds long_poll) {
  RemotingCommand request = RemotingCommand::Request(request_code::kPullMessage);
  request.SetExt("consumerGroup", options_.group);
  request.SetExt("topic", queue.topic);
  request.SetExt("queueId", queue.queue_id);
  request.SetExt("queueOffset", offset);
  request.SetExt("maxMsgNums", max_messages);
  request.SetExt("sysFlag", kSubscriptionFlag | (long_poll.count() > 0 ? kSuspendFlag : 0));
  request.SetExt("commitOffset", int64_t{0});
  request.SetExt("suspendTimeoutMillis", static_cast<int64_t>(long_poll.count()));
  request.SetExt("subscription", options_.subscription);
  request.SetExt("subVersion", int64_t{0});
  request.SetExt("expressionType", std::string(mqremoting::kExpressionTypeTag));
  MQ_ASSIGN_OR_RETURN(RemotingCommand response,
                      CallBroker(queue, std::move(request), long_poll + options_.call_timeout));
  PullResult result;
  switch (response.code) {
    case response_code::kSuccess:
      result.status = PullStatus::kFound;
      break;
    case response_code::kPullNotFound:
      result.status = PullStatus::kNoNewMessage;
      break;
    case response_code::kPullRetryImmediately:
      result.status = PullStatus::kNoMatchedMessage;
      break;
    case response_code::kPullOffsetMoved:
      result.status = PullStatus::kOffsetIllegal;
      break;
    default:
      return ResponseStatus(response, "pull from " + queue.ToString());
  }
  mqremoting::ExtFieldReader fields(response);
  result.next_begin_offset = fields.OptLong("nextBeginOffset").value_or(offset);
  result.min_offset = fields.OptLong("minOffset").value_or(0);
  result.max_offset = fields.OptLong("maxOffset").value_or(0);
  MQ_RETURN_IF_ERROR(fields.status());
  if (result.status == PullStatus::kFound) {
    // A received frame holds its body in `body`; decode it in place rather than through
    // BodyBytes(), which would copy every message of the batch once more.
    std::string joined;
    std::string_view body = response.body;
    if (!response.body_slices.empty()) {
      joined = response.BodyBytes();
      body = joined;
    }
    MQ_ASSIGN_OR_RETURN(result.messages, DecodeMessages(body));
  }
  return result;
}

Status PullConsumer::CommitOffset(const MessageQueue& queue, int64_t offset) {
  RemotingCommand request = RemotingCommand::Request(request_code::kUpdateConsumerOffset);
  request.SetExt("consumerGroup", options_.group);
  request.SetExt("topic", queue.topic);
  request.SetExt("queueId", queue.queue_id);
  request.SetExt("commitOffset", offset);
  MQ_ASSIGN_OR_RETURN(RemotingCommand response,
                      CallBroker(queue, std::move(request), options_.call_timeout));
  if (response.code != response_code::kSuccess) {
    return ResponseStatus(response, "commit offset of " + queue.ToString());
  }
  return Status::OK();
}

Result<int64_t> PullConsumer::FetchCommittedOffset(const MessageQueue& queue) {
  RemotingCommand request = RemotingCommand::Request(request_code::kQueryConsumerOffset);
  request.SetExt("consumerGroup", options_.group);
  request.SetExt("topic", queue.topic);
  request.SetExt("queueId", queue.queue_id);
  request.SetExt("setZeroIfNotFound", false);
  MQ_ASSIGN_OR_RETURN(RemotingCommand response,
                      CallBroker(queue, std::move(request), options_.call_timeout));
  if (response.code != response_code::kSuccess) {
    return ResponseStatus(response, "committed offset of " + queue.ToString());
  }
  mqremoting::ExtFieldReader fields(response);
  int64_t offset = fields.Long("offset");
  MQ_RETURN_IF_ERROR(fields.status());
  return offset;
}

Result<int64_t> PullConsumer::FetchMaxOffset(const MessageQueue& queue) {
  RemotingCommand request = RemotingCommand::Request(request_code::kGetMaxOffset);
  request.SetExt("topic", queue.topic);
  request.SetExt("queueId", queue.queue_id);
  MQ_ASSIGN_OR_RETURN(RemotingCommand response,
                      CallBroker(queue, std::move(request), options_.call_timeout));
  if (response.code != response_code::kSuccess) {
    return ResponseStatus(response, "max offset of " + queue.ToString());
  }
  mqremoting::ExtFieldReader fields(response);
  int64_t offset = fields.Long("offset");
  MQ_RETURN_IF_ERROR(fields.status());
  return offset;
}

Status PullConsumer::SendHeartbeat() {
  if (!remoting_) return Status::FailedPrecondition("the consumer is not started");
  std::set<std::string> topics;
  {
    std::lock_guard<std::mutex> lock(mu_);
    topics = topics_;
  }
  mqremoting::HeartbeatData heartbeat;
  heartbeat.client_id = client_id_;
  mqremoting::ConsumerData consumer;
  consumer.group_name = options_.group;
  consumer.consume_type = std::string(mqremoting::kConsumeActively);
  consumer.consume_from_where = std::string(mqremoting::kConsumeFromFirstOffset);
  std::set<std::string> addresses;
  for (const std::string& topic : topics) {
    mqremoting::SubscriptionData subscription;
    subscription.topic = topic;
    subscription.sub_string = options_.subscription;
    consumer.subscriptions.push_back(subscription);
    MQ_ASSIGN_OR_RETURN(std::shared_ptr<const mqremoting::TopicRouteData> route,
                        name_server_->GetSharedRoute(topic));
    for (const mqremoting::BrokerData& broker : route->broker_datas) {
      auto it = broker.broker_addrs.find(mqremoting::kMasterBrokerId);
      if (it != broker.broker_addrs.end()) addresses.insert(it->second);
    }
  }
  heartbeat.consumers.push_back(std::move(consumer));
  const std::string body = mqremoting::EncodeHeartbeatData(heartbeat);
  for (const std::string& address : addresses) {
    RemotingCommand request = RemotingCommand::Request(request_code::kHeartBeat);
    request.body = body;
    MQ_ASSIGN_OR_RETURN(RemotingCommand response,
                        remoting_->InvokeSync(address, std::move(request), options_.call_timeout));
    if (response.code != response_code::kSuccess) {
      return ResponseStatus(response, "heartbeat to " + address);
    }
  }
  return Status::OK();
}

}  // namespace mqclient
