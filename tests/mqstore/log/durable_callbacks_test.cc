#include "log/durable_callbacks.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "support/test_util.h"

namespace mqstore {
namespace {

using Clock = DurableCallbacks::Clock;

const Clock::time_point kFarAway = Clock::now() + std::chrono::hours(1);

// Records what each callback was called with, by its offset.
struct Recorder {
  std::mutex mu;
  std::vector<std::pair<int64_t, Status>> calls;
  DurableCallbacks::Callback For(int64_t offset) {
    return [this, offset](Status s) {
      std::lock_guard<std::mutex> l(mu);
      calls.emplace_back(offset, std::move(s));
    };
  }
  size_t size() {
    std::lock_guard<std::mutex> l(mu);
    return calls.size();
  }
  bool WaitFor(size_t n) {
    auto deadline = Clock::now() + std::chrono::seconds(20);
    while (size() < n && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return size() >= n;
  }
};

TEST(DurableCallbacksTest, ReleaseRunsExactlyTheCoveredCallbacksInOffsetOrder) {
  Recorder rec;  // outlives the callbacks, which abort what is left into it
  DurableCallbacks callbacks;
  for (int64_t offset : {300, 100, 200, 400}) callbacks.Add(offset, kFarAway, rec.For(offset));
  EXPECT_EQ(rec.size(), 0u);
  callbacks.Release(250);
  ASSERT_EQ(rec.size(), 2u);
  EXPECT_EQ(rec.calls[0].first, 100);
  EXPECT_EQ(rec.calls[1].first, 200);
  EXPECT_OK(rec.calls[0].second);
  EXPECT_OK(rec.calls[1].second);
  EXPECT_EQ(callbacks.waiting(), 2u);
  callbacks.Release(300);  // an offset is "bytes below it": 300 covers the record ending there
  ASSERT_EQ(rec.size(), 3u);
  EXPECT_EQ(rec.calls[2].first, 300);
  callbacks.Release(100);  // going back releases nothing again
  EXPECT_EQ(rec.size(), 3u);
  EXPECT_EQ(callbacks.waiting(), 1u);
}

TEST(DurableCallbacksTest, TheGroupRunnerWrapsTheCallbacksOfEachReleaseThatHasAny) {
  Recorder rec;
  std::vector<size_t> seen_at_group_start;  // calls recorded when each group began
  std::vector<size_t> seen_at_group_end;
  DurableCallbacks callbacks([&](const std::function<void()>& run_callbacks) {
    seen_at_group_start.push_back(rec.size());
    run_callbacks();
    seen_at_group_end.push_back(rec.size());
  });
  for (int64_t offset : {100, 200, 300}) callbacks.Add(offset, kFarAway, rec.For(offset));
  callbacks.Release(250);
  callbacks.Release(260);  // covers nothing new: no group
  callbacks.Release(300);
  EXPECT_EQ(seen_at_group_start, (std::vector<size_t>{0, 2}));
  EXPECT_EQ(seen_at_group_end, (std::vector<size_t>{2, 3}));
  // An offset already released runs at once on the caller, outside any group.
  callbacks.Add(50, kFarAway, rec.For(50));
  EXPECT_EQ(rec.size(), 4u);
  EXPECT_EQ(seen_at_group_start.size(), 2u);
}

TEST(DurableCallbacksTest, AnAlreadyReleasedOffsetRunsAtOnceOnTheCaller) {
  Recorder rec;
  DurableCallbacks callbacks;
  callbacks.Release(500);
  callbacks.Add(500, kFarAway, rec.For(500));
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_OK(rec.calls[0].second);
  callbacks.Add(501, kFarAway, rec.For(501));
  EXPECT_EQ(rec.size(), 1u);
  EXPECT_EQ(callbacks.waiting(), 1u);
}

TEST(DurableCallbacksTest, APassedDeadlineTimesOutOnlyThatCallback) {
  Recorder rec;  // outlives the callbacks, which abort what is left into it
  DurableCallbacks callbacks;
  callbacks.Add(100, kFarAway, rec.For(100));
  callbacks.Add(200, Clock::now() + std::chrono::milliseconds(5), rec.For(200));
  ASSERT_TRUE(rec.WaitFor(1));
  {
    std::lock_guard<std::mutex> l(rec.mu);
    EXPECT_EQ(rec.calls[0].first, 200);
    EXPECT_TRUE(rec.calls[0].second.IsTimedOut()) << rec.calls[0].second.ToString();
  }
  EXPECT_EQ(callbacks.waiting(), 1u);
  callbacks.Release(1000);  // the timed-out one does not run again
  ASSERT_EQ(rec.size(), 2u);
  EXPECT_EQ(rec.calls[1].first, 100);
  EXPECT_OK(rec.calls[1].second);
}

TEST(DurableCallbacksTest, AnEarlierDeadlineAddedLaterWakesTheTimer) {
  Recorder rec;  // outlives the callbacks, which abort what is left into it
  DurableCallbacks callbacks;
  callbacks.Add(100, kFarAway, rec.For(100));  // the timer now sleeps for an hour
  callbacks.Add(200, Clock::now(), rec.For(200));
  ASSERT_TRUE(rec.WaitFor(1));
  EXPECT_EQ(rec.calls[0].first, 200);
  EXPECT_TRUE(rec.calls[0].second.IsTimedOut());
}

TEST(DurableCallbacksTest, FailFailsTheWaitingAndEveryLaterCallback) {
  Recorder rec;  // outlives the callbacks, which abort what is left into it
  DurableCallbacks callbacks;
  callbacks.Add(100, kFarAway, rec.For(100));
  callbacks.Add(200, kFarAway, rec.For(200));
  callbacks.Fail(Status::IOError("sync failed"));
  ASSERT_EQ(rec.size(), 2u);
  for (auto& [offset, s] : rec.calls) EXPECT_TRUE(s.IsIOError()) << offset;
  callbacks.Add(50, kFarAway, rec.For(50));  // even below what was released: it failed
  ASSERT_EQ(rec.size(), 3u);
  EXPECT_TRUE(rec.calls[2].second.IsIOError());
  callbacks.Release(1000);
  EXPECT_EQ(rec.size(), 3u);
}

TEST(DurableCallbacksTest, DestructionAbortsWhatIsStillWaiting) {
  Recorder rec;
  {
    DurableCallbacks callbacks;
    callbacks.Add(100, kFarAway, rec.For(100));
    callbacks.Add(200, kFarAway, rec.For(200));
    callbacks.Release(100);
  }
  ASSERT_EQ(rec.size(), 2u);
  EXPECT_OK(rec.calls[0].second);
  EXPECT_EQ(rec.calls[1].second.code(), Status::Code::kAborted);
}

TEST(DurableCallbacksTest, ACallbackMayAddAnother) {
  Recorder rec;  // outlives the callbacks, which abort what is left into it
  DurableCallbacks callbacks;
  callbacks.Add(100, kFarAway, [&](Status s) {
    EXPECT_OK(s);
    callbacks.Add(150, kFarAway, rec.For(150));  // already released: runs here
    callbacks.Add(300, kFarAway, rec.For(300));
  });
  callbacks.Release(200);
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(rec.calls[0].first, 150);
  callbacks.Release(300);
  EXPECT_EQ(rec.size(), 2u);
}

// Adders, a releaser and the timer race; every callback must run exactly once, and an OK
// only once its offset was released.
TEST(DurableCallbacksTest, EveryCallbackRunsExactlyOnceUnderConcurrency) {
  constexpr int kAdders = 4, kPerAdder = 2000;
  std::atomic<int64_t> released{0};
  std::vector<std::atomic<int>> runs(kAdders * kPerAdder);
  std::atomic<int> early_ok{0};
  DurableCallbacks callbacks;
  std::vector<std::thread> threads;
  for (int a = 0; a < kAdders; ++a) {
    threads.emplace_back([&, a] {
      std::mt19937 rng(static_cast<uint32_t>(a + 1));
      for (int i = 0; i < kPerAdder; ++i) {
        const int id = a * kPerAdder + i;
        const int64_t offset = released.load() + static_cast<int64_t>(rng() % 50);
        // One in ten expires at once; the rest would only expire after the test.
        auto deadline = rng() % 10 == 0 ? Clock::now() : kFarAway;
        callbacks.Add(offset, deadline, [&, id, offset](Status s) {
          if (s.ok() && released.load() < offset) early_ok++;
          runs[static_cast<size_t>(id)]++;
        });
      }
    });
  }
  std::atomic<bool> adding{true};
  std::thread releaser([&] {
    while (adding.load()) {
      callbacks.Release(released.fetch_add(7) + 7);
      std::this_thread::yield();
    }
  });
  for (auto& t : threads) t.join();
  adding = false;
  releaser.join();
  callbacks.Release(released.fetch_add(100) + 100);
  for (int i = 0; i < kAdders * kPerAdder; ++i) {
    auto deadline = Clock::now() + std::chrono::seconds(20);
    while (runs[static_cast<size_t>(i)].load() == 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(runs[static_cast<size_t>(i)].load(), 1) << "callback " << i;
  }
  EXPECT_EQ(early_ok.load(), 0);
  EXPECT_EQ(callbacks.waiting(), 0u);
}

}  // namespace
}  // namespace mqstore
