// NameServerProcessor: answers the name server's request codes (docs/format/nameserver.md)
// from a RouteRegistry. The registry is in memory, so every request is answered on the
// transport thread that delivered it.
//
// Headers are read as RocketMQ's decodeCommandCustomHeader does: a missing required field is
// SYSTEM_ERROR naming it. A request code it does not know is REQUEST_CODE_NOT_SUPPORTED;
// oneway requests are processed but never answered. When a connection closes, the brokers
// registered over it are dropped, as RocketMQ does on channel close.
#ifndef NAMESERVER_LITE_NAMESRV_PROCESSOR_H_
#define NAMESERVER_LITE_NAMESRV_PROCESSOR_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "remoting/command.h"
#include "remoting/transport.h"
#include "route_registry.h"

namespace mqnamesrv {

struct ProcessorOptions {
  // GET_ALL_TOPIC_LIST_FROM_NAMESERVER is answered only when set (RocketMQ's
  // enableAllTopicList); otherwise it is SYSTEM_ERROR "disable".
  bool enable_all_topic_list = true;
};

// Milliseconds of a monotonic clock: the time registrations and heartbeats are stamped with.
using NowMillis = std::function<int64_t()>;
int64_t SteadyNowMillis();

class NameServerProcessor : public mqremoting::RequestHandler {
 public:
  NameServerProcessor(std::shared_ptr<RouteRegistry> registry, ProcessorOptions options = {},
                      NowMillis now_ms = SteadyNowMillis);

  void OnRequest(const std::shared_ptr<mqremoting::Connection>& connection,
                 mqremoting::RemotingCommand request) override;
  void OnClosed(const std::shared_ptr<mqremoting::Connection>& connection) override;

  // The response to `request` arriving over connection `connection_id` (also for a oneway
  // request, whose response OnRequest drops).
  mqremoting::RemotingCommand Process(const mqremoting::RemotingCommand& request,
                                      uint64_t connection_id);

 private:
  mqremoting::RemotingCommand RegisterBroker(const mqremoting::RemotingCommand& request,
                                             uint64_t connection_id);
  mqremoting::RemotingCommand UnregisterBroker(const mqremoting::RemotingCommand& request);
  mqremoting::RemotingCommand GetRouteInfo(const mqremoting::RemotingCommand& request);
  mqremoting::RemotingCommand GetClusterInfo(const mqremoting::RemotingCommand& request);
  mqremoting::RemotingCommand GetAllTopicList(const mqremoting::RemotingCommand& request);
  mqremoting::RemotingCommand BrokerHeartbeat(const mqremoting::RemotingCommand& request);
  mqremoting::RemotingCommand DeleteTopic(const mqremoting::RemotingCommand& request);

  const std::shared_ptr<RouteRegistry> registry_;
  const ProcessorOptions options_;
  const NowMillis now_ms_;
};

}  // namespace mqnamesrv

#endif  // NAMESERVER_LITE_NAMESRV_PROCESSOR_H_
