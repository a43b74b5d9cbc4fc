// Scheduled delivery through the store façade: Put parks delay-level and timer messages,
// the store's own schedulers deliver them when the (injected) clock says they are due, and
// their progress survives a clean reopen, with and without the LMDB metadata store.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <atomic>
#include <string>
#include <vector>

#include "mqstore/store.h"
#include "schedule/schedule_names.h"
#include "mqstore/schedule/schedule_test_util.h"
#include "mqstore/store/store_test_util.h"

namespace mqstore::test {
namespace {

using schedule::kScheduleTopic;
using schedule::kTimerTopic;

class StoreScheduleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.built_in_schedule = true;
    h_.Open();
  }

  PutResult MustPut(const Message& m) {
    auto put = PutMessage(h_.store.get(), m);
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    return put.ok() ? *put : PutResult{};
  }
  // The topic of the record a put stored.
  std::string StoredTopic(const PutResult& put) {
    auto record = h_.store->ReadRecord(put.physical_offset);
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    if (!record.ok()) return "";
    ParsedRecord parsed;
    EXPECT_TRUE(ParseRecord(record->bytes, true, &parsed).ok());
    return std::string(parsed.topic);
  }
  void Round() {
    h_.AwaitAll();
    Status s = h_.store->AwaitScheduleRound(kAwaitMs);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  ScheduleStoreHarness h_;
};

TEST_F(StoreScheduleTest, DelayLevelMessageIsParkedThenDeliveredWhenDue) {
  PutResult put = MustPut(Scheduled("Orders", 2, "late", "DELAY", "3"));  // level 3: 10 s
  EXPECT_EQ(StoredTopic(put), kScheduleTopic);
  EXPECT_EQ(h_.Bodies(kScheduleTopic, 2), std::vector<std::string>{"late"});
  Round();
  EXPECT_TRUE(h_.Bodies("Orders", 2).empty()) << "delivered before its delay";

  h_.clock.Advance(9'999);
  Round();
  EXPECT_TRUE(h_.Bodies("Orders", 2).empty()) << "delivered 1 ms early";

  h_.clock.Advance(1);
  Round();
  std::vector<Delivered> delivered = h_.ReadAll("Orders", 2);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].body, "late");
  EXPECT_EQ(FindProperty(delivered[0].properties, "custom"), "value");
  EXPECT_EQ(FindProperty(delivered[0].properties, "DELAY"), std::nullopt);
  EXPECT_EQ(FindProperty(delivered[0].properties, "REAL_TOPIC"), std::nullopt);
}

TEST_F(StoreScheduleTest, TimerMessageIsDeliveredAtItsTime) {
  PutResult put = MustPut(Scheduled("Orders", 0, "timer", "TIMER_DELAY_SEC", "90"));
  EXPECT_EQ(StoredTopic(put), kTimerTopic);
  Round();
  h_.clock.Advance(89'000);
  Round();
  EXPECT_TRUE(h_.Bodies("Orders", 0).empty());
  EXPECT_EQ(h_.store->Stats().timers_pending, 1u);

  h_.clock.Advance(1'000);
  Round();
  EXPECT_EQ(h_.Bodies("Orders", 0), std::vector<std::string>{"timer"});
  EXPECT_EQ(h_.store->Stats().timers_delivered, 1u);
  EXPECT_EQ(h_.store->Stats().timers_pending, 0u);
}

TEST_F(StoreScheduleTest, BatchMessagesAreParkedOneByOne) {
  std::vector<Message> batch = {MakeMessage("Orders", 1, "now"),
                                Scheduled("Orders", 1, "in-1s", "DELAY", "1"),
                                Scheduled("Orders", 1, "in-5s", "TIMER_DELAY_MS", "5000")};
  auto put = PutMessages(h_.store.get(), batch);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(StoredTopic(put->items[0]), "Orders");
  EXPECT_EQ(StoredTopic(put->items[1]), kScheduleTopic);
  EXPECT_EQ(StoredTopic(put->items[2]), kTimerTopic);
  Round();
  h_.clock.Advance(1'000);
  Round();
  EXPECT_EQ(h_.Bodies("Orders", 1), (std::vector<std::string>{"now", "in-1s"}));
  h_.clock.Advance(4'000);
  Round();
  EXPECT_EQ(h_.Bodies("Orders", 1), (std::vector<std::string>{"now", "in-1s", "in-5s"}));
}

TEST_F(StoreScheduleTest, BadDeliveryTimesAreRejectedAndNothingIsWritten) {
  int64_t before = h_.store->Stats().appended_offset;
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"TIMER_DELAY_SEC", "soon"},
           {"TIMER_DELAY_MS", "-5"},
           {"DELAY", "x"},
           {"TIMER_DELAY_SEC", std::to_string(4 * 24 * 3600)}}) {  // past the 3-day horizon
    auto put = PutMessage(h_.store.get(), Scheduled("Orders", 0, "bad", name, value));
    EXPECT_TRUE(put.status().IsInvalidArgument()) << name << "=" << value << ": "
                                                  << put.status().ToString();
  }
  std::vector<Message> batch = {MakeMessage("Orders", 0, "fine"),
                                Scheduled("Orders", 0, "bad", "TIMER_DELAY_MS", "-1")};
  auto put = PutMessages(h_.store.get(), batch);
  EXPECT_TRUE(put.status().IsInvalidArgument()) << put.status().ToString();
  EXPECT_NE(put.status().ToString().find("batch message 1"), std::string::npos);
  EXPECT_EQ(h_.store->Stats().appended_offset, before);
}

TEST_F(StoreScheduleTest, DeliveryTimeInThePastIsStoredDirectly) {
  PutResult put = MustPut(Scheduled("Orders", 0, "past", "TIMER_DELIVER_MS",
                                    std::to_string(h_.clock.NowMillis() - 1)));
  EXPECT_EQ(StoredTopic(put), "Orders");
}

TEST_F(StoreScheduleTest, UserArrivalListenerStillSeesEveryTopic) {
  std::atomic<int> orders{0}, parked{0};
  h_.store->SetArrivalListener([&](std::string_view topic, int32_t, int64_t) {
    if (topic == "Orders") ++orders;
    if (topic == kScheduleTopic) ++parked;
  });
  MustPut(Scheduled("Orders", 0, "late", "DELAY", "1"));
  Round();
  h_.clock.Advance(1'000);
  Round();
  h_.AwaitAll();
  EXPECT_EQ(parked.load(), 1);
  EXPECT_EQ(orders.load(), 1);
}

TEST_F(StoreScheduleTest, ProgressSurvivesACleanReopen) {
  MustPut(Scheduled("Orders", 0, "first", "DELAY", "1"));
  MustPut(Scheduled("Orders", 0, "timer", "TIMER_DELAY_SEC", "2"));
  Round();
  h_.clock.Advance(2'000);
  Round();
  ASSERT_EQ(h_.Bodies("Orders", 0).size(), 2u);
  ASSERT_TRUE(h_.store->Close().ok());
  h_.store.reset();

  h_.Open();
  MustPut(Scheduled("Orders", 0, "second", "DELAY", "1"));
  Round();
  h_.clock.Advance(1'000);
  Round();
  // Nothing delivered twice: each scheduler resumed after what it had delivered.
  std::vector<std::string> bodies = h_.Bodies("Orders", 0);
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(bodies, (std::vector<std::string>{"first", "second", "timer"}));
}

TEST(StoreScheduleOptionsTest, OffStoresRequestsAsOrdinaryProperties) {
  ScheduleStoreHarness h;
  h.Open();  // built_in_schedule stays false
  auto put = PutMessage(h.store.get(), Scheduled("Orders", 0, "b", "DELAY", "3"));
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(h.Bodies("Orders", 0), std::vector<std::string>{"b"});
  EXPECT_TRUE(h.store->AwaitScheduleRound(100).IsFailedPrecondition());
}

TEST(StoreScheduleOptionsTest, BadDelayLevelsAreRejectedAtOpen) {
  ScheduleStoreHarness h;
  StoreOptions o = h.Options(h.env());
  o.enable_schedule = true;
  o.delay_levels = "1s 5x";
  auto opened = Store::Open(o, "/store");
  EXPECT_TRUE(opened.status().IsInvalidArgument()) << opened.status().ToString();
  EXPECT_NE(opened.status().ToString().find("delay_levels"), std::string::npos);
}

// With the POSIX Env the progress lives in the LMDB metadata store.
TEST(StoreScheduleMetadataTest, ProgressIsKeptInTheMetadataStore) {
  TempDir dir;
  ManualClock clock;
  StoreOptions o;
  o.clock = &clock;
  o.commitlog_segment_bytes = 1 << 20;
  o.index_slots_per_file = 512;
  o.index_entries_per_file = 2048;
  auto opened = Store::Open(o, dir.Sub("store"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Store> store = std::move(opened).value();
  ASSERT_TRUE(PutMessage(store.get(), Scheduled("Orders", 0, "late", "DELAY", "2")).ok());
  ASSERT_TRUE(store->AwaitDispatched(store->Stats().appended_offset, kAwaitMs).ok());
  ASSERT_TRUE(store->AwaitScheduleRound(kAwaitMs).ok());
  clock.Advance(5'000);
  ASSERT_TRUE(store->AwaitScheduleRound(kAwaitMs).ok());
  auto progress = store->metadata()->LoadScheduleProgress();
  ASSERT_TRUE(progress.ok()) << progress.status().ToString();
  bool found = false;
  for (const ScheduleProgress& p : *progress) {
    if (p.name == "delay-level-2") {
      found = true;
      EXPECT_EQ(p.offset, 1);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("store/schedule_progress")));
  ASSERT_TRUE(store->Close().ok());
}

}  // namespace
}  // namespace mqstore::test
