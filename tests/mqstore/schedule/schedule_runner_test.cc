// ScheduleRunner: rounds on start and on Notify, waits for the next due time, survives
// task errors. Driven without sleeps: a long idle wait, Notify, and AwaitRound.
#include "schedule/schedule_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "mqstore/schedule/schedule_test_util.h"
#include "schedule/delay_scheduler.h"
#include "schedule/timer_scheduler.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

constexpr int64_t kLongIdle = 60'000;
constexpr int64_t kWait = 10'000;

class CountingTask : public ScheduledTask {
 public:
  Result<ScheduleStep> RunOnce(int64_t now_ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.push_back(now_ms);
    if (fail_next_ > 0) {
      --fail_next_;
      return Status::IOError("task failed");
    }
    ScheduleStep step;
    step.next_due_ms = next_due_;
    return step;
  }
  std::string name() const override { return "counting"; }

  std::vector<int64_t> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  void FailNext(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_next_ = n;
  }
  void SetNextDue(std::optional<int64_t> due) {
    std::lock_guard<std::mutex> lock(mu_);
    next_due_ = due;
  }

 private:
  std::mutex mu_;
  std::vector<int64_t> seen_;
  int fail_next_ = 0;
  std::optional<int64_t> next_due_;
};

TEST(ScheduleRunnerTest, RunsOnStartAndOnEveryNotify) {
  test::ManualClock clock;
  CountingTask a, b;
  ScheduleRunner runner(&clock, {&a, &b}, {kLongIdle, kLongIdle});
  ASSERT_OK(runner.Start());
  ASSERT_TRUE(runner.AwaitRound(0, kWait));
  clock.Advance(500);
  runner.Notify();
  ASSERT_TRUE(runner.AwaitRound(1, kWait));
  runner.Stop();
  std::vector<int64_t> seen = a.seen();
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen[0], clock.NowMillis() - 500);
  EXPECT_EQ(seen.back(), clock.NowMillis());
  EXPECT_EQ(b.seen().size(), seen.size());
  EXPECT_TRUE(runner.Start().ok());  // restartable
  runner.Stop();
}

TEST(ScheduleRunnerTest, StartTwiceIsAnError) {
  test::ManualClock clock;
  CountingTask a;
  ScheduleRunner runner(&clock, {&a}, {kLongIdle, kLongIdle});
  ASSERT_OK(runner.Start());
  EXPECT_TRUE(runner.Start().IsFailedPrecondition());
}

TEST(ScheduleRunnerTest, WakesByItselfWhenSomethingIsDue) {
  // The task reports a due time that has passed: the runner goes again without a Notify.
  test::ManualClock clock;
  CountingTask a;
  a.SetNextDue(clock.NowMillis());
  ScheduleRunner runner(&clock, {&a}, {kLongIdle, kLongIdle});
  ASSERT_OK(runner.Start());
  ASSERT_TRUE(runner.AwaitRound(3, kWait));
  runner.Stop();
  EXPECT_GE(a.seen().size(), 4u);
}

TEST(ScheduleRunnerTest, RemembersErrorsAndKeepsGoing) {
  test::ManualClock clock;
  CountingTask a;
  a.FailNext(1);
  ScheduleRunner runner(&clock, {&a}, {kLongIdle, /*retry_after_error_ms=*/0});
  ASSERT_OK(runner.Start());
  ASSERT_TRUE(runner.AwaitRound(0, kWait));
  // The first round failed; the retry comes at once and succeeds.
  ASSERT_TRUE(runner.AwaitRound(1, kWait));
  runner.Stop();
  EXPECT_OK(runner.last_error());
  EXPECT_GE(a.seen().size(), 2u);
}

TEST(ScheduleRunnerTest, ReportsTheFailingTaskByName) {
  test::ManualClock clock;
  CountingTask a;
  a.FailNext(1000);
  ScheduleRunner runner(&clock, {&a}, {kLongIdle, kLongIdle});
  ASSERT_OK(runner.Start());
  ASSERT_TRUE(runner.AwaitRound(0, kWait));
  Status s = runner.last_error();
  runner.Stop();
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(s.ToString().find("counting"), std::string::npos) << s.ToString();
}

TEST(ScheduleRunnerTest, DrivesADelaySchedulerWithAManualClock) {
  test::ScheduleStoreHarness h;
  h.Open();
  InMemoryScheduleProgressStore progress;
  DelayScheduler level1(*h.store, progress, 1, 1000);
  ScheduleRunner runner(&h.clock, {&level1}, {kLongIdle, kLongIdle});
  ASSERT_OK(runner.Start());
  ASSERT_TRUE(runner.AwaitRound(0, kWait));

  h.Put(test::Scheduled("Orders", 0, "late", "DELAY", "1"));
  uint64_t round = runner.rounds();
  runner.Notify();  // arrival: not due yet
  ASSERT_TRUE(runner.AwaitRound(round, kWait));
  EXPECT_TRUE(h.Bodies("Orders", 0).empty());

  h.clock.Advance(1000);
  round = runner.rounds();
  runner.Notify();
  ASSERT_TRUE(runner.AwaitRound(round, kWait));
  runner.Stop();
  EXPECT_EQ(h.Bodies("Orders", 0), std::vector<std::string>{"late"});
}

TEST(ScheduleRunnerTest, DrivesDelayAndTimerSchedulersTogether) {
  test::ScheduleStoreHarness h;
  h.Open();
  InMemoryScheduleProgressStore progress;
  DelayScheduler level1(*h.store, progress, 1, 1000);
  TimerSchedulerOptions small;
  small.log_segment_bytes = kTimerEntrySize * 64;
  small.wheel_slots = 3600;
  auto timer = TimerScheduler::Open(h.env(), "/store", *h.store, progress, small);
  ASSERT_TRUE(timer.ok()) << timer.status().ToString();
  ScheduleRunner runner(&h.clock, {&level1, timer->get()}, {kLongIdle, kLongIdle});
  ASSERT_OK(runner.Start());
  ASSERT_TRUE(runner.AwaitRound(0, kWait));

  h.Put(test::Scheduled("Orders", 0, "delayed", "DELAY", "1"));
  h.Put(test::Scheduled("Orders", 0, "timed", "TIMER_DELAY_SEC", "3"));
  uint64_t round = runner.rounds();
  runner.Notify();  // arrivals: enqueued, nothing due
  ASSERT_TRUE(runner.AwaitRound(round, kWait));
  EXPECT_EQ((*timer)->stats().pending, 1u);

  for (const char* expected : {"delayed", "timed"}) {
    h.clock.Advance(expected == std::string("delayed") ? 1000 : 2000);
    round = runner.rounds();
    runner.Notify();
    ASSERT_TRUE(runner.AwaitRound(round, kWait));
    EXPECT_EQ(h.Bodies("Orders", 0).back(), expected);
  }
  runner.Stop();
  EXPECT_OK(runner.last_error());
  EXPECT_EQ(h.Bodies("Orders", 0), (std::vector<std::string>{"delayed", "timed"}));
}

}  // namespace
}  // namespace mqstore
