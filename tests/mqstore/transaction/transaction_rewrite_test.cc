// RewriteForHalf, RestoreForCommit, the check and parking copies, and the op body format.
#include "transaction/transaction_rewrite.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "mqstore/transaction.h"
#include "mqstore/transaction/transaction_test_util.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using Props = std::vector<std::pair<std::string, std::string>>;
using test::MakeMessage;
using test::Prepared;

// A half record as the store would return it: the stored message's fields, the given
// offsets, and a trailing __CRC32# pair (which every copy must drop).
struct FakeRecord {
  std::string topic;
  std::string body;
  std::string properties;
  ParsedRecord parsed;

  FakeRecord(const MessageView& v, int64_t physical_offset, int64_t queue_offset)
      : topic(v.topic), body(v.body), properties(v.properties) {
    properties += "__CRC32#\x01" "12345\x02";
    parsed.topic = topic;
    parsed.body = body;
    parsed.properties = properties;
    parsed.queue_id = v.queue_id;
    parsed.flag = v.flag;
    parsed.sys_flag = v.sys_flag;
    parsed.born_timestamp_ms = v.born_timestamp_ms;
    parsed.born_host = v.born_host;
    parsed.store_timestamp_ms = v.born_timestamp_ms + 5;
    parsed.reconsume_times = v.reconsume_times;
    parsed.prepared_transaction_offset = v.prepared_transaction_offset;
    parsed.physical_offset = physical_offset;
    parsed.queue_offset = queue_offset;
  }
};

class TransactionRewriteTest : public ::testing::Test {
 protected:
  // The half that `m` is stored as; fails the test when it is not rewritten.
  std::string HalfProperties(const Message& m, MessageView* half) {
    view_ = m.View(&props_);
    auto r = RewriteForHalf(view_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || !*r) {
      ADD_FAILURE() << "not rewritten";
      return "";
    }
    rewrite_ = std::move(**r);
    *half = rewrite_.Apply(view_);
    return std::string(half->properties);
  }
  bool Rewritten(const Message& m) {
    std::string props;
    auto r = RewriteForHalf(m.View(&props));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && r->has_value();
  }

  std::string props_;
  MessageView view_;
  HalfRewrite rewrite_;
};

TEST_F(TransactionRewriteTest, PreparedMessageIsStoredInTheHalfTopicWithItsRealDestination) {
  Message m = Prepared("Orders", 3, "pay 42");
  m.sys_flag |= sysflag::kCompressed;
  m.flag = 7;
  m.reconsume_times = 2;
  MessageView half;
  std::string props = HalfProperties(m, &half);

  EXPECT_EQ(half.topic, transaction::kHalfTopic);
  EXPECT_EQ(half.queue_id, 0);
  EXPECT_EQ(half.sys_flag & sysflag::kTransactionMask, 0) << "NOT_TYPE, so it is dispatched";
  EXPECT_EQ(half.sys_flag & sysflag::kCompressed, sysflag::kCompressed);
  EXPECT_EQ(half.body, "pay 42");
  EXPECT_EQ(half.flag, 7);
  EXPECT_EQ(half.reconsume_times, 2);
  EXPECT_EQ(half.born_timestamp_ms, m.born_timestamp_ms);
  EXPECT_EQ(half.born_host, m.born_host);
  EXPECT_THAT(DecodeProperties(props),
              ElementsAre(Pair("TAGS", "TagA"), Pair("KEYS", "key-1"), Pair("custom", "value"),
                          Pair("PGROUP", "ProducerGroupA"), Pair("UNIQ_KEY", "UNIQ-1"),
                          Pair("TRAN_MSG", "true"), Pair("REAL_TOPIC", "Orders"),
                          Pair("REAL_QID", "3"), Pair("__transactionId__", "UNIQ-1")));
}

TEST_F(TransactionRewriteTest, EitherTheSysFlagOrTranMsgMakesAMessagePrepared) {
  Message by_flag = MakeMessage("Orders", 0, "a");
  by_flag.sys_flag = sysflag::kTransactionPrepared;
  EXPECT_TRUE(Rewritten(by_flag));
  MessageView half;
  EXPECT_EQ(FindProperty(HalfProperties(by_flag, &half), "TRAN_MSG"), "true")
      << "the half is marked even when the producer set only the sys flag";
  EXPECT_FALSE(FindProperty(HalfProperties(by_flag, &half), "__transactionId__"))
      << "no UNIQ_KEY, no transaction id";

  Message by_property = MakeMessage("Orders", 0, "a");
  by_property.SetProperty("TRAN_MSG", "true");
  EXPECT_TRUE(Rewritten(by_property));
}

TEST_F(TransactionRewriteTest, OtherMessagesAreNotRewritten) {
  EXPECT_FALSE(Rewritten(MakeMessage("Orders", 0, "plain")));
  Message not_true = MakeMessage("Orders", 0, "a");
  not_true.SetProperty("TRAN_MSG", "false");
  EXPECT_FALSE(Rewritten(not_true));
  Message committed = Prepared("Orders", 0, "a");
  committed.sys_flag = sysflag::kTransactionCommit;
  EXPECT_FALSE(Rewritten(committed)) << "TRAN_MSG does not matter once committed";
  Message rolled_back = Prepared("Orders", 0, "a");
  rolled_back.sys_flag = sysflag::kTransactionRollback;
  EXPECT_FALSE(Rewritten(rolled_back));
  for (std::string_view system :
       {transaction::kHalfTopic, transaction::kOpTopic, transaction::kCheckMaxTopic}) {
    Message copy = Prepared(std::string(system), 0, "a");
    copy.sys_flag = 0;  // as the check scan and parking store them, TRAN_MSG still true
    EXPECT_FALSE(Rewritten(copy)) << system;
  }
}

TEST_F(TransactionRewriteTest, CheckStateAndDestinationComeFromTheStoreNotTheProducer) {
  Message m = Prepared("Orders", 1, "a", "U-7");
  m.SetProperty("REAL_TOPIC", "Elsewhere");
  m.SetProperty("REAL_QID", "9");
  m.SetProperty("TRANSACTION_CHECK_TIMES", "14");
  m.SetProperty("TRAN_PREPARED_QUEUE_OFFSET", "5");
  m.SetProperty("__transactionId__", "forged");
  MessageView half;
  std::string props = HalfProperties(m, &half);
  EXPECT_EQ(FindProperty(props, "REAL_TOPIC"), "Orders");
  EXPECT_EQ(FindProperty(props, "REAL_QID"), "1");
  EXPECT_FALSE(FindProperty(props, "TRANSACTION_CHECK_TIMES"));
  EXPECT_FALSE(FindProperty(props, "TRAN_PREPARED_QUEUE_OFFSET"));
  EXPECT_EQ(FindProperty(props, "__transactionId__"), "U-7");

  Message no_key = Prepared("Orders", 1, "a", /*unique_key=*/"");
  no_key.SetProperty("__transactionId__", "client-id");
  EXPECT_EQ(FindProperty(HalfProperties(no_key, &half), "__transactionId__"), "client-id")
      << "kept when there is no UNIQ_KEY to replace it with";
}

TEST_F(TransactionRewriteTest, RejectsWhatCouldNeverCommit) {
  for (const char* request :
       {"DELAY", "TIMER_DELIVER_MS", "TIMER_DELAY_SEC", "TIMER_DELAY_MS", "__STARTDELIVERTIME"}) {
    Message m = Prepared("Orders", 0, "a");
    m.SetProperty(request, "3");
    std::string props;
    auto r = RewriteForHalf(m.View(&props));
    ASSERT_FALSE(r.ok()) << request;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_THAT(r.status().ToString(), ::testing::HasSubstr(request));
  }
  std::string props;
  Message bad_topic = Prepared("bad topic!", 0, "a");
  EXPECT_EQ(RewriteForHalf(bad_topic.View(&props)).status().code(),
            Status::Code::kInvalidArgument);
  Message bad_queue = Prepared("Orders", -1, "a");
  EXPECT_EQ(RewriteForHalf(bad_queue.View(&props)).status().code(),
            Status::Code::kInvalidArgument);
}

TEST_F(TransactionRewriteTest, CommitRestoresTheOriginalMessage) {
  Message m = Prepared("Orders", 3, "pay 42");
  m.sys_flag |= sysflag::kCompressed;
  m.flag = 7;
  MessageView half;
  HalfProperties(m, &half);
  FakeRecord record(half, /*physical_offset=*/4096, /*queue_offset=*/11);
  record.properties.insert(0, "TRANSACTION_CHECK_TIMES\x01" "2\x02");
  record.parsed.properties = record.properties;

  std::string props;
  MessageView commit;
  ASSERT_OK(RestoreForCommit(record.parsed, &props, &commit));
  EXPECT_EQ(commit.topic, "Orders");
  EXPECT_EQ(commit.queue_id, 3);
  EXPECT_EQ(commit.sys_flag & sysflag::kTransactionMask, sysflag::kTransactionCommit);
  EXPECT_EQ(commit.sys_flag & sysflag::kCompressed, sysflag::kCompressed);
  EXPECT_EQ(commit.prepared_transaction_offset, 4096);
  EXPECT_EQ(commit.body, "pay 42");
  EXPECT_EQ(commit.flag, 7);
  EXPECT_EQ(commit.born_timestamp_ms, m.born_timestamp_ms);
  EXPECT_EQ(commit.born_host, m.born_host);
  EXPECT_THAT(DecodeProperties(props),
              ElementsAre(Pair("TAGS", "TagA"), Pair("KEYS", "key-1"), Pair("custom", "value"),
                          Pair("PGROUP", "ProducerGroupA"), Pair("UNIQ_KEY", "UNIQ-1"),
                          Pair("__transactionId__", "UNIQ-1")));
  // A committed message is never taken for a prepared one again.
  auto again = RewriteForHalf(commit);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST_F(TransactionRewriteTest, CommitOfAHalfWithoutItsDestinationIsCorruption) {
  Message m = MakeMessage(std::string(transaction::kHalfTopic), 0, "x");
  std::string encoded;
  FakeRecord no_topic(m.View(&encoded), 100, 0);
  std::string props;
  MessageView out;
  EXPECT_EQ(RestoreForCommit(no_topic.parsed, &props, &out).code(), Status::Code::kCorruption);

  m.SetProperty("REAL_TOPIC", "Orders");
  m.SetProperty("REAL_QID", "-1");
  FakeRecord bad_qid(m.View(&encoded), 100, 0);
  EXPECT_EQ(RestoreForCommit(bad_qid.parsed, &props, &out).code(), Status::Code::kCorruption);
  EXPECT_FALSE(FindRealDestination(bad_qid.parsed).ok());
}

TEST_F(TransactionRewriteTest, CheckCopiesCountChecksAndNameTheFirstHalf) {
  MessageView half;
  // (A named message: `half` views its topic and body. Found by AddressSanitizer: a
  // temporary here left them dangling.)
  const Message prepared = Prepared("Orders", 2, "b");
  HalfProperties(prepared, &half);
  FakeRecord original(half, 500, /*queue_offset=*/8);
  EXPECT_EQ(TransactionOffsetOf(original.parsed), 8);
  EXPECT_EQ(CheckTimesOf(original.parsed.properties), 0);

  std::string props;
  MessageView copy;
  CopyForCheck(original.parsed, 8, 1, &props, &copy);
  EXPECT_EQ(copy.topic, transaction::kHalfTopic);
  EXPECT_EQ(copy.body, "b");
  EXPECT_FALSE(FindProperty(props, "__CRC32#"));
  EXPECT_EQ(CheckTimesOf(props), 1);

  FakeRecord first_copy(copy, 900, /*queue_offset=*/20);
  EXPECT_EQ(TransactionOffsetOf(first_copy.parsed), 8) << "a copy names the first half";
  std::string props2;
  CopyForCheck(first_copy.parsed, 8, 2, &props2, &copy);
  EXPECT_EQ(CheckTimesOf(props2), 2);
  EXPECT_EQ(FindProperty(props2, "REAL_TOPIC"), "Orders");
  int count = 0;
  ForEachProperty(props2, [&](std::string_view name, std::string_view) {
    count += name == "TRANSACTION_CHECK_TIMES" || name == "TRAN_PREPARED_QUEUE_OFFSET";
  });
  EXPECT_EQ(count, 2) << "replaced, not repeated";

  std::string parked_props;
  MessageView parked;
  CopyForParking(first_copy.parsed, &parked_props, &parked);
  EXPECT_EQ(parked.topic, transaction::kCheckMaxTopic);
  EXPECT_EQ(parked.queue_id, 0);
  EXPECT_EQ(CheckTimesOf(parked_props), 1);
  EXPECT_FALSE(FindProperty(parked_props, "__CRC32#"));
}

TEST_F(TransactionRewriteTest, MalformedCheckStateReadsAsNone) {
  EXPECT_EQ(CheckTimesOf("TRANSACTION_CHECK_TIMES\x01x1\x02"), 0);
  EXPECT_EQ(CheckTimesOf("TRANSACTION_CHECK_TIMES\x01-3\x02"), 0);
  EXPECT_EQ(CheckTimesOf(""), 0);
  Message m = MakeMessage(std::string(transaction::kHalfTopic), 0, "x");
  m.SetProperty("TRAN_PREPARED_QUEUE_OFFSET", "nope");
  std::string encoded;
  FakeRecord r(m.View(&encoded), 0, 31);
  EXPECT_EQ(TransactionOffsetOf(r.parsed), 31);
}

TEST_F(TransactionRewriteTest, OpBodyIsRocketMqsCommaTerminatedOffsets) {
  std::vector<int64_t> offsets = {0, 42, 9000000000};
  EXPECT_EQ(EncodeOpBody(offsets), "0,42,9000000000,");
  EXPECT_EQ(ParseOpBody("0,42,9000000000,"), offsets);
  EXPECT_EQ(ParseOpBody("7"), std::vector<int64_t>{7}) << "last comma optional";
  EXPECT_EQ(ParseOpBody(",x,-1,3,,4 ,5,"), (std::vector<int64_t>{3, 5}));
  EXPECT_TRUE(ParseOpBody("").empty());
}

}  // namespace
}  // namespace mqstore
