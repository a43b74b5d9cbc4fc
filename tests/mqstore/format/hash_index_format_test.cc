// Golden bytes for docs/format/hash_index.md.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "index/index_file.h"
#include "index/index_service.h"
#include "mqstore/format/golden.h"
#include "mqstore/mem_env.h"
#include "support/test_util.h"
#include "mqstore/coding.h"
#include "util/crc32.h"

namespace mqstore {
namespace {

using test::Hex;
using test::HexLines;
using test::ReadFormatDoc;

// The worked example: a 4-slot, 4-entry file holding two records of TopicA, flushed once.
std::string ExampleFile(std::string* name) {
  auto env = NewMemEnv();
  EXPECT_TRUE(env->CreateDir("/store").ok());
  IndexService index(env.get(), "/store", IndexOptions{4, 4});
  EXPECT_TRUE(index.Load().ok());
  EXPECT_TRUE(
      index.Add(IndexRecord{"TopicA", "order-1 buyer-7", "UNIQ1", 1000, 132, 1700000000123}).ok());
  EXPECT_TRUE(index.Add(IndexRecord{"TopicA", "order-1", "", 1132, 140, 1700000001000}).ok());
  EXPECT_TRUE(index.Flush().ok());
  std::vector<std::string> paths = index.file_paths();
  EXPECT_EQ(paths.size(), 1u);
  if (paths.empty()) return "";
  *name = paths[0].substr(paths[0].rfind('/') + 1);
  auto file = env->OpenFile(paths[0], OpenMode::kReadOnly);
  EXPECT_TRUE(file.ok());
  std::string bytes(232, '\0');
  size_t n = 0;
  EXPECT_TRUE((*file)->Read(0, bytes.size(), bytes.data(), &n).ok());
  EXPECT_EQ(n, 232u);
  EXPECT_EQ((*file)->Size().value(), 232u);
  return bytes;
}

// KEYHASH is XXH3-64 of "topic#key", high half XOR low half.
TEST(HashIndexFormatTest, KeyHashesOfTheExample) {
  EXPECT_EQ(IndexKeyHash("TopicA", "UNIQ1"), 0x1D993E47u);
  EXPECT_EQ(IndexKeyHash("TopicA", "order-1"), 0xB7BBB742u);
  EXPECT_EQ(IndexKeyHash("TopicA", "buyer-7"), 0xF3FAC8F6u);
  EXPECT_EQ(IndexKeyHash("TopicA", "UNIQ1") % 4, 3u);
  EXPECT_EQ(IndexKeyHash("TopicA", "order-1") % 4, 2u);
  EXPECT_EQ(IndexKeyHash("TopicA", "buyer-7") % 4, 2u);
}

TEST(HashIndexFormatTest, FileSizeAndNames) {
  EXPECT_EQ(kIndexHeaderSize, 136u);
  EXPECT_EQ(IndexGeometry{}.file_bytes(), 420'000'136u);
  EXPECT_EQ((IndexGeometry{4, 4}.file_bytes()), 232u);
  EXPECT_EQ(IndexFileName(1700000000123), "20231114221320123");
  EXPECT_EQ(ParseIndexFileName("99991231235959999"), 253'402'300'799'999);
  EXPECT_FALSE(ParseIndexFileName("00000000000000000000").has_value());  // a log segment name
}

TEST(HashIndexFormatTest, WorkedExampleFile) {
  std::string name;
  std::string bytes = ExampleFile(&name);
  ASSERT_EQ(bytes.size(), 232u);
  EXPECT_EQ(name, "20231114221320123");
  // clang-format off
  EXPECT_EQ(Hex(bytes.substr(0, 68)), std::string(136, '0'));  // copy 0: never written
  EXPECT_EQ(Hex(bytes.substr(68, 68)),
            "4d514958" "00000001" "0000000000000001"  // "MQIX", version, sequence
            "00000004" "00000004"                     // slot count, max entries
            "00000002" "00000004"                     // used slots, entry count
            "0000018bcfe5687b" "0000018bcfe56be8"     // begin, end timestamp
            "00000000000003e8" "00000000000004f8"     // begin, end offset
            "6bce91eb");                              // CRC
  EXPECT_EQ(Hex(bytes.substr(136, 16)), "00000000" "00000000" "00000004" "00000001");
  EXPECT_EQ(Hex(bytes.substr(152, 80)),
            "1d993e47" "00000000000003e8" "00000000" "00000000"   // 1: UNIQ1
            "b7bbb742" "00000000000003e8" "00000000" "00000000"   // 2: order-1
            "f3fac8f6" "00000000000003e8" "00000000" "00000002"   // 3: buyer-7
            "b7bbb742" "000000000000046c" "0000036d" "00000003"); // 4: order-1
  // clang-format on
  IndexHeader header;
  ASSERT_OK(DecodeIndexHeader(std::string_view(bytes).substr(68, 68), &header));
  EXPECT_EQ(header.end_offset, 1272);
  EXPECT_EQ(crc32::Value(bytes.data() + 68, 64), DecodeBig32(bytes.data() + 132));
  std::string doc = ReadFormatDoc("hash_index.md");
  ASSERT_FALSE(doc.empty()) << "docs/format/hash_index.md is missing";
  EXPECT_NE(doc.find(HexLines(bytes)), std::string::npos)
      << "hash_index.md must show the example file as:\n"
      << HexLines(bytes);
}

}  // namespace
}  // namespace mqstore
