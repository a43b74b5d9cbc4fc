// EndedTransactions: the done set of the check scan and when it forgets.
#include "transaction/ended_transactions.h"

#include <gtest/gtest.h>

#include <array>

namespace mqstore {
namespace {

TEST(TransactionEndedTransactionsTest, KnowsWhatOpRecordsEnded) {
  EndedTransactions ended;
  std::array<int64_t, 2> first = {3, 5};
  std::array<int64_t, 1> second = {5};
  ended.Add(/*op_offset=*/0, /*watermark=*/10, first);
  ended.Add(1, 12, second);
  EXPECT_TRUE(ended.Contains(3));
  EXPECT_TRUE(ended.Contains(5));
  EXPECT_FALSE(ended.Contains(4));
  EXPECT_TRUE(ended.HasOp(1));
  EXPECT_EQ(ended.op_count(), 2u);
  EXPECT_EQ(ended.transaction_count(), 2u);

  std::array<int64_t, 1> other = {99};
  ended.Add(1, 50, other);  // op 1 is known: the second sighting changes nothing
  EXPECT_FALSE(ended.Contains(99));
}

TEST(TransactionEndedTransactionsTest, RetiresInOpOrderOncePassedTheWatermark) {
  EndedTransactions ended;
  std::array<int64_t, 1> a = {3};
  std::array<int64_t, 1> b = {5};
  std::array<int64_t, 1> c = {3};
  ended.Add(0, 10, a);
  ended.Add(1, 20, b);
  ended.Add(2, 15, c);  // 3 ended twice (a repeated op after a crash, say)

  EXPECT_EQ(ended.Retire(/*half_progress=*/9, /*read_end=*/3), 0) << "nothing passed yet";
  EXPECT_EQ(ended.Retire(10, 3), 1);
  EXPECT_TRUE(ended.Contains(3)) << "op 2 still names it";
  EXPECT_EQ(ended.Retire(19, 3), 1) << "op 1 keeps op 2 (passed) from retiring: queue order";
  EXPECT_EQ(ended.Retire(20, 3), 3);
  EXPECT_EQ(ended.op_count(), 0u);
  EXPECT_EQ(ended.transaction_count(), 0u);
  EXPECT_FALSE(ended.Contains(3));
}

TEST(TransactionEndedTransactionsTest, OpsNotYetReadFromTheQueueStay) {
  EndedTransactions ended;
  std::array<int64_t, 1> a = {3};
  ended.Add(4, 5, a);  // written by this process, not yet read back
  EXPECT_EQ(ended.Retire(100, /*read_end=*/4), 4);
  EXPECT_TRUE(ended.Contains(3));
  EXPECT_EQ(ended.Retire(100, 5), 5);
  EXPECT_FALSE(ended.Contains(3));
}

}  // namespace
}  // namespace mqstore
