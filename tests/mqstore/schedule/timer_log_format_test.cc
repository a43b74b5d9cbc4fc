// Timer log entry and header coding: round trips and what the decoder refuses. The exact
// bytes are pinned by tests/mqstore/format/timer_format_test.cc.
#include "schedule/timer_log_format.h"

#include <gtest/gtest.h>

#include <string>

#include "support/test_util.h"

namespace mqstore {
namespace {

TEST(TimerLogFormatTest, EntryRoundTrips) {
  for (const TimerEntry& in : {TimerEntry{TimerEntryType::kDeliver, 1'700'000'001, kNoTimerEntry,
                                          1'700'000'000'500, 123456789, 250},
                               TimerEntry{TimerEntryType::kRoll, 5, 96, -1, 0, 0}}) {
    std::string buf(kTimerEntrySize, '\0');
    EncodeTimerEntry(in, buf.data());
    TimerEntry out;
    ASSERT_EQ(DecodeTimerEntry(buf.data(), &out), TimerEntryState::kValid);
    EXPECT_EQ(out, in);
  }
}

TEST(TimerLogFormatTest, ZerosAreUnusedAndAnyFlippedByteIsCorrupt) {
  std::string zeros(kTimerEntrySize, '\0');
  TimerEntry out;
  EXPECT_EQ(DecodeTimerEntry(zeros.data(), &out), TimerEntryState::kUnused);

  std::string buf(kTimerEntrySize, '\0');
  EncodeTimerEntry(TimerEntry{TimerEntryType::kDeliver, 7, 48, 7000, 4096, 99}, buf.data());
  for (size_t i = 0; i < kTimerEntrySize; ++i) {
    std::string bad = buf;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    EXPECT_EQ(DecodeTimerEntry(bad.data(), &out), TimerEntryState::kCorrupt) << "byte " << i;
  }
}

TEST(TimerLogFormatTest, UnknownTypeIsCorruptEvenWithAGoodCrc) {
  std::string buf(kTimerEntrySize, '\0');
  TimerEntry e{TimerEntryType::kDeliver, 7, 48, 7000, 4096, 99};
  e.type = static_cast<TimerEntryType>(3);
  EncodeTimerEntry(e, buf.data());
  TimerEntry out;
  EXPECT_EQ(DecodeTimerEntry(buf.data(), &out), TimerEntryState::kCorrupt);
}

TEST(TimerLogFormatTest, HeaderRoundTripsAndChecksItsFields) {
  std::string buf(kTimerEntrySize, '\0');
  EncodeTimerLogHeader(TimerLogHeader{50'331'648, 1000}, buf.data());
  TimerLogHeader out;
  ASSERT_OK(DecodeTimerLogHeader(buf.data(), &out));
  EXPECT_EQ(out, (TimerLogHeader{50'331'648, 1000}));

  std::string bad_magic = buf;
  bad_magic[0] = 'X';
  EXPECT_TRUE(DecodeTimerLogHeader(bad_magic.data(), &out).IsCorruption());
  std::string bad_field = buf;
  bad_field[20] ^= 1;
  EXPECT_TRUE(DecodeTimerLogHeader(bad_field.data(), &out).IsCorruption());
  std::string zeros(kTimerEntrySize, '\0');
  EXPECT_TRUE(DecodeTimerLogHeader(zeros.data(), &out).IsCorruption());
}

}  // namespace
}  // namespace mqstore
