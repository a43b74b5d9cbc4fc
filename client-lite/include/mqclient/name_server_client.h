// NameServerClient: finds topic routes and cluster tables on one of several name servers,
// moving on to the next address when one does not answer, and caches routes until asked to
// refresh them.
#ifndef MQCLIENT_NAME_SERVER_CLIENT_H_
#define MQCLIENT_NAME_SERVER_CLIENT_H_

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "mqstore/status.h"
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
  // Forgets a cached route (e.g. after a send to it failed).
  void Invalidate(const std::string& topic);

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
  size_t preferred_ = 0;                                      // guarded by mu_
  std::map<std::string, mqremoting::TopicRouteData> routes_;  // guarded by mu_
};

// The master ("brokerId 0") address of `broker_name` in `route`, or "" when it has none.
std::string MasterAddress(const mqremoting::TopicRouteData& route, const std::string& broker_name);

// Turns a non-success response into a Status naming `what`, the code and the remark.
Status ResponseStatus(const mqremoting::RemotingCommand& response, std::string_view what);

}  // namespace mqclient

#endif  // MQCLIENT_NAME_SERVER_CLIENT_H_
