#include "util/filename.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace mqstore::filename {
namespace {

TEST(FilenameTest, OffsetNameIsTwentyZeroPaddedDigits) {
  EXPECT_EQ(OffsetName(0), "00000000000000000000");
  EXPECT_EQ(OffsetName(1073741824), "00000000001073741824");
  EXPECT_EQ(OffsetName(2147483648), "00000000002147483648");
  EXPECT_EQ(OffsetName(std::numeric_limits<int64_t>::max()), "09223372036854775807");
}

TEST(FilenameTest, ParseOffsetNameRoundTrips) {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{4096}, int64_t{1} << 30,
                    int64_t{123456789012345}, std::numeric_limits<int64_t>::max()}) {
    std::string name = OffsetName(v);
    ASSERT_EQ(name.size(), 20u);
    auto parsed = ParseOffsetName(name);
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(*parsed, v);
  }
}

TEST(FilenameTest, ParseOffsetNameRejectsWrongLength) {
  EXPECT_FALSE(ParseOffsetName("").has_value());
  EXPECT_FALSE(ParseOffsetName("0").has_value());
  EXPECT_FALSE(ParseOffsetName("0000000000000000000").has_value());    // 19
  EXPECT_FALSE(ParseOffsetName("000000000000000000000").has_value());  // 21
}

TEST(FilenameTest, ParseOffsetNameRejectsNonDigits) {
  EXPECT_FALSE(ParseOffsetName("0000000000000000000a").has_value());
  EXPECT_FALSE(ParseOffsetName("-0000000000000000001").has_value());
  EXPECT_FALSE(ParseOffsetName("+0000000000000000001").has_value());
  EXPECT_FALSE(ParseOffsetName(" 0000000000000000001").has_value());
  EXPECT_FALSE(ParseOffsetName("0000000000000000001 ").has_value());
  EXPECT_FALSE(ParseOffsetName("00000000000000000.01").has_value());
  EXPECT_FALSE(ParseOffsetName("00000000001073741824.tmp").has_value());
  EXPECT_FALSE(ParseOffsetName(std::string_view("0000000000000000000\0", 20)).has_value());
}

TEST(FilenameTest, ParseOffsetNameRejectsValuesPastInt64) {
  EXPECT_TRUE(ParseOffsetName("09223372036854775807").has_value());
  EXPECT_FALSE(ParseOffsetName("09223372036854775808").has_value());
  EXPECT_FALSE(ParseOffsetName("99999999999999999999").has_value());
}

TEST(FilenameTest, ParseOffsetNameRejectsOtherStoreFiles) {
  EXPECT_FALSE(ParseOffsetName("checkpoint").has_value());
  EXPECT_FALSE(ParseOffsetName("lock").has_value());
  EXPECT_FALSE(ParseOffsetName("abort").has_value());
}

TEST(FilenameTest, PathsUnderTheRoot) {
  const std::string root = "/data/store";
  EXPECT_EQ(CommitLogDir(root), "/data/store/commitlog");
  EXPECT_EQ(CommitLogSegment(root, 1073741824), "/data/store/commitlog/00000000001073741824");
  EXPECT_EQ(ConsumeQueueRoot(root), "/data/store/consumequeue");
  EXPECT_EQ(ConsumeQueueDir(root, "TopicA", 3), "/data/store/consumequeue/TopicA/3");
  EXPECT_EQ(ConsumeQueueFile(root, "TopicA", 3, 6000000),
            "/data/store/consumequeue/TopicA/3/00000000000006000000");
  EXPECT_EQ(Checkpoint(root), "/data/store/checkpoint");
  EXPECT_EQ(AbortMarker(root), "/data/store/abort");
  EXPECT_EQ(Lock(root), "/data/store/lock");
}

TEST(FilenameTest, SegmentFileNameParsesBackToItsBase) {
  std::string path = CommitLogSegment("/r", 3 * 4096);
  std::string name = path.substr(path.rfind('/') + 1);
  auto base = ParseOffsetName(name);
  ASSERT_TRUE(base.has_value());
  EXPECT_EQ(*base, 3 * 4096);
}

}  // namespace
}  // namespace mqstore::filename
