// Store::SendBack through the façade: the copy waits its delay level in the schedule topic
// and then appears in the group's retry topic; past the maximum it goes to the DLQ at once.
#include <gtest/gtest.h>

#include "mqstore/schedule/schedule_test_util.h"
#include "mqstore/send_back.h"
#include "mqstore/store/store_test_util.h"

namespace mqstore::test {
namespace {

TEST(StoreSendBackTest, RetryAfterTheDelayThenDeadLetter) {
  ScheduleStoreHarness h;
  h.built_in_schedule = true;
  h.Open();
  auto put = PutMessage(h.store.get(), MakeMessage("Orders", 0, "failed once", "TagA", "k1"));
  ASSERT_TRUE(put.ok());
  h.AwaitAll();

  SendBackRequest request;
  request.physical_offset = put->physical_offset;
  request.group = "Consumers";
  auto back = h.store->SendBack(request);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE(back->dead_lettered);
  EXPECT_EQ(back->delay_level, 3);
  EXPECT_EQ(back->reconsume_times, 1);

  h.AwaitAll();
  ASSERT_TRUE(h.store->AwaitScheduleRound(kAwaitMs).ok());
  EXPECT_TRUE(h.Bodies("%RETRY%Consumers", 0).empty());
  h.clock.Advance(10'000);
  ASSERT_TRUE(h.store->AwaitScheduleRound(kAwaitMs).ok());
  std::vector<Delivered> retried = h.ReadAll("%RETRY%Consumers", 0);
  ASSERT_EQ(retried.size(), 1u);
  EXPECT_EQ(retried[0].body, "failed once");
  EXPECT_EQ(retried[0].parsed.reconsume_times, 1);
  EXPECT_EQ(FindProperty(retried[0].properties, "RETRY_TOPIC"), "Orders");

  // The group allows no more tries: the retried copy goes straight to the DLQ.
  request.physical_offset = retried[0].parsed.physical_offset;
  request.max_reconsume_times = 1;
  auto dead = h.store->SendBack(request);
  ASSERT_TRUE(dead.ok()) << dead.status().ToString();
  EXPECT_TRUE(dead->dead_lettered);
  EXPECT_EQ(h.Bodies("%DLQ%Consumers", 0), std::vector<std::string>{"failed once"});
}

TEST(StoreSendBackTest, UnknownOffsetIsNotFound) {
  ScheduleStoreHarness h;
  h.Open();
  SendBackRequest request;
  request.physical_offset = 4096;
  request.group = "Consumers";
  EXPECT_TRUE(h.store->SendBack(request).status().IsNotFound());
}

}  // namespace
}  // namespace mqstore::test
