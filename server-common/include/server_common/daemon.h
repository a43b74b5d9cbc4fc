// Process plumbing for the servers: running in the background (Daemonize), one instance per
// pid file (PidFile), and orderly shutdown on SIGTERM/SIGINT (ShutdownSignals).
//
// Order in main(), before any thread is started:
//   ShutdownSignals::Install()  ->  [Daemonize()]  ->  PidFile::Acquire()  ->
//   start the server  ->  [handle.NotifyReady()]  ->  signals.Wait()  ->  stop
// Under systemd (Type=simple) the server stays in the foreground: no Daemonize.
#ifndef SERVER_COMMON_DAEMON_H_
#define SERVER_COMMON_DAEMON_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "mqstore/status.h"

namespace mqserver {

struct DaemonOptions {
  // Where the daemon's stdout and stderr go (appended, created 0644); empty: /dev/null.
  std::string output_file;
};

// The daemon's end of the startup handshake with the process that started it. The starting
// process waits until the daemon calls NotifyReady (it then exits 0) or NotifyFailed (it
// prints the error to its stderr and exits 1); if the daemon dies or drops the handle first,
// it reports that and exits 1. So `mqbroker -d` fails visibly when, say, the port is taken.
class DaemonHandle {
 public:
  explicit DaemonHandle(int notify_fd) : notify_fd_(notify_fd) {}
  DaemonHandle(DaemonHandle&& other) noexcept;
  DaemonHandle& operator=(DaemonHandle&& other) noexcept;
  DaemonHandle(const DaemonHandle&) = delete;
  DaemonHandle& operator=(const DaemonHandle&) = delete;
  ~DaemonHandle();

  void NotifyReady();
  void NotifyFailed(const mqstore::Status& status);

 private:
  void Send(std::string_view message);
  int notify_fd_;
};

// Detaches the process: fork (the original process waits for the handshake, then exits),
// setsid, fork again (the session leader exits, so the daemon can never regain a terminal).
// Returns in the daemon only, whose stdin is /dev/null and stdout/stderr options.output_file.
// The working directory is kept: config paths such as ./data are relative to it. Errors
// before the first fork (opening output_file) return in the original process.
// REQUIRES: no other thread is running (fork copies only the calling thread).
mqstore::Result<DaemonHandle> Daemonize(const DaemonOptions& options);

// A pid file held with an exclusive flock for as long as the object lives: a second instance
// using the same file fails instead of sharing the data directory. The lock goes with the
// process, so a file left behind by a crash does not block the next start. The destructor
// removes the file (clean exit).
class PidFile {
 public:
  // Creates or takes over `path` and writes our pid into it. kFailedPrecondition
  // "... already running with pid N" when another live process holds it; kIOError otherwise.
  static mqstore::Result<std::unique_ptr<PidFile>> Acquire(const std::string& path);
  ~PidFile();
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  PidFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

// SIGTERM and SIGINT as a value to wait for instead of an asynchronous handler.
//
// Install blocks both signals in the calling thread, and every thread started afterwards
// inherits the mask, so they stay pending until Wait reads them; it also ignores SIGPIPE
// (a closed socket is an error return from write, not a process kill). Call it from main()
// before any thread exists; one instance per process. The signals stay blocked after the
// object is gone (a shutting-down server is not killed halfway by a second Ctrl-C; use
// SIGKILL for that).
class ShutdownSignals {
 public:
  static mqstore::Result<std::unique_ptr<ShutdownSignals>> Install();
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  // Blocks until SIGTERM or SIGINT arrives or RequestShutdown is called; returns the signal
  // number, or 0 for RequestShutdown.
  int Wait();
  // Like Wait, but gives up after `timeout`: nullopt.
  std::optional<int> WaitFor(std::chrono::milliseconds timeout);
  // Makes a Wait in any thread return 0 (also one that starts later). Safe from any thread.
  void RequestShutdown();

  // "SIGTERM", "SIGINT", "request" (0), or "signal N".
  static std::string SignalName(int signal);

 private:
  ShutdownSignals(int signal_fd, int event_fd) : signal_fd_(signal_fd), event_fd_(event_fd) {}
  // Waits up to timeout_ms (-1: forever).
  std::optional<int> WaitMillis(int timeout_ms);

  int signal_fd_;
  int event_fd_;
};

}  // namespace mqserver

#endif  // SERVER_COMMON_DAEMON_H_
