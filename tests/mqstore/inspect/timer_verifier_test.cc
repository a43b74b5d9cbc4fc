// StoreInspector::Verify on timer/log/ (docs/format/timer.md): a log written by a real
// TimerScheduler verifies clean, and each kind of damage the format makes detectable is
// reported, as corruption below the committed end and as a note past it.
#include "inspect/timer_verifier.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "meta/lmdb_env.h"
#include "meta/meta_codec.h"
#include "mqstore/inspect/inspect_test_util.h"
#include "mqstore/store.h"
#include "schedule/metadata_progress_store.h"
#include "schedule/schedule_rewrite.h"
#include "schedule/timer_log_format.h"
#include "schedule/timer_scheduler.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::RunVerify;
using test::VerifyResult;

constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr uint64_t kSegmentBytes = kTimerEntrySize * 8;  // a header and 7 entries
constexpr int kEntriesPerSegment = 7;
// 16 timers in 4 slots (4 chains of 4), then 2 beyond the wheel (roll entries); the first
// slot then fires, leaving 14 pending.
constexpr int kTimers = 18;
constexpr int kSlotsUsed = 4;

// Log position of the n-th entry (from 0) of a log whose first segment is at 0.
int64_t EntryPos(int n) {
  return (n / kEntriesPerSegment) * static_cast<int64_t>(kSegmentBytes) +
         static_cast<int64_t>(kTimerEntrySize) * (n % kEntriesPerSegment + 1);
}

struct TimerStore {
  std::vector<int64_t> record_offsets;  // of the parked timer messages, in put order
  int64_t other_record = 0;             // a record of another topic
  int64_t log_end = 0;                  // the timer log end, committed
};

// A store whose timer log the TimerScheduler wrote: kTimers timers enqueued, the first slot
// fired, progress committed in meta/.
TimerStore BuildTimerStore(const std::string& dir) {
  TimerStore out;
  test::ManualClock clock(kStartMs);
  StoreOptions options;
  options.clock = &clock;
  options.commitlog_segment_bytes = 64 * 1024;
  options.enable_schedule = false;  // this test drives its own scheduler
  auto store = Store::Open(options, dir);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return out;
  for (int i = 0; i < kTimers; ++i) {
    int64_t due = i < 16 ? kStartMs + 5000 + (i % kSlotsUsed) * 1000 - 500
                         : kStartMs + 2 * 3600 * 1000 + i;  // beyond the wheel: rolls
    Message m = test::MakeMessage("Orders", 0, "timer " + std::to_string(i), "TagA");
    m.SetProperty("TIMER_DELIVER_MS", std::to_string(due));
    std::string props;
    MessageView view = m.View(&props);
    auto rewrite = RewriteForSchedule(view, {}, clock.NowMillis());
    EXPECT_TRUE(rewrite.ok() && rewrite->has_value());
    if (!rewrite.ok() || !rewrite->has_value()) return out;
    auto put = (*store)->Put((*rewrite)->Apply(view));
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    if (put.ok()) out.record_offsets.push_back(put->physical_offset);
  }
  Message plain = test::MakeMessage("Orders", 1, "not a timer", "TagA");
  std::string props;
  auto put = (*store)->Put(plain.View(&props));
  EXPECT_TRUE(put.ok());
  if (put.ok()) out.other_record = put->physical_offset;
  EXPECT_OK((*store)->AwaitDispatched((*store)->Stats().appended_offset, 10'000));

  MetadataProgressStore progress(*(*store)->metadata());
  TimerSchedulerOptions timer_options;
  timer_options.log_segment_bytes = kSegmentBytes;
  timer_options.wheel_slots = 3600;
  auto timer = TimerScheduler::Open(Env::Default(), dir, **store, progress, timer_options);
  EXPECT_TRUE(timer.ok()) << timer.status().ToString();
  if (!timer.ok()) return out;
  EXPECT_TRUE((*timer)->RunOnce(kStartMs).ok());         // enqueue all
  EXPECT_TRUE((*timer)->RunOnce(kStartMs + 5000).ok());  // fire the first slot
  EXPECT_OK((*timer)->Close());
  out.log_end = (*timer)->stats().log_end;
  timer->reset();
  EXPECT_OK((*store)->Close());
  return out;
}

class TimerVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static test::TempDir template_dir;
    static const TimerStore built = BuildTimerStore(template_dir.Sub("store"));
    std::filesystem::copy(template_dir.Sub("store"), dir_.path(),
                          std::filesystem::copy_options::recursive);
    built_ = built;
    ASSERT_EQ(built_.record_offsets.size(), static_cast<size_t>(kTimers));
    ASSERT_EQ(built_.log_end, EntryPos(kTimers));
  }

  std::string LogDir() const { return dir_.Sub("timer/log"); }
  std::string SegmentPath(int64_t base) const {
    char name[32];
    std::snprintf(name, sizeof(name), "%020lld", static_cast<long long>(base));
    return LogDir() + "/" + name;
  }
  std::string SegmentOf(int n) const {
    return SegmentPath(EntryPos(n) / static_cast<int64_t>(kSegmentBytes) *
                       static_cast<int64_t>(kSegmentBytes));
  }
  int64_t FileOffsetOf(int n) const { return EntryPos(n) % static_cast<int64_t>(kSegmentBytes); }

  TimerEntry ReadEntry(int n) {
    std::string bytes = test::ReadAt(SegmentOf(n), FileOffsetOf(n), kTimerEntrySize);
    TimerEntry e;
    EXPECT_EQ(DecodeTimerEntry(bytes.data(), &e), TimerEntryState::kValid);
    return e;
  }
  // Rewrites entry n with a valid CRC: damage only the format's rules can find.
  void WriteEntry(int n, const TimerEntry& e) {
    std::string bytes(kTimerEntrySize, '\0');
    EncodeTimerEntry(e, bytes.data());
    test::WriteFileAt(SegmentOf(n), FileOffsetOf(n), bytes);
  }
  void SetCommittedLogEnd(int64_t end) {
    LmdbEnvOptions options;
    options.create_if_missing = false;
    ASSERT_OK_AND_ASSIGN(auto env, LmdbEnv::Open(dir_.Sub("meta"), options));
    ASSERT_OK(env->Write([&](LmdbWriteTxn& txn) -> Status {
      MQ_ASSIGN_OR_RETURN(LmdbDb db, txn.OpenDb(kScheduleDb, /*create=*/false));
      std::string name(TimerScheduler::kLogProgress);
      return txn.Put(db, name, EncodeScheduleValue(ScheduleProgress{name, end, 0}));
    }));
  }
  // Whether a corruption names entry n's segment, its offset and `text`.
  bool EntryCorrupt(const VerifyResult& v, int n, const std::string& text) const {
    return v.Has(Severity::kCorruption, SegmentOf(n), FileOffsetOf(n), text);
  }

  test::TempDir dir_;
  TimerStore built_;
};

TEST_F(TimerVerifierTest, AnUndamagedLogVerifiesClean) {
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.summary.clean()) << v.Dump();
  EXPECT_EQ(v.summary.warnings, 0u) << v.Dump();
  EXPECT_EQ(v.summary.notes, 0u) << v.Dump();
  EXPECT_EQ(v.summary.timer_segments, 3u);
  EXPECT_EQ(v.summary.timer_entries, static_cast<uint64_t>(kTimers));
  EXPECT_EQ(v.summary.timer_pending, static_cast<uint64_t>(kTimers - 4));  // one slot fired

  ASSERT_OK_AND_ASSIGN(auto inspector, StoreInspector::Open(dir_.path()));
  ASSERT_OK_AND_ASSIGN(TimerLogSummary t, inspector->ReadTimerLog());
  EXPECT_EQ(t.precision_ms, 1000);
  EXPECT_EQ(t.segment_bytes, kSegmentBytes);
  ASSERT_EQ(t.segments.size(), 3u);
  EXPECT_EQ(t.segments[2].entries, static_cast<uint64_t>(kTimers - 2 * kEntriesPerSegment));
  EXPECT_EQ(t.segments[2].rolls, 2u);
  EXPECT_EQ(t.log_end, built_.log_end);
  EXPECT_TRUE(t.progress_known && t.progress_committed);
  EXPECT_EQ(t.committed_log_end, built_.log_end);
  EXPECT_EQ(t.pending, static_cast<uint64_t>(kTimers - 4));
  uint64_t by_time = 0;
  for (const TimerPendingRange& r : t.pending_by_time) by_time += r.entries;
  EXPECT_EQ(by_time, t.pending);
}

TEST_F(TimerVerifierTest, AnEntryWithABadCrcIsCorruption) {
  test::FlipByteAt(SegmentOf(3), FileOffsetOf(3) + 20);
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_FALSE(v.summary.clean());
  EXPECT_TRUE(EntryCorrupt(v, 3, "CRC mismatch")) << v.Dump();
}

TEST_F(TimerVerifierTest, AnEntryOfUnknownTypeIsCorruption) {
  TimerEntry e = ReadEntry(5);
  e.type = static_cast<TimerEntryType>(7);
  WriteEntry(5, e);
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(EntryCorrupt(v, 5, "type 7 is neither 1 (deliver) nor 2 (roll)")) << v.Dump();
}

TEST_F(TimerVerifierTest, ADamagedHeaderIsCorruption) {
  test::FlipByteAt(SegmentPath(kSegmentBytes), 1);  // magic
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.Has(Severity::kCorruption, SegmentPath(kSegmentBytes), 0, "no MQTL magic"))
      << v.Dump();
  test::FlipByteAt(SegmentPath(kSegmentBytes), 1);
  test::FlipByteAt(SegmentPath(kSegmentBytes), 23);  // precision, so the CRC fails
  v = RunVerify(dir_.path());
  EXPECT_TRUE(v.Has(Severity::kCorruption, SegmentPath(kSegmentBytes), 0, "header CRC mismatch"))
      << v.Dump();
}

TEST_F(TimerVerifierTest, AHeaderNamingAnotherBaseOrPrecisionIsCorruption) {
  std::string header(kTimerEntrySize, '\0');
  EncodeTimerLogHeader(TimerLogHeader{0, 1000}, header.data());  // segment 1 claims base 0
  test::WriteFileAt(SegmentPath(kSegmentBytes), 0, header);
  EncodeTimerLogHeader(TimerLogHeader{static_cast<int64_t>(2 * kSegmentBytes), 500}, header.data());
  test::WriteFileAt(SegmentPath(2 * kSegmentBytes), 0, header);
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.Has(Severity::kCorruption, SegmentPath(kSegmentBytes), 0, "names base 0"))
      << v.Dump();
  EXPECT_TRUE(v.Has(Severity::kCorruption, SegmentPath(2 * kSegmentBytes), 0,
                    "written with precision 500 ms, the first segment with 1000 ms"))
      << v.Dump();
}

TEST_F(TimerVerifierTest, WrongSizesAndNamesAndGapsAreCorruption) {
  std::filesystem::resize_file(SegmentPath(kSegmentBytes), kSegmentBytes + 10);
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.Has(Severity::kCorruption, SegmentPath(kSegmentBytes), -1,
                    "is 394 bytes; the segment size (the first segment's) is 384"))
      << v.Dump();
  std::filesystem::resize_file(SegmentPath(kSegmentBytes), kSegmentBytes);

  // A gap: the middle segment is gone, so the last one does not follow the first.
  std::filesystem::rename(SegmentPath(kSegmentBytes), dir_.Sub("saved"));
  v = RunVerify(dir_.path());
  EXPECT_TRUE(v.Has(Severity::kCorruption, SegmentPath(2 * kSegmentBytes), -1,
                    "segments are not contiguous: the one before ends at position 384"))
      << v.Dump();
  // Named off the segment grid.
  std::filesystem::rename(dir_.Sub("saved"), SegmentPath(kSegmentBytes + 48));
  v = RunVerify(dir_.path());
  EXPECT_TRUE(v.Has(Severity::kCorruption, SegmentPath(kSegmentBytes + 48), -1,
                    "not a multiple of the segment size 384"))
      << v.Dump();
  // A name that is not a segment's: ignored by the store.
  std::filesystem::rename(SegmentPath(kSegmentBytes + 48), LogDir() + "/segment-1");
  v = RunVerify(dir_.path());
  EXPECT_TRUE(v.Has(Severity::kWarning, LogDir() + "/segment-1", -1, "not a 20-digit timer log"))
      << v.Dump();
}

TEST_F(TimerVerifierTest, ASlotThatDisagreesWithTheDeliveryTimeIsCorruption) {
  TimerEntry e = ReadEntry(6);
  ASSERT_EQ(e.type, TimerEntryType::kDeliver);
  e.slot += 1;  // (its chain link is now wrong too: also reported)
  WriteEntry(6, e);
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(EntryCorrupt(v, 6, "its delivery time")) << v.Dump();

  TimerEntry roll = ReadEntry(kTimers - 1);
  ASSERT_EQ(roll.type, TimerEntryType::kRoll);
  roll.slot = TimerScheduler::SlotOf(roll.deliver_ms, 1000);
  WriteEntry(kTimers - 1, roll);
  v = RunVerify(dir_.path());
  EXPECT_TRUE(EntryCorrupt(v, kTimers - 1, "is a roll entry in slot")) << v.Dump();
}

TEST_F(TimerVerifierTest, BadChainLinksAreCorruption) {
  // Entries 4..7 are the second entries of the four slots: each links to entry n - 4.
  TimerEntry e = ReadEntry(4);
  ASSERT_EQ(e.prev, EntryPos(0));
  e.prev = EntryPos(9);  // forward
  WriteEntry(4, e);
  e = ReadEntry(5);
  e.prev = -7;  // outside the log
  WriteEntry(5, e);
  e = ReadEntry(6);
  e.prev = EntryPos(3);  // an entry of another slot
  WriteEntry(6, e);
  e = ReadEntry(9);
  e.prev = kNoTimerEntry;  // cuts the chain of entry 5's slot
  WriteEntry(9, e);
  e = ReadEntry(10);
  e.prev = EntryPos(1) + 8;  // not an entry position
  WriteEntry(10, e);
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_FALSE(v.summary.clean());
  EXPECT_TRUE(EntryCorrupt(v, 4, "not an earlier entry: a link points only backwards")) << v.Dump();
  EXPECT_TRUE(EntryCorrupt(v, 5, "PREV is -7, outside the log")) << v.Dump();
  EXPECT_TRUE(EntryCorrupt(v, 6, "an entry of slot")) << v.Dump();
  EXPECT_TRUE(EntryCorrupt(v, 9, "the chain is cut")) << v.Dump();
  EXPECT_TRUE(EntryCorrupt(v, 10, "not an entry position of the log")) << v.Dump();
}

TEST_F(TimerVerifierTest, EntriesMustPointAtTheirTimerRecord) {
  // Entries 0, 4, 8 and 12 are in the slot that fired; the others are pending.
  TimerEntry e = ReadEntry(9);
  e.commit_log_offset = int64_t{1} << 40;  // past the end of the commit log
  WriteEntry(9, e);
  e = ReadEntry(10);
  e.commit_log_offset = built_.other_record;  // a record of another topic
  WriteEntry(10, e);
  e = ReadEntry(11);
  e.commit_log_offset += 1;  // no record starts there
  WriteEntry(11, e);
  e = ReadEntry(13);
  e.deliver_ms += 1;  // the record asks for another time (in the same slot)
  WriteEntry(13, e);
  e = ReadEntry(8);
  e.commit_log_offset = int64_t{1} << 40;  // delivered already: never read again
  WriteEntry(8, e);
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(EntryCorrupt(v, 9, "past the end of the commit log")) << v.Dump();
  EXPECT_TRUE(EntryCorrupt(v, 10, "but that record is")) << v.Dump();
  EXPECT_TRUE(EntryCorrupt(v, 11, "points at the record at commit-log offset")) << v.Dump();
  EXPECT_TRUE(EntryCorrupt(v, 13, "asks for delivery at")) << v.Dump();
  EXPECT_FALSE(EntryCorrupt(v, 8, "")) << v.Dump();
}

TEST_F(TimerVerifierTest, ACommittedEndPastTheLogIsCorruption) {
  // The last entry lost: the log now ends before what was committed.
  test::WriteFileAt(SegmentOf(kTimers - 1), FileOffsetOf(kTimers - 1),
                    std::string(kTimerEntrySize, '\0'));
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.Has(Severity::kCorruption, LogDir(), -1,
                    "committed timer log end " + std::to_string(built_.log_end) +
                        " (meta/ schedule 'timer-log') is past the end of the timer log (" +
                        std::to_string(EntryPos(kTimers - 1)) + ")"))
      << v.Dump();

  SetCommittedLogEnd(EntryPos(2) + 5);
  v = RunVerify(dir_.path());
  EXPECT_TRUE(v.Has(Severity::kCorruption, LogDir(), -1, "is not an entry boundary")) << v.Dump();
}

TEST_F(TimerVerifierTest, DamagePastTheCommittedEndIsANote) {
  // What a crash leaves: entries written after the last commit, one of them torn.
  SetCommittedLogEnd(EntryPos(kTimers - 2));
  test::FlipByteAt(SegmentOf(kTimers - 1), FileOffsetOf(kTimers - 1) + 30);
  test::WriteFileAt(SegmentOf(kTimers + 1), FileOffsetOf(kTimers + 1), "torn");
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.summary.clean()) << v.Dump();
  EXPECT_TRUE(v.Has(Severity::kNote, SegmentOf(kTimers - 1), FileOffsetOf(kTimers - 1),
                    "the timer log ends here"))
      << v.Dump();
  EXPECT_TRUE(v.Has(Severity::kNote, SegmentOf(kTimers + 1), FileOffsetOf(kTimers + 1),
                    "damaged entries from"))
      << v.Dump();
}

TEST_F(TimerVerifierTest, WithoutMetaTheLogEndStandsInForTheCommittedEnd) {
  std::filesystem::remove_all(dir_.Sub("meta"));
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.summary.clean()) << v.Dump();
  EXPECT_TRUE(v.Has(Severity::kNote, LogDir(), -1, "was not read")) << v.Dump();
  EXPECT_EQ(v.summary.timer_pending, static_cast<uint64_t>(kTimers));  // fired unknown
  test::FlipByteAt(SegmentOf(2), FileOffsetOf(2) + 40);
  v = RunVerify(dir_.path());
  EXPECT_TRUE(EntryCorrupt(v, 2, "CRC mismatch")) << v.Dump();
}

}  // namespace
}  // namespace mqstore
