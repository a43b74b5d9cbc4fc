#include "util/event_count.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace mqstore {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Long enough that a wait ending by timeout instead of by Notify is unmistakable; tests
// assert they finished well within it.
constexpr milliseconds kLongWait{20'000};
constexpr auto kPrompt = std::chrono::seconds(10);

// The documented waiter protocol: returns when `cond` holds, re-checking after PrepareWait.
template <typename Cond>
void AwaitCondition(EventCount& ec, Cond cond) {
  while (!cond()) {
    auto key = ec.PrepareWait();
    if (cond()) {
      ec.CancelWait();
      return;
    }
    ec.Wait(key, kLongWait);
  }
}

TEST(EventCountTest, NotifyAfterPrepareWaitEndsTheWaitAtOnce) {
  EventCount ec;
  auto key = ec.PrepareWait();
  ec.Notify();
  auto start = Clock::now();
  ec.Wait(key, kLongWait);
  EXPECT_LT(Clock::now() - start, kPrompt);
}

TEST(EventCountTest, WaitWithoutNotifyTimesOut) {
  EventCount ec;
  auto key = ec.PrepareWait();
  auto start = Clock::now();
  ec.Wait(key, milliseconds(20));
  EXPECT_GE(Clock::now() - start, milliseconds(20));
}

TEST(EventCountTest, NotifyBeforePrepareWaitIsSeenByTheRecheck) {
  EventCount ec;
  std::atomic<bool> ready{false};
  ready.store(true);
  ec.Notify();  // nobody waits yet: a no-op
  auto start = Clock::now();
  AwaitCondition(ec, [&] { return ready.load(); });
  EXPECT_LT(Clock::now() - start, kPrompt);
}

TEST(EventCountTest, CancelledWaitDoesNotConsumeALaterNotify) {
  EventCount ec;
  ec.PrepareWait();
  ec.CancelWait();
  auto key = ec.PrepareWait();
  ec.Notify();
  auto start = Clock::now();
  ec.Wait(key, kLongWait);
  EXPECT_LT(Clock::now() - start, kPrompt);
}

TEST(EventCountTest, NotifyWakesABlockedWaiter) {
  EventCount ec;
  std::atomic<bool> ready{false};
  std::atomic<bool> waiting{false};
  Clock::duration waited{};
  std::thread waiter([&] {
    auto start = Clock::now();
    while (!ready.load()) {
      auto key = ec.PrepareWait();
      if (ready.load()) {
        ec.CancelWait();
        break;
      }
      waiting.store(true);
      ec.Wait(key, kLongWait);
    }
    waited = Clock::now() - start;
  });
  // Notify only once the waiter is registered, so the wake-up path is what is tested.
  while (!waiting.load()) std::this_thread::yield();
  ready.store(true);
  ec.Notify();
  waiter.join();
  EXPECT_LT(waited, kPrompt);
}

TEST(EventCountTest, NotifyWakesEveryWaiter) {
  EventCount ec;
  std::atomic<bool> ready{false};
  std::atomic<int> registered{0};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto key = ec.PrepareWait();
      registered.fetch_add(1);
      if (ready.load()) {
        ec.CancelWait();
      } else {
        ec.Wait(key, kLongWait);
      }
      done.fetch_add(1);
    });
  }
  while (registered.load() < 4) std::this_thread::yield();
  auto start = Clock::now();
  ready.store(true);
  ec.Notify();
  for (auto& t : threads) t.join();
  EXPECT_EQ(done.load(), 4);
  EXPECT_LT(Clock::now() - start, kPrompt);
}

TEST(EventCountTest, OnlyTheFirstNotifyAfterAPrepareWaitCallsTheKernel) {
  EventCount ec;
  ec.Notify();  // nobody prepared to wait
  EXPECT_EQ(ec.wake_calls(), 0u);
  auto key = ec.PrepareWait();
  for (int i = 0; i < 100; ++i) ec.Notify();  // the waiter has not run yet: one wake will do
  EXPECT_EQ(ec.wake_calls(), 1u);
  auto start = Clock::now();
  ec.Wait(key, kLongWait);
  EXPECT_LT(Clock::now() - start, kPrompt);
  key = ec.PrepareWait();  // waits again: the next Notify must wake it again
  ec.Notify();
  ec.Notify();
  EXPECT_EQ(ec.wake_calls(), 2u);
  start = Clock::now();
  ec.Wait(key, kLongWait);
  EXPECT_LT(Clock::now() - start, kPrompt);
}

TEST(EventCountTest, ACancelledWaitDoesNotDisarmAnotherWaiter) {
  EventCount ec;
  auto key = ec.PrepareWait();  // this waiter goes on to sleep
  ec.PrepareWait();             // another one finds its condition true and cancels
  ec.CancelWait();
  ec.Notify();
  EXPECT_EQ(ec.wake_calls(), 1u);
  auto start = Clock::now();
  ec.Wait(key, kLongWait);
  EXPECT_LT(Clock::now() - start, kPrompt);
}

// Many waiters and notifiers at once, each waiter preparing and waiting again and again. A
// Notify skipped because a wake-up looked "already on its way" when it was not leaves a
// waiter asleep for kLongWait: the notifiers stop at kTarget, so no later Notify hides it.
TEST(EventCountTest, SkippedWakeCallsLoseNoWakeUpsUnderContention) {
  constexpr int kWaiters = 4;
  constexpr int kNotifiers = 2;
  constexpr int kTarget = 20000;
  EventCount ec;
  std::atomic<int> counter{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int n = 0; n < kNotifiers; ++n) {
    threads.emplace_back([&] {
      for (int i = 1; counter.fetch_add(1) + 1 < kTarget; ++i) {
        ec.Notify();
        // Pause now and then so that waiters fall asleep between notifies.
        if (i % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
      ec.Notify();
    });
  }
  for (int w = 0; w < kWaiters; ++w) {
    threads.emplace_back([&, w] {
      for (int mark = w + 1; mark <= kTarget; mark += 97) {
        AwaitCondition(ec, [&] { return counter.load() >= mark; });
      }
      AwaitCondition(ec, [&] { return counter.load() >= kTarget; });
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LT(Clock::now() - start, kPrompt);
  EXPECT_GE(counter.load(), kTarget);
}

// Two threads hand a token back and forth; a lost wake-up would stall a hand-off for the
// whole kLongWait. The players give up once kPrompt has passed, so the test stays bounded.
TEST(EventCountTest, PingPongLosesNoWakeUps) {
  constexpr int kRounds = 2000;
  EventCount ec;
  std::atomic<int> turn{0};  // even: ping's turn; odd: pong's turn
  std::atomic<bool> gave_up{false};
  const auto start = Clock::now();
  auto player = [&](int parity) {
    for (int i = parity; i < 2 * kRounds && !gave_up.load(); i += 2) {
      AwaitCondition(ec, [&] {
        if (Clock::now() - start > kPrompt) gave_up.store(true);
        return turn.load() == i || gave_up.load();
      });
      if (gave_up.load()) break;
      turn.store(i + 1);
      ec.Notify();
    }
    ec.Notify();  // release the other player if this one gave up
  };
  std::thread ping(player, 0);
  std::thread pong(player, 1);
  ping.join();
  pong.join();
  EXPECT_FALSE(gave_up.load());
  EXPECT_EQ(turn.load(), 2 * kRounds);
}

}  // namespace
}  // namespace mqstore
