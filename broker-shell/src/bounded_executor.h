// BoundedExecutor: a fixed pool of threads taking tasks from a queue of bounded length.
//
// The broker runs every request that may block (a SYNC_FLUSH put waits for the disk, a read
// may fault pages in) on one of these, one pool per kind of request as RocketMQ does. A full
// queue refuses the task at once, so the caller can answer SYSTEM_BUSY instead of queueing
// without bound when the store cannot keep up.
#ifndef MQBROKER_BOUNDED_EXECUTOR_H_
#define MQBROKER_BOUNDED_EXECUTOR_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mqbroker {

class BoundedExecutor {
 public:
  using Task = std::function<void()>;

  // `threads` >= 1, `capacity` >= 1 queued tasks (running ones not counted).
  BoundedExecutor(std::string name, int threads, size_t capacity);
  ~BoundedExecutor();  // Shutdown()

  BoundedExecutor(const BoundedExecutor&) = delete;
  BoundedExecutor& operator=(const BoundedExecutor&) = delete;

  // Queues `task`; false (task not queued) when the queue is full or the executor is shut
  // down.
  bool TrySubmit(Task task);

  // Runs every queued task, then joins the threads. Later TrySubmit calls return false.
  void Shutdown();

  size_t queued() const;
  const std::string& name() const { return name_; }

 private:
  void Run();

  const std::string name_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Task> queue_;
  bool stopping_ = false;
  std::mutex shutdown_mu_;         // one Shutdown joins at a time
  std::vector<std::thread> threads_;  // guarded by shutdown_mu_ after construction
};

}  // namespace mqbroker

#endif  // MQBROKER_BOUNDED_EXECUTOR_H_
