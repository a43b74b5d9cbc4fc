// ServerProcess: the plumbing around a server's main() that mqbroker and mqnamesrv share —
// shutdown signals, --daemon, the log file, remoting's log lines routed into the logger, and
// the pid file — in the order daemon.h requires, with start failures reported the same way
// by both (stderr, the log, and the daemon's waiting parent).
//
//   auto process = mqserver::ServerProcess::Begin(options);   // before any thread exists
//   if (!process.ok()) return 1;                              // already reported
//   ... start the server; on failure: return (*process)->FailStart("starting", status);
//   (*process)->Ready();
//   int signal = (*process)->WaitForShutdown();
#ifndef SERVER_COMMON_SERVER_PROCESS_H_
#define SERVER_COMMON_SERVER_PROCESS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mqstore/status.h"
#include "server_common/daemon.h"

namespace mqserver {

struct ServerProcessOptions {
  // The program name, for stderr messages and log lines ("mqbroker").
  std::string program;
  bool daemon = false;
  // Empty: none, or with `daemon` "./<program>.pid" and "./logs/<program>.log".
  std::string pid_file;
  std::string log_file;
  // Config warnings to log once the log is set up.
  std::vector<std::string> warnings;
};

class ServerProcess {
 public:
  // Installs the shutdown signals, daemonizes, opens the log file, routes remoting's log
  // lines into DefaultLogger(), takes the pid file and logs the warnings. Errors are already
  // reported (stderr, the log, the daemon's parent) when this returns them.
  // REQUIRES: no other thread is running.
  static mqstore::Result<std::unique_ptr<ServerProcess>> Begin(ServerProcessOptions options);

  // Reports that the server could not start (stderr, the log, the daemon's parent); returns
  // the exit code to return from main (1).
  int FailStart(const std::string& what, const mqstore::Status& status);
  // Tells a waiting daemon parent that the server is up.
  void Ready();
  // Blocks until SIGTERM or SIGINT; returns the signal.
  int WaitForShutdown();

  ~ServerProcess();

 private:
  explicit ServerProcess(std::string program) : program_(std::move(program)) {}

  const std::string program_;
  std::unique_ptr<ShutdownSignals> signals_;
  std::optional<DaemonHandle> daemon_;
  std::unique_ptr<PidFile> pid_file_;
};

}  // namespace mqserver

#endif  // SERVER_COMMON_SERVER_PROCESS_H_
