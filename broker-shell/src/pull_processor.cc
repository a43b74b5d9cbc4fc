#include "pull_processor.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "client_manage_processor.h"
#include "client_registry.h"
#include "consumer_offset_manager.h"
#include "mqstore/metadata.h"
#include "mqstore/store.h"
#include "pull_hold_service.h"
#include "pull_stats.h"
#include "remoting/codes.h"
#include "remoting/tag_filter.h"
#include "topic_manager.h"

namespace mqbroker {

using mqremoting::ExtFieldReader;
using mqremoting::ParseTagExpression;
using mqremoting::RemotingCommand;
using mqremoting::TagFilter;
using mqremoting::TagFilterFromSubscription;
namespace response_code = mqremoting::response_code;

namespace {

// PullSysFlag bits.
constexpr int32_t kCommitOffsetFlag = 1 << 0;
constexpr int32_t kSuspendFlag = 1 << 1;
constexpr int32_t kSubscriptionFlag = 1 << 2;

// Reads beyond the first when every message read was filtered out, before answering
// PULL_RETRY_IMMEDIATELY.
constexpr int kFilteredReadRounds = 8;

struct PullHeader {
  std::string group;
  std::string topic;
  int32_t queue_id = 0;
  int64_t queue_offset = 0;
  int32_t max_messages = 32;
  int32_t sys_flag = 0;
  int64_t commit_offset = -1;
  int64_t suspend_timeout_ms = 0;
  int64_t sub_version = 0;
  std::optional<std::string> subscription;
  std::string expression_type;
  std::optional<int32_t> max_bytes;
};

mqstore::Result<PullHeader> ParsePullHeader(const RemotingCommand& request) {
  ExtFieldReader fields(request);
  PullHeader h;
  h.group = fields.String("consumerGroup");
  h.topic = fields.String("topic");
  h.queue_id = fields.Int("queueId");
  h.queue_offset = fields.Long("queueOffset");
  h.max_messages = fields.Int("maxMsgNums");
  h.sys_flag = fields.Int("sysFlag");
  h.commit_offset = fields.Long("commitOffset");
  h.suspend_timeout_ms = fields.Long("suspendTimeoutMillis");
  h.sub_version = fields.Long("subVersion");
  h.subscription = fields.OptString("subscription");
  h.expression_type =
      fields.OptString("expressionType").value_or(std::string(mqremoting::kExpressionTypeTag));
  h.max_bytes = fields.OptInt("maxMsgBytes");
  if (!fields.status().ok()) return fields.status();
  return h;
}

RemotingCommand PullResponse(const RemotingCommand& request, int32_t code, std::string_view remark,
                             int64_t next_offset, int64_t min_offset, int64_t max_offset) {
  RemotingCommand response = RemotingCommand::ResponseTo(request, code, remark);
  response.SetExt("suggestWhichBrokerId", int64_t{0});
  response.SetExt("nextBeginOffset", next_offset);
  response.SetExt("minOffset", min_offset);
  response.SetExt("maxOffset", max_offset);
  return response;
}

bool Matches(const TagFilter& filter, const mqstore::StoredMessage& message) {
  if (filter.matches_all()) return true;
  mqstore::ParsedRecord record;
  if (!mqstore::ParseRecord(message.record, /*verify_checksums=*/false, &record).ok()) {
    return false;
  }
  std::optional<std::string_view> tags =
      mqstore::FindProperty(record.properties, mqstore::property::kTags);
  return tags && filter.MatchesTag(*tags);
}

}  // namespace

void PullProcessor::Process(const std::shared_ptr<mqremoting::Connection>& connection,
                            RemotingCommand request) {
  Pull(connection, std::make_shared<const RemotingCommand>(std::move(request)),
       /*may_suspend=*/true);
}

void PullProcessor::Pull(const std::shared_ptr<mqremoting::Connection>& connection,
                         const std::shared_ptr<const RemotingCommand>& request_ptr,
                         bool may_suspend) {
  const RemotingCommand& request = *request_ptr;
  mqstore::Result<PullHeader> parsed = ParsePullHeader(request);
  if (!parsed.ok()) {
    ReplyError(connection, request, response_code::kSystemError, parsed.status().message());
    return;
  }
  const PullHeader& header = *parsed;

  std::optional<mqstore::TopicConfig> topic = context_->topics->Find(header.topic);
  if (!topic) {
    ReplyError(connection, request, response_code::kTopicNotExist,
               "topic[" + header.topic + "] not exist, apply first please!");
    return;
  }
  if ((topic->perm & mqstore::perm::kRead) == 0) {
    ReplyError(connection, request, response_code::kNoPermission,
               "the topic[" + header.topic + "] pulling message is forbidden");
    return;
  }
  if (header.queue_id < 0 || header.queue_id >= topic->read_queue_nums) {
    ReplyError(connection, request, response_code::kSystemError,
               "queueId[" + std::to_string(header.queue_id) + "] is illegal, topic:[" +
                   header.topic + "] topicConfig.readQueueNums:[" +
                   std::to_string(topic->read_queue_nums) + "] consumer:[" +
                   connection->remote_address() + "]");
    return;
  }
  if (mqstore::MetadataStore* meta = context_->store->metadata()) {
    mqstore::Result<mqstore::SubscriptionGroupConfig> group =
        meta->GetSubscriptionGroup(header.group);
    if (!group.ok() && settings_.auto_create_subscription_group) {
      mqstore::SubscriptionGroupConfig config;
      config.group_name = header.group;
      mqstore::Status created = meta->PutSubscriptionGroup(config);
      if (created.ok()) group = config;
    }
    if (!group.ok()) {
      ReplyError(connection, request, response_code::kSubscriptionGroupNotExist,
                 "subscription group [" + header.group + "] does not exist");
      return;
    }
    if (!group->consume_enable) {
      ReplyError(connection, request, response_code::kNoPermission,
                 "subscription group no permission, " + header.group);
      return;
    }
  }

  // The filter: the one this request carries, else the one the group's heartbeat registered.
  mqstore::Result<TagFilter> filter = mqstore::Status::NotFound("");
  if ((header.sys_flag & kSubscriptionFlag) != 0) {
    filter =
        ParseTagExpression(header.subscription.value_or(std::string(mqremoting::kSubscribeAll)),
                           header.expression_type);
    if (!filter.ok()) {
      ReplyError(connection, request, response_code::kSubscriptionParseFailed,
                 "parse the consumer's subscription[" + header.subscription.value_or("") +
                     "] failed: " + filter.status().ToString());
      return;
    }
  } else {
    std::optional<mqremoting::SubscriptionData> registered =
        context_->clients->FindSubscription(header.group, header.topic);
    if (!registered) {
      ReplyError(connection, request, response_code::kSubscriptionNotExist,
                 "the consumer's subscription not exist, group: " + header.group +
                     " topic: " + header.topic);
      return;
    }
    if (registered->sub_version < header.sub_version) {
      ReplyError(connection, request, response_code::kSubscriptionNotLatest,
                 "the consumer's subscription not latest");
      return;
    }
    filter = TagFilterFromSubscription(*registered);
    if (!filter.ok()) {
      ReplyError(connection, request, response_code::kSubscriptionParseFailed,
                 filter.status().ToString());
      return;
    }
  }

  if (may_suspend && (header.sys_flag & kCommitOffsetFlag) != 0) {
    context_->offsets->Commit(header.group, header.topic, header.queue_id, header.commit_offset);
  }

  const int32_t max_messages = std::clamp(header.max_messages, 1, 1024);
  const uint64_t max_bytes =
      header.max_bytes && *header.max_bytes > 0
          ? std::min<uint64_t>(*header.max_bytes, settings_.max_transfer_bytes)
          : settings_.max_transfer_bytes;
  int64_t offset = header.queue_offset;
  for (int round = 0;; ++round) {
    mqstore::Result<mqstore::ReadResult> read =
        context_->store->Read(header.topic, header.queue_id, offset, max_messages, max_bytes);
    if (!read.ok()) {
      ReplyError(connection, request, response_code::kSystemError, read.status().ToString());
      return;
    }
    mqstore::ReadResult& result = *read;
    switch (result.status) {
      case mqstore::ReadStatus::kFound: {
        auto pins =
            std::make_shared<std::vector<std::shared_ptr<const void>>>(std::move(result.pins));
        RemotingCommand response =
            PullResponse(request, response_code::kSuccess, "FOUND", result.next_offset,
                         result.min_offset, result.max_offset);
        for (const mqstore::StoredMessage& message : result.messages) {
          if (!Matches(*filter, message)) continue;
          response.body_slices.push_back({message.record, std::shared_ptr<const void>(pins)});
        }
        if (!response.body_slices.empty()) {
          if (context_->pull_stats != nullptr) {
            context_->pull_stats->RecordPull(
                header.group, header.topic, header.queue_id, result.next_offset,
                static_cast<int64_t>(response.body_slices.size()), WallClockMs());
          }
          Reply(connection, request, std::move(response));
          return;
        }
        offset = result.next_offset;
        if (round + 1 < kFilteredReadRounds && offset < result.max_offset) continue;
        Reply(connection, request,
              PullResponse(request, response_code::kPullRetryImmediately, "NO_MATCHED_MESSAGE",
                           offset, result.min_offset, result.max_offset));
        return;
      }
      case mqstore::ReadStatus::kNoNewMessage:
      case mqstore::ReadStatus::kNoSuchQueue: {
        if (result.status == mqstore::ReadStatus::kNoSuchQueue && offset != 0) {
          Reply(connection, request,
                PullResponse(request, response_code::kPullOffsetMoved, "NO_MESSAGE_IN_QUEUE", 0, 0,
                             0));
          return;
        }
        // Filtered reads moved the offset on: answer so the client continues from there.
        if (offset != header.queue_offset) {
          Reply(connection, request,
                PullResponse(request, response_code::kPullRetryImmediately, "NO_MATCHED_MESSAGE",
                             offset, result.min_offset, result.max_offset));
          return;
        }
        const bool suspend = may_suspend && (header.sys_flag & kSuspendFlag) != 0;
        if (!suspend) {
          Reply(connection, request,
                PullResponse(request, response_code::kPullNotFound, "OFFSET_OVERFLOW_ONE", offset,
                             result.min_offset, result.max_offset));
          return;
        }
        std::chrono::milliseconds hold =
            settings_.long_polling_enable
                ? std::min(
                      std::chrono::milliseconds(std::max<int64_t>(header.suspend_timeout_ms, 0)),
                      settings_.max_suspend)
                : settings_.short_polling_time;
        auto deadline = PullHoldService::Clock::now() + hold;
        context_->holds->Hold(header.topic, header.queue_id, offset, deadline,
                              [this, connection, request_ptr] {
                                bool queued = executor_->TrySubmit([this, connection, request_ptr] {
                                  Pull(connection, request_ptr, /*may_suspend=*/false);
                                });
                                if (!queued) {
                                  ReplyError(connection, *request_ptr, response_code::kSystemBusy,
                                             "[REJECTREQUEST]system busy, start flow control for "
                                             "a while");
                                }
                              });
        return;
      }
      case mqstore::ReadStatus::kOffsetTooSmall:
        Reply(connection, request,
              PullResponse(request, response_code::kPullOffsetMoved, "OFFSET_TOO_SMALL",
                           result.next_offset, result.min_offset, result.max_offset));
        return;
      case mqstore::ReadStatus::kOffsetTooLarge:
        Reply(connection, request,
              PullResponse(request, response_code::kPullOffsetMoved, "OFFSET_OVERFLOW_BADLY",
                           result.next_offset, result.min_offset, result.max_offset));
        return;
    }
  }
}

}  // namespace mqbroker
