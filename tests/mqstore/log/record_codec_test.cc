#include "log/record_codec.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <string_view>

#include "log/record_format.h"
#include "log_test_util.h"
#include "support/test_util.h"
#include "mqstore/coding.h"

namespace mqstore {
namespace {

using log_test::EncodeRecord;
using log_test::kStoreHost;

constexpr std::string_view kCrcPairPrefix = "__CRC32#\x01";

uint32_t ZlibCrc(std::string_view data) {
  return static_cast<uint32_t>(
      ::crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

// The value of the 10 CRC digits (least significant digit first) at the end of `record`.
uint32_t StoredRecordCrc(std::string_view record) {
  std::string_view digits = record.substr(record.size() - 11, 10);
  uint64_t v = 0;
  for (int i = 9; i >= 0; --i) v = v * 10 + static_cast<uint64_t>(digits[i] - '0');
  return static_cast<uint32_t>(v);
}

MessageView SampleView(std::string_view topic, std::string_view body, std::string_view props) {
  MessageView m;
  m.topic = topic;
  m.queue_id = 3;
  m.body = body;
  m.flag = 0x55;
  m.properties = props;
  m.sys_flag = sysflag::kTransactionCommit | sysflag::kCompressed;
  m.born_timestamp_ms = 1'690'000'000'000;
  m.born_host = SocketAddress::V4(10, 0, 0, 7, 50123);
  m.reconsume_times = 2;
  m.prepared_transaction_offset = 777;
  return m;
}

const std::string kProps = EncodeProperties({{"TAGS", "TagA"}, {"KEYS", "k1 k2"}});

// ---- Round trips -----------------------------------------------------------------------

TEST(RecordCodecTest, RoundTripsEveryField) {
  MessageView m = SampleView("TopicTest", "hello body", kProps);
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(m, 42, 8192, 1'700'000'000'999));
  ParsedRecord r;
  ASSERT_OK(ParseRecord(rec, true, &r));
  EXPECT_EQ(r.total_size, static_cast<int32_t>(rec.size()));
  // 91 + body + topic + properties, the properties including the 20-byte CRC pair.
  EXPECT_EQ(rec.size(), 91 + 10 + 9 + kProps.size() + 20);
  EXPECT_EQ(r.magic, record::kMagicV1);
  EXPECT_EQ(r.body_crc, ZlibCrc("hello body") & 0x7FFFFFFFu);
  EXPECT_EQ(r.queue_id, 3);
  EXPECT_EQ(r.flag, 0x55);
  EXPECT_EQ(r.queue_offset, 42);
  EXPECT_EQ(r.physical_offset, 8192);
  EXPECT_EQ(r.sys_flag, sysflag::kTransactionCommit | sysflag::kCompressed);
  EXPECT_EQ(r.born_timestamp_ms, 1'690'000'000'000);
  EXPECT_EQ(r.born_host, SocketAddress::V4(10, 0, 0, 7, 50123));
  EXPECT_EQ(r.store_timestamp_ms, 1'700'000'000'999);
  EXPECT_EQ(r.store_host, kStoreHost);
  EXPECT_EQ(r.reconsume_times, 2);
  EXPECT_EQ(r.prepared_transaction_offset, 777);
  EXPECT_EQ(r.body, "hello body");
  EXPECT_EQ(r.topic, "TopicTest");
  EXPECT_EQ(r.properties.substr(0, kProps.size()), kProps);
  EXPECT_EQ(FindProperty(r.properties, property::kTags).value_or(""), "TagA");
  EXPECT_EQ(FindProperty(r.properties, property::kKeys).value_or(""), "k1 k2");
}

// Regression test (found by record_fuzzer): a size field below 8 made the record's extent
// wrap around, so the fields were parsed from the bytes after the record.
TEST(RecordCodecTest, ASizeBelowTheHeaderIsCorruption) {
  MessageView m = SampleView("TopicTest", "hello body", kProps);
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(m, 42, 8192, 1'700'000'000'999));
  for (uint32_t size : {1u, 2u, 4u, 7u}) {
    std::string bad = rec;
    bad[0] = bad[1] = bad[2] = '\0';
    bad[3] = static_cast<char>(size);
    ParsedRecord r;
    EXPECT_TRUE(ParseRecord(bad, false, &r).IsCorruption()) << "size " << size;
  }
}

TEST(RecordCodecTest, FixedFieldsSitAtRocketMqPositions) {
  MessageView m = SampleView("T", "b", "");
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(m, 0x0102030405LL, 0x0A0B0C0D0ELL, 12345));
  const char* p = rec.data();
  EXPECT_EQ(DecodeBig32(p + record::kTotalSizePos), rec.size());
  EXPECT_EQ(static_cast<int32_t>(DecodeBig32(p + record::kMagicPos)), -626843481);
  EXPECT_EQ(DecodeBig32(p + record::kQueueIdPos), 3u);
  EXPECT_EQ(DecodeBig64(p + record::kQueueOffsetPos), 0x0102030405u);
  EXPECT_EQ(DecodeBig64(p + record::kPhysicalOffsetPos), 0x0A0B0C0D0Eu);
  EXPECT_EQ(DecodeBig64(p + 56), 12345u);  // store timestamp (IPv4 born host)
  EXPECT_EQ(std::string(p + 64, 4), std::string("\xC0\xA8\x01\x0A", 4));  // store host ip
  EXPECT_EQ(DecodeBig32(p + 68), 10911u);
  EXPECT_EQ(DecodeBig32(p + 84), 1u);  // body length
}

TEST(RecordCodecTest, Ipv6HostsSetTheirSysFlagBits) {
  MessageView m = SampleView("TopicV6", "body", kProps);
  m.born_host = *SocketAddress::Parse("[2001:db8:0:0:0:0:0:1]:40000");
  SocketAddress store = *SocketAddress::Parse("[fe80:0:0:0:0:0:0:2]:10911");
  ASSERT_OK_AND_ASSIGN(std::string v4, EncodeRecord(SampleView("TopicV6", "body", kProps)));
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(m, 1, 2, 3, store));
  EXPECT_EQ(rec.size(), v4.size() + 24);
  ParsedRecord r;
  ASSERT_OK(ParseRecord(rec, true, &r));
  EXPECT_EQ(r.born_host, m.born_host);
  EXPECT_EQ(r.store_host, store);
  EXPECT_EQ(r.sys_flag & sysflag::kBornHostV6, sysflag::kBornHostV6);
  EXPECT_EQ(r.sys_flag & sysflag::kStoreHostV6, sysflag::kStoreHostV6);
  EXPECT_EQ(r.store_timestamp_ms, 3);
  EXPECT_EQ(r.body, "body");
}

TEST(RecordCodecTest, HostBitsComeFromTheAddressesNotTheCaller) {
  MessageView m = SampleView("T", "b", "");
  m.sys_flag = sysflag::kBornHostV6 | sysflag::kStoreHostV6 | sysflag::kMultiTags;
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(m));
  ParsedRecord r;
  ASSERT_OK(ParseRecord(rec, true, &r));
  EXPECT_EQ(r.sys_flag, sysflag::kMultiTags);
  EXPECT_FALSE(r.born_host.ipv6);
}

TEST(RecordCodecTest, LongRetryTopicUsesMagicV2) {
  std::string topic = "%RETRY%" + std::string(193, 'g');
  ASSERT_EQ(topic.size(), 200u);
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(SampleView(topic, "body", kProps)));
  ParsedRecord r;
  ASSERT_OK(ParseRecord(rec, true, &r));
  EXPECT_EQ(r.magic, record::kMagicV2);
  EXPECT_EQ(static_cast<int32_t>(DecodeBig32(rec.data() + 4)), -626843477);
  EXPECT_EQ(r.topic, topic);
  EXPECT_EQ(rec.size(), 91 + 1 + 4 + topic.size() + kProps.size() + 20);  // 2-byte length

  std::string v1_topic = "%RETRY%" + std::string(120, 'g');
  ASSERT_OK_AND_ASSIGN(rec, EncodeRecord(SampleView(v1_topic, "body", kProps)));
  ASSERT_OK(ParseRecord(rec, true, &r));
  EXPECT_EQ(r.magic, record::kMagicV1);
  EXPECT_EQ(r.topic, v1_topic);
}

TEST(RecordCodecTest, EmptyBodyAndEmptyProperties) {
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(SampleView("T", "", "")));
  ParsedRecord r;
  ASSERT_OK(ParseRecord(rec, true, &r));
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.properties.size(), 20u);
  EXPECT_TRUE(r.properties.starts_with(kCrcPairPrefix));
}

// ---- Checksums ---------------------------------------------------------------------------

TEST(RecordCodecTest, RecordCrcIsTheLastTwentyBytes) {
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(SampleView("T", "payload", kProps)));
  std::string_view tail = std::string_view(rec).substr(rec.size() - 20);
  EXPECT_TRUE(tail.starts_with(kCrcPairPrefix));
  EXPECT_EQ(tail.back(), '\x02');
  for (char c : tail.substr(9, 10)) EXPECT_TRUE(c >= '0' && c <= '9') << tail;
  uint32_t expected = ZlibCrc(std::string_view(rec).substr(0, rec.size() - 20)) & 0x7FFFFFFFu;
  EXPECT_EQ(StoredRecordCrc(rec), expected);
}

TEST(RecordCodecTest, LargeRecordsTakeTheCombinePathAndStillVerify) {
  for (size_t body_size :
       {size_t{16 * 1024 - 200}, size_t{16 * 1024}, size_t{100'000}, size_t{1 << 20}}) {
    std::string body(body_size, '\0');
    for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 131 + 7);
    ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(SampleView("Big", body, kProps), 9, 99));
    ParsedRecord r;
    ASSERT_OK(ParseRecord(rec, true, &r));
    EXPECT_EQ(r.body, body);
    EXPECT_EQ(r.body_crc, ZlibCrc(body) & 0x7FFFFFFFu);
    EXPECT_EQ(StoredRecordCrc(rec),
              ZlibCrc(std::string_view(rec).substr(0, rec.size() - 20)) & 0x7FFFFFFFu)
        << "body " << body_size;
  }
}

TEST(RecordCodecTest, LargePropertiesWithASmallBodyVerify) {
  std::string props = EncodeProperties({{"BIG", std::string(20'000, 'p')}});
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(SampleView("T", "tiny", props)));
  ASSERT_GE(rec.size(), 16u * 1024);
  ParsedRecord r;
  ASSERT_OK(ParseRecord(rec, true, &r));
  EXPECT_EQ(StoredRecordCrc(rec),
            ZlibCrc(std::string_view(rec).substr(0, rec.size() - 20)) & 0x7FFFFFFFu);
}

TEST(RecordCodecTest, FlippingAnyByteFailsVerification) {
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(SampleView("Flip", "some body", kProps)));
  for (size_t i = 0; i < rec.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xFF}) {
      std::string bad = rec;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      ParsedRecord r;
      EXPECT_FALSE(ParseRecord(bad, true, &r).ok()) << "byte " << i << " mask " << int{mask};
    }
  }
}

TEST(RecordCodecTest, WithoutVerificationOnlyStructureIsChecked) {
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(SampleView("T", "body", kProps)));
  rec[record::kQueueOffsetPos + 7] ^= 1;  // covered by the record CRC only
  ParsedRecord r;
  EXPECT_OK(ParseRecord(rec, false, &r));
  EXPECT_TRUE(ParseRecord(rec, true, &r).IsCorruption());
}

TEST(RecordCodecTest, ParseRejectsTruncatedInputAndIgnoresTrailingBytes) {
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(SampleView("T", "body", kProps)));
  ParsedRecord r;
  for (size_t len = 0; len < rec.size(); ++len) {
    EXPECT_TRUE(ParseRecord(std::string_view(rec).substr(0, len), false, &r).IsCorruption()) << len;
  }
  EXPECT_OK(ParseRecord(rec + std::string(100, '\0'), true, &r));
  EXPECT_EQ(r.total_size, static_cast<int32_t>(rec.size()));
}

// ---- Validation --------------------------------------------------------------------------

TEST(RecordCodecTest, TopicRules) {
  EXPECT_TRUE(ValidateTopic("").IsInvalidArgument());
  EXPECT_OK(ValidateTopic(std::string(127, 'a')));
  EXPECT_TRUE(ValidateTopic(std::string(128, 'a')).IsInvalidArgument());
  EXPECT_OK(ValidateTopic("%RETRY%" + std::string(248, 'a')));  // 255
  EXPECT_TRUE(ValidateTopic("%RETRY%" + std::string(249, 'a')).IsInvalidArgument());
  EXPECT_TRUE(ValidateTopic(std::string(256, 'a')).IsInvalidArgument());
  EXPECT_OK(ValidateTopic("Az09_-|%"));
  for (std::string bad : {"a b", "a.b", "a/b", "a#b", "a\tb", "caf\xC3\xA9", "a:b"}) {
    EXPECT_TRUE(ValidateTopic(bad).IsInvalidArgument()) << bad;
  }
  EXPECT_TRUE(ValidateTopic(std::string("a\0b", 3)).IsInvalidArgument());
}

TEST(RecordCodecTest, PrepareRejectsWhatRocketMqRejects) {
  PreparedRecord p;
  EXPECT_TRUE(PrepareRecord(SampleView("", "b", ""), kStoreHost, 100, &p).IsInvalidArgument());
  EXPECT_TRUE(PrepareRecord(SampleView(std::string(128, 't'), "b", ""), kStoreHost, 100, &p)
                  .IsInvalidArgument());
  EXPECT_TRUE(
      PrepareRecord(SampleView("bad topic", "b", ""), kStoreHost, 100, &p).IsInvalidArgument());
  MessageView negative = SampleView("T", "b", "");
  negative.queue_id = -1;
  EXPECT_TRUE(PrepareRecord(negative, kStoreHost, 100, &p).IsInvalidArgument());
  std::string body(100, 'b');
  EXPECT_OK(PrepareRecord(SampleView("T", body, ""), kStoreHost, 100, &p));
  body += 'x';
  EXPECT_TRUE(PrepareRecord(SampleView("T", body, ""), kStoreHost, 100, &p).IsInvalidArgument());
}

TEST(RecordCodecTest, PropertiesLimitIncludesTheCrcPair) {
  PreparedRecord p;
  // Terminated with 0x02: stored size = size + 20.
  std::string props = "K\x01" + std::string(32767 - 20 - 3, 'v') + "\x02";
  ASSERT_EQ(props.size(), 32767u - 20);
  ASSERT_OK(PrepareRecord(SampleView("T", "b", props), kStoreHost, 100, &p));
  EXPECT_EQ(p.properties_size, 32767);
  props.insert(2, "v");
  EXPECT_TRUE(PrepareRecord(SampleView("T", "b", props), kStoreHost, 100, &p).IsInvalidArgument());
  // Unterminated: one more byte for the 0x02 the store adds.
  std::string open = "K\x01" + std::string(32767 - 21 - 2, 'v');
  ASSERT_OK(PrepareRecord(SampleView("T", "b", open), kStoreHost, 100, &p));
  EXPECT_EQ(p.properties_size, 32767);
  open += 'v';
  EXPECT_TRUE(PrepareRecord(SampleView("T", "b", open), kStoreHost, 100, &p).IsInvalidArgument());
}

TEST(RecordCodecTest, UnterminatedPropertiesGetASeparator) {
  std::string props =
      "A\x01"
      "1\x02"
      "B\x01"
      "2";
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(SampleView("T", "b", props)));
  ParsedRecord r;
  ASSERT_OK(ParseRecord(rec, true, &r));
  EXPECT_EQ(r.properties.substr(0, props.size() + 1), props + "\x02");
  EXPECT_EQ(FindProperty(r.properties, "B").value_or(""), "2");
}

TEST(RecordCodecTest, ExistingRecordCrcPropertyIsReplaced) {
  ASSERT_OK_AND_ASSIGN(std::string first, EncodeRecord(SampleView("T", "body", kProps), 1, 100));
  ParsedRecord r;
  ASSERT_OK(ParseRecord(first, true, &r));
  std::string stored_props(r.properties);  // ends with the old __CRC32# pair
  ASSERT_OK_AND_ASSIGN(std::string again,
                       EncodeRecord(SampleView("T", "body", stored_props), 2, 5000));
  EXPECT_EQ(again.size(), first.size()) << "the old CRC pair was kept";
  ParsedRecord r2;
  ASSERT_OK(ParseRecord(again, true, &r2));
  EXPECT_EQ(r2.properties.find("__CRC32#"), r2.properties.size() - 20);
  EXPECT_EQ(r2.properties.substr(0, kProps.size()), kProps);
  EXPECT_NE(StoredRecordCrc(again), StoredRecordCrc(first));
}

// ---- Tags hash ---------------------------------------------------------------------------

TEST(RecordCodecTest, TagsHashCodeIsJavaStringHashCode) {
  // "TagA": h = 84; 84*31+97 = 2701; 2701*31+103 = 83834; 83834*31+65 = 2598919.
  EXPECT_EQ(TagsHashCode("TagA"), 2598919);
  EXPECT_EQ(TagsHashCode(""), 0);
  EXPECT_EQ(TagsHashCode("\xC3\xA9"), 233);                           // U+00E9
  EXPECT_EQ(TagsHashCode("\xE6\x97\xA5\xE6\x9C\xAC"), 835047);        // U+65E5 U+672C
  EXPECT_EQ(TagsHashCode("\xF0\x9F\x98\x80"), 31 * 0xD83D + 0xDE00);  // a surrogate pair
  EXPECT_EQ(TagsHashCode("\xFF"), 0xFFFD);                            // malformed: U+FFFD
  // Overflow wraps like Java's int and is sign-extended.
  EXPECT_EQ(TagsHashCode("a fairly long tag value that overflows"), -1752650207);
}

// Regression test (fixed bug): TagsHashCode (record_codec.cc:92-120) accepts overlong and surrogate UTF-8
// sequences that Java's UTF-8 decoder replaces with U+FFFD, so for such TAGS the tag code
// differs from what a Java broker/consumer computes (a mismatch only non-Java clients that
// send malformed UTF-8 can trigger). Java: new String({C0,80}) is "\uFFFD\uFFFD";
// new String({ED,A0,80}) is "\uFFFD" (a UTF-16 surrogate is not a valid code point).
TEST(RecordCodecTest, TagsHashCodeReplacesMalformedUtf8LikeJava) {
  EXPECT_EQ(TagsHashCode("\xC0\x80"), 31 * 0xFFFD + 0xFFFD);
  EXPECT_EQ(TagsHashCode("\xED\xA0\x80"), 0xFFFD);
}

TEST(RecordCodecTest, PrepareComputesTagsCodeAndQueueOffsetRule) {
  PreparedRecord p;
  ASSERT_OK(PrepareRecord(SampleView("T", "b", kProps), kStoreHost, 100, &p));
  EXPECT_EQ(p.tags_code, 2598919);
  ASSERT_OK(PrepareRecord(SampleView("T", "b", ""), kStoreHost, 100, &p));
  EXPECT_EQ(p.tags_code, 0);
  const std::pair<int32_t, bool> kRules[] = {{0, true},
                                             {sysflag::kTransactionPrepared, false},
                                             {sysflag::kTransactionCommit, true},
                                             {sysflag::kTransactionRollback, false}};
  for (auto [type, gets] : kRules) {
    MessageView m = SampleView("T", "b", "");
    m.sys_flag = type;
    ASSERT_OK(PrepareRecord(m, kStoreHost, 100, &p));
    EXPECT_EQ(p.gets_queue_offset, gets) << type;
    EXPECT_EQ(GetsQueueOffset(type), gets) << type;
  }
}

// ---- CheckRecord -------------------------------------------------------------------------

TEST(RecordCodecTest, CheckRecordSummarisesAValidRecord) {
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(SampleView("TopicS", "b", kProps), 7, 4096));
  RecordSummary s;
  std::string segment_rest = rec + std::string(500, '\0');
  ASSERT_EQ(CheckRecord(segment_rest, true, &s), RecordCheck::kRecord);
  EXPECT_FALSE(s.blank);
  EXPECT_EQ(s.total_size, static_cast<int32_t>(rec.size()));
  EXPECT_EQ(s.topic, "TopicS");
  EXPECT_EQ(s.queue_id, 3);
  EXPECT_EQ(s.queue_offset, 7);
  EXPECT_EQ(s.physical_offset, 4096);
  EXPECT_EQ(s.store_timestamp_ms, 1'700'000'000'123);
  EXPECT_EQ(s.tags_code, 2598919);
  EXPECT_EQ(s.sys_flag, sysflag::kTransactionCommit | sysflag::kCompressed);
}

TEST(RecordCodecTest, CheckRecordOnZerosIsEnd) {
  RecordSummary s;
  std::string problem;
  EXPECT_EQ(CheckRecord(std::string(4096, '\0'), true, &s, &problem), RecordCheck::kEnd);
  EXPECT_FALSE(problem.empty());
  EXPECT_EQ(CheckRecord(std::string(7, '\0'), true, &s), RecordCheck::kEnd);
  EXPECT_EQ(CheckRecord("", false, &s), RecordCheck::kEnd);
}

TEST(RecordCodecTest, CheckRecordOnABlankHeader) {
  std::string rest(1000, '\0');
  WriteBlankRecord(1000, rest.data());
  EXPECT_EQ(DecodeBig32(rest.data()), 1000u);
  EXPECT_EQ(static_cast<int32_t>(DecodeBig32(rest.data() + 4)), -875286124);
  RecordSummary s;
  ASSERT_EQ(CheckRecord(rest, true, &s), RecordCheck::kBlank);
  EXPECT_TRUE(s.blank);
  EXPECT_EQ(s.total_size, 1000);
  // A blank that does not reach the end of the segment is not a valid end-of-segment.
  EXPECT_EQ(CheckRecord(rest + std::string(8, '\0'), true, &s), RecordCheck::kEnd);
  EXPECT_EQ(CheckRecord(std::string_view(rest).substr(0, 999), true, &s), RecordCheck::kEnd);
  // The smallest blank: exactly its header.
  std::string eight(8, '\0');
  WriteBlankRecord(8, eight.data());
  EXPECT_EQ(CheckRecord(eight, true, &s), RecordCheck::kBlank);
}

TEST(RecordCodecTest, CheckRecordOnATornRecordIsEnd) {
  ASSERT_OK_AND_ASSIGN(std::string rec, EncodeRecord(SampleView("T", "body", kProps)));
  RecordSummary s;
  std::string problem;
  EXPECT_EQ(CheckRecord(std::string_view(rec).substr(0, rec.size() - 1), false, &s, &problem),
            RecordCheck::kEnd);
  EXPECT_FALSE(problem.empty());
  // Torn in the middle: the tail of the record is still zeros in the segment.
  std::string torn = rec.substr(0, rec.size() / 2) + std::string(rec.size(), '\0');
  EXPECT_EQ(CheckRecord(torn, true, &s), RecordCheck::kEnd);
  std::string bad_body = rec;
  bad_body[88] ^= 0x20;  // inside the body: body CRC (and record CRC) no longer match
  EXPECT_EQ(CheckRecord(bad_body, true, &s), RecordCheck::kEnd);
  EXPECT_EQ(CheckRecord(bad_body, false, &s), RecordCheck::kRecord);
}

}  // namespace
}  // namespace mqstore
