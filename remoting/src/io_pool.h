// The transport threads: one asio::io_context run by N threads. Servers and clients each own
// one (or share one); connections keep it alive (shared_ptr) so that a socket never outlives
// its context.
#ifndef REMOTING_IO_POOL_H_
#define REMOTING_IO_POOL_H_

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mqremoting::internal {

class IoPool {
 public:
  // A pool of `threads` threads (at least one), not yet started. The last reference may be
  // dropped anywhere, a handler on one of the pool's own threads included (a connection's
  // last handler): the pool is then destroyed on a thread of its own, which can join them.
  // Its threads are named "mq-<role>-<i>" ("mq-server-io-0").
  static std::shared_ptr<IoPool> Create(int threads, std::string role = "io");
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  asio::io_context& context() { return context_; }

  // Starts the threads. Called once.
  void Start();

  // Lets the threads finish the work under way (the owner has closed its sockets and
  // cancelled its timers) for up to `grace`, then stops the context, joins the threads and runs
  // what completed meanwhile, so no handler is left holding a connection. Idempotent. Must
  // not be called on one of this pool's threads (it would join itself); then it only stops.
  void Stop(std::chrono::milliseconds grace);

  // True on a thread of any IoPool (blocking there could stall or deadlock a transport).
  static bool OnTransportThread();
  // True on a thread of this pool.
  bool OnOwnThread() const;

 private:
  IoPool(int threads, std::string role);
  void RunThread();

  asio::io_context context_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  const int thread_count_;
  const std::string role_;  // in the threads' names
  std::vector<std::thread> threads_;

  std::mutex mu_;
  std::condition_variable threads_done_;
  int running_ = 0;
  bool stopped_ = false;
};

}  // namespace mqremoting::internal

#endif  // REMOTING_IO_POOL_H_
