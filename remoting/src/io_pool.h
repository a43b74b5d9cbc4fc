// The transport threads: N threads, each running an asio::io_context of its own (an event
// loop, as Netty's). Servers and clients each own a pool (or share one); connections keep it
// alive (shared_ptr) so that a socket never outlives its context.
//
// One context per thread rather than one shared by all: a shared context hands each ready
// socket to whichever thread is free, and the threads wake one another through the context's
// condition variable to do so, a futex call and a context switch per hand-off. With a
// context each, a connection's handlers all run on the thread its context was handed to, and
// a thread sleeps only in its own epoll_wait. The cost: a thread stuck in one handler stalls
// the connections of its context, not all of them (handlers must not block anyway).
#ifndef REMOTING_IO_POOL_H_
#define REMOTING_IO_POOL_H_

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <atomic>
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

  // A context for a new socket, strand or timer: the threads' contexts in turn.
  asio::io_context& NextContext();

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
  struct Loop {
    asio::io_context context{1};  // run by one thread
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  };

  IoPool(int threads, std::string role);
  void RunThread(Loop& loop);

  std::vector<std::unique_ptr<Loop>> loops_;  // one per thread; fixed after construction
  std::atomic<size_t> next_loop_{0};
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
