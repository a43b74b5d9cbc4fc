// Daemonize, PidFile and ShutdownSignals (see daemon.h).
#include "server_common/daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <system_error>

namespace mqserver {

using mqstore::Result;
using mqstore::Status;

namespace {

std::string ErrnoMessage(int err) {
  return std::error_code(err, std::generic_category()).message();
}

void CloseIfOpen(int fd) {
  if (fd >= 0) ::close(fd);
}

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Handshake messages on the startup pipe: 'R' ready, or 'E' followed by the error.
constexpr char kReady = 'R';
constexpr char kFailed = 'E';

// The original process: reaps the intermediate child, then waits for the daemon's word and
// exits with it. Never returns.
[[noreturn]] void WaitForDaemonAndExit(int read_fd, pid_t first_child) {
  int wstatus = 0;
  while (::waitpid(first_child, &wstatus, 0) < 0 && errno == EINTR) {
  }
  std::string message;
  char buf[512];
  while (true) {
    ssize_t n = ::read(read_fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    message.append(buf, static_cast<size_t>(n));
    if (message.front() == kReady) _exit(0);
  }
  if (message.empty()) {
    WriteAll(STDERR_FILENO, "daemon exited before it was ready (see its log)\n");
  } else {
    WriteAll(STDERR_FILENO, "daemon failed to start: " + message.substr(1) + "\n");
  }
  _exit(1);
}

// Points fd `target` (0, 1 or 2) at `fd`, kept across exec.
bool Redirect(int fd, int target) {
  if (fd != target && ::dup2(fd, target) < 0) return false;
  return ::fcntl(target, F_SETFD, 0) == 0;
}

}  // namespace

// ---- Daemonize

DaemonHandle::DaemonHandle(DaemonHandle&& other) noexcept
    : notify_fd_(std::exchange(other.notify_fd_, -1)) {}

DaemonHandle& DaemonHandle::operator=(DaemonHandle&& other) noexcept {
  if (this != &other) {
    CloseIfOpen(notify_fd_);
    notify_fd_ = std::exchange(other.notify_fd_, -1);
  }
  return *this;
}

DaemonHandle::~DaemonHandle() { CloseIfOpen(notify_fd_); }

void DaemonHandle::Send(std::string_view message) {
  if (notify_fd_ < 0) return;
  WriteAll(notify_fd_, message);
  ::close(notify_fd_);
  notify_fd_ = -1;
}

void DaemonHandle::NotifyReady() { Send(std::string_view(&kReady, 1)); }

void DaemonHandle::NotifyFailed(const Status& status) {
  Send(std::string(1, kFailed) + status.ToString());
}

Result<DaemonHandle> Daemonize(const DaemonOptions& options) {
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return Status::IOError("cannot open /dev/null: " + ErrnoMessage(errno));
  int out_fd =
      options.output_file.empty()
          ? ::fcntl(null_fd, F_DUPFD_CLOEXEC, 0)
          : ::open(options.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out_fd < 0) {
    int err = errno;
    ::close(null_fd);
    return Status::IOError("cannot open daemon output file " + options.output_file + ": " +
                           ErrnoMessage(err));
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(null_fd);
    ::close(out_fd);
    return Status::IOError("cannot create the daemon startup pipe: " + ErrnoMessage(err));
  }
  // Buffered stdio output would otherwise be written once by every process that exits.
  std::fflush(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    for (int fd : {null_fd, out_fd, pipe_fds[0], pipe_fds[1]}) ::close(fd);
    return Status::IOError("fork failed: " + ErrnoMessage(err));
  }
  if (pid > 0) {
    ::close(pipe_fds[1]);
    WaitForDaemonAndExit(pipe_fds[0], pid);
  }

  // First child: a new session without a terminal, then let a grandchild go on.
  ::close(pipe_fds[0]);
  DaemonHandle handle(pipe_fds[1]);
  if (::setsid() < 0) {
    handle.NotifyFailed(Status::IOError("setsid failed: " + ErrnoMessage(errno)));
    _exit(1);
  }
  pid = ::fork();
  if (pid < 0) {
    handle.NotifyFailed(Status::IOError("second fork failed: " + ErrnoMessage(errno)));
    _exit(1);
  }
  if (pid > 0) _exit(0);  // its copy of the pipe closes; the daemon holds the other

  // The daemon.
  if (!Redirect(null_fd, STDIN_FILENO) || !Redirect(out_fd, STDOUT_FILENO) ||
      !Redirect(out_fd, STDERR_FILENO)) {
    Status s = Status::IOError("cannot redirect stdin/stdout/stderr: " + ErrnoMessage(errno));
    handle.NotifyFailed(s);
    _exit(1);
  }
  if (null_fd > STDERR_FILENO) ::close(null_fd);
  if (out_fd > STDERR_FILENO) ::close(out_fd);
  return handle;
}

// ---- PidFile

Result<std::unique_ptr<PidFile>> PidFile::Acquire(const std::string& path) {
  // The previous holder unlinks the file before it lets go of the lock, so a lock won on an
  // inode that is no longer at `path` is worthless: open again.
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::IOError("cannot open pid file " + path + ": " + ErrnoMessage(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      if (err != EWOULDBLOCK) {
        ::close(fd);
        return Status::IOError("cannot lock pid file " + path + ": " + ErrnoMessage(err));
      }
      char buf[32] = {};
      ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
      ::close(fd);
      std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      if (pid.empty()) pid = "(not yet written)";
      return Status::FailedPrecondition("already running with pid " + pid + " (pid file " + path +
                                        " is locked)");
    }
    struct stat held;
    struct stat named;
    if (::fstat(fd, &held) != 0 || ::stat(path.c_str(), &named) != 0 ||
        held.st_ino != named.st_ino || held.st_dev != named.st_dev) {
      ::close(fd);
      continue;
    }
    std::string text = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      int err = errno;
      ::close(fd);
      return Status::IOError("cannot write pid file " + path + ": " + ErrnoMessage(err));
    }
    return std::unique_ptr<PidFile>(new PidFile(path, fd));
  }
  return Status::IOError("pid file " + path + " keeps being replaced while it is locked");
}

PidFile::~PidFile() {
  // Unlink while still holding the lock; Acquire checks for exactly this.
  ::unlink(path_.c_str());
  ::close(fd_);
}

// ---- ShutdownSignals

Result<std::unique_ptr<ShutdownSignals>> ShutdownSignals::Install() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (int err = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0) {
    return Status::IOError("cannot block SIGTERM/SIGINT: " + ErrnoMessage(err));
  }
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  if (::sigaction(SIGPIPE, &ignore, nullptr) != 0) {
    return Status::IOError("cannot ignore SIGPIPE: " + ErrnoMessage(errno));
  }
  int signal_fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0) return Status::IOError("signalfd failed: " + ErrnoMessage(errno));
  int event_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd < 0) {
    int err = errno;
    ::close(signal_fd);
    return Status::IOError("eventfd failed: " + ErrnoMessage(err));
  }
  return std::unique_ptr<ShutdownSignals>(new ShutdownSignals(signal_fd, event_fd));
}

ShutdownSignals::~ShutdownSignals() {
  ::close(signal_fd_);
  ::close(event_fd_);
}

int ShutdownSignals::Wait() {
  std::optional<int> signal;
  while (!(signal = WaitMillis(-1)).has_value()) {
  }
  return *signal;
}

std::optional<int> ShutdownSignals::WaitFor(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (std::optional<int> signal =
            WaitMillis(static_cast<int>(std::max<int64_t>(left.count(), 0)));
        signal.has_value() || left.count() <= 0) {
      return signal;
    }
  }
}

std::optional<int> ShutdownSignals::WaitMillis(int timeout_ms) {
  struct pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {event_fd_, POLLIN, 0}};
  int n = ::poll(fds, 2, timeout_ms);
  if (n <= 0) return std::nullopt;  // timeout, or EINTR: the caller loops
  if (fds[0].revents & POLLIN) {
    struct signalfd_siginfo info;
    ssize_t got = ::read(signal_fd_, &info, sizeof(info));
    if (got == static_cast<ssize_t>(sizeof(info))) return static_cast<int>(info.ssi_signo);
    // Another Wait took it first (EAGAIN): fall through to the request, or wait again.
  }
  // The eventfd is never drained: once requested, every Wait returns at once.
  if (fds[1].revents & POLLIN) return 0;
  return std::nullopt;
}

void ShutdownSignals::RequestShutdown() {
  uint64_t one = 1;
  ssize_t n;
  do {
    n = ::write(event_fd_, &one, sizeof(one));
  } while (n < 0 && errno == EINTR);
}

std::string ShutdownSignals::SignalName(int signal) {
  switch (signal) {
    case 0:
      return "request";
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    default:
      return "signal " + std::to_string(signal);
  }
}

}  // namespace mqserver
