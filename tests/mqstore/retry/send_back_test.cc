// Send-back into retry and dead-letter topics, end to end through a real store: the copy is
// parked at its delay level by Store::Put and delivered to %RETRY%<group> when the manual
// clock says so; dead-lettered copies land in %DLQ%<group> at once. Group settings come from
// a real LMDB metadata store in the SendBackMetadataTest cases.
#include "retry/send_back.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/compression.h"
#include "mqstore/schedule/schedule_test_util.h"
#include "mqstore/send_back.h"
#include "mqstore/store.h"
#include "mqstore/store/store_test_util.h"
#include "schedule/schedule_names.h"

namespace mqstore::test {
namespace {

using schedule::kScheduleTopic;

constexpr int64_t kTwoHoursMs = int64_t{2} * 60 * 60 * 1000;

// How often `name` occurs in an encoded property string.
int CountProperty(std::string_view encoded, std::string_view name) {
  int n = 0;
  ForEachProperty(encoded, [&](std::string_view k, std::string_view) { n += k == name; });
  return n;
}

// The consumed message of most tests: tags, keys, a unique id and a custom property.
Message Consumed(std::string body = "payload") {
  Message m = MakeMessage("Orders", 1, std::move(body), "TagA", "order-42");
  m.SetProperty(std::string(property::kUniqueKey), "0A0000010000000000000000000000AA");
  m.SetProperty("custom", "value");
  return m;
}

class SendBackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.built_in_schedule = true;
    h_.Open();
  }

  // Puts `m` as consumed from its topic; returns its physical offset.
  int64_t PutConsumed(const Message& m) {
    auto put = PutMessage(h_.store.get(), m);
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    h_.AwaitAll();
    return put.ok() ? put->physical_offset : -1;
  }
  Result<SendBackResult> Back(int64_t offset, std::string group = "g") {
    SendBackRequest r;
    r.physical_offset = offset;
    r.group = std::move(group);
    return Back(r);
  }
  Result<SendBackResult> Back(const SendBackRequest& r) {
    return SendMessageBack(*h_.store, h_.store->metadata(), r);
  }
  // Moves the clock on and lets the scheduler deliver what is due.
  void Deliver(int64_t ms) {
    h_.AwaitAll();
    h_.clock.Advance(ms);
    Status s = h_.store->AwaitScheduleRound(kAwaitMs);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::string StoredTopic(const PutResult& put) {
    auto record = h_.store->ReadRecord(put.physical_offset);
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    if (!record.ok()) return "";
    ParsedRecord parsed;
    EXPECT_OK(ParseRecord(record->bytes, true, &parsed));
    return std::string(parsed.topic);
  }
  // Every message now in `topic` queue 0, as a consumer of it would read them.
  std::vector<Delivered> Queue0(std::string_view topic) { return h_.ReadAll(topic, 0); }

  ScheduleStoreHarness h_;
};

TEST_F(SendBackTest, FirstSendBackWaitsTenSecondsThenLandsInTheRetryTopic) {
  int64_t offset = PutConsumed(Consumed());
  ASSERT_OK_AND_ASSIGN(SendBackResult sent, Back(offset));
  EXPECT_EQ(sent.topic, "%RETRY%g");
  EXPECT_EQ(sent.queue_id, 0);
  EXPECT_EQ(sent.reconsume_times, 1);
  EXPECT_FALSE(sent.dead_lettered);
  EXPECT_EQ(sent.delay_level, 3);  // 3 + reconsume times 0
  EXPECT_EQ(sent.put.status, PutStatus::kOk);
  // Parked at level 3 (queue 2) until due.
  EXPECT_EQ(StoredTopic(sent.put), kScheduleTopic);
  EXPECT_EQ(h_.Bodies(kScheduleTopic, 2), std::vector<std::string>{"payload"});

  Deliver(9'999);
  EXPECT_TRUE(Queue0("%RETRY%g").empty()) << "delivered before level 3's 10 s";
  Deliver(1);
  std::vector<Delivered> retried = Queue0("%RETRY%g");
  ASSERT_EQ(retried.size(), 1u);
  const Delivered& d = retried[0];
  EXPECT_EQ(d.body, "payload");
  EXPECT_EQ(d.parsed.reconsume_times, 1);
  EXPECT_EQ(d.parsed.born_timestamp_ms, 1'700'000'000'000);
  EXPECT_EQ(d.parsed.born_host, SocketAddress::V4(10, 0, 0, 1, 50000));
  EXPECT_EQ(FindProperty(d.properties, "RETRY_TOPIC"), "Orders");
  EXPECT_EQ(FindProperty(d.properties, "ORIGIN_MESSAGE_ID"), "0A0000010000000000000000000000AA");
  EXPECT_EQ(FindProperty(d.properties, "RECONSUME_TIME"), "1");
  EXPECT_EQ(FindProperty(d.properties, "TAGS"), "TagA");
  EXPECT_EQ(FindProperty(d.properties, "KEYS"), "order-42");
  EXPECT_EQ(FindProperty(d.properties, "UNIQ_KEY"), "0A0000010000000000000000000000AA");
  EXPECT_EQ(FindProperty(d.properties, "custom"), "value");
  EXPECT_EQ(FindProperty(d.properties, "DELAY"), std::nullopt);
  EXPECT_EQ(FindProperty(d.properties, "REAL_TOPIC"), std::nullopt);
  EXPECT_LE(CountProperty(d.properties, "__CRC32#"), 1);  // the fresh one, if any
  // The original is untouched.
  EXPECT_EQ(h_.Bodies("Orders", 1), std::vector<std::string>{"payload"});
}

TEST_F(SendBackTest, ChainedSendBacksKeepTheFirstTopicAndOriginAndRaiseTheLevel) {
  int64_t offset = PutConsumed(Consumed());
  ASSERT_OK_AND_ASSIGN(SendBackResult first, Back(offset));
  Deliver(10'000);
  std::vector<Delivered> retried = Queue0("%RETRY%g");
  ASSERT_EQ(retried.size(), 1u);

  // The retry copy fails too: it is sent back from the retry topic.
  ASSERT_OK_AND_ASSIGN(SendBackResult second, Back(retried[0].parsed.physical_offset));
  EXPECT_EQ(second.delay_level, 4);  // 30 s
  EXPECT_EQ(second.reconsume_times, 2);
  EXPECT_EQ(h_.Bodies(kScheduleTopic, 3), std::vector<std::string>{"payload"});
  Deliver(29'999);
  EXPECT_EQ(Queue0("%RETRY%g").size(), 1u);
  Deliver(1);
  retried = Queue0("%RETRY%g");
  ASSERT_EQ(retried.size(), 2u);
  const Delivered& d = retried[1];
  EXPECT_EQ(d.parsed.reconsume_times, 2);
  EXPECT_EQ(FindProperty(d.properties, "RETRY_TOPIC"), "Orders");  // not %RETRY%g
  EXPECT_EQ(FindProperty(d.properties, "ORIGIN_MESSAGE_ID"), "0A0000010000000000000000000000AA");
  EXPECT_EQ(FindProperty(d.properties, "RECONSUME_TIME"), "2");
  for (std::string_view name : {"RETRY_TOPIC", "ORIGIN_MESSAGE_ID", "RECONSUME_TIME", "TAGS"}) {
    EXPECT_EQ(CountProperty(d.properties, name), 1) << name;
  }
}

TEST_F(SendBackTest, SixteenRetriesThenTheDeadLetterTopic) {
  int64_t offset = PutConsumed(Consumed());
  for (int i = 0; i < 16; ++i) {
    ASSERT_OK_AND_ASSIGN(SendBackResult sent, Back(offset));
    EXPECT_FALSE(sent.dead_lettered) << "send-back " << i + 1;
    EXPECT_EQ(sent.delay_level, 3 + i);
    EXPECT_EQ(sent.reconsume_times, i + 1);
    Deliver(kTwoHoursMs);  // the longest level
    std::vector<Delivered> retried = Queue0("%RETRY%g");
    ASSERT_EQ(retried.size(), static_cast<size_t>(i + 1));
    offset = retried.back().parsed.physical_offset;
  }
  // The 17th failure (reconsume times 16 >= 16) goes to the DLQ at once, without a delay.
  ASSERT_OK_AND_ASSIGN(SendBackResult dead, Back(offset));
  EXPECT_TRUE(dead.dead_lettered);
  EXPECT_EQ(dead.topic, "%DLQ%g");
  EXPECT_EQ(dead.queue_id, 0);
  EXPECT_EQ(dead.delay_level, 0);
  EXPECT_EQ(dead.reconsume_times, 17);
  EXPECT_EQ(StoredTopic(dead.put), "%DLQ%g");
  std::vector<Delivered> dlq = Queue0("%DLQ%g");
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].body, "payload");
  EXPECT_EQ(dlq[0].parsed.reconsume_times, 17);
  EXPECT_EQ(FindProperty(dlq[0].properties, "DELAY"), std::nullopt);
  EXPECT_EQ(FindProperty(dlq[0].properties, "RETRY_TOPIC"), "Orders");
  EXPECT_EQ(FindProperty(dlq[0].properties, "ORIGIN_MESSAGE_ID"),
            "0A0000010000000000000000000000AA");
  EXPECT_EQ(FindProperty(dlq[0].properties, "RECONSUME_TIME"), "17");
}

TEST_F(SendBackTest, NegativeDelayLevelGoesStraightToTheDeadLetterTopic) {
  SendBackRequest r;
  r.physical_offset = PutConsumed(Consumed());
  r.group = "g";
  r.delay_level = -1;
  ASSERT_OK_AND_ASSIGN(SendBackResult sent, Back(r));
  EXPECT_TRUE(sent.dead_lettered);
  EXPECT_EQ(sent.reconsume_times, 1);
  EXPECT_EQ(h_.Bodies("%DLQ%g", 0), std::vector<std::string>{"payload"});
  EXPECT_TRUE(h_.Bodies(kScheduleTopic, 2).empty());
}

TEST_F(SendBackTest, ExplicitDelayLevelIsUsed) {
  SendBackRequest r;
  r.physical_offset = PutConsumed(Consumed());
  r.group = "g";
  r.delay_level = 1;  // 1 s
  ASSERT_OK_AND_ASSIGN(SendBackResult sent, Back(r));
  EXPECT_EQ(sent.delay_level, 1);
  EXPECT_EQ(h_.Bodies(kScheduleTopic, 0), std::vector<std::string>{"payload"});
  Deliver(1'000);
  EXPECT_EQ(h_.Bodies("%RETRY%g", 0), std::vector<std::string>{"payload"});
}

TEST_F(SendBackTest, ExplicitMaxReconsumeTimesIsRespected) {
  Message once = Consumed("once");
  once.reconsume_times = 1;
  Message fresh = Consumed("fresh");
  SendBackRequest r;
  r.group = "g";
  r.max_reconsume_times = 1;
  r.physical_offset = PutConsumed(fresh);
  ASSERT_OK_AND_ASSIGN(SendBackResult a, Back(r));
  EXPECT_FALSE(a.dead_lettered);
  r.physical_offset = PutConsumed(once);
  ASSERT_OK_AND_ASSIGN(SendBackResult b, Back(r));
  EXPECT_TRUE(b.dead_lettered);
  EXPECT_EQ(b.reconsume_times, 2);
  r.max_reconsume_times = 0;  // no retries at all
  r.physical_offset = PutConsumed(fresh);
  ASSERT_OK_AND_ASSIGN(SendBackResult c, Back(r));
  EXPECT_TRUE(c.dead_lettered);
  EXPECT_EQ(h_.Bodies("%DLQ%g", 0), (std::vector<std::string>{"once", "fresh"}));

  r.max_reconsume_times = -1;
  EXPECT_TRUE(Back(r).status().IsInvalidArgument());
}

TEST_F(SendBackTest, HighLevelsAreClampedByTheStore) {
  Message m = Consumed();
  m.reconsume_times = 15;  // level 18, the last
  ASSERT_OK_AND_ASSIGN(SendBackResult at18, Back(PutConsumed(m)));
  EXPECT_EQ(at18.delay_level, 18);
  EXPECT_EQ(h_.Bodies(kScheduleTopic, 17).size(), 1u);

  SendBackRequest r;
  r.physical_offset = PutConsumed(Consumed());
  r.group = "g";
  r.delay_level = 40;  // beyond the 18 levels
  ASSERT_OK_AND_ASSIGN(SendBackResult clamped, Back(r));
  EXPECT_EQ(clamped.delay_level, 40);  // as asked; the store parks it at 18
  EXPECT_EQ(h_.Bodies(kScheduleTopic, 17).size(), 2u);
}

TEST_F(SendBackTest, OriginMessageIdFallsBackToTheRequestThenTheOffsetId) {
  Message plain = MakeMessage("Orders", 0, "no-uniq", "TagA");
  auto put = PutMessage(h_.store.get(), plain);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  h_.AwaitAll();

  SendBackRequest r;
  r.physical_offset = put->physical_offset;
  r.group = "g";
  r.delay_level = -1;
  ASSERT_OK(Back(r).status());
  r.origin_message_id = "FROM-THE-CONSUMER";
  ASSERT_OK(Back(r).status());
  std::vector<Delivered> dlq = Queue0("%DLQ%g");
  ASSERT_EQ(dlq.size(), 2u);
  EXPECT_EQ(FindProperty(dlq[0].properties, "ORIGIN_MESSAGE_ID"), put->offset_message_id());
  EXPECT_EQ(FindProperty(dlq[1].properties, "ORIGIN_MESSAGE_ID"), "FROM-THE-CONSUMER");

  // An existing ORIGIN_MESSAGE_ID beats the request's.
  r.physical_offset = dlq[1].parsed.physical_offset;
  r.origin_message_id = "LATER";
  ASSERT_OK(Back(r).status());
  dlq = Queue0("%DLQ%g");
  ASSERT_EQ(dlq.size(), 3u);
  EXPECT_EQ(FindProperty(dlq[2].properties, "ORIGIN_MESSAGE_ID"), "FROM-THE-CONSUMER");
}

TEST_F(SendBackTest, StalePutInstructionsAreNotInherited) {
  Message m = Consumed();
  m.SetProperty("WAIT", "false");
  m.SetProperty("REAL_TOPIC", "Elsewhere");
  m.SetProperty("REAL_QID", "7");
  m.SetProperty("TIMER_DELIVER_MS", "1000");  // long past: stored as a plain property
  m.SetProperty("RECONSUME_TIME", "9");
  SendBackRequest r;
  r.physical_offset = PutConsumed(m);
  r.group = "g";
  r.delay_level = -1;
  ASSERT_OK(Back(r).status());
  std::vector<Delivered> dlq = Queue0("%DLQ%g");
  ASSERT_EQ(dlq.size(), 1u);
  for (std::string_view name : {"WAIT", "REAL_TOPIC", "REAL_QID", "TIMER_DELIVER_MS", "DELAY"}) {
    EXPECT_EQ(FindProperty(dlq[0].properties, name), std::nullopt) << name;
  }
  EXPECT_EQ(CountProperty(dlq[0].properties, "RECONSUME_TIME"), 1);
  EXPECT_EQ(FindProperty(dlq[0].properties, "RECONSUME_TIME"), "1");
  EXPECT_EQ(FindProperty(dlq[0].properties, "custom"), "value");
}

TEST_F(SendBackTest, CompressedBodyKeepsItsSysFlagAndBytes) {
  Message m = Consumed();
  std::string plain(4096, 'x');
  ASSERT_OK_AND_ASSIGN(m.body, CompressBody(plain, CompressionType::kZstd, 3, &m.sys_flag));
  int32_t compression = m.sys_flag & (sysflag::kCompressed | sysflag::kCompressionTypeMask);
  ASSERT_NE(compression, 0);
  ASSERT_OK_AND_ASSIGN(SendBackResult sent, Back(PutConsumed(m)));
  Deliver(10'000);
  std::vector<Delivered> retried = Queue0(sent.topic);
  ASSERT_EQ(retried.size(), 1u);
  EXPECT_EQ(retried[0].parsed.sys_flag & (sysflag::kCompressed | sysflag::kCompressionTypeMask),
            compression);
  EXPECT_EQ(retried[0].body, m.body);
  ASSERT_OK_AND_ASSIGN(std::string inflated,
                       DecompressBody(retried[0].body, retried[0].parsed.sys_flag));
  EXPECT_EQ(inflated, plain);
}

TEST_F(SendBackTest, UnknownOffsetIsNotFound) {
  int64_t offset = PutConsumed(Consumed());
  auto beyond = Back(h_.store->Stats().appended_offset + 4096);
  EXPECT_TRUE(beyond.status().IsNotFound()) << beyond.status().ToString();
  EXPECT_NE(beyond.status().ToString().find("send-back"), std::string::npos);
  EXPECT_TRUE(Back(-1).status().IsInvalidArgument());
  // Nothing was stored by the failures.
  EXPECT_OK(Back(offset).status());
  EXPECT_EQ(h_.Bodies(kScheduleTopic, 2).size(), 1u);
}

TEST_F(SendBackTest, BadGroupIsInvalidArgument) {
  int64_t offset = PutConsumed(Consumed());
  for (std::string group : {std::string(), std::string("has space"), std::string("a/b"),
                            std::string(123, 'g')}) {  // %DLQ% + 123 > 127
    auto sent = Back(offset, group);
    EXPECT_TRUE(sent.status().IsInvalidArgument()) << group << ": " << sent.status().ToString();
  }
  EXPECT_OK(Back(offset, std::string(122, 'g')).status());
}

TEST_F(SendBackTest, ParkedRecordsCannotBeSentBack) {
  ASSERT_OK_AND_ASSIGN(SendBackResult sent, Back(PutConsumed(Consumed())));
  // sent.put is the record parked in SCHEDULE_TOPIC_XXXX: no consumer ever reads it.
  auto again = Back(sent.put.physical_offset);
  EXPECT_TRUE(again.status().IsInvalidArgument()) << again.status().ToString();
}

TEST_F(SendBackTest, RetryQueueIsChosenByOriginMessageId) {
  ParsedRecord record;
  record.topic = "Orders";
  record.physical_offset = 100;
  SendBackRequest request;
  request.group = "g";
  RetryPolicy policy;
  policy.retry_queue_nums = 4;
  std::vector<int32_t> seen;
  for (int i = 0; i < 32; ++i) {
    request.origin_message_id = "id-" + std::to_string(i);
    ASSERT_OK_AND_ASSIGN(SendBackPlan a, PlanSendBack(record, request, policy, "OFFSET-ID"));
    ASSERT_OK_AND_ASSIGN(SendBackPlan b, PlanSendBack(record, request, policy, "OFFSET-ID"));
    EXPECT_EQ(a.queue_id, b.queue_id);
    EXPECT_GE(a.queue_id, 0);
    EXPECT_LT(a.queue_id, 4);
    seen.push_back(a.queue_id);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()) - seen.begin(), 4) << "spread over all queues";

  policy.retry_queue_nums = 0;  // retries switched off: only the DLQ remains
  EXPECT_TRUE(PlanSendBack(record, request, policy, "X").status().IsInvalidArgument());
  request.delay_level = -1;
  EXPECT_OK(PlanSendBack(record, request, policy, "X").status());
}

TEST_F(SendBackTest, TransactionalHalvesCannotBeSentBack) {
  ParsedRecord record;
  record.topic = "Orders";
  record.sys_flag = sysflag::kTransactionPrepared;
  SendBackRequest request;
  request.group = "g";
  EXPECT_TRUE(PlanSendBack(record, request, {}, "X").status().IsInvalidArgument());
  // A committed message is an ordinary one once consumed; its copy has no transaction bits.
  record.sys_flag = sysflag::kTransactionCommit | sysflag::kCompressed;
  record.prepared_transaction_offset = 64;
  ASSERT_OK_AND_ASSIGN(SendBackPlan plan, PlanSendBack(record, request, {}, "X"));
  MessageView copy = plan.Apply(record);
  EXPECT_EQ(copy.sys_flag, sysflag::kCompressed);
  EXPECT_EQ(copy.prepared_transaction_offset, 0);
}

// Under SYNC_FLUSH the send-back returns once the copy is durable, even when the original
// asked not to wait: a consumer that then commits its offset loses nothing on a power cut.
TEST(SendBackDurabilityTest, SyncFlushSendBackSurvivesAPowerCut) {
  ScheduleStoreHarness h;
  h.built_in_schedule = true;
  h.flush_mode = FlushMode::kSync;
  h.Open();
  Message m = Consumed();
  m.SetProperty("WAIT", "false");
  auto put = PutMessage(h.store.get(), m);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  ASSERT_OK(h.store->Flush());  // the original did not wait; the test needs it on disk
  SendBackRequest r;
  r.physical_offset = put->physical_offset;
  r.group = "g";
  ASSERT_OK_AND_ASSIGN(SendBackResult sent, SendMessageBack(*h.store, nullptr, r));
  EXPECT_TRUE(sent.put.durable);
  h.CrashAndReopen();
  EXPECT_EQ(h.Bodies(kScheduleTopic, 2), std::vector<std::string>{"payload"});
}

// Group settings from a real metadata store (LMDB needs the POSIX Env).
class SendBackMetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.clock = &clock_;
    o.commitlog_segment_bytes = 1 << 20;
    o.index_slots_per_file = 512;
    o.index_entries_per_file = 2048;
    auto opened = Store::Open(o, dir_.Sub("store"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    ASSERT_NE(store_->metadata(), nullptr);
  }
  void TearDown() override {
    if (store_) EXPECT_OK(store_->Close());
  }
  int64_t PutConsumed(int32_t reconsume_times) {
    Message m = Consumed();
    m.reconsume_times = reconsume_times;
    auto put = PutMessage(store_.get(), m);
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    return put.ok() ? put->physical_offset : -1;
  }
  Result<SendBackResult> Back(int64_t offset, std::string group) {
    SendBackRequest r;
    r.physical_offset = offset;
    r.group = std::move(group);
    return SendMessageBack(*store_, store_->metadata(), r);
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
};

TEST_F(SendBackMetadataTest, RegisteredGroupsRetryMaxTimesIsRespected) {
  SubscriptionGroupConfig group;
  group.group_name = "g";
  group.retry_max_times = 2;
  ASSERT_OK(store_->metadata()->PutSubscriptionGroup(group));

  ASSERT_OK_AND_ASSIGN(SendBackResult second, Back(PutConsumed(1), "g"));
  EXPECT_FALSE(second.dead_lettered);
  ASSERT_OK_AND_ASSIGN(SendBackResult third, Back(PutConsumed(2), "g"));
  EXPECT_TRUE(third.dead_lettered);
  // An unregistered group gets RocketMQ's default of 16.
  ASSERT_OK_AND_ASSIGN(SendBackResult other, Back(PutConsumed(2), "other"));
  EXPECT_FALSE(other.dead_lettered);
}

TEST_F(SendBackMetadataTest, TargetTopicsAreRegisteredSoOffsetsCanBeCommitted) {
  SubscriptionGroupConfig group;
  group.group_name = "g";
  group.retry_queue_nums = 3;
  group.retry_max_times = 1;
  ASSERT_OK(store_->metadata()->PutSubscriptionGroup(group));
  ASSERT_OK_AND_ASSIGN(SendBackResult retry, Back(PutConsumed(0), "g"));
  EXPECT_LT(retry.queue_id, 3);
  ASSERT_OK_AND_ASSIGN(SendBackResult dead, Back(PutConsumed(1), "g"));
  EXPECT_TRUE(dead.dead_lettered);

  ASSERT_OK_AND_ASSIGN(TopicConfig retry_topic, store_->metadata()->GetTopic("%RETRY%g"));
  EXPECT_EQ(retry_topic.read_queue_nums, 3);
  EXPECT_EQ(retry_topic.write_queue_nums, 3);
  EXPECT_EQ(retry_topic.perm, perm::kReadWrite);
  ASSERT_OK_AND_ASSIGN(TopicConfig dlq_topic, store_->metadata()->GetTopic("%DLQ%g"));
  EXPECT_EQ(dlq_topic.read_queue_nums, 1);
  ConsumerOffset offsets[] = {{"%RETRY%g", retry.queue_id, 1}, {"%DLQ%g", 0, 1}};
  EXPECT_OK(store_->metadata()->CommitOffsets("g", offsets));
}

TEST_F(SendBackMetadataTest, ExistingTopicsAreKeptAndMustBeWritable) {
  TopicConfig retry_topic;
  retry_topic.name = "%RETRY%g";
  retry_topic.read_queue_nums = retry_topic.write_queue_nums = 8;
  ASSERT_OK(store_->metadata()->PutTopic(retry_topic));
  ASSERT_OK(Back(PutConsumed(0), "g").status());
  ASSERT_OK_AND_ASSIGN(TopicConfig kept, store_->metadata()->GetTopic("%RETRY%g"));
  EXPECT_EQ(kept, retry_topic);

  retry_topic.perm = perm::kRead;
  ASSERT_OK(store_->metadata()->PutTopic(retry_topic));
  auto refused = Back(PutConsumed(0), "g");
  EXPECT_TRUE(refused.status().IsFailedPrecondition()) << refused.status().ToString();
}

TEST_F(SendBackMetadataTest, UnregisteredGroupCanBeRefused) {
  SendBackRequest r;
  r.physical_offset = PutConsumed(0);
  r.group = "unknown";
  r.require_registered_group = true;
  auto refused = SendMessageBack(*store_, store_->metadata(), r);
  EXPECT_TRUE(refused.status().IsNotFound()) << refused.status().ToString();
  EXPECT_FALSE(store_->metadata()->GetTopic("%RETRY%unknown").ok()) << "nothing registered";
}

}  // namespace
}  // namespace mqstore::test
