#include "pull_hold_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>

namespace mqbroker {
namespace {

using namespace std::chrono_literals;

class PullHoldServiceTest : public ::testing::Test {
 protected:
  int64_t MaxOffset(std::string_view topic, int32_t queue) {
    std::lock_guard<std::mutex> lock(mu_);
    return max_offsets_[{std::string(topic), queue}];
  }
  void SetMaxOffset(const std::string& topic, int32_t queue, int64_t offset) {
    std::lock_guard<std::mutex> lock(mu_);
    max_offsets_[{topic, queue}] = offset;
  }

  std::mutex mu_;
  std::map<std::pair<std::string, int32_t>, int64_t> max_offsets_;
  PullHoldService service_{[this](std::string_view t, int32_t q) { return MaxOffset(t, q); }};
};

TEST_F(PullHoldServiceTest, AnArrivalPastTheOffsetWakesOnlyThatQueuesPulls) {
  std::promise<void> woken_a, woken_b;
  auto far = PullHoldService::Clock::now() + 1h;
  service_.Hold("T", 0, 5, far, [&] { woken_a.set_value(); });
  service_.Hold("T", 1, 5, far, [&] { woken_b.set_value(); });
  EXPECT_EQ(service_.held(), 2u);
  service_.OnArrival("T", 0, 5);  // not past offset 5
  EXPECT_EQ(service_.held(), 2u);
  service_.OnArrival("T", 0, 6);
  EXPECT_EQ(woken_a.get_future().wait_for(10s), std::future_status::ready);
  auto b = woken_b.get_future();
  EXPECT_EQ(b.wait_for(50ms), std::future_status::timeout);
  EXPECT_EQ(service_.held(), 1u);
  service_.Stop();  // wakes the rest
  EXPECT_EQ(b.wait_for(10s), std::future_status::ready);
}

TEST_F(PullHoldServiceTest, AHoldEndsAtItsDeadline) {
  std::promise<void> woken;
  service_.Hold("T", 0, 0, PullHoldService::Clock::now() + 20ms, [&] { woken.set_value(); });
  EXPECT_EQ(woken.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(service_.held(), 0u);
}

TEST_F(PullHoldServiceTest, AMessageThatArrivedBeforeTheHoldWakesItAtOnce) {
  SetMaxOffset("T", 0, 3);  // dispatched after the pull read, before it was held
  std::promise<void> woken;
  service_.Hold("T", 0, 2, PullHoldService::Clock::now() + 1h, [&] { woken.set_value(); });
  EXPECT_EQ(woken.get_future().wait_for(10s), std::future_status::ready);
}

TEST_F(PullHoldServiceTest, EveryWakeRunsExactlyOnce) {
  std::atomic<int> wakes{0};
  auto far = PullHoldService::Clock::now() + 1h;
  for (int i = 0; i < 100; ++i) service_.Hold("T", i % 4, i, far, [&] { wakes++; });
  for (int q = 0; q < 4; ++q) service_.OnArrival("T", q, 1000);
  service_.OnArrival("T", 0, 2000);
  service_.Stop();
  EXPECT_EQ(wakes.load(), 100);
  // After Stop a hold wakes at once.
  service_.Hold("T", 0, 0, far, [&] { wakes++; });
  EXPECT_EQ(wakes.load(), 101);
}

}  // namespace
}  // namespace mqbroker
