#include "mqclient/producer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <random>
#include <set>
#include <utility>

#include "latency_fault.h"
#include "mqstore/thread_name.h"
#include "remoting/codes.h"
#include "remoting/heartbeat_data.h"
#include "remoting/message_batch_body.h"

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

MessageQueueSelector SelectQueueByHash() {
  return [](const std::vector<MessageQueue>& queues, const Message&, std::string_view arg) {
    if (queues.empty()) return size_t{0};  // out of range: Send reports it
    // Java: arg.hashCode() % size, made non-negative (Java's % keeps the dividend's sign).
    const auto hash = static_cast<int32_t>(mqstore::TagsHashCode(arg));  // String.hashCode
    const int32_t remainder = hash % static_cast<int32_t>(queues.size());
    return static_cast<size_t>(remainder < 0 ? -remainder : remainder);
  };
}

MessageQueueSelector SelectQueueByRandom() {
  return [](const std::vector<MessageQueue>& queues, const Message&, std::string_view) {
    if (queues.empty()) return size_t{0};  // out of range: Send reports it
    thread_local std::minstd_rand random(std::random_device{}());
    return std::uniform_int_distribution<size_t>(0, queues.size() - 1)(random);
  };
}

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

// What a send needs of a topic's route, built once per route version: the writable queues of
// brokers with a master, each with that master's address, and every broker's master (for
// SendToQueue). Immutable once built; shared by the sends that use it.
struct Producer::PublishInfo {
  uint64_t route_version = 0;  // NameServerClient::route_version() before it was built
  bool via_default_topic = false;
  std::vector<MessageQueue> queues;
  std::vector<std::string> addresses;                        // addresses[i]: master of queues[i]
  std::vector<std::pair<std::string, std::string>> masters;  // broker name, master address

  const std::string* MasterOf(std::string_view broker_name) const {
    for (const auto& [name, address] : masters) {
      if (name == broker_name) return &address;
    }
    return nullptr;
  }
};

Producer::Producer(ProducerOptions options)
    : options_(std::move(options)), minter_(options_.host_ipv4) {}

Producer::~Producer() { Shutdown(); }

Status Producer::Start() {
  if (started_) return Status::OK();
  std::vector<std::string> addresses = SplitAddressList(options_.namesrv_addr);
  if (addresses.empty()) return Status::InvalidArgument("no name server address given");
  if (options_.compress_bodies_from_bytes > 0) {
    // Fails here rather than leaving every large body uncompressed without a word.
    int32_t sys_flag = 0;
    MQ_RETURN_IF_ERROR(mqstore::CompressBody("probe", options_.compression_type,
                                             options_.compression_level, &sys_flag)
                           .status());
  }
  if (ClientInstance* instance = options_.client_instance.get()) {
    if (request_handler_) {
      MQ_RETURN_IF_ERROR(instance->RegisterHandler(options_.group, request_handler_));
    }
    remoting_ = instance->remoting();
    client_id_ = instance->client_id();
  } else {
    mqremoting::ClientOptions transport;
    transport.shared_threads = options_.transport_threads;
    own_remoting_ = mqremoting::RemotingClient::Create(transport, request_handler_);
    remoting_ = own_remoting_.get();
    static std::atomic<uint64_t> next_instance{0};
    client_id_ = "127.0.0.1@" + std::to_string(::getpid()) + "#p" +
                 std::to_string(next_instance.fetch_add(1, std::memory_order_relaxed));
  }
  if (options_.send_latency_fault_enable) faults_ = std::make_unique<LatencyFaultTolerance>();
  name_server_ =
      std::make_unique<NameServerClient>(std::move(addresses), remoting_, options_.send_timeout);
  {
    std::lock_guard<std::mutex> lock(publish_mu_);
    publish_.clear();
  }
  started_ = true;
  if (options_.route_refresh_interval.count() > 0) {
    {
      std::lock_guard<std::mutex> lock(refresh_mu_);
      refresh_stop_ = false;
    }
    refresher_ = std::thread([this] {
      mqstore::NameThisThread("mq-route-poll");
      RefreshLoop();
    });
  }
  return Status::OK();
}

void Producer::Shutdown() {
  if (!started_.exchange(false)) return;
  {
    std::lock_guard<std::mutex> lock(refresh_mu_);
    refresh_stop_ = true;
  }
  refresh_wake_.notify_all();
  if (own_remoting_) {
    own_remoting_->Shutdown();  // a refresh under way fails at once, and so do sends
  } else if (request_handler_) {
    options_.client_instance->UnregisterHandler(options_.group);
  }
  if (refresher_.joinable()) refresher_.join();
  // Without an instance every send has ended above; on one they end with their answers.
  std::unique_lock<std::mutex> lock(async_mu_);
  async_ended_.wait(lock, [this] { return async_in_flight_.load() == 0; });
}

void Producer::EndAsyncSend() {
  // Pairs with Shutdown: it clears started_ and then reads the count, this lowers the count
  // and then reads started_, so one of them sees the other (both sequentially consistent).
  if (async_in_flight_.fetch_sub(1) == 1 && !started_.load()) {
    std::lock_guard<std::mutex> lock(async_mu_);
    async_ended_.notify_all();
  }
}

void Producer::RefreshLoop() {
  std::unique_lock<std::mutex> lock(refresh_mu_);
  for (;;) {
    if (refresh_wake_.wait_for(lock, options_.route_refresh_interval,
                               [this] { return refresh_stop_; })) {
      return;
    }
    lock.unlock();
    // A name server that does not answer now is asked again next time; sends go on with
    // the routes they have.
    RefreshRoutes().IgnoreError();
    SendHeartbeat().IgnoreError();
    lock.lock();
  }
}

void Producer::SetRequestHandler(std::shared_ptr<mqremoting::RequestHandler> handler) {
  request_handler_ = std::move(handler);
}

namespace {

// The master of every broker of the topics in `publish`.
template <typename PublishMap>
std::set<std::string> MasterAddressesOf(const PublishMap& publish) {
  std::set<std::string> addresses;
  for (const auto& [topic, info] : publish) {
    for (const auto& [name, address] : info->masters) addresses.insert(address);
  }
  return addresses;
}

}  // namespace

Status Producer::SendHeartbeat() {
  if (!started_) return Status::FailedPrecondition("the producer is not started");
  std::set<std::string> addresses;
  {
    std::lock_guard<std::mutex> lock(publish_mu_);
    addresses = MasterAddressesOf(publish_);
  }
  mqremoting::HeartbeatData heartbeat;
  heartbeat.client_id = client_id_;
  heartbeat.producers.push_back({options_.group});
  Status sent = SendHeartbeats(remoting_, addresses, heartbeat, options_.send_timeout);
  if (sent.ok()) {
    std::lock_guard<std::mutex> lock(heartbeat_mu_);
    heartbeat_sent_.insert(addresses.begin(), addresses.end());
  }
  return sent;
}

Status Producer::SendHeartbeatToNewBrokers() {
  if (!started_) return Status::FailedPrecondition("the producer is not started");
  std::set<std::string> addresses;
  {
    std::lock_guard<std::mutex> lock(publish_mu_);
    addresses = MasterAddressesOf(publish_);
  }
  {
    std::lock_guard<std::mutex> lock(heartbeat_mu_);
    if (std::includes(heartbeat_sent_.begin(), heartbeat_sent_.end(), addresses.begin(),
                      addresses.end())) {
      return Status::OK();
    }
  }
  return SendHeartbeat();
}

Status Producer::RefreshRoutes() {
  if (!started_) return Status::FailedPrecondition("the producer is not started");
  std::vector<std::string> topics;
  {
    std::lock_guard<std::mutex> lock(publish_mu_);
    for (const auto& [topic, info] : publish_) topics.push_back(topic);
  }
  Status first_error;
  for (const std::string& topic : topics) {
    Result<PublishInfoPtr> info = GetPublishInfo(topic, /*refresh=*/true);
    if (!info.ok() && first_error.ok()) first_error = info.status();
  }
  return first_error;
}

Result<Producer::RoutePtr> Producer::ResolveRoute(const std::string& topic, bool fetch,
                                                  bool* via_default_topic) {
  *via_default_topic = false;
  Result<RoutePtr> route = name_server_->GetSharedRoute(topic, fetch);
  if (route.ok() || !route.status().IsNotFound() || options_.create_topic_key.empty()) {
    return route;
  }
  // No such topic yet: send over the default topic's brokers, which may create it.
  route = name_server_->GetSharedRoute(options_.create_topic_key, fetch);
  if (!route.ok()) {
    return Status::NotFound("no route for topic " + topic + " (nor for " +
                            options_.create_topic_key + ": " + route.status().ToString() + ")");
  }
  *via_default_topic = true;
  return route;
}

Result<Producer::PublishInfoPtr> Producer::BuildPublishInfo(const std::string& topic) {
  // The version is read before the routes the info is built from: a change racing with the
  // build leaves the info looking stale (built once more), never a stale info looking current.
  uint64_t version = name_server_->route_version();
  bool via_default = false;
  MQ_ASSIGN_OR_RETURN(RoutePtr route, ResolveRoute(topic, /*fetch=*/false, &via_default));
  if (const uint64_t after = name_server_->route_version(); after != version) {
    // The route was fetched just now (it was not cached), or changed meanwhile: take it
    // again under the newer version, from the cache this time.
    version = after;
    MQ_ASSIGN_OR_RETURN(route, ResolveRoute(topic, /*fetch=*/false, &via_default));
  }
  auto info = std::make_shared<PublishInfo>();
  info->route_version = version;
  info->via_default_topic = via_default;
  for (const mqremoting::BrokerData& broker : route->broker_datas) {
    auto it = broker.broker_addrs.find(mqremoting::kMasterBrokerId);
    if (it != broker.broker_addrs.end()) info->masters.emplace_back(broker.broker_name, it->second);
  }
  // RocketMQ's queue order (queue data sorted by broker name), which selectors index into:
  // a Java producer and this one then map an ordered key to the same queue.
  std::vector<const mqremoting::QueueData*> queue_datas;
  for (const mqremoting::QueueData& data : route->queue_datas) queue_datas.push_back(&data);
  std::stable_sort(queue_datas.begin(), queue_datas.end(),
                   [](const auto* a, const auto* b) { return a->broker_name < b->broker_name; });
  for (const mqremoting::QueueData* queue_data : queue_datas) {
    const mqremoting::QueueData& data = *queue_data;
    if ((data.perm & mqremoting::perm::kWrite) == 0) continue;
    const std::string* master = info->MasterOf(data.broker_name);
    if (master == nullptr) continue;
    int32_t count = data.write_queue_nums;
    if (via_default) count = std::min(count, options_.default_topic_queue_nums);
    for (int32_t id = 0; id < count; ++id) {
      info->queues.push_back({topic, data.broker_name, id});
      info->addresses.push_back(*master);
    }
  }
  if (info->queues.empty()) {
    return Status::NotFound("topic " + topic + " has no writable queue on a broker with a master");
  }
  publish_info_builds_.fetch_add(1, std::memory_order_relaxed);
  return PublishInfoPtr(std::move(info));
}

Result<Producer::PublishInfoPtr> Producer::GetPublishInfo(const std::string& topic, bool refresh) {
  if (refresh) {
    bool via_default = false;
    MQ_RETURN_IF_ERROR(ResolveRoute(topic, /*fetch=*/true, &via_default).status());
  }
  const uint64_t version = name_server_->route_version();
  PublishInfoPtr cached;
  {
    std::lock_guard<std::mutex> lock(publish_mu_);
    if (auto it = publish_.find(topic); it != publish_.end()) cached = it->second;
  }
  if (cached && cached->route_version == version) return cached;

  Result<PublishInfoPtr> built = BuildPublishInfo(topic);
  PublishInfoPtr chosen;
  if (built.ok()) {
    chosen = std::move(built).value();
  } else if (cached && !refresh && !built.status().IsNotFound()) {
    // No route to rebuild from right now (no name server answered, or this is a transport
    // thread, which cannot wait for one): go on with the last one, marked current so that
    // every send does not try again; the next route change or refresh rebuilds it. (A route
    // saying there is nothing to send to, kNotFound, is an answer and is passed on.)
    auto kept = std::make_shared<PublishInfo>(*cached);
    kept->route_version = version;
    chosen = std::move(kept);
  } else {
    return built.status();
  }
  std::lock_guard<std::mutex> lock(publish_mu_);
  PublishInfoPtr& slot = publish_[topic];
  // Of two builds racing, the one from the newer routes stays.
  if (!slot || slot->route_version <= chosen->route_version) slot = chosen;
  return chosen;
}

Result<SendResult> Producer::Send(const Message& message) {
  return SendWithRetries(message.topic,
                         [this, &message](const MessageQueue& queue, const std::string& address) {
                           return SendOnce(message, queue, address);
                         });
}

Result<SendResult> Producer::SendHalf(const Message& message, std::string_view extra_properties) {
  return SendWithRetries(message.topic, [this, &message, extra_properties](
                                            const MessageQueue& queue, const std::string& address) {
    RemotingCommand request;
    SendResult result;
    PrepareSend(message, queue, &request, &result, mqstore::sysflag::kTransactionPrepared,
                extra_properties);
    return Exchange(std::move(request), std::move(result), address);
  });
}

Result<SendResult> Producer::Send(const std::vector<Message>& messages) {
  if (messages.empty()) return Status::InvalidArgument("the batch is empty");
  const std::string& topic = messages.front().topic;
  for (const Message& message : messages) {
    // As RocketMQ's batch checks: one topic, and no delay (a batch is stored at once).
    if (message.topic != topic) {
      return Status::InvalidArgument("a batch goes to one topic: " + topic + " and " +
                                     message.topic);
    }
    if (message.delay_level > 0) {
      return Status::InvalidArgument("a delay level is not supported for batching");
    }
    if (message.topic.starts_with("%RETRY%")) {
      return Status::InvalidArgument("a retry topic is not supported for batching");
    }
  }
  return SendWithRetries(topic,
                         [this, &messages](const MessageQueue& queue,
                                           const std::string& address) -> Result<SendResult> {
                           RemotingCommand request;
                           SendResult result;
                           MQ_RETURN_IF_ERROR(PrepareBatch(messages, queue, &request, &result));
                           return Exchange(std::move(request), std::move(result), address);
                         });
}

Result<SendResult> Producer::SendWithRetries(const std::string& topic, const SendAttempt& attempt) {
  if (!started_) return Status::FailedPrecondition("the producer is not started");
  MQ_ASSIGN_OR_RETURN(PublishInfoPtr info, GetPublishInfo(topic, /*refresh=*/false));
  std::string failed_broker;
  std::string failures;
  const int attempts = 1 + std::max(0, options_.retry_times_when_send_failed);
  for (int tried = 0; tried < attempts; ++tried) {
    if (tried > 0) {
      Result<PublishInfoPtr> fresh = GetPublishInfo(topic, /*refresh=*/true);
      if (fresh.ok()) info = std::move(fresh).value();
    }
    const size_t index = PickQueue(*info, failed_broker);
    const MessageQueue& queue = info->queues[index];
    const auto started_at = std::chrono::steady_clock::now();
    Result<SendResult> sent = attempt(queue, info->addresses[index]);
    RecordLatency(queue.broker_name, started_at, sent.status());
    if (sent.ok()) {
      sent->attempts = tried + 1;
      const bool stored = sent->status == SendStatus::kSendOk;
      if (stored || !options_.retry_another_broker_when_not_store_ok || tried + 1 == attempts) {
        return sent;
      }
      // Stored, but not as asked (not flushed, no slave): once more, elsewhere.
      if (!failures.empty()) failures += "; ";
      failures += queue.ToString() + ": " + std::string(SendStatusName(sent->status));
      failed_broker = queue.broker_name;
      continue;
    }
    if (!failures.empty()) failures += "; ";
    failures += queue.ToString() + ": " + sent.status().ToString();
    // Only transport failures and the retryable codes (mapped to kIOError / kBusy /
    // kNotFound / kFailedPrecondition) go on; an illegal message fails at once.
    if (sent.status().IsInvalidArgument()) return sent.status();
    failed_broker = queue.broker_name;
  }
  return Status::IOError("send to topic " + topic + " failed after " + std::to_string(attempts) +
                         " attempts (" + failures + ")");
}

size_t Producer::PickQueue(const PublishInfo& info, const std::string& failed_broker) {
  // Round robin, skipping the broker that just failed when another one is there, and with
  // latency-fault avoidance the brokers paused for being slow or failing.
  const size_t count = info.queues.size();
  size_t index = next_queue_.fetch_add(1, std::memory_order_relaxed) % count;
  bool picked = false;
  if (faults_) {
    for (size_t i = 0; i < count && !picked; ++i) {
      const size_t candidate = (index + i) % count;
      const std::string& broker = info.queues[candidate].broker_name;
      if (broker != failed_broker && faults_->IsAvailable(broker)) {
        index = candidate;
        picked = true;
      }
    }
  }
  if (!picked && !failed_broker.empty() && info.queues[index].broker_name == failed_broker) {
    for (size_t i = 0; i < count; ++i) {
      size_t candidate = next_queue_.fetch_add(1, std::memory_order_relaxed) % count;
      if (info.queues[candidate].broker_name != failed_broker) {
        index = candidate;
        break;
      }
    }
  }
  return index;
}

void Producer::RecordLatency(const std::string& broker,
                             std::chrono::steady_clock::time_point started_at,
                             const Status& outcome) {
  // An illegal message says nothing about the broker; an abort is our own Shutdown.
  if (!faults_ || outcome.IsInvalidArgument() || outcome.code() == Status::Code::kAborted) return;
  faults_->Update(broker,
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started_at),
                  /*failed=*/!outcome.ok());
}

Result<SendResult> Producer::SendToQueue(const Message& message, const MessageQueue& queue) {
  if (!started_) return Status::FailedPrecondition("the producer is not started");
  MQ_ASSIGN_OR_RETURN(PublishInfoPtr info, GetPublishInfo(queue.topic, /*refresh=*/false));
  const std::string* address = info->MasterOf(queue.broker_name);
  if (address == nullptr) {
    return Status::NotFound("broker " + queue.broker_name + " has no master for topic " +
                            queue.topic);
  }
  return SendOnce(message, queue, *address);
}

void Producer::AddSendHeader(const MessageQueue& queue, int32_t sys_flag, int32_t flag,
                             std::string properties, bool batch, RemotingCommand* request) const {
  // SEND_MESSAGE_V2's fields a..m, the text SetExt would give, added in key order so that
  // each lands at the end without a search (this runs for every message).
  request->serialize_type = options_.send_header_type;
  request->ext_fields.reserve(13);
  // Each value is written into its field: a temporary string moved in would copy a short
  // value twice more.
  auto add = [request](const char* key, std::string_view value) {
    request->ext_fields[key].assign(value);
  };
  auto add_number = [request](const char* key, int64_t value) {
    char digits[24];
    const std::to_chars_result written = std::to_chars(std::begin(digits), std::end(digits), value);
    request->ext_fields[key].assign(digits, written.ptr);
  };
  add("a", options_.group);
  add("b", queue.topic);
  add("c", options_.create_topic_key);
  add_number("d", options_.default_topic_queue_nums);
  add_number("e", queue.queue_id);
  add_number("f", sys_flag);
  add_number("g", NowMs());
  add_number("h", flag);
  request->ext_fields["i"] = std::move(properties);
  add("j", "0");
  add("k", "false");
  add("m", batch ? "true" : "false");
}

void Producer::PrepareSend(const Message& message, const MessageQueue& queue,
                           RemotingCommand* request, SendResult* result, int32_t extra_sys_flag,
                           std::string_view extra_properties) {
  result->unique_id = minter_.Next();
  result->queue = queue;
  *request = RemotingCommand::Request(request_code::kSendMessageV2);
  int32_t sys_flag = extra_sys_flag;
  std::string body = BodyToSend(message, &sys_flag);
  std::string properties = EncodeSendProperties(message, result->unique_id);
  properties.append(extra_properties);
  AddSendHeader(queue, sys_flag, message.flag, std::move(properties), /*batch=*/false, request);
  request->body = std::move(body);  // the one copy of the body; the transport moves it on
}

Status Producer::PrepareBatch(const std::vector<Message>& messages, const MessageQueue& queue,
                              RemotingCommand* request, SendResult* result) {
  result->queue = queue;
  *request = RemotingCommand::Request(request_code::kSendBatchMessage);
  // Bodies are not compressed in a batch (nor are they by RocketMQ's producers).
  for (const Message& message : messages) {
    std::string unique_id = minter_.Next();
    MQ_RETURN_IF_ERROR(mqremoting::AppendBatchItem(
        message.flag, message.body, EncodeSendProperties(message, unique_id), &request->body));
    if (!result->unique_id.empty()) result->unique_id += ',';
    result->unique_id += unique_id;
  }
  // The batch as a whole carries WAIT and a UNIQ_KEY of its own, as a Java MessageBatch.
  AddSendHeader(queue, /*sys_flag=*/0, /*flag=*/0, EncodeSendProperties(Message{}, minter_.Next()),
                /*batch=*/true, request);
  return Status::OK();
}

std::string Producer::BodyToSend(const Message& message, int32_t* sys_flag) const {
  const size_t threshold = options_.compress_bodies_from_bytes;
  if (threshold == 0 || message.body.size() < threshold) return message.body;
  int32_t flag = 0;
  Result<std::string> compressed = mqstore::CompressBody(message.body, options_.compression_type,
                                                         options_.compression_level, &flag);
  // Data that does not shrink (already compressed, encrypted) goes as it is.
  if (!compressed.ok() || compressed->size() >= message.body.size()) return message.body;
  *sys_flag |= flag;
  return std::move(compressed).value();
}

Status Producer::SendOneway(const Message& message) {
  if (!started_) return Status::FailedPrecondition("the producer is not started");
  MQ_ASSIGN_OR_RETURN(PublishInfoPtr info, GetPublishInfo(message.topic, /*refresh=*/false));
  // No answer to time: the latencies of the other sends steer it.
  const size_t index = PickQueue(*info, /*failed_broker=*/"");
  RemotingCommand request;
  SendResult result;
  PrepareSend(message, info->queues[index], &request, &result);
  return remoting_->InvokeOneway(info->addresses[index], std::move(request));
}

Result<SendResult> Producer::Send(const Message& message, const MessageQueueSelector& selector,
                                  std::string_view arg) {
  if (!started_) return Status::FailedPrecondition("the producer is not started");
  if (!selector) return Status::InvalidArgument("no queue selector given");
  MQ_ASSIGN_OR_RETURN(PublishInfoPtr info, GetPublishInfo(message.topic, /*refresh=*/false));
  const size_t index = selector(info->queues, message, arg);
  if (index >= info->queues.size()) {
    return Status::InvalidArgument("the queue selector picked queue " + std::to_string(index) +
                                   " of topic " + message.topic + ", which has " +
                                   std::to_string(info->queues.size()) + " writable queues");
  }
  return SendOnce(message, info->queues[index], info->addresses[index]);
}

// What a retry needs to send the same message again: not a copy of the request (a dozen
// header strings), but its parts; the body is shared by every attempt's frame.
struct Producer::AsyncSend {
  PublishInfoPtr info;  // where a retry may go instead, with latency-fault avoidance
  std::chrono::steady_clock::time_point started_at;  // of the attempt in flight
  std::string address;
  std::shared_ptr<const std::string> body;
  std::string properties;  // with the UNIQ_KEY: a retry is the same message
  int32_t sys_flag = 0;
  int32_t flag = 0;
  SendResult result;
  int retries_left = 0;
  SendCallback done;
};

void Producer::SendAsync(const Message& message, SendCallback done) {
  // Counted before started_ is read: a Shutdown that has not seen the count yet makes this
  // see started_ false (see EndAsyncSend).
  async_in_flight_.fetch_add(1);
  if (!started_) {
    done(Status::FailedPrecondition("the producer is not started"));
    EndAsyncSend();
    return;
  }
  Result<PublishInfoPtr> info = GetPublishInfo(message.topic, /*refresh=*/false);
  if (!info.ok()) {
    done(info.status());
    EndAsyncSend();
    return;
  }
  const PublishInfo& publish = **info;
  const size_t index = PickQueue(publish, /*failed_broker=*/"");
  auto send = std::make_shared<AsyncSend>();
  if (faults_) send->info = *info;
  send->address = publish.addresses[index];
  send->result.unique_id = minter_.Next();
  send->result.queue = publish.queues[index];
  send->body = std::make_shared<const std::string>(BodyToSend(message, &send->sys_flag));
  send->properties = EncodeSendProperties(message, send->result.unique_id);
  send->flag = message.flag;
  send->retries_left = std::max(0, options_.retry_times_when_send_async_failed);
  send->done = std::move(done);
  InvokeAsyncSend(std::move(send));
}

void Producer::InvokeAsyncSend(std::shared_ptr<AsyncSend> send) {
  RemotingCommand request = RemotingCommand::Request(request_code::kSendMessageV2);
  AddSendHeader(send->result.queue, send->sys_flag, send->flag,
                send->retries_left > 0 ? send->properties : std::move(send->properties),
                /*batch=*/false, &request);
  request.body_slices.push_back({*send->body, send->body});
  const std::string address = send->address;  // the callback may end `send` before we return
  // Only latency-fault avoidance reads it (RecordLatency); a clock read per send is not free.
  if (faults_) send->started_at = std::chrono::steady_clock::now();
  remoting_->InvokeAsync(
      address, std::move(request), options_.send_timeout,
      [this, send = std::move(send)](Result<RemotingCommand> response) mutable {
        const bool may_retry = send->retries_left > 0;
        const std::string broker = send->result.queue.broker_name;
        Result<SendResult> outcome = Status::OK();
        bool retryable;
        if (response.ok()) {
          retryable = RetryableCode(response->code);
          // A success is not tried again: its result is not needed after.
          const bool may_need_result = may_retry && response->code != response_code::kSuccess;
          outcome =
              CompleteSend(*response, may_need_result ? send->result : std::move(send->result));
        } else {
          // Shutdown aborts what is in flight: that is not tried again.
          retryable = response.status().code() != Status::Code::kAborted;
          outcome = response.status();
        }
        // Recorded before a retry picks its queue, as Java's callback does.
        RecordLatency(broker, send->started_at, outcome.status());
        // After Shutdown began nothing is tried again (on a shared instance the answers
        // still come).
        if (!outcome.ok() && retryable && may_retry && started_) {
          --send->retries_left;
          ++send->result.attempts;
          if (send->info) {
            // With latency-fault avoidance a retry goes where a send is
            // likely to work, not to the broker that just failed.
            const size_t index = PickQueue(*send->info, broker);
            send->result.queue = send->info->queues[index];
            send->address = send->info->addresses[index];
          }
          InvokeAsyncSend(std::move(send));
          return;
        }
        send->done(std::move(outcome));
        EndAsyncSend();  // the last use of `this`
      });
}

Result<SendResult> Producer::SendOnce(const Message& message, const MessageQueue& queue,
                                      const std::string& address) {
  RemotingCommand request;
  SendResult result;
  PrepareSend(message, queue, &request, &result);
  return Exchange(std::move(request), std::move(result), address);
}

Result<SendResult> Producer::Exchange(RemotingCommand request, SendResult result,
                                      const std::string& address) {
  const std::string topic = result.queue.topic;
  MQ_ASSIGN_OR_RETURN(RemotingCommand response,
                      remoting_->InvokeSync(address, std::move(request), options_.send_timeout));
  Result<SendResult> sent = CompleteSend(response, std::move(result));
  if (!sent.ok() && RetryableCode(response.code)) name_server_->Invalidate(topic);
  return sent;
}

}  // namespace mqclient
