// TimerLog on a MemEnv: appends across segments, reads, reopen, truncation to a committed
// end, damage detection, and what a power cut leaves.
#include "schedule/timer_log.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "mqstore/mem_env.h"
#include "mqstore/queue/log_harness.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

constexpr int64_t kEntry = static_cast<int64_t>(kTimerEntrySize);
constexpr uint64_t kSegment = kTimerEntrySize * 4;  // header + 3 entries
constexpr const char* kDir = "/store/timer/log";

TimerEntry EntryFor(int i) {
  return TimerEntry{i % 2 == 0 ? TimerEntryType::kDeliver : TimerEntryType::kRoll,
                    1000 + i,
                    i == 0 ? kNoTimerEntry : (i - 1) * kEntry,
                    1'700'000'000'000 + i,
                    4096 * i,
                    200 + i};
}

class TimerLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<TimerLog> Open(MemEnv* env = nullptr, int64_t precision = 1000) {
    auto log = TimerLog::Open(env ? env : env_.get(), kDir, kSegment, precision);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }
  std::vector<int64_t> AppendN(TimerLog& log, int n) {
    std::vector<int64_t> pos;
    for (int i = 0; i < n; ++i) {
      auto p = log.Append(EntryFor(i));
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      pos.push_back(p.ok() ? *p : -1);
    }
    return pos;
  }

  std::unique_ptr<MemEnv> env_ = NewMemEnv();
};

TEST_F(TimerLogTest, AppendsAcrossSegmentsAfterEachHeader) {
  auto log = Open();
  EXPECT_EQ(log->start(), 0);
  EXPECT_EQ(log->end(), 0);
  std::vector<int64_t> pos = AppendN(*log, 7);
  // Segment 0 = [header, e0, e1, e2], segment 192 = [header, e3, e4, e5], segment 384 = ...
  EXPECT_EQ(pos, (std::vector<int64_t>{48, 96, 144, 240, 288, 336, 432}));
  EXPECT_EQ(log->start(), 48);
  EXPECT_EQ(log->end(), 480);
  EXPECT_EQ(log->SegmentBases(), (std::vector<int64_t>{0, 192, 384}));
  for (int i = 0; i < 7; ++i) {
    TimerEntry e;
    ASSERT_OK(log->Read(pos[i], &e));
    EXPECT_EQ(e, EntryFor(i));
  }
  TimerEntry e;
  EXPECT_TRUE(log->Read(480, &e).IsOutOfRange());
  EXPECT_TRUE(log->Read(0, &e).IsOutOfRange());
  EXPECT_TRUE(log->Read(192, &e).IsCorruption());  // a header, not an entry
  EXPECT_TRUE(log->Read(100, &e).IsCorruption());  // not a boundary
}

TEST_F(TimerLogTest, NextPositionSkipsSegmentHeaders) {
  auto log = Open();
  EXPECT_EQ(log->NextPosition(48), 96);
  EXPECT_EQ(log->NextPosition(144), 240);  // 192 is the next segment's header
  EXPECT_EQ(log->SegmentBaseOf(240), 192);
  EXPECT_EQ(log->SegmentBaseOf(191), 0);
}

TEST_F(TimerLogTest, ReopenFindsTheEndAndTheEntries) {
  {
    auto log = Open();
    AppendN(*log, 5);
    ASSERT_OK(log->Sync());
  }
  auto log = Open();
  EXPECT_EQ(log->end(), 336);
  TimerEntry e;
  ASSERT_OK(log->Read(288, &e));
  EXPECT_EQ(e, EntryFor(4));
  ASSERT_OK_AND_ASSIGN(int64_t next, log->Append(EntryFor(5)));
  EXPECT_EQ(next, 336);
}

TEST_F(TimerLogTest, TruncateToCutsEntriesAndSegmentsAfterTheEnd) {
  auto log = Open();
  AppendN(*log, 7);
  ASSERT_OK(log->Sync());
  ASSERT_OK(log->TruncateTo(288));  // keep e0..e3
  EXPECT_EQ(log->end(), 288);
  EXPECT_EQ(log->SegmentBases(), (std::vector<int64_t>{0, 192}));
  TimerEntry e;
  EXPECT_TRUE(log->Read(288, &e).IsOutOfRange());
  log.reset();
  auto reopened = Open();
  EXPECT_EQ(reopened->end(), 288);  // the cut entries were zeroed on disk
  ASSERT_OK_AND_ASSIGN(int64_t next, reopened->Append(EntryFor(9)));
  EXPECT_EQ(next, 288);

  ASSERT_OK(reopened->TruncateTo(192));  // a full first segment
  EXPECT_EQ(reopened->SegmentBases(), (std::vector<int64_t>{0}));
  ASSERT_OK_AND_ASSIGN(next, reopened->Append(EntryFor(3)));
  EXPECT_EQ(next, 240);  // a new segment
  ASSERT_OK(reopened->TruncateTo(0));
  EXPECT_TRUE(reopened->SegmentBases().empty());
  EXPECT_EQ(reopened->end(), 0);
}

TEST_F(TimerLogTest, TruncateToRejectsEndsTheFilesDoNotReach) {
  auto log = Open();
  AppendN(*log, 2);
  EXPECT_TRUE(log->TruncateTo(480).IsCorruption());  // beyond the last segment
  EXPECT_TRUE(log->TruncateTo(100).IsCorruption());  // not an entry boundary
  EXPECT_TRUE(log->TruncateTo(24).IsCorruption());   // inside the header
}

TEST_F(TimerLogTest, RemovesWholeSegmentsFromTheFront) {
  auto log = Open();
  AppendN(*log, 7);
  ASSERT_OK(log->RemoveFirstSegment());
  EXPECT_EQ(log->start(), 240);
  TimerEntry e;
  EXPECT_TRUE(log->Read(96, &e).IsOutOfRange());
  ASSERT_OK(log->RemoveFirstSegment());
  EXPECT_TRUE(log->RemoveFirstSegment().IsFailedPrecondition());  // the active one stays
  EXPECT_EQ(log->start(), 432);
  ASSERT_OK(log->Sync());
  log.reset();
  auto reopened = Open();
  EXPECT_EQ(reopened->start(), 432);
  EXPECT_EQ(reopened->end(), 480);
}

TEST_F(TimerLogTest, DetectsDamagedFiles) {
  {
    auto log = Open();
    AppendN(*log, 4);
    ASSERT_OK(log->Sync());
  }
  // A flipped entry byte: Read reports it.
  ASSERT_OK(
      test::OverwriteFile(env_.get(), std::string(kDir) + "/00000000000000000000", 60, "\x7f"));
  {
    auto log = Open();
    TimerEntry e;
    EXPECT_TRUE(log->Read(48, &e).IsCorruption());
    ASSERT_OK(log->Read(96, &e));
  }
  // A damaged header, another precision, a gap: Open reports them.
  ASSERT_OK(test::OverwriteFile(env_.get(), std::string(kDir) + "/00000000000000000192", 2, "X"));
  EXPECT_TRUE(TimerLog::Open(env_.get(), kDir, kSegment, 1000).status().IsCorruption());
  ASSERT_OK(env_->RemoveFile(std::string(kDir) + "/00000000000000000192"));
  Result<std::unique_ptr<TimerLog>> other = TimerLog::Open(env_.get(), kDir, kSegment, 100);
  EXPECT_TRUE(other.status().IsCorruption());
  EXPECT_NE(other.status().message().find("precision"), std::string_view::npos);

  ASSERT_OK(TimerLog::Destroy(env_.get(), kDir));
  auto fresh = Open();
  EXPECT_TRUE(fresh->SegmentBases().empty());
}

TEST_F(TimerLogTest, RejectsBadSegmentSizes) {
  EXPECT_TRUE(TimerLog::Open(env_.get(), kDir, 100, 1000).status().IsInvalidArgument());
  EXPECT_TRUE(TimerLog::Open(env_.get(), kDir, 48, 1000).status().IsInvalidArgument());
}

TEST_F(TimerLogTest, APowerCutKeepsWhatWasSynced) {
  auto log = Open();
  AppendN(*log, 4);
  ASSERT_OK(log->Sync());
  ASSERT_OK_AND_ASSIGN(int64_t unsynced, log->Append(EntryFor(4)));
  for (CrashMode mode :
       {CrashMode::kDropUnsynced, CrashMode::kTornPrefix, CrashMode::kRandomPages}) {
    for (uint64_t seed = 0; seed < 8; ++seed) {
      std::unique_ptr<MemEnv> copy = env_->CrashCopy({mode, seed});
      auto after = Open(copy.get());
      ASSERT_NE(after, nullptr);
      ASSERT_OK(after->TruncateTo(unsynced));  // the committed end
      for (int i = 0; i < 4; ++i) {
        TimerEntry e;
        int64_t pos = i < 3 ? 48 + i * kEntry : 240;
        ASSERT_OK(after->Read(pos, &e));
        EXPECT_EQ(e, EntryFor(i));
      }
      EXPECT_EQ(after->end(), unsynced);
    }
  }
}

}  // namespace
}  // namespace mqstore
