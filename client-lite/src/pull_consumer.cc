#include "mqclient/pull_consumer.h"

#include <unistd.h>

#include <memory>
#include <string_view>
#include <utility>

#include "consumer_requests.h"
#include "remoting/codes.h"
#include "remoting/heartbeat_data.h"

namespace mqclient {

using mqremoting::RemotingCommand;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;

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
  std::vector<MessageQueue> queues = ReadableQueues(*route, topic);
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
  PullRequestFields fields;
  fields.group = options_.group;
  fields.queue = queue;
  fields.offset = offset;
  fields.max_messages = max_messages;
  fields.subscription = options_.subscription;
  fields.suspend = long_poll;
  MQ_ASSIGN_OR_RETURN(RemotingCommand response, CallBroker(queue, MakePullRequest(fields),
                                                           long_poll + options_.call_timeout));
  return ReadPullResponse(response, queue, offset);
}

Status PullConsumer::CommitOffset(const MessageQueue& queue, int64_t offset) {
  MQ_ASSIGN_OR_RETURN(
      RemotingCommand response,
      CallBroker(queue, MakeUpdateConsumerOffsetRequest(options_.group, queue, offset),
                 options_.call_timeout));
  if (response.code != response_code::kSuccess) {
    return ResponseStatus(response, "commit offset of " + queue.ToString());
  }
  return Status::OK();
}

Result<int64_t> PullConsumer::FetchCommittedOffset(const MessageQueue& queue) {
  MQ_ASSIGN_OR_RETURN(
      RemotingCommand response,
      CallBroker(queue, MakeQueryConsumerOffsetRequest(options_.group, queue, false),
                 options_.call_timeout));
  return ReadOffsetResponse(response, "committed offset of " + queue.ToString());
}

Result<int64_t> PullConsumer::FetchMaxOffset(const MessageQueue& queue) {
  MQ_ASSIGN_OR_RETURN(
      RemotingCommand response,
      CallBroker(queue, MakeQueueOffsetRequest(request_code::kGetMaxOffset, queue, std::nullopt),
                 options_.call_timeout));
  return ReadOffsetResponse(response, "max offset of " + queue.ToString());
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
  return SendHeartbeats(remoting_.get(), addresses, heartbeat, options_.call_timeout);
}

}  // namespace mqclient
