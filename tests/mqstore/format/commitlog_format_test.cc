// Golden bytes for docs/format/commitlog.md: the worked example there is this record.
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "log/record_codec.h"
#include "log/record_format.h"
#include "mqstore/format/golden.h"
#include "support/test_util.h"
#include "mqstore/coding.h"

namespace mqstore {
namespace {

using test::FromHex;
using test::Hex;
using test::HexLines;
using test::ReadFormatDoc;

// The worked example of docs/format/commitlog.md.
struct ExampleRecord {
  std::string properties = EncodeProperties({{"TAGS", "tagA"}});
  MessageView view;
  SocketAddress store_host = SocketAddress::V4(127, 0, 0, 1, 10911);
  ExampleRecord() {
    view.topic = "TopicA";
    view.queue_id = 3;
    view.body = "hello";
    view.properties = properties;
    view.born_timestamp_ms = 1700000000000;
    view.born_host = SocketAddress::V4(10, 0, 0, 1, 50000);
  }
  std::string Encode(int64_t queue_offset = 7, int64_t physical_offset = 1000,
                     int64_t store_timestamp_ms = 1700000000123) {
    PreparedRecord prepared;
    EXPECT_OK(PrepareRecord(view, store_host, 4 << 20, &prepared));
    std::string bytes(static_cast<size_t>(prepared.total_size), '\0');
    WriteRecord(prepared, store_host, queue_offset, physical_offset, store_timestamp_ms,
                bytes.data());
    return bytes;
  }
};

// clang-format off
constexpr char kExampleHex[] =
    "00000084" "daa320a7" "3610a686" "00000003" "00000000"   // size, magic, body CRC, queue, flag
    "0000000000000007" "00000000000003e8" "00000000"       // queue offset, physical offset, sysflag
    "0000018bcfe56800" "0a000001" "0000c350"               // born timestamp, born host
    "0000018bcfe5687b" "7f000001" "00002a9f"               // store timestamp, store host
    "00000000" "0000000000000000"                          // reconsume times, prepared tx offset
    "00000005" "68656c6c6f" "06" "546f70696341"            // body "hello", topic "TopicA"
    "001e" "54414753" "01" "74616741" "02"                 // properties: TAGS 0x01 tagA 0x02
    "5f5f435243333223" "01" "33353936303337313931" "02";   // __CRC32# 0x01 digits 0x02
// clang-format on  // __CRC32# 0x01 1917306953 rev. 0x02

TEST(CommitLogFormatTest, WorkedExampleBytes) {
  ExampleRecord example;
  std::string bytes = example.Encode();
  ASSERT_EQ(bytes.size(), 132u);  // 91 + body 5 + topic 6 + properties 30
  EXPECT_EQ(Hex(bytes), kExampleHex);
}

TEST(CommitLogFormatTest, DocShowsTheWorkedExample) {
  std::string doc = ReadFormatDoc("commitlog.md");
  ASSERT_FALSE(doc.empty()) << "docs/format/commitlog.md is missing";
  std::string bytes = ExampleRecord().Encode();
  EXPECT_NE(doc.find(HexLines(bytes)), std::string::npos)
      << "commitlog.md must show the example record as:\n"
      << HexLines(bytes);
}

TEST(CommitLogFormatTest, FieldPositionsAreBigEndian) {
  std::string bytes = ExampleRecord().Encode();
  const char* p = bytes.data();
  EXPECT_EQ(DecodeBig32(p + record::kTotalSizePos), 132u);
  EXPECT_EQ(DecodeBig32(p + record::kMagicPos), 0xDAA320A7u);
  EXPECT_EQ(DecodeBig32(p + record::kQueueIdPos), 3u);
  EXPECT_EQ(DecodeBig64(p + record::kQueueOffsetPos), 7u);
  EXPECT_EQ(DecodeBig64(p + record::kPhysicalOffsetPos), 1000u);
  EXPECT_EQ(DecodeBig64(p + record::kBornTimestampPos), 1700000000000u);
  EXPECT_EQ(DecodeBig64(p + 56), 1700000000123u);  // STORETIMESTAMP after an IPv4 born host
  EXPECT_EQ(DecodeBig32(p + 84), 5u);              // BODYLENGTH
  EXPECT_EQ(std::string(p + 88, 5), "hello");
  EXPECT_EQ(static_cast<unsigned char>(p[93]), 6u);  // V1: 1-byte topic length
  EXPECT_EQ(DecodeBig16(p + 100), 30u);              // properties length, CRC pair included
}

TEST(CommitLogFormatTest, BodyCrcIsMaskedZlibCrc32) {
  std::string bytes = ExampleRecord().Encode();
  uint32_t crc = static_cast<uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>("hello"), 5));
  EXPECT_EQ(DecodeBig32(bytes.data() + record::kBodyCrcPos), crc & 0x7FFFFFFFu);
}

TEST(CommitLogFormatTest, RecordCrcCoversAllButTheLastTwentyBytesDigitsReversed) {
  std::string bytes = ExampleRecord().Encode();
  size_t covered = bytes.size() - record::kRecordCrcPropertySize;
  uint32_t crc = static_cast<uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(bytes.data()),
                                               static_cast<uInt>(covered))) &
                 0x7FFFFFFFu;
  std::string digits;
  for (int i = 0; i < record::kRecordCrcDigits; ++i, crc /= 10) {
    digits += static_cast<char>('0' + crc % 10);  // least-significant digit first
  }
  EXPECT_EQ(bytes.substr(covered), "__CRC32#\x01" + digits + "\x02");
  ParsedRecord r;
  EXPECT_OK(ParseRecord(bytes, /*verify_checksums=*/true, &r));
}

TEST(CommitLogFormatTest, BlankRecordBytes) {
  char blank[record::kBlankHeaderSize];
  WriteBlankRecord(1234, blank);
  std::string bytes(blank, sizeof(blank));
  EXPECT_EQ(Hex(bytes), "000004d2cbd43194");
  EXPECT_NE(ReadFormatDoc("commitlog.md").find(HexLines(bytes)), std::string::npos);
}

TEST(CommitLogFormatTest, Ipv6HostsAndLongTopicsChangeTheLayout) {
  ExampleRecord example;
  example.view.born_host.ipv6 = true;
  example.store_host.ipv6 = true;
  example.store_host.ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::string v6 = example.Encode();
  EXPECT_EQ(v6.size(), 132u + 12 + 12);
  int32_t flags = static_cast<int32_t>(DecodeBig32(v6.data() + record::kSysFlagPos));
  EXPECT_EQ(flags, sysflag::kBornHostV6 | sysflag::kStoreHostV6);
  EXPECT_EQ(DecodeBig64(v6.data() + 68), 1700000000123u);  // STORETIMESTAMP after 20 bytes

  std::string topic = "%RETRY%" + std::string(130, 'g');  // > 127: V2, 2-byte length
  ExampleRecord retry;
  retry.view.topic = topic;
  std::string v2 = retry.Encode();
  EXPECT_EQ(DecodeBig32(v2.data() + record::kMagicPos), 0xDAA320ABu);
  EXPECT_EQ(v2.size(), 132u - 6 + topic.size() + 1);
  EXPECT_EQ(DecodeBig16(v2.data() + 93), topic.size());
}

}  // namespace
}  // namespace mqstore
