// ClientInstance: the connections, transport threads and client id that several producers of
// one process share, as RocketMQ's MQClientInstance, which all producers of a Java process
// share unless each sets its own instanceName. On one instance every producer reaches a broker
// over one connection, so the requests of many producers that are ready together go out in one
// system call and the broker reads and answers them together. A producer without an instance
// (ProducerOptions::client_instance null) opens connections of its own, as before.
//
// Requests a broker sends to the instance's connections are passed to the producer they are
// for: CHECK_TRANSACTION_STATE by the half message's producer group (PGROUP), as Java's
// ClientRemotingProcessor picks the producer of the group. Anything else is answered
// REQUEST_CODE_NOT_SUPPORTED (a oneway request is dropped).
#ifndef MQCLIENT_CLIENT_INSTANCE_H_
#define MQCLIENT_CLIENT_INSTANCE_H_

#include <chrono>
#include <memory>
#include <string>

#include "mqstore/status.h"
#include "remoting/transport.h"

namespace mqclient {

struct ClientInstanceOptions {
  // Threads shared with other instances and clients of this process (null: one of its own).
  std::shared_ptr<mqremoting::TransportThreads> transport_threads;
  std::chrono::milliseconds connect_timeout{3000};
};

class ClientInstance {
 public:
  static std::shared_ptr<ClientInstance> Create(ClientInstanceOptions options = {});
  // Closes the connections and joins its own threads. The producers using it hold it, so this
  // runs after the last is gone; not on a transport thread (not from a send's callback).
  ~ClientInstance();
  ClientInstance(const ClientInstance&) = delete;
  ClientInstance& operator=(const ClientInstance&) = delete;

  // "<ip>@<pid>#i<n>": what every producer on the instance sends in its heartbeats, so a
  // broker sees one client per connection, as from a Java process.
  const std::string& client_id() const { return client_id_; }

  // For the producers on the instance (and their tests).
  mqremoting::RemotingClient* remoting() { return remoting_.get(); }
  // Requests for producer group `group` go to `handler` until UnregisterHandler. kInvalidArgument
  // when another producer of the group already registered one (RocketMQ refuses a second
  // producer of one group in a client instance).
  mqstore::Status RegisterHandler(const std::string& group,
                                  std::shared_ptr<mqremoting::RequestHandler> handler);
  void UnregisterHandler(const std::string& group);

 private:
  class Router;
  explicit ClientInstance(const ClientInstanceOptions& options);

  std::shared_ptr<Router> router_;
  std::unique_ptr<mqremoting::RemotingClient> remoting_;
  std::string client_id_;
};

}  // namespace mqclient

#endif  // MQCLIENT_CLIENT_INSTANCE_H_
