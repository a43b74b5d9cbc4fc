// EventCount: lets a thread sleep until "something changed" without making every notifier
// pay for a futex call. Notify() is one atomic load when nobody waits, which matters on the
// append path (one notify per put).
//
//   waiter:   uint64_t key = ec.PrepareWait();
//             if (condition()) { ec.CancelWait(); ... } else ec.Wait(key, timeout);
//   notifier: make condition() true; ec.Notify();
#ifndef MQSTORE_UTIL_EVENT_COUNT_H_
#define MQSTORE_UTIL_EVENT_COUNT_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace mqstore {

class EventCount {
 public:
  uint64_t PrepareWait() {
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    return epoch_.load(std::memory_order_seq_cst);
  }
  void CancelWait() { waiters_.fetch_sub(1, std::memory_order_seq_cst); }
  // Returns when Notify() was called after PrepareWait() returned `key`, or on timeout.
  void Wait(uint64_t key, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, timeout, [&] { return epoch_.load(std::memory_order_seq_cst) != key; });
    waiters_.fetch_sub(1, std::memory_order_seq_cst);
  }
  void Notify() {
    // Orders the caller's "condition is now true" store before the waiter check (a store
    // followed by a load may otherwise be reordered, even on x86).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (waiters_.load(std::memory_order_relaxed) == 0) return;
    {
      std::lock_guard<std::mutex> l(mu_);
      epoch_.fetch_add(1, std::memory_order_seq_cst);
    }
    cv_.notify_all();
  }

 private:
  std::atomic<uint64_t> epoch_{0};
  std::atomic<int> waiters_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace mqstore

#endif  // MQSTORE_UTIL_EVENT_COUNT_H_
