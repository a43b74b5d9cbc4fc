// Message helpers: the property string a producer sends, system-property names, and decoding
// of record bodies that are empty or cut short (full records: producer_test's round trip).
#include "mqclient/message.h"

#include <gtest/gtest.h>

#include "mqstore/coding.h"

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

TEST(MessageQueueTest, ToStringNamesAllParts) {
  EXPECT_EQ((MessageQueue{"T", "broker-a", 3}).ToString(),
            "MessageQueue [topic=T, brokerName=broker-a, queueId=3]");
}

}  // namespace
}  // namespace mqclient
