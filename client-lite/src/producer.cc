#include "mqclient/producer.h"

#include <algorithm>
#include <utility>

#include "remoting/codes.h"

namespace mqclient {

using mqremoting::RemotingCommand;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Responses after which another queue may do better (RocketMQ's producer retries these).
bool RetryableCode(int32_t code) {
  switch (code) {
    case response_code::kTopicNotExist:
    case response_code::kServiceNotAvailable:
    case response_code::kSystemError:
    case response_code::kSystemBusy:
    case response_code::kNoPermission:
      return true;
    default:
      return false;
  }
}

// The SendResult of a send response (`result` holds what the request already knew).
Result<SendResult> CompleteSend(const RemotingCommand& response, SendResult result) {
  switch (response.code) {
    case response_code::kSuccess:
      result.status = SendStatus::kSendOk;
      break;
    case response_code::kFlushDiskTimeout:
      result.status = SendStatus::kFlushDiskTimeout;
      break;
    case response_code::kFlushSlaveTimeout:
      result.status = SendStatus::kFlushSlaveTimeout;
      break;
    case response_code::kSlaveNotAvailable:
      result.status = SendStatus::kSlaveNotAvailable;
      break;
    default: {
      Status error = ResponseStatus(response, "send to " + result.queue.broker_name);
      // Only the retryable codes go on to another queue; anything else fails at once.
      if (!RetryableCode(response.code) && !error.IsInvalidArgument()) {
        return Status::InvalidArgument(error.message());
      }
      return error;
    }
  }
  mqremoting::ExtFieldReader fields(response);
  result.msg_id = fields.OptString("msgId").value_or("");
  result.queue.queue_id = fields.OptInt("queueId").value_or(result.queue.queue_id);
  result.queue_offset = fields.OptLong("queueOffset").value_or(-1);
  if (!fields.status().ok()) return fields.status();
  return result;
}

}  // namespace

std::string_view SendStatusName(SendStatus status) {
  switch (status) {
    case SendStatus::kSendOk:
      return "SEND_OK";
    case SendStatus::kFlushDiskTimeout:
      return "FLUSH_DISK_TIMEOUT";
    case SendStatus::kFlushSlaveTimeout:
      return "FLUSH_SLAVE_TIMEOUT";
    case SendStatus::kSlaveNotAvailable:
      return "SLAVE_NOT_AVAILABLE";
  }
  return "UNKNOWN";
}

Producer::Producer(ProducerOptions options)
    : options_(std::move(options)), minter_(options_.host_ipv4) {}

Producer::~Producer() { Shutdown(); }

Status Producer::Start() {
  if (started_) return Status::OK();
  std::vector<std::string> addresses = SplitAddressList(options_.namesrv_addr);
  if (addresses.empty()) return Status::InvalidArgument("no name server address given");
  remoting_ = mqremoting::RemotingClient::Create({});
  name_server_ = std::make_unique<NameServerClient>(std::move(addresses), remoting_.get(),
                                                    options_.send_timeout);
  started_ = true;
  return Status::OK();
}

void Producer::Shutdown() {
  if (!started_.exchange(false)) return;
  remoting_->Shutdown();
}

Result<std::vector<MessageQueue>> Producer::WritableQueues(const std::string& topic, bool refresh,
                                                           bool* via_default_topic) {
  *via_default_topic = false;
  Result<mqremoting::TopicRouteData> route = name_server_->GetRoute(topic, refresh);
  if (!route.ok() && route.status().IsNotFound() && !options_.create_topic_key.empty()) {
    // No such topic yet: send over the default topic's brokers, which may create it.
    route = name_server_->GetRoute(options_.create_topic_key, refresh);
    if (!route.ok()) {
      return Status::NotFound("no route for topic " + topic + " (nor for " +
                              options_.create_topic_key + ": " + route.status().ToString() + ")");
    }
    *via_default_topic = true;
  }
  if (!route.ok()) return route.status();
  std::vector<MessageQueue> queues;
  for (const mqremoting::QueueData& data : route->queue_datas) {
    if ((data.perm & mqremoting::perm::kWrite) == 0) continue;
    if (MasterAddress(*route, data.broker_name).empty()) continue;
    int32_t count = data.write_queue_nums;
    if (*via_default_topic) count = std::min(count, options_.default_topic_queue_nums);
    for (int32_t id = 0; id < count; ++id) queues.push_back({topic, data.broker_name, id});
  }
  if (queues.empty()) {
    return Status::NotFound("topic " + topic + " has no writable queue on a broker with a master");
  }
  return queues;
}

Result<SendResult> Producer::Send(const Message& message) {
  if (!started_) return Status::FailedPrecondition("the producer is not started");
  bool via_default = false;
  MQ_ASSIGN_OR_RETURN(std::vector<MessageQueue> queues,
                      WritableQueues(message.topic, /*refresh=*/false, &via_default));
  std::string failed_broker;
  std::string failures;
  const int attempts = 1 + std::max(0, options_.retry_times_when_send_failed);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) {
      bool refreshed_via_default = false;
      Result<std::vector<MessageQueue>> fresh =
          WritableQueues(message.topic, /*refresh=*/true, &refreshed_via_default);
      if (fresh.ok()) {
        queues = std::move(fresh).value();
        via_default = refreshed_via_default;
      }
    }
    // Round robin, skipping the broker that just failed when another one is there.
    MessageQueue queue = queues[next_queue_.fetch_add(1) % queues.size()];
    if (!failed_broker.empty() && queue.broker_name == failed_broker) {
      for (size_t i = 0; i < queues.size(); ++i) {
        const MessageQueue& candidate = queues[next_queue_.fetch_add(1) % queues.size()];
        if (candidate.broker_name != failed_broker) {
          queue = candidate;
          break;
        }
      }
    }
    Result<SendResult> sent = SendOnce(message, queue, via_default);
    if (sent.ok()) {
      sent->attempts = attempt + 1;
      return sent;
    }
    if (!failures.empty()) failures += "; ";
    failures += queue.ToString() + ": " + sent.status().ToString();
    // Only transport failures and the retryable codes (mapped to kIOError / kBusy /
    // kNotFound / kFailedPrecondition) go on; an illegal message fails at once.
    if (sent.status().IsInvalidArgument()) return sent.status();
    failed_broker = queue.broker_name;
  }
  return Status::IOError("send to topic " + message.topic + " failed after " +
                         std::to_string(attempts) + " attempts (" + failures + ")");
}

Result<SendResult> Producer::SendToQueue(const Message& message, const MessageQueue& queue) {
  if (!started_) return Status::FailedPrecondition("the producer is not started");
  return SendOnce(message, queue, /*via_default_topic=*/false);
}

Result<std::string> Producer::PrepareSend(const Message& message, const MessageQueue& queue,
                                          bool via_default_topic, RemotingCommand* request,
                                          SendResult* result) {
  MQ_ASSIGN_OR_RETURN(
      mqremoting::TopicRouteData route,
      name_server_->GetRoute(via_default_topic ? options_.create_topic_key : queue.topic));
  std::string address = MasterAddress(route, queue.broker_name);
  if (address.empty()) {
    return Status::NotFound("broker " + queue.broker_name + " has no master for topic " +
                            queue.topic);
  }
  result->unique_id = minter_.Next();
  result->queue = queue;
  *request = RemotingCommand::Request(request_code::kSendMessageV2);
  request->SetExt("a", options_.group);
  request->SetExt("b", queue.topic);
  request->SetExt("c", options_.create_topic_key);
  request->SetExt("d", options_.default_topic_queue_nums);
  request->SetExt("e", queue.queue_id);
  request->SetExt("f", int32_t{0});
  request->SetExt("g", NowMs());
  request->SetExt("h", message.flag);
  request->SetExt("i", EncodeSendProperties(message, result->unique_id));
  request->SetExt("j", int32_t{0});
  request->SetExt("k", false);
  request->SetExt("m", false);
  request->body = message.body;
  return address;
}

void Producer::SendAsync(const Message& message, SendCallback done) {
  if (!started_) {
    done(Status::FailedPrecondition("the producer is not started"));
    return;
  }
  bool via_default = false;
  Result<std::vector<MessageQueue>> queues =
      WritableQueues(message.topic, /*refresh=*/false, &via_default);
  if (!queues.ok()) {
    done(queues.status());
    return;
  }
  const MessageQueue& queue = (*queues)[next_queue_.fetch_add(1) % queues->size()];
  RemotingCommand request;
  SendResult result;
  Result<std::string> address = PrepareSend(message, queue, via_default, &request, &result);
  if (!address.ok()) {
    done(address.status());
    return;
  }
  remoting_->InvokeAsync(*address, std::move(request), options_.send_timeout,
                         [result = std::move(result),
                          done = std::move(done)](Result<RemotingCommand> response) mutable {
                           if (!response.ok()) {
                             done(response.status());
                             return;
                           }
                           done(CompleteSend(*response, std::move(result)));
                         });
}

Result<SendResult> Producer::SendOnce(const Message& message, const MessageQueue& queue,
                                      bool via_default_topic) {
  RemotingCommand request;
  SendResult result;
  MQ_ASSIGN_OR_RETURN(std::string address,
                      PrepareSend(message, queue, via_default_topic, &request, &result));
  MQ_ASSIGN_OR_RETURN(RemotingCommand response,
                      remoting_->InvokeSync(address, std::move(request), options_.send_timeout));
  Result<SendResult> sent = CompleteSend(response, std::move(result));
  if (!sent.ok() && RetryableCode(response.code)) name_server_->Invalidate(queue.topic);
  return sent;
}

}  // namespace mqclient
