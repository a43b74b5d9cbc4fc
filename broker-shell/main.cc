// mqbroker: the broker, with RocketMQ's configuration keys and command-line flags.
//
//   mqbroker                        store in ./data, embedded name server on :9876
//   mqbroker -c broker.conf         RocketMQ broker.conf keys (listenPort, namesrvAddr, ...)
//   mqbroker -n host:9876           register with these name servers instead
//   mqbroker -c broker.conf --daemon --pid-file /run/mqbroker.pid --log-file broker.log
//
// The name servers come from -n, else the NAMESRV_ADDR environment variable, else the
// config's namesrvAddr, as with RocketMQ; with none of them the broker runs a name server in
// process. SIGTERM or SIGINT stop it gracefully (exit 0).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker.h"
#include "broker_config.h"
#include "name_server.h"
#include "server_common/daemon.h"
#include "server_common/logger.h"
#include "server_common/properties.h"
#include "server_common/server_process.h"

namespace {

constexpr std::string_view kComponent = "mqbroker";

int Fail(const std::string& what, const mqstore::Status& status) {
  std::cerr << "mqbroker: " << what << ": " << status.ToString() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "mqbroker: a RocketMQ-compatible broker over the mqstore storage engine.\n"
      "Speaks RocketMQ's remoting protocol on listenPort (default 10911). Without a name\n"
      "server (-n, NAMESRV_ADDR or namesrvAddr in the config) it runs one in process on\n"
      "--embedded-namesrv-port (default 9876), and clients use 127.0.0.1:9876."};
  std::string config_file;
  std::string namesrv_flag;
  bool daemon = false;
  std::string pid_file;
  std::string log_file;
  int embedded_namesrv_port = 9876;
  bool print_config = false;
  app.add_option("-c,--configFile", config_file,
                 "broker.conf with RocketMQ's keys (brokerName, listenPort, namesrvAddr, "
                 "storePathRootDir, flushDiskType, ...)")
      ->check(CLI::ExistingFile);
  app.add_option("-n,--namesrvAddr", namesrv_flag,
                 "name servers, 'host:port;host:port' (overrides NAMESRV_ADDR and the config)");
  app.add_flag("-d,--daemon", daemon,
               "detach and run in the background (pid file and log file, see below)");
  app.add_option("--pid-file", pid_file,
                 "pid file held while running; a second broker with the same file refuses to "
                 "start (default with --daemon: ./mqbroker.pid)");
  app.add_option("--log-file", log_file,
                 "write the log here, rotated at 128 MiB, 5 kept (default: stderr; with "
                 "--daemon: ./logs/mqbroker.log)");
  app.add_option("--embedded-namesrv-port", embedded_namesrv_port,
                 "port of the in-process name server when none is configured")
      ->check(CLI::Range(0, 65535));
  app.add_flag("-p,--printConfigItem", print_config, "print the effective config and exit");
  CLI11_PARSE(app, argc, argv);

  // ---- Configuration
  mqserver::Properties properties;
  if (!config_file.empty()) {
    auto parsed = mqserver::ParsePropertiesFile(config_file);
    if (!parsed.ok()) return Fail("reading " + config_file, parsed.status());
    properties = std::move(parsed).value();
  }
  std::vector<std::string> warnings;
  auto loaded = mqbroker::LoadBrokerConfig(properties, &warnings);
  if (!loaded.ok()) return Fail("bad configuration", loaded.status());
  mqbroker::BrokerConfig config = std::move(loaded).value();
  if (!namesrv_flag.empty()) {
    config.namesrvAddr = namesrv_flag;
  } else if (const char* env = std::getenv("NAMESRV_ADDR"); env != nullptr && *env != '\0') {
    config.namesrvAddr = env;
  }
  const bool embedded_namesrv = mqbroker::NamesrvAddresses(config).empty();
  if (embedded_namesrv) {
    config.namesrvAddr = "127.0.0.1:" + std::to_string(embedded_namesrv_port);
  }
  if (mqstore::Status valid = mqbroker::ValidateBrokerConfig(config); !valid.ok()) {
    return Fail("bad configuration", valid);
  }
  if (print_config) {
    std::cout << "brokerClusterName=" << config.brokerClusterName << "\n"
              << "brokerName=" << config.brokerName << "\n"
              << "brokerId=" << config.brokerId << "\n"
              << "brokerIP1=" << config.brokerIP1 << "\n"
              << "listenPort=" << config.listenPort << "\n"
              << "namesrvAddr=" << config.namesrvAddr << (embedded_namesrv ? " (embedded)" : "")
              << "\n"
              << "storePathRootDir=" << config.storePathRootDir << "\n"
              << "flushDiskType=" << mqbroker::FlushDiskTypeName(config.flushDiskType) << "\n"
              << "brokerRole=" << mqbroker::BrokerRoleName(config.brokerRole) << "\n";
    return 0;
  }

  // ---- Process plumbing, before any thread exists
  mqserver::ServerProcessOptions process_options;
  process_options.program = "mqbroker";
  process_options.daemon = daemon;
  process_options.pid_file = pid_file;
  process_options.log_file = log_file;
  process_options.warnings = std::move(warnings);
  auto process = mqserver::ServerProcess::Begin(std::move(process_options));
  if (!process.ok()) return 1;  // reported
  mqserver::Logger& log = mqserver::DefaultLogger();

  // ---- Servers
  std::unique_ptr<mqnamesrv::NameServer> namesrv;
  if (embedded_namesrv) {
    mqnamesrv::NameServerOptions options;
    options.bind_address = config.bindAddress;
    options.port = static_cast<uint16_t>(embedded_namesrv_port);
    auto started = mqnamesrv::NameServer::Start(options);
    if (!started.ok())
      return (*process)->FailStart("starting the embedded name server", started.status());
    namesrv = std::move(started).value();
    log.Info(kComponent, "embedded name server started", {{"port", namesrv->port()}});
  }
  auto broker = mqbroker::Broker::Start(config);
  if (!broker.ok()) return (*process)->FailStart("starting the broker", broker.status());
  log.Info(kComponent, "ready", {{"port", (*broker)->port()}, {"namesrvAddr", config.namesrvAddr}});
  (*process)->Ready();

  int signal = (*process)->WaitForShutdown();
  log.Info(kComponent, "stopping", {{"signal", mqserver::ShutdownSignals::SignalName(signal)}});
  mqstore::Status closed = (*broker)->Shutdown();
  if (namesrv) namesrv->Stop();
  if (!closed.ok()) {
    log.Error(kComponent, "the store did not close cleanly", {{"status", closed}});
    return 1;
  }
  log.Info(kComponent, "stopped cleanly");
  return 0;
}
