// Retention through the store façade: expired segments go at a delete_when hour, a full disk
// forces old segments out and refuses puts until there is room again, and reads below a
// queue's new minimum say so. Time is a ManualClock, disk size a MemEnv capacity.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mqstore/inspect.h"
#include "mqstore/mem_env.h"
#include "mqstore/store.h"
#include "mqstore/store/store_test_util.h"
#include "retention/retention_service.h"
#include "support/test_util.h"

namespace mqstore::test {
namespace {

constexpr int64_t kHourMs = 60 * 60 * 1000;
constexpr uint64_t kSegmentBytes = 64 << 10;

// A time at which the local hour is `hour` (retention's delete_when is in local time).
int64_t AtLocalHour(int64_t from_ms, int hour) {
  int64_t t = from_ms - from_ms % kHourMs;
  while (LocalHourOf(t) != hour) t += kHourMs;
  return t;
}

class StoreRetentionTest : public ::testing::Test {
 protected:
  void Open() {
    StoreOptions o;
    o.env = env_.get();
    o.clock = &clock_;
    o.commitlog_segment_bytes = kSegmentBytes;
    o.consume_queue_entries_per_file = 64;
    o.max_message_bytes = 16 << 10;
    o.write_buffer_bytes = 1 << 20;
    o.resident_log_window_bytes = 0;
    o.index_slots_per_file = 64;
    o.index_entries_per_file = 256;
    o.delete_when = "04";
    auto opened = Store::Open(o, "/store");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  // Puts 1 KiB messages into Orders/0 until the log has `segments` full segments.
  void FillSegments(size_t segments) {
    while (store_->Stats().appended_offset < static_cast<int64_t>(segments * kSegmentBytes)) {
      auto put = PutMessage(store_.get(), MakeMessage("Orders", 0, std::string(1000, 'x'), "",
                                                      "k" + std::to_string(puts_++)));
      ASSERT_TRUE(put.ok()) << put.status().ToString();
    }
    ASSERT_TRUE(store_->AwaitDispatched(store_->Stats().appended_offset, 10'000).ok());
  }
  uint64_t Used() { return env_->GetDiskSpace("/store").value().total_bytes -
                           env_->GetDiskSpace("/store").value().available_bytes; }

  std::unique_ptr<MemEnv> env_ = NewMemEnv();
  ManualClock clock_{AtLocalHour(1'700'000'000'000, 3)};
  std::unique_ptr<Store> store_;
  int puts_ = 0;
};

TEST_F(StoreRetentionTest, ExpiredSegmentsGoAtTheDeleteHourAndReadsBelowSayTooSmall) {
  Open();
  FillSegments(5);
  const int64_t first_offset_before = store_->GetQueueBounds("Orders", 0)->min_offset;
  ASSERT_EQ(first_offset_before, 0);

  // 72 hours later, but at 03:00: nothing goes.
  clock_.Advance(72 * kHourMs);
  ASSERT_TRUE(store_->RunRetention().ok());
  EXPECT_EQ(store_->Stats().min_physical_offset, 0);

  // 04:00: every full, expired segment goes, oldest first; the active one stays.
  clock_.Advance(kHourMs);
  FillSegments(6);  // a record stored now dates the segment before it
  ASSERT_TRUE(store_->RunRetention().ok());
  StoreStats stats = store_->Stats();
  EXPECT_GE(stats.min_physical_offset, static_cast<int64_t>(4 * kSegmentBytes));
  EXPECT_FALSE(stats.writes_refused);

  auto bounds = store_->GetQueueBounds("Orders", 0);
  ASSERT_TRUE(bounds.ok());
  EXPECT_GT(bounds->min_offset, 0);
  auto read = store_->Read("Orders", 0, 0, 10, 1 << 20);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->status, ReadStatus::kOffsetTooSmall);
  EXPECT_EQ(read->next_offset, bounds->min_offset);
  auto from_min = store_->Read("Orders", 0, bounds->min_offset, 1, 1 << 20);
  ASSERT_TRUE(from_min.ok());
  EXPECT_EQ(from_min->status, ReadStatus::kFound);
  EXPECT_TRUE(store_->ReadRecord(0).status().IsNotFound());
  // The index no longer answers for removed records; it does for the kept ones.
  EXPECT_TRUE(store_->QueryByKey("Orders", "k0", 0, INT64_MAX, 4)->empty());
  EXPECT_EQ(store_->QueryByKey("Orders", "k" + std::to_string(puts_ - 1), 0, INT64_MAX, 4)->size(),
            1u);

  // Reopened, the store starts at the new minimum.
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  Open();
  EXPECT_EQ(store_->Stats().min_physical_offset, stats.min_physical_offset);
  EXPECT_EQ(store_->GetQueueBounds("Orders", 0)->min_offset, bounds->min_offset);

  // And mqdump verify finds nothing wrong with what retention left.
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  InspectOptions inspect;
  inspect.env = env_.get();
  auto inspector = StoreInspector::Open("/store", inspect);
  ASSERT_TRUE(inspector.ok()) << inspector.status().ToString();
  std::vector<std::string> problems;
  VerifyOptions verify;
  verify.report = [&](const Problem& p) {
    if (p.severity != Severity::kNote) problems.push_back(p.path + ": " + p.message);
  };
  auto summary = (*inspector)->Verify(verify);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(summary->log_start, stats.min_physical_offset);
}

TEST_F(StoreRetentionTest, AFullDiskRefusesPutsUntilThereIsRoomAgain) {
  Open();
  for (int i = 0; i < 10; ++i) {  // only the active segment: nothing can be removed
    ASSERT_TRUE(PutMessage(store_.get(), MakeMessage("Orders", 0, std::string(1000, 'x'))).ok());
  }
  env_->SetCapacity(Used() * 100 / 95);
  ASSERT_TRUE(store_->RunRetention().ok());
  EXPECT_TRUE(store_->Stats().writes_refused);
  int64_t end = store_->Stats().appended_offset;
  auto refused = PutMessage(store_.get(), MakeMessage("Orders", 0, "no room"));
  EXPECT_TRUE(refused.status().IsResourceExhausted()) << refused.status().ToString();
  EXPECT_NE(refused.status().ToString().find("disk_refuse_writes_percent"), std::string::npos);
  EXPECT_EQ(store_->Stats().appended_offset, end);

  env_->SetCapacity(Used() * 2);  // an operator made room
  ASSERT_TRUE(store_->RunRetention().ok());
  EXPECT_FALSE(store_->Stats().writes_refused);
  EXPECT_TRUE(PutMessage(store_.get(), MakeMessage("Orders", 0, "room again")).ok());
}

TEST_F(StoreRetentionTest, AlmostFullDiskForcesOutSegmentsThatAreNotExpired) {
  Open();
  FillSegments(6);
  env_->SetCapacity(Used() * 100 / 92);  // over the 90% refuse line, nothing expired
  ASSERT_TRUE(store_->RunRetention().ok());
  StoreStats stats = store_->Stats();
  EXPECT_GT(stats.min_physical_offset, 0);
  EXPECT_FALSE(stats.writes_refused) << "removing old segments made room in the same round";
  EXPECT_TRUE(PutMessage(store_.get(), MakeMessage("Orders", 0, "fits")).ok());
}

TEST(StoreRetentionOptionsTest, BadDeleteWhenIsRejectedAtOpen) {
  auto env = NewMemEnv();
  StoreOptions o;
  o.env = env.get();
  o.delete_when = "04;25";
  auto opened = Store::Open(o, "/store");
  EXPECT_TRUE(opened.status().IsInvalidArgument()) << opened.status().ToString();
  EXPECT_NE(opened.status().ToString().find("delete_when"), std::string::npos);
}

}  // namespace
}  // namespace mqstore::test
