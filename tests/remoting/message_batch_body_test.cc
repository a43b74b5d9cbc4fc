#include "remoting/message_batch_body.h"

#include <gtest/gtest.h>

#include <string>

namespace mqremoting {
namespace {

// Properties A=1 (name, 0x01, value, 0x02).
const std::string kProperties = std::string("A\x01") + "1\x02";

// The golden bytes of docs/format/broker-bodies.md ("Message batch").
const std::string kGolden = std::string(
    "\x00\x00\x00\x1c"  // totalSize 28
    "\x00\x00\x00\x00"  // magic
    "\x00\x00\x00\x00"  // bodyCRC
    "\x00\x00\x00\x07"  // flag 7
    "\x00\x00\x00\x02"  // bodyLength 2
    "hi"                // body
    "\x00\x04"          // propertiesLength 4
    "A\0011\002"        // properties A=1 (octal escapes)
    "\x00\x00\x00\x16"  // totalSize 22: empty body and properties
    "\x00\x00\x00\x00"
    "\x00\x00\x00\x00"
    "\x00\x00\x00\x00"
    "\x00\x00\x00\x00"
    "\x00\x00",
    50);

TEST(MessageBatchBodyTest, EncodesTheGoldenBytes) {
  std::string body;
  ASSERT_TRUE(AppendBatchItem(7, "hi", kProperties, &body).ok());
  ASSERT_TRUE(AppendBatchItem(0, "", "", &body).ok());
  EXPECT_EQ(body, kGolden);
}

TEST(MessageBatchBodyTest, DecodesTheGoldenBytes) {
  auto items = DecodeBatchBody(kGolden);
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].flag, 7);
  EXPECT_EQ((*items)[0].body, "hi");
  EXPECT_EQ((*items)[0].properties, kProperties);
  EXPECT_EQ((*items)[1].flag, 0);
  EXPECT_TRUE((*items)[1].body.empty());
  EXPECT_TRUE((*items)[1].properties.empty());
}

TEST(MessageBatchBodyTest, SizesThatDoNotAddUpAreRefused) {
  EXPECT_TRUE(DecodeBatchBody("").status().IsInvalidArgument());  // empty batch
  // Cut short, and a total size past the body.
  EXPECT_TRUE(DecodeBatchBody(kGolden.substr(0, 40)).status().IsInvalidArgument());
  std::string too_long = kGolden;
  too_long[3] = '\x1d';
  auto bad = DecodeBatchBody(too_long);
  ASSERT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("batch message 0"), std::string::npos);
  // A body length that disagrees with the total size.
  std::string wrong_body = kGolden;
  wrong_body[19] = '\x03';
  EXPECT_TRUE(DecodeBatchBody(wrong_body).status().IsInvalidArgument());
}

TEST(MessageBatchBodyTest, PropertiesPastSixteenBitsAreRefusedAndNothingIsWritten) {
  std::string body = "kept";
  EXPECT_TRUE(AppendBatchItem(0, "x", std::string(32768, 'p'), &body).IsInvalidArgument());
  EXPECT_EQ(body, "kept");
  EXPECT_TRUE(AppendBatchItem(0, "x", std::string(32767, 'p'), &body).ok());
}

}  // namespace
}  // namespace mqremoting
