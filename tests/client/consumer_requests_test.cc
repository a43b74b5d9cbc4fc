// The consumer's broker requests: header fields and flags as RocketMQ's clients send them, and
// how each pull / offset answer is read.
#include "consumer_requests.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "remoting/codes.h"

namespace mqclient {
namespace {

using mqremoting::RemotingCommand;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;

const MessageQueue kQueue{"Orders", "broker-a", 3};

std::string Field(const RemotingCommand& command, std::string_view name) {
  const std::string* value = command.FindExt(name);
  return value == nullptr ? "<absent>" : *value;
}

TEST(ConsumerRequestsTest, ALongPollWithACommitOffsetSetsAllThreeFlags) {
  PullRequestFields fields;
  fields.group = "CID_X";
  fields.queue = kQueue;
  fields.offset = 17;
  fields.max_messages = 32;
  fields.subscription = "TagA || TagB";
  fields.sub_version = 99;
  fields.suspend = std::chrono::milliseconds(15000);
  fields.commit_offset = 12;
  RemotingCommand request = MakePullRequest(fields);
  EXPECT_EQ(request.code, request_code::kPullMessage);
  EXPECT_EQ(Field(request, "consumerGroup"), "CID_X");
  EXPECT_EQ(Field(request, "topic"), "Orders");
  EXPECT_EQ(Field(request, "queueId"), "3");
  EXPECT_EQ(Field(request, "queueOffset"), "17");
  EXPECT_EQ(Field(request, "maxMsgNums"), "32");
  EXPECT_EQ(Field(request, "sysFlag"), "7");  // commit | suspend | subscription
  EXPECT_EQ(Field(request, "commitOffset"), "12");
  EXPECT_EQ(Field(request, "suspendTimeoutMillis"), "15000");
  EXPECT_EQ(Field(request, "subscription"), "TagA || TagB");
  EXPECT_EQ(Field(request, "subVersion"), "99");
  EXPECT_EQ(Field(request, "expressionType"), "TAG");
}

TEST(ConsumerRequestsTest, APlainPullSetsOnlyTheSubscriptionFlag) {
  PullRequestFields fields;
  fields.group = "CID_X";
  fields.queue = kQueue;
  fields.commit_offset = -1;  // nothing to commit is never sent as a commit
  RemotingCommand request = MakePullRequest(fields);
  EXPECT_EQ(Field(request, "sysFlag"), "4");
  EXPECT_EQ(Field(request, "commitOffset"), "0");
  EXPECT_EQ(Field(request, "suspendTimeoutMillis"), "0");
}

TEST(ConsumerRequestsTest, PullAnswersMapToTheirStatusesWithTheBrokersOffsets) {
  const struct {
    int32_t code;
    PullStatus status;
  } cases[] = {{response_code::kPullNotFound, PullStatus::kNoNewMessage},
               {response_code::kPullRetryImmediately, PullStatus::kNoMatchedMessage},
               {response_code::kPullOffsetMoved, PullStatus::kOffsetIllegal}};
  for (const auto& c : cases) {
    RemotingCommand response;
    response.code = c.code;
    response.SetExt("nextBeginOffset", int64_t{40});
    response.SetExt("minOffset", int64_t{5});
    response.SetExt("maxOffset", int64_t{41});
    Result<PullResult> pulled = ReadPullResponse(response, kQueue, 17);
    ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
    EXPECT_EQ(pulled->status, c.status);
    EXPECT_EQ(pulled->next_begin_offset, 40);
    EXPECT_EQ(pulled->min_offset, 5);
    EXPECT_EQ(pulled->max_offset, 41);
    EXPECT_TRUE(pulled->messages.empty());
  }
  // Without nextBeginOffset the next pull asks for the same offset again.
  RemotingCommand bare;
  bare.code = response_code::kPullNotFound;
  EXPECT_EQ(ReadPullResponse(bare, kQueue, 17)->next_begin_offset, 17);
}

TEST(ConsumerRequestsTest, OtherPullAnswersAndBadBodiesAreErrors) {
  RemotingCommand busy;
  busy.code = response_code::kSystemBusy;
  busy.remark = "too busy";
  Result<PullResult> pulled = ReadPullResponse(busy, kQueue, 0);
  ASSERT_FALSE(pulled.ok());
  EXPECT_NE(pulled.status().message().find("too busy"), std::string::npos);

  RemotingCommand garbage;
  garbage.code = response_code::kSuccess;
  garbage.SetExt("nextBeginOffset", int64_t{1});
  garbage.body = "not a stored record";
  EXPECT_FALSE(ReadPullResponse(garbage, kQueue, 0).ok());

  RemotingCommand bad_offset;
  bad_offset.code = response_code::kPullNotFound;
  bad_offset.SetExt("nextBeginOffset", "soon");
  EXPECT_FALSE(ReadPullResponse(bad_offset, kQueue, 0).ok());
}

TEST(ConsumerRequestsTest, OffsetRequestsAndAnswers) {
  RemotingCommand query = MakeQueryConsumerOffsetRequest("CID_X", kQueue, false);
  EXPECT_EQ(query.code, request_code::kQueryConsumerOffset);
  EXPECT_EQ(Field(query, "setZeroIfNotFound"), "false");
  EXPECT_EQ(Field(query, "consumerGroup"), "CID_X");
  RemotingCommand update = MakeUpdateConsumerOffsetRequest("CID_X", kQueue, 42);
  EXPECT_EQ(update.code, request_code::kUpdateConsumerOffset);
  EXPECT_EQ(Field(update, "commitOffset"), "42");
  RemotingCommand search =
      MakeQueueOffsetRequest(request_code::kSearchOffsetByTimestamp, kQueue, 1700000000000);
  EXPECT_EQ(Field(search, "timestamp"), "1700000000000");
  EXPECT_EQ(
      Field(MakeQueueOffsetRequest(request_code::kGetMaxOffset, kQueue, std::nullopt), "timestamp"),
      "<absent>");

  RemotingCommand found;
  found.code = response_code::kSuccess;
  found.SetExt("offset", int64_t{42});
  EXPECT_EQ(*ReadOffsetResponse(found, "x"), 42);
  RemotingCommand missing;
  missing.code = response_code::kQueryNotFound;
  EXPECT_TRUE(ReadOffsetResponse(missing, "x").status().IsNotFound());
  RemotingCommand no_field;
  no_field.code = response_code::kSuccess;
  EXPECT_FALSE(ReadOffsetResponse(no_field, "x").ok());
}

}  // namespace
}  // namespace mqclient
