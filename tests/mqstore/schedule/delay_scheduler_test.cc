// DelayScheduler over a real store (MemEnv, manual clock): timing per level, order,
// progress commits, restarts and crashes.
#include "schedule/delay_scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mqstore/schedule/schedule_test_util.h"
#include "schedule/schedule_names.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::Scheduled;
using test::ScheduleStoreHarness;
using Bodies = std::vector<std::string>;

class DelaySchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.Open();
    rewrite_.levels = DelayLevels::Parse("1s 5s 10s").value();
  }

  void PutDelayed(const std::string& body, int level, int32_t queue = 0) {
    h_.Put(Scheduled("Orders", queue, body, "DELAY", std::to_string(level)), rewrite_);
  }
  std::unique_ptr<DelayScheduler> Make(int level, DelaySchedulerOptions o = {}) {
    return std::make_unique<DelayScheduler>(*h_.store, progress_, level,
                                            rewrite_.levels.DelayMs(level), o);
  }
  ScheduleStep Run(DelayScheduler& s, int64_t now) {
    Result<ScheduleStep> step = s.RunOnce(now);
    EXPECT_TRUE(step.ok()) << step.status().ToString();
    h_.AwaitAll();
    return step.ok() ? *step : ScheduleStep{};
  }
  int64_t Committed(int level) {
    auto e = progress_.Load(DelayScheduler::ProgressName(level));
    EXPECT_TRUE(e.ok());
    return e.ok() && e->has_value() ? (*e)->offset : -1;
  }

  ScheduleStoreHarness h_;
  ScheduleRewriteOptions rewrite_;
  InMemoryScheduleProgressStore progress_;
};

TEST_F(DelaySchedulerTest, DeliversEachLevelExactlyWhenItsDelayHasPassed) {
  const int64_t t0 = h_.clock.NowMillis();
  PutDelayed("one", 1);
  PutDelayed("two", 2);
  PutDelayed("three", 3);
  auto levels = MakeDelaySchedulers(*h_.store, progress_, rewrite_.levels);
  ASSERT_EQ(levels.size(), 3u);

  ScheduleStep step = Run(*levels[0], t0 + 999);
  EXPECT_EQ(step.delivered, 0u);
  EXPECT_EQ(step.next_due_ms, t0 + 1000);
  EXPECT_TRUE(h_.Bodies("Orders", 0).empty());

  step = Run(*levels[0], t0 + 1000);
  EXPECT_EQ(step.delivered, 1u);
  EXPECT_FALSE(step.next_due_ms.has_value());
  EXPECT_EQ(h_.Bodies("Orders", 0), Bodies{"one"});

  EXPECT_EQ(Run(*levels[1], t0 + 4999).next_due_ms, t0 + 5000);
  EXPECT_EQ(Run(*levels[2], t0 + 4999).next_due_ms, t0 + 10000);
  EXPECT_EQ(Run(*levels[1], t0 + 5000).delivered, 1u);
  EXPECT_EQ(Run(*levels[2], t0 + 9999).delivered, 0u);
  EXPECT_EQ(Run(*levels[2], t0 + 10000).delivered, 1u);
  EXPECT_EQ(h_.Bodies("Orders", 0), (Bodies{"one", "two", "three"}));
}

TEST_F(DelaySchedulerTest, KeepsQueueOrderAndStopsAtTheFirstMessageNotDue) {
  const int64_t t0 = h_.clock.NowMillis();
  for (int i = 0; i < 10; ++i) {
    PutDelayed("m" + std::to_string(i), 2, i % 2);
    h_.clock.Advance(100);  // stored 100 ms apart
  }
  auto level2 = Make(2);
  ScheduleStep step = Run(*level2, t0 + 5000 + 450);  // m0..m4 due
  EXPECT_EQ(step.delivered, 5u);
  EXPECT_EQ(step.next_due_ms, t0 + 5000 + 500);
  EXPECT_EQ(level2->offset(), 5);
  EXPECT_EQ(Committed(2), 5);
  EXPECT_EQ(h_.Bodies("Orders", 0), (Bodies{"m0", "m2", "m4"}));
  EXPECT_EQ(h_.Bodies("Orders", 1), (Bodies{"m1", "m3"}));

  step = Run(*level2, t0 + 60'000);
  EXPECT_EQ(step.delivered, 5u);
  EXPECT_EQ(h_.Bodies("Orders", 0), (Bodies{"m0", "m2", "m4", "m6", "m8"}));
  EXPECT_EQ(h_.Bodies("Orders", 1), (Bodies{"m1", "m3", "m5", "m7", "m9"}));
}

TEST_F(DelaySchedulerTest, DeliveredMessagesCarryEverythingButTheDelay) {
  const int64_t t0 = h_.clock.NowMillis();
  Message m = Scheduled("Orders", 2, "payload", "DELAY", "1");
  m.flag = 42;
  m.reconsume_times = 3;
  h_.Put(m, rewrite_);
  auto level1 = Make(1);
  Run(*level1, t0 + 1000);
  std::vector<test::Delivered> got = h_.ReadAll("Orders", 2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "payload");
  EXPECT_EQ(got[0].parsed.flag, 42);
  EXPECT_EQ(got[0].parsed.reconsume_times, 3);
  EXPECT_EQ(got[0].parsed.born_host, m.born_host);
  EXPECT_EQ(got[0].parsed.born_timestamp_ms, m.born_timestamp_ms);
  EXPECT_EQ(FindProperty(got[0].properties, "TAGS"), "TagA");
  EXPECT_EQ(FindProperty(got[0].properties, "KEYS"), "key-1");
  EXPECT_EQ(FindProperty(got[0].properties, "custom"), "value");
  for (const char* gone : {"DELAY", "REAL_TOPIC", "REAL_QID"}) {
    EXPECT_FALSE(FindProperty(got[0].properties, gone).has_value()) << gone;
  }
  EXPECT_EQ(got[0].store_timestamp_ms, t0);  // re-put at the (manual) store time
}

TEST_F(DelaySchedulerTest, ClampedLevelIsDeliveredAfterTheMaximumDelay) {
  const int64_t t0 = h_.clock.NowMillis();
  PutDelayed("far", 40);
  EXPECT_EQ(h_.ReadAll("SCHEDULE_TOPIC_XXXX", 2).size(), 1u);  // level 3's queue
  auto level3 = Make(3);
  EXPECT_EQ(Run(*level3, t0 + 9999).delivered, 0u);
  EXPECT_EQ(Run(*level3, t0 + 10000).delivered, 1u);
}

TEST_F(DelaySchedulerTest, ClockGoingBackDoesNotHoldMessagesForever) {
  h_.clock.Advance(3'600'000);  // stored an hour "in the future"
  PutDelayed("ahead", 3);
  auto level3 = Make(3);
  const int64_t back = h_.clock.NowMillis() - 3'600'000;
  EXPECT_EQ(Run(*level3, back).delivered, 1u);
}

// The round read its clock, then a message was stored: it is not "from the future", it
// just arrived, and must wait its whole delay.
TEST_F(DelaySchedulerTest, MessageStoredDuringTheRoundWaitsItsFullDelay) {
  const int64_t round_now = h_.clock.NowMillis();
  h_.clock.Advance(2'000);
  PutDelayed("arrived-late", 3);  // 10 s, stored at round_now + 2 s
  auto level3 = Make(3);
  ScheduleStep step = Run(*level3, round_now);
  EXPECT_EQ(step.delivered, 0u);
  EXPECT_EQ(step.next_due_ms, round_now + 12'000);
  EXPECT_EQ(Run(*level3, round_now + 11'999).delivered, 0u);
  EXPECT_EQ(Run(*level3, round_now + 12'000).delivered, 1u);
}

TEST_F(DelaySchedulerTest, EmptyOrMissingQueueIsNotAnError) {
  auto level1 = Make(1);
  ScheduleStep step = Run(*level1, h_.clock.NowMillis());
  EXPECT_EQ(step.delivered, 0u);
  EXPECT_FALSE(step.next_due_ms.has_value());
}

TEST_F(DelaySchedulerTest, RestartResumesFromTheCommittedOffset) {
  const int64_t t0 = h_.clock.NowMillis();
  for (int i = 0; i < 6; ++i) {
    PutDelayed("m" + std::to_string(i), 1);
    h_.clock.Advance(1000);
  }
  {
    auto first = Make(1);
    EXPECT_EQ(Run(*first, t0 + 3000).delivered, 3u);  // m0..m2
  }
  auto second = Make(1);
  EXPECT_EQ(Run(*second, t0 + 3000).delivered, 0u);
  EXPECT_EQ(Run(*second, t0 + 10'000).delivered, 3u);
  EXPECT_EQ(h_.Bodies("Orders", 0), (Bodies{"m0", "m1", "m2", "m3", "m4", "m5"}));
}

TEST_F(DelaySchedulerTest, CrashBeforeCommitRedeliversOnlyTheUncommittedBatch) {
  const int64_t t0 = h_.clock.NowMillis();
  for (int i = 0; i < 20; ++i) PutDelayed("m" + std::to_string(i), 1);
  DelaySchedulerOptions o;
  o.read_batch = 4;
  o.redelivery.max_messages = 4;
  o.commit_every_messages = 8;
  {
    auto first = Make(1, o);
    // Commits after 8 and 16 messages and at the end.
    Result<ScheduleStep> step = first->RunOnce(t0 + 1000);
    ASSERT_TRUE(step.ok());
    EXPECT_EQ(Committed(1), 20);
  }
  for (int i = 20; i < 30; ++i) PutDelayed("m" + std::to_string(i), 1);
  {
    auto second = Make(1, o);
    progress_.FailNextCommits(1);  // its first commit fails: as if it crashed there
    Result<ScheduleStep> step = second->RunOnce(t0 + 1000);
    EXPECT_TRUE(step.status().IsIOError()) << step.status().ToString();
    EXPECT_EQ(Committed(1), 20);
  }
  auto third = Make(1, o);
  EXPECT_EQ(Run(*third, t0 + 1000).delivered, 10u);  // all of m20..m29 again
  EXPECT_EQ(Committed(1), 30);

  std::map<std::string, int> seen;
  for (const std::string& b : h_.Bodies("Orders", 0)) ++seen[b];
  int duplicates = 0;
  for (int i = 0; i < 30; ++i) {
    int n = seen["m" + std::to_string(i)];
    EXPECT_GE(n, 1) << "m" << i << " lost";
    duplicates += n - 1;
  }
  // The second run put at most commit_every_messages + one batch before its first
  // commit failed.
  EXPECT_GT(duplicates, 0);
  EXPECT_LE(duplicates, 8 + 4);
}

TEST_F(DelaySchedulerTest, AFailedCommitIsRetriedWithoutRedelivering) {
  const int64_t t0 = h_.clock.NowMillis();
  PutDelayed("a", 1);
  auto level1 = Make(1);
  progress_.FailNextCommits(1);
  EXPECT_TRUE(level1->RunOnce(t0 + 1000).status().IsIOError());
  EXPECT_EQ(Committed(1), -1);
  EXPECT_EQ(Run(*level1, t0 + 1000).delivered, 0u);  // same instance: remembers
  EXPECT_EQ(Committed(1), 1);
  EXPECT_EQ(h_.Bodies("Orders", 0), Bodies{"a"});
}

TEST_F(DelaySchedulerTest, CommittedDeliveriesSurviveAPowerCut) {
  // ASYNC flush: without the flush before the commit, a power cut could lose re-puts the
  // committed offset already covers.
  const int64_t t0 = h_.clock.NowMillis();
  for (int i = 0; i < 5; ++i) PutDelayed("m" + std::to_string(i), 1);
  ASSERT_OK(h_.store->Flush());
  {
    auto level1 = Make(1);
    EXPECT_EQ(Run(*level1, t0 + 1000).delivered, 5u);
  }
  h_.CrashAndReopen();
  EXPECT_EQ(h_.Bodies("Orders", 0), (Bodies{"m0", "m1", "m2", "m3", "m4"}));
  auto after = Make(1);
  EXPECT_EQ(Run(*after, t0 + 1000).delivered, 0u);
}

TEST_F(DelaySchedulerTest, SavedOffsetBeyondTheQueueIsPulledBack) {
  const int64_t t0 = h_.clock.NowMillis();
  std::vector<ScheduleProgressEntry> ahead = {{DelayScheduler::ProgressName(1), 50, 0}};
  ASSERT_OK(progress_.Commit(ahead));
  PutDelayed("a", 1);
  auto level1 = Make(1);
  // Offset 50 is past the queue's end (1): continue from the end, as RocketMQ clamps.
  EXPECT_EQ(Run(*level1, t0 + 1000).delivered, 0u);
  EXPECT_EQ(level1->offset(), 1);
  PutDelayed("b", 1);
  EXPECT_EQ(Run(*level1, t0 + 1000).delivered, 1u);
  EXPECT_EQ(h_.Bodies("Orders", 0), Bodies{"b"});
}

}  // namespace
}  // namespace mqstore
