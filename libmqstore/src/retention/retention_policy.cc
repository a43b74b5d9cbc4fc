#include "retention/retention_policy.h"

#include <charconv>

namespace mqstore {

RetentionPolicyOptions RetentionPolicyOptions::From(const StoreOptions& options) {
  RetentionPolicyOptions o;
  o.file_reserved_ms = options.file_reserved_ms;
  o.delete_when = options.delete_when;
  o.disk_clean_percent = options.disk_clean_percent;
  o.disk_force_clean_percent = options.disk_force_clean_percent;
  o.disk_refuse_writes_percent = options.disk_refuse_writes_percent;
  o.max_segments_per_round = options.retention_max_segments_per_round;
  return o;
}

Result<std::bitset<24>> ParseDeleteWhen(std::string_view text) {
  std::bitset<24> hours;
  if (text.empty()) {
    return Status::InvalidArgument("delete_when is empty; expected hours like \"04\" or \"01;04\"");
  }
  size_t start = 0;
  while (true) {
    size_t stop = text.find(';', start);
    std::string_view item = text.substr(start, stop == std::string_view::npos ? text.size() - start
                                                                              : stop - start);
    int hour = -1;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), hour);
    if (item.empty() || item.size() > 2 || ec != std::errc() || end != item.data() + item.size() ||
        hour < 0 || hour > 23) {
      return Status::InvalidArgument("delete_when \"" + std::string(text) + "\": \"" +
                                     std::string(item) +
                                     "\" is not an hour 0..23 (hours are separated by ';')");
    }
    hours.set(static_cast<size_t>(hour));
    if (stop == std::string_view::npos) break;
    start = stop + 1;
  }
  return hours;
}

Result<RetentionPolicy> RetentionPolicy::Create(RetentionPolicyOptions options) {
  MQ_ASSIGN_OR_RETURN(std::bitset<24> hours, ParseDeleteWhen(options.delete_when));
  if (options.file_reserved_ms <= 0) {
    return Status::InvalidArgument("file_reserved_ms must be positive");
  }
  for (int percent : {options.disk_clean_percent, options.disk_force_clean_percent,
                      options.disk_refuse_writes_percent}) {
    if (percent < 1 || percent > 100) {
      return Status::InvalidArgument("disk usage thresholds must be in 1..100 percent, not " +
                                     std::to_string(percent));
    }
  }
  if (options.max_segments_per_round <= 0) {
    return Status::InvalidArgument("retention_max_segments_per_round must be positive");
  }
  return RetentionPolicy(std::move(options), hours);
}

RetentionDecision RetentionPolicy::Decide(int local_hour, double disk_used_percent) const {
  RetentionDecision d;
  d.refuse_writes = disk_used_percent > options_.disk_refuse_writes_percent;
  // A disk so full that writes stop must also get space back without waiting for age.
  d.delete_unexpired =
      d.refuse_writes || disk_used_percent > options_.disk_force_clean_percent;
  bool in_delete_hour =
      local_hour >= 0 && local_hour < 24 && delete_hours_.test(static_cast<size_t>(local_hour));
  d.delete_expired =
      d.delete_unexpired || in_delete_hour || disk_used_percent > options_.disk_clean_percent;
  return d;
}

bool RetentionPolicy::IsExpired(const SegmentAge& segment, int64_t now_ms) const {
  if (!segment.stored_before_ms) return false;
  // Written as a difference so that a huge file_reserved_ms cannot overflow.
  return now_ms - *segment.stored_before_ms >= options_.file_reserved_ms;
}

bool RetentionPolicy::ShouldDelete(const RetentionDecision& decision, const SegmentAge& segment,
                                   int64_t now_ms) const {
  if (decision.delete_unexpired) return true;
  return decision.delete_expired && IsExpired(segment, now_ms);
}

}  // namespace mqstore
