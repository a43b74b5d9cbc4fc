#include "server_common/daemon.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "support/test_util.h"

namespace mqserver {
namespace {

using mqstore::test::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Reads `fd` until EOF (every writer has closed it).
std::string ReadAll(int fd) {
  std::string out;
  char buf[256];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void WriteString(int fd, const std::string& s) {
  ssize_t n = ::write(fd, s.data(), s.size());
  (void)n;
}

int ExitCodeOf(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// ---- PidFile

TEST(PidFileTest, HoldsOurPidAndIsRemovedAtTheEnd) {
  TempDir dir;
  std::string path = dir.Sub("broker.pid");
  {
    auto pid_file = PidFile::Acquire(path);
    ASSERT_TRUE(pid_file.ok()) << pid_file.status().ToString();
    EXPECT_EQ(ReadFile(path), std::to_string(::getpid()) + "\n");
    EXPECT_EQ((*pid_file)->path(), path);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(PidFileTest, ASecondAcquireFailsNamingTheHolder) {
  TempDir dir;
  std::string path = dir.Sub("broker.pid");
  auto first = PidFile::Acquire(path);
  ASSERT_TRUE(first.ok());
  auto second = PidFile::Acquire(path);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsFailedPrecondition()) << second.status().ToString();
  EXPECT_NE(
      second.status().message().find("already running with pid " + std::to_string(::getpid())),
      std::string_view::npos)
      << second.status().ToString();
  EXPECT_NE(second.status().message().find(path), std::string_view::npos);
  // The loser must not have disturbed the holder's file.
  EXPECT_EQ(ReadFile(path), std::to_string(::getpid()) + "\n");
  first->reset();
  EXPECT_TRUE(PidFile::Acquire(path).ok());
}

TEST(PidFileTest, AnotherProcessHoldsItUntilItDies) {
  TempDir dir;
  std::string path = dir.Sub("broker.pid");
  int ready[2];
  int hold[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(hold), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto pid_file = PidFile::Acquire(path);
    WriteString(ready[1], pid_file.ok() ? "y" : "n");
    char c;
    ssize_t n = ::read(hold[0], &c, 1);  // until the parent says so (or dies)
    (void)n;
    _exit(0);
  }
  ::close(ready[1]);
  ::close(hold[0]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');

  auto ours = PidFile::Acquire(path);
  ASSERT_FALSE(ours.ok());
  EXPECT_NE(ours.status().message().find("already running with pid " + std::to_string(child)),
            std::string_view::npos)
      << ours.status().ToString();

  // A crash leaves the file behind, but not the lock.
  ::kill(child, SIGKILL);
  EXPECT_EQ(ExitCodeOf(child), 128 + SIGKILL);
  ASSERT_TRUE(std::filesystem::exists(path));
  auto after = PidFile::Acquire(path);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(ReadFile(path), std::to_string(::getpid()) + "\n");
  ::close(ready[0]);
  ::close(hold[1]);
}

TEST(PidFileTest, AMissingDirectoryIsAnIOError) {
  TempDir dir;
  auto pid_file = PidFile::Acquire(dir.Sub("no/such/dir/x.pid"));
  ASSERT_FALSE(pid_file.ok());
  EXPECT_TRUE(pid_file.status().IsIOError());
}

// ---- ShutdownSignals

TEST(ShutdownSignalsTest, RequestShutdownWakesAWaitInAnotherThread) {
  auto signals = ShutdownSignals::Install();
  ASSERT_TRUE(signals.ok()) << signals.status().ToString();
  EXPECT_EQ((*signals)->WaitFor(std::chrono::milliseconds(0)), std::nullopt);
  std::thread requester([&] { (*signals)->RequestShutdown(); });
  EXPECT_EQ((*signals)->Wait(), 0);
  requester.join();
  // It stays requested.
  EXPECT_EQ((*signals)->WaitFor(std::chrono::milliseconds(0)), 0);
}

TEST(ShutdownSignalsTest, ARealSigtermIsReturnedInsteadOfKillingTheProcess) {
  auto signals = ShutdownSignals::Install();
  ASSERT_TRUE(signals.ok());
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  EXPECT_EQ((*signals)->Wait(), SIGTERM);
  ASSERT_EQ(::kill(::getpid(), SIGINT), 0);
  EXPECT_EQ((*signals)->WaitFor(std::chrono::seconds(30)), SIGINT);
  // Each signal is returned once.
  EXPECT_EQ((*signals)->WaitFor(std::chrono::milliseconds(0)), std::nullopt);
}

TEST(ShutdownSignalsTest, WaitForTimesOut) {
  auto signals = ShutdownSignals::Install();
  ASSERT_TRUE(signals.ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ((*signals)->WaitFor(std::chrono::milliseconds(30)), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(30));
}

TEST(ShutdownSignalsTest, ThreadsStartedLaterKeepTheSignalsBlockedAndSigpipeIsIgnored) {
  auto signals = ShutdownSignals::Install();
  ASSERT_TRUE(signals.ok());
  bool term_blocked = false;
  bool int_blocked = false;
  std::thread later([&] {
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    term_blocked = sigismember(&mask, SIGTERM) == 1;
    int_blocked = sigismember(&mask, SIGINT) == 1;
  });
  later.join();
  EXPECT_TRUE(term_blocked);
  EXPECT_TRUE(int_blocked);

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  errno = 0;
  EXPECT_EQ(::write(fds[1], "x", 1), -1);  // would kill the process if SIGPIPE were not ignored
  EXPECT_EQ(errno, EPIPE);
  ::close(fds[1]);
}

TEST(ShutdownSignalsTest, SignalNames) {
  EXPECT_EQ(ShutdownSignals::SignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(ShutdownSignals::SignalName(SIGINT), "SIGINT");
  EXPECT_EQ(ShutdownSignals::SignalName(0), "request");
  EXPECT_EQ(ShutdownSignals::SignalName(SIGHUP), "signal " + std::to_string(SIGHUP));
}

// ---- Daemonize, always in a forked child: the test process itself must stay attached.

struct DaemonRun {
  int starter_exit = -1;    // exit code of the process that called Daemonize
  std::string starter_err;  // its stderr
  std::string report;       // what the daemon wrote to the report pipe
};

// Forks a starter process that calls Daemonize(options) and, in the daemon, runs
// `in_daemon(handle, report_fd)`. Returns once the starter has exited and the daemon has
// closed the report pipe (exited).
DaemonRun RunDaemon(const TempDir& dir, const DaemonOptions& options,
                    const std::function<void(DaemonHandle&, int)>& in_daemon) {
  DaemonRun run;
  int report[2];
  if (::pipe(report) != 0) return run;
  std::string err_path = dir.Sub("starter.err");
  pid_t starter = ::fork();
  if (starter < 0) return run;
  if (starter == 0) {
    ::close(report[0]);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(err, STDERR_FILENO);
    auto handle = Daemonize(options);
    if (!handle.ok()) {
      WriteString(report[1], "Daemonize failed: " + handle.status().ToString());
      _exit(2);
    }
    in_daemon(*handle, report[1]);
    _exit(0);
  }
  ::close(report[1]);
  run.starter_exit = ExitCodeOf(starter);
  run.report = ReadAll(report[0]);
  ::close(report[0]);
  run.starter_err = ReadFile(err_path);
  return run;
}

TEST(DaemonizeTest, DetachesKeepsTheCwdAndRedirectsTheStandardStreams) {
  TempDir dir;
  std::string out = dir.Sub("daemon.out");
  pid_t test_pid = ::getpid();
  DaemonRun run = RunDaemon(dir, {out}, [&](DaemonHandle& handle, int report) {
    struct stat in_st;
    struct stat null_st;
    bool stdin_null = ::fstat(STDIN_FILENO, &in_st) == 0 && ::stat("/dev/null", &null_st) == 0 &&
                      in_st.st_rdev == null_st.st_rdev && S_ISCHR(in_st.st_mode);
    std::error_code ec;
    std::ostringstream facts;
    facts << "pid=" << ::getpid() << " sid=" << ::getsid(0) << " pgid=" << ::getpgrp()
          << " test_sid=" << ::getsid(test_pid) << " stdin_null=" << stdin_null
          << " cwd=" << std::filesystem::current_path(ec).string() << "\n";
    WriteString(STDOUT_FILENO, "to stdout\n");
    WriteString(STDERR_FILENO, "to stderr\n");
    handle.NotifyReady();
    WriteString(report, facts.str());
  });
  EXPECT_EQ(run.starter_exit, 0) << run.starter_err << run.report;
  std::istringstream facts(run.report);
  std::string pid, sid, pgid, test_sid, stdin_null, cwd;
  facts >> pid >> sid >> pgid >> test_sid >> stdin_null >> cwd;
  ASSERT_EQ(pid.substr(0, 4), "pid=") << run.report;
  std::string daemon_sid = sid.substr(4);
  EXPECT_NE(daemon_sid, test_sid.substr(9)) << "still in the test's session";
  EXPECT_NE(daemon_sid, pid.substr(4)) << "a session leader could acquire a terminal";
  EXPECT_EQ(stdin_null, "stdin_null=1");
  EXPECT_EQ(cwd, "cwd=" + std::filesystem::current_path().string());
  EXPECT_EQ(ReadFile(out), "to stdout\nto stderr\n");
}

TEST(DaemonizeTest, AFailureInTheDaemonIsTheStartersExitCodeAndMessage) {
  TempDir dir;
  DaemonRun run = RunDaemon(dir, {}, [](DaemonHandle& handle, int) {
    handle.NotifyFailed(mqstore::Status::FailedPrecondition("already running with pid 42"));
  });
  EXPECT_EQ(run.starter_exit, 1);
  EXPECT_EQ(run.starter_err,
            "daemon failed to start: FailedPrecondition: already running with pid 42\n");
}

TEST(DaemonizeTest, ADaemonThatDiesBeforeItIsReadyFailsTheStarter) {
  TempDir dir;
  DaemonRun run = RunDaemon(dir, {}, [](DaemonHandle&, int) { _exit(3); });
  EXPECT_EQ(run.starter_exit, 1);
  EXPECT_NE(run.starter_err.find("daemon exited before it was ready"), std::string::npos)
      << run.starter_err;
}

TEST(DaemonizeTest, AnUnopenableOutputFileFailsBeforeForking) {
  TempDir dir;
  auto handle = Daemonize({dir.Sub("no/such/dir/out.log")});
  ASSERT_FALSE(handle.ok());  // returned here, in the test process: nothing was forked
  EXPECT_TRUE(handle.status().IsIOError());
  EXPECT_NE(handle.status().message().find("no/such/dir/out.log"), std::string_view::npos);
}

}  // namespace
}  // namespace mqserver
