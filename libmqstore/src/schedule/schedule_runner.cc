#include "schedule/schedule_runner.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "mqstore/thread_name.h"

namespace mqstore {

ScheduleRunner::ScheduleRunner(Clock* clock, std::vector<ScheduledTask*> tasks,
                               const ScheduleRunnerOptions& options)
    : clock_(clock), tasks_(std::move(tasks)), options_(options) {}

ScheduleRunner::~ScheduleRunner() { Stop(); }

Status ScheduleRunner::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return Status::FailedPrecondition("schedule runner already started");
  stopping_ = false;
  thread_ = std::thread([this] {
    NameThisThread("mq-schedule");
    Loop();
  });
  return Status::OK();
}

void ScheduleRunner::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  wake_.notify_one();
}

uint64_t ScheduleRunner::RequestRound() {
  uint64_t round;
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
    round = rounds_started_ + 1;
  }
  wake_.notify_one();
  return round;
}

void ScheduleRunner::Stop() {
  std::thread joining;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    joining = std::move(thread_);
  }
  wake_.notify_one();
  if (joining.joinable()) joining.join();
}

uint64_t ScheduleRunner::rounds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rounds_;
}

bool ScheduleRunner::AwaitRound(uint64_t round, int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return round_done_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                              [&] { return rounds_ > round; });
}

Status ScheduleRunner::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

void ScheduleRunner::Loop() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      notified_ = false;  // this round sees every arrival notified so far
      ++rounds_started_;
    }
    int64_t now = clock_->NowMillis();
    std::optional<int64_t> next_due;
    Status error;
    for (ScheduledTask* task : tasks_) {
      Result<ScheduleStep> step = task->RunOnce(now);
      if (!step.ok()) {
        error = step.status().WithContext(task->name());
        continue;
      }
      if (step->next_due_ms) {
        next_due = next_due ? std::min(*next_due, *step->next_due_ms) : *step->next_due_ms;
      }
    }
    int64_t wait_ms = options_.max_idle_ms;
    if (!error.ok()) {
      wait_ms = options_.retry_after_error_ms;
    } else if (next_due) {
      wait_ms = std::clamp<int64_t>(*next_due - clock_->NowMillis(), 0, options_.max_idle_ms);
    }
    std::unique_lock<std::mutex> lock(mu_);
    last_error_ = error;
    ++rounds_;
    round_done_.notify_all();
    wake_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                   [&] { return stopping_ || notified_; });
  }
}

}  // namespace mqstore
