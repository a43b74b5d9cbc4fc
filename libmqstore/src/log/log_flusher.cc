#include "log/log_flusher.h"

#include <algorithm>
#include <chrono>

namespace mqstore {

LogFlusher::~LogFlusher() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LogFlusher::SyncLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    work_cv_.wait(l, [&] {
      return stop_ || (error_.ok() && requested_ > durable_.load(std::memory_order_acquire));
    });
    if (stop_) return;
    // One sync covers every request made so far, and everything appended meanwhile.
    int64_t from = durable_.load(std::memory_order_acquire);
    l.unlock();
    Status s = log_->WriteOut();  // buffered mode: into the files first
    int64_t to = log_->written();
    if (s.ok() && to > from) s = log_->Sync(from, to);
    l.lock();
    if (s.ok() && to <= from) {
      // Requested past the appended end: nothing to sync until more is appended.
      requested_ = std::min(requested_, from);
      done_cv_.notify_all();
      continue;
    }
    if (s.ok()) {
      durable_.store(to, std::memory_order_release);
      sync_count_.fetch_add(1, std::memory_order_relaxed);
      // Before the waiters go: by the time a put returns, the dispatcher has been told.
      if (on_durable_) on_durable_();
    } else {
      error_ = s.WithContext("commit log sync failed; the store refuses writes");
      failed_.store(true, std::memory_order_release);
    }
    done_cv_.notify_all();
  }
}

void LogFlusher::RequestDurable(int64_t offset) {
  if (durable() >= offset) return;
  std::lock_guard<std::mutex> l(mu_);
  if (!thread_.joinable() && !stop_) thread_ = std::thread([this] { SyncLoop(); });
  if (offset > requested_) {
    requested_ = offset;
    work_cv_.notify_one();
  }
}

Status LogFlusher::WaitDurable(int64_t offset, int timeout_ms) {
  if (durable() >= offset) return Status::OK();
  using SteadyClock = std::chrono::steady_clock;
  auto deadline = SteadyClock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
  std::unique_lock<std::mutex> l(mu_);
  if (!thread_.joinable() && !stop_) thread_ = std::thread([this] { SyncLoop(); });
  while (true) {
    if (!error_.ok()) return error_;
    if (durable_.load(std::memory_order_acquire) >= offset) return Status::OK();
    if (offset > requested_) {
      requested_ = offset;
      work_cv_.notify_one();
    }
    if (timeout_ms < 0) {
      // Re-look now and then: an offset past the appended end is synced once appended.
      done_cv_.wait_for(l, std::chrono::milliseconds(10));
    } else if (done_cv_.wait_until(l, deadline) == std::cv_status::timeout &&
               durable_.load(std::memory_order_acquire) < offset && error_.ok()) {
      return Status::TimedOut("offset " + std::to_string(offset) + " not durable within " +
                              std::to_string(timeout_ms) + " ms");
    }
  }
}

}  // namespace mqstore
