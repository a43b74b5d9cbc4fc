// End to end, with crashes: a SYNC_FLUSH store with its index and its own schedulers takes
// ordinary, delay-level and timer messages (each with a unique key) while the injected clock
// moves and scheduler rounds deliver what is due; at a random point the machine "crashes"
// (a MemEnv crash copy, in each of its three modes); the store is reopened on what survived,
// the clock is moved past every due time, and then:
//   - every acknowledged message is in its real topic and queue at least once and at most
//     twice (at-least-once; re-deliveries bounded by the work since the last progress
//     commit, and there was one crash), never before its due time;
//   - the index answers every key in the real topic with a record carrying it;
//   - every queue reads back contiguous (ReadAll checks the queue offsets).
//
// Seeds: MQ_CRASH_SEEDS=<n> runs seeds 0..n-1 (default 150); MQ_CRASH_SEED=<n> runs only n.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "mqstore/schedule/schedule_test_util.h"
#include "mqstore/store/store_test_util.h"
#include "schedule/delay_levels.h"

namespace mqstore::test {
namespace {

struct Expected {
  std::string key;
  std::string topic;
  int32_t queue_id = 0;
  int64_t due_ms = 0;  // delivered no earlier than this
};

std::vector<uint64_t> Seeds() {
  if (const char* one = std::getenv("MQ_CRASH_SEED")) return {std::strtoull(one, nullptr, 10)};
  uint64_t n = 150;
  if (const char* many = std::getenv("MQ_CRASH_SEEDS")) n = std::strtoull(many, nullptr, 10);
  std::vector<uint64_t> seeds(n);
  for (uint64_t i = 0; i < n; ++i) seeds[i] = i;
  return seeds;
}

struct SeedTotals {
  int puts = 0, parked = 0, deliveries_before_crash = 0, redelivered = 0;
};

void RunSeed(uint64_t seed, SeedTotals* totals) {
  SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun with MQ_CRASH_SEED=" +
               std::to_string(seed) + ")");
  std::mt19937_64 rng(seed);
  auto chance = [&](double p) { return std::uniform_real_distribution<>(0, 1)(rng) < p; };
  const DelayLevels levels = DelayLevels::Default();

  ScheduleStoreHarness h;
  h.built_in_schedule = true;
  h.flush_mode = FlushMode::kSync;
  h.Open();
  ASSERT_NE(h.store, nullptr);

  std::vector<Expected> expected;
  const int ops = 5 + static_cast<int>(rng() % 60);
  for (int op = 0; op < ops; ++op) {
    Expected e;
    e.key = "k" + std::to_string(seed) + "-" + std::to_string(op);
    e.topic = "Topic" + std::to_string(rng() % 2);
    e.queue_id = static_cast<int32_t>(rng() % 2);
    Message m = MakeMessage(e.topic, e.queue_id, "body-" + e.key, "TagA", e.key);
    int64_t now = h.clock.NowMillis();
    e.due_ms = now;
    switch (rng() % 3) {
      case 0:
        break;
      case 1: {
        int level = 1 + static_cast<int>(rng() % 4);  // 1 s .. 30 s
        m.SetProperty("DELAY", std::to_string(level));
        e.due_ms = now + levels.DelayMs(level);
        ++totals->parked;
        break;
      }
      default: {
        int64_t delay = static_cast<int64_t>(rng() % 20'000);
        m.SetProperty("TIMER_DELAY_MS", std::to_string(delay));
        e.due_ms = now + delay;
        ++totals->parked;
        break;
      }
    }
    auto put = PutMessage(h.store.get(), m);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    ASSERT_EQ(put->status, PutStatus::kOk);
    ASSERT_TRUE(put->durable);
    expected.push_back(e);
    ++totals->puts;
    if (chance(0.3)) h.clock.Advance(static_cast<int64_t>(rng() % 4'000));
    if (chance(0.15)) {
      Status s = h.store->AwaitScheduleRound(kAwaitMs);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }
  totals->deliveries_before_crash += static_cast<int>(h.store->Stats().timers_delivered);

  // Crash while the schedulers may be mid-round.
  if (chance(0.5)) h.clock.Advance(static_cast<int64_t>(rng() % 10'000));
  CrashMode mode = std::array{CrashMode::kDropUnsynced, CrashMode::kTornPrefix,
                              CrashMode::kRandomPages}[rng() % 3];
  h.CrashAndReopen({mode, seed});
  ASSERT_NE(h.store, nullptr);

  h.clock.Advance(int64_t{2} * 60 * 60 * 1000);  // past every due time
  for (int round = 0; round < 3; ++round) {
    Status s = h.store->AwaitScheduleRound(kAwaitMs);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::map<std::pair<std::string, int32_t>, std::vector<Delivered>> queues;
  for (const Expected& e : expected) {
    auto& q = queues[{e.topic, e.queue_id}];
    if (q.empty()) q = h.ReadAll(e.topic, e.queue_id);
  }
  for (const Expected& e : expected) {
    SCOPED_TRACE("key " + e.key);
    int copies = 0;
    for (const Delivered& d : queues[{e.topic, e.queue_id}]) {
      if (FindProperty(d.properties, property::kKeys) != e.key) continue;
      ++copies;
      EXPECT_EQ(d.body, "body-" + e.key);
      EXPECT_GE(d.store_timestamp_ms, e.due_ms) << "delivered early";
      EXPECT_EQ(FindProperty(d.properties, "REAL_TOPIC"), std::nullopt);
    }
    EXPECT_GE(copies, 1) << "an acknowledged message was lost";
    EXPECT_LE(copies, 2) << "re-delivered more than the crash allows";
    if (copies > 1) ++totals->redelivered;

    auto found = h.store->QueryByKey(e.topic, e.key, 0, std::numeric_limits<int64_t>::max(), 4);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    EXPECT_GE(found->size(), 1u) << "the index does not know the key";
    for (const RecordView& r : *found) {
      ParsedRecord parsed;
      ASSERT_TRUE(ParseRecord(r.bytes, true, &parsed).ok());
      EXPECT_EQ(parsed.topic, e.topic);
      EXPECT_EQ(FindProperty(parsed.properties, property::kKeys), e.key);
    }
  }
}

TEST(ScheduleCrashTest, KeysDelaysAndTimersSurviveRandomCrashPoints) {
  SeedTotals totals;
  int failures = 0;
  for (uint64_t seed : Seeds()) {
    RunSeed(seed, &totals);
    if (::testing::Test::HasFailure() && ++failures >= 3) break;
  }
  std::printf("[ crash    ] %d puts (%d parked), %d timers delivered before the crashes, "
              "%d messages delivered twice\n",
              totals.puts, totals.parked, totals.deliveries_before_crash, totals.redelivered);
}

}  // namespace
}  // namespace mqstore::test
