#include "json_header.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <vector>

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

// The encoder's escaping one byte at a time: quote, backslash and control characters
// escaped, everything else as it is.
std::string ReferenceJsonString(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

TEST(JsonHeaderTest, StringEscapingMatchesAByteLoopAtEveryAlignment) {
  std::mt19937 rng(5);
  const std::string_view specials("\"\\\x01\x1f\x00\x7f\x80\xff \x20", 10);
  for (int round = 0; round < 2000; ++round) {
    std::string text(static_cast<size_t>(rng() % 40), 'a');
    for (char& c : text) {
      c = rng() % 4 == 0 ? specials[rng() % specials.size()] : static_cast<char>(rng() % 256);
    }
    EXPECT_EQ(JsonString(text), ReferenceJsonString(text));
  }
  for (size_t at = 0; at < 20; ++at) {  // one special byte at every position of a word
    for (char special : specials) {
      std::string text(20, 'x');
      text[at] = special;
      EXPECT_EQ(JsonString(text), ReferenceJsonString(text)) << at;
    }
  }
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
  // A second decode into the same command starts from Java's defaults again.
  command.remark = "stale";
  command.opaque = 9;
  ASSERT_TRUE(DecodeJsonHeader(R"({"extFields":{"j":"w"}})", &command).ok());
  EXPECT_EQ(command.code, 0);
  EXPECT_EQ(command.opaque, 0);
  EXPECT_EQ(command.language, "JAVA");
  EXPECT_FALSE(command.remark.has_value());
  EXPECT_EQ(command.ext_fields, (mqremoting::ExtFields{{"j", "w"}}));
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

// ---- The fast decoder against nlohmann (the slow path is the reference). ----

// `text` with every byte outside printable ASCII as \xNN, for failure messages.
std::string Printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// A command with every header field set, to see that decoding replaces all of them.
RemotingCommand Stale() {
  RemotingCommand command;
  command.code = 77;
  command.language = "STALE";
  command.version = 77;
  command.opaque = 77;
  command.flag = 77;
  command.remark = "stale remark";
  command.SetExt("stale", "field");
  command.SetExt("a", "stale a");
  return command;
}

void ExpectSameHeader(const RemotingCommand& actual, const RemotingCommand& expected,
                      std::string_view text) {
  EXPECT_EQ(actual.code, expected.code) << Printable(text);
  EXPECT_EQ(actual.language, expected.language) << Printable(text);
  EXPECT_EQ(actual.version, expected.version) << Printable(text);
  EXPECT_EQ(actual.opaque, expected.opaque) << Printable(text);
  EXPECT_EQ(actual.flag, expected.flag) << Printable(text);
  EXPECT_EQ(actual.remark, expected.remark) << Printable(text);
  EXPECT_EQ(actual.ext_fields, expected.ext_fields) << Printable(text);
}

// Checks that the fast path, when it handles `text`, agrees with nlohmann, and that
// DecodeJsonHeader gives nlohmann's status (code and message) and fields. Returns whether the
// fast path handled the text.
bool CheckAgainstSlow(std::string_view text) {
  RemotingCommand slow_command = Stale();
  Status slow = DecodeJsonHeaderSlow(text, &slow_command);
  RemotingCommand fast_command = Stale();
  bool handled = TryDecodeJsonHeaderFast(text, &fast_command);
  if (handled) {
    EXPECT_TRUE(slow.ok()) << "fast path accepted what nlohmann rejects (" << slow.ToString()
                           << "): " << Printable(text);
    if (slow.ok()) ExpectSameHeader(fast_command, slow_command, text);
  }
  RemotingCommand command = Stale();
  Status status = DecodeJsonHeader(text, &command);
  EXPECT_EQ(status.code(), slow.code()) << Printable(text);
  EXPECT_EQ(status.message(), slow.message()) << Printable(text);
  if (status.ok() && slow.ok()) ExpectSameHeader(command, slow_command, text);
  return handled;
}

// Decodes `text` on the fast path, which must handle it (and agree with nlohmann).
RemotingCommand Fast(std::string_view text) {
  EXPECT_TRUE(CheckAgainstSlow(text)) << "not handled: " << Printable(text);
  RemotingCommand command = Stale();
  EXPECT_TRUE(TryDecodeJsonHeaderFast(text, &command));
  return command;
}

// `text` must go to the slow path; returns what DecodeJsonHeader makes of it.
Status Fallback(std::string_view text, RemotingCommand* command) {
  EXPECT_FALSE(CheckAgainstSlow(text)) << "handled: " << Printable(text);
  return DecodeJsonHeader(text, command);
}

using ExtMap = mqremoting::ExtFields;

// What ali-ons sends with SEND_MESSAGE_V2 (numbers and booleans as JSON scalars, the
// properties separators as \u0001 / \u0002).
constexpr std::string_view kSendRequest =
    R"({"code":310,"language":"JAVA","opaque":42,"flag":0,"version":275,"remark":null,)"
    R"("extFields":{"a":"please_rename_unique_group_name","b":"TopicTest","c":"TBW102",)"
    R"("d":4,"e":1,"f":0,"g":1712345678901,"h":0,)"
    R"("i":"TAGS\u0001TagA\u0002KEYS\u0001key-0\u0002UNIQ_KEY\u0001C0A8010100002A9F\u0002",)"
    R"("j":0,"k":false,"l":16,"m":false},"serializeTypeCurrentRPC":"JSON"})";

TEST(JsonHeaderFastTest, DecodesASendRequest) {
  RemotingCommand command = Fast(kSendRequest);
  EXPECT_EQ(command.code, 310);
  EXPECT_EQ(command.language, "JAVA");
  EXPECT_EQ(command.opaque, 42);
  EXPECT_EQ(command.flag, 0);
  EXPECT_EQ(command.version, 275);
  EXPECT_FALSE(command.remark.has_value());
  EXPECT_EQ(command.ext_fields.size(), 13u);
  EXPECT_EQ(*command.FindExt("g"), "1712345678901");
  EXPECT_EQ(*command.FindExt("k"), "false");
  EXPECT_EQ(*command.FindExt("i"),
            "TAGS\x01TagA\x02KEYS\x01key-0\x02UNIQ_KEY\x01"
            "C0A8010100002A9F\x02");
  EXPECT_EQ(command.FindExt("stale"), nullptr);
}

TEST(JsonHeaderFastTest, DecodesWhatWeEncode) {
  RemotingCommand original;
  original.code = -17;
  original.language = "CPP";
  original.version = 2147483647;
  original.opaque = -2147483647 - 1;
  original.flag = 3;
  original.remark = std::string("r\"e\\m\x01\x1f\x7f caf\xC3\xA9 \xF0\x9F\x98\x80", 20);
  original.SetExt("msgId", "C0A8010100002A9F0000000000000000");
  original.SetExt("", "");
  original.SetExt(std::string("k\0\n", 3), std::string("v\0\t", 3));
  std::string header;
  AppendJsonHeader(original, &header);
  RemotingCommand decoded = Fast(header);
  ExpectSameHeader(decoded, original, header);
}

TEST(JsonHeaderFastTest, Escapes) {
  RemotingCommand command =
      Fast(R"({"remark":"q\"b\\s\/b\bf\fn\nr\rt\t","language":"\\","extFields":{"k\"\n":"\/"}})");
  EXPECT_EQ(command.remark, "q\"b\\s/b\bf\fn\nr\rt\t");
  EXPECT_EQ(command.language, "\\");
  EXPECT_EQ(command.ext_fields, (ExtMap{{"k\"\n", "/"}}));
  // Keys are compared after unescaping: this is "code".
  EXPECT_EQ(Fast(R"({"co\u0064e":7,"\u0065xtFields":{"\u0061":"1"}})").code, 7);
  EXPECT_EQ(Fast(R"({"extField\u0073":{"\u0061\u0062":"1"}})").ext_fields, (ExtMap{{"ab", "1"}}));
  EXPECT_EQ(Fast(R"({"code\u0000":7})").code, 0);  // another key
  // Long values with escapes at every position of an 8-byte word.
  for (size_t at = 0; at < 24; ++at) {
    std::string value(at, 'x');
    std::string text = R"({"remark":")" + value + R"(\n)" + value + R"(\u00e9"})";
    EXPECT_EQ(Fast(text).remark, value + "\n" + value + "\xC3\xA9") << at;
  }
}

TEST(JsonHeaderFastTest, UnicodeEscapesAndSurrogatePairs) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"(\u0041)", "A"},
      {R"(\u0000)", std::string_view("\0", 1)},
      {R"(\u007f)", "\x7f"},
      {R"(\u0080)", "\xC2\x80"},
      {R"(\u00E9)", "\xC3\xA9"},
      {R"(\u07ff)", "\xDF\xBF"},
      {R"(\u0800)", "\xE0\xA0\x80"},
      {R"(\u20aC)", "\xE2\x82\xAC"},
      {R"(\uFFFF)", "\xEF\xBF\xBF"},
      {R"(\uD83D\uDE00)", "\xF0\x9F\x98\x80"},
      {R"(\ud800\udc00)", "\xF0\x90\x80\x80"},
      {R"(\uDBFF\uDFFF)", "\xF4\x8F\xBF\xBF"},
      {"\xF0\x9F\x98\x80 caf\xC3\xA9", "\xF0\x9F\x98\x80 caf\xC3\xA9"},  // raw UTF-8
  };
  for (const auto& [escaped, text] : cases) {
    RemotingCommand command = Fast(R"({"extFields":{"k":")" + std::string(escaped) + R"("}})");
    EXPECT_EQ(*command.FindExt("k"), text) << escaped;
  }
}

TEST(JsonHeaderFastTest, LoneSurrogatesAreErrorsAsInNlohmann) {
  for (std::string_view escaped :
       {R"(\uD800)", R"(\uDBFF")", R"(\uDC00)", R"(\uDFFF\uD800)", R"(\uD800\u0041)", R"(\uD800x)",
        R"(\uD800\n)", R"(\uD800\uD800)", R"(\uD800\uDC0)"}) {
    std::string text = R"({"remark":")" + std::string(escaped) + R"("})";
    RemotingCommand command;
    EXPECT_TRUE(Fallback(text, &command).IsInvalidArgument()) << escaped;
  }
}

TEST(JsonHeaderFastTest, ExtScalarsAndNulls) {
  RemotingCommand command =
      Fast(R"({"extFields":{"zero":0,"negzero":-0,"neg":-5,"big":123456789012345678,)"
           R"("nbig":-123456789012345678,"t":true,"f":false,"gone":null,"s":"x",)"
           R"("dup":"1","dup":2,"later":"x","later":null}})");
  EXPECT_EQ(command.ext_fields, (ExtMap{{"zero", "0"},
                                        {"negzero", "0"},
                                        {"neg", "-5"},
                                        {"big", "123456789012345678"},
                                        {"nbig", "-123456789012345678"},
                                        {"t", "true"},
                                        {"f", "false"},
                                        {"s", "x"},
                                        {"dup", "2"}}));
  // Past 18 digits nlohmann decides (uint64, or a double past it).
  RemotingCommand slow;
  ASSERT_TRUE(
      Fallback(R"({"extFields":{"u":18446744073709551615,"o":18446744073709551616}})", &slow).ok());
  EXPECT_EQ(slow.ext_fields,
            (ExtMap{{"u", "18446744073709551615"}, {"o", "18446744073709552000"}}));
  // Keys out of order land in the right places.
  EXPECT_EQ(Fast(R"({"extFields":{"m":"1","b":"2","z":"3","a":"4","b":"5"}})").ext_fields,
            (ExtMap{{"a", "4"}, {"b", "5"}, {"m", "1"}, {"z", "3"}}));
}

TEST(JsonHeaderFastTest, NullFieldsKeepDefaults) {
  RemotingCommand command =
      Fast(R"({"code":null,"language":null,"version":null,"opaque":null,"flag":null,)"
           R"("remark":null,"extFields":null,"serializeTypeCurrentRPC":null})");
  ExpectSameHeader(
      command,
      [] {
        RemotingCommand defaults;
        defaults.language = "JAVA";
        return defaults;
      }(),
      "nulls");
  EXPECT_EQ(Fast("{}").language, "JAVA");
}

TEST(JsonHeaderFastTest, NestedUnknownValuesAreSkipped) {
  RemotingCommand command =
      Fast(R"({"x":{"a":[1,-2,{"b":[[],{},[[]],{"c":{}}]},"s\"}",true,false,null]},"code":3,)"
           R"("y":[],"z":{},"w":"{\"code\":9}","extFields":{"k":"v"},"v":[{"extFields":1}]})");
  EXPECT_EQ(command.code, 3);
  EXPECT_EQ(command.ext_fields, (ExtMap{{"k", "v"}}));
  // 64 levels are skipped on the fast path; deeper goes to nlohmann, with the same result.
  std::string deep = R"({"x":)" + std::string(64, '[') + std::string(64, ']') + R"(,"code":1})";
  EXPECT_EQ(Fast(deep).code, 1);
  std::string deeper = R"({"x":)" + std::string(65, '[') + std::string(65, ']') + R"(,"code":1})";
  RemotingCommand slow;
  ASSERT_TRUE(Fallback(deeper, &slow).ok());
  EXPECT_EQ(slow.code, 1);
}

TEST(JsonHeaderFastTest, DuplicateKeysLastOneWins) {
  RemotingCommand command =
      Fast(R"({"code":1,"code":2,"language":"GO","language":"CPP","remark":"a","remark":"b",)"
           R"("extFields":{"a":"1","b":"2"},"extFields":{"c":"3"}})");
  EXPECT_EQ(command.code, 2);
  EXPECT_EQ(command.language, "CPP");
  EXPECT_EQ(command.remark, "b");
  EXPECT_EQ(command.ext_fields, (ExtMap{{"c", "3"}}));
  // A later null is the field's absence: the default.
  command =
      Fast(R"({"code":1,"code":null,"language":"GO","language":null,"remark":"a","remark":null,)"
           R"("extFields":{"a":"1"},"extFields":null,"opaque":5,"opaque":null})");
  EXPECT_EQ(command.code, 0);
  EXPECT_EQ(command.language, "JAVA");
  EXPECT_FALSE(command.remark.has_value());
  EXPECT_TRUE(command.ext_fields.empty());
  EXPECT_EQ(command.opaque, 0);
  // An invalid value that a later duplicate replaces is no error in nlohmann.
  RemotingCommand slow;
  ASSERT_TRUE(Fallback(R"({"code":"x","code":4,"extFields":{"a":[1],"a":"v"}})", &slow).ok());
  EXPECT_EQ(slow.code, 4);
  EXPECT_EQ(slow.ext_fields, (ExtMap{{"a", "v"}}));
}

TEST(JsonHeaderFastTest, WhitespaceEverywhere) {
  RemotingCommand command = Fast(
      " \t\r\n{ \t\r\n\"code\" \t\r\n: \t\r\n-12 \t\r\n, \"extFields\" : { \"a\" : \"1\" , "
      "\"b\"\n:\ntrue\n} , \"x\" : [ 1 , { \"y\" : null } , [ ] ] , \"remark\" : \"\" } \t\r\n");
  EXPECT_EQ(command.code, -12);
  EXPECT_EQ(command.remark, "");
  EXPECT_EQ(command.ext_fields, (ExtMap{{"a", "1"}, {"b", "true"}}));
  // nlohmann skips a byte order mark at the start, and only there.
  EXPECT_EQ(Fast("\xEF\xBB\xBF{\"code\":1}").code, 1);
  RemotingCommand unused;
  EXPECT_TRUE(Fallback(" \xEF\xBB\xBF{\"code\":1}", &unused).IsInvalidArgument());
  EXPECT_TRUE(Fallback("{\"code\":1}\v", &unused).IsInvalidArgument());  // not JSON space
}

TEST(JsonHeaderFastTest, FloatsGoToNlohmann) {
  RemotingCommand command;
  EXPECT_TRUE(Fallback(R"({"code":1.0})", &command).IsInvalidArgument());
  EXPECT_TRUE(Fallback(R"({"code":1e2})", &command).IsInvalidArgument());
  ASSERT_TRUE(Fallback(R"({"extFields":{"a":1.5,"b":1e21,"c":-0.0,"d":2E-7}})", &command).ok());
  EXPECT_EQ(command.ext_fields, (ExtMap{{"a", "1.5"}, {"b", "1e+21"}, {"c", "0"}, {"d", "2e-7"}}));
  ASSERT_TRUE(Fallback(R"({"x":[0.5],"code":2})", &command).ok());
  EXPECT_EQ(command.code, 2);
}

TEST(JsonHeaderFastTest, RangesOfTheIntFields) {
  EXPECT_EQ(Fast(R"({"code":2147483647})").code, 2147483647);
  EXPECT_EQ(Fast(R"({"code":-2147483648})").code, -2147483647 - 1);
  EXPECT_EQ(Fast(R"({"code":-0})").code, 0);
  RemotingCommand command;
  for (std::string_view text :
       {R"({"code":2147483648})", R"({"code":-2147483649})", R"({"opaque":99999999999})",
        R"({"flag":123456789012345678901234567890})", R"({"version":true})", R"({"code":"1"})"}) {
    EXPECT_TRUE(Fallback(text, &command).IsInvalidArgument()) << text;
  }
}

TEST(JsonHeaderFastTest, MalformedInputsAreStillRejected) {
  const std::string_view cases[] = {
      "",
      " ",
      "{",
      "}",
      "[]",
      "null",
      "\"x\"",
      "7",
      "{}}",
      "{} x",
      "{}{}",
      R"({"code":1,})",
      R"({,"code":1})",
      R"({"code" 1})",
      R"({"code":1 "flag":2})",
      R"({"code":01})",
      R"({"code":-})",
      R"({"code":+1})",
      R"({"code":1x})",
      R"({code:1})",
      R"({'code':1})",
      R"({"x":tru})",
      R"({"x":nul})",
      R"({"x":falsey})",
      R"({"x":[1,]})",
      R"({"x":[1 2]})",
      R"({"x":{"a"}})",
      R"({"x":{"a":1,}})",
      R"({"x":[}})",
      R"({"x":{]})",
      R"({"x":"\x"})",
      R"({"x":"\u12"})",
      R"({"x":"\u12g4"})",
      R"({"x":"\)",
      R"({"x":"abc)",
      "{\"x\":\"a\x01\"}",
      "{\"x\":\"a\nb\"}",
      std::string_view("{\"x\":\"a\0b\"}", 11),
      std::string_view("{\"code\":1\0}", 11),
      R"({"language":5})",
      R"({"remark":true})",
      R"({"remark":["a"]})",
      R"({"extFields":[]})",
      R"({"extFields":"a=b"})",
      R"({"extFields":{"a":[1]}})",
      R"({"extFields":{"a":{}}})",
      R"({"extFields":{"a":1.})",
      R"({"extFields":{"a":"1"})",
      R"({"code":1 /* comment */})",
  };
  for (std::string_view text : cases) {
    RemotingCommand command;
    EXPECT_TRUE(Fallback(text, &command).IsInvalidArgument()) << Printable(text);
  }
}

TEST(JsonHeaderFastTest, NlohmannEndsTheInputAtANulByte) {
  // nlohmann reads a NUL byte as the end of the input, so whatever follows the object is
  // ignored. No peer sends that; the fast path leaves it to nlohmann.
  RemotingCommand command;
  ASSERT_TRUE(Fallback(std::string_view("{\"code\":1}\0junk", 15), &command).ok());
  EXPECT_EQ(command.code, 1);
  EXPECT_TRUE(Fallback(std::string_view("\0{\"code\":1}", 11), &command).IsInvalidArgument());
}

TEST(JsonHeaderFastTest, InvalidUtf8IsSanitizedByTheSlowPath) {
  RemotingCommand command;
  ASSERT_TRUE(Fallback("{\"remark\":\"a\xFF"
                       "b\",\"code\":3}",
                       &command)
                  .ok());
  EXPECT_EQ(command.remark,
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(command.code, 3);
  ASSERT_TRUE(Fallback("{\"extFields\":{\"k\xC3\":\"\xED\xA0\x80\"}}", &command).ok());
  EXPECT_EQ(command.ext_fields,
            (ExtMap{{"k\xEF\xBF\xBD", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}}));
  // Non-ASCII outside strings is no JSON, sanitized or not.
  EXPECT_TRUE(Fallback("{\"code\":1\xC3\xA9}", &command).IsInvalidArgument());
  EXPECT_TRUE(Fallback("{\"code\":1\xFF}", &command).IsInvalidArgument());
}

// A generator of header-shaped JSON, mostly valid, with every construct the fast path
// handles and many it leaves to nlohmann.
class HeaderGenerator {
 public:
  explicit HeaderGenerator(uint32_t seed) : rng_(seed) {}

  std::string Header() {
    std::string out;
    Space(&out);
    out += '{';
    int members = Below(9);
    for (int i = 0; i < members; ++i) {
      if (i > 0) out += ',';
      Space(&out);
      std::string key = TopKey(&out);
      Space(&out);
      out += ':';
      Space(&out);
      TopValue(key, &out);
      Space(&out);
    }
    out += '}';
    Space(&out);
    return out;
  }

  // `text` changed in one to three places: a byte replaced, inserted or removed, a cut, or a
  // piece repeated.
  std::string Mutate(std::string text) {
    static constexpr char kByteList[] =
        "{}[]\":,\\/ \t\n0123456789-+.eEtrufalsnbx\x01\x7f\x80\xC3\xA9\xED\xF0\xFF";
    static constexpr std::string_view kBytes(kByteList, sizeof(kByteList));  // with the NUL
    int edits = OneIn(2) ? 1 : 1 + Below(3);
    for (int i = 0; i < edits; ++i) {
      size_t at = text.empty() ? 0 : static_cast<size_t>(Below(static_cast<int>(text.size())));
      char byte = kBytes[static_cast<size_t>(Below(static_cast<int>(kBytes.size())))];
      if (OneIn(3)) byte = "abcxyz0179"[Below(10)];  // often keeps a string or number valid
      switch (Below(8)) {
        case 0:
        case 1:
          if (!text.empty()) text[at] = byte;
          break;
        case 2:
        case 3:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), byte);
          break;
        case 4:
        case 5:
          if (!text.empty()) text.erase(at, 1);
          break;
        case 6:
          if (OneIn(4)) text.resize(at);
          break;
        default: {
          size_t length = static_cast<size_t>(Below(12));
          text.insert(at, text.substr(at, length));
          break;
        }
      }
    }
    return text;
  }

  int Below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

 private:
  bool OneIn(int n) { return Below(n) == 0; }

  void Space(std::string* out) {
    static constexpr std::string_view kSpaces[] = {"", "", "", "", " ", "\n", "\t", " \r\n\t "};
    *out += kSpaces[Below(8)];
  }

  std::string TopKey(std::string* out) {
    static constexpr std::string_view kKeys[] = {
        "code",      "opaque",    "flag",
        "version",   "language",  "remark",
        "extFields", "extFields", "serializeTypeCurrentRPC",
        "x",         "",          "codes"};
    static constexpr std::string_view kEscapedKeys[] = {R"(co\u0064e)", R"(extField\u0073)",
                                                        R"(\u006canguage)", R"(remark\u0000)"};
    if (OneIn(10)) {
      std::string_view key = kEscapedKeys[Below(4)];
      *out += '"';
      *out += key;
      *out += '"';
      return key == R"(co\u0064e)"        ? "code"
             : key == R"(extField\u0073)" ? "extFields"
             : key == R"(\u006canguage)"  ? "language"
                                          : "other";
    }
    std::string key(kKeys[Below(12)]);
    *out += '"';
    *out += key;
    *out += '"';
    return key;
  }

  void TopValue(const std::string& key, std::string* out) {
    bool typed = !OneIn(8);  // mostly the right type, to reach the fast path
    if (OneIn(12)) {
      *out += "null";
    } else if (typed && (key == "code" || key == "opaque" || key == "flag" || key == "version")) {
      Integer(out);
    } else if (typed && (key == "language" || key == "remark")) {
      String(out);
    } else if (typed && key == "extFields") {
      ExtObject(out);
    } else {
      Value(0, out);
    }
  }

  void Integer(std::string* out) {
    static constexpr std::string_view kIntegers[] = {"0",
                                                     "-0",
                                                     "1",
                                                     "-1",
                                                     "310",
                                                     "2147483647",
                                                     "-2147483648",
                                                     "2147483648",
                                                     "-2147483649",
                                                     "123456789012345678",
                                                     "-123456789012345678",
                                                     "1234567890123456789",
                                                     "18446744073709551616",
                                                     "01",
                                                     "-"};
    if (OneIn(3)) {
      *out += std::to_string(std::uniform_int_distribution<int64_t>(-5000000000, 5000000000)(rng_));
    } else {
      *out += kIntegers[Below(OneIn(10) ? 15 : 13)];
    }
  }

  void String(std::string* out) {
    static constexpr std::string_view kPieces[] = {
        R"(\")",
        R"(\\)",
        R"(\/)",
        R"(\b)",
        R"(\f)",
        R"(\n)",
        R"(\r)",
        R"(\t)",
        R"(\u0001)",
        R"(\u0002)",
        R"(\u00e9)",
        R"(\u20AC)",
        R"(\u0000)",
        R"(\uFFFF)",
        R"(\uD83D\uDE00)",
        "\xC3\xA9",
        "\xE2\x82\xAC",
        "\xF0\x9F\x98\x80",
        "\x7f",
        "/",
    };
    static constexpr std::string_view kRare[] = {
        R"(\uD800)", R"(\uDC00)",    R"(\uD800\u0041)",  R"(\x)", R"(\u12)", "\x01", "\xFF",
        "\xC3",      "\xED\xA0\x80", "\xF4\x90\x80\x80",
    };
    *out += '"';
    int pieces = Below(6);
    for (int i = 0; i < pieces; ++i) {
      if (OneIn(2)) {
        int length = Below(OneIn(4) ? 70 : 10);
        for (int j = 0; j < length; ++j) out->push_back(static_cast<char>('a' + Below(26)));
      } else if (OneIn(25)) {
        *out += kRare[Below(10)];
      } else {
        *out += kPieces[Below(20)];
      }
    }
    *out += '"';
  }

  void ExtObject(std::string* out) {
    *out += '{';
    int members = Below(8);
    for (int i = 0; i < members; ++i) {
      if (i > 0) out->push_back(',');
      Space(out);
      if (OneIn(3)) {
        *out += '"';
        out->push_back(static_cast<char>('a' + Below(6)));  // duplicates are likely
        *out += '"';
      } else {
        String(out);
      }
      Space(out);
      *out += ':';
      Space(out);
      switch (Below(12)) {
        case 0:
          *out += "null";
          break;
        case 1:
          *out += OneIn(2) ? "true" : "false";
          break;
        case 2:
        case 3:
          Integer(out);
          break;
        case 4:
          if (OneIn(4)) {
            Value(1, out);  // a float, array or object: the slow path decides
            break;
          }
          [[fallthrough]];
        default:
          String(out);
          break;
      }
      Space(out);
    }
    *out += '}';
  }

  void Value(int depth, std::string* out) {
    int kind = Below(depth > 3 ? 6 : 8);
    switch (kind) {
      case 0:
        Integer(out);
        break;
      case 1: {
        static constexpr std::string_view kFloats[] = {"1.5",  "-0.0", "1e3",
                                                       "2E-2", "0.1",  "1e400"};
        *out += kFloats[Below(6)];
        break;
      }
      case 2:
      case 3:
        String(out);
        break;
      case 4:
        *out += OneIn(2) ? "true" : "false";
        break;
      case 5:
        *out += "null";
        break;
      case 6: {
        *out += '[';
        int items = Below(4);
        for (int i = 0; i < items; ++i) {
          if (i > 0) *out += ',';
          Space(out);
          Value(depth + 1, out);
          Space(out);
        }
        *out += ']';
        break;
      }
      default: {
        *out += '{';
        int members = Below(4);
        for (int i = 0; i < members; ++i) {
          if (i > 0) *out += ',';
          Space(out);
          String(out);
          Space(out);
          *out += ':';
          Space(out);
          Value(depth + 1, out);
        }
        *out += '}';
        break;
      }
    }
  }

  std::mt19937 rng_;
};

TEST(JsonHeaderFastTest, RandomHeadersDecodeAsNlohmannDecodesThem) {
  HeaderGenerator generator(20240611);
  int handled = 0;
  int accepted = 0;
  constexpr int kHeaders = 4000;
  for (int i = 0; i < kHeaders; ++i) {
    std::string text = generator.Header();
    if (CheckAgainstSlow(text)) ++handled;
    RemotingCommand command;
    if (DecodeJsonHeader(text, &command).ok()) ++accepted;
    if (::testing::Test::HasFailure()) break;
  }
  // The generator must reach both paths, or the comparison proves little.
  EXPECT_GT(handled, kHeaders / 3);
  EXPECT_GT(accepted - handled, kHeaders / 20);
  EXPECT_LT(accepted, kHeaders);
}

TEST(JsonHeaderFastTest, MutatedRealHeadersDecodeAsNlohmannDecodesThem) {
  std::vector<std::string> seeds = {std::string(kSendRequest)};
  {
    RemotingCommand response = RemotingCommand::Request(0);
    response.flag = flag::kResponse;
    response.opaque = 42;
    response.SetExt("msgId", "C0A8010100002A9F0000000000000000");
    response.SetExt("queueId", 1);
    response.SetExt("queueOffset", int64_t{123456});
    response.SetExt("transactionId", "7F0000011A2B3C4D5E6F");
    response.remark = "caf\xC3\xA9 \x01";
    std::string header;
    AppendJsonHeader(response, &header);
    seeds.push_back(header);
  }
  HeaderGenerator generator(7);
  while (seeds.size() < 40) {  // headers nlohmann accepts, so that many mutants parse too
    std::string header = generator.Header();
    RemotingCommand command;
    if (DecodeJsonHeaderSlow(header, &command).ok()) seeds.push_back(header);
  }
  int handled = 0;
  int rejected = 0;
  constexpr int kMutations = 6000;
  for (int i = 0; i < kMutations; ++i) {
    const std::string& seed = seeds[static_cast<size_t>(i) % seeds.size()];
    std::string text = generator.Mutate(seed);
    if (CheckAgainstSlow(text)) ++handled;
    RemotingCommand command;
    if (!DecodeJsonHeader(text, &command).ok()) ++rejected;
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(handled, kMutations / 6);
  EXPECT_GT(rejected, kMutations / 4);
  EXPECT_LT(rejected + handled, kMutations - kMutations / 20);  // some reach only nlohmann
}
}  // namespace
}  // namespace mqremoting::internal
