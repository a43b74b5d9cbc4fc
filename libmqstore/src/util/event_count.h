// EventCount: lets a thread sleep until "something changed" without making every notifier
// pay for a futex call. Notify() is one atomic load when nobody waits, which matters on the
// append path (one notify per put).
//
//   waiter:   auto key = ec.PrepareWait();
//             if (condition()) { ec.CancelWait(); ... } else ec.Wait(key, timeout);
//   notifier: make condition() true; ec.Notify();
//
// Waiters sleep on a futex over the epoch word itself, not on a mutex and condition
// variable: when one Notify wakes many waiters (a group commit releasing every put it
// covered), they do not queue up again on a mutex, which on a 2-vCPU guest cost more than
// the sync they waited for (each contended handoff is another context switch).
#ifndef MQSTORE_UTIL_EVENT_COUNT_H_
#define MQSTORE_UTIL_EVENT_COUNT_H_

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>

namespace mqstore {

class EventCount {
 public:
  using Key = uint32_t;

  Key PrepareWait() {
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    return epoch_.load(std::memory_order_seq_cst);
  }
  void CancelWait() { waiters_.fetch_sub(1, std::memory_order_seq_cst); }
  // Returns when Notify() was called after PrepareWait() returned `key`, or on timeout.
  template <typename Rep, typename Period>
  void Wait(Key key, std::chrono::duration<Rep, Period> timeout) {
    using SteadyClock = std::chrono::steady_clock;
    const auto deadline = SteadyClock::now() + timeout;
    while (epoch_.load(std::memory_order_acquire) == key) {
      auto left =
          std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0) break;
      timespec ts;
      ts.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
      // Sleeps only while the epoch still equals `key` (checked by the kernel atomically);
      // EINTR, EAGAIN and spurious wakeups re-check in the loop.
      syscall(SYS_futex, EpochWord(), FUTEX_WAIT_PRIVATE, key, &ts, nullptr, 0);
    }
    waiters_.fetch_sub(1, std::memory_order_seq_cst);
  }
  void Notify() {
    // Orders the caller's "condition is now true" store before the waiter check (a store
    // followed by a load may otherwise be reordered, even on x86).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (waiters_.load(std::memory_order_relaxed) == 0) return;
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    syscall(SYS_futex, EpochWord(), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  }

 private:
  uint32_t* EpochWord() { return reinterpret_cast<uint32_t*>(&epoch_); }

  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) &&
                    std::atomic<uint32_t>::is_always_lock_free,
                "the futex word must be a plain 32-bit integer");
  std::atomic<uint32_t> epoch_{0};
  std::atomic<int> waiters_{0};
};

}  // namespace mqstore

#endif  // MQSTORE_UTIL_EVENT_COUNT_H_
