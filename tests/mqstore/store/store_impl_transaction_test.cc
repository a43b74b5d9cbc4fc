// Transactions through the store façade: a prepared put becomes a half message, and
// EndTransaction / CheckTransactions reach the store's TransactionService.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "mqstore/schedule/schedule_test_util.h"
#include "mqstore/store/store_test_util.h"
#include "mqstore/transaction.h"

namespace mqstore::test {
namespace {

class StoreTransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.built_in_schedule = true;  // the store as configured by default
    h_.Open();
  }
  PutResult PutPrepared(const std::string& body) {
    Message m = MakeMessage("Orders", 1, body, "TagA", "key-" + body);
    m.sys_flag = sysflag::kTransactionPrepared;
    m.SetProperty("PGROUP", "producers");
    auto put = PutMessage(h_.store.get(), m);
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    return put.ok() ? *put : PutResult{};
  }

  ScheduleStoreHarness h_;
};

TEST_F(StoreTransactionTest, CommitPutsTheMessageIntoItsTopicAndRollbackDoesNot) {
  PutResult commit_me = PutPrepared("commit-me");
  PutResult roll_me_back = PutPrepared("roll-me-back");
  EXPECT_TRUE(h_.Bodies("Orders", 1).empty()) << "a half message is visible in its topic";
  EXPECT_EQ(h_.Bodies(transaction::kHalfTopic, 0).size(), 2u);

  auto committed = h_.store->EndTransaction(commit_me.physical_offset,
                                            TransactionResolution::kCommit);
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  ASSERT_TRUE(committed->committed.has_value());
  auto rolled_back = h_.store->EndTransaction(roll_me_back.physical_offset,
                                              TransactionResolution::kRollback);
  ASSERT_TRUE(rolled_back.ok()) << rolled_back.status().ToString();
  EXPECT_FALSE(rolled_back->committed.has_value());

  std::vector<Delivered> orders = h_.ReadAll("Orders", 1);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].body, "commit-me");
  EXPECT_EQ(orders[0].parsed.sys_flag & sysflag::kTransactionMask, sysflag::kTransactionCommit);
  EXPECT_EQ(orders[0].parsed.prepared_transaction_offset, commit_me.physical_offset);
  EXPECT_EQ(FindProperty(orders[0].properties, "REAL_TOPIC"), std::nullopt);
  EXPECT_EQ(h_.Bodies(transaction::kOpTopic, 0).size(), 2u);

  // Ending again changes nothing.
  auto again = h_.store->EndTransaction(commit_me.physical_offset, TransactionResolution::kCommit);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_ended);
  EXPECT_EQ(h_.Bodies("Orders", 1).size(), 1u);
}

TEST_F(StoreTransactionTest, UnresolvedHalvesAreCheckedAfterTheTimeout) {
  PutResult half = PutPrepared("undecided");
  h_.AwaitAll();
  auto early = h_.store->CheckTransactions(16);
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_TRUE(early->checks.empty());

  h_.clock.Advance(6'000);  // transaction_timeout_ms
  auto due = h_.store->CheckTransactions(16);
  ASSERT_TRUE(due.ok()) << due.status().ToString();
  ASSERT_EQ(due->checks.size(), 1u);
  const TransactionCheck& check = due->checks[0];
  EXPECT_EQ(check.real_topic, "Orders");
  EXPECT_EQ(check.real_queue_id, 1);
  EXPECT_EQ(check.producer_group, "producers");
  EXPECT_EQ(check.check_times, 1);
  EXPECT_NE(check.physical_offset, half.physical_offset);  // the re-appended copy

  // The producer answers for the copy: the transaction commits once.
  ASSERT_TRUE(h_.store->EndTransaction(check.physical_offset, TransactionResolution::kCommit).ok());
  EXPECT_EQ(h_.Bodies("Orders", 1), std::vector<std::string>{"undecided"});
  h_.clock.Advance(60'000);
  auto later = h_.store->CheckTransactions(16);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->checks.empty());
}

TEST_F(StoreTransactionTest, EndingSomethingElseFailsCleanly) {
  auto plain = PutMessage(h_.store.get(), MakeMessage("Orders", 0, "plain"));
  ASSERT_TRUE(plain.ok());
  h_.AwaitAll();
  EXPECT_TRUE(h_.store->EndTransaction(plain->physical_offset, TransactionResolution::kCommit)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(h_.store->EndTransaction(1 << 20, TransactionResolution::kRollback)
                  .status()
                  .IsNotFound());
}

TEST_F(StoreTransactionTest, APreparedMessageCannotAlsoBeDelayed) {
  Message m = MakeMessage("Orders", 1, "both");
  m.sys_flag = sysflag::kTransactionPrepared;
  m.SetProperty("DELAY", "2");
  EXPECT_TRUE(PutMessage(h_.store.get(), m).status().IsInvalidArgument());
}

// Close tears down the transaction service and the progress it keeps; calls racing with it
// either finish before or see the store closed.
TEST_F(StoreTransactionTest, CallsRacingWithCloseFinishOrSeeItClosed) {
  std::vector<PutResult> halves;
  for (int i = 0; i < 50; ++i) halves.push_back(PutPrepared("h" + std::to_string(i)));
  h_.AwaitAll();
  h_.clock.Advance(6'000);
  std::atomic<bool> done{false};
  std::atomic<int> closed_seen{0};
  std::atomic<int> calls{0};
  std::thread caller([&] {
    for (size_t i = 0; !done.load(); ++i, ++calls) {
      auto end = h_.store->EndTransaction(halves[i % halves.size()].physical_offset,
                                          TransactionResolution::kRollback);
      auto check = h_.store->CheckTransactions(4);
      for (const Status& s : {end.status(), check.status()}) {
        if (s.IsFailedPrecondition()) {
          ++closed_seen;
        } else {
          EXPECT_TRUE(s.ok()) << s.ToString();
        }
      }
    }
  });
  while (calls.load() < 20) std::this_thread::yield();  // calls are in flight
  Status closed = h_.store->Close();
  EXPECT_TRUE(closed.ok()) << closed.ToString();
  while (closed_seen.load() == 0) std::this_thread::yield();
  done = true;
  caller.join();
}

}  // namespace
}  // namespace mqstore::test
