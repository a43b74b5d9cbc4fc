#include "retry/send_back.h"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <string_view>

#include "log/record_codec.h"
#include "meta/meta_validation.h"
#include "mqstore/transaction.h"
#include "schedule/schedule_names.h"
#include "schedule/schedule_rewrite.h"
#include "transaction/transaction_names.h"

namespace mqstore {
namespace {

// Properties the copy does not inherit: the whole-record CRC, schedule requests and their
// bookkeeping (the schedule's own list, so both stay in step), put-time instructions that
// would act again (WAIT; TRAN_MSG, which would make the copy a new half message), and the
// reconsume count, which is rewritten.
bool IsInherited(std::string_view name) {
  return !IsScheduleBookkeeping(name) && name != property::kWaitStoreMsgOk &&
         name != property::kReconsumeTime && name != transaction::prop::kTransactionPrepared;
}

// Topics whose records are parked or bookkeeping: nobody consumes them, so nobody sends them
// back.
constexpr std::array<std::string_view, 5> kSystemTopics = {
    schedule::kScheduleTopic, schedule::kTimerTopic,       transaction::kHalfTopic,
    transaction::kOpTopic,    transaction::kCheckMaxTopic,
};

// FNV-1a: stable across builds and platforms (std::hash is not), so a message's retries land
// in the same retry queue wherever the store runs.
uint32_t Fnv1a(std::string_view text) {
  uint32_t h = 2166136261u;
  for (char c : text) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

Status CheckConsumable(const ParsedRecord& record) {
  std::string where = "record at " + std::to_string(record.physical_offset);
  if (std::find(kSystemTopics.begin(), kSystemTopics.end(), record.topic) != kSystemTopics.end()) {
    return Status::InvalidArgument(where + " is in system topic " + std::string(record.topic) +
                                   ", which no consumer reads");
  }
  int32_t transaction = record.sys_flag & sysflag::kTransactionMask;
  if (transaction == sysflag::kTransactionPrepared ||
      transaction == sysflag::kTransactionRollback) {
    return Status::InvalidArgument(where + " is a prepared or rolled-back transactional message");
  }
  return Status::OK();
}

Status CheckGroupTopics(std::string_view group) {
  MQ_RETURN_IF_ERROR(ValidateGroupName(group));
  // The DLQ topic has no long-name allowance (only %RETRY% topics may exceed 127
  // characters); checked on every send-back so that a group cannot retry 16 times and then
  // find its dead-letter topic refused.
  return ValidateTopic(DlqTopic(group))
      .WithContext("group '" + std::string(group) + "' has no valid dead-letter topic");
}

// Registers `name` with `queue_nums` queues unless it is registered; refuses a registered
// topic that may not be written.
Status EnsureTopic(MetadataStore& metadata, const std::string& name, int32_t queue_nums) {
  Result<TopicConfig> existing = metadata.GetTopic(name);
  if (existing.ok()) {
    if ((existing->perm & perm::kWrite) == 0) {
      return Status::FailedPrecondition("topic " + name + " is not writable (perm " +
                                        std::to_string(existing->perm) + ")");
    }
    return Status::OK();
  }
  if (!existing.status().IsNotFound()) return existing.status();
  TopicConfig config;
  config.name = name;
  config.read_queue_nums = queue_nums;
  config.write_queue_nums = queue_nums;
  config.perm = perm::kReadWrite;
  return metadata.PutTopic(config).WithContext("registering " + name);
}

}  // namespace

MessageView SendBackPlan::Apply(const ParsedRecord& record) const {
  MessageView v;
  v.topic = topic;
  v.queue_id = queue_id;
  v.body = record.body;
  v.flag = record.flag;
  v.properties = properties;
  // Compression and multi-tag bits stay (the body is stored as it was). The host bits follow
  // the addresses, which the store derives again; the transaction bits go: the copy is an
  // ordinary message, not part of a transaction.
  v.sys_flag =
      record.sys_flag & ~(sysflag::kBornHostV6 | sysflag::kStoreHostV6 | sysflag::kTransactionMask);
  v.born_timestamp_ms = record.born_timestamp_ms;
  v.born_host = record.born_host;
  v.reconsume_times = reconsume_times;
  v.prepared_transaction_offset = 0;
  return v;
}

Result<RetryPolicy> ResolveRetryPolicy(MetadataStore* metadata, const SendBackRequest& request) {
  MQ_RETURN_IF_ERROR(CheckGroupTopics(request.group));
  if (request.max_reconsume_times && *request.max_reconsume_times < 0) {
    return Status::InvalidArgument("max_reconsume_times " +
                                   std::to_string(*request.max_reconsume_times) + " is negative");
  }
  RetryPolicy policy;
  if (metadata != nullptr) {
    Result<SubscriptionGroupConfig> group = metadata->GetSubscriptionGroup(request.group);
    if (group.ok()) {
      policy.retry_queue_nums = group->retry_queue_nums;
      policy.max_reconsume_times = group->retry_max_times;
    } else if (!group.status().IsNotFound()) {
      return group.status();
    } else if (request.require_registered_group) {
      return Status::NotFound("subscription group '" + request.group + "' is not registered");
    }
  }
  if (request.max_reconsume_times) policy.max_reconsume_times = *request.max_reconsume_times;
  return policy;
}

Result<SendBackPlan> PlanSendBack(const ParsedRecord& record, const SendBackRequest& request,
                                  const RetryPolicy& policy, const std::string& offset_message_id) {
  MQ_RETURN_IF_ERROR(CheckConsumable(record));
  MQ_RETURN_IF_ERROR(CheckGroupTopics(request.group));

  // A negative count can only come from a producer that set one; count it as none.
  int32_t times = std::max(record.reconsume_times, 0);
  SendBackPlan plan;
  plan.reconsume_times = times == std::numeric_limits<int32_t>::max() ? times : times + 1;
  // RocketMQ compares the count before this send-back: with the default 16, the 16th
  // send-back (count 15) still retries, the 17th dead-letters.
  plan.dead_lettered = times >= policy.max_reconsume_times || request.delay_level < 0;

  // One pass: copy what the copy inherits, noting the retry bookkeeping already present.
  plan.properties.reserve(record.properties.size() + 128);
  bool has_retry_topic = false;
  std::optional<std::string_view> origin_id;
  std::optional<std::string_view> unique_key;
  ForEachProperty(record.properties, [&](std::string_view name, std::string_view value) {
    if (!IsInherited(name)) return;
    AppendProperty(name, value, &plan.properties);
    if (name == property::kRetryTopic) has_retry_topic = true;
    if (name == property::kOriginMessageId && !origin_id) origin_id = value;
    if (name == property::kUniqueKey && !unique_key) unique_key = value;
  });
  // A message already retried keeps the topic it was first consumed from.
  if (!has_retry_topic) AppendProperty(property::kRetryTopic, record.topic, &plan.properties);
  if (!origin_id) {
    if (!request.origin_message_id.empty()) {
      origin_id = request.origin_message_id;
    } else if (unique_key) {
      origin_id = unique_key;
    } else {
      origin_id = offset_message_id;
    }
    AppendProperty(property::kOriginMessageId, *origin_id, &plan.properties);
  }
  AppendProperty(property::kReconsumeTime, std::to_string(plan.reconsume_times), &plan.properties);

  if (plan.dead_lettered) {
    plan.topic = DlqTopic(request.group);
    plan.queue_id = 0;
    plan.delay_level = 0;
    return plan;
  }
  if (policy.retry_queue_nums <= 0) {
    return Status::InvalidArgument("group '" + request.group +
                                   "' has no retry queues (retry_queue_nums " +
                                   std::to_string(policy.retry_queue_nums) + ")");
  }
  plan.topic = RetryTopic(request.group);
  plan.queue_id =
      static_cast<int32_t>(Fnv1a(*origin_id) % static_cast<uint32_t>(policy.retry_queue_nums));
  int64_t level =
      request.delay_level > 0 ? request.delay_level : int64_t{kRetryDelayLevelBase} + times;
  plan.delay_level =
      static_cast<int32_t>(std::min<int64_t>(level, std::numeric_limits<int32_t>::max()));
  AppendProperty(property::kDelayLevel, std::to_string(plan.delay_level), &plan.properties);
  return plan;
}

Result<SendBackResult> SendMessageBack(Store& store, MetadataStore* metadata,
                                       const SendBackRequest& request) {
  if (request.physical_offset < 0) {
    return Status::InvalidArgument("physical offset " + std::to_string(request.physical_offset) +
                                   " is negative");
  }
  MQ_ASSIGN_OR_RETURN(RetryPolicy policy, ResolveRetryPolicy(metadata, request));

  Result<RecordView> view = store.ReadRecord(request.physical_offset);
  if (!view.ok()) {
    return view.status().WithContext("send-back of the record at physical offset " +
                                     std::to_string(request.physical_offset));
  }
  // Checksums are verified: a damaged body must not be copied on under a fresh CRC.
  ParsedRecord record;
  MQ_RETURN_IF_ERROR(ParseRecord(view->bytes, /*verify_checksums=*/true, &record));
  MQ_ASSIGN_OR_RETURN(SendBackPlan plan,
                      PlanSendBack(record, request, policy,
                                   MakeOffsetMessageId(record.store_host, record.physical_offset)));

  if (metadata != nullptr) {
    MQ_RETURN_IF_ERROR(
        EnsureTopic(*metadata, plan.topic, plan.dead_lettered ? 1 : policy.retry_queue_nums));
  }
  // No WAIT=false (RocketMQ sets it): under FlushMode::kSync the put returns once the copy is
  // durable, because the caller is about to commit its offset past the original.
  MQ_ASSIGN_OR_RETURN(PutResult put, store.Put(plan.Apply(record)));

  SendBackResult result;
  result.put = put;
  result.topic = std::move(plan.topic);
  result.queue_id = plan.queue_id;
  result.reconsume_times = plan.reconsume_times;
  result.dead_lettered = plan.dead_lettered;
  result.delay_level = plan.delay_level;
  return result;
}

}  // namespace mqstore
