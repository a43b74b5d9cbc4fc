// TaskExecutor: a fixed set of threads running tasks at once or after a delay. The push
// consumer runs its listeners on one and its timed work (delayed pulls, rebalance, offset
// commits) on another, so a slow listener never holds up pulling or rebalancing.
#ifndef MQCLIENT_TASK_EXECUTOR_H_
#define MQCLIENT_TASK_EXECUTOR_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace mqclient {

class TaskExecutor {
 public:
  using Task = std::function<void()>;
  using Clock = std::chrono::steady_clock;

  explicit TaskExecutor(int threads);
  ~TaskExecutor();  // Stop()
  TaskExecutor(const TaskExecutor&) = delete;
  TaskExecutor& operator=(const TaskExecutor&) = delete;

  // Runs `task` on one of the threads; after Stop it is dropped. Returns whether accepted.
  bool Submit(Task task);
  // Runs `task` once `delay` has passed (tasks due at the same time run in submission order).
  bool SubmitAfter(std::chrono::milliseconds delay, Task task);

  // Drops every task that has not started, waits for the running ones, joins the threads.
  // Idempotent; must not be called from one of the executor's own threads.
  void Stop();

  // Tasks accepted and not yet started (ready or delayed).
  size_t pending() const;

 private:
  void Run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                           // guarded by mu_
  std::deque<Task> ready_;                          // guarded by mu_
  std::multimap<Clock::time_point, Task> delayed_;  // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace mqclient

#endif  // MQCLIENT_TASK_EXECUTOR_H_
