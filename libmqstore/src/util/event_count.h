// EventCount: lets a thread sleep until "something changed" without making every notifier
// pay for a futex call. Notify() is one atomic load when nobody waits, which matters on the
// append path (one notify per put). It is also one atomic load when a wake-up is already on
// its way: only the first Notify after a PrepareWait makes the futex call. A woken thread
// takes tens of microseconds to run on a busy 2-vCPU guest, and the puts made meanwhile each
// paid a futex call that woke nobody: about one per put with a few issuing threads.
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
    // Before the epoch is read: a Notify that misses this store made its change visible
    // before it looked, so the caller's re-check of its condition sees the change.
    armed_.store(true, std::memory_order_seq_cst);
    return epoch_.load(std::memory_order_seq_cst);
  }
  // Leaves armed_ set: another thread may have prepared since, and one spare wake call is
  // harmless where a lost one is not.
  void CancelWait() {}
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
  }
  void Notify() {
    // Orders the caller's "condition is now true" store before the armed check (a store
    // followed by a load may otherwise be reordered, even on x86).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // Not armed: nobody prepared to wait since the last wake-up. Every thread that prepared
    // before that one holds an older key, so it either does not sleep or is woken by it.
    if (!armed_.load(std::memory_order_relaxed)) return;
    if (!armed_.exchange(false, std::memory_order_seq_cst)) return;
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    wake_calls_.fetch_add(1, std::memory_order_relaxed);
    syscall(SYS_futex, EpochWord(), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  }
  // Futex wake calls made so far (for tests).
  uint64_t wake_calls() const { return wake_calls_.load(std::memory_order_relaxed); }

 private:
  uint32_t* EpochWord() { return reinterpret_cast<uint32_t*>(&epoch_); }

  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) &&
                    std::atomic<uint32_t>::is_always_lock_free,
                "the futex word must be a plain 32-bit integer");
  std::atomic<uint32_t> epoch_{0};
  std::atomic<bool> armed_{false};  // a thread prepared to wait since the last wake call
  std::atomic<uint64_t> wake_calls_{0};
};

}  // namespace mqstore

#endif  // MQSTORE_UTIL_EVENT_COUNT_H_
