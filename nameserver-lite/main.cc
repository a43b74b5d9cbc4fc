// mqnamesrv: the name server, with RocketMQ's namesrv.conf keys.
//
//   mqnamesrv                     listen on :9876
//   mqnamesrv -c namesrv.conf     listenPort=..., scanNotActiveBrokerInterval=...
//   mqnamesrv --daemon --pid-file /run/mqnamesrv.pid --log-file namesrv.log
//
// Several name servers run independently; each broker registers with all of them.
// SIGTERM or SIGINT stop it (exit 0).
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "name_server.h"
#include "namesrv_config.h"
#include "server_common/daemon.h"
#include "server_common/logger.h"
#include "server_common/properties.h"
#include "server_common/server_process.h"

namespace {

constexpr std::string_view kComponent = "mqnamesrv";

int Fail(const std::string& what, const mqstore::Status& status) {
  std::cerr << "mqnamesrv: " << what << ": " << status.ToString() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "mqnamesrv: a RocketMQ-compatible name server (broker registry and topic routes).\n"
      "Brokers register every 30 s; one silent for 120 s is dropped."};
  std::string config_file;
  bool daemon = false;
  std::string pid_file;
  std::string log_file;
  std::optional<int> port_flag;
  app.add_option("-c,--configFile", config_file, "namesrv.conf (listenPort, ...)")
      ->check(CLI::ExistingFile);
  app.add_option("--listenPort", port_flag, "port to listen on (overrides the config)")
      ->check(CLI::Range(0, 65535));
  app.add_flag("-d,--daemon", daemon, "detach and run in the background");
  app.add_option("--pid-file", pid_file,
                 "pid file held while running (default with --daemon: ./mqnamesrv.pid)");
  app.add_option("--log-file", log_file,
                 "write the log here, rotated (default: stderr; with --daemon: "
                 "./logs/mqnamesrv.log)");
  CLI11_PARSE(app, argc, argv);

  mqserver::Properties properties;
  if (!config_file.empty()) {
    auto parsed = mqserver::ParsePropertiesFile(config_file);
    if (!parsed.ok()) return Fail("reading " + config_file, parsed.status());
    properties = std::move(parsed).value();
  }
  std::vector<std::string> warnings;
  auto loaded = mqnamesrv::LoadNamesrvConfig(properties, &warnings);
  if (!loaded.ok()) return Fail("bad configuration", loaded.status());
  mqnamesrv::NamesrvConfig config = std::move(loaded).value();
  if (port_flag) config.listenPort = *port_flag;
  if (mqstore::Status valid = mqnamesrv::ValidateNamesrvConfig(config); !valid.ok()) {
    return Fail("bad configuration", valid);
  }

  mqserver::ServerProcessOptions process_options;
  process_options.program = "mqnamesrv";
  process_options.daemon = daemon;
  process_options.pid_file = pid_file;
  process_options.log_file = log_file;
  process_options.warnings = std::move(warnings);
  auto process = mqserver::ServerProcess::Begin(std::move(process_options));
  if (!process.ok()) return 1;  // reported
  mqserver::Logger& log = mqserver::DefaultLogger();

  mqnamesrv::NameServerOptions options;
  options.bind_address = config.bindAddress;
  options.port = static_cast<uint16_t>(config.listenPort);
  options.scan_interval = std::chrono::milliseconds(config.scanNotActiveBrokerInterval);
  options.enable_all_topic_list = config.enableAllTopicList;
  auto server = mqnamesrv::NameServer::Start(options);
  if (!server.ok()) return (*process)->FailStart("starting", server.status());
  log.Info(kComponent, "ready", {{"port", (*server)->port()}});
  (*process)->Ready();

  int signal = (*process)->WaitForShutdown();
  log.Info(kComponent, "stopping", {{"signal", mqserver::ShutdownSignals::SignalName(signal)}});
  (*server)->Stop();
  log.Info(kComponent, "stopped");
  return 0;
}
