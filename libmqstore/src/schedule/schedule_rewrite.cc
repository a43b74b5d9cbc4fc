#include "schedule/schedule_rewrite.h"

#include <array>
#include <charconv>
#include <limits>

#include "schedule/schedule_names.h"

namespace mqstore {
namespace {

using schedule::kScheduleTopic;
using schedule::kTimerQueueId;
using schedule::kTimerTopic;
namespace sprop = schedule::prop;

// Properties a delivered message never carries: the request, the parking bookkeeping and
// the whole-record CRC (the store adds a fresh one).
constexpr std::array<std::string_view, 14> kNotDelivered = {
    property::kDelayLevel,    sprop::kRealTopic,      sprop::kRealQueueId,
    sprop::kTimerDeliverMs,   sprop::kTimerDelaySec,  sprop::kTimerDelayMs,
    sprop::kStartDeliverTime, sprop::kTimerOutMs,     sprop::kTimerEnqueueMs,
    sprop::kTimerDequeueMs,   sprop::kTimerRollTimes, sprop::kTimerDeleteUniqueKey,
    sprop::kTimerDelayLevel,  property::kRecordCrc,
};

}  // namespace

bool IsScheduleBookkeeping(std::string_view name) {
  // Every such name starts with one of these; most properties are rejected here.
  char c = name.empty() ? '\0' : name[0];
  if (c != 'D' && c != 'R' && c != 'T' && c != '_') return false;
  for (std::string_view n : kNotDelivered) {
    if (n == name) return true;
  }
  return false;
}

namespace {

// Appends the well-formed pairs of `encoded` that a delivered message keeps to `out`, each
// as name 0x01 value 0x02, in their original order.
void CopyDeliveredProperties(std::string_view encoded, std::string* out) {
  out->reserve(out->size() + encoded.size() + 64);
  ForEachProperty(encoded, [out](std::string_view name, std::string_view value) {
    if (!IsScheduleBookkeeping(name)) AppendProperty(name, value, out);
  });
}

std::optional<int64_t> ParseInt64(std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

Status NotAnInteger(std::string_view name, std::string_view value) {
  return Status::InvalidArgument("property " + std::string(name) + " = '" + std::string(value) +
                                 "' is not a decimal integer");
}

// The delivery time a timer request asks for; nullopt when the message has none.
Result<std::optional<int64_t>> RequestedDeliverMs(std::string_view props, int64_t now_ms) {
  struct Relative {
    std::string_view name;
    int64_t unit_ms;
  };
  for (Relative r : {Relative{sprop::kTimerDelaySec, 1000}, Relative{sprop::kTimerDelayMs, 1}}) {
    std::optional<std::string_view> value = FindProperty(props, r.name);
    if (!value) continue;
    std::optional<int64_t> delay = ParseInt64(*value);
    if (!delay) return NotAnInteger(r.name, *value);
    if (*delay < 0) {
      return Status::InvalidArgument("property " + std::string(r.name) + " = " +
                                     std::string(*value) + " is negative");
    }
    if (*delay > (std::numeric_limits<int64_t>::max() - now_ms) / r.unit_ms) {
      return Status::InvalidArgument("property " + std::string(r.name) + " = " +
                                     std::string(*value) + " is too large");
    }
    return std::optional<int64_t>(now_ms + *delay * r.unit_ms);
  }
  for (std::string_view name : {sprop::kTimerDeliverMs, sprop::kStartDeliverTime}) {
    std::optional<std::string_view> value = FindProperty(props, name);
    if (!value) continue;
    std::optional<int64_t> at = ParseInt64(*value);
    if (!at) return NotAnInteger(name, *value);
    return std::optional<int64_t>(*at);
  }
  return std::optional<int64_t>();
}

// One pass over the property names: does the message ask for scheduled delivery at all?
// Every put goes through RewriteForSchedule, and almost none does; this keeps their cost to
// one scan instead of one per request property.
bool HasScheduleRequest(std::string_view encoded) {
  bool found = false;
  ForEachProperty(encoded, [&found](std::string_view name, std::string_view) {
    if (found || name.empty() || (name[0] != 'D' && name[0] != 'T' && name[0] != '_')) return;
    found = name == property::kDelayLevel || name == sprop::kTimerDelaySec ||
            name == sprop::kTimerDelayMs || name == sprop::kTimerDeliverMs ||
            name == sprop::kStartDeliverTime;
  });
  return found;
}

ScheduleRewrite ParkedIn(const MessageView& message, std::string_view topic, int32_t queue_id) {
  ScheduleRewrite r;
  r.topic = std::string(topic);
  r.queue_id = queue_id;
  CopyDeliveredProperties(message.properties, &r.properties);
  return r;
}

void AddRealDestination(const MessageView& message, std::string* props) {
  AppendProperty(sprop::kRealTopic, message.topic, props);
  AppendProperty(sprop::kRealQueueId, std::to_string(message.queue_id), props);
}

}  // namespace

MessageView ScheduleRewrite::Apply(const MessageView& original) const {
  MessageView v = original;
  v.topic = topic;
  v.queue_id = queue_id;
  v.properties = properties;
  return v;
}

bool MayRequestSchedule(const MessageView& message) {
  if (message.topic == kScheduleTopic || message.topic == kTimerTopic) return false;
  int32_t transaction = message.sys_flag & sysflag::kTransactionMask;
  if (transaction == sysflag::kTransactionPrepared ||
      transaction == sysflag::kTransactionRollback) {
    return false;
  }
  return HasScheduleRequest(message.properties);
}

Result<std::optional<ScheduleRewrite>> RewriteForSchedule(const MessageView& message,
                                                          const ScheduleRewriteOptions& options,
                                                          int64_t now_ms) {
  using Out = std::optional<ScheduleRewrite>;
  if (!MayRequestSchedule(message)) return Out();

  if (std::optional<std::string_view> delay =
          FindProperty(message.properties, property::kDelayLevel)) {
    std::optional<int64_t> level = ParseInt64(*delay);
    if (!level) return NotAnInteger(property::kDelayLevel, *delay);
    if (*level > 0) {
      int clamped = options.levels.Clamp(
          static_cast<int>(std::min<int64_t>(*level, DelayLevels::kMaxLevels)));
      ScheduleRewrite r = ParkedIn(message, kScheduleTopic, DelayLevels::QueueIdOf(clamped));
      r.kind = ScheduleKind::kDelayLevel;
      r.delay_level = clamped;
      AppendProperty(property::kDelayLevel, std::to_string(clamped), &r.properties);
      AddRealDestination(message, &r.properties);
      return Out(std::move(r));
    }
  }

  if (!options.timer_enabled) return Out();
  MQ_ASSIGN_OR_RETURN(std::optional<int64_t> deliver_ms,
                      RequestedDeliverMs(message.properties, now_ms));
  if (!deliver_ms || *deliver_ms <= now_ms) return Out();
  if (*deliver_ms - now_ms > options.timer_max_delay_ms) {
    return Status::InvalidArgument(
        "timer delivery time " + std::to_string(*deliver_ms) + " is " +
        std::to_string(*deliver_ms - now_ms) + " ms ahead; the limit is " +
        std::to_string(options.timer_max_delay_ms) + " ms (timer_max_delay_ms)");
  }
  ScheduleRewrite r = ParkedIn(message, kTimerTopic, kTimerQueueId);
  r.kind = ScheduleKind::kTimer;
  r.deliver_ms = *deliver_ms;
  AppendProperty(sprop::kTimerOutMs, std::to_string(*deliver_ms), &r.properties);
  AddRealDestination(message, &r.properties);
  return Out(std::move(r));
}

Status RestoreForDelivery(const ParsedRecord& record, std::string* properties, MessageView* out) {
  // One pass over the properties: pick up the real destination, copy everything that a
  // delivered message keeps (this runs once per delivered message).
  properties->clear();
  properties->reserve(record.properties.size());
  std::optional<std::string_view> topic;
  std::optional<std::string_view> qid_text;
  ForEachProperty(record.properties, [&](std::string_view name, std::string_view value) {
    if (!IsScheduleBookkeeping(name)) {
      AppendProperty(name, value, properties);
    } else if (name == sprop::kRealTopic) {
      if (!topic) topic = value;
    } else if (name == sprop::kRealQueueId) {
      if (!qid_text) qid_text = value;
    }
  });
  if (!topic) {
    return Status::Corruption("parked record at " + std::to_string(record.physical_offset) +
                              " has no REAL_TOPIC");
  }
  std::optional<int64_t> qid = qid_text ? ParseInt64(*qid_text) : std::nullopt;
  if (!qid || *qid < 0 || *qid > std::numeric_limits<int32_t>::max()) {
    return Status::Corruption("parked record at " + std::to_string(record.physical_offset) +
                              " has no valid REAL_QID");
  }

  MessageView v;
  v.topic = *topic;
  v.queue_id = static_cast<int32_t>(*qid);
  v.body = record.body;
  v.flag = record.flag;
  v.properties = *properties;
  // The host bits follow the addresses; the store derives them again.
  v.sys_flag = record.sys_flag & ~(sysflag::kBornHostV6 | sysflag::kStoreHostV6);
  v.born_timestamp_ms = record.born_timestamp_ms;
  v.born_host = record.born_host;
  v.reconsume_times = record.reconsume_times;
  v.prepared_transaction_offset = record.prepared_transaction_offset;
  *out = v;
  return Status::OK();
}

std::optional<int64_t> TimerOutMs(std::string_view encoded_properties) {
  std::optional<std::string_view> value = FindProperty(encoded_properties, sprop::kTimerOutMs);
  if (!value) return std::nullopt;
  return ParseInt64(*value);
}

}  // namespace mqstore
