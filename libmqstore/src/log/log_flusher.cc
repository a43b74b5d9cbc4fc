#include "log/log_flusher.h"

#include <chrono>

namespace mqstore {

Status LogFlusher::WaitDurable(int64_t offset, int timeout_ms) {
  if (durable() >= offset) return Status::OK();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    if (!error_.ok()) return error_;
    if (durable_.load(std::memory_order_acquire) >= offset) return Status::OK();
    if (!syncing_) {
      // Become the leader for everything appended up to now.
      syncing_ = true;
      int64_t from = durable_.load(std::memory_order_acquire);
      int64_t to = log_->appended();
      l.unlock();
      Status s = log_->Sync(from, to);
      l.lock();
      syncing_ = false;
      if (s.ok()) {
        durable_.store(to, std::memory_order_release);
        sync_count_.fetch_add(1, std::memory_order_relaxed);
      } else {
        error_ = s.WithContext("commit log sync failed; the store refuses writes");
        failed_.store(true, std::memory_order_release);
      }
      cv_.notify_all();
      if (s.ok() && on_durable_) {
        l.unlock();
        on_durable_();
        l.lock();
      }
      continue;
    }
    if (timeout_ms < 0) {
      cv_.wait(l);
    } else if (cv_.wait_until(l, deadline) == std::cv_status::timeout &&
               durable_.load(std::memory_order_acquire) < offset && syncing_) {
      return Status::TimedOut("not durable within " + std::to_string(timeout_ms) + " ms");
    }
  }
}

}  // namespace mqstore
