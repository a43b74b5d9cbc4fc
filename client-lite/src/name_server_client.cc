#include "mqclient/name_server_client.h"

#include <utility>

#include "remoting/codes.h"

namespace mqclient {

using mqremoting::RemotingCommand;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;

std::vector<std::string> SplitAddressList(const std::string& list) {
  std::vector<std::string> addresses;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find_first_of(";,", start);
    if (end == std::string::npos) end = list.size();
    std::string part = list.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (!part.empty()) addresses.push_back(std::move(part));
    start = end + 1;
  }
  return addresses;
}

Status ResponseStatus(const RemotingCommand& response, std::string_view what) {
  std::string message = std::string(what) + " failed: code " + std::to_string(response.code) +
                        (response.remark ? ", " + *response.remark : std::string());
  switch (response.code) {
    case response_code::kTopicNotExist:
    case response_code::kQueryNotFound:
      return Status::NotFound(message);
    case response_code::kSystemBusy:
      return Status::Busy(message);
    case response_code::kMessageIllegal:
    case response_code::kInvalidParameter:
      return Status::InvalidArgument(message);
    case response_code::kNoPermission:
      return Status::FailedPrecondition(message);
    default:
      return Status::IOError(message);
  }
}

std::string MasterAddress(const mqremoting::TopicRouteData& route, const std::string& broker_name) {
  for (const mqremoting::BrokerData& broker : route.broker_datas) {
    if (broker.broker_name != broker_name) continue;
    auto it = broker.broker_addrs.find(mqremoting::kMasterBrokerId);
    return it == broker.broker_addrs.end() ? std::string() : it->second;
  }
  return {};
}

std::vector<MessageQueue> ReadableQueues(const mqremoting::TopicRouteData& route,
                                         const std::string& topic) {
  std::vector<MessageQueue> queues;
  for (const mqremoting::QueueData& data : route.queue_datas) {
    if ((data.perm & mqremoting::perm::kRead) == 0) continue;
    for (int32_t id = 0; id < data.read_queue_nums; ++id) {
      queues.push_back({topic, data.broker_name, id});
    }
  }
  return queues;
}

Status SendHeartbeats(mqremoting::RemotingClient* remoting, const std::set<std::string>& addresses,
                      const mqremoting::HeartbeatData& heartbeat,
                      std::chrono::milliseconds timeout) {
  const std::string body = mqremoting::EncodeHeartbeatData(heartbeat);
  Status first_error;
  for (const std::string& address : addresses) {
    RemotingCommand request = RemotingCommand::Request(request_code::kHeartBeat);
    request.body = body;
    Result<RemotingCommand> response = remoting->InvokeSync(address, std::move(request), timeout);
    Status status = !response.ok() ? response.status()
                    : response->code != response_code::kSuccess
                        ? ResponseStatus(*response, "heartbeat to " + address)
                        : Status::OK();
    if (!status.ok() && first_error.ok()) first_error = status;
  }
  return first_error;
}

NameServerClient::NameServerClient(std::vector<std::string> addresses,
                                   mqremoting::RemotingClient* client,
                                   std::chrono::milliseconds timeout)
    : addresses_(std::move(addresses)), client_(client), timeout_(timeout) {}

Result<RemotingCommand> NameServerClient::Invoke(const RemotingCommand& request) {
  if (addresses_.empty()) return Status::InvalidArgument("no name server address given");
  size_t first;
  {
    std::lock_guard<std::mutex> lock(mu_);
    first = preferred_;
  }
  std::string failures;
  for (size_t i = 0; i < addresses_.size(); ++i) {
    size_t index = (first + i) % addresses_.size();
    Result<RemotingCommand> response = client_->InvokeSync(addresses_[index], request, timeout_);
    if (response.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      preferred_ = index;
      return response;
    }
    if (!failures.empty()) failures += "; ";
    failures += addresses_[index] + ": " + response.status().ToString();
  }
  return Status::IOError("no name server answered (" + failures + ")");
}

Result<mqremoting::TopicRouteData> NameServerClient::GetRoute(const std::string& topic,
                                                              bool refresh) {
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<const mqremoting::TopicRouteData> route,
                      GetSharedRoute(topic, refresh));
  return *route;
}

Result<std::shared_ptr<const mqremoting::TopicRouteData>> NameServerClient::GetSharedRoute(
    const std::string& topic, bool refresh) {
  if (!refresh) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = routes_.find(topic); it != routes_.end()) return it->second;
  }
  RemotingCommand request = RemotingCommand::Request(request_code::kGetRouteInfoByTopic);
  request.SetExt("topic", topic);
  MQ_ASSIGN_OR_RETURN(RemotingCommand response, Invoke(request));
  if (response.code != response_code::kSuccess) {
    Invalidate(topic);
    return ResponseStatus(response, "route of topic " + topic);
  }
  MQ_ASSIGN_OR_RETURN(mqremoting::TopicRouteData decoded,
                      mqremoting::DecodeJson<mqremoting::TopicRouteData>(response.BodyBytes()));
  auto route = std::make_shared<const mqremoting::TopicRouteData>(std::move(decoded));
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<const mqremoting::TopicRouteData>& cached = routes_[topic];
  // An unchanged route keeps the cached object and the version: nothing derived is stale.
  if (cached && *cached == *route) return cached;
  cached = route;
  route_version_.fetch_add(1, std::memory_order_acq_rel);
  return route;
}

void NameServerClient::Invalidate(const std::string& topic) {
  std::lock_guard<std::mutex> lock(mu_);
  if (routes_.erase(topic) != 0) route_version_.fetch_add(1, std::memory_order_acq_rel);
}

Result<mqremoting::ClusterInfo> NameServerClient::GetClusterInfo() {
  MQ_ASSIGN_OR_RETURN(RemotingCommand response,
                      Invoke(RemotingCommand::Request(request_code::kGetBrokerClusterInfo)));
  if (response.code != response_code::kSuccess) return ResponseStatus(response, "cluster info");
  return mqremoting::DecodeJson<mqremoting::ClusterInfo>(response.BodyBytes());
}

Result<mqremoting::TopicList> NameServerClient::GetTopicList() {
  MQ_ASSIGN_OR_RETURN(
      RemotingCommand response,
      Invoke(RemotingCommand::Request(request_code::kGetAllTopicListFromNameserver)));
  if (response.code != response_code::kSuccess) return ResponseStatus(response, "topic list");
  return mqremoting::DecodeJson<mqremoting::TopicList>(response.BodyBytes());
}

}  // namespace mqclient
