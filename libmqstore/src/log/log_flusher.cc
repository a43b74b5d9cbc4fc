#include "log/log_flusher.h"

#include <algorithm>
#include <chrono>

namespace mqstore {

Status LogFlusher::WaitDurable(int64_t offset, int timeout_ms) {
  if (durable() >= offset) return Status::OK();
  using SteadyClock = std::chrono::steady_clock;
  auto deadline = SteadyClock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    if (!error_.ok()) return error_;
    int64_t durable_now = durable_.load(std::memory_order_acquire);
    if (durable_now >= offset) return Status::OK();
    int64_t appended = log_->appended();
    if (!syncing_ && appended > durable_now) {
      // Become the leader for everything appended up to now.
      syncing_ = true;
      l.unlock();
      Status s = log_->Sync(durable_now, appended);
      l.lock();
      syncing_ = false;
      if (s.ok()) {
        durable_.store(appended, std::memory_order_release);
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
    if (timeout_ms >= 0 && SteadyClock::now() >= deadline) {
      return Status::TimedOut("offset " + std::to_string(offset) + " not durable within " +
                              std::to_string(timeout_ms) + " ms");
    }
    if (syncing_) {
      // The leader's sync may cover `offset`; it wakes everyone when done.
      if (timeout_ms < 0) {
        cv_.wait(l);
      } else {
        cv_.wait_until(l, deadline);
      }
    } else {
      // `offset` is beyond the appended end: nothing to sync until more is appended, and
      // appends do not signal this condition variable, so look again shortly.
      auto until = SteadyClock::now() + std::chrono::milliseconds(1);
      cv_.wait_until(l, timeout_ms < 0 ? until : std::min(until, deadline));
    }
  }
}

}  // namespace mqstore
