// Redelivery: restoring parked records and putting them back in batches.
#include "schedule/redelivery.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mqstore/schedule/schedule_test_util.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::Scheduled;
using test::ScheduleStoreHarness;

class RedeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override { h_.Open(); }

  // Parks `n` messages for Orders/1 with TIMER_DELAY_SEC=5 and returns the parked records.
  std::vector<test::Delivered> Park(int n, std::string topic = "Orders") {
    for (int i = 0; i < n; ++i) {
      h_.Put(Scheduled(topic, 1, "m" + std::to_string(i), "TIMER_DELAY_SEC", "5"));
    }
    return h_.ReadAll("rmq_sys_wheel_timer", 0);
  }

  ScheduleStoreHarness h_;
};

TEST_F(RedeliveryTest, PutsRestoredMessagesInOneBatchInOrder) {
  std::vector<test::Delivered> parked = Park(5);
  Redelivery r(*h_.store, RedeliveryOptions{});
  for (const auto& p : parked) r.Add(p.bytes, nullptr);
  EXPECT_FALSE(r.empty());
  ASSERT_OK(r.Flush());
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.delivered(), 5u);
  EXPECT_EQ(r.dropped(), 0u);
  EXPECT_EQ(h_.Bodies("Orders", 1), (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));
}

TEST_F(RedeliveryTest, IsFullAtTheMessageOrByteLimit) {
  std::vector<test::Delivered> parked = Park(3);
  Redelivery by_count(*h_.store, RedeliveryOptions{2, 1 << 20});
  by_count.Add(parked[0].bytes, nullptr);
  EXPECT_FALSE(by_count.full());
  by_count.Add(parked[1].bytes, nullptr);
  EXPECT_TRUE(by_count.full());
  by_count.Discard();
  EXPECT_TRUE(by_count.empty());

  Redelivery by_bytes(*h_.store, RedeliveryOptions{100, parked[0].bytes.size() + 1});
  by_bytes.Add(parked[0].bytes, nullptr);
  EXPECT_FALSE(by_bytes.full());
  by_bytes.Add(parked[1].bytes, nullptr);
  EXPECT_TRUE(by_bytes.full());
}

TEST_F(RedeliveryTest, DropsRecordsThatCannotBeRestoredOrStored) {
  std::vector<test::Delivered> parked = Park(2);
  // A parked message whose real topic the store refuses.
  Message bad = Scheduled("Orders", 1, "bad", "TIMER_DELAY_SEC", "5");
  std::string props;
  MessageView view = bad.View(&props);
  auto rewrite = RewriteForSchedule(view, {}, h_.clock.NowMillis());
  ASSERT_TRUE(rewrite.ok() && rewrite->has_value());
  std::string parked_props = (*rewrite)->properties;
  size_t at = parked_props.find("REAL_TOPIC\x01Orders");
  ASSERT_NE(at, std::string::npos);
  parked_props.replace(at, 17,
                       "REAL_TOPIC\x01"
                       "bad topic!");
  MessageView parked_view = (*rewrite)->Apply(view);
  parked_view.properties = parked_props;
  ASSERT_TRUE(h_.store->Put(parked_view).ok());
  std::vector<test::Delivered> all = h_.ReadAll("rmq_sys_wheel_timer", 0);
  ASSERT_EQ(all.size(), 3u);

  Redelivery r(*h_.store, RedeliveryOptions{});
  r.Add(parked[0].bytes, nullptr);
  r.Add(all[2].bytes, nullptr);              // rejected by the store
  r.Add(std::string_view("junk"), nullptr);  // does not parse
  r.Add(parked[1].bytes, nullptr);
  r.Drop();  // gone before it could be read
  ASSERT_OK(r.Flush());
  EXPECT_EQ(r.delivered(), 2u);
  EXPECT_EQ(r.dropped(), 3u);
  EXPECT_EQ(h_.Bodies("Orders", 1), (std::vector<std::string>{"m0", "m1"}));
}

TEST_F(RedeliveryTest, AFailedFlushEmptiesTheBatchAndReportsTheError) {
  std::vector<test::Delivered> parked = Park(2);
  Redelivery r(*h_.store, RedeliveryOptions{});
  r.Add(parked[0].bytes, nullptr);
  ASSERT_OK(h_.store->Close());
  Status s = r.Flush();
  EXPECT_TRUE(s.IsFailedPrecondition()) << s.ToString();
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.delivered(), 0u);
}

}  // namespace
}  // namespace mqstore
