// TransactionService over a real store (MemEnv, manual clock): commit, rollback, repeated
// ends, the check scan, giving up, restarts and crashes.
#include "transaction/transaction_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "mqstore/schedule/schedule_test_util.h"
#include "mqstore/transaction.h"
#include "mqstore/transaction/transaction_test_util.h"
#include "schedule/schedule_progress.h"
#include "support/test_util.h"
#include "transaction/transaction_names.h"

namespace mqstore {
namespace {

using test::Delivered;
using test::Prepared;
using test::PutAsStore;
using test::ScheduleStoreHarness;
using Bodies = std::vector<std::string>;

constexpr int64_t kTimeout = 6000;

class TransactionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.Open();
    t0_ = h_.clock.NowMillis();
    service_ = Make();
  }

  std::unique_ptr<TransactionService> Make() {
    return std::make_unique<TransactionService>(*h_.store, progress_);
  }
  PutResult Prepare(const std::string& body, const std::string& unique_key = "UNIQ-1") {
    return PutAsStore(*h_.store, Prepared("Orders", 1, body, unique_key));
  }
  TransactionEndResult End(int64_t offset, TransactionResolution resolution) {
    auto r = service_->EndTransaction(offset, resolution);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    h_.AwaitAll();
    return r.ok() ? *r : TransactionEndResult{};
  }
  Status EndStatus(int64_t offset, TransactionResolution resolution) {
    return service_->EndTransaction(offset, resolution).status();
  }
  // A check pass at the harness clock's time, after moving it on by `advance_ms`.
  TransactionCheckResult Check(int64_t advance_ms = 0, size_t max = 100) {
    h_.clock.Advance(advance_ms);
    auto r = service_->Check(h_.clock.NowMillis(), max);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    h_.AwaitAll();
    return r.ok() ? std::move(r).value() : TransactionCheckResult{};
  }
  std::vector<std::string> CheckedBodies(const TransactionCheckResult& r) {
    std::vector<std::string> out;
    for (const TransactionCheck& c : r.checks) {
      ParsedRecord p;
      EXPECT_OK(ParseRecord(c.record.bytes, true, &p));
      out.push_back(std::string(p.body));
    }
    return out;
  }
  int64_t Committed(std::string_view name) {
    auto e = progress_.Load(name);
    EXPECT_TRUE(e.ok());
    return e.ok() && e->has_value() ? (*e)->offset : -1;
  }
  std::vector<Delivered> Ops() { return h_.ReadAll(transaction::kOpTopic, 0); }

  ScheduleStoreHarness h_;
  InMemoryScheduleProgressStore progress_;
  std::unique_ptr<TransactionService> service_;
  int64_t t0_ = 0;
};

TEST_F(TransactionServiceTest, APreparedMessageIsInvisibleUntilCommitted) {
  PutResult half = Prepare("pay 42");
  EXPECT_TRUE(h_.Bodies("Orders", 1).empty());
  std::vector<Delivered> halves = h_.ReadAll(transaction::kHalfTopic, 0);
  ASSERT_EQ(halves.size(), 1u);
  EXPECT_EQ(halves[0].body, "pay 42");
  EXPECT_EQ(FindProperty(halves[0].properties, "REAL_TOPIC"), "Orders");

  TransactionEndResult end = End(half.physical_offset, TransactionResolution::kCommit);
  EXPECT_FALSE(end.already_ended);
  ASSERT_TRUE(end.committed.has_value());
  ASSERT_TRUE(end.op.has_value());

  std::vector<Delivered> real = h_.ReadAll("Orders", 1);
  ASSERT_EQ(real.size(), 1u);
  const Delivered& m = real[0];
  EXPECT_EQ(m.body, "pay 42");
  EXPECT_EQ(m.queue_offset, end.committed->queue_offset);
  EXPECT_EQ(m.parsed.physical_offset, end.committed->physical_offset);
  EXPECT_EQ(m.parsed.sys_flag & sysflag::kTransactionMask, sysflag::kTransactionCommit);
  EXPECT_EQ(m.parsed.prepared_transaction_offset, half.physical_offset);
  EXPECT_EQ(m.parsed.born_timestamp_ms, test::MakeMessage("x", 0, "").born_timestamp_ms);
  for (const char* gone : {"TRAN_MSG", "REAL_TOPIC", "REAL_QID", "TRANSACTION_CHECK_TIMES"}) {
    EXPECT_FALSE(FindProperty(m.properties, gone)) << gone;
  }
  EXPECT_EQ(FindProperty(m.properties, "UNIQ_KEY"), "UNIQ-1");
  EXPECT_EQ(FindProperty(m.properties, "__transactionId__"), "UNIQ-1");
  EXPECT_EQ(FindProperty(m.properties, "PGROUP"), "ProducerGroupA");
  EXPECT_EQ(FindProperty(m.properties, "custom"), "value");
  EXPECT_EQ(FindProperty(m.properties, "KEYS"), "key-1");

  std::vector<Delivered> ops = Ops();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].body, "0,");
  EXPECT_EQ(FindProperty(ops[0].properties, "TAGS"), "d");
  EXPECT_EQ(ops[0].queue_offset, end.op->queue_offset);
}

TEST_F(TransactionServiceTest, RollbackWritesOnlyAnOpRecord) {
  Prepare("a");
  PutResult b = Prepare("b");
  TransactionEndResult end = End(b.physical_offset, TransactionResolution::kRollback);
  EXPECT_FALSE(end.committed.has_value());
  ASSERT_TRUE(end.op.has_value());
  EXPECT_TRUE(h_.Bodies("Orders", 1).empty());
  std::vector<Delivered> ops = Ops();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].body, "1,") << "b's half queue offset";
}

TEST_F(TransactionServiceTest, EndingTwiceWritesNothingMoreAndTheFirstResolutionStands) {
  PutResult half = Prepare("a");
  End(half.physical_offset, TransactionResolution::kCommit);
  TransactionEndResult again = End(half.physical_offset, TransactionResolution::kCommit);
  EXPECT_TRUE(again.already_ended);
  EXPECT_FALSE(again.committed.has_value());
  EXPECT_FALSE(again.op.has_value());
  EXPECT_TRUE(End(half.physical_offset, TransactionResolution::kRollback).already_ended);
  EXPECT_EQ(h_.Bodies("Orders", 1), Bodies{"a"});
  EXPECT_EQ(Ops().size(), 1u);

  PutResult rolled = Prepare("b");
  End(rolled.physical_offset, TransactionResolution::kRollback);
  EXPECT_TRUE(End(rolled.physical_offset, TransactionResolution::kCommit).already_ended);
  EXPECT_EQ(h_.Bodies("Orders", 1), Bodies{"a"});
}

TEST_F(TransactionServiceTest, EndingTwiceIsDetectedAfterARestart) {
  PutResult half = Prepare("a");
  End(half.physical_offset, TransactionResolution::kCommit);
  service_ = Make();
  EXPECT_TRUE(End(half.physical_offset, TransactionResolution::kCommit).already_ended);
  EXPECT_EQ(h_.Bodies("Orders", 1), Bodies{"a"});
}

TEST_F(TransactionServiceTest, EndingSomethingThatIsNotAHalfFailsCleanly) {
  PutResult half = Prepare("a");
  PutResult plain = PutAsStore(*h_.store, test::MakeMessage("Orders", 1, "plain"));
  EXPECT_EQ(EndStatus(plain.physical_offset, TransactionResolution::kCommit).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(EndStatus(half.physical_offset + 1, TransactionResolution::kCommit).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(EndStatus(int64_t{1} << 40, TransactionResolution::kRollback).code(),
            Status::Code::kNotFound);
  TransactionEndResult rollback = End(half.physical_offset, TransactionResolution::kRollback);
  EXPECT_EQ(EndStatus(rollback.op->physical_offset, TransactionResolution::kCommit).code(),
            Status::Code::kInvalidArgument)
      << "an op record is not a half either";
  EXPECT_EQ(h_.Bodies("Orders", 1), Bodies{"plain"});
  EXPECT_EQ(Ops().size(), 1u);
}

TEST_F(TransactionServiceTest, AHalfWithoutItsDestinationCannotCommitButCanRollBack) {
  Message broken = test::MakeMessage(std::string(transaction::kHalfTopic), 0, "broken");
  broken.SetProperty("TRAN_MSG", "true");
  PutResult half = PutAsStore(*h_.store, broken);
  EXPECT_EQ(EndStatus(half.physical_offset, TransactionResolution::kCommit).code(),
            Status::Code::kCorruption);
  EXPECT_TRUE(Ops().empty()) << "nothing written";
  EXPECT_TRUE(End(half.physical_offset, TransactionResolution::kRollback).op.has_value());
}

TEST_F(TransactionServiceTest, CheckReturnsAHalfOnlyOnceItIsOlderThanTheTimeout) {
  Prepare("a", "TX-A");
  TransactionCheckResult early = Check(kTimeout - 1);
  EXPECT_TRUE(early.checks.empty());
  EXPECT_EQ(early.next_check_ms, t0_ + kTimeout);

  TransactionCheckResult due = Check(1);
  ASSERT_EQ(due.checks.size(), 1u);
  const TransactionCheck& c = due.checks[0];
  EXPECT_EQ(c.real_topic, "Orders");
  EXPECT_EQ(c.real_queue_id, 1);
  EXPECT_EQ(c.transaction_id, "TX-A");
  EXPECT_EQ(c.producer_group, "ProducerGroupA");
  EXPECT_EQ(c.check_times, 1);
  EXPECT_EQ(c.queue_offset, 1) << "the copy, after the half at 0";
  ParsedRecord copy;
  ASSERT_OK(ParseRecord(c.record.bytes, true, &copy));
  EXPECT_EQ(copy.physical_offset, c.physical_offset);
  EXPECT_EQ(copy.topic, transaction::kHalfTopic);
  EXPECT_EQ(copy.body, "a");
  EXPECT_EQ(FindProperty(copy.properties, "TRANSACTION_CHECK_TIMES"), "1");
  EXPECT_EQ(FindProperty(copy.properties, "TRAN_PREPARED_QUEUE_OFFSET"), "0");
  EXPECT_TRUE(h_.Bodies("Orders", 1).empty());

  TransactionCheckResult again = Check();
  EXPECT_TRUE(again.checks.empty()) << "the copy counts from when it was appended";
  EXPECT_EQ(again.next_check_ms, t0_ + 2 * kTimeout);
  EXPECT_EQ(Check(kTimeout).checks.size(), 1u);
}

TEST_F(TransactionServiceTest, AHalfIsCheckedUpToTheMaximumThenParked) {
  PutResult half = Prepare("a");
  for (int i = 1; i <= 15; ++i) {
    TransactionCheckResult r = Check(kTimeout);
    ASSERT_EQ(r.checks.size(), 1u) << "check " << i;
    EXPECT_EQ(r.checks[0].check_times, i);
  }
  TransactionCheckResult r = Check(kTimeout);
  EXPECT_TRUE(r.checks.empty());
  EXPECT_EQ(r.parked, 1u);
  EXPECT_FALSE(r.next_check_ms.has_value());
  std::vector<Delivered> parked = h_.ReadAll(transaction::kCheckMaxTopic, 0);
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0].body, "a");
  EXPECT_EQ(FindProperty(parked[0].properties, "TRANSACTION_CHECK_TIMES"), "15");
  EXPECT_EQ(FindProperty(parked[0].properties, "REAL_TOPIC"), "Orders");

  r = Check(kTimeout);
  EXPECT_TRUE(r.checks.empty());
  EXPECT_EQ(r.parked, 0u);
  // A late answer from the producer still counts.
  EXPECT_TRUE(End(half.physical_offset, TransactionResolution::kCommit).committed.has_value());
  EXPECT_EQ(h_.Bodies("Orders", 1), Bodies{"a"});
}

TEST_F(TransactionServiceTest, EndedTransactionsAreNeverChecked) {
  PutResult a = Prepare("a");
  Prepare("b");
  PutResult c = Prepare("c");
  End(a.physical_offset, TransactionResolution::kCommit);
  End(c.physical_offset, TransactionResolution::kRollback);
  TransactionCheckResult r = Check(kTimeout);
  EXPECT_EQ(CheckedBodies(r), Bodies{"b"});
  EXPECT_EQ(r.skipped, 2u);

  // Ended through the copy the check returned ...
  End(r.checks[0].physical_offset, TransactionResolution::kCommit);
  PutResult d = Prepare("d");
  r = Check(kTimeout);
  EXPECT_EQ(CheckedBodies(r), Bodies{"d"});
  EXPECT_EQ(r.skipped, 1u) << "b's copy";
  // ... or through the original half after a copy was made: the copy is skipped.
  const int64_t d_copy = r.checks[0].physical_offset;
  End(d.physical_offset, TransactionResolution::kCommit);
  EXPECT_TRUE(End(d_copy, TransactionResolution::kCommit).already_ended);
  r = Check(kTimeout);
  EXPECT_TRUE(r.checks.empty());
  EXPECT_EQ(r.skipped, 1u);
  EXPECT_EQ(h_.Bodies("Orders", 1), (Bodies{"a", "b", "d"}));
  EXPECT_FALSE(Check(kTimeout).next_check_ms.has_value());
}

TEST_F(TransactionServiceTest, MaxChecksEndsAPassEarlyAndTheNextResumes) {
  for (const char* body : {"a", "b", "c", "d", "e"}) Prepare(body);
  TransactionCheckResult r = Check(kTimeout, 2);
  EXPECT_EQ(CheckedBodies(r), (Bodies{"a", "b"}));
  EXPECT_TRUE(r.more);
  r = Check(0, 2);
  EXPECT_EQ(CheckedBodies(r), (Bodies{"c", "d"}));
  r = Check(0, 2);
  EXPECT_EQ(CheckedBodies(r), Bodies{"e"});
  EXPECT_FALSE(r.more);
}

TEST_F(TransactionServiceTest, ANewServiceResumesFromTheCommittedProgress) {
  Prepare("a");
  PutResult b = Prepare("b");
  Prepare("c");
  End(b.physical_offset, TransactionResolution::kRollback);
  EXPECT_EQ(CheckedBodies(Check(kTimeout)), (Bodies{"a", "c"}));
  EXPECT_EQ(Committed(transaction::kHalfProgress), 3);

  service_ = Make();
  EXPECT_TRUE(Check().checks.empty()) << "the originals are not walked again";
  TransactionCheckResult r = Check(kTimeout);
  EXPECT_EQ(CheckedBodies(r), (Bodies{"a", "c"}));
  for (const TransactionCheck& c : r.checks) EXPECT_EQ(c.check_times, 2);
}

TEST_F(TransactionServiceTest, TheDoneSetForgetsOnceTheScanHasPassed) {
  std::vector<PutResult> halves;
  for (int i = 0; i < 50; ++i) halves.push_back(Prepare("m" + std::to_string(i)));
  for (int i = 0; i < 50; ++i) {
    End(halves[i].physical_offset,
        i % 2 ? TransactionResolution::kCommit : TransactionResolution::kRollback);
  }
  EXPECT_EQ(service_->ended_transactions(), 50u);
  TransactionCheckResult r = Check(kTimeout);
  EXPECT_TRUE(r.checks.empty());
  EXPECT_EQ(r.skipped, 50u);
  EXPECT_EQ(service_->ended_ops(), 0u);
  EXPECT_EQ(service_->ended_transactions(), 0u);
  EXPECT_EQ(Committed(transaction::kHalfProgress), 50);
  EXPECT_EQ(Committed(transaction::kOpProgress), 50);
  EXPECT_EQ(h_.Bodies("Orders", 1).size(), 25u);

  // A new service reads no retired op record back.
  service_ = Make();
  Check();
  EXPECT_EQ(service_->ended_ops(), 0u);
  EXPECT_EQ(service_->op_read_offset(), 50);
}

TEST_F(TransactionServiceTest, AnEndedTransactionStaysKnownUntilTheScanHasPassedItsCopies) {
  PutResult a = Prepare("a");
  Prepare("b");
  TransactionCheckResult r = Check(kTimeout);
  ASSERT_EQ(CheckedBodies(r), (Bodies{"a", "b"}));
  const int64_t a_copy = r.checks[0].physical_offset;
  End(a.physical_offset, TransactionResolution::kCommit);  // the original; its copy is ahead
  r = Check();
  EXPECT_EQ(r.skipped, 1u) << "a's copy";
  EXPECT_TRUE(r.checks.empty()) << "b's copy is young";
  EXPECT_EQ(service_->ended_transactions(), 1u) << "the scan stopped before every copy made";
  EXPECT_TRUE(End(a_copy, TransactionResolution::kCommit).already_ended);

  r = Check(kTimeout);
  EXPECT_EQ(CheckedBodies(r), Bodies{"b"});
  EXPECT_EQ(service_->ended_transactions(), 0u);
  EXPECT_EQ(h_.Bodies("Orders", 1), Bodies{"a"});
}

TEST_F(TransactionServiceTest, AMalformedHalfIsParkedNotChecked) {
  Message broken = test::MakeMessage(std::string(transaction::kHalfTopic), 0, "broken");
  broken.SetProperty("TRAN_MSG", "true");
  PutAsStore(*h_.store, broken);
  Prepare("good");
  TransactionCheckResult r = Check(kTimeout);
  EXPECT_EQ(CheckedBodies(r), Bodies{"good"});
  EXPECT_EQ(r.parked, 1u);
  EXPECT_EQ(h_.Bodies(transaction::kCheckMaxTopic, 0), Bodies{"broken"});
}

TEST_F(TransactionServiceTest, ACrashLosesNoUnresolvedHalf) {
  PutResult a = Prepare("a");
  Prepare("b");
  Prepare("c");
  End(a.physical_offset, TransactionResolution::kCommit);
  ASSERT_OK(h_.store->Flush());
  EXPECT_EQ(CheckedBodies(Check(kTimeout)), (Bodies{"b", "c"}));

  service_.reset();
  h_.CrashAndReopen();
  service_ = Make();
  TransactionCheckResult r = Check(kTimeout);
  EXPECT_EQ(CheckedBodies(r), (Bodies{"b", "c"}));
  for (const TransactionCheck& c : r.checks) EXPECT_EQ(c.check_times, 2);
  EXPECT_EQ(h_.Bodies("Orders", 1), Bodies{"a"});
}

TEST_F(TransactionServiceTest, ACrashBeforeTheProgressCommitRepeatsChecksButNotCommits) {
  Prepare("x");
  ASSERT_OK(h_.store->Flush());
  h_.clock.Advance(kTimeout);
  progress_.FailNextCommits(1);
  EXPECT_EQ(service_->Check(h_.clock.NowMillis(), 100).status().code(), Status::Code::kIOError);

  service_.reset();
  h_.CrashAndReopen();
  service_ = Make();
  TransactionCheckResult r = Check();
  ASSERT_EQ(CheckedBodies(r), Bodies{"x"}) << "walked again: at-least-once";
  End(r.checks[0].physical_offset, TransactionResolution::kCommit);
  r = Check(kTimeout);
  EXPECT_TRUE(r.checks.empty());
  EXPECT_EQ(r.skipped, 2u) << "both copies name the same transaction";
  EXPECT_EQ(h_.Bodies("Orders", 1), Bodies{"x"});
}

TEST_F(TransactionServiceTest, AClockThatWentBackDoesNotHideHalves) {
  Prepare("a");
  auto r = service_->Check(t0_ - 60'000, 100);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(CheckedBodies(*r), Bodies{"a"}) << "stored in the future counts as due now";
}

TEST_F(TransactionServiceTest, WorksOnASyncFlushStoreWithNoWaitMessages) {
  service_.reset();
  h_.store.reset();
  StoreOptions o = h_.Options(h_.env());
  o.flush_mode = FlushMode::kSync;
  auto opened = Store::Open(o, ScheduleStoreHarness::kDir);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  h_.store = std::move(opened).value();
  service_ = Make();

  Message m = Prepared("Orders", 1, "a");
  m.SetProperty("WAIT", "false");
  PutResult half = PutAsStore(*h_.store, m);
  TransactionCheckResult r = Check(kTimeout);
  ASSERT_EQ(CheckedBodies(r), Bodies{"a"}) << "the copy, or the half it was made from";
  TransactionEndResult end = End(r.checks[0].physical_offset, TransactionResolution::kCommit);
  ASSERT_TRUE(end.committed.has_value());
  EXPECT_EQ(h_.Bodies("Orders", 1), Bodies{"a"});
  EXPECT_TRUE(End(half.physical_offset, TransactionResolution::kRollback).already_ended);
}

TEST_F(TransactionServiceTest, OptionsComeFromTheStoreOptions) {
  StoreOptions o;
  o.transaction_timeout_ms = 1234;
  o.transaction_check_max = 3;
  TransactionServiceOptions t = TransactionServiceOptions::FromStoreOptions(o);
  EXPECT_EQ(t.timeout_ms, 1234);
  EXPECT_EQ(t.check_max, 3);
}

}  // namespace
}  // namespace mqstore
