#include "remoting/command.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mqstore/coding.h"
#include "remoting/codes.h"

namespace mqremoting {
namespace {

// The golden request frame of docs/format/remoting.md ("Example").
constexpr std::string_view kGoldenRequestHex =
    "00000086000000827b22636f6465223a3130352c226578744669656c6473223a7b22746f706963223a2254"
    "6f70696354657374227d2c22666c6167223a302c226c616e6775616765223a22435050222c226f7061717565"
    "223a312c2273657269616c697a655479706543757272656e74525043223a224a534f4e222c2276657273696f"
    "6e223a3437397d";

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// A frame with a JSON header as a peer would send it.
std::string JsonFrame(std::string_view header, std::string_view body = {}) {
  std::string frame;
  mqstore::PutBig32(&frame, static_cast<uint32_t>(4 + header.size() + body.size()));
  mqstore::PutBig32(&frame, static_cast<uint32_t>(header.size()));
  frame += header;
  frame += body;
  return frame;
}

// The bytes after the length prefix.
std::string_view AfterPrefix(const std::string& frame) { return std::string_view(frame).substr(4); }

Result<RemotingCommand> DecodeJson(std::string_view header, std::string_view body = {}) {
  static std::string frame;
  frame = JsonFrame(header, body);
  return DecodeFrame(AfterPrefix(frame));
}

// RocketMQ's binary header layout (serialize type 1), written by hand.
struct BinaryHeader {
  int16_t code = 0;
  uint8_t language = 0;
  int16_t version = 0;
  int32_t opaque = 0;
  int32_t flag = 0;
  std::string remark;
  std::vector<std::pair<std::string, std::string>> ext;

  std::string Encode() const {
    std::string out;
    mqstore::PutBig16(&out, static_cast<uint16_t>(code));
    out.push_back(static_cast<char>(language));
    mqstore::PutBig16(&out, static_cast<uint16_t>(version));
    mqstore::PutBig32(&out, static_cast<uint32_t>(opaque));
    mqstore::PutBig32(&out, static_cast<uint32_t>(flag));
    mqstore::PutBig32(&out, static_cast<uint32_t>(remark.size()));
    out += remark;
    std::string fields;
    for (const auto& [key, value] : ext) {
      mqstore::PutBig16(&fields, static_cast<uint16_t>(key.size()));
      fields += key;
      mqstore::PutBig32(&fields, static_cast<uint32_t>(value.size()));
      fields += value;
    }
    mqstore::PutBig32(&out, static_cast<uint32_t>(fields.size()));
    out += fields;
    return out;
  }
};

// The bytes after the length prefix of a frame with a binary header.
std::string BinaryFrameBody(std::string_view header, std::string_view body = {}) {
  std::string out;
  mqstore::PutBig32(&out, (1u << 24) | static_cast<uint32_t>(header.size()));
  out += header;
  out += body;
  return out;
}

void ExpectSameCommand(const RemotingCommand& a, const RemotingCommand& b) {
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.language, b.language);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.opaque, b.opaque);
  EXPECT_EQ(a.flag, b.flag);
  EXPECT_EQ(a.remark, b.remark);
  EXPECT_EQ(a.ext_fields, b.ext_fields);
  EXPECT_EQ(a.BodyBytes(), b.BodyBytes());
}

TEST(RemotingCommandTest, GoldenRequestFrameIsByteForByte) {
  RemotingCommand request = RemotingCommand::Request(request_code::kGetRouteInfoByTopic);
  request.opaque = 1;
  request.SetExt("topic", "TopicTest");
  std::string frame = EncodeFrame(request);
  EXPECT_EQ(Hex(frame), kGoldenRequestHex);

  Result<RemotingCommand> decoded = DecodeFrame(AfterPrefix(Unhex(kGoldenRequestHex)));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSameCommand(*decoded, request);
}

TEST(RemotingCommandTest, GoldenRequestFrameIsTheOneInTheFormatDoc) {
  std::ifstream doc(std::string(MQ_SOURCE_DIR) + "/docs/format/remoting.md");
  ASSERT_TRUE(doc.good());
  std::stringstream text;
  text << doc.rdbuf();
  // The doc shows the frame as rows of 16 space-separated bytes.
  std::string doc_hex;
  std::istringstream lines(text.str());
  std::string line;
  bool in_block = false;
  while (std::getline(lines, line)) {
    if (line.find("golden-frame:begin") != std::string::npos) {
      in_block = true;
      continue;
    }
    if (line.find("golden-frame:end") != std::string::npos) break;
    if (!in_block) continue;
    for (char c : line) {
      if (std::isxdigit(static_cast<unsigned char>(c))) doc_hex.push_back(c);
    }
  }
  EXPECT_EQ(doc_hex, kGoldenRequestHex);
}

// The fuzzer's seeds (fuzz/corpus/remoting_frame) are whole frames that decode, so that
// fuzzing starts from valid JSON and binary headers.
TEST(RemotingCommandTest, FuzzSeedFramesDecode) {
  std::filesystem::path dir = std::filesystem::path(MQ_SOURCE_DIR) / "fuzz/corpus/remoting_frame";
  int seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream file(entry.path(), std::ios::binary);
    std::string frame((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    ASSERT_GE(frame.size(), 8u) << entry.path();
    Result<uint32_t> length = DecodeFrameLength(frame.data(), CodecLimits());
    ASSERT_TRUE(length.ok()) << entry.path();
    EXPECT_EQ(*length, frame.size() - 4) << entry.path();
    Result<RemotingCommand> decoded = DecodeFrame(AfterPrefix(frame));
    EXPECT_TRUE(decoded.ok()) << entry.path() << ": " << decoded.status().ToString();
    ++seeds;
  }
  EXPECT_GE(seeds, 5);
}

TEST(RemotingCommandTest, RequestAndResponseDefaults) {
  RemotingCommand request = RemotingCommand::Request(request_code::kSendMessageV2);
  EXPECT_EQ(request.code, request_code::kSendMessageV2);
  EXPECT_EQ(request.language, "CPP");
  EXPECT_EQ(request.version, version::kCurrent);
  EXPECT_FALSE(request.is_response());
  request.opaque = 77;

  RemotingCommand response =
      RemotingCommand::ResponseTo(request, response_code::kTopicNotExist, "no such topic");
  EXPECT_EQ(response.opaque, 77);
  EXPECT_TRUE(response.is_response());
  EXPECT_FALSE(response.is_oneway());
  EXPECT_EQ(response.code, response_code::kTopicNotExist);
  EXPECT_EQ(response.remark, "no such topic");
  EXPECT_FALSE(RemotingCommand::ResponseTo(request, 0).remark.has_value());
}

TEST(RemotingCommandTest, SetExtOverloadsWriteText) {
  RemotingCommand command;
  command.SetExt("s", std::string("text"));
  command.SetExt("c", "literal");
  command.SetExt("n", int64_t{-42});
  command.SetExt("i32", int32_t{7});
  command.SetExt("int", 5);
  command.SetExt("u64", uint64_t{18446744073709551615u});
  command.SetExt("b", true);
  command.SetExt("f", false);
  EXPECT_EQ(*command.FindExt("s"), "text");
  EXPECT_EQ(*command.FindExt("c"), "literal");
  EXPECT_EQ(*command.FindExt("n"), "-42");
  EXPECT_EQ(*command.FindExt("i32"), "7");
  EXPECT_EQ(*command.FindExt("int"), "5");
  EXPECT_EQ(*command.FindExt("u64"), "18446744073709551615");
  EXPECT_EQ(*command.FindExt("b"), "true");
  EXPECT_EQ(*command.FindExt("f"), "false");
  EXPECT_EQ(command.FindExt("missing"), nullptr);
}

TEST(RemotingCommandTest, JsonRoundTripKeepsEveryField) {
  RemotingCommand command = RemotingCommand::Request(request_code::kSendMessageV2);
  command.opaque = -5;
  command.flag = flag::kOneway;
  command.version = 121;
  command.language = "NODE_JS";
  command.remark = "a \"quoted\" \\ remark\n";
  command.SetExt("i", std::string("TAGS\x01TagA\x02KEYS\x01key-0\x02"));
  command.SetExt("a", "group");
  command.body = std::string("body\0bytes", 10);

  std::string frame = EncodeFrame(command);
  EXPECT_EQ(mqstore::DecodeBig32(frame.data()), frame.size() - 4);
  Result<RemotingCommand> decoded = DecodeFrame(AfterPrefix(frame));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSameCommand(*decoded, command);
}

TEST(RemotingCommandTest, BodySlicesFollowTheBody) {
  RemotingCommand command = RemotingCommand::Request(request_code::kPullMessage);
  command.body = "head-";
  auto owner = std::make_shared<std::string>("slice-one|slice-two");
  command.body_slices.push_back({std::string_view(*owner).substr(0, 9), owner});
  command.body_slices.push_back({std::string_view(*owner).substr(10), owner});
  EXPECT_EQ(command.body_size(), 5u + 9 + 9);
  EXPECT_EQ(command.BodyBytes(), "head-slice-oneslice-two");

  std::string prefix = EncodeFramePrefix(command);
  std::string frame = EncodeFrame(command);
  EXPECT_EQ(frame, prefix + "head-slice-oneslice-two");
  EXPECT_EQ(mqstore::DecodeBig32(frame.data()), frame.size() - 4);
  Result<RemotingCommand> decoded = DecodeFrame(AfterPrefix(frame));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->body, "head-slice-oneslice-two");
  EXPECT_TRUE(decoded->body_slices.empty());
}

TEST(RemotingCommandTest, HeaderLengthWordCarriesTheJsonTypeAndLength) {
  RemotingCommand command = RemotingCommand::Request(34);
  std::string prefix = EncodeFramePrefix(command);
  std::string header = EncodeHeaderJson(command);
  ASSERT_EQ(prefix.size(), 8 + header.size());
  EXPECT_EQ(mqstore::DecodeBig32(prefix.data() + 4), header.size());  // type byte 0
  EXPECT_EQ(prefix.substr(8), header);
}

TEST(RemotingCommandTest, EncodedHeaderKeysAndEscaping) {
  RemotingCommand command;
  command.code = 0;
  command.opaque = 17;
  command.flag = flag::kResponse;
  command.version = 479;
  command.language = "JAVA";
  command.SetExt("p", std::string("a\x01"
                                  "b\x02\"q\"\\"));
  EXPECT_EQ(EncodeHeaderJson(command),
            "{\"code\":0,\"extFields\":{\"p\":\"a\\u0001b\\u0002\\\"q\\\"\\\\\"},\"flag\":1,"
            "\"language\":\"JAVA\",\"opaque\":17,\"serializeTypeCurrentRPC\":\"JSON\","
            "\"version\":479}");
  command.ext_fields.clear();
  command.remark = "r";
  EXPECT_EQ(EncodeHeaderJson(command),
            "{\"code\":0,\"extFields\":{},\"flag\":1,\"language\":\"JAVA\",\"opaque\":17,"
            "\"remark\":\"r\",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":479}");
}

TEST(RemotingCommandTest, DecodesAliOnsStyleJson) {
  // What ali-ons sends: JAVA, version 121, numbers and booleans unquoted, no remark.
  Result<RemotingCommand> decoded =
      DecodeJson(R"({"code":310,"language":"JAVA","opaque":3,"flag":0,"version":121,)"
                 R"("extFields":{"a":"PID","b":"T","e":2,"g":1795312577074,"k":false,"z":true,)"
                 R"("f":-1,"r":1.5,"n":null,"x":1e21,"y":0.0000001}})",
                 "payload");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->code, 310);
  EXPECT_EQ(decoded->language, "JAVA");
  EXPECT_EQ(decoded->version, 121);
  EXPECT_EQ(decoded->opaque, 3);
  EXPECT_FALSE(decoded->remark.has_value());
  EXPECT_EQ(decoded->body, "payload");
  mqremoting::ExtFields expected = {
      {"a", "PID"},  {"b", "T"},  {"e", "2"},   {"g", "1795312577074"}, {"k", "false"},
      {"z", "true"}, {"f", "-1"}, {"r", "1.5"}, {"x", "1e+21"},         {"y", "1e-7"}};
  EXPECT_EQ(decoded->ext_fields, expected);  // null "n" is absent
}

TEST(RemotingCommandTest, DecodesJavaStyleJsonWithUnknownKeys) {
  Result<RemotingCommand> decoded = DecodeJson(
      R"({"code":0,"extFields":{"msgId":"7F00","queueId":"2"},"flag":1,"language":"JAVA",)"
      R"("opaque":17,"remark":"ok","serializeTypeCurrentRPC":"JSON","version":479,)"
      R"("somethingNew":{"nested":[1,2]}})");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->is_response());
  EXPECT_EQ(decoded->remark, "ok");
  EXPECT_EQ(*decoded->FindExt("msgId"), "7F00");
  EXPECT_EQ(decoded->body, "");
}

TEST(RemotingCommandTest, MissingFieldsTakeJavaDefaults) {
  Result<RemotingCommand> decoded = DecodeJson("{}");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->code, 0);
  EXPECT_EQ(decoded->opaque, 0);
  EXPECT_EQ(decoded->flag, 0);
  EXPECT_EQ(decoded->version, 0);
  EXPECT_EQ(decoded->language, "JAVA");
  EXPECT_FALSE(decoded->remark.has_value());
  EXPECT_TRUE(decoded->ext_fields.empty());

  decoded = DecodeJson(R"({"code":1,"remark":null,"extFields":null,"language":"PERL"})");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->language, "PERL");
  EXPECT_FALSE(decoded->remark.has_value());
}

TEST(RemotingCommandTest, MalformedUtf8BecomesReplacementCharacters) {
  Result<RemotingCommand> decoded = DecodeJson(
      "{\"remark\":\"a\xFF"
      "b\"}");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->remark,
            "a\xEF\xBF\xBD"
            "b");
}

TEST(RemotingCommandTest, RejectsMalformedJsonHeaders) {
  struct Case {
    std::string header;
    std::string message_part;
  };
  const Case cases[] = {
      {"", "does not parse"},
      {"{\"code\":", "does not parse"},
      {"not json", "does not parse"},
      {"[1,2]", "not an object"},
      {"\"text\"", "not an object"},
      {R"({"code":"10"})", "'code'"},
      {R"({"code":1.5})", "'code'"},
      {R"({"code":2147483648})", "'code'"},
      {R"({"opaque":-2147483649})", "'opaque'"},
      {R"({"flag":true})", "'flag'"},
      {R"({"version":[1]})", "'version'"},
      {R"({"language":0})", "'language'"},
      {R"({"remark":5})", "'remark'"},
      {R"({"extFields":[1]})", "'extFields'"},
      {R"({"extFields":"a=b"})", "'extFields'"},
      {R"({"extFields":{"a":[1]}})", "'a'"},
      {R"({"extFields":{"a":{"b":1}}})", "'a'"},
  };
  for (const Case& c : cases) {
    Result<RemotingCommand> decoded = DecodeJson(c.header);
    ASSERT_FALSE(decoded.ok()) << c.header;
    EXPECT_TRUE(decoded.status().IsInvalidArgument()) << c.header;
    EXPECT_NE(decoded.status().message().find(c.message_part), std::string_view::npos)
        << c.header << " -> " << decoded.status().ToString();
  }
}

TEST(RemotingCommandTest, AcceptsInt32Extremes) {
  Result<RemotingCommand> decoded =
      DecodeJson(R"({"code":-2147483648,"opaque":2147483647,"flag":3,"version":-1})");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->code, INT32_MIN);
  EXPECT_EQ(decoded->opaque, INT32_MAX);
  EXPECT_TRUE(decoded->is_oneway());
}

TEST(RemotingCommandTest, DecodesBinaryHeaders) {
  BinaryHeader header;
  header.code = 310;
  header.language = 0;  // JAVA
  header.version = 479;
  header.opaque = 99;
  header.flag = flag::kOneway;
  header.remark = "hello";
  header.ext = {{"b", "TopicTest"}, {"a", "PID"}, {"empty", ""}};
  Result<RemotingCommand> decoded = DecodeFrame(BinaryFrameBody(header.Encode(), "BODY"));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->code, 310);
  EXPECT_EQ(decoded->language, "JAVA");
  EXPECT_EQ(decoded->version, 479);
  EXPECT_EQ(decoded->opaque, 99);
  EXPECT_EQ(decoded->flag, flag::kOneway);
  EXPECT_EQ(decoded->remark, "hello");
  EXPECT_EQ(decoded->ext_fields.size(), 3u);
  EXPECT_EQ(*decoded->FindExt("b"), "TopicTest");
  EXPECT_EQ(*decoded->FindExt("empty"), "");
  EXPECT_EQ(decoded->body, "BODY");

  // Re-encoded, it keeps its binary header; set to JSON, it is JSON. Either decodes to the
  // same command.
  EXPECT_EQ(decoded->serialize_type, SerializeType::kRocketMq);
  for (SerializeType type : {SerializeType::kRocketMq, SerializeType::kJson}) {
    decoded->serialize_type = type;
    std::string frame = EncodeFrame(*decoded);
    EXPECT_EQ(static_cast<uint8_t>(frame[4]), static_cast<uint8_t>(type));
    Result<RemotingCommand> again = DecodeFrame(AfterPrefix(frame));
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->serialize_type, type);
    ExpectSameCommand(*again, *decoded);
  }
}

TEST(RemotingCommandTest, GoldenBinaryRequestFrameIsRocketMqSerializablesLayout) {
  RemotingCommand request = RemotingCommand::Request(request_code::kSendMessageV2);
  request.serialize_type = SerializeType::kRocketMq;
  request.opaque = 7;
  request.version = 479;
  request.remark = "r";
  request.SetExt("b", "TopicTest");
  request.SetExt("a", "PID");
  request.SetExt("i", std::string("KEYS\x01k\x02", 8));  // separators go as they are
  request.body = "BODY";
  BinaryHeader expected;  // the test's own encoder of the layout, fields in key order
  expected.code = 310;
  expected.language = 1;  // CPP
  expected.version = 479;
  expected.opaque = 7;
  expected.remark = "r";
  expected.ext = {{"a", "PID"}, {"b", "TopicTest"}, {"i", std::string("KEYS\x01k\x02", 8)}};
  std::string frame = EncodeFrame(request);
  std::string expected_after_prefix = BinaryFrameBody(expected.Encode(), "BODY");
  EXPECT_EQ(AfterPrefix(frame), expected_after_prefix);
  EXPECT_EQ(mqstore::DecodeBig32(frame.data()), expected_after_prefix.size());
  EXPECT_EQ(EncodeFramePrefix(request).size(), frame.size() - 4);
}

TEST(RemotingCommandTest, AHeaderTheBinaryLayoutCannotHoldGoesAsJson) {
  RemotingCommand wide_code = RemotingCommand::Request(40000);  // past a Java short
  wide_code.serialize_type = SerializeType::kRocketMq;
  RemotingCommand wide_version = RemotingCommand::Request(310);
  wide_version.serialize_type = SerializeType::kRocketMq;
  wide_version.version = -40000;
  RemotingCommand long_key = RemotingCommand::Request(310);
  long_key.serialize_type = SerializeType::kRocketMq;
  long_key.SetExt(std::string(70000, 'k'), "v");
  RemotingCommand empty_remark = RemotingCommand::Request(310);  // 0 would read as none
  empty_remark.serialize_type = SerializeType::kRocketMq;
  empty_remark.remark = "";
  for (const RemotingCommand* command : {&wide_code, &wide_version, &long_key, &empty_remark}) {
    std::string frame = EncodeFrame(*command);
    EXPECT_EQ(static_cast<uint8_t>(frame[4]), 0) << "code " << command->code;
    Result<RemotingCommand> decoded = DecodeFrame(AfterPrefix(frame));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ExpectSameCommand(*decoded, *command);
  }
}

TEST(RemotingCommandTest, AResponseTakesItsRequestsHeaderType) {
  BinaryHeader header;
  header.code = 310;
  header.opaque = 5;
  Result<RemotingCommand> binary_request = DecodeFrame(BinaryFrameBody(header.Encode()));
  ASSERT_TRUE(binary_request.ok()) << binary_request.status().ToString();
  RemotingCommand json_request = RemotingCommand::Request(310);
  json_request.opaque = 6;

  for (const RemotingCommand* request : {&*binary_request, &json_request}) {
    RemotingCommand response = RemotingCommand::ResponseTo(*request, response_code::kSuccess);
    response.SetExt("queueOffset", int64_t{42});
    const std::string frame = EncodeFrame(response);
    const uint8_t type_byte = request == &json_request ? 0 : 1;
    EXPECT_EQ(static_cast<uint8_t>(frame[4]), type_byte);
    Result<RemotingCommand> decoded = DecodeFrame(std::string_view(frame).substr(4));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->serialize_type, request->serialize_type);
    EXPECT_TRUE(decoded->is_response());
    EXPECT_EQ(decoded->opaque, request->opaque);
    EXPECT_EQ(*decoded->FindExt("queueOffset"), "42");
    EXPECT_FALSE(decoded->remark.has_value());
  }
  // An error response carries its remark in either type.
  RemotingCommand error =
      RemotingCommand::ResponseTo(*binary_request, response_code::kSystemBusy, "busy");
  Result<RemotingCommand> decoded = DecodeFrame(std::string_view(EncodeFrame(error)).substr(4));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->serialize_type, SerializeType::kRocketMq);
  EXPECT_EQ(decoded->remark, "busy");
}

TEST(RemotingCommandTest, BinaryHeaderEmptyRemarkIsAbsentAndShortsAreSigned) {
  BinaryHeader header;
  header.code = -1;
  header.language = 200;  // unknown
  header.version = -2;
  Result<RemotingCommand> decoded = DecodeFrame(BinaryFrameBody(header.Encode()));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->code, -1);
  EXPECT_EQ(decoded->version, -2);
  EXPECT_EQ(decoded->language, "OTHER");
  EXPECT_FALSE(decoded->remark.has_value());
  EXPECT_TRUE(decoded->ext_fields.empty());
}

TEST(RemotingCommandTest, RejectsEveryTruncationOfABinaryHeader) {
  BinaryHeader header;
  header.code = 11;
  header.remark = "rem";
  header.ext = {{"key", "value"}, {"k2", "v2"}};
  std::string full = header.Encode();
  ASSERT_TRUE(DecodeFrame(BinaryFrameBody(full)).ok());
  for (size_t cut = 0; cut < full.size(); ++cut) {
    std::string truncated = full.substr(0, cut);
    // Keep the ext length consistent with what is left only where it still fits: every
    // cut either ends a fixed field early or leaves a length that runs past the header.
    Result<RemotingCommand> decoded = DecodeFrame(BinaryFrameBody(truncated));
    ASSERT_FALSE(decoded.ok()) << "cut at " << cut;
    EXPECT_TRUE(decoded.status().IsInvalidArgument());
    EXPECT_NE(decoded.status().message().find("binary header"), std::string_view::npos)
        << decoded.status().ToString();
  }
}

TEST(RemotingCommandTest, RejectsBinaryExtEntriesThatEndEarly) {
  BinaryHeader header;
  std::string base = header.Encode();
  base.resize(base.size() - 4);  // drop the empty ext length
  // An ext area claiming 5 bytes holding a key length of 10.
  std::string bad = base;
  mqstore::PutBig32(&bad, 5);
  mqstore::PutBig16(&bad, 10);
  bad += "abc";
  Result<RemotingCommand> decoded = DecodeFrame(BinaryFrameBody(bad));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("extFields key"), std::string_view::npos);

  // A negative remark length.
  std::string negative = base.substr(0, 2 + 1 + 2 + 4 + 4);
  mqstore::PutBig32(&negative, 0xFFFFFFFFu);
  decoded = DecodeFrame(BinaryFrameBody(negative));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("negative"), std::string_view::npos);
}

TEST(RemotingCommandTest, RejectsBadFrames) {
  // Shorter than the header length word.
  EXPECT_TRUE(DecodeFrame(std::string_view("\0\0", 2)).status().IsInvalidArgument());
  // Header length past the end.
  std::string frame;
  mqstore::PutBig32(&frame, 100);
  frame += "{}";
  Result<RemotingCommand> decoded = DecodeFrame(frame);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("past the end"), std::string_view::npos);
  // Unknown serialize types.
  for (uint32_t type : {2u, 3u, 0x7Fu, 0xFFu}) {
    frame.clear();
    mqstore::PutBig32(&frame, (type << 24) | 2);
    frame += "{}";
    decoded = DecodeFrame(frame);
    ASSERT_FALSE(decoded.ok());
    EXPECT_TRUE(decoded.status().IsInvalidArgument());
    EXPECT_NE(decoded.status().message().find("serialize type"), std::string_view::npos);
  }
}

TEST(RemotingCommandTest, FrameLengthLimits) {
  CodecLimits limits;
  limits.max_frame_bytes = 1000;
  char prefix[4];
  mqstore::EncodeBig32(prefix, 4);
  EXPECT_EQ(*DecodeFrameLength(prefix, limits), 4u);
  mqstore::EncodeBig32(prefix, 1000);
  EXPECT_EQ(*DecodeFrameLength(prefix, limits), 1000u);
  for (uint32_t bad : {0u, 3u, 1001u, 0x80000000u, 0xFFFFFFFFu}) {
    mqstore::EncodeBig32(prefix, bad);
    Result<uint32_t> length = DecodeFrameLength(prefix, limits);
    ASSERT_FALSE(length.ok()) << bad;
    EXPECT_TRUE(length.status().IsInvalidArgument());
  }
  mqstore::EncodeBig32(prefix, 16u << 20);
  EXPECT_TRUE(DecodeFrameLength(prefix, CodecLimits()).ok());
  mqstore::EncodeBig32(prefix, (16u << 20) + 1);
  EXPECT_FALSE(DecodeFrameLength(prefix, CodecLimits()).ok());
}

TEST(RemotingCommandTest, LanguageTable) {
  const std::pair<std::string_view, uint8_t> table[] = {
      {"JAVA", 0},   {"CPP", 1},  {"DOTNET", 2}, {"PYTHON", 3},  {"DELPHI", 4},
      {"ERLANG", 5}, {"RUBY", 6}, {"OTHER", 7},  {"HTTP", 8},    {"GO", 9},
      {"PHP", 10},   {"OMS", 11}, {"RUST", 12},  {"NODE_JS", 13}};
  for (const auto& [name, code] : table) {
    EXPECT_EQ(LanguageName(code), name);
    EXPECT_EQ(LanguageCode(name), code);
  }
  EXPECT_EQ(LanguageName(14), "OTHER");
  EXPECT_EQ(LanguageName(255), "OTHER");
  EXPECT_EQ(LanguageCode("COBOL"), 7);
  EXPECT_EQ(LanguageCode("java"), 7);  // names are case-sensitive, as Java's valueOf
}

TEST(ExtFieldReaderTest, ReadsRequiredAndOptionalFields) {
  RemotingCommand command;
  command.SetExt("topic", "T");
  command.SetExt("queueId", "3");
  command.SetExt("offset", "-9000000000");
  command.SetExt("plus", "+7");
  command.SetExt("flagTrue", "TRUE");
  command.SetExt("flagOther", "yes");
  ExtFieldReader reader(command);
  EXPECT_EQ(reader.String("topic"), "T");
  EXPECT_EQ(reader.Int("queueId"), 3);
  EXPECT_EQ(reader.Long("offset"), -9000000000);
  EXPECT_EQ(reader.Int("plus"), 7);
  EXPECT_TRUE(reader.Bool("flagTrue"));
  EXPECT_FALSE(reader.Bool("flagOther"));  // like Boolean.parseBoolean
  EXPECT_EQ(reader.OptString("none"), std::nullopt);
  EXPECT_EQ(reader.OptInt("none"), std::nullopt);
  EXPECT_EQ(reader.OptLong("none"), std::nullopt);
  EXPECT_EQ(reader.OptBool("none"), std::nullopt);
  EXPECT_EQ(reader.OptInt("queueId"), 3);
  EXPECT_EQ(reader.OptString("topic"), "T");
  EXPECT_TRUE(reader.status().ok()) << reader.status().ToString();
}

TEST(ExtFieldReaderTest, FieldsAreFoundWhateverTheOrderOfReading) {
  RemotingCommand command;
  const std::string names = "abcdefghijklm";
  for (char name : names) command.SetExt(std::string(1, name), std::string(3, name));
  ExtFieldReader reader(command);
  // Stored order, with one field skipped and a missing one between.
  for (char name : std::string("abcdfg"))
    EXPECT_EQ(reader.String({&name, 1}), std::string(3, name));
  EXPECT_EQ(reader.OptString("gg"), std::nullopt);
  EXPECT_EQ(reader.String("h"), "hhh");
  // Backwards, the same field twice, then forwards again from the middle.
  for (char name : std::string("mlkjihgfedcba")) {
    EXPECT_EQ(reader.String({&name, 1}), std::string(3, name));
  }
  EXPECT_EQ(reader.String("a"), "aaa");
  EXPECT_EQ(reader.String("a"), "aaa");
  EXPECT_EQ(reader.String("g"), "ggg");
  EXPECT_EQ(reader.String("h"), "hhh");
  EXPECT_EQ(reader.OptString("z"), std::nullopt);
  EXPECT_EQ(reader.String("m"), "mmm");
  EXPECT_TRUE(reader.status().ok()) << reader.status().ToString();
}

TEST(ExtFieldReaderTest, AMissingRequiredFieldIsNamed) {
  RemotingCommand command;
  ExtFieldReader reader(command);
  EXPECT_EQ(reader.String("consumerGroup"), "");
  EXPECT_EQ(reader.Int("queueId"), 0);  // later failures do not replace the first
  ASSERT_FALSE(reader.status().ok());
  EXPECT_TRUE(reader.status().IsInvalidArgument());
  EXPECT_EQ(reader.status().message(), "the custom header field consumerGroup is null");
}

TEST(ExtFieldReaderTest, MalformedNumbersAreErrorsEvenWhenOptional) {
  const std::string bad_values[] = {"abc", "",    "1.5",  " 1",        "1 ",
                                    "--1", "+-1", "0x10", "2147483648"};
  for (const std::string& value : bad_values) {
    RemotingCommand command;
    command.SetExt("queueId", value);
    ExtFieldReader reader(command);
    EXPECT_EQ(reader.OptInt("queueId"), std::nullopt) << value;
    ASSERT_FALSE(reader.status().ok()) << value;
    EXPECT_EQ(reader.status().message(),
              "the custom header field queueId is not a number: '" + value + "'");
  }
  RemotingCommand command;
  command.SetExt("offset", "9223372036854775808");
  ExtFieldReader reader(command);
  EXPECT_EQ(reader.Long("offset"), 0);
  EXPECT_FALSE(reader.status().ok());

  RemotingCommand fits;
  fits.SetExt("offset", "9223372036854775807");
  ExtFieldReader fits_reader(fits);
  EXPECT_EQ(fits_reader.Long("offset"), INT64_MAX);
  EXPECT_TRUE(fits_reader.status().ok());
}

}  // namespace
}  // namespace mqremoting
