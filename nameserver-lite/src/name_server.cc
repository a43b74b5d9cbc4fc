#include "name_server.h"

#include <utility>

#include "mqstore/thread_name.h"
#include "namesrv_processor.h"
#include "remoting/log_sink.h"

namespace mqnamesrv {

mqstore::Result<std::unique_ptr<NameServer>> NameServer::Start(const NameServerOptions& options) {
  if (options.io_threads < 1) return mqstore::Status::InvalidArgument("io_threads must be >= 1");
  if (options.broker_expiry.count() <= 0) {
    return mqstore::Status::InvalidArgument("broker_expiry must be positive");
  }
  if (options.scan_interval.count() <= 0) {
    return mqstore::Status::InvalidArgument("scan_interval must be positive");
  }
  auto registry = std::make_shared<RouteRegistry>(options.broker_expiry);
  ProcessorOptions processor_options;
  processor_options.enable_all_topic_list = options.enable_all_topic_list;
  auto processor = std::make_shared<NameServerProcessor>(registry, processor_options);

  mqremoting::ServerOptions server_options;
  server_options.bind_address = options.bind_address;
  server_options.port = options.port;
  server_options.io_threads = options.io_threads;
  auto server = mqremoting::RemotingServer::Start(server_options, std::move(processor));
  if (!server.ok()) return server.status();

  std::unique_ptr<NameServer> name_server(new NameServer(options, std::move(registry)));
  name_server->server_ = std::move(server).value();
  name_server->port_ = name_server->server_->port();
  name_server->scanner_ = std::thread([ns = name_server.get()] {
    mqstore::NameThisThread("mq-ns-scan");
    ns->ScanLoop();
  });
  mqremoting::Log(mqremoting::LogLevel::kInfo, "name server listening on " + options.bind_address +
                                                   ":" + std::to_string(name_server->port_));
  return name_server;
}

NameServer::NameServer(const NameServerOptions& options, std::shared_ptr<RouteRegistry> registry)
    : options_(options), registry_(std::move(registry)) {}

NameServer::~NameServer() { Stop(); }

void NameServer::Stop() {
  std::lock_guard stop_lock(stop_mu_);
  {
    std::lock_guard lock(scan_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  scan_cv_.notify_all();
  if (scanner_.joinable()) scanner_.join();
  if (server_) server_->Stop();
}

void NameServer::ScanLoop() {
  std::unique_lock lock(scan_mu_);
  while (!scan_cv_.wait_for(lock, options_.scan_interval, [this] { return stopping_; })) {
    lock.unlock();
    for (const RemovedBroker& broker : registry_->ExpireInactive(SteadyNowMillis())) {
      mqremoting::Log(
          mqremoting::LogLevel::kWarn,
          "broker expired, silent for longer than its expiry: cluster=" + broker.cluster_name +
              " name=" + broker.broker_name + " addr=" + broker.broker_addr);
    }
    lock.lock();
  }
}

}  // namespace mqnamesrv
