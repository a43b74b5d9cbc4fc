// Golden bytes for docs/format/timer.md.
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "mqstore/format/golden.h"
#include "mqstore/mem_env.h"
#include "schedule/timer_log.h"
#include "schedule/timer_log_format.h"
#include "support/test_util.h"
#include "mqstore/coding.h"

namespace mqstore {
namespace {

using test::Hex;
using test::HexLines;
using test::ReadFormatDoc;

const TimerEntry kFirst{TimerEntryType::kDeliver, 1'700'000'010, kNoTimerEntry,
                        1'700'000'009'500,        4096,          213};
const TimerEntry kRoll{TimerEntryType::kRoll, 1'700'000'010, 48, 1'700'000'099'000, 8192, 213};

std::string Encoded(const TimerEntry& e) {
  std::string out(kTimerEntrySize, '\0');
  EncodeTimerEntry(e, out.data());
  return out;
}

void ExpectInDoc(const std::string& bytes, const char* what) {
  std::string doc = ReadFormatDoc("timer.md");
  ASSERT_FALSE(doc.empty()) << "docs/format/timer.md is missing";
  EXPECT_NE(doc.find(HexLines(bytes)), std::string::npos)
      << "timer.md must show the " << what << " as:\n"
      << HexLines(bytes);
}

TEST(TimerFormatTest, WorkedExampleHeader) {
  std::string header(kTimerEntrySize, '\0');
  EncodeTimerLogHeader(TimerLogHeader{0, 1000}, header.data());
  // clang-format off
  EXPECT_EQ(Hex(header),
            "4d51544c" "00000001" "0000000000000000"      // "MQTL", version, base
            "00000000000003e8" "00000030"                 // precision 1000 ms, entry size 48
            "00000000000000000000000000000000"            // reserved
            "e03927dd");                                  // CRC of bytes 0..43
  // clang-format on
  ExpectInDoc(header, "example header");
}

TEST(TimerFormatTest, WorkedExampleEntries) {
  // clang-format off
  EXPECT_EQ(Hex(Encoded(kFirst)),
            "93762889" "01" "000000"                      // CRC, type deliver, reserved
            "000000006553f10a" "ffffffffffffffff"         // slot 1700000010, prev none
            "0000018bcfe58d1c" "0000000000001000"         // deliver ms, commit-log offset
            "000000d5" "00000000");                       // record size 213, reserved
  EXPECT_EQ(Hex(Encoded(kRoll)),
            "b62a33a1" "02" "000000"                      // CRC, type roll, reserved
            "000000006553f10a" "0000000000000030"         // slot, prev = position 48
            "0000018bcfe6eab8" "0000000000002000"         // deliver ms, commit-log offset
            "000000d5" "00000000");
  // clang-format on
  ExpectInDoc(Encoded(kFirst), "example entry");
  ExpectInDoc(Encoded(kRoll), "example roll entry");
}

TEST(TimerFormatTest, CrcsAreUnmaskedZlibCrc32) {
  std::string entry = Encoded(kFirst);
  EXPECT_EQ(
      DecodeBig32(entry.data()),
      static_cast<uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(entry.data() + 4), 44)));
  std::string header(kTimerEntrySize, '\0');
  EncodeTimerLogHeader(TimerLogHeader{0, 1000}, header.data());
  EXPECT_EQ(DecodeBig32(header.data() + 44),
            static_cast<uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(header.data()), 44)));
}

TEST(TimerFormatTest, SegmentFileIsHeaderThenEntriesThenZeros) {
  std::unique_ptr<MemEnv> env = NewMemEnv();
  const uint64_t segment = kTimerEntrySize * 8;
  {
    auto log = TimerLog::Open(env.get(), "/store/timer/log", segment, 1000);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_OK_AND_ASSIGN(int64_t first, (*log)->Append(kFirst));
    ASSERT_OK_AND_ASSIGN(int64_t second, (*log)->Append(kRoll));
    EXPECT_EQ(first, 48);
    EXPECT_EQ(second, 96);
    ASSERT_OK((*log)->Sync());
  }
  ASSERT_TRUE(env->FileExists("/store/timer/log/00000000000000000000"));
  ASSERT_OK_AND_ASSIGN(auto file,
                       env->OpenFile("/store/timer/log/00000000000000000000", OpenMode::kReadOnly));
  std::string bytes(segment, '\x55');
  size_t n = 0;
  ASSERT_OK(file->Read(0, bytes.size(), bytes.data(), &n));
  ASSERT_EQ(n, segment);
  std::string header(kTimerEntrySize, '\0');
  EncodeTimerLogHeader(TimerLogHeader{0, 1000}, header.data());
  EXPECT_EQ(bytes.substr(0, 48), header);
  EXPECT_EQ(bytes.substr(48, 48), Encoded(kFirst));
  EXPECT_EQ(bytes.substr(96, 48), Encoded(kRoll));
  EXPECT_EQ(bytes.find_first_not_of('\0', 144), std::string::npos);
}

}  // namespace
}  // namespace mqstore
