// The consumer's requests to a broker (PULL_MESSAGE, the offset queries and commits) and how
// their answers are read, shared by PullConsumer and PushConsumer so both speak alike.
// Field names and flags: ../shared/research/remoting-protocol.md, docs/format/remoting.md.
#ifndef MQCLIENT_CONSUMER_REQUESTS_H_
#define MQCLIENT_CONSUMER_REQUESTS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mqclient/message.h"
#include "mqclient/pull_consumer.h"
#include "remoting/command.h"

namespace mqclient {

struct PullRequestFields {
  std::string group;
  MessageQueue queue;
  int64_t offset = 0;
  int32_t max_messages = 32;
  std::string subscription = "*";  // tag expression, sent with every pull
  int64_t sub_version = 0;
  // How long the broker may hold the pull when nothing is there; 0 = answer at once.
  std::chrono::milliseconds suspend{0};
  // Piggy-backed as the group's committed offset when > 0.
  int64_t commit_offset = 0;
};

mqremoting::RemotingCommand MakePullRequest(const PullRequestFields& fields);

// The answer to a pull from `offset`: FOUND (messages decoded), NO_NEW_MSG, NO_MATCHED_MSG or
// OFFSET_ILLEGAL, with the broker's next/min/max offsets. Any other code is an error naming
// the queue; so is a body that does not decode.
Result<PullResult> ReadPullResponse(const mqremoting::RemotingCommand& response,
                                    const MessageQueue& queue, int64_t offset);

// QUERY_CONSUMER_OFFSET. With `zero_if_not_found` false the broker answers QUERY_NOT_FOUND for
// a group without an offset instead of 0 for a young queue.
mqremoting::RemotingCommand MakeQueryConsumerOffsetRequest(const std::string& group,
                                                           const MessageQueue& queue,
                                                           bool zero_if_not_found);
mqremoting::RemotingCommand MakeUpdateConsumerOffsetRequest(const std::string& group,
                                                            const MessageQueue& queue,
                                                            int64_t offset);
// GET_MAX_OFFSET / GET_MIN_OFFSET (no timestamp) or SEARCH_OFFSET_BY_TIMESTAMP.
mqremoting::RemotingCommand MakeQueueOffsetRequest(int32_t code, const MessageQueue& queue,
                                                   std::optional<int64_t> timestamp_ms);

// The `offset` field of a successful answer; otherwise ResponseStatus (kNotFound for
// QUERY_NOT_FOUND) naming `what`.
Result<int64_t> ReadOffsetResponse(const mqremoting::RemotingCommand& response,
                                   std::string_view what);

}  // namespace mqclient

#endif  // MQCLIENT_CONSUMER_REQUESTS_H_
