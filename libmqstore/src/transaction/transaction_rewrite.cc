#include "transaction/transaction_rewrite.h"

#include <array>
#include <charconv>
#include <limits>

#include "log/record_codec.h"
#include "schedule/schedule_names.h"
#include "transaction/transaction_names.h"

namespace mqstore {
namespace {

namespace tprop = transaction::prop;
namespace sprop = schedule::prop;

// Properties asking for scheduled delivery, which a transactional message may not carry.
constexpr std::array<std::string_view, 5> kScheduleRequests = {
    property::kDelayLevel, sprop::kTimerDeliverMs, sprop::kTimerDelaySec, sprop::kTimerDelayMs,
    sprop::kStartDeliverTime};

template <size_t N>
bool IsOneOf(std::string_view name, const std::array<std::string_view, N>& names) {
  for (std::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}

// Appends the well-formed pairs of `encoded` whose name is not in `dropped` to `out`, in
// their original order.
template <size_t N>
void CopyPropertiesExcept(std::string_view encoded, const std::array<std::string_view, N>& dropped,
                          std::string* out) {
  out->reserve(out->size() + encoded.size() + 96);
  ForEachProperty(encoded, [&](std::string_view name, std::string_view value) {
    if (!IsOneOf(name, dropped)) AppendProperty(name, value, out);
  });
}

std::optional<int64_t> ParseNonNegative(std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

bool IsTransactionTopic(std::string_view topic) {
  return topic == transaction::kHalfTopic || topic == transaction::kOpTopic ||
         topic == transaction::kCheckMaxTopic;
}

// A copy of `half` (a record of the half topic) for `topic`, queue 0, with `properties`.
MessageView CopyOf(const ParsedRecord& half, std::string_view topic,
                   std::string_view properties) {
  MessageView v;
  v.topic = topic;
  v.queue_id = 0;
  v.body = half.body;
  v.flag = half.flag;
  v.properties = properties;
  // The host bits follow the addresses; the store derives them again.
  v.sys_flag = half.sys_flag & ~(sysflag::kBornHostV6 | sysflag::kStoreHostV6);
  v.born_timestamp_ms = half.born_timestamp_ms;
  v.born_host = half.born_host;
  v.reconsume_times = half.reconsume_times;
  v.prepared_transaction_offset = half.prepared_transaction_offset;
  return v;
}

}  // namespace

MessageView HalfRewrite::Apply(const MessageView& original) const {
  MessageView v = original;
  v.topic = transaction::kHalfTopic;
  v.queue_id = transaction::kHalfQueueId;
  v.properties = properties;
  v.sys_flag = original.sys_flag & ~sysflag::kTransactionMask;  // NOT_TYPE: dispatched
  return v;
}

Result<std::optional<HalfRewrite>> RewriteForHalf(const MessageView& message) {
  using Out = std::optional<HalfRewrite>;
  if (IsTransactionTopic(message.topic)) return Out();
  int32_t type = message.sys_flag & sysflag::kTransactionMask;
  bool prepared = type == sysflag::kTransactionPrepared ||
                  (type == 0 && FindProperty(message.properties, tprop::kTransactionPrepared) ==
                                    std::optional<std::string_view>("true"));
  if (!prepared) return Out();

  // Reject now what could never be committed, rather than at the end of the transaction.
  MQ_RETURN_IF_ERROR(ValidateTopic(message.topic));
  if (message.queue_id < 0) {
    return Status::InvalidArgument("queue id " + std::to_string(message.queue_id) +
                                   " is negative");
  }
  for (std::string_view request : kScheduleRequests) {
    if (FindProperty(message.properties, request)) {
      return Status::InvalidArgument("a transactional message cannot be scheduled; it has " +
                                     std::string(request));
    }
  }

  std::optional<std::string_view> unique_key =
      FindProperty(message.properties, property::kUniqueKey);
  HalfRewrite r;
  // __transactionId__ is replaced only when there is a UNIQ_KEY to replace it with.
  if (unique_key) {
    CopyPropertiesExcept(message.properties,
                         std::array<std::string_view, 7>{
                             tprop::kTransactionPrepared, sprop::kRealTopic, sprop::kRealQueueId,
                             tprop::kCheckTimes, tprop::kPreparedQueueOffset,
                             property::kRecordCrc, tprop::kTransactionId},
                         &r.properties);
  } else {
    CopyPropertiesExcept(message.properties,
                         std::array<std::string_view, 6>{
                             tprop::kTransactionPrepared, sprop::kRealTopic, sprop::kRealQueueId,
                             tprop::kCheckTimes, tprop::kPreparedQueueOffset,
                             property::kRecordCrc},
                         &r.properties);
  }
  AppendProperty(tprop::kTransactionPrepared, "true", &r.properties);
  AppendProperty(sprop::kRealTopic, message.topic, &r.properties);
  AppendProperty(sprop::kRealQueueId, std::to_string(message.queue_id), &r.properties);
  if (unique_key) AppendProperty(tprop::kTransactionId, *unique_key, &r.properties);
  return Out(std::move(r));
}

Result<RealDestination> FindRealDestination(const ParsedRecord& half) {
  std::optional<std::string_view> topic = FindProperty(half.properties, sprop::kRealTopic);
  if (!topic) {
    return Status::Corruption("half record at " + std::to_string(half.physical_offset) +
                              " has no REAL_TOPIC");
  }
  std::optional<std::string_view> qid_text = FindProperty(half.properties, sprop::kRealQueueId);
  std::optional<int64_t> qid = qid_text ? ParseNonNegative(*qid_text) : std::nullopt;
  if (!qid || *qid > std::numeric_limits<int32_t>::max()) {
    return Status::Corruption("half record at " + std::to_string(half.physical_offset) +
                              " has no valid REAL_QID");
  }
  return RealDestination{*topic, static_cast<int32_t>(*qid)};
}

Status RestoreForCommit(const ParsedRecord& half, std::string* properties, MessageView* out) {
  MQ_ASSIGN_OR_RETURN(RealDestination real, FindRealDestination(half));
  properties->clear();
  CopyPropertiesExcept(half.properties,
                       std::array<std::string_view, 6>{
                           tprop::kTransactionPrepared, sprop::kRealTopic, sprop::kRealQueueId,
                           tprop::kCheckTimes, tprop::kPreparedQueueOffset, property::kRecordCrc},
                       properties);
  MessageView v = CopyOf(half, real.topic, *properties);
  v.queue_id = real.queue_id;
  v.sys_flag = (v.sys_flag & ~sysflag::kTransactionMask) | sysflag::kTransactionCommit;
  v.prepared_transaction_offset = half.physical_offset;
  *out = v;
  return Status::OK();
}

void CopyForCheck(const ParsedRecord& half, int64_t transaction_offset, int check_times,
                  std::string* properties, MessageView* out) {
  properties->clear();
  CopyPropertiesExcept(half.properties,
                       std::array<std::string_view, 3>{tprop::kCheckTimes,
                                                       tprop::kPreparedQueueOffset,
                                                       property::kRecordCrc},
                       properties);
  AppendProperty(tprop::kCheckTimes, std::to_string(check_times), properties);
  AppendProperty(tprop::kPreparedQueueOffset, std::to_string(transaction_offset), properties);
  *out = CopyOf(half, transaction::kHalfTopic, *properties);
}

void CopyForParking(const ParsedRecord& half, std::string* properties, MessageView* out) {
  properties->clear();
  CopyPropertiesExcept(half.properties, std::array<std::string_view, 1>{property::kRecordCrc},
                       properties);
  *out = CopyOf(half, transaction::kCheckMaxTopic, *properties);
}

int64_t TransactionOffsetOf(const ParsedRecord& half) {
  std::optional<std::string_view> text =
      FindProperty(half.properties, tprop::kPreparedQueueOffset);
  std::optional<int64_t> offset = text ? ParseNonNegative(*text) : std::nullopt;
  return offset ? *offset : half.queue_offset;
}

int CheckTimesOf(std::string_view encoded_properties) {
  std::optional<std::string_view> text = FindProperty(encoded_properties, tprop::kCheckTimes);
  std::optional<int64_t> times = text ? ParseNonNegative(*text) : std::nullopt;
  if (!times) return 0;
  return static_cast<int>(std::min<int64_t>(*times, std::numeric_limits<int>::max()));
}

std::string EncodeOpBody(std::span<const int64_t> transaction_offsets) {
  std::string body;
  for (int64_t offset : transaction_offsets) {
    body += std::to_string(offset);
    body.push_back(',');
  }
  return body;
}

std::vector<int64_t> ParseOpBody(std::string_view body) {
  std::vector<int64_t> out;
  while (!body.empty()) {
    size_t end = body.find(',');
    std::string_view token = body.substr(0, end);
    body.remove_prefix(end == std::string_view::npos ? body.size() : end + 1);
    if (std::optional<int64_t> offset = ParseNonNegative(token)) out.push_back(*offset);
  }
  return out;
}

}  // namespace mqstore
