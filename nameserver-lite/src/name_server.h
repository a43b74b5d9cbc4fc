// NameServer: a running name server: a RemotingServer answering with a NameServerProcessor,
// and a background thread that drops brokers silent for longer than their expiry. Used by the
// mqnamesrv executable and by a broker that embeds a name server when none is configured.
#ifndef NAMESERVER_LITE_NAME_SERVER_H_
#define NAMESERVER_LITE_NAME_SERVER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "mqstore/status.h"
#include "remoting/transport.h"
#include "route_registry.h"

namespace mqnamesrv {

struct NameServerOptions {
  std::string bind_address = "0.0.0.0";
  uint16_t port = 9876;  // 0 = any free port (tests); see NameServer::port()
  int io_threads = 2;
  // A broker silent for longer than this (and not asking for its own heartbeatTimeoutMillis)
  // is dropped.
  std::chrono::milliseconds broker_expiry{120000};
  // How often silent brokers are looked for.
  std::chrono::milliseconds scan_interval{5000};
  bool enable_all_topic_list = true;
};

class NameServer {
 public:
  // Binds and starts serving. kInvalidArgument for options out of range, kIOError when the
  // port cannot be bound.
  static mqstore::Result<std::unique_ptr<NameServer>> Start(const NameServerOptions& options);

  ~NameServer();
  NameServer(const NameServer&) = delete;
  NameServer& operator=(const NameServer&) = delete;

  // The bound port (the chosen one when options.port was 0).
  uint16_t port() const { return port_; }
  // The tables being served (an embedding broker or a test may look).
  RouteRegistry& registry() { return *registry_; }

  // Closes every connection and joins the transport and scan threads. Idempotent.
  void Stop();

 private:
  NameServer(const NameServerOptions& options, std::shared_ptr<RouteRegistry> registry);
  void ScanLoop();

  const NameServerOptions options_;
  const std::shared_ptr<RouteRegistry> registry_;
  std::unique_ptr<mqremoting::RemotingServer> server_;
  uint16_t port_ = 0;

  std::mutex stop_mu_;  // serializes Stop
  std::mutex scan_mu_;
  std::condition_variable scan_cv_;
  bool stopping_ = false;  // guarded by scan_mu_
  std::thread scanner_;
};

}  // namespace mqnamesrv

#endif  // NAMESERVER_LITE_NAME_SERVER_H_
