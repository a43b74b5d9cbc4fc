#include "json_header.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace mqremoting::internal {
namespace {

std::string JsonString(std::string_view text) {
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

TEST(JsonHeaderTest, StringEscaping) {
  EXPECT_EQ(JsonString(""), "\"\"");
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("TAGS\x01TagA\x02"), "\"TAGS\\u0001TagA\\u0002\"");
  EXPECT_EQ(JsonString("\n\t\r\x1f"), "\"\\u000a\\u0009\\u000d\\u001f\"");
  EXPECT_EQ(JsonString(std::string_view("\0", 1)), "\"\\u0000\"");
  EXPECT_EQ(JsonString("caf\xC3\xA9 /<>\x7f"), "\"caf\xC3\xA9 /<>\x7f\"");  // as they are
}

TEST(JsonHeaderTest, EveryByteValueSurvivesAStrictParser) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  nlohmann::json parsed = nlohmann::json::parse(JsonString(all), nullptr, false);
  ASSERT_TRUE(parsed.is_string());
  EXPECT_EQ(parsed.get<std::string>(), all);
}

TEST(JsonHeaderTest, HeaderIsStrictJsonWithJavasKeyOrder) {
  RemotingCommand command;
  command.code = 17;
  command.language = "CPP";
  command.opaque = 3;
  command.version = 479;
  command.remark = "why";
  command.SetExt("z", "1");
  command.SetExt("A", "2");
  std::string header;
  AppendJsonHeader(command, &header);
  nlohmann::json parsed = nlohmann::json::parse(header, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << header;
  std::vector<std::string> keys;
  for (auto it = parsed.begin(); it != parsed.end(); ++it) keys.push_back(it.key());
  // nlohmann sorts keys too, so check the text order directly.
  size_t last = 0;
  for (std::string_view key :
       {"\"code\"", "\"extFields\"", "\"flag\"", "\"language\"", "\"opaque\"", "\"remark\"",
        "\"serializeTypeCurrentRPC\"", "\"version\""}) {
    size_t at = header.find(key);
    ASSERT_NE(at, std::string::npos) << key;
    EXPECT_GT(at + 1, last) << key;
    last = at + 1;
  }
  EXPECT_EQ(parsed["extFields"], (nlohmann::json{{"A", "2"}, {"z", "1"}}));
  EXPECT_LT(header.find("\"A\""), header.find("\"z\""));  // ext fields sorted by key
  EXPECT_EQ(parsed["serializeTypeCurrentRPC"], "JSON");
}

TEST(JsonHeaderTest, DecodeFillsTheCommand) {
  RemotingCommand command;
  ASSERT_TRUE(
      DecodeJsonHeader(R"({"code":5,"language":"GO","extFields":{"k":"v"}})", &command).ok());
  EXPECT_EQ(command.code, 5);
  EXPECT_EQ(command.language, "GO");
  EXPECT_EQ(*command.FindExt("k"), "v");
  // Deep nesting is rejected or accepted, never a crash.
  std::string deep(100000, '[');
  Status status = DecodeJsonHeader(deep, &command);
  EXPECT_TRUE(status.IsInvalidArgument());
}

TEST(JsonHeaderTest, JsNumberTextMatchesJavaScriptsString) {
  const std::pair<double, std::string_view> cases[] = {
      {0.0, "0"},
      {-0.0, "0"},
      {1.0, "1"},
      {-1.0, "-1"},
      {1.5, "1.5"},
      {0.1, "0.1"},
      {0.000001, "0.000001"},
      {0.0000001, "1e-7"},
      {1.5e-7, "1.5e-7"},
      {123456789012345680000.0, "123456789012345680000"},
      {1e21, "1e+21"},
      {1.25e21, "1.25e+21"},
      {1795312577074.0, "1795312577074"},
      {9007199254740993.0, "9007199254740992"},
      {3.14159, "3.14159"},
      {100.0, "100"},
      {-2.5e-10, "-2.5e-10"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
  };
  for (const auto& [value, text] : cases) EXPECT_EQ(JsNumberText(value), text) << text;
}

}  // namespace
}  // namespace mqremoting::internal
