#include "server_common/server_process.h"

#include <iostream>
#include <utility>

#include "remoting/log_sink.h"
#include "server_common/logger.h"

namespace mqserver {

namespace {

void RouteRemotingLogs() {
  mqremoting::SetLogSink([](mqremoting::LogLevel level, std::string_view line) {
    LogLevel mapped = level == mqremoting::LogLevel::kError  ? LogLevel::kError
                      : level == mqremoting::LogLevel::kWarn ? LogLevel::kWarn
                                                             : LogLevel::kInfo;
    DefaultLogger().Log(mapped, "remoting", line);
  });
}

}  // namespace

ServerProcess::~ServerProcess() = default;

mqstore::Result<std::unique_ptr<ServerProcess>> ServerProcess::Begin(ServerProcessOptions options) {
  std::unique_ptr<ServerProcess> process(new ServerProcess(options.program));
  auto report = [&options](const std::string& what, const mqstore::Status& status) {
    std::cerr << options.program << ": " << what << ": " << status.ToString() << "\n";
    return status.WithContext(what);
  };
  auto signals = ShutdownSignals::Install();
  if (!signals.ok()) return report("installing signal handling", signals.status());
  process->signals_ = std::move(signals).value();
  if (options.daemon) {
    if (options.pid_file.empty()) options.pid_file = "./" + options.program + ".pid";
    if (options.log_file.empty()) options.log_file = "./logs/" + options.program + ".log";
    auto handle = Daemonize({options.log_file + ".out"});
    if (!handle.ok()) return report("daemonizing", handle.status());
    process->daemon_.emplace(std::move(handle).value());
  }
  Logger& log = DefaultLogger();
  if (!options.log_file.empty()) {
    if (mqstore::Status s = log.LogToFile({options.log_file}); !s.ok()) {
      process->FailStart("opening the log file", s);
      return s.WithContext("opening the log file");
    }
  }
  RouteRemotingLogs();
  if (!options.pid_file.empty()) {
    auto acquired = PidFile::Acquire(options.pid_file);
    if (!acquired.ok()) {
      process->FailStart("taking the pid file", acquired.status());
      return acquired.status().WithContext("taking the pid file");
    }
    process->pid_file_ = std::move(acquired).value();
  }
  for (const std::string& warning : options.warnings) log.Warn(options.program, warning);
  return process;
}

int ServerProcess::FailStart(const std::string& what, const mqstore::Status& status) {
  if (daemon_) daemon_->NotifyFailed(status.WithContext(what));
  DefaultLogger().Error(program_, what, {{"status", status}});
  std::cerr << program_ << ": " << what << ": " << status.ToString() << "\n";
  return 1;
}

void ServerProcess::Ready() {
  if (daemon_) daemon_->NotifyReady();
}

int ServerProcess::WaitForShutdown() { return signals_->Wait(); }

}  // namespace mqserver
