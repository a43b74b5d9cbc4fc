#include "recovery/recovery.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mqstore/mem_env.h"
#include "mqstore/queue/log_harness.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::AllEntries;
using test::LogHarness;
using test::MakeMessage;
using test::OverwriteFile;
using test::ReadWholeFile;

constexpr uint64_t kSegmentBytes = 4096;

int64_t EndOf(const AppendedRecord& r) { return r.physical_offset + r.size; }

class RecoveryTest : public ::testing::Test {
 protected:
  RecoveryTest() : writer_(env_.get(), kSegmentBytes) {}
  void SetUp() override { ASSERT_OK(writer_.Load()); }

  // Appends `n` records alternating between TopicA/0 and TopicB/1.
  void AppendAlternating(int n, size_t body_bytes = 100) {
    for (int i = 0; i < n; ++i) {
      std::string body = "record-" + std::to_string(writer_.appended().size()) + "-";
      body.resize(body_bytes, 'x');
      Message m = i % 2 ? MakeMessage("TopicB", 1, body) : MakeMessage("TopicA", 0, body, "t");
      ASSERT_OK(writer_.Append(m).status());
    }
  }
  const AppendedRecord& Rec(size_t i) const { return writer_.appended().at(i); }
  int64_t LogEnd() { return writer_.log().appended(); }

  // Flips one byte inside record `r`, durably: its whole-record CRC no longer matches.
  void Damage(const AppendedRecord& r) {
    int64_t pos = r.physical_offset + r.size / 2;
    int64_t base = pos - pos % static_cast<int64_t>(kSegmentBytes);
    ASSERT_OK_AND_ASSIGN(std::string seg, ReadWholeFile(env_.get(), writer_.SegmentPath(base)));
    std::string flipped(1, static_cast<char>(seg[pos - base] ^ 0x5A));
    ASSERT_OK(OverwriteFile(env_.get(), writer_.SegmentPath(base), pos - base, flipped));
  }

  // Runs recovery on `env` with fresh components, as Store::Open does.
  Result<RecoveryOutcome> Recover(Env* env, const std::optional<CheckpointData>& cp,
                                  bool zero_tail = true) {
    recovered_ = std::make_unique<LogHarness>(env, kSegmentBytes);
    MQ_RETURN_IF_ERROR(recovered_->Load());
    return RecoverStore(&recovered_->log(), &recovered_->queues(), cp, zero_tail);
  }
  // After a recovery that ended at `recovered_end`: one more message to TopicA/0, then a clean
  // close (dispatched and synced, checkpoint at the log's end) and the next open. Returns the
  // message's record and that open's outcome.
  struct AfterReopen {
    AppendedRecord later;
    RecoveryOutcome reopened;
  };
  Result<AfterReopen> AppendOneAndReopenCleanly(int64_t recovered_end) {
    recovered_->ResumeAfterRecovery(recovered_end);
    AfterReopen out;
    MQ_ASSIGN_OR_RETURN(out.later, recovered_->Append(MakeMessage("TopicA", 0, "later")));
    MQ_RETURN_IF_ERROR(recovered_->DispatchAll());
    MQ_RETURN_IF_ERROR(recovered_->SyncLog());
    MQ_RETURN_IF_ERROR(recovered_->queues().SyncAll());
    const int64_t end = recovered_->log().appended();
    recovered_.reset();
    MQ_ASSIGN_OR_RETURN(out.reopened, Recover(env_.get(), writer_.Checkpoint(end, end)));
    return out;
  }
  // The recovered queue's entries must be exactly the writer's first `count` records of it.
  void ExpectQueue(const std::string& topic, int32_t queue_id, size_t count) {
    auto q = recovered_->queues().Find(topic, queue_id);
    ASSERT_NE(q, nullptr) << topic;
    std::vector<QueueEntry> entries = AllEntries(*q);
    ASSERT_EQ(entries.size(), count) << topic << "/" << queue_id;
    size_t k = 0;
    for (size_t i = 0; i < writer_.appended().size() && k < count; ++i) {
      bool mine = (topic == "TopicA") == (i % 2 == 0);
      if (!mine) continue;
      EXPECT_EQ(entries[k].physical_offset, Rec(i).physical_offset) << topic << " entry " << k;
      EXPECT_EQ(entries[k].size, Rec(i).size);
      ++k;
    }
  }
  // Bytes [from, end of its segment) of the recovered log are zeros, now and after a crash.
  void ExpectZerosFrom(Env* env, int64_t from) {
    int64_t base = from - from % static_cast<int64_t>(kSegmentBytes);
    std::string path = recovered_->SegmentPath(base);
    ASSERT_OK_AND_ASSIGN(std::string now, ReadWholeFile(env, path));
    EXPECT_EQ(now.find_first_not_of('\0', from - base), std::string::npos);
    if (auto* mem = dynamic_cast<MemEnv*>(env)) {
      std::unique_ptr<MemEnv> after = mem->CrashCopy({CrashMode::kDropUnsynced, 0});
      ASSERT_OK_AND_ASSIGN(std::string durable, ReadWholeFile(after.get(), path));
      EXPECT_EQ(durable.find_first_not_of('\0', from - base), std::string::npos);
    }
  }

  std::unique_ptr<MemEnv> env_ = NewMemEnv();
  LogHarness writer_;
  std::unique_ptr<LogHarness> recovered_;
};

TEST_F(RecoveryTest, ACleanLogIsTrustedWithoutAScan) {
  AppendAlternating(10);
  ASSERT_OK(writer_.DispatchAll());
  ASSERT_OK(writer_.SyncLog());
  ASSERT_OK(writer_.queues().SyncAll());
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome out,
                       Recover(env_.get(), writer_.Checkpoint(LogEnd(), LogEnd()), false));
  EXPECT_EQ(out.start, LogEnd());
  EXPECT_EQ(out.end, LogEnd());
  EXPECT_EQ(out.scanned_bytes, 0u);
  EXPECT_EQ(recovered_->log().appended(), LogEnd());
  ExpectQueue("TopicA", 0, 5);
  ExpectQueue("TopicB", 1, 5);
}

TEST_F(RecoveryTest, RecordsAfterTheCheckpointAreDispatchedAgain) {
  AppendAlternating(10);
  ASSERT_OK(writer_.DispatchUpTo(EndOf(Rec(3))));
  ASSERT_OK(writer_.queues().SyncAll());
  ASSERT_OK(writer_.SyncLog());
  std::unique_ptr<MemEnv> after = env_->CrashCopy({CrashMode::kDropUnsynced, 0});
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome out,
                       Recover(after.get(), writer_.Checkpoint(LogEnd(), EndOf(Rec(3)))));
  EXPECT_EQ(out.start, EndOf(Rec(3)));
  EXPECT_EQ(out.end, LogEnd());
  EXPECT_EQ(out.scanned_bytes, static_cast<uint64_t>(LogEnd() - EndOf(Rec(3))));
  ExpectQueue("TopicA", 0, 5);
  ExpectQueue("TopicB", 1, 5);
}

TEST_F(RecoveryTest, ADamagedRecordPastTheDurableOffsetEndsTheLog) {
  AppendAlternating(8);
  ASSERT_OK(writer_.DispatchAll());
  ASSERT_OK(writer_.SyncLog());
  ASSERT_OK(writer_.queues().SyncAll());
  Damage(Rec(6));
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome out,
                       Recover(env_.get(), writer_.Checkpoint(EndOf(Rec(5)), EndOf(Rec(5)))));
  EXPECT_EQ(out.end, Rec(6).physical_offset);
  EXPECT_EQ(recovered_->log().appended(), Rec(6).physical_offset);
  ExpectQueue("TopicA", 0, 3);  // records 0, 2, 4
  ExpectQueue("TopicB", 1, 3);  // records 1, 3, 5 (record 7 followed the damage)
  ExpectZerosFrom(env_.get(), out.end);
}

TEST_F(RecoveryTest, ATornTailIsCutAtTheLastWholeRecord) {
  AppendAlternating(8);
  ASSERT_OK(writer_.DispatchUpTo(EndOf(Rec(4))));
  ASSERT_OK(writer_.queues().SyncAll());
  ASSERT_OK(writer_.log().Sync(0, EndOf(Rec(4))));
  std::map<int64_t, int> ends;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    CrashMode mode = seed % 2 ? CrashMode::kTornPrefix : CrashMode::kRandomPages;
    std::unique_ptr<MemEnv> after = env_->CrashCopy({mode, seed});
    ASSERT_OK_AND_ASSIGN(RecoveryOutcome out,
                         Recover(after.get(), writer_.Checkpoint(EndOf(Rec(4)), EndOf(Rec(4)))));
    size_t kept = 5;
    while (kept < 8 && EndOf(Rec(kept)) <= out.end) ++kept;
    ASSERT_EQ(out.end, EndOf(Rec(kept - 1))) << "seed " << seed << ": not a record boundary";
    ExpectQueue("TopicA", 0, (kept + 1) / 2);
    ExpectQueue("TopicB", 1, kept / 2);
    ExpectZerosFrom(after.get(), out.end);
    ends[out.end]++;
  }
  EXPECT_GE(ends.size(), 2u) << "the crash modes should leave different tails";
}

TEST_F(RecoveryTest, QueueEntriesForRecordsPastTheEndAreDropped) {
  // ASYNC_FLUSH: the queues were synced further than the log.
  AppendAlternating(10);
  ASSERT_OK(writer_.DispatchAll());
  ASSERT_OK(writer_.queues().SyncAll());
  ASSERT_OK(writer_.log().Sync(0, EndOf(Rec(5))));
  std::unique_ptr<MemEnv> after = env_->CrashCopy({CrashMode::kDropUnsynced, 0});
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome out,
                       Recover(after.get(), writer_.Checkpoint(EndOf(Rec(5)), LogEnd())));
  EXPECT_EQ(out.start, EndOf(Rec(5)));
  EXPECT_EQ(out.end, EndOf(Rec(5)));
  ExpectQueue("TopicA", 0, 3);
  ExpectQueue("TopicB", 1, 3);
}

// Retention removed the log's first segment and the queue files pointing into it, so an
// entry pointing there cannot be checked against the log. A garbage entry of that kind (torn
// or never synced) in the slot the log gives to a later record is dropped: the log decides
// the queue offsets. (Found by the crash suite, seed 1285 with MQ_CRASH_KNOWN_GAPS=1: the
// entry was trusted, the record's queue offset then looked like a discontinuity, and
// recovery cut acknowledged records off the log after a second power cut.)
TEST_F(RecoveryTest, AGarbageEntryBelowTheLogsFirstSegmentYieldsToTheLogsQueueOffset) {
  ASSERT_OK(writer_.AppendMany("TopicA", 0, 16));
  ASSERT_OK(writer_.AppendMany("TopicB", 1, 30));
  ASSERT_OK(writer_.DispatchAll());
  ASSERT_OK(writer_.SyncLog());
  ASSERT_OK(writer_.queues().SyncAll());
  const int64_t dispatched = LogEnd();
  ASSERT_OK_AND_ASSIGN(AppendedRecord next, writer_.Append(MakeMessage("TopicA", 0, "later")));
  ASSERT_EQ(next.queue_offset, 16);
  ASSERT_OK(writer_.SyncLog());
  ASSERT_LT(writer_.appended()[15].physical_offset + writer_.appended()[15].size,
            static_cast<int64_t>(kSegmentBytes));
  ASSERT_GE(next.physical_offset, static_cast<int64_t>(kSegmentBytes));

  // Retention: segment 0 and TopicA's queue files (all pointing into it) are gone.
  ASSERT_OK(env_->RemoveFile(writer_.SegmentPath(0)));
  for (int64_t base = 0; base < 16 * kQueueEntrySize; base += 4 * kQueueEntrySize) {
    ASSERT_OK(env_->RemoveFile(writer_.QueueFilePath("TopicA", 0, base)));
  }
  // The slot of queue offset 16 holds garbage that points into the removed segment.
  std::string file(4 * kQueueEntrySize, '\0');
  EncodeQueueEntry(QueueEntry{64, 150, 7}, file.data());
  const std::string path = writer_.QueueFilePath("TopicA", 0, 16 * kQueueEntrySize);
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<File> f, env_->OpenFile(path, OpenMode::kCreate));
    ASSERT_OK(f->Write(0, file));
    ASSERT_OK(f->Sync());
  }

  ASSERT_OK_AND_ASSIGN(RecoveryOutcome out,
                       Recover(env_.get(), writer_.Checkpoint(LogEnd(), dispatched)));
  EXPECT_EQ(out.end, LogEnd());
  auto q = recovered_->queues().Find("TopicA", 0);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->min_offset(), 16);
  ASSERT_EQ(q->max_offset(), 17);
  std::vector<QueueEntry> entries = AllEntries(*q);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].physical_offset, next.physical_offset);
  EXPECT_EQ(entries[0].size, next.size);
}

// Regression test (store_recovery fuzzer in CI): an entry pointing below the log's first
// segment but running past its start cannot be a record (records never span segments) and is
// dropped. It used to be kept when its queue had no record from the recovery start on; the
// next message of the queue then came after an entry ending far beyond it, and the open
// after a clean close cut the queue there (entries out of order), losing that message.
TEST_F(RecoveryTest, AnEntryBelowTheLogThatRunsPastItsStartIsDropped) {
  ASSERT_OK(writer_.AppendMany("TopicA", 0, 16));
  ASSERT_OK(writer_.AppendMany("TopicB", 1, 30));
  ASSERT_OK(writer_.DispatchAll());
  ASSERT_OK(writer_.SyncLog());
  ASSERT_OK(writer_.queues().SyncAll());
  ASSERT_LT(EndOf(writer_.appended()[15]), static_cast<int64_t>(kSegmentBytes));

  // Retention: segment 0 and TopicA's queue files (all pointing into it) are gone; the slot
  // of queue offset 16 holds garbage that starts in the removed segment and runs past it.
  ASSERT_OK(env_->RemoveFile(writer_.SegmentPath(0)));
  for (int64_t base = 0; base < 16 * kQueueEntrySize; base += 4 * kQueueEntrySize) {
    ASSERT_OK(env_->RemoveFile(writer_.QueueFilePath("TopicA", 0, base)));
  }
  std::string file(4 * kQueueEntrySize, '\0');
  EncodeQueueEntry(QueueEntry{64, 1 << 20, 7}, file.data());
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<File> f,
                         env_->OpenFile(writer_.QueueFilePath("TopicA", 0, 16 * kQueueEntrySize),
                                        OpenMode::kCreate));
    ASSERT_OK(f->Write(0, file));
    ASSERT_OK(f->Sync());
  }

  // Everything was dispatched: no record of TopicA from the recovery start on.
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome first,
                       Recover(env_.get(), writer_.Checkpoint(LogEnd(), LogEnd())));
  auto q = recovered_->queues().Find("TopicA", 0);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->min_offset(), 16);
  ASSERT_EQ(q->max_offset(), 16);

  // One more message, a clean close, and the next open keeps it in its queue.
  ASSERT_OK_AND_ASSIGN(AfterReopen after, AppendOneAndReopenCleanly(first.end));
  const AppendedRecord& later = after.later;
  ASSERT_EQ(later.queue_offset, 16);
  q = recovered_->queues().Find("TopicA", 0);
  ASSERT_NE(q, nullptr);
  ASSERT_EQ(q->max_offset(), 17);
  std::vector<QueueEntry> entries = AllEntries(*q);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].physical_offset, later.physical_offset);
}

// Regression test (store_recovery fuzzer in CI): a damaged entry deep in a queue, below the
// recovery start, was checked only if the binary search for the cut happened to probe it.
// Recovery after a crash did not, so the queue went on; after one more message and a clean
// close, the next recovery probed it and cut the queue there, losing that message from its
// queue. Now only the tail below the cut is checked, so neither open cuts at it.
TEST_F(RecoveryTest, ADamagedEntryDeepInAQueueCutsNothingAtOneOpenOrTheNext) {
  ASSERT_OK(writer_.AppendMany("TopicA", 0, 7));
  ASSERT_OK(writer_.DispatchUpTo(EndOf(Rec(5))));
  ASSERT_OK(writer_.queues().SyncAll());
  ASSERT_OK(writer_.DispatchAll());
  ASSERT_OK(writer_.SyncLog());
  // Entry 4 points one byte into its record: still in order (it ends where entry 5 starts),
  // but the log disagrees.
  std::string bad(kQueueEntrySize, '\0');
  EncodeQueueEntry(QueueEntry{Rec(4).physical_offset + 1, Rec(4).size - 1, 0}, bad.data());
  ASSERT_OK(
      OverwriteFile(env_.get(), writer_.QueueFilePath("TopicA", 0, 4 * kQueueEntrySize), 0, bad));

  // A crash: the checkpoint covers the queue up to record 5, so record 6 is dispatched again.
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome crashed,
                       Recover(env_.get(), writer_.Checkpoint(LogEnd(), EndOf(Rec(5)))));
  EXPECT_EQ(crashed.start, EndOf(Rec(5)));
  auto q = recovered_->queues().Find("TopicA", 0);
  ASSERT_NE(q, nullptr);
  ASSERT_EQ(q->max_offset(), 7);

  // One more message, then a clean close (everything synced, checkpoint at the end).
  ASSERT_OK_AND_ASSIGN(AfterReopen after, AppendOneAndReopenCleanly(crashed.end));
  const AppendedRecord& later = after.later;
  ASSERT_EQ(later.queue_offset, 7);
  EXPECT_EQ(after.reopened.scanned_bytes, 0u);
  q = recovered_->queues().Find("TopicA", 0);
  ASSERT_NE(q, nullptr);
  ASSERT_EQ(q->max_offset(), 8);
  std::vector<QueueEntry> entries = AllEntries(*q);
  ASSERT_EQ(entries.size(), 8u);
  EXPECT_EQ(entries[7].physical_offset, later.physical_offset);
}

TEST_F(RecoveryTest, DamageBelowTheDurableOffsetIsCorruptionAndTheLogIsLeftAlone) {
  AppendAlternating(10);
  ASSERT_OK(writer_.DispatchUpTo(EndOf(Rec(2))));
  ASSERT_OK(writer_.queues().SyncAll());
  ASSERT_OK(writer_.SyncLog());
  Damage(Rec(5));
  ASSERT_OK_AND_ASSIGN(std::string before, ReadWholeFile(env_.get(), writer_.SegmentPath(0)));
  auto out = Recover(env_.get(), writer_.Checkpoint(LogEnd(), EndOf(Rec(2))));
  ASSERT_TRUE(out.status().IsCorruption()) << out.status().ToString();
  ASSERT_OK_AND_ASSIGN(std::string now, ReadWholeFile(env_.get(), writer_.SegmentPath(0)));
  EXPECT_EQ(now, before);
  EXPECT_TRUE(env_->FileExists(writer_.SegmentPath(0)));
}

// Regression (fixed in d890e2b): RecoverStore cut the queues before it validated the log,
// so a kCorruption result left them truncated; docs/design/recovery.md promises "Open fails
// with kCorruption, nothing is changed".
TEST_F(RecoveryTest, DamageBelowTheDurableOffsetLeavesTheQueuesAlone) {
  AppendAlternating(10);
  ASSERT_OK(writer_.DispatchAll());
  ASSERT_OK(writer_.queues().SyncAll());
  ASSERT_OK(writer_.SyncLog());
  Damage(Rec(5));
  std::string queue_file = writer_.QueueFilePath("TopicA", 0, 0);
  ASSERT_OK_AND_ASSIGN(std::string before, ReadWholeFile(env_.get(), queue_file));
  auto out = Recover(env_.get(), writer_.Checkpoint(LogEnd(), EndOf(Rec(2))));
  ASSERT_TRUE(out.status().IsCorruption()) << out.status().ToString();
  ASSERT_OK_AND_ASSIGN(std::string now, ReadWholeFile(env_.get(), queue_file));
  EXPECT_EQ(now, before);
}

TEST_F(RecoveryTest, AQueueOffsetDiscontinuityIsTheEndOfTheLog) {
  ASSERT_OK(writer_.AppendMany("TopicA", 0, 3));
  ASSERT_OK_AND_ASSIGN(AppendedRecord gap, writer_.AppendAt(MakeMessage("TopicA", 0, "gap"), 5));
  ASSERT_OK(writer_.AppendMany("TopicA", 0, 2));
  ASSERT_OK(writer_.SyncLog());
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome out, Recover(env_.get(), std::nullopt));
  EXPECT_EQ(out.start, 0);
  EXPECT_EQ(out.end, gap.physical_offset);
  EXPECT_EQ(recovered_->queues().Find("TopicA", 0)->max_offset(), 3);
  ExpectZerosFrom(env_.get(), out.end);
}

TEST_F(RecoveryTest, AQueueOffsetDiscontinuityBelowTheDurableOffsetIsCorruption) {
  ASSERT_OK(writer_.AppendMany("TopicA", 0, 3));
  ASSERT_OK(writer_.AppendAt(MakeMessage("TopicA", 0, "gap"), 5).status());
  ASSERT_OK(writer_.SyncLog());
  auto out = Recover(env_.get(), writer_.Checkpoint(LogEnd(), 0));
  EXPECT_TRUE(out.status().IsCorruption()) << out.status().ToString();
}

// The other way round: entries the log confirms keep their offsets, and a record after the
// checkpoint that repeats one of them (a stale record from before an earlier truncation) is
// where the log ends, not a reason to drop the entries.
TEST_F(RecoveryTest, ARecordRepeatingAConfirmedQueueOffsetIsTheEndOfTheLog) {
  ASSERT_OK(writer_.AppendMany("TopicA", 0, 4));
  ASSERT_OK(writer_.DispatchAll());
  ASSERT_OK(writer_.queues().SyncAll());
  const int64_t dispatched = LogEnd();
  ASSERT_OK_AND_ASSIGN(AppendedRecord stale,
                       writer_.AppendAt(MakeMessage("TopicA", 0, "stale"), 2));
  ASSERT_OK(writer_.SyncLog());
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome out,
                       Recover(env_.get(), writer_.Checkpoint(dispatched, dispatched)));
  EXPECT_EQ(out.end, stale.physical_offset);
  auto q = recovered_->queues().Find("TopicA", 0);
  ASSERT_NE(q, nullptr);
  std::vector<QueueEntry> entries = AllEntries(*q);
  ASSERT_EQ(entries.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(entries[i].physical_offset, Rec(i).physical_offset);
}

TEST_F(RecoveryTest, ARecordCopiedToTheWrongPositionIsTheEndOfTheLog) {
  AppendAlternating(4);
  ASSERT_OK(writer_.SyncLog());
  int64_t end = LogEnd();
  // A whole, checksummed record that claims another position (left over from before an
  // earlier truncation) must not be taken for the next record.
  ASSERT_OK_AND_ASSIGN(std::string seg, ReadWholeFile(env_.get(), writer_.SegmentPath(0)));
  std::string stale = seg.substr(Rec(2).physical_offset, Rec(2).size);
  ASSERT_OK(OverwriteFile(env_.get(), writer_.SegmentPath(0), end, stale));
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome out, Recover(env_.get(), std::nullopt));
  EXPECT_EQ(out.end, end);
  ExpectQueue("TopicA", 0, 2);
  ExpectZerosFrom(env_.get(), end);
}

TEST_F(RecoveryTest, BlanksLeadToTheNextSegmentAndLaterSegmentsAreRemoved) {
  AppendAlternating(30, /*body_bytes=*/1000);
  ASSERT_OK(writer_.SyncLog());
  size_t segments = writer_.log().Segments().size();
  ASSERT_GE(segments, 8u);
  // Damage a record in the third segment: everything from it on goes.
  size_t victim = 0;
  while (Rec(victim).physical_offset < static_cast<int64_t>(2 * kSegmentBytes + 100)) ++victim;
  Damage(Rec(victim));
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome out, Recover(env_.get(), std::nullopt));
  EXPECT_EQ(out.end, Rec(victim).physical_offset);
  EXPECT_EQ(recovered_->log().Segments().size(), 3u);
  EXPECT_TRUE(env_->FileExists(writer_.SegmentPath(2 * kSegmentBytes)));
  EXPECT_FALSE(env_->FileExists(writer_.SegmentPath(3 * kSegmentBytes)));
  ExpectQueue("TopicA", 0, (victim + 1) / 2);
  ExpectQueue("TopicB", 1, victim / 2);
  ExpectZerosFrom(env_.get(), out.end);
}

TEST_F(RecoveryTest, WithoutACheckpointTheQueuesAreRebuiltFromTheWholeLog) {
  AppendAlternating(30, /*body_bytes=*/700);
  ASSERT_OK(writer_.SyncLog());  // queues never written
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome out, Recover(env_.get(), std::nullopt));
  EXPECT_EQ(out.start, 0);
  EXPECT_EQ(out.end, LogEnd());
  EXPECT_EQ(out.scanned_bytes, static_cast<uint64_t>(LogEnd()));
  ExpectQueue("TopicA", 0, 15);
  ExpectQueue("TopicB", 1, 15);
}

TEST_F(RecoveryTest, AnEmptyLogEmptiesTheQueues) {
  // Queue files survived, the log did not (e.g. removed by hand).
  auto fresh = NewMemEnv();
  LogHarness other(fresh.get(), kSegmentBytes);
  ASSERT_OK(other.Load());
  ASSERT_OK(other.AppendMany("TopicA", 0, 3));
  ASSERT_OK(other.DispatchAll());
  ASSERT_OK(fresh->RemoveFile(other.SegmentPath(0)));
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome out, Recover(fresh.get(), std::nullopt));
  EXPECT_EQ(out.end, 0);
  EXPECT_EQ(recovered_->queues().Find("TopicA", 0)->max_offset(), 0);
}

TEST_F(RecoveryTest, AnEmptyLogThatTheCheckpointCallsDurableIsCorruption) {
  AppendAlternating(4);
  CheckpointData cp = writer_.Checkpoint(LogEnd(), LogEnd());
  auto fresh = NewMemEnv();
  auto out = Recover(fresh.get(), cp);
  EXPECT_TRUE(out.status().IsCorruption()) << out.status().ToString();
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome empty, Recover(fresh.get(), std::nullopt));
  EXPECT_EQ(empty.end, 0);
}

TEST_F(RecoveryTest, RecoveringTwiceGivesTheSameResult) {
  AppendAlternating(12);
  ASSERT_OK(writer_.DispatchUpTo(EndOf(Rec(3))));
  ASSERT_OK(writer_.queues().SyncAll());
  ASSERT_OK(writer_.log().Sync(0, EndOf(Rec(7))));
  CheckpointData cp = writer_.Checkpoint(EndOf(Rec(5)), EndOf(Rec(3)));
  std::unique_ptr<MemEnv> after = env_->CrashCopy({CrashMode::kTornPrefix, 3});
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome first, Recover(after.get(), cp));
  recovered_.reset();
  // A crash right after the first recovery (the old checkpoint is still the newest).
  std::unique_ptr<MemEnv> again = after->CrashCopy({CrashMode::kDropUnsynced, 0});
  ASSERT_OK_AND_ASSIGN(RecoveryOutcome second, Recover(again.get(), cp));
  EXPECT_EQ(second.end, first.end);
  size_t kept = 0;
  while (kept < 12 && EndOf(Rec(kept)) <= second.end) ++kept;
  ASSERT_GE(kept, 8u);
  ExpectQueue("TopicA", 0, (kept + 1) / 2);
  ExpectQueue("TopicB", 1, kept / 2);
}

}  // namespace
}  // namespace mqstore
