#include "remoting/lock_batch_body.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mqremoting {
namespace {

using Queues = std::vector<MessageQueue>;

TEST(LockBatchBodyTest, ParsesJavaRequest) {
  // fastjson's output for LockBatchRequestBody (sorted keys).
  auto parsed = ParseLockBatchRequestBody(
      R"({"clientId":"10.0.0.5@123#456","consumerGroup":"GID_ORDER","mqSet":[)"
      R"({"brokerName":"broker-a","queueId":0,"topic":"Orders"},)"
      R"({"brokerName":"broker-a","queueId":3,"topic":"Orders"}],"onlyThisBroker":true})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->consumer_group, "GID_ORDER");
  EXPECT_EQ(parsed->client_id, "10.0.0.5@123#456");
  EXPECT_TRUE(parsed->only_this_broker);
  EXPECT_EQ(parsed->mq_set, (Queues{{"Orders", "broker-a", 0}, {"Orders", "broker-a", 3}}));
}

TEST(LockBatchBodyTest, OptionalFieldsAndUnknownKeys) {
  auto parsed =
      ParseLockBatchRequestBody(R"({"consumerGroup":"G","clientId":"c","extra":{"x":1},"mqSet":[)"
                                R"({"brokerName":"b","queueId":1,"topic":"T","future":true}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_FALSE(parsed->only_this_broker);
  EXPECT_EQ(parsed->mq_set, (Queues{{"T", "b", 1}}));

  for (const char* body : {R"({"consumerGroup":"G","clientId":"c"})",
                           R"({"consumerGroup":"G","clientId":"c","mqSet":null})",
                           R"({"consumerGroup":"G","clientId":"c","mqSet":[]})"}) {
    auto empty = ParseLockBatchRequestBody(body);
    ASSERT_TRUE(empty.ok()) << body << ": " << empty.status().ToString();
    EXPECT_TRUE(empty->mq_set.empty());
  }
}

TEST(LockBatchBodyTest, RequestRoundTrip) {
  UnlockBatchRequestBody body;
  body.consumer_group = "G";
  body.client_id = "127.0.0.1@1";
  body.only_this_broker = true;
  body.mq_set = {{"T", "broker-a", 0}, {"T", "broker-b", 2147483647}};
  std::string encoded = EncodeLockBatchRequestBody(body);
  EXPECT_EQ(
      encoded,
      R"({"clientId":"127.0.0.1@1","consumerGroup":"G","mqSet":[)"
      R"({"brokerName":"broker-a","queueId":0,"topic":"T"},)"
      R"({"brokerName":"broker-b","queueId":2147483647,"topic":"T"}],"onlyThisBroker":true})");
  auto decoded = ParseLockBatchRequestBody(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, body);
}

TEST(LockBatchBodyTest, ResponseRoundTrip) {
  Queues locked = {{"T", "broker-a", 1}, {"U", "broker-a", 0}};
  std::string encoded = EncodeLockBatchResponseBody(locked);
  EXPECT_EQ(encoded, R"({"lockOKMQSet":[{"brokerName":"broker-a","queueId":1,"topic":"T"},)"
                     R"({"brokerName":"broker-a","queueId":0,"topic":"U"}]})");
  auto decoded = ParseLockBatchResponseBody(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, locked);

  EXPECT_EQ(EncodeLockBatchResponseBody({}), R"({"lockOKMQSet":[]})");
  auto none = ParseLockBatchResponseBody("{}");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(LockBatchBodyTest, RejectsMalformedRequests) {
  struct Case {
    const char* body;
    const char* names;
  };
  const Case cases[] = {
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {"[]", "not a JSON object"},
      {R"({"clientId":"c"})", "consumerGroup"},
      {R"({"consumerGroup":"","clientId":"c"})", "consumerGroup"},
      {R"({"consumerGroup":"G"})", "clientId"},
      {R"({"consumerGroup":"G","clientId":5})", "clientId"},
      {R"({"consumerGroup":"G","clientId":"c","onlyThisBroker":"no"})", "onlyThisBroker"},
      {R"({"consumerGroup":"G","clientId":"c","mqSet":{}})", "mqSet is not an array"},
      {R"({"consumerGroup":"G","clientId":"c","mqSet":["T"]})", "mqSet[0] is not an object"},
      {R"({"consumerGroup":"G","clientId":"c","mqSet":[{"brokerName":"b","queueId":0}]})",
       "mqSet[0].topic"},
      {R"({"consumerGroup":"G","clientId":"c","mqSet":[{"topic":"T","queueId":0}]})",
       "mqSet[0].brokerName"},
      {R"({"consumerGroup":"G","clientId":"c","mqSet":[{"topic":"T","brokerName":"b"}]})",
       "mqSet[0].queueId"},
      {R"({"consumerGroup":"G","clientId":"c","mqSet":[{"topic":"T","brokerName":"b",)"
       R"("queueId":"1"}]})",
       "mqSet[0].queueId"},
      {R"({"consumerGroup":"G","clientId":"c","mqSet":[{"topic":"T","brokerName":"b",)"
       R"("queueId":0},{"topic":"T","brokerName":"b","queueId":-1}]})",
       "mqSet[1].queueId is out of range"},
      {R"({"consumerGroup":"G","clientId":"c","mqSet":[{"topic":"T","brokerName":"b",)"
       R"("queueId":2147483648}]})",
       "mqSet[0].queueId is out of range"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseLockBatchRequestBody(c.body);
    ASSERT_FALSE(parsed.ok()) << c.body;
    EXPECT_TRUE(parsed.status().IsInvalidArgument()) << c.body;
    EXPECT_NE(parsed.status().ToString().find(c.names), std::string::npos)
        << c.body << " -> " << parsed.status().ToString();
  }
}

TEST(LockBatchBodyTest, RejectsMalformedResponses) {
  for (const char* body : {"", "[]", R"({"lockOKMQSet":{}})", R"({"lockOKMQSet":[1]})",
                           R"({"lockOKMQSet":[{"topic":"T","brokerName":"b"}]})"}) {
    auto parsed = ParseLockBatchResponseBody(body);
    ASSERT_FALSE(parsed.ok()) << body;
    EXPECT_TRUE(parsed.status().IsInvalidArgument()) << body;
  }
}

}  // namespace
}  // namespace mqremoting
