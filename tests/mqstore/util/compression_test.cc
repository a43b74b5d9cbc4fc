#include "mqstore/compression.h"

#include <gtest/gtest.h>

#include <string>

#include "mqstore/message.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

std::string Compressible(size_t n) {
  std::string s;
  while (s.size() < n) s += "order-" + std::to_string(s.size() % 97) + ";";
  s.resize(n);
  return s;
}

TEST(CompressionTest, ZstdRoundTripMarksTheSysflag) {
  std::string body = Compressible(100'000);
  int32_t flag = sysflag::kTransactionPrepared;  // other bits are kept
  ASSERT_OK_AND_ASSIGN(std::string packed, CompressBody(body, CompressionType::kZstd, 5, &flag));
  EXPECT_LT(packed.size(), body.size() / 4);
  EXPECT_EQ(flag & sysflag::kCompressed, sysflag::kCompressed);
  EXPECT_EQ(flag & sysflag::kCompressionTypeMask, 0x200);  // RocketMQ's ZSTD type
  EXPECT_EQ(flag & sysflag::kTransactionMask, sysflag::kTransactionPrepared);
  ASSERT_OK_AND_ASSIGN(std::string back, DecompressBody(packed, flag));
  EXPECT_EQ(back, body);
}

TEST(CompressionTest, ZlibRoundTripAndTheClassicFlagWithoutAType) {
  std::string body = Compressible(10'000);
  int32_t flag = 0;
  ASSERT_OK_AND_ASSIGN(std::string packed, CompressBody(body, CompressionType::kZlib, 5, &flag));
  EXPECT_EQ(flag & sysflag::kCompressionTypeMask, 0x300);
  ASSERT_OK_AND_ASSIGN(std::string back, DecompressBody(packed, flag));
  EXPECT_EQ(back, body);
  // Older producers set only COMPRESSED: that means zlib.
  ASSERT_OK_AND_ASSIGN(std::string classic, DecompressBody(packed, sysflag::kCompressed));
  EXPECT_EQ(classic, body);
}

TEST(CompressionTest, AnUncompressedBodyComesBackAsIs) {
  ASSERT_OK_AND_ASSIGN(std::string back, DecompressBody("plain", 0));
  EXPECT_EQ(back, "plain");
}

TEST(CompressionTest, EmptyBodiesRoundTrip) {
  for (CompressionType type : {CompressionType::kZstd, CompressionType::kZlib}) {
    int32_t flag = 0;
    ASSERT_OK_AND_ASSIGN(std::string packed, CompressBody("", type, 3, &flag));
    ASSERT_OK_AND_ASSIGN(std::string back, DecompressBody(packed, flag));
    EXPECT_EQ(back, "");
  }
}

TEST(CompressionTest, GarbageAndTruncatedBodiesAreCorruption) {
  int32_t flag = 0;
  ASSERT_OK_AND_ASSIGN(std::string packed,
                       CompressBody(Compressible(50'000), CompressionType::kZstd, 3, &flag));
  EXPECT_TRUE(DecompressBody("not zstd at all", flag).status().IsCorruption());
  EXPECT_TRUE(DecompressBody(packed.substr(0, packed.size() / 2), flag).status().IsCorruption());
  int32_t zflag = 0;
  ASSERT_OK_AND_ASSIGN(std::string zpacked,
                       CompressBody(Compressible(50'000), CompressionType::kZlib, 3, &zflag));
  EXPECT_TRUE(DecompressBody("not zlib", zflag).status().IsCorruption());
  EXPECT_TRUE(DecompressBody(zpacked.substr(0, zpacked.size() / 2), zflag).status().IsCorruption());
  EXPECT_TRUE(DecompressBody("x", sysflag::kCompressed | 0x500).status().IsCorruption());
}

TEST(CompressionTest, DecompressionIsCappedAgainstBombs) {
  std::string zeros(10u << 20, '\0');
  for (CompressionType type : {CompressionType::kZstd, CompressionType::kZlib}) {
    int32_t flag = 0;
    ASSERT_OK_AND_ASSIGN(std::string packed, CompressBody(zeros, type, 3, &flag));
    EXPECT_LT(packed.size(), 64u << 10);
    EXPECT_TRUE(DecompressBody(packed, flag, 1u << 20).status().IsResourceExhausted());
    ASSERT_OK_AND_ASSIGN(std::string back, DecompressBody(packed, flag, 16u << 20));
    EXPECT_EQ(back.size(), zeros.size());
  }
}

TEST(CompressionTest, Lz4AndBadLevelsAreRefusedClearly) {
  int32_t flag = 0;
  EXPECT_EQ(CompressBody("x", CompressionType::kLz4, 1, &flag).status().code(),
            Status::Code::kNotSupported);
  EXPECT_EQ(flag, 0);  // unchanged on failure
  EXPECT_EQ(DecompressBody("x", sysflag::kCompressed | 0x100).status().code(),
            Status::Code::kNotSupported);
  EXPECT_TRUE(CompressBody("x", CompressionType::kZlib, 0, &flag).status().IsInvalidArgument());
  EXPECT_TRUE(CompressBody("x", CompressionType::kZstd, 99, &flag).status().IsInvalidArgument());
}

}  // namespace
}  // namespace mqstore
