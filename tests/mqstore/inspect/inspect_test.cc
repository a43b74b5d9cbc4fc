// StoreInspector: reading a closed store without changing it, and Verify's verdicts on
// damaged copies of it (docs/format/commitlog.md, "Reading and tail rules").
#include "mqstore/inspect.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mqstore/inspect/inspect_test_util.h"
#include "mqstore/mem_env.h"
#include "mqstore/store.h"
#include "queue/consume_queue.h"
#include "recovery/checkpoint.h"
#include "support/test_util.h"
#include "util/filename.h"

namespace mqstore {
namespace {

using test::FlipByteAt;
using test::ReadAt;
using test::RunVerify;
using test::VerifyResult;
using test::WriteFileAt;

constexpr uint64_t kSegmentBytes = 16 * 1024;

struct Put {
  std::string topic;
  int32_t queue_id;
  PutResult result;
};

// Builds and closes a store of `count` messages over three queues; several segments.
std::vector<Put> BuildStore(const std::string& dir, int count, Env* env = nullptr) {
  StoreOptions options;
  options.env = env;
  options.commitlog_segment_bytes = kSegmentBytes;
  std::vector<Put> puts;
  auto store = Store::Open(options, dir);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return puts;
  for (int i = 0; i < count; ++i) {
    std::string topic = i % 3 == 2 ? "Other" : "TopicA";
    int32_t queue = i % 3 == 1 ? 1 : 0;
    Message m = test::MakeMessage(topic, queue, "body-" + std::to_string(i) + std::string(40, 'x'),
                                  i % 2 ? "tagA" : "", "key" + std::to_string(i));
    std::string props;
    auto put = (*store)->Put(m.View(&props));
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    if (put.ok()) puts.push_back({topic, queue, *put});
  }
  EXPECT_OK((*store)->Close());
  return puts;
}

std::unique_ptr<StoreInspector> Inspect(const std::string& dir, Env* env = nullptr) {
  InspectOptions options;
  options.env = env;
  auto inspector = StoreInspector::Open(dir, options);
  EXPECT_TRUE(inspector.ok()) << inspector.status().ToString();
  return inspector.ok() ? std::move(inspector).value() : nullptr;
}

std::string SegmentPath(const std::string& dir, int64_t offset) {
  return filename::CommitLogSegment(dir, offset - offset % static_cast<int64_t>(kSegmentBytes));
}

int64_t InSegment(int64_t offset) { return offset % static_cast<int64_t>(kSegmentBytes); }

int64_t LogEnd(const std::vector<Put>& puts) {
  return puts.back().result.physical_offset + puts.back().result.record_size;
}

class InspectTest : public ::testing::Test {
 protected:
  void SetUp() override { puts_ = BuildStore(dir_.path(), 300); }
  test::TempDir dir_;
  std::vector<Put> puts_;
};

TEST_F(InspectTest, CleanStoreVerifiesClean) {
  ASSERT_EQ(puts_.size(), 300u);
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.problems.empty()) << v.Dump();
  EXPECT_TRUE(v.summary.clean());
  EXPECT_EQ(v.summary.records, 300u);
  EXPECT_EQ(v.summary.queue_entries, 300u);
  EXPECT_EQ(v.summary.queues, 3u);
  EXPECT_GE(v.summary.segments, 3u);
  EXPECT_GE(v.summary.blanks, 2u);
  EXPECT_EQ(v.summary.log_end, LogEnd(puts_));
}

TEST_F(InspectTest, OpeningChangesNothing) {
  auto before = std::filesystem::last_write_time(dir_.Sub("checkpoint"));
  RunVerify(dir_.path());
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("abort")));
  EXPECT_EQ(std::filesystem::last_write_time(dir_.Sub("checkpoint")), before);
}

TEST_F(InspectTest, LogIteratorShowsRecordsBlanksAndTheEnd) {
  auto inspector = Inspect(dir_.path());
  ASSERT_OK_AND_ASSIGN(auto it, inspector->NewLogIterator(0));
  size_t records = 0, blanks = 0;
  for (; it->Valid(); it->Next()) {
    const LogEntry& e = it->entry();
    if (e.kind == LogEntryKind::kRecord) {
      ASSERT_LT(records, puts_.size());
      EXPECT_EQ(e.offset, puts_[records].result.physical_offset);
      EXPECT_EQ(e.record.topic, puts_[records].topic);
      EXPECT_EQ(e.record.queue_offset, puts_[records].result.queue_offset);
      EXPECT_TRUE(e.problem.empty()) << e.problem;
      ++records;
    } else if (e.kind == LogEntryKind::kBlank) {
      EXPECT_EQ((e.offset + e.size) % static_cast<int64_t>(kSegmentBytes), 0);
      ++blanks;
    } else {
      EXPECT_EQ(e.offset, LogEnd(puts_));
      EXPECT_TRUE(e.zeros_follow);
    }
  }
  EXPECT_OK(it->status());
  EXPECT_EQ(records, puts_.size());
  EXPECT_GE(blanks, 2u);

  // --from in the middle of a record starts at the next one.
  ASSERT_OK_AND_ASSIGN(auto from, inspector->NewLogIterator(puts_[10].result.physical_offset + 1));
  ASSERT_TRUE(from->Valid());
  EXPECT_EQ(from->entry().offset, puts_[11].result.physical_offset);
}

TEST_F(InspectTest, ReadRecordAtFindsRecordStartsOnly) {
  auto inspector = Inspect(dir_.path());
  const PutResult& r = puts_[42].result;
  ASSERT_OK_AND_ASSIGN(LogEntry e, inspector->ReadRecordAt(r.physical_offset));
  EXPECT_EQ(e.size, r.record_size);
  EXPECT_EQ(e.record.queue_offset, r.queue_offset);
  EXPECT_EQ(MakeOffsetMessageId(e.record.store_host, e.offset), r.offset_message_id());
  EXPECT_TRUE(inspector->ReadRecordAt(r.physical_offset + 3).status().IsNotFound());
  EXPECT_TRUE(inspector->ReadRecordAt(1ll << 40).status().IsNotFound());
}

TEST_F(InspectTest, QueueIteratorMatchesThePuts) {
  auto inspector = Inspect(dir_.path());
  std::vector<int64_t> expected;
  for (const Put& p : puts_) {
    if (p.topic == "TopicA" && p.queue_id == 1) expected.push_back(p.result.physical_offset);
  }
  ASSERT_OK_AND_ASSIGN(auto it, inspector->NewQueueIterator("TopicA", 1, 0));
  std::vector<int64_t> seen;
  for (; it->Valid(); it->Next()) {
    EXPECT_EQ(it->entry().queue_offset, static_cast<int64_t>(seen.size()));
    seen.push_back(it->entry().physical_offset);
  }
  EXPECT_EQ(seen, expected);
  ASSERT_OK_AND_ASSIGN(auto from, inspector->NewQueueIterator("TopicA", 1, 5));
  ASSERT_TRUE(from->Valid());
  EXPECT_EQ(from->entry().physical_offset, expected[5]);
  EXPECT_TRUE(inspector->NewQueueIterator("Nope", 0, 0).status().IsNotFound());
}

TEST_F(InspectTest, StatsAndCheckpoint) {
  auto inspector = Inspect(dir_.path());
  ASSERT_OK_AND_ASSIGN(InspectStats stats, inspector->Stats());
  EXPECT_EQ(stats.segment_bytes, kSegmentBytes);
  EXPECT_EQ(stats.log_end, LogEnd(puts_));
  EXPECT_FALSE(stats.abort_marker);
  ASSERT_TRUE(stats.checkpoint.has_value());
  EXPECT_EQ(stats.checkpoint->log_durable_offset, LogEnd(puts_));
  ASSERT_EQ(stats.queues.size(), 3u);
  EXPECT_EQ(stats.queues[0].topic, "Other");
  EXPECT_EQ(stats.queues[0].max_offset, 100);
  EXPECT_EQ(stats.queue_entries, 300u);

  ASSERT_OK_AND_ASSIGN(CheckpointState cp, inspector->ReadCheckpoint());
  EXPECT_TRUE(cp.exists);
  EXPECT_TRUE(cp.slots[0].valid);
  EXPECT_TRUE(cp.slots[1].valid);
  ASSERT_NE(cp.newest(), nullptr);
  EXPECT_EQ(cp.newest()->sequence,
            std::max(cp.slots[0].fields.sequence, cp.slots[1].fields.sequence));
}

TEST_F(InspectTest, FlippedByteInADurableRecordIsCorruptionAtItsOffset) {
  const PutResult& victim = puts_[150].result;
  std::string segment = SegmentPath(dir_.path(), victim.physical_offset);
  FlipByteAt(segment, InSegment(victim.physical_offset) + 100);  // inside the body
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_FALSE(v.summary.clean());
  ASSERT_FALSE(v.problems.empty());
  const Problem& first = v.problems.front();
  EXPECT_EQ(first.severity, Severity::kCorruption) << v.Dump();
  EXPECT_EQ(first.path, segment);
  EXPECT_EQ(first.file_offset, InSegment(victim.physical_offset));
  EXPECT_NE(first.message.find("CRC mismatch"), std::string::npos) << first.message;
  EXPECT_NE(first.message.find("durable"), std::string::npos) << first.message;
  EXPECT_EQ(v.summary.log_end, victim.physical_offset);
}

TEST_F(InspectTest, TornTailPastTheDurableOffsetIsANote) {
  // Half a record after the end: what a crash in the middle of a write leaves.
  const PutResult& last = puts_.back().result;
  std::string segment = SegmentPath(dir_.path(), last.physical_offset);
  std::string half = ReadAt(segment, InSegment(last.physical_offset), last.record_size / 2);
  int64_t end = LogEnd(puts_);
  WriteFileAt(segment, InSegment(end), half);

  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.summary.clean()) << v.Dump();
  EXPECT_EQ(v.summary.notes, 1u) << v.Dump();
  EXPECT_TRUE(v.Mentions(Severity::kNote, "torn tail of " + std::to_string(half.size()) +
                                              " bytes at offset " + std::to_string(end)))
      << v.Dump();
  EXPECT_TRUE(v.Mentions(Severity::kNote, "recovery will drop it"));

  // And recovery does: reopening keeps every message and the store verifies clean again.
  // (A crash is simulated by the abort marker, so that recovery zeroes the tail.)
  std::ofstream(dir_.Sub("abort")) << "1\n";
  StoreOptions options;
  options.commitlog_segment_bytes = kSegmentBytes;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(options, dir_.path()));
    ASSERT_OK_AND_ASSIGN(QueueBounds b, store->GetQueueBounds("Other", 0));
    EXPECT_EQ(b.max_offset, 100);
    ASSERT_OK(store->Close());
  }
  VerifyResult after = RunVerify(dir_.path());
  EXPECT_TRUE(after.problems.empty()) << after.Dump();
}

// Lowers the offsets in both checkpoint slots, as if the store had crashed right after a
// checkpoint saying the log was durable below `log_durable` and dispatched below `dispatch`.
void RewindCheckpoint(const std::string& dir, int64_t log_durable, int64_t dispatch) {
  for (uint64_t slot = 0; slot < 2; ++slot) {
    std::string path = filename::Checkpoint(dir);
    CheckpointData d;
    ASSERT_OK(
        DecodeCheckpointSlot(ReadAt(path, slot * kCheckpointSlotSize, kCheckpointSlotSize), &d));
    d.log_durable_offset = log_durable;
    d.dispatch_durable_offset = dispatch;
    WriteFileAt(path, static_cast<int64_t>(slot * kCheckpointSlotSize), EncodeCheckpointSlot(d));
  }
}

TEST_F(InspectTest, DamageBelowTheDurableOffsetFailsRecoveryToo) {
  // Recovery re-validates from the dispatch point; the damage lies between it and the
  // durable offset, so Store::Open must refuse just as verify reports corruption.
  const PutResult& victim = puts_.back().result;
  RewindCheckpoint(dir_.path(), LogEnd(puts_), puts_[puts_.size() - 5].result.physical_offset);
  FlipByteAt(SegmentPath(dir_.path(), victim.physical_offset),
             InSegment(victim.physical_offset) + 50);
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.Mentions(Severity::kCorruption, "acknowledged records")) << v.Dump();
  StoreOptions options;
  options.commitlog_segment_bytes = kSegmentBytes;
  EXPECT_TRUE(Store::Open(options, dir_.path()).status().IsCorruption());
}

// Nothing is durable past offset 0 here, so a hole followed by valid records in later
// segments is what a power cut with out-of-order writeback can leave: a torn tail.
TEST_F(InspectTest, ValidRecordsInALaterSegmentPastTheDurableOffsetAreATornTail) {
  RewindCheckpoint(dir_.path(), 0, 0);
  const PutResult& victim = puts_[5].result;  // first segment; later segments hold records
  FlipByteAt(SegmentPath(dir_.path(), victim.physical_offset),
             InSegment(victim.physical_offset) + 60);
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.summary.clean()) << v.Dump();
  EXPECT_TRUE(v.Mentions(Severity::kNote, "valid-looking records start again")) << v.Dump();
  EXPECT_TRUE(v.Mentions(Severity::kNote, "recovery will drop it")) << v.Dump();
}

TEST_F(InspectTest, ValidRecordsInALaterSegmentBelowTheDurableOffsetAreCorruption) {
  const PutResult& victim = puts_[5].result;  // the checkpoint says everything is durable
  FlipByteAt(SegmentPath(dir_.path(), victim.physical_offset),
             InSegment(victim.physical_offset) + 60);
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_FALSE(v.summary.clean()) << v.Dump();
  EXPECT_TRUE(v.Mentions(Severity::kCorruption, "acknowledged records")) << v.Dump();
}

TEST_F(InspectTest, BadQueueEntryIsReportedWithFileAndOffset) {
  std::string queue_file = filename::ConsumeQueueFile(dir_.path(), "TopicA", 0, 0);
  WriteFileAt(queue_file, 3 * 20 + 12, std::string("\x00\x00\x00\x00\x12\x34\x56\x78", 8));
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_FALSE(v.summary.clean());
  ASSERT_EQ(v.problems.size(), 1u) << v.Dump();
  EXPECT_EQ(v.problems[0].path, queue_file);
  EXPECT_EQ(v.problems[0].file_offset, 60);
  EXPECT_NE(v.problems[0].message.find("tags hash"), std::string::npos) << v.Dump();
}

TEST_F(InspectTest, QueueEntryPastTheRestartPointIsANote) {
  // Entries of records at or after the checkpoint's restart point are rebuilt by recovery.
  const Put* last_a0 = nullptr;
  for (const Put& p : puts_) {
    if (p.topic == "TopicA" && p.queue_id == 0) last_a0 = &p;
  }
  RewindCheckpoint(dir_.path(), last_a0->result.physical_offset, last_a0->result.physical_offset);
  std::string queue_file = filename::ConsumeQueueFile(dir_.path(), "TopicA", 0, 0);
  WriteFileAt(queue_file, last_a0->result.queue_offset * 20 + 8, std::string("\0\0\0\x07", 4));
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.summary.clean()) << v.Dump();
  EXPECT_TRUE(v.Mentions(Severity::kNote, "recovery drops it")) << v.Dump();
}

// Retention removes the log's first segments before the queue files that point into them.
TEST_F(InspectTest, QueueEntriesBelowTheLogAfterRetentionAreNotProblems) {
  std::filesystem::remove(filename::CommitLogSegment(dir_.path(), 0));
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.summary.clean()) << v.Dump();
  EXPECT_EQ(v.summary.log_start, static_cast<int64_t>(kSegmentBytes));
}

// Records never span segments and retention removes whole ones, so an entry below the log
// that ends past its start is garbage; recovery drops it (the next message of its queue would
// otherwise follow an entry ending beyond it), and verify must say so.
TEST_F(InspectTest, AQueueEntryBelowTheLogThatRunsPastItsStartIsCorruption) {
  std::filesystem::remove(filename::CommitLogSegment(dir_.path(), 0));
  const Put* last_below = nullptr;
  for (const Put& p : puts_) {
    if (p.topic == "TopicA" && p.queue_id == 0 &&
        p.result.physical_offset < static_cast<int64_t>(kSegmentBytes)) {
      last_below = &p;
    }
  }
  ASSERT_NE(last_below, nullptr);
  const int64_t runs_to = static_cast<int64_t>(kSegmentBytes) + 100;
  const auto size = static_cast<uint32_t>(runs_to - last_below->result.physical_offset);
  std::string size_be = {static_cast<char>(size >> 24), static_cast<char>(size >> 16),
                         static_cast<char>(size >> 8), static_cast<char>(size)};
  std::string queue_file = filename::ConsumeQueueFile(dir_.path(), "TopicA", 0, 0);
  const int64_t entry_at = last_below->result.queue_offset * 20;
  WriteFileAt(queue_file, entry_at + 8, size_be);
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_FALSE(v.summary.clean()) << v.Dump();
  EXPECT_TRUE(v.Has(Severity::kCorruption, queue_file, entry_at, "runs past the log's start"))
      << v.Dump();
}

TEST_F(InspectTest, MissingQueueEntriesBelowTheRestartPointAreCorruption) {
  std::string queue_file = filename::ConsumeQueueFile(dir_.path(), "Other", 0, 0);
  WriteFileAt(queue_file, 90 * 20, std::string(10 * 20, '\0'));  // entries 90..99 never written
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.Mentions(Severity::kCorruption, "keeps entries only up to 90")) << v.Dump();
}

TEST_F(InspectTest, DamagedCheckpointSlotIsAWarningBothAreCorruption) {
  std::string path = filename::Checkpoint(dir_.path());
  FlipByteAt(path, 20);
  VerifyResult one = RunVerify(dir_.path());
  EXPECT_TRUE(one.summary.clean()) << one.Dump();
  EXPECT_EQ(one.summary.warnings, 1u) << one.Dump();
  EXPECT_EQ(one.problems.front().file_offset, 0);
  FlipByteAt(path, 4096 + 20);
  VerifyResult both = RunVerify(dir_.path());
  EXPECT_TRUE(both.Mentions(Severity::kCorruption, "no valid checkpoint slot")) << both.Dump();
}

TEST(InspectOpenTest, MissingDirectoryAndNonStoreAreErrors) {
  test::TempDir dir;
  EXPECT_TRUE(StoreInspector::Open(dir.Sub("nope")).status().IsNotFound());
  EXPECT_TRUE(StoreInspector::Open(dir.path()).status().IsInvalidArgument());
}

// A last queue file of another size than the first (a crash while creating it) is removed
// by the next open, so the inspector shows none of its entries either (found by
// consume_queue_fuzzer: it read them, and listed entries the store does not have).
TEST(InspectQueueTest, AWrongSizedLastQueueFileIsNotPartOfTheQueue) {
  test::TempDir dir;
  StoreOptions options;
  options.commitlog_segment_bytes = kSegmentBytes;
  options.consume_queue_entries_per_file = 4;
  int64_t log_end = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(options, dir.path()));
    for (int i = 0; i < 8; ++i) {  // two full queue files
      Message m = test::MakeMessage("TopicA", 0, "body-" + std::to_string(i));
      std::string props;
      ASSERT_OK_AND_ASSIGN(PutResult put, store->Put(m.View(&props)));
      log_end = put.physical_offset + put.record_size;
    }
    ASSERT_OK(store->Close());
  }
  // Two entries that would follow the last one, in a third file of 40 bytes, not 80.
  std::string extra(2 * kQueueEntrySize, '\0');
  EncodeQueueEntry(QueueEntry{log_end, 100, 0}, extra.data());
  EncodeQueueEntry(QueueEntry{log_end + 100, 100, 0}, extra.data() + kQueueEntrySize);
  const std::string third =
      filename::ConsumeQueueFile(dir.path(), "TopicA", 0, 8 * kQueueEntrySize);
  std::ofstream(third, std::ios::binary) << extra;

  auto inspector = Inspect(dir.path());
  ASSERT_NE(inspector, nullptr);
  ASSERT_OK_AND_ASSIGN(auto it, inspector->NewQueueIterator("TopicA", 0, 0));
  int64_t seen = 0;
  for (; it->Valid(); it->Next()) {
    EXPECT_LT(it->entry().physical_offset, log_end);
    ++seen;
  }
  EXPECT_EQ(seen, 8);
  VerifyResult v = RunVerify(dir.path());
  EXPECT_TRUE(v.Has(Severity::kNote, third, -1, "the next open removes it")) << v.Dump();

  // And the store agrees: it removes the file and the queue holds the eight.
  ASSERT_OK_AND_ASSIGN(auto reopened, Store::Open(options, dir.path()));
  EXPECT_FALSE(std::filesystem::exists(third));
  ASSERT_OK(reopened->Close());
}

TEST(InspectCrashTest, VerifyAgreesWithRecoveryAfterCrashes) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto env = NewMemEnv();
    StoreOptions options;
    options.env = env.get();
    options.commitlog_segment_bytes = 64 * 1024;  // one segment: see the report on later ones
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(options, "/store"));
    for (int i = 0; i < 200; ++i) {
      Message m = test::MakeMessage(i % 2 ? "A" : "B", i % 3, "payload " + std::to_string(i));
      std::string props;
      ASSERT_OK(store->Put(m.View(&props)).status());
      if (i == 120) ASSERT_OK(store->Flush());
    }
    CrashOptions crash;
    crash.mode = seed % 2 ? CrashMode::kTornPrefix : CrashMode::kDropUnsynced;
    crash.seed = seed;
    auto crashed = env->CrashCopy(crash);
    VerifyResult v = RunVerify("/store", crashed.get());
    EXPECT_TRUE(v.summary.clean()) << v.Dump();
    EXPECT_TRUE(v.Mentions(Severity::kNote, "abort marker present"));

    StoreOptions reopen = options;
    reopen.env = crashed.get();
    ASSERT_OK_AND_ASSIGN(auto recovered, Store::Open(reopen, "/store"));
    ASSERT_OK(recovered->Close());
    VerifyResult after = RunVerify("/store", crashed.get());
    EXPECT_TRUE(after.problems.empty()) << after.Dump();
    EXPECT_EQ(after.summary.log_end, v.summary.log_end);
    ASSERT_OK(store->Close());
  }
}

}  // namespace
}  // namespace mqstore
