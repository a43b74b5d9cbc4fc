#include "task_executor.h"

#include "mqstore/thread_name.h"

namespace mqclient {

TaskExecutor::TaskExecutor(int threads) {
  if (threads < 1) threads = 1;
  threads_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i] {
      mqstore::NameThisThread("mq-task-" + std::to_string(i));
      Run();
    });
  }
}

TaskExecutor::~TaskExecutor() { Stop(); }

bool TaskExecutor::Submit(Task task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    ready_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

bool TaskExecutor::SubmitAfter(std::chrono::milliseconds delay, Task task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    delayed_.emplace(Clock::now() + delay, std::move(task));
  }
  // Every waiter may be sleeping until a later deadline than this one.
  cv_.notify_all();
  return true;
}

void TaskExecutor::Stop() {
  std::deque<Task> dropped_ready;
  std::multimap<Clock::time_point, Task> dropped_delayed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    dropped_ready.swap(ready_);
    dropped_delayed.swap(delayed_);
  }
  cv_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  // The dropped tasks are destroyed here, outside the lock: their captures may own things
  // whose destructors call back into this executor.
}

size_t TaskExecutor::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ready_.size() + delayed_.size();
}

void TaskExecutor::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (stopping_) return;
    const Clock::time_point now = Clock::now();
    // Due delayed tasks join the ready ones in deadline order.
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      ready_.push_back(std::move(delayed_.begin()->second));
      delayed_.erase(delayed_.begin());
    }
    if (!ready_.empty()) {
      Task task = std::move(ready_.front());
      ready_.pop_front();
      lock.unlock();
      task();
      task = nullptr;  // captures die before the lock is taken again
      lock.lock();
      continue;
    }
    if (delayed_.empty()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, delayed_.begin()->first);
    }
  }
}

}  // namespace mqclient
