#include "server_common/properties.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "support/test_util.h"

namespace mqserver {
namespace {

using mqstore::test::TempDir;

Properties Parse(std::string_view text) {
  auto props = ParsePropertiesText(text);
  EXPECT_TRUE(props.ok()) << props.status().ToString();
  return props.ok() ? std::move(props).value() : Properties();
}

std::string ValueOf(const Properties& props, std::string_view key) {
  const PropertyEntry* e = props.Find(key);
  return e == nullptr ? "<absent>" : e->value;
}

TEST(PropertiesTest, EverySeparatorForm) {
  Properties p = Parse(
      "a=1\n"
      "b = 2\n"
      "c:3\n"
      "d : 4\n"
      "e 5\n"
      "f\t\t6\n"
      "g =:7\n"   // '=' is the separator, ':' belongs to the value
      "h  = 8\n"  // whitespace then one '=' still separates
      "i  9 = x\n");
  EXPECT_EQ(ValueOf(p, "a"), "1");
  EXPECT_EQ(ValueOf(p, "b"), "2");
  EXPECT_EQ(ValueOf(p, "c"), "3");
  EXPECT_EQ(ValueOf(p, "d"), "4");
  EXPECT_EQ(ValueOf(p, "e"), "5");
  EXPECT_EQ(ValueOf(p, "f"), "6");
  EXPECT_EQ(ValueOf(p, "g"), ":7");
  EXPECT_EQ(ValueOf(p, "h"), "8");
  EXPECT_EQ(ValueOf(p, "i"), "9 = x");
  EXPECT_EQ(p.size(), 9u);
}

TEST(PropertiesTest, KeyWithoutValueIsEmpty) {
  Properties p = Parse("alone\nsep=\n");
  EXPECT_EQ(ValueOf(p, "alone"), "");
  EXPECT_EQ(ValueOf(p, "sep"), "");
}

TEST(PropertiesTest, CommentsAndBlankLinesAreSkipped) {
  Properties p = Parse(
      "# a comment\n"
      "   ! another, indented\n"
      "\n"
      "   \t \n"
      "key=value # not a comment\n"
      "#key2=hidden\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(ValueOf(p, "key"), "value # not a comment");
  EXPECT_FALSE(p.Contains("key2"));
}

TEST(PropertiesTest, LineNumbersCountEveryNaturalLine) {
  Properties p = Parse("# c\n\na=1\r\nb=2\rc=3\n");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p.entries()[0].key, "a");
  EXPECT_EQ(p.entries()[0].line, 3);
  EXPECT_EQ(p.entries()[1].line, 4);  // \r\n is one line break
  EXPECT_EQ(p.entries()[2].line, 5);  // a lone \r is a line break too
}

TEST(PropertiesTest, LeadingWhitespaceOfLinesAndValuesIsDropped) {
  Properties p = Parse("   key =    value\n");
  EXPECT_EQ(ValueOf(p, "key"), "value");
}

TEST(PropertiesTest, ValuesAreTrimmedAsRocketMqDoes) {
  Properties p = Parse("a = value with spaces   \t\nb=x\\t\n");
  EXPECT_EQ(ValueOf(p, "a"), "value with spaces");
  EXPECT_EQ(ValueOf(p, "b"), "x");  // trim() takes an escaped trailing tab as well
}

TEST(PropertiesTest, BackslashContinuesALine) {
  Properties p = Parse(
      "list = a, \\\n"
      "       b, \\\n"
      "\t# not a comment inside a continuation\n"
      "next=1\n");
  EXPECT_EQ(ValueOf(p, "list"), "a, b, # not a comment inside a continuation");
  EXPECT_EQ(ValueOf(p, "next"), "1");
  EXPECT_EQ(p.Find("list")->line, 1);
  EXPECT_EQ(p.Find("next")->line, 4);
}

TEST(PropertiesTest, AnEvenRunOfBackslashesDoesNotContinue) {
  Properties p = Parse("path=C:\\\\dir\\\\\nnext=1\n");
  EXPECT_EQ(ValueOf(p, "path"), "C:\\dir\\");
  EXPECT_EQ(ValueOf(p, "next"), "1");
}

TEST(PropertiesTest, ABlankContinuationLineEndsTheValue) {
  Properties p = Parse("a=1\\\n\nb=2\n");
  EXPECT_EQ(ValueOf(p, "a"), "1");
  EXPECT_EQ(ValueOf(p, "b"), "2");
}

TEST(PropertiesTest, ContinuationAtTheEndOfTheTextDropsTheBackslash) {
  Properties p = Parse("a=1\\");
  EXPECT_EQ(ValueOf(p, "a"), "1");
}

TEST(PropertiesTest, CommentLinesDoNotContinue) {
  Properties p = Parse("# comment ending in \\\na=1\n");
  EXPECT_EQ(ValueOf(p, "a"), "1");
}

TEST(PropertiesTest, Escapes) {
  Properties p = Parse(
      "tab=a\\tb\n"
      "nl=a\\nb\n"
      "cr=a\\rb\n"
      "ff=a\\fb\n"
      "bs=a\\\\b\n"
      "eq=a\\=b\n"
      "colon=a\\:b\n"
      "other=\\q\\#\n");
  EXPECT_EQ(ValueOf(p, "tab"), "a\tb");
  EXPECT_EQ(ValueOf(p, "nl"), "a\nb");
  EXPECT_EQ(ValueOf(p, "cr"), "a\rb");
  EXPECT_EQ(ValueOf(p, "ff"), "a\fb");
  EXPECT_EQ(ValueOf(p, "bs"), "a\\b");
  EXPECT_EQ(ValueOf(p, "eq"), "a=b");
  EXPECT_EQ(ValueOf(p, "colon"), "a:b");
  EXPECT_EQ(ValueOf(p, "other"), "q#");
}

TEST(PropertiesTest, EscapedSeparatorsAndSpacesBelongToTheKey) {
  Properties p = Parse("a\\=b\\:c\\ d = v\n");
  EXPECT_EQ(ValueOf(p, "a=b:c d"), "v");
}

TEST(PropertiesTest, UnicodeEscapesBecomeUtf8) {
  Properties p = Parse(
      "ascii=\\u0041\n"
      "two=\\u00e9\n"
      "three=\\u4E2D\n"
      "four=\\uD83D\\uDE00\n");
  EXPECT_EQ(ValueOf(p, "ascii"), "A");
  EXPECT_EQ(ValueOf(p, "two"), "\xC3\xA9");
  EXPECT_EQ(ValueOf(p, "three"), "\xE4\xB8\xAD");
  EXPECT_EQ(ValueOf(p, "four"), "\xF0\x9F\x98\x80");
}

TEST(PropertiesTest, Utf8BytesPassThrough) {
  Properties p = Parse("name=\xE4\xB8\xAD\xE6\x96\x87\n");
  EXPECT_EQ(ValueOf(p, "name"), "\xE4\xB8\xAD\xE6\x96\x87");
}

TEST(PropertiesTest, MalformedUnicodeEscapeIsAnErrorNamingTheLine) {
  for (std::string_view text : {"\n\nbad=\\u12G4\n", "\n\nbad=\\u12\n", "\n\n\\uZZZZ=1\n"}) {
    auto p = ParsePropertiesText(text, "broker.conf");
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_TRUE(p.status().IsInvalidArgument());
    EXPECT_NE(p.status().message().find("broker.conf:3"), std::string_view::npos)
        << p.status().ToString();
    EXPECT_NE(p.status().message().find("\\uXXXX"), std::string_view::npos);
  }
}

TEST(PropertiesTest, UnpairedSurrogatesAreErrors) {
  EXPECT_TRUE(ParsePropertiesText("a=\\uD83D\n").status().IsInvalidArgument());
  EXPECT_TRUE(ParsePropertiesText("a=\\uD83Dx\n").status().IsInvalidArgument());
  EXPECT_TRUE(ParsePropertiesText("a=\\uDE00\n").status().IsInvalidArgument());
}

TEST(PropertiesTest, TheLastDuplicateWinsWithAWarning) {
  Properties p = Parse("a=1\nb=2\na=3\n");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p.entries()[0].key, "a");  // keeps its first position
  EXPECT_EQ(ValueOf(p, "a"), "3");
  EXPECT_EQ(p.Find("a")->line, 3);
  ASSERT_EQ(p.warnings().size(), 1u);
  EXPECT_NE(p.warnings()[0].find("<text>:3"), std::string::npos) << p.warnings()[0];
  EXPECT_NE(p.warnings()[0].find("duplicate key \"a\""), std::string::npos);
  EXPECT_NE(p.warnings()[0].find("line 1"), std::string::npos);
}

TEST(PropertiesTest, ALineWithoutAKeyIsIgnoredWithAWarning) {
  Properties p = Parse("=orphan\na=1\n");
  EXPECT_EQ(p.size(), 1u);
  ASSERT_EQ(p.warnings().size(), 1u);
  EXPECT_NE(p.warnings()[0].find("<text>:1"), std::string::npos);
}

TEST(PropertiesTest, WhereNamesSourceAndLine) {
  Properties p = Parse("a=1\n");
  EXPECT_EQ(p.Where(*p.Find("a")), "<text>:1");
  p.Set("b", "2");
  EXPECT_EQ(p.Where(*p.Find("b")), "<text>");
}

TEST(PropertiesTest, ParsesAFile) {
  TempDir dir;
  std::string path = dir.Sub("broker.conf");
  std::ofstream(path) << "brokerClusterName = DefaultCluster\nlistenPort=10911\n";
  auto p = ParsePropertiesFile(path);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->source(), path);
  EXPECT_EQ(ValueOf(*p, "brokerClusterName"), "DefaultCluster");
  EXPECT_EQ(p->Where(*p->Find("listenPort")), path + ":2");
}

TEST(PropertiesTest, AMissingFileIsNotFoundNamingThePath) {
  TempDir dir;
  std::string path = dir.Sub("missing.conf");
  auto p = ParsePropertiesFile(path);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.status().IsNotFound());
  EXPECT_NE(p.status().message().find(path), std::string_view::npos);
}

TEST(PropertiesTest, AnUnreadableFileIsAnIOErrorNamingThePath) {
  TempDir dir;
  // A directory opens but cannot be read, whoever runs the test (root ignores mode bits).
  auto p = ParsePropertiesFile(dir.path());
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.status().IsIOError()) << p.status().ToString();
  EXPECT_NE(p.status().message().find(dir.path()), std::string_view::npos);
}

}  // namespace
}  // namespace mqserver
