// NameServerRegistrar: keeps this broker registered with every configured name server.
//
// Registers at start, every registerNameServerPeriod (30 s) after that, and at once when the
// topic table changes (a new topic must be routable before its first client asks); at
// shutdown it unregisters. Each name server is independent: one that is down does not delay
// the others, and it gets the full registration again when it comes back.
#ifndef MQBROKER_NAMESERVER_REGISTRAR_H_
#define MQBROKER_NAMESERVER_REGISTRAR_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker_context.h"
#include "mqstore/status.h"
#include "remoting/route_data.h"

namespace mqremoting {
class RemotingClient;
}  // namespace mqremoting

namespace mqbroker {

class TopicManager;

class NameServerRegistrar {
 public:
  // `client` and `topics` must outlive this object.
  NameServerRegistrar(mqremoting::RemotingClient* client, std::vector<std::string> name_servers,
                      BrokerIdentity identity, std::string ha_server_addr, TopicManager* topics,
                      std::chrono::milliseconds period);
  ~NameServerRegistrar();  // Stop()

  // Starts the background thread (first registration at once).
  void Start();

  // Registers with every name server now and waits for their answers. OK when every one
  // accepted; otherwise the first error, naming the name server (the others are still
  // registered). OK with no name servers.
  mqstore::Status RegisterNow();

  // Registers when the topic table changed since the last registration. Cheap otherwise.
  mqstore::Status RegisterIfChanged();

  // Stops the thread and unregisters from every name server (best effort). Idempotent.
  void Stop();

  const std::vector<std::string>& name_servers() const { return name_servers_; }

 private:
  void Run();
  mqremoting::RegisterBrokerBody MakeBody(int64_t* counter) const;

  mqremoting::RemotingClient* const client_;
  const std::vector<std::string> name_servers_;
  const BrokerIdentity identity_;
  const std::string ha_server_addr_;
  TopicManager* const topics_;
  const std::chrono::milliseconds period_;

  std::mutex register_mu_;           // one registration round at a time
  int64_t registered_counter_ = -1;  // data version counter of the last round

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread thread_;
};

}  // namespace mqbroker

#endif  // MQBROKER_NAMESERVER_REGISTRAR_H_
