#include "io_pool.h"

#include <gtest/gtest.h>

#include <asio/post.hpp>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "remoting/log_sink.h"

namespace mqremoting::internal {
namespace {

// Collects the remoting library's log lines while alive.
class LogLines {
 public:
  LogLines() {
    SetLogSink([this](LogLevel, std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(line);
    });
  }
  ~LogLines() { SetLogSink(nullptr); }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST(IoPoolTest, HandlersRunOnThePoolsThreadsUntilItIsDestroyed) {
  std::shared_ptr<IoPool> pool = IoPool::Create(2);
  pool->Start();
  std::promise<bool> on_pool_thread;
  asio::post(pool->NextContext(), [&] { on_pool_thread.set_value(pool->OnOwnThread()); });
  std::future<bool> result = on_pool_thread.get_future();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(result.get());
  EXPECT_FALSE(pool->OnOwnThread());
  EXPECT_FALSE(IoPool::OnTransportThread());
  pool.reset();  // joins both threads here
}

// Each thread runs a context of its own, handed out in turn: everything posted to one
// context runs on one thread, and the next context belongs to the other thread.
TEST(IoPoolTest, EachThreadRunsAContextOfItsOwn) {
  std::shared_ptr<IoPool> pool = IoPool::Create(2);
  pool->Start();
  asio::io_context* contexts[2] = {&pool->NextContext(), &pool->NextContext()};
  ASSERT_NE(contexts[0], contexts[1]);
  EXPECT_EQ(&pool->NextContext(), contexts[0]);  // round robin
  std::thread::id ran_on[2][8];
  for (int c = 0; c < 2; ++c) {
    for (int i = 0; i < 8; ++i) {
      std::promise<std::thread::id> ran;
      std::future<std::thread::id> id = ran.get_future();
      asio::post(*contexts[c], [&ran] { ran.set_value(std::this_thread::get_id()); });
      ASSERT_EQ(id.wait_for(std::chrono::seconds(30)), std::future_status::ready);
      ran_on[c][i] = id.get();
    }
  }
  for (int c = 0; c < 2; ++c) {
    for (int i = 1; i < 8; ++i) EXPECT_EQ(ran_on[c][i], ran_on[c][0]) << c << " " << i;
  }
  EXPECT_NE(ran_on[0][0], ran_on[1][0]);
}

// A connection's last handler may hold the last reference to its pool (clients sharing
// transport threads). Destroyed inline there, the pool could not join the thread and freed the
// io_context under it; it is handed to a thread of its own instead.
TEST(IoPoolTest, TheLastReferenceMayGoOnOneOfThePoolsOwnThreads) {
  LogLines log;
  std::shared_ptr<IoPool> pool = IoPool::Create(1);
  pool->Start();
  std::weak_ptr<IoPool> weak = pool;
  std::promise<void> handler_done;
  std::promise<void> test_released;
  std::shared_future<void> released = test_released.get_future().share();
  asio::io_context& context = pool->NextContext();
  // The test keeps a reference until post() has returned (post still touches the context
  // after queueing), then lets the handler drop the last one.
  std::shared_ptr<IoPool> keep = pool;
  asio::post(context, [pool = std::move(pool), released, &handler_done]() mutable {
    released.wait();
    pool.reset();
    handler_done.set_value();
  });
  ASSERT_EQ(pool, nullptr);
  keep.reset();  // now the handler holds the only reference
  test_released.set_value();
  std::future<void> done = handler_done.get_future();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(weak.expired());
  // The pool was not stopped from its own thread (which leaves the thread unjoined).
  for (const std::string& line : log.lines()) {
    EXPECT_EQ(line.find("Stop called on a transport thread"), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace mqremoting::internal
