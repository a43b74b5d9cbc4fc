// Message helpers (mqstore/message.h, src/log/message.cc): properties, addresses, offset ids.
#include "mqstore/message.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace mqstore {
namespace {

using Props = std::vector<std::pair<std::string, std::string>>;

// ---- Properties ----------------------------------------------------------------------

TEST(PropertiesTest, EncodeUsesRocketMqSeparators) {
  EXPECT_EQ(EncodeProperties({{"TAGS", "TagA"}, {"KEYS", "k1 k2"}}),
            "TAGS\x01TagA\x02KEYS\x01k1 k2\x02");
  EXPECT_EQ(EncodeProperties({}), "");
}

TEST(PropertiesTest, EncodeSkipsEmptyNamesAndValues) {
  EXPECT_EQ(EncodeProperties({{"", "v"}, {"n", ""}, {"a", "b"}}),
            "a\x01"
            "b\x02");
}

TEST(PropertiesTest, DecodeRoundTripsInOrder) {
  Props props = {{"TAGS", "TagA"}, {"KEYS", "order-1"}, {"UNIQ_KEY", "7F000001"}, {"x", "y z"}};
  EXPECT_EQ(DecodeProperties(EncodeProperties(props)), props);
}

TEST(PropertiesTest, DecodeIsLenient) {
  // A last pair without its 0x02 is still read.
  EXPECT_EQ(DecodeProperties("a\x01"
                             "1\x02"
                             "b\x01"
                             "2"),
            (Props{{"a", "1"}, {"b", "2"}}));
  // Empty names, empty values, pairs without 0x01 and segments under 3 chars are skipped.
  EXPECT_EQ(DecodeProperties("\x01value\x02"
                             "name\x01\x02"
                             "noseparator\x02"
                             "x\x02\x02"
                             "k\x01v\x02"),
            (Props{{"k", "v"}}));
  // Only the first 0x01 splits name and value.
  EXPECT_EQ(DecodeProperties("k\x01v\x01w\x02"), (Props{{"k", "v\x01w"}}));
  EXPECT_TRUE(DecodeProperties("").empty());
  EXPECT_TRUE(DecodeProperties("\x02\x02\x02").empty());
}

TEST(PropertiesTest, FindPropertyMatchesWholeNames) {
  std::string enc = EncodeProperties({{"TAGSX", "wrong"}, {"TAGS", "TagA"}, {"K", "v"}});
  auto tags = FindProperty(enc, "TAGS");
  ASSERT_TRUE(tags.has_value());
  EXPECT_EQ(*tags, "TagA");
  EXPECT_EQ(FindProperty(enc, "K").value_or(""), "v");
  EXPECT_FALSE(FindProperty(enc, "TAG").has_value());
  EXPECT_FALSE(FindProperty(enc, "AGS").has_value());
  EXPECT_FALSE(FindProperty(enc, "missing").has_value());
  EXPECT_FALSE(FindProperty("", "TAGS").has_value());
}

TEST(PropertiesTest, FindPropertySkipsEmptyValuesAndReadsAnUnterminatedLastPair) {
  EXPECT_FALSE(FindProperty("TAGS\x01\x02", "TAGS").has_value());
  EXPECT_EQ(FindProperty("a\x01"
                         "1\x02TAGS\x01last",
                         "TAGS")
                .value_or(""),
            "last");
}

TEST(PropertiesTest, MessageSetPropertyReplacesAndViewEncodes) {
  Message m;
  m.topic = "T";
  m.queue_id = 3;
  m.body = "body";
  m.SetTags("a");
  m.SetKeys("k");
  m.SetTags("b");
  ASSERT_EQ(m.properties.size(), 2u);
  std::string encoded;
  MessageView v = m.View(&encoded);
  EXPECT_EQ(v.topic, "T");
  EXPECT_EQ(v.queue_id, 3);
  EXPECT_EQ(v.body, "body");
  EXPECT_EQ(v.properties.data(), encoded.data());
  EXPECT_EQ(FindProperty(v.properties, property::kTags).value_or(""), "b");
  EXPECT_EQ(FindProperty(v.properties, property::kKeys).value_or(""), "k");
}

// ---- SocketAddress -------------------------------------------------------------------

TEST(SocketAddressTest, ParsesAndPrintsIpv4) {
  auto a = SocketAddress::Parse("192.168.0.7:10911");
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(a->ipv6);
  EXPECT_EQ(*a, SocketAddress::V4(192, 168, 0, 7, 10911));
  EXPECT_EQ(a->ToString(), "192.168.0.7:10911");
  EXPECT_EQ(a->EncodedSize(), 8u);
  EXPECT_EQ(SocketAddress::Parse("0.0.0.0:0")->ToString(), "0.0.0.0:0");
  EXPECT_EQ(SocketAddress::Parse("255.255.255.255:65535")->ToString(), "255.255.255.255:65535");
}

TEST(SocketAddressTest, ParsesAndPrintsFullIpv6) {
  auto a = SocketAddress::Parse("[2001:db8:0:0:0:0:0:FFFF]:8080");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->ipv6);
  EXPECT_EQ(a->port, 8080);
  EXPECT_EQ(a->ip[0], 0x20);
  EXPECT_EQ(a->ip[1], 0x01);
  EXPECT_EQ(a->ip[2], 0x0d);
  EXPECT_EQ(a->ip[3], 0xb8);
  EXPECT_EQ(a->ip[14], 0xff);
  EXPECT_EQ(a->ip[15], 0xff);
  EXPECT_EQ(a->EncodedSize(), 20u);
  std::string text = a->ToString();
  EXPECT_EQ(text, "[2001:db8:0:0:0:0:0:ffff]:8080");
  EXPECT_EQ(SocketAddress::Parse(text), a);
}

TEST(SocketAddressTest, RoundTripsThroughToString) {
  SocketAddress v6;
  v6.ipv6 = true;
  for (int i = 0; i < 16; ++i) v6.ip[i] = static_cast<uint8_t>(i * 17);
  v6.port = 1;
  for (const SocketAddress& a : {SocketAddress::V4(10, 0, 0, 1, 50000), v6}) {
    auto back = SocketAddress::Parse(a.ToString());
    ASSERT_TRUE(back.has_value()) << a.ToString();
    EXPECT_EQ(*back, a);
  }
}

TEST(SocketAddressTest, RejectsMalformedText) {
  for (const char* bad : {"",
                          ":80",
                          "1.2.3.4",
                          "1.2.3.4:",
                          "1.2.3.4:port",
                          "1.2.3.4:-1",
                          "1.2.3.4:65536",
                          "1.2.3:80",
                          "1.2.3.4.5:80",
                          "1.2.3.256:80",
                          "1..3.4:80",
                          "a.b.c.d:80",
                          " 1.2.3.4:80",
                          "1.2.3.4:80 ",
                          "[::1]:80",
                          "[1:2:3:4:5:6:7]:80",
                          "[1:2:3:4:5:6:7:8:9]:80",
                          "[1:2:3:4:5:6:7:10000]:80",
                          "[1:2:3:4:5:6:7:8:80",
                          "1:2:3:4:5:6:7:8]:80",
                          "[]:80",
                          "[:80"}) {
    EXPECT_FALSE(SocketAddress::Parse(bad).has_value()) << "accepted '" << bad << "'";
  }
}

// ---- Offset message ids ---------------------------------------------------------------

bool IsUpperHex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

TEST(OffsetMessageIdTest, Ipv4IsThirtyTwoUppercaseHexChars) {
  SocketAddress host = SocketAddress::V4(127, 0, 0, 1, 10911);
  std::string id = MakeOffsetMessageId(host, 0x123456789ALL);
  // ip 7F000001, port 00002A9F, offset 000000123456789A.
  EXPECT_EQ(id, "7F00000100002A9F000000123456789A");
  EXPECT_TRUE(IsUpperHex(id));
  auto back = DecodeOffsetMessageId(id);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->first, host);
  EXPECT_EQ(back->second, 0x123456789ALL);
}

TEST(OffsetMessageIdTest, Ipv6IsFiftySixUppercaseHexChars) {
  auto host = SocketAddress::Parse("[fe80:0:0:0:abcd:ef01:2345:6789]:10911");
  ASSERT_TRUE(host.has_value());
  for (int64_t offset : {int64_t{0}, int64_t{4096}, int64_t{1} << 40, INT64_MAX}) {
    std::string id = MakeOffsetMessageId(*host, offset);
    EXPECT_EQ(id.size(), 56u);
    EXPECT_TRUE(IsUpperHex(id)) << id;
    auto back = DecodeOffsetMessageId(id);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->first, *host);
    EXPECT_EQ(back->second, offset);
  }
}

TEST(OffsetMessageIdTest, RoundTripsManyOffsets) {
  SocketAddress host = SocketAddress::V4(10, 1, 2, 3, 65535);
  for (int64_t offset = 1; offset > 0 && offset < (int64_t{1} << 62); offset = offset * 7 + 3) {
    auto back = DecodeOffsetMessageId(MakeOffsetMessageId(host, offset));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->first, host);
    EXPECT_EQ(back->second, offset);
  }
}

TEST(OffsetMessageIdTest, DecodeRejectsOtherStrings) {
  std::string good = MakeOffsetMessageId(SocketAddress::V4(1, 2, 3, 4, 5), 6);
  EXPECT_FALSE(DecodeOffsetMessageId("").has_value());
  EXPECT_FALSE(DecodeOffsetMessageId(good.substr(1)).has_value());
  EXPECT_FALSE(DecodeOffsetMessageId(good + "00").has_value());
  std::string bad = good;
  bad[5] = 'G';
  EXPECT_FALSE(DecodeOffsetMessageId(bad).has_value());
  bad = good;
  bad[0] = '-';
  EXPECT_FALSE(DecodeOffsetMessageId(bad).has_value());
}

}  // namespace
}  // namespace mqstore
