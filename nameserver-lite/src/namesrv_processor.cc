#include "namesrv_processor.h"

#include <zlib.h>

#include <chrono>
#include <string>
#include <utility>

#include "remoting/codes.h"
#include "remoting/log_sink.h"
#include "remoting/route_data.h"

namespace mqnamesrv {

using mqremoting::ExtFieldReader;
using mqremoting::RemotingCommand;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;

namespace {

RemotingCommand Success(const RemotingCommand& request) {
  return RemotingCommand::ResponseTo(request, response_code::kSuccess);
}

RemotingCommand SystemError(const RemotingCommand& request, std::string_view remark) {
  return RemotingCommand::ResponseTo(request, response_code::kSystemError, remark);
}

RemotingCommand BadHeader(const RemotingCommand& request, const ExtFieldReader& fields) {
  return SystemError(request, fields.status().message());
}

// Java brokers send CRC32 & 0x7FFFFFFF (RocketMQ's UtilAll.crc32) as a signed int; other
// senders may send zlib's full value, as unsigned or signed 32-bit text. All three match.
bool BodyCrcMatches(const RemotingCommand& request, int64_t expected) {
  const std::string body = request.BodyBytes();
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  return expected == static_cast<int64_t>(crc & 0x7FFFFFFFu) ||
         expected == static_cast<int64_t>(crc) ||
         expected == static_cast<int64_t>(static_cast<int32_t>(crc));
}

}  // namespace

int64_t SteadyNowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

NameServerProcessor::NameServerProcessor(std::shared_ptr<RouteRegistry> registry,
                                         ProcessorOptions options, NowMillis now_ms)
    : registry_(std::move(registry)), options_(options), now_ms_(std::move(now_ms)) {}

void NameServerProcessor::OnRequest(const std::shared_ptr<mqremoting::Connection>& connection,
                                    RemotingCommand request) {
  RemotingCommand response = Process(request, connection->id());
  if (!request.is_oneway()) connection->Send(std::move(response));
}

void NameServerProcessor::OnClosed(const std::shared_ptr<mqremoting::Connection>& connection) {
  for (const RemovedBroker& broker : registry_->OnConnectionClosed(connection->id())) {
    mqremoting::Log(mqremoting::LogLevel::kInfo,
                    "broker dropped, its connection " + connection->remote_address() +
                        " closed: cluster=" + broker.cluster_name + " name=" + broker.broker_name +
                        " addr=" + broker.broker_addr);
  }
}

RemotingCommand NameServerProcessor::Process(const RemotingCommand& request,
                                             uint64_t connection_id) {
  switch (request.code) {
    case request_code::kRegisterBroker:
      return RegisterBroker(request, connection_id);
    case request_code::kUnregisterBroker:
      return UnregisterBroker(request);
    case request_code::kGetRouteInfoByTopic:
      return GetRouteInfo(request);
    case request_code::kGetBrokerClusterInfo:
      return GetClusterInfo(request);
    case request_code::kGetAllTopicListFromNameserver:
      return GetAllTopicList(request);
    case request_code::kBrokerHeartbeat:
      return BrokerHeartbeat(request);
    case request_code::kDeleteTopicInNamesrv:
      return DeleteTopic(request);
    default:
      return RemotingCommand::ResponseTo(
          request, response_code::kRequestCodeNotSupported,
          " request type " + std::to_string(request.code) + " not supported");
  }
}

RemotingCommand NameServerProcessor::RegisterBroker(const RemotingCommand& request,
                                                    uint64_t connection_id) {
  ExtFieldReader fields(request);
  BrokerRegistration registration;
  registration.broker_name = fields.String("brokerName");
  registration.broker_addr = fields.String("brokerAddr");
  registration.cluster_name = fields.String("clusterName");
  registration.ha_server_addr = fields.String("haServerAddr");
  registration.broker_id = fields.Long("brokerId");
  registration.heartbeat_timeout_ms = fields.OptLong("heartbeatTimeoutMillis");
  registration.enable_acting_master = fields.OptBool("enableActingMaster").value_or(false);
  registration.connection_id = connection_id;
  const bool compressed = fields.OptBool("compressed").value_or(false);
  const int64_t body_crc = fields.OptLong("bodyCrc32").value_or(0);
  if (!fields.status().ok()) return BadHeader(request, fields);
  if (compressed) return SystemError(request, "compressed registration is not supported");
  if (body_crc != 0 && !BodyCrcMatches(request, body_crc)) {
    return SystemError(request, "crc32 not match");
  }

  // No body registers the broker with no topics and a zero data version, as RocketMQ does.
  mqremoting::RegisterBrokerBody body;
  if (request.body_size() > 0) {
    auto decoded = mqremoting::DecodeJson<mqremoting::RegisterBrokerBody>(request.BodyBytes());
    if (!decoded.ok()) {
      return SystemError(request,
                         "register broker body: " + std::string(decoded.status().message()));
    }
    body = std::move(decoded).value();
  }

  RegisterResult result = registry_->RegisterBroker(registration, body, now_ms_());
  if (result.first_registration) {
    mqremoting::Log(
        mqremoting::LogLevel::kInfo,
        "broker registered: cluster=" + registration.cluster_name +
            " name=" + registration.broker_name + " id=" + std::to_string(registration.broker_id) +
            " addr=" + registration.broker_addr + " topics=" +
            std::to_string(body.topic_config_serialize_wrapper.topic_config_table.size()));
  }
  RemotingCommand response = Success(request);
  if (!result.master_addr.empty()) {
    response.SetExt("masterAddr", result.master_addr);
    response.SetExt("haServerAddr", result.ha_server_addr);
  }
  return response;
}

RemotingCommand NameServerProcessor::UnregisterBroker(const RemotingCommand& request) {
  ExtFieldReader fields(request);
  const std::string broker_name = fields.String("brokerName");
  const std::string broker_addr = fields.String("brokerAddr");
  const std::string cluster_name = fields.String("clusterName");
  const int64_t broker_id = fields.Long("brokerId");
  if (!fields.status().ok()) return BadHeader(request, fields);
  if (registry_->UnregisterBroker(cluster_name, broker_addr, broker_name, broker_id)) {
    mqremoting::Log(mqremoting::LogLevel::kInfo,
                    "broker unregistered: cluster=" + cluster_name + " name=" + broker_name +
                        " id=" + std::to_string(broker_id) + " addr=" + broker_addr);
  }
  return Success(request);
}

RemotingCommand NameServerProcessor::GetRouteInfo(const RemotingCommand& request) {
  ExtFieldReader fields(request);
  const std::string topic = fields.String("topic");
  if (!fields.status().ok()) return BadHeader(request, fields);
  std::optional<mqremoting::TopicRouteData> route = registry_->GetRoute(topic);
  if (!route) {
    return RemotingCommand::ResponseTo(
        request, response_code::kTopicNotExist,
        "No topic route info in name server for the topic: " + topic);
  }
  RemotingCommand response = Success(request);
  response.body = mqremoting::EncodeJson(*route);
  return response;
}

RemotingCommand NameServerProcessor::GetClusterInfo(const RemotingCommand& request) {
  RemotingCommand response = Success(request);
  response.body = mqremoting::EncodeJson(registry_->GetClusterInfo());
  return response;
}

RemotingCommand NameServerProcessor::GetAllTopicList(const RemotingCommand& request) {
  if (!options_.enable_all_topic_list) return SystemError(request, "disable");
  RemotingCommand response = Success(request);
  response.body = mqremoting::EncodeJson(registry_->GetTopicList());
  return response;
}

RemotingCommand NameServerProcessor::BrokerHeartbeat(const RemotingCommand& request) {
  ExtFieldReader fields(request);
  const std::string cluster_name = fields.String("clusterName");
  const std::string broker_addr = fields.String("brokerAddr");
  fields.String("brokerName");  // required by RocketMQ's header, not needed to find the broker
  if (!fields.status().ok()) return BadHeader(request, fields);
  // An unknown broker is not an error: it registers on its next round.
  registry_->RefreshBroker(cluster_name, broker_addr, now_ms_());
  return Success(request);
}

RemotingCommand NameServerProcessor::DeleteTopic(const RemotingCommand& request) {
  ExtFieldReader fields(request);
  const std::string topic = fields.String("topic");
  std::optional<std::string> cluster_name = fields.OptString("clusterName");
  if (!fields.status().ok()) return BadHeader(request, fields);
  if (cluster_name && cluster_name->empty()) cluster_name.reset();  // blank = every cluster
  registry_->DeleteTopic(topic, cluster_name);
  return Success(request);
}

}  // namespace mqnamesrv
