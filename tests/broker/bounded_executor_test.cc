#include "bounded_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace mqbroker {
namespace {

TEST(BoundedExecutorTest, RunsEveryQueuedTaskBeforeShutdownReturns) {
  std::atomic<int> ran{0};
  {
    BoundedExecutor executor("test", 2, 1000);
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(executor.TrySubmit([&ran] { ran++; }));
    executor.Shutdown();
    EXPECT_FALSE(executor.TrySubmit([] {}));
  }
  EXPECT_EQ(ran.load(), 500);
}

TEST(BoundedExecutorTest, AFullQueueRefusesAtOnce) {
  std::mutex mu;
  std::condition_variable released;
  bool release = false;
  bool started = false;
  BoundedExecutor executor("test", 1, 2);
  // Occupy the only thread, then fill the queue.
  ASSERT_TRUE(executor.TrySubmit([&] {
    std::unique_lock<std::mutex> lock(mu);
    started = true;
    released.notify_all();
    released.wait(lock, [&] { return release; });
  }));
  {
    std::unique_lock<std::mutex> lock(mu);
    released.wait(lock, [&] { return started; });
  }
  EXPECT_TRUE(executor.TrySubmit([] {}));
  EXPECT_TRUE(executor.TrySubmit([] {}));
  EXPECT_EQ(executor.queued(), 2u);
  EXPECT_FALSE(executor.TrySubmit([] {}));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  released.notify_all();
  executor.Shutdown();
  EXPECT_EQ(executor.queued(), 0u);
}

}  // namespace
}  // namespace mqbroker
