#include "offset_processor.h"

#include <optional>
#include <string>

#include "consumer_offset_manager.h"
#include "mqstore/store.h"
#include "remoting/codes.h"

namespace mqbroker {

using mqremoting::ExtFieldReader;
using mqremoting::RemotingCommand;
namespace response_code = mqremoting::response_code;
namespace request_code = mqremoting::request_code;

namespace {

RemotingCommand OffsetResponse(const RemotingCommand& request, std::string_view field,
                               int64_t value) {
  RemotingCommand response = RemotingCommand::ResponseTo(request, response_code::kSuccess);
  response.SetExt(std::string(field), value);
  return response;
}

}  // namespace

void OffsetProcessor::Process(const std::shared_ptr<mqremoting::Connection>& connection,
                              RemotingCommand request) {
  ExtFieldReader fields(request);
  const bool grouped = request.code == request_code::kQueryConsumerOffset ||
                       request.code == request_code::kUpdateConsumerOffset;
  std::string group = grouped ? fields.String("consumerGroup") : std::string();
  std::string topic = fields.String("topic");
  int32_t queue_id = fields.Int("queueId");
  if (!fields.status().ok()) {
    ReplyError(connection, request, response_code::kSystemError, fields.status().message());
    return;
  }
  mqstore::Store* store = context_->store;

  switch (request.code) {
    case request_code::kQueryConsumerOffset: {
      bool zero_if_not_found = fields.OptBool("setZeroIfNotFound").value_or(true);
      if (std::optional<int64_t> offset = context_->offsets->Query(group, topic, queue_id)) {
        Reply(connection, request, OffsetResponse(request, "offset", *offset));
        return;
      }
      mqstore::Result<mqstore::QueueBounds> bounds = store->GetQueueBounds(topic, queue_id);
      if (zero_if_not_found && (!bounds.ok() || bounds->min_offset <= 0)) {
        Reply(connection, request, OffsetResponse(request, "offset", 0));
        return;
      }
      ReplyError(connection, request, response_code::kQueryNotFound,
                 "Not found, maybe this group consumer boot first");
      return;
    }
    case request_code::kUpdateConsumerOffset: {
      int64_t commit_offset = fields.Long("commitOffset");
      if (!fields.status().ok()) {
        ReplyError(connection, request, response_code::kSystemError, fields.status().message());
        return;
      }
      context_->offsets->Commit(group, topic, queue_id, commit_offset);
      Reply(connection, request, RemotingCommand::ResponseTo(request, response_code::kSuccess));
      return;
    }
    case request_code::kGetMaxOffset:
    case request_code::kGetMinOffset: {
      mqstore::Result<mqstore::QueueBounds> bounds = store->GetQueueBounds(topic, queue_id);
      int64_t offset = 0;
      if (bounds.ok()) {
        offset =
            request.code == request_code::kGetMaxOffset ? bounds->max_offset : bounds->min_offset;
      }
      Reply(connection, request, OffsetResponse(request, "offset", offset));
      return;
    }
    case request_code::kSearchOffsetByTimestamp: {
      int64_t timestamp = fields.Long("timestamp");
      if (!fields.status().ok()) {
        ReplyError(connection, request, response_code::kSystemError, fields.status().message());
        return;
      }
      mqstore::Result<int64_t> offset = store->GetQueueOffsetByTime(topic, queue_id, timestamp);
      Reply(connection, request, OffsetResponse(request, "offset", offset.ok() ? *offset : 0));
      return;
    }
    case request_code::kGetEarliestMsgStoreTime: {
      mqstore::Result<int64_t> time = store->GetEarliestStoreTime(topic, queue_id);
      Reply(connection, request, OffsetResponse(request, "timestamp", time.ok() ? *time : -1));
      return;
    }
    default:
      ReplyError(connection, request, response_code::kRequestCodeNotSupported,
                 " request type " + std::to_string(request.code) + " not supported");
  }
}

}  // namespace mqbroker
