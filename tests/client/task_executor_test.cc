// TaskExecutor: tasks run, delayed ones in deadline order and not early, Stop drops what has
// not started and waits for what has.
#include "task_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace mqclient {
namespace {

using namespace std::chrono_literals;

TEST(TaskExecutorTest, RunsEverySubmittedTask) {
  TaskExecutor executor(3);
  std::atomic<int> ran{0};
  std::promise<void> all;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(executor.Submit([&] {
      if (ran.fetch_add(1) + 1 == 100) all.set_value();
    }));
  }
  all.get_future().wait();
  EXPECT_EQ(ran.load(), 100);
}

TEST(TaskExecutorTest, DelayedTasksRunInDeadlineOrderAndNotEarly) {
  TaskExecutor executor(1);
  std::mutex mu;
  std::vector<int> order;
  std::promise<void> last;
  const auto start = TaskExecutor::Clock::now();
  TaskExecutor::Clock::time_point first_ran;
  executor.SubmitAfter(60ms, [&] {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(2);
    last.set_value();
  });
  executor.SubmitAfter(30ms, [&] {
    std::lock_guard<std::mutex> lock(mu);
    first_ran = TaskExecutor::Clock::now();
    order.push_back(1);
  });
  executor.Submit([&] {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(0);
  });
  last.get_future().wait();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_GE(first_ran - start, 30ms);
}

TEST(TaskExecutorTest, StopDropsPendingTasksAndWaitsForRunningOnes) {
  TaskExecutor executor(1);
  std::promise<void> started;
  std::atomic<bool> release{false};
  std::atomic<bool> finished{false};
  std::atomic<int> dropped_ran{0};
  executor.Submit([&] {
    started.set_value();
    while (!release.load()) std::this_thread::yield();
    finished.store(true);
  });
  started.get_future().wait();
  executor.Submit([&] { dropped_ran.fetch_add(1); });
  executor.SubmitAfter(1ms, [&] { dropped_ran.fetch_add(1); });
  EXPECT_EQ(executor.pending(), 2u);
  std::thread stopper([&] { executor.Stop(); });
  // Stop has taken the pending tasks away before the running one may finish.
  while (executor.pending() != 0) std::this_thread::yield();
  release.store(true);
  stopper.join();
  EXPECT_TRUE(finished.load());  // Stop returned only after the running task
  EXPECT_EQ(dropped_ran.load(), 0);
  EXPECT_EQ(executor.pending(), 0u);
  EXPECT_FALSE(executor.Submit([] {}));
  EXPECT_FALSE(executor.SubmitAfter(1ms, [] {}));
  executor.Stop();  // again: nothing happens
}

}  // namespace
}  // namespace mqclient
