#include "consumer_requests.h"

#include <string>
#include <utility>

#include "mqclient/name_server_client.h"
#include "remoting/codes.h"
#include "remoting/heartbeat_data.h"

namespace mqclient {

using mqremoting::RemotingCommand;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;

namespace {

// PullSysFlag bits.
constexpr int32_t kCommitOffsetFlag = 1 << 0;
constexpr int32_t kSuspendFlag = 1 << 1;
constexpr int32_t kSubscriptionFlag = 1 << 2;

void SetQueue(const MessageQueue& queue, RemotingCommand* request) {
  request->SetExt("topic", queue.topic);
  request->SetExt("queueId", queue.queue_id);
}

}  // namespace

RemotingCommand MakePullRequest(const PullRequestFields& fields) {
  RemotingCommand request = RemotingCommand::Request(request_code::kPullMessage);
  request.SetExt("consumerGroup", fields.group);
  SetQueue(fields.queue, &request);
  request.SetExt("queueOffset", fields.offset);
  request.SetExt("maxMsgNums", fields.max_messages);
  const bool commit = fields.commit_offset > 0;
  request.SetExt("sysFlag", kSubscriptionFlag | (fields.suspend.count() > 0 ? kSuspendFlag : 0) |
                                (commit ? kCommitOffsetFlag : 0));
  request.SetExt("commitOffset", commit ? fields.commit_offset : int64_t{0});
  request.SetExt("suspendTimeoutMillis", static_cast<int64_t>(fields.suspend.count()));
  request.SetExt("subscription", fields.subscription);
  request.SetExt("subVersion", fields.sub_version);
  request.SetExt("expressionType", std::string(mqremoting::kExpressionTypeTag));
  return request;
}

Result<PullResult> ReadPullResponse(const RemotingCommand& response, const MessageQueue& queue,
                                    int64_t offset) {
  PullResult result;
  switch (response.code) {
    case response_code::kSuccess:
      result.status = PullStatus::kFound;
      break;
    case response_code::kPullNotFound:
      result.status = PullStatus::kNoNewMessage;
      break;
    case response_code::kPullRetryImmediately:
      result.status = PullStatus::kNoMatchedMessage;
      break;
    case response_code::kPullOffsetMoved:
      result.status = PullStatus::kOffsetIllegal;
      break;
    default:
      return ResponseStatus(response, "pull from " + queue.ToString());
  }
  mqremoting::ExtFieldReader fields(response);
  result.next_begin_offset = fields.OptLong("nextBeginOffset").value_or(offset);
  result.min_offset = fields.OptLong("minOffset").value_or(0);
  result.max_offset = fields.OptLong("maxOffset").value_or(0);
  MQ_RETURN_IF_ERROR(fields.status());
  if (result.status == PullStatus::kFound) {
    // A received frame holds its body in `body`; decode it in place rather than through
    // BodyBytes(), which would copy every message of the batch once more.
    std::string joined;
    std::string_view body = response.body;
    if (!response.body_slices.empty()) {
      joined = response.BodyBytes();
      body = joined;
    }
    MQ_ASSIGN_OR_RETURN(result.messages, DecodeMessages(body));
  }
  return result;
}

RemotingCommand MakeQueryConsumerOffsetRequest(const std::string& group, const MessageQueue& queue,
                                               bool zero_if_not_found) {
  RemotingCommand request = RemotingCommand::Request(request_code::kQueryConsumerOffset);
  request.SetExt("consumerGroup", group);
  SetQueue(queue, &request);
  request.SetExt("setZeroIfNotFound", zero_if_not_found);
  return request;
}

RemotingCommand MakeUpdateConsumerOffsetRequest(const std::string& group, const MessageQueue& queue,
                                                int64_t offset) {
  RemotingCommand request = RemotingCommand::Request(request_code::kUpdateConsumerOffset);
  request.SetExt("consumerGroup", group);
  SetQueue(queue, &request);
  request.SetExt("commitOffset", offset);
  return request;
}

RemotingCommand MakeQueueOffsetRequest(int32_t code, const MessageQueue& queue,
                                       std::optional<int64_t> timestamp_ms) {
  RemotingCommand request = RemotingCommand::Request(code);
  SetQueue(queue, &request);
  if (timestamp_ms) request.SetExt("timestamp", *timestamp_ms);
  return request;
}

Result<int64_t> ReadOffsetResponse(const RemotingCommand& response, std::string_view what) {
  if (response.code != response_code::kSuccess) return ResponseStatus(response, what);
  mqremoting::ExtFieldReader fields(response);
  int64_t offset = fields.Long("offset");
  MQ_RETURN_IF_ERROR(fields.status());
  return offset;
}

}  // namespace mqclient
