#include "queue/queue_time_search.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "mqstore/mem_env.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

// A queue whose entry i points at physical offset 100 * i; the "log" says when each record
// was stored, and which records are gone (below the log's minimum).
class QueueTimeSearchTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(env_->CreateDir("/store")); }
  void AddEntries(std::initializer_list<int64_t> store_times) {
    for (int64_t t : store_times) {
      int64_t offset = queue_.max_offset();
      ASSERT_OK(queue_.Append(offset, QueueEntry{100 * offset, 100, 0}));
      times_[100 * offset] = t;
    }
  }
  StoreTimeAt Log() {
    return [this](int64_t physical) -> std::optional<int64_t> {
      if (physical < log_min_) return std::nullopt;
      auto it = times_.find(physical);
      if (it == times_.end()) return std::nullopt;
      return it->second;
    };
  }

  std::unique_ptr<MemEnv> env_ = NewMemEnv();
  ConsumeQueue queue_{env_.get(), "/store", "T", 0, 4};  // 4 entries per file
  std::map<int64_t, int64_t> times_;
  int64_t log_min_ = 0;
};

TEST_F(QueueTimeSearchTest, FindsTheFirstOffsetStoredAtOrAfterTheTime) {
  AddEntries({1000, 1000, 2000, 3000, 3000, 3000, 5000, 9000, 9000});
  EXPECT_EQ(FindQueueOffsetByTime(queue_, Log(), 0), 0);
  EXPECT_EQ(FindQueueOffsetByTime(queue_, Log(), 1000), 0);
  EXPECT_EQ(FindQueueOffsetByTime(queue_, Log(), 1001), 2);
  EXPECT_EQ(FindQueueOffsetByTime(queue_, Log(), 3000), 3);
  EXPECT_EQ(FindQueueOffsetByTime(queue_, Log(), 4000), 6);
  EXPECT_EQ(FindQueueOffsetByTime(queue_, Log(), 9000), 7);
  EXPECT_EQ(FindQueueOffsetByTime(queue_, Log(), 9001), 9);  // later than all: max offset
  EXPECT_EQ(EarliestStoreTime(queue_, Log()), 1000);
}

TEST_F(QueueTimeSearchTest, AnEmptyQueueHasNoEarliestTime) {
  EXPECT_EQ(FindQueueOffsetByTime(queue_, Log(), 123), 0);
  EXPECT_FALSE(EarliestStoreTime(queue_, Log()).has_value());
}

TEST_F(QueueTimeSearchTest, EntriesWhoseRecordsAreGoneCountAsOlder) {
  AddEntries({1000, 2000, 3000, 4000, 5000, 6000});
  log_min_ = 300;  // records of entries 0..2 were removed by retention
  EXPECT_EQ(FindQueueOffsetByTime(queue_, Log(), 0), 3);
  EXPECT_EQ(FindQueueOffsetByTime(queue_, Log(), 5000), 4);
  EXPECT_EQ(EarliestStoreTime(queue_, Log()), 4000);
  log_min_ = 1'000'000;  // everything gone
  EXPECT_FALSE(EarliestStoreTime(queue_, Log()).has_value());
  EXPECT_EQ(FindQueueOffsetByTime(queue_, Log(), 0), queue_.max_offset());
}

TEST_F(QueueTimeSearchTest, LongQueuesNeedOnlyLogarithmicallyManyReads) {
  for (int i = 0; i < 1000; ++i) AddEntries({10 * static_cast<int64_t>(i)});
  int reads = 0;
  StoreTimeAt counting = [&](int64_t physical) {
    ++reads;
    return Log()(physical);
  };
  EXPECT_EQ(FindQueueOffsetByTime(queue_, counting, 5555), 556);
  EXPECT_LE(reads, 11);
}

}  // namespace
}  // namespace mqstore
