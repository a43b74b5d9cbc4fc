// Message helpers: the property string a producer sends, system-property names, and decoding
// of record bodies: empty, cut short, compressed (round trips through a broker: producer_test).
#include "mqclient/message.h"

#include <gtest/gtest.h>

#include <memory>

#include "mqstore/coding.h"
#include "mqstore/compression.h"
#include "mqstore/mem_env.h"
#include "mqstore/store.h"

namespace mqclient {
namespace {

TEST(EncodeSendPropertiesTest, CarriesTagsKeysDelayUserPropertiesAndUniqueKey) {
  Message message;
  message.tags = "TagA";
  message.keys = "k1 k2";
  message.delay_level = 3;
  message.user_properties = {{"color", "red"}};
  std::string encoded = EncodeSendProperties(message, "ABC");
  EXPECT_EQ(mqstore::FindProperty(encoded, "TAGS"), "TagA");
  EXPECT_EQ(mqstore::FindProperty(encoded, "KEYS"), "k1 k2");
  EXPECT_EQ(mqstore::FindProperty(encoded, "DELAY"), "3");
  EXPECT_EQ(mqstore::FindProperty(encoded, "WAIT"), "true");
  EXPECT_EQ(mqstore::FindProperty(encoded, "color"), "red");
  EXPECT_EQ(mqstore::FindProperty(encoded, "UNIQ_KEY"), "ABC");
}

TEST(EncodeSendPropertiesTest, LeavesOutEmptyTagsKeysAndDelay) {
  std::string encoded = EncodeSendProperties(Message{}, "ABC");
  EXPECT_FALSE(mqstore::FindProperty(encoded, "TAGS"));
  EXPECT_FALSE(mqstore::FindProperty(encoded, "KEYS"));
  EXPECT_FALSE(mqstore::FindProperty(encoded, "DELAY"));
}

TEST(IsSystemPropertyTest, KnowsRocketMqNames) {
  EXPECT_TRUE(IsSystemProperty("TAGS"));
  EXPECT_TRUE(IsSystemProperty("UNIQ_KEY"));
  EXPECT_TRUE(IsSystemProperty("CLUSTER"));
  EXPECT_TRUE(IsSystemProperty("__CRC32#"));
  EXPECT_FALSE(IsSystemProperty("color"));
}

TEST(ReceivedMessageTest, UserPropertiesDropSystemOnes) {
  ReceivedMessage m;
  m.properties = {{"TAGS", "a"}, {"UNIQ_KEY", "b"}, {"color", "red"}};
  EXPECT_EQ(m.UserProperties(), (std::map<std::string, std::string>{{"color", "red"}}));
}

TEST(DecodeMessagesTest, EmptyBodyHasNoMessages) {
  Result<std::vector<ReceivedMessage>> messages = DecodeMessages("");
  ASSERT_TRUE(messages.ok());
  EXPECT_TRUE(messages->empty());
}

TEST(DecodeMessagesTest, TruncatedRecordIsCorruption) {
  std::string body;
  mqstore::PutBig32(&body, 200);  // claims more bytes than there are
  body.append(20, '\0');
  EXPECT_TRUE(DecodeMessages(body).status().IsCorruption());
  EXPECT_TRUE(DecodeMessages("ab").status().IsCorruption());
}

// Records as a store keeps them (what a pull returns), from an in-memory store.
class StoredRecords {
 public:
  StoredRecords() {
    mqstore::StoreOptions options;
    options.env = env_.get();
    options.commitlog_segment_bytes = 1 << 20;  // a 1 GiB segment in memory is slow to make
    auto store = mqstore::Store::Open(options, "/store");
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  // Stores `body` with `sys_flag` as given and returns the record's bytes.
  std::string Record(std::string_view body, int32_t sys_flag) {
    mqstore::MessageView message;
    message.topic = "Compressed";
    message.body = body;
    message.sys_flag = sys_flag;
    auto put = store_->Put(message);
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    auto record = store_->ReadRecord(put->physical_offset);
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    return std::string(record->bytes);
  }

 private:
  std::unique_ptr<mqstore::MemEnv> env_ = mqstore::NewMemEnv();
  std::unique_ptr<mqstore::Store> store_;
};

TEST(DecodeMessagesTest, CompressedBodiesAreInflatedAndTheirFlagsCleared) {
  StoredRecords records;
  const std::string text(10000, 'z');
  std::string body;
  for (auto type : {mqstore::CompressionType::kZstd, mqstore::CompressionType::kZlib}) {
    int32_t sys_flag = 0;
    auto compressed = mqstore::CompressBody(text, type, 5, &sys_flag);
    ASSERT_TRUE(compressed.ok());
    body += records.Record(*compressed, sys_flag | mqstore::sysflag::kMultiTags);
  }
  // ali-ons's form: the COMPRESSED bit alone means zlib.
  int32_t zlib_flag = 0;
  auto zlib = mqstore::CompressBody(text, mqstore::CompressionType::kZlib, 5, &zlib_flag);
  ASSERT_TRUE(zlib.ok());
  body += records.Record(*zlib, mqstore::sysflag::kCompressed);

  Result<std::vector<ReceivedMessage>> messages = DecodeMessages(body);
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  ASSERT_EQ(messages->size(), 3u);
  for (const ReceivedMessage& m : *messages) {
    EXPECT_EQ(m.body, text);
  }
  // Other bits stay.
  EXPECT_EQ((*messages)[0].sys_flag, mqstore::sysflag::kMultiTags);
  EXPECT_EQ((*messages)[1].sys_flag, mqstore::sysflag::kMultiTags);
  EXPECT_EQ((*messages)[2].sys_flag, 0);
}

TEST(DecodeMessagesTest, ABodyThatDoesNotInflateIsKeptAsStored) {
  StoredRecords records;
  const int32_t lz4 = mqstore::sysflag::kCompressed | 0x100;
  std::string body = records.Record("not zlib at all", mqstore::sysflag::kCompressed) +
                     records.Record("lz4 bytes", lz4) + records.Record("plain", 0);
  Result<std::vector<ReceivedMessage>> messages = DecodeMessages(body);
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  ASSERT_EQ(messages->size(), 3u);  // the ones around it are not lost
  EXPECT_EQ((*messages)[0].body, "not zlib at all");
  EXPECT_EQ((*messages)[0].sys_flag, mqstore::sysflag::kCompressed);
  EXPECT_EQ((*messages)[1].body, "lz4 bytes");
  EXPECT_EQ((*messages)[1].sys_flag, lz4);
  EXPECT_EQ((*messages)[2].body, "plain");
}

TEST(MessageQueueTest, ToStringNamesAllParts) {
  EXPECT_EQ((MessageQueue{"T", "broker-a", 3}).ToString(),
            "MessageQueue [topic=T, brokerName=broker-a, queueId=3]");
}

}  // namespace
}  // namespace mqclient
