#include "rebalance_util.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

#include "consumer_requests.h"
#include "mqstore/send_back.h"
#include "remoting/codes.h"
#include "remoting/heartbeat_data.h"

namespace mqclient {

using mqremoting::RemotingCommand;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;

int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NewConsumerClientId(std::string_view kind) {
  // A counter per kind: a push consumer's "#<n>" does not move when lite ones are made.
  static std::mutex mu;
  static std::map<std::string, uint64_t, std::less<>> next;
  uint64_t n;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = next.find(kind);
    if (it == next.end()) it = next.emplace(std::string(kind), 0).first;
    n = it->second++;
  }
  return "127.0.0.1@" + std::to_string(::getpid()) + "#" + std::string(kind) + std::to_string(n);
}

std::string_view ConsumeFromWhereName(ConsumeFromWhere where) {
  switch (where) {
    case ConsumeFromWhere::kFirstOffset:
      return mqremoting::kConsumeFromFirstOffset;
    case ConsumeFromWhere::kTimestamp:
      return mqremoting::kConsumeFromTimestamp;
    case ConsumeFromWhere::kLastOffset:
      break;
  }
  return mqremoting::kConsumeFromLastOffset;
}

bool IsRetryTopicName(std::string_view topic) {
  return topic.substr(0, mqstore::kRetryTopicPrefix.size()) == mqstore::kRetryTopicPrefix;
}

Status AddSubscription(std::vector<ConsumerSubscription>* subscriptions, const std::string& topic,
                       const std::string& expression) {
  if (topic.empty()) return Status::InvalidArgument("the topic is empty");
  const std::string sub_string =
      expression.empty() ? std::string(mqremoting::kSubscribeAll) : expression;
  MQ_ASSIGN_OR_RETURN(mqremoting::TagFilter filter,
                      mqremoting::ParseTagExpression(sub_string, mqremoting::kExpressionTypeTag));
  ConsumerSubscription subscription;
  subscription.data.topic = topic;
  subscription.data.sub_string = sub_string;
  subscription.data.tags_set = filter.tags();
  subscription.data.code_set = filter.codes();
  subscription.filter = std::move(filter);
  // A second Subscribe of a topic replaces the first, as in Java.
  std::erase_if(*subscriptions,
                [&](const ConsumerSubscription& s) { return s.data.topic == topic; });
  subscriptions->push_back(std::move(subscription));
  return Status::OK();
}

const ConsumerSubscription* FindSubscription(const std::vector<ConsumerSubscription>& subscriptions,
                                             const std::string& topic) {
  for (const ConsumerSubscription& subscription : subscriptions) {
    if (subscription.data.topic == topic) return &subscription;
  }
  return nullptr;
}

std::vector<std::string> SubscribedTopics(const std::vector<ConsumerSubscription>& subscriptions) {
  std::vector<std::string> topics;
  topics.reserve(subscriptions.size());
  for (const ConsumerSubscription& subscription : subscriptions) {
    topics.push_back(subscription.data.topic);
  }
  return topics;
}

Result<std::string> ConsumerGroupCalls::MasterOf(const std::string& topic,
                                                 const std::string& broker_name) {
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<const mqremoting::TopicRouteData> route,
                      name_server_->GetSharedRoute(topic));
  std::string address = MasterAddress(*route, broker_name);
  if (address.empty()) {
    MQ_ASSIGN_OR_RETURN(route, name_server_->GetSharedRoute(topic, /*refresh=*/true));
    address = MasterAddress(*route, broker_name);
  }
  if (address.empty()) {
    return Status::NotFound("broker " + broker_name + " of topic " + topic + " has no master");
  }
  return address;
}

std::set<std::string> ConsumerGroupCalls::MasterAddresses(const std::vector<std::string>& topics) {
  std::set<std::string> addresses;
  for (const std::string& topic : topics) {
    auto route = name_server_->GetSharedRoute(topic);
    if (!route.ok()) continue;
    for (const mqremoting::BrokerData& broker : (*route)->broker_datas) {
      auto it = broker.broker_addrs.find(mqremoting::kMasterBrokerId);
      if (it != broker.broker_addrs.end()) addresses.insert(it->second);
    }
  }
  return addresses;
}

Status ConsumerGroupCalls::SendHeartbeat(const std::string& client_id,
                                         std::string_view consume_type,
                                         std::string_view message_model, ConsumeFromWhere where,
                                         const std::vector<ConsumerSubscription>& subscriptions) {
  mqremoting::HeartbeatData heartbeat;
  heartbeat.client_id = client_id;
  mqremoting::ConsumerData consumer;
  consumer.group_name = group_;
  consumer.consume_type = std::string(consume_type);
  consumer.message_model = std::string(message_model);
  consumer.consume_from_where = std::string(ConsumeFromWhereName(where));
  for (const ConsumerSubscription& subscription : subscriptions) {
    consumer.subscriptions.push_back(subscription.data);
  }
  heartbeat.consumers.push_back(std::move(consumer));
  std::set<std::string> addresses = MasterAddresses(SubscribedTopics(subscriptions));
  if (addresses.empty()) {
    return Status::NotFound("no broker serves the topics group " + group_ + " subscribes to");
  }
  return SendHeartbeats(remoting_, addresses, heartbeat, timeout_);
}

Result<std::vector<std::string>> ConsumerGroupCalls::FetchConsumerIds(const std::string& topic) {
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<const mqremoting::TopicRouteData> route,
                      name_server_->GetSharedRoute(topic));
  Status last = Status::NotFound("topic " + topic + " has no broker");
  // Any broker of the topic knows the group's members; ask the next if one fails.
  for (const mqremoting::BrokerData& broker : route->broker_datas) {
    auto it = broker.broker_addrs.find(mqremoting::kMasterBrokerId);
    if (it == broker.broker_addrs.end()) continue;
    RemotingCommand request = RemotingCommand::Request(request_code::kGetConsumerListByGroup);
    request.SetExt("consumerGroup", group_);
    Result<RemotingCommand> response =
        remoting_->InvokeSync(it->second, std::move(request), timeout_);
    if (!response.ok()) {
      last = response.status();
      continue;
    }
    if (response->code != response_code::kSuccess) {
      last = ResponseStatus(*response, "consumer list of group " + group_);
      continue;
    }
    MQ_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                        mqremoting::ParseConsumerIdList(response->BodyBytes()));
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  return last;
}

void ConsumerGroupCalls::Unregister(const std::set<std::string>& addresses,
                                    const std::string& client_id) {
  for (const std::string& address : addresses) {
    RemotingCommand request = RemotingCommand::Request(request_code::kUnregisterClient);
    request.SetExt("clientID", client_id);
    request.SetExt("consumerGroup", group_);
    (void)remoting_->InvokeSync(address, std::move(request), timeout_);
  }
}

Result<int64_t> ConsumerGroupCalls::QueryCommittedOffset(const MessageQueue& queue) {
  MQ_ASSIGN_OR_RETURN(std::string address, MasterOf(queue.topic, queue.broker_name));
  // Without setZeroIfNotFound=false a broker answers 0 for a young queue, and kLastOffset
  // would read it from its start (docs/design/0011-push-consumer.md, Decisions).
  MQ_ASSIGN_OR_RETURN(RemotingCommand response,
                      remoting_->InvokeSync(
                          address, MakeQueryConsumerOffsetRequest(group_, queue, false), timeout_));
  return ReadOffsetResponse(response, "committed offset of " + queue.ToString());
}

Result<int64_t> ConsumerGroupCalls::QueryQueueOffset(const MessageQueue& queue, int32_t code,
                                                     std::optional<int64_t> timestamp_ms) {
  MQ_ASSIGN_OR_RETURN(std::string address, MasterOf(queue.topic, queue.broker_name));
  MQ_ASSIGN_OR_RETURN(
      RemotingCommand response,
      remoting_->InvokeSync(address, MakeQueueOffsetRequest(code, queue, timestamp_ms), timeout_));
  return ReadOffsetResponse(response, "offset of " + queue.ToString());
}

Result<int64_t> ConsumerGroupCalls::StartOffset(const MessageQueue& queue, ConsumeFromWhere where,
                                                int64_t consume_timestamp_ms,
                                                const LocalOffsetTable* local) {
  if (local != nullptr) {
    if (std::optional<int64_t> saved = local->Find(queue)) return *saved;
  } else {
    Result<int64_t> committed = QueryCommittedOffset(queue);
    if (committed.ok() || !committed.status().IsNotFound()) return committed;
  }
  return ConsumeFromWhereOffset(queue, where, consume_timestamp_ms);
}

Result<int64_t> ConsumerGroupCalls::ConsumeFromWhereOffset(const MessageQueue& queue,
                                                           ConsumeFromWhere where,
                                                           int64_t consume_timestamp_ms) {
  const bool retry = IsRetryTopicName(queue.topic);
  switch (where) {
    case ConsumeFromWhere::kFirstOffset:
      return int64_t{0};
    case ConsumeFromWhere::kTimestamp:
      if (retry) return QueryQueueOffset(queue, request_code::kGetMaxOffset);
      return QueryQueueOffset(queue, request_code::kSearchOffsetByTimestamp, consume_timestamp_ms);
    case ConsumeFromWhere::kLastOffset:
      break;
  }
  if (retry) return int64_t{0};
  return QueryQueueOffset(queue, request_code::kGetMaxOffset);
}

Status ConsumerGroupCalls::CommitOffset(const MessageQueue& queue, int64_t offset, bool oneway) {
  MQ_ASSIGN_OR_RETURN(std::string address, MasterOf(queue.topic, queue.broker_name));
  RemotingCommand request = MakeUpdateConsumerOffsetRequest(group_, queue, offset);
  if (oneway) return remoting_->InvokeOneway(address, std::move(request));
  MQ_ASSIGN_OR_RETURN(RemotingCommand response,
                      remoting_->InvokeSync(address, std::move(request), timeout_));
  if (response.code != response_code::kSuccess) {
    return ResponseStatus(response, "commit offset of " + queue.ToString());
  }
  return Status::OK();
}

Status FetchTopicQueues(NameServerClient* name_server, const std::vector<std::string>& topics,
                        std::map<std::string, std::vector<MessageQueue>>* queues) {
  Status outcome = Status::NotFound("no subscribed topic has a route");
  bool any_known = false;
  for (const std::string& topic : topics) {
    Result<std::shared_ptr<const mqremoting::TopicRouteData>> route =
        name_server->GetSharedRoute(topic, /*refresh=*/true);
    if (!route.ok()) {
      if (!route.status().IsNotFound() && outcome.IsNotFound()) outcome = route.status();
      continue;
    }
    any_known = true;
    std::vector<MessageQueue> readable = ReadableQueues(**route, topic);
    std::sort(readable.begin(), readable.end());
    (*queues)[topic] = std::move(readable);
  }
  return any_known ? Status::OK() : outcome;
}

int MergeTopicQueues(std::map<std::string, std::vector<MessageQueue>> fresh,
                     std::map<std::string, std::vector<MessageQueue>>* known) {
  int appeared = 0;
  for (auto& [topic, queues] : fresh) {
    if (known->insert_or_assign(topic, std::move(queues)).second) ++appeared;
  }
  return appeared;
}

std::vector<MessageQueue> AllocateForMember(const AllocateStrategy& strategy,
                                            const std::string& group, const std::string& client_id,
                                            std::vector<MessageQueue> all_queues,
                                            std::vector<std::string> consumer_ids) {
  std::sort(all_queues.begin(), all_queues.end());
  std::sort(consumer_ids.begin(), consumer_ids.end());
  std::vector<MessageQueue> mine = strategy.Allocate(group, client_id, all_queues, consumer_ids);
  // A user's strategy (or a config listing a queue twice) may answer a queue twice or one the
  // topic does not have: each would become a second pull loop or a loop on nothing.
  std::sort(mine.begin(), mine.end());
  mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
  std::erase_if(mine, [&](const MessageQueue& queue) {
    return !std::binary_search(all_queues.begin(), all_queues.end(), queue);
  });
  return mine;
}

void SchedulePeriodic(TaskExecutor* executor, std::chrono::milliseconds interval,
                      std::function<void()> work) {
  auto shared_work = std::make_shared<std::function<void()>>(std::move(work));
  // The task re-submits itself after each run; Stop drops the pending one, and with it the
  // last reference to `run`.
  auto run = std::make_shared<std::function<void()>>();
  *run = [executor, interval, shared_work, weak_run = std::weak_ptr<std::function<void()>>(run)] {
    (*shared_work)();
    if (auto again = weak_run.lock()) {
      executor->SubmitAfter(interval, [again] { (*again)(); });
    }
  };
  executor->SubmitAfter(interval, [run] { (*run)(); });
}

}  // namespace mqclient
