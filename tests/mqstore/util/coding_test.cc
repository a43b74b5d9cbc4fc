#include "mqstore/coding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace mqstore {
namespace {

TEST(CodingTest, EncodeBigWritesMostSignificantByteFirst) {
  char buf[8];
  EncodeBig16(buf, 0x0102);
  EXPECT_EQ(std::string(buf, 2), std::string("\x01\x02", 2));
  EncodeBig32(buf, 0x01020304u);
  EXPECT_EQ(std::string(buf, 4), std::string("\x01\x02\x03\x04", 4));
  EncodeBig64(buf, 0x0102030405060708ull);
  EXPECT_EQ(std::string(buf, 8), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

TEST(CodingTest, DecodeBigReadsJavaByteBufferOrder) {
  // Java's ByteBuffer.putInt(-626843481) (the V1 magic) writes DA A3 20 A7.
  const char magic[] = {'\xDA', '\xA3', '\x20', '\xA7'};
  EXPECT_EQ(static_cast<int32_t>(DecodeBig32(magic)), -626843481);
  const char port[] = {'\x2A', '\x9F'};
  EXPECT_EQ(DecodeBig16(port), 10911);
  const char one[] = {0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(DecodeBig64(one), 1u);
}

TEST(CodingTest, Fixed16RoundTrips) {
  for (uint32_t v : {0u, 1u, 0x7Fu, 0x80u, 0xFFu, 0x100u, 0x7FFFu, 0x8000u, 0xFFFFu}) {
    char buf[2];
    EncodeBig16(buf, static_cast<uint16_t>(v));
    EXPECT_EQ(DecodeBig16(buf), v);
  }
}

TEST(CodingTest, Fixed32RoundTrips) {
  for (uint32_t power = 0; power < 32; ++power) {
    uint32_t v = 1u << power;
    for (uint32_t x : {v - 1, v, v + 1, ~v}) {
      char buf[4];
      EncodeBig32(buf, x);
      EXPECT_EQ(DecodeBig32(buf), x);
    }
  }
}

TEST(CodingTest, Fixed64RoundTrips) {
  for (uint32_t power = 0; power < 64; ++power) {
    uint64_t v = 1ull << power;
    for (uint64_t x : {v - 1, v, v + 1, ~v}) {
      char buf[8];
      EncodeBig64(buf, x);
      EXPECT_EQ(DecodeBig64(buf), x);
    }
  }
}

TEST(CodingTest, PutAppendsAndGetConsumesInOrder) {
  std::string s = "prefix";
  PutBig16(&s, 0xBEEF);
  PutBig32(&s, 0xDEADBEEFu);
  PutBig64(&s, 0x0123456789ABCDEFull);
  ASSERT_EQ(s.size(), 6u + 2 + 4 + 8);

  std::string_view in = s;
  std::string_view prefix;
  ASSERT_TRUE(GetBytes(&in, 6, &prefix));
  EXPECT_EQ(prefix, "prefix");
  uint16_t a = 0;
  uint32_t b = 0;
  uint64_t c = 0;
  ASSERT_TRUE(GetBig16(&in, &a));
  ASSERT_TRUE(GetBig32(&in, &b));
  ASSERT_TRUE(GetBig64(&in, &c));
  EXPECT_EQ(a, 0xBEEF);
  EXPECT_EQ(b, 0xDEADBEEFu);
  EXPECT_EQ(c, 0x0123456789ABCDEFull);
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, SignedValuesSurviveTheUnsignedRoundTrip) {
  std::string s;
  PutBig32(&s, static_cast<uint32_t>(int32_t{-1}));
  PutBig64(&s, static_cast<uint64_t>(std::numeric_limits<int64_t>::min()));
  std::string_view in = s;
  uint32_t a = 0;
  uint64_t b = 0;
  ASSERT_TRUE(GetBig32(&in, &a));
  ASSERT_TRUE(GetBig64(&in, &b));
  EXPECT_EQ(static_cast<int32_t>(a), -1);
  EXPECT_EQ(static_cast<int64_t>(b), std::numeric_limits<int64_t>::min());
}

TEST(CodingTest, GetRefusesShortInputAndLeavesItUnchanged) {
  const std::string bytes = "\x01\x02\x03\x04\x05\x06\x07";
  for (size_t len = 0; len <= bytes.size(); ++len) {
    const std::string_view original(bytes.data(), len);
    std::string_view in = original;

    uint16_t v16 = 0xAAAA;
    EXPECT_EQ(GetBig16(&in, &v16), len >= 2);
    if (len < 2) {
      EXPECT_EQ(in.data(), original.data());
      EXPECT_EQ(in.size(), original.size());
      EXPECT_EQ(v16, 0xAAAA) << "output written on failure";
    }

    in = original;
    uint32_t v32 = 0xAAAAAAAAu;
    EXPECT_EQ(GetBig32(&in, &v32), len >= 4);
    if (len < 4) {
      EXPECT_EQ(in.data(), original.data());
      EXPECT_EQ(in.size(), original.size());
      EXPECT_EQ(v32, 0xAAAAAAAAu);
    }

    in = original;
    uint64_t v64 = 42;
    EXPECT_FALSE(GetBig64(&in, &v64));  // at most 7 bytes here
    EXPECT_EQ(in.data(), original.data());
    EXPECT_EQ(in.size(), original.size());
    EXPECT_EQ(v64, 42u);

    in = original;
    std::string_view out = "untouched";
    EXPECT_EQ(GetBytes(&in, 5, &out), len >= 5);
    if (len < 5) {
      EXPECT_EQ(in.data(), original.data());
      EXPECT_EQ(in.size(), original.size());
      EXPECT_EQ(out, "untouched");
    }
  }
}

TEST(CodingTest, GetBytesOfZeroAlwaysSucceeds) {
  std::string_view in;
  std::string_view out = "x";
  ASSERT_TRUE(GetBytes(&in, 0, &out));
  EXPECT_TRUE(out.empty());
}

TEST(CodingTest, GetConsumesExactlyItsWidth) {
  const std::string bytes("\x00\x01\x00\x00\x00\x02\xFF", 7);
  std::string_view in = bytes;
  uint16_t a = 0;
  uint32_t b = 0;
  ASSERT_TRUE(GetBig16(&in, &a));
  EXPECT_EQ(in.size(), bytes.size() - 2);
  ASSERT_TRUE(GetBig32(&in, &b));
  EXPECT_EQ(in.size(), 1u);
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 2u);
  EXPECT_EQ(in, "\xFF");
}

TEST(CodingTest, LittleEndianRoundTripsAndIsLittleEndian) {
  char buf[4];
  EncodeLittle32(buf, 0x01020304u);
  EXPECT_EQ(std::string(buf, 4), std::string("\x04\x03\x02\x01", 4));
  EXPECT_EQ(DecodeLittle32(buf), 0x01020304u);
}

}  // namespace
}  // namespace mqstore
