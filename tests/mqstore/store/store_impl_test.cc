// The public Store API on both environments: put/read round trips, read statuses and limits,
// batches, physical reads, input validation, lifecycle (close, reopen, locking, pins).
#include "store/store_impl.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "mqstore/store.h"
#include "mqstore/store/store_test_util.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::BodyFor;
using test::EnvKind;
using test::MakeMessage;
using test::PutMessage;
using test::PutMessages;
using test::ReadBack;
using test::ReadQueue;

constexpr int kWaitMs = 10'000;

class StoreImplTest : public ::testing::TestWithParam<EnvKind> {
 protected:
  StoreImplTest() : location_(GetParam()) {}

  StoreOptions Options() {
    StoreOptions o;
    o.env = location_.env();
    o.clock = &clock_;
    o.commitlog_segment_bytes = 8192;
    o.consume_queue_entries_per_file = 4;
    o.index_slots_per_file = 16;  // tiny index files: they roll often
    o.index_entries_per_file = 64;
    o.max_message_bytes = 2048;
    return o;
  }
  void OpenStore(const StoreOptions& options) {
    auto opened = Store::Open(options, location_.dir());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  void OpenStore() { OpenStore(Options()); }
  // Puts `m` and waits until it is readable.
  PutResult PutAndWait(const Message& m) {
    auto r = PutMessage(store_.get(), m);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return PutResult{};
    Status s = store_->AwaitDispatched(r->physical_offset + r->record_size, kWaitMs);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return *r;
  }

  test::StoreLocation location_;
  test::ManualClock clock_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Envs, StoreImplTest, ::testing::Values(EnvKind::kPosix, EnvKind::kMem),
                         test::EnvKindName);

TEST_P(StoreImplTest, PutThenReadReturnsEveryFieldAsPut) {
  OpenStore();
  Message m = MakeMessage("OrderTopic", 3, "hello, store", "TagA", "key-1 key-2");
  m.flag = 17;
  m.reconsume_times = 2;
  m.SetProperty("custom", "value");
  PutResult put = PutAndWait(m);
  EXPECT_EQ(put.status, PutStatus::kOk);
  EXPECT_EQ(put.physical_offset, 0);
  EXPECT_EQ(put.queue_offset, 0);
  EXPECT_GT(put.record_size, 0);
  EXPECT_EQ(put.store_timestamp_ms, clock_.NowMillis());
  EXPECT_EQ(put.offset_message_id(), MakeOffsetMessageId(Options().store_host, 0));

  ASSERT_OK_AND_ASSIGN(ReadResult r, store_->Read("OrderTopic", 3, 0, 32, 1 << 20));
  EXPECT_EQ(r.status, ReadStatus::kFound);
  EXPECT_EQ(r.next_offset, 1);
  EXPECT_EQ(r.min_offset, 0);
  EXPECT_EQ(r.max_offset, 1);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.total_bytes, static_cast<uint64_t>(put.record_size));
  const StoredMessage& got = r.messages[0];
  EXPECT_EQ(got.queue_offset, 0);
  EXPECT_EQ(got.physical_offset, 0);
  ASSERT_EQ(got.record.size(), static_cast<size_t>(put.record_size));

  ParsedRecord p;
  ASSERT_OK(ParseRecord(got.record, true, &p));
  EXPECT_EQ(p.total_size, put.record_size);
  EXPECT_EQ(p.queue_id, 3);
  EXPECT_EQ(p.flag, 17);
  EXPECT_EQ(p.queue_offset, 0);
  EXPECT_EQ(p.physical_offset, 0);
  EXPECT_EQ(p.sys_flag, 0);
  EXPECT_EQ(p.born_timestamp_ms, m.born_timestamp_ms);
  EXPECT_EQ(p.born_host, m.born_host);
  EXPECT_EQ(p.store_timestamp_ms, put.store_timestamp_ms);
  EXPECT_EQ(p.store_host, Options().store_host);
  EXPECT_EQ(p.reconsume_times, 2);
  EXPECT_EQ(p.prepared_transaction_offset, 0);
  EXPECT_EQ(p.body, "hello, store");
  EXPECT_EQ(p.topic, "OrderTopic");
  EXPECT_EQ(FindProperty(p.properties, "TAGS"), "TagA");
  EXPECT_EQ(FindProperty(p.properties, "KEYS"), "key-1 key-2");
  EXPECT_EQ(FindProperty(p.properties, "custom"), "value");
  EXPECT_TRUE(FindProperty(p.properties, property::kRecordCrc).has_value());
}

TEST_P(StoreImplTest, ReadStatusesAtTheEdgesOfAQueue) {
  OpenStore();
  ASSERT_OK_AND_ASSIGN(ReadResult none, store_->Read("Nobody", 0, 0, 10, 1 << 20));
  EXPECT_EQ(none.status, ReadStatus::kNoSuchQueue);
  EXPECT_TRUE(none.messages.empty());
  for (int i = 0; i < 3; ++i) PutAndWait(MakeMessage("T", 1, "m" + std::to_string(i)));

  ASSERT_OK_AND_ASSIGN(ReadResult other_queue, store_->Read("T", 2, 0, 10, 1 << 20));
  EXPECT_EQ(other_queue.status, ReadStatus::kNoSuchQueue);
  ASSERT_OK_AND_ASSIGN(ReadResult at_max, store_->Read("T", 1, 3, 10, 1 << 20));
  EXPECT_EQ(at_max.status, ReadStatus::kNoNewMessage);
  EXPECT_EQ(at_max.next_offset, 3);
  EXPECT_EQ(at_max.max_offset, 3);
  ASSERT_OK_AND_ASSIGN(ReadResult past_max, store_->Read("T", 1, 9, 10, 1 << 20));
  EXPECT_EQ(past_max.status, ReadStatus::kOffsetTooLarge);
  EXPECT_EQ(past_max.next_offset, 3);
  EXPECT_TRUE(past_max.messages.empty());
  ASSERT_OK_AND_ASSIGN(ReadResult below_min, store_->Read("T", 1, -1, 10, 1 << 20));
  EXPECT_EQ(below_min.status, ReadStatus::kOffsetTooSmall);
  EXPECT_EQ(below_min.next_offset, 0);
  ASSERT_OK_AND_ASSIGN(ReadResult middle, store_->Read("T", 1, 1, 10, 1 << 20));
  EXPECT_EQ(middle.status, ReadStatus::kFound);
  ASSERT_EQ(middle.messages.size(), 2u);
  EXPECT_EQ(middle.messages[0].queue_offset, 1);
  EXPECT_EQ(middle.next_offset, 3);

  ASSERT_OK_AND_ASSIGN(QueueBounds bounds, store_->GetQueueBounds("T", 1));
  EXPECT_EQ(bounds.min_offset, 0);
  EXPECT_EQ(bounds.max_offset, 3);
  EXPECT_TRUE(store_->GetQueueBounds("T", 2).status().IsNotFound());
  std::vector<QueueId> queues = store_->ListQueues();
  ASSERT_EQ(queues.size(), 1u);
  EXPECT_EQ(queues[0], (QueueId{"T", 1}));
}

TEST_P(StoreImplTest, ReadStopsAtMaxMessagesAndMaxBytesButReturnsAtLeastOne) {
  OpenStore();
  PutResult first;
  for (int i = 0; i < 10; ++i) {
    PutResult r = PutAndWait(MakeMessage("T", 0, BodyFor(0, i, 100)));
    if (i == 0) first = r;
  }
  uint64_t size = static_cast<uint64_t>(first.record_size);  // all records are this size
  ASSERT_OK_AND_ASSIGN(ReadResult by_count, store_->Read("T", 0, 2, 3, 1 << 20));
  EXPECT_EQ(by_count.messages.size(), 3u);
  EXPECT_EQ(by_count.next_offset, 5);
  ASSERT_OK_AND_ASSIGN(ReadResult by_bytes, store_->Read("T", 0, 0, 100, size * 5 / 2));
  EXPECT_EQ(by_bytes.messages.size(), 2u);
  EXPECT_EQ(by_bytes.total_bytes, 2 * size);
  EXPECT_EQ(by_bytes.next_offset, 2);
  ASSERT_OK_AND_ASSIGN(ReadResult exact, store_->Read("T", 0, 0, 100, size * 3));
  EXPECT_EQ(exact.messages.size(), 3u);
  ASSERT_OK_AND_ASSIGN(ReadResult tiny, store_->Read("T", 0, 7, 100, 1));
  EXPECT_EQ(tiny.status, ReadStatus::kFound);
  ASSERT_EQ(tiny.messages.size(), 1u);
  EXPECT_EQ(tiny.messages[0].queue_offset, 7);
  EXPECT_EQ(tiny.next_offset, 8);
}

TEST_P(StoreImplTest, ReadsCrossSegmentBoundaries) {
  StoreOptions o = Options();
  o.commitlog_segment_bytes = 4096;
  o.max_message_bytes = 1024;
  OpenStore(o);
  std::vector<PutResult> puts;
  for (int i = 0; i < 60; ++i) {
    size_t size = 300 + (i * 137) % 700;
    puts.push_back(PutAndWait(MakeMessage("Roll", i % 2, BodyFor(i % 2, i, size))));
  }
  EXPECT_GE(store_->Stats().segment_count, 8u);
  for (int32_t q = 0; q < 2; ++q) {
    for (int32_t batch : {1, 3, 1000}) {
      ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store_.get(), "Roll", q, 0, batch));
      ASSERT_EQ(got.size(), 30u);
      for (size_t k = 0; k < got.size(); ++k) {
        int i = static_cast<int>(2 * k) + q;
        ParsedRecord p;
        ASSERT_OK(got[k].Parse(&p));
        EXPECT_EQ(p.body, BodyFor(q, i, 300 + (i * 137) % 700)) << "message " << i;
        EXPECT_EQ(got[k].physical_offset, puts[i].physical_offset);
        ASSERT_OK_AND_ASSIGN(RecordView view, store_->ReadRecord(puts[i].physical_offset));
        EXPECT_EQ(view.bytes, got[k].bytes);
      }
    }
  }
}

TEST_P(StoreImplTest, PutBatchAssignsContiguousOffsets) {
  OpenStore();
  PutAndWait(MakeMessage("B", 0, "before"));
  std::vector<Message> batch;
  for (int i = 0; i < 8; ++i)
    batch.push_back(MakeMessage("B", i % 3 == 2 ? 1 : 0, BodyFor(1, i, 50)));
  ASSERT_OK_AND_ASSIGN(BatchPutResult r, PutMessages(store_.get(), batch));
  EXPECT_EQ(r.status, PutStatus::kOk);
  ASSERT_EQ(r.items.size(), batch.size());
  int64_t next_q0 = 1, next_q1 = 0;
  for (size_t i = 0; i < r.items.size(); ++i) {
    if (i > 0) {
      EXPECT_EQ(r.items[i].physical_offset,
                r.items[i - 1].physical_offset + r.items[i - 1].record_size);
    }
    EXPECT_EQ(r.items[i].queue_offset, batch[i].queue_id == 0 ? next_q0++ : next_q1++);
  }
  const PutResult& last = r.items.back();
  ASSERT_OK(store_->AwaitDispatched(last.physical_offset + last.record_size, kWaitMs));
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> q0, ReadQueue(store_.get(), "B", 0));
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> q1, ReadQueue(store_.get(), "B", 1));
  EXPECT_EQ(q0.size(), 1u + 6u);
  EXPECT_EQ(q1.size(), 2u);
}

TEST_P(StoreImplTest, ABadBatchIsRejectedWhole) {
  OpenStore();
  std::vector<Message> batch = {MakeMessage("B", 0, "ok"), MakeMessage("bad topic", 0, "x")};
  EXPECT_TRUE(PutMessages(store_.get(), batch).status().IsInvalidArgument());
  EXPECT_TRUE(store_->PutBatch({}).status().IsInvalidArgument());
  EXPECT_EQ(store_->Stats().appended_offset, 0);
  EXPECT_TRUE(store_->ListQueues().empty());
}

TEST_P(StoreImplTest, ReadRecordFindsRecordsOnlyWhereTheyStart) {
  OpenStore();
  PutResult a = PutAndWait(MakeMessage("R", 0, "first"));
  PutResult b = PutAndWait(MakeMessage("R", 0, "second"));
  ASSERT_OK_AND_ASSIGN(RecordView view, store_->ReadRecord(b.physical_offset));
  EXPECT_EQ(view.physical_offset, b.physical_offset);
  ParsedRecord p;
  ASSERT_OK(ParseRecord(view.bytes, true, &p));
  EXPECT_EQ(p.body, "second");
  EXPECT_EQ(p.queue_offset, 1);
  EXPECT_TRUE(store_->ReadRecord(a.physical_offset + 1).status().IsNotFound());
  EXPECT_TRUE(store_->ReadRecord(b.physical_offset + b.record_size).status().IsNotFound());
  EXPECT_TRUE(store_->ReadRecord(1 << 20).status().IsNotFound());
  EXPECT_TRUE(store_->ReadRecord(-1).status().IsNotFound());
}

TEST_P(StoreImplTest, OffsetMessageIdNamesTheStoreHostAndPhysicalOffset) {
  StoreOptions o = Options();
  o.store_host = SocketAddress::V4(10, 1, 2, 3, 9876);
  OpenStore(o);
  PutAndWait(MakeMessage("Id", 0, "one"));
  PutResult r = PutAndWait(MakeMessage("Id", 0, "two"));
  auto decoded = DecodeOffsetMessageId(r.offset_message_id());
  ASSERT_TRUE(decoded.has_value()) << r.offset_message_id();
  EXPECT_EQ(decoded->first, o.store_host);
  EXPECT_EQ(decoded->second, r.physical_offset);
  ASSERT_OK_AND_ASSIGN(RecordView view, store_->ReadRecord(r.physical_offset));
  ParsedRecord p;
  ASSERT_OK(ParseRecord(view.bytes, true, &p));
  EXPECT_EQ(p.store_host, o.store_host);
}

TEST_P(StoreImplTest, BadInputIsRejectedAndNothingIsWritten) {
  OpenStore();
  std::vector<Message> bad = {
      MakeMessage("", 0, "x"),
      MakeMessage("has space", 0, "x"),
      MakeMessage(std::string(128, 'T'), 0, "x"),
      MakeMessage("T", -1, "x"),
      MakeMessage("T", 0, std::string(2049, 'b')),
  };
  Message long_props = MakeMessage("T", 0, "x");
  long_props.SetProperty("big", std::string(33000, 'p'));
  bad.push_back(long_props);
  for (const Message& m : bad) {
    auto r = PutMessage(store_.get(), m);
    EXPECT_TRUE(r.status().IsInvalidArgument())
        << m.topic.substr(0, 20) << "/" << m.queue_id << ": " << r.status().ToString();
  }
  EXPECT_EQ(store_->Stats().appended_offset, 0);
  EXPECT_TRUE(store_->ListQueues().empty());
  // The limits themselves are allowed.
  PutResult at_limit = PutAndWait(MakeMessage("T", 0, std::string(2048, 'b')));
  EXPECT_EQ(at_limit.physical_offset, 0);
  PutResult long_topic = PutAndWait(MakeMessage(std::string(127, 'T'), 0, "x"));
  EXPECT_EQ(long_topic.queue_offset, 0);
}

TEST_P(StoreImplTest, ReopenAfterCloseKeepsEverythingAndContinues) {
  OpenStore();
  std::vector<PutResult> puts;
  for (int i = 0; i < 30; ++i)
    puts.push_back(PutAndWait(MakeMessage("Re", i % 3, BodyFor(0, i, 200))));
  int64_t end = store_->Stats().appended_offset;
  ASSERT_OK(store_->Close());
  store_.reset();

  OpenStore();
  StoreStats stats = store_->Stats();
  EXPECT_FALSE(stats.recovered_from_crash);
  EXPECT_EQ(stats.recovery_scanned_bytes, 0u);
  EXPECT_EQ(stats.appended_offset, end);
  EXPECT_EQ(stats.queue_count, 3u);
  for (int32_t q = 0; q < 3; ++q) {
    ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store_.get(), "Re", q));
    ASSERT_EQ(got.size(), 10u);
    for (size_t k = 0; k < got.size(); ++k) {
      ParsedRecord p;
      ASSERT_OK(got[k].Parse(&p));
      EXPECT_EQ(p.body, BodyFor(0, static_cast<int64_t>(3 * k) + q, 200));
    }
  }
  PutResult next = PutAndWait(MakeMessage("Re", 1, "after reopen"));
  EXPECT_EQ(next.queue_offset, 10);
  // Appends continue at the old end (or, if the record does not fit there, at the next
  // segment).
  EXPECT_TRUE(next.physical_offset == end ||
              (next.physical_offset > end && next.physical_offset % 8192 == 0))
      << next.physical_offset << " vs " << end;
}

TEST_P(StoreImplTest, ASecondOpenOfAnOpenStoreFails) {
  OpenStore();
  PutAndWait(MakeMessage("L", 0, "one"));
  auto second = Store::Open(Options(), location_.dir());
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsFailedPrecondition()) << second.status().ToString();
  // The first store is not disturbed.
  PutResult r = PutAndWait(MakeMessage("L", 0, "two"));
  EXPECT_EQ(r.queue_offset, 1);
  ASSERT_OK(store_->Close());
  auto third = Store::Open(Options(), location_.dir());
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(third->get(), "L", 0));
  EXPECT_EQ(got.size(), 2u);
}

TEST_P(StoreImplTest, OptionsAreValidatedAtOpen) {
  StoreOptions o = Options();
  o.commitlog_segment_bytes = 5000;
  EXPECT_TRUE(Store::Open(o, location_.dir()).status().IsInvalidArgument());
  o = Options();
  o.consume_queue_entries_per_file = 0;
  EXPECT_TRUE(Store::Open(o, location_.dir()).status().IsInvalidArgument());
  o = Options();
  o.create_if_missing = false;
  EXPECT_TRUE(Store::Open(o, location_.dir()).status().IsNotFound());

  OpenStore();
  PutAndWait(MakeMessage("S", 0, "x"));
  ASSERT_OK(store_->Close());
  o = Options();
  o.commitlog_segment_bytes = 16384;  // not the size the store was created with
  EXPECT_TRUE(Store::Open(o, location_.dir()).status().IsInvalidArgument());
}

TEST_P(StoreImplTest, PutsAfterCloseFailButReadsWork) {
  OpenStore();
  PutAndWait(MakeMessage("C", 0, "kept"));
  ASSERT_OK(store_->Close());
  EXPECT_TRUE(
      PutMessage(store_.get(), MakeMessage("C", 0, "late")).status().IsFailedPrecondition());
  EXPECT_TRUE(
      PutMessages(store_.get(), {MakeMessage("C", 0, "late")}).status().IsFailedPrecondition());
  EXPECT_TRUE(store_->Close().IsFailedPrecondition());
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store_.get(), "C", 0));
  ASSERT_EQ(got.size(), 1u);
}

// store.h: after Close "later calls of anything but Read* return kFailedPrecondition"
// (Flush and AwaitDispatched returned OK before d890e2b).
TEST_P(StoreImplTest, FlushAndAwaitAfterCloseFail) {
  OpenStore();
  PutResult r = PutAndWait(MakeMessage("C", 0, "kept"));
  ASSERT_OK(store_->Close());
  EXPECT_TRUE(store_->Flush().IsFailedPrecondition());
  EXPECT_TRUE(
      store_->AwaitDispatched(r.physical_offset + r.record_size, 10).IsFailedPrecondition());
}

TEST_P(StoreImplTest, ViewsStayValidAfterCloseAndDestruction) {
  OpenStore();
  std::vector<PutResult> puts;
  for (int i = 0; i < 12; ++i) puts.push_back(PutAndWait(MakeMessage("V", 0, BodyFor(0, i, 900))));
  ASSERT_OK_AND_ASSIGN(ReadResult read, store_->Read("V", 0, 0, 100, 1 << 20));
  ASSERT_EQ(read.messages.size(), 12u);
  ASSERT_OK_AND_ASSIGN(RecordView view, store_->ReadRecord(puts[5].physical_offset));
  ASSERT_OK(store_->Close());
  store_.reset();
  for (size_t i = 0; i < read.messages.size(); ++i) {
    ParsedRecord p;
    ASSERT_OK(ParseRecord(read.messages[i].record, true, &p));
    EXPECT_EQ(p.body, BodyFor(0, static_cast<int64_t>(i), 900));
  }
  ParsedRecord p;
  ASSERT_OK(ParseRecord(view.bytes, true, &p));
  EXPECT_EQ(p.body, BodyFor(0, 5, 900));
}

TEST_P(StoreImplTest, TheArrivalListenerHearsOfEveryMessage) {
  OpenStore();
  std::mutex mu;
  std::vector<std::tuple<std::string, int32_t, int64_t>> heard;
  store_->SetArrivalListener([&](std::string_view topic, int32_t queue_id, int64_t next) {
    std::lock_guard<std::mutex> l(mu);
    heard.emplace_back(std::string(topic), queue_id, next);
  });
  PutAndWait(MakeMessage("A", 0, "x"));
  PutAndWait(MakeMessage("A", 4, "y"));
  PutAndWait(MakeMessage("A", 0, "z"));
  std::lock_guard<std::mutex> l(mu);
  std::vector<std::tuple<std::string, int32_t, int64_t>> expected = {
      {"A", 0, 1}, {"A", 4, 1}, {"A", 0, 2}};
  EXPECT_EQ(heard, expected);
}

TEST_P(StoreImplTest, AwaitDispatchedOfAnOffsetNeverWrittenTimesOut) {
  OpenStore();
  PutResult r = PutAndWait(MakeMessage("W", 0, "x"));
  Status s = store_->AwaitDispatched(r.physical_offset + r.record_size + 1, 20);
  EXPECT_TRUE(s.IsTimedOut()) << s.ToString();
}

TEST_P(StoreImplTest, Ipv6HostsAndLongRetryTopicsRoundTrip) {
  StoreOptions o = Options();
  SocketAddress v6;
  v6.ipv6 = true;
  v6.ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  v6.port = 10911;
  o.store_host = v6;
  OpenStore(o);
  Message m = MakeMessage("%RETRY%" + std::string(200, 'g'), 0, "retry body", "tag");
  m.born_host = v6;
  m.born_host.port = 40000;
  PutResult r = PutAndWait(m);
  EXPECT_EQ(r.offset_message_id().size(), 56u);
  ASSERT_OK(store_->Close());
  store_.reset();
  OpenStore(o);
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store_.get(), m.topic, 0));
  ASSERT_EQ(got.size(), 1u);
  ParsedRecord p;
  ASSERT_OK(got[0].Parse(&p));
  EXPECT_EQ(p.magic, static_cast<int32_t>(0xDAA320AB));  // V2: topic longer than 127
  EXPECT_EQ(p.topic, m.topic);
  EXPECT_EQ(p.body, "retry body");
  EXPECT_EQ(p.born_host, m.born_host);
  EXPECT_EQ(p.store_host, v6);
  EXPECT_EQ(p.sys_flag & (sysflag::kBornHostV6 | sysflag::kStoreHostV6),
            sysflag::kBornHostV6 | sysflag::kStoreHostV6);
}

// A prepared message is stored as a half message (transaction/transaction_rewrite.h): in
// the half topic, not in its own topic's queue, whose offsets it does not take.
TEST_P(StoreImplTest, PreparedTransactionMessagesStayOutOfTheirTopicsQueue) {
  OpenStore();
  PutAndWait(MakeMessage("Tx", 0, "plain 0"));
  Message half = MakeMessage("Tx", 0, "half message");
  half.sys_flag = sysflag::kTransactionPrepared;
  PutResult prepared = PutAndWait(half);
  PutResult after = PutAndWait(MakeMessage("Tx", 0, "plain 1"));
  EXPECT_EQ(after.queue_offset, 1);
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store_.get(), "Tx", 0));
  ASSERT_EQ(got.size(), 2u);
  ASSERT_OK_AND_ASSIGN(RecordView view, store_->ReadRecord(prepared.physical_offset));
  ParsedRecord p;
  ASSERT_OK(ParseRecord(view.bytes, true, &p));
  EXPECT_EQ(p.body, "half message");
  EXPECT_EQ(p.topic, "RMQ_SYS_TRANS_HALF_TOPIC");
  EXPECT_EQ(FindProperty(p.properties, "REAL_TOPIC"), "Tx");
  EXPECT_EQ(p.sys_flag & sysflag::kTransactionMask, 0);
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> halves,
                       ReadQueue(store_.get(), "RMQ_SYS_TRANS_HALF_TOPIC", 0));
  ASSERT_EQ(halves.size(), 1u);
  // Reopened, the queue offsets continue where they were.
  ASSERT_OK(store_->Close());
  store_.reset();
  OpenStore();
  PutResult next = PutAndWait(MakeMessage("Tx", 0, "plain 2"));
  EXPECT_EQ(next.queue_offset, 2);
}

TEST_P(StoreImplTest, AHalfCreatedLastSegmentIsRemovedAtOpen) {
  OpenStore();
  PutResult r = PutAndWait(MakeMessage("H", 0, "kept"));
  ASSERT_OK(store_->Close());
  store_.reset();
  // The process died while creating the next segment: it has the wrong size, no data.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names,
                       location_.env()->GetChildren(location_.dir() + "/commitlog"));
  int64_t last = 0;
  for (const std::string& n : names) last = std::max<int64_t>(last, std::stoll(n));
  std::string extra = location_.dir() + "/commitlog/" +
                      std::string(20 - std::to_string(last + 8192).size(), '0') +
                      std::to_string(last + 8192);
  {
    ASSERT_OK_AND_ASSIGN(auto f, location_.env()->OpenFile(extra, OpenMode::kCreate));
    ASSERT_OK(f->Write(0, std::string(100, '\0')));
  }
  OpenStore();
  EXPECT_FALSE(location_.env()->FileExists(extra));
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store_.get(), "H", 0));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].physical_offset, r.physical_offset);
}

}  // namespace
}  // namespace mqstore
