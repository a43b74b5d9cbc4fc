// NameServerClient: finds topic routes and cluster tables on one of several name servers,
// moving on to the next address when one does not answer, and caches routes until asked to
// refresh them. A version number that moves whenever a cached route changes lets callers keep
// what they derive from routes (a producer's queue list) until it may be stale.
#ifndef MQCLIENT_NAME_SERVER_CLIENT_H_
#define MQCLIENT_NAME_SERVER_CLIENT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "mqclient/message.h"
#include "mqstore/status.h"
#include "remoting/heartbeat_data.h"
#include "remoting/route_data.h"
#include "remoting/transport.h"

namespace mqclient {

using mqstore::Result;
using mqstore::Status;

// Splits "host:port;host:port" (RocketMQ's namesrvAddr) into addresses; empty parts dropped.
std::vector<std::string> SplitAddressList(const std::string& list);

class NameServerClient {
 public:
  // `client` must outlive this object.
  NameServerClient(std::vector<std::string> addresses, mqremoting::RemotingClient* client,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

  // The route of `topic`: cached, or fetched when absent or `refresh`. kNotFound when the name
  // servers know no such topic; kUnavailable-like kIOError when none answered.
  Result<mqremoting::TopicRouteData> GetRoute(const std::string& topic, bool refresh = false);
  // The same, without copying the route: the cached one itself, immutable and shared.
  Result<std::shared_ptr<const mqremoting::TopicRouteData>> GetSharedRoute(const std::string& topic,
                                                                           bool refresh = false);
  // Forgets a cached route (e.g. after a send to it failed).
  void Invalidate(const std::string& topic);

  // Moves (never back) whenever a cached route is stored with different content or forgotten;
  // a fetch that brings the same route leaves it. One atomic load: cheap enough to check
  // before every send. Read it before deriving data from the routes, so that a change racing
  // with the derivation makes the derived data look stale rather than current.
  uint64_t route_version() const { return route_version_.load(std::memory_order_acquire); }

  Result<mqremoting::ClusterInfo> GetClusterInfo();
  Result<mqremoting::TopicList> GetTopicList();

  // Sends `request` to the name servers in turn, starting with the last one that answered,
  // until one answers. kIOError naming every address when none does.
  Result<mqremoting::RemotingCommand> Invoke(const mqremoting::RemotingCommand& request);

  const std::vector<std::string>& addresses() const { return addresses_; }

 private:
  const std::vector<std::string> addresses_;
  mqremoting::RemotingClient* const client_;
  const std::chrono::milliseconds timeout_;
  std::mutex mu_;
  size_t preferred_ = 0;  // guarded by mu_
  std::map<std::string, std::shared_ptr<const mqremoting::TopicRouteData>, std::less<>>
      routes_;  // guarded by mu_
  std::atomic<uint64_t> route_version_{0};
};

// The master ("brokerId 0") address of `broker_name` in `route`, or "" when it has none.
std::string MasterAddress(const mqremoting::TopicRouteData& route, const std::string& broker_name);

// The queues of `topic` a consumer can read, broker by broker, in the route's order.
std::vector<MessageQueue> ReadableQueues(const mqremoting::TopicRouteData& route,
                                         const std::string& topic);

// HEART_BEAT with `heartbeat` to each of `addresses`: OK, or the first failure after trying
// every address.
Status SendHeartbeats(mqremoting::RemotingClient* remoting, const std::set<std::string>& addresses,
                      const mqremoting::HeartbeatData& heartbeat,
                      std::chrono::milliseconds timeout);

// Turns a non-success response into a Status naming `what`, the code and the remark.
Status ResponseStatus(const mqremoting::RemotingCommand& response, std::string_view what);

}  // namespace mqclient

#endif  // MQCLIENT_NAME_SERVER_CLIENT_H_
