#include "store/store_maintenance.h"

#include <algorithm>

#include "mqstore/thread_name.h"

namespace mqstore {

StoreMaintenance::StoreMaintenance(std::vector<Task> tasks) : tasks_(std::move(tasks)) {
  thread_ = std::thread([this] {
    NameThisThread("mq-maintenance");
    Loop();
  });
}

StoreMaintenance::~StoreMaintenance() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void StoreMaintenance::Loop() {
  using Clock = std::chrono::steady_clock;
  std::vector<Clock::time_point> due(tasks_.size(), Clock::now());
  for (size_t i = 0; i < tasks_.size(); ++i) due[i] += tasks_[i].period;
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    auto next = *std::min_element(due.begin(), due.end());
    if (cv_.wait_until(l, next, [&] { return stop_; })) break;
    l.unlock();
    auto now = Clock::now();
    for (size_t i = 0; i < tasks_.size(); ++i) {
      if (now >= due[i]) {
        tasks_[i].run();
        due[i] = Clock::now() + tasks_[i].period;
      }
    }
    l.lock();
  }
}

}  // namespace mqstore
