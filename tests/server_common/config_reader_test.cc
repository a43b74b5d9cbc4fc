#include "server_common/config_reader.h"

#include <gtest/gtest.h>

namespace mqserver {
namespace {

Properties Parse(std::string_view text) {
  auto props = ParsePropertiesText(text, "test.conf");
  EXPECT_TRUE(props.ok()) << props.status().ToString();
  return props.ok() ? std::move(props).value() : Properties();
}

enum class Color { kRed, kGreen };

TEST(ConfigReaderTest, AbsentKeysKeepTheDefaults) {
  Properties props = Parse("");
  ConfigReader reader(props);
  std::string s = "default";
  int32_t i = 7;
  int64_t l = 8;
  bool b = true;
  Color c = Color::kGreen;
  EXPECT_TRUE(reader.ReadString("s", &s).ok());
  EXPECT_TRUE(reader.ReadNonEmptyString("s", &s).ok());
  EXPECT_TRUE(reader.ReadInt32("i", 0, 10, &i).ok());
  EXPECT_TRUE(reader.ReadInt64("l", 0, 10, &l).ok());
  EXPECT_TRUE(reader.ReadBool("b", &b).ok());
  EXPECT_TRUE(
      reader.ReadEnum<Color>("c", {{"RED", Color::kRed}, {"GREEN", Color::kGreen}}, &c).ok());
  EXPECT_EQ(s, "default");
  EXPECT_EQ(i, 7);
  EXPECT_EQ(l, 8);
  EXPECT_TRUE(b);
  EXPECT_EQ(c, Color::kGreen);
}

TEST(ConfigReaderTest, ReadsEveryType) {
  Properties props = Parse("s=text\ni=+5\nneg=-3\nl=9000000000\nb=FALSE\nc=RED\n");
  ConfigReader reader(props);
  std::string s;
  int32_t i = 0;
  int32_t neg = 0;
  int64_t l = 0;
  bool b = true;
  Color c = Color::kGreen;
  ASSERT_TRUE(reader.ReadNonEmptyString("s", &s).ok());
  ASSERT_TRUE(reader.ReadInt32("i", 0, 10, &i).ok());
  ASSERT_TRUE(reader.ReadInt32("neg", -10, 10, &neg).ok());
  ASSERT_TRUE(reader.ReadInt64("l", 0, INT64_MAX, &l).ok());
  ASSERT_TRUE(reader.ReadBool("b", &b).ok());
  ASSERT_TRUE(
      reader.ReadEnum<Color>("c", {{"RED", Color::kRed}, {"GREEN", Color::kGreen}}, &c).ok());
  EXPECT_EQ(s, "text");
  EXPECT_EQ(i, 5);
  EXPECT_EQ(neg, -3);
  EXPECT_EQ(l, 9'000'000'000);
  EXPECT_FALSE(b);
  EXPECT_EQ(c, Color::kRed);
}

// Every bad value names the place, the key, the value and what is allowed.
void ExpectBad(const mqstore::Status& s, const std::string& where_key_value,
               const std::string& allowed) {
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find(where_key_value), std::string_view::npos) << s.ToString();
  EXPECT_NE(s.message().find("allowed: " + allowed), std::string_view::npos) << s.ToString();
}

TEST(ConfigReaderTest, BadValuesAreRejectedWithWhereWhatAndAllowed) {
  Properties props = Parse(
      "notint=12x\n"
      "big=11\n"
      "empty=\n"
      "plus=+\n"
      "overflow=99999999999999999999\n"
      "flag=yes\n"
      "color=red\n"
      "name=\n");
  ConfigReader reader(props);
  int32_t i = 0;
  int64_t l = 0;
  bool b = false;
  Color c = Color::kGreen;
  std::string s;
  ExpectBad(reader.ReadInt32("notint", 0, 10, &i), "test.conf:1: notint = \"12x\": not an integer",
            "0..10");
  ExpectBad(reader.ReadInt32("big", 0, 10, &i), "test.conf:2: big = \"11\": out of range", "0..10");
  ExpectBad(reader.ReadInt32("empty", 0, 10, &i), "test.conf:3: empty = \"\"", "0..10");
  ExpectBad(reader.ReadInt32("plus", 0, 10, &i), "test.conf:4", "0..10");
  ExpectBad(reader.ReadInt64("overflow", 0, 10, &l), "test.conf:5", "0..10");
  ExpectBad(reader.ReadBool("flag", &b), "test.conf:6: flag = \"yes\": not a boolean",
            "true, false");
  ExpectBad(reader.ReadEnum<Color>("color", {{"RED", Color::kRed}, {"GREEN", Color::kGreen}}, &c),
            "test.conf:7: color = \"red\": unknown value", "RED, GREEN");
  ExpectBad(reader.ReadNonEmptyString("name", &s), "test.conf:8: name = \"\": empty",
            "a non-empty string");
  EXPECT_EQ(i, 0);  // a failed read leaves the field alone
  EXPECT_EQ(c, Color::kGreen);
}

TEST(ConfigReaderTest, UnreadKeysAreUnknownKeyWarningsAfterTheParsersOwn) {
  Properties props = Parse("known=1\nmystery=2\nknown=3\ntaken=x\n");
  ConfigReader reader(props);
  int32_t known = 0;
  ASSERT_TRUE(reader.ReadInt32("known", 0, 10, &known).ok());
  EXPECT_NE(reader.Take("taken"), nullptr);
  EXPECT_EQ(reader.Take("absent"), nullptr);
  std::vector<std::string> warnings;
  reader.AppendWarnings(&warnings);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("duplicate key \"known\""), std::string::npos) << warnings[0];
  EXPECT_EQ(warnings[1], "test.conf:2: unknown key \"mystery\" ignored");
  EXPECT_EQ(known, 3);
}

}  // namespace
}  // namespace mqserver
