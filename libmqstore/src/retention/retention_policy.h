// RetentionPolicy: the decisions of retention, from plain values. Whether a round deletes
// commit-log segments and which ones, and whether the store takes writes, given the local
// hour, the disk usage and each segment's age (RocketMQ's CleanCommitLogService rules,
// docs/design/0003-retention.md):
//
//   usage > disk_refuse_writes_percent   refuse writes, and delete as below
//   usage > disk_force_clean_percent     delete the oldest segments even if not expired
//   usage > disk_clean_percent, or the   delete expired segments (stored_before_ms +
//   local hour is in delete_when         file_reserved_ms <= now), oldest first, stopping at
//                                        the first one that is not
//
// No I/O and no clock: RetentionService measures and acts, this class only decides, so every
// rule is testable with numbers.
//
// Thread safety: immutable after Create; safe to share between threads.
#ifndef MQSTORE_RETENTION_RETENTION_POLICY_H_
#define MQSTORE_RETENTION_RETENTION_POLICY_H_

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>

#include "log/commit_log.h"
#include "mqstore/options.h"
#include "mqstore/status.h"

namespace mqstore {

struct RetentionPolicyOptions {
  int64_t file_reserved_ms = int64_t{72} * 60 * 60 * 1000;
  std::string delete_when = "04";
  int disk_clean_percent = 75;
  int disk_force_clean_percent = 85;
  int disk_refuse_writes_percent = 90;
  int max_segments_per_round = 10;

  // The retention fields of the store's options (same meanings and defaults).
  static RetentionPolicyOptions From(const StoreOptions& options);
};

// The hours of `text`: hours 0..23 (one or two digits) separated by ';', e.g. "04" or
// "01;04;23". kInvalidArgument, naming the bad part, for an empty list, an empty item, a
// non-number or an hour out of range.
Result<std::bitset<24>> ParseDeleteWhen(std::string_view text);

// What one retention round does, decided at its start.
struct RetentionDecision {
  // Expired segments may be deleted: the hour is in delete_when, or usage is above
  // disk_clean_percent (or any higher threshold).
  bool delete_expired = false;
  // The oldest segments may be deleted whether expired or not: usage is above
  // disk_force_clean_percent or disk_refuse_writes_percent.
  bool delete_unexpired = false;
  // Usage is above disk_refuse_writes_percent: puts are refused until it is not.
  bool refuse_writes = false;
};

class RetentionPolicy {
 public:
  // kInvalidArgument for a bad delete_when, a file_reserved_ms <= 0, a percentage outside
  // 1..100 or max_segments_per_round <= 0.
  static Result<RetentionPolicy> Create(RetentionPolicyOptions options);

  // `local_hour` in 0..23; `disk_used_percent` in 0..100 (the fullest file system the store
  // uses).
  RetentionDecision Decide(int local_hour, double disk_used_percent) const;

  // Whether every record of `segment` was stored at least file_reserved_ms before `now_ms`.
  // A segment of unknown age (its successor has no record yet) is not expired.
  bool IsExpired(const SegmentAge& segment, int64_t now_ms) const;

  // Whether a round that decided `decision` deletes `segment`, the oldest segment left.
  bool ShouldDelete(const RetentionDecision& decision, const SegmentAge& segment,
                    int64_t now_ms) const;

  const RetentionPolicyOptions& options() const { return options_; }
  size_t max_segments_per_round() const {
    return static_cast<size_t>(options_.max_segments_per_round);
  }

 private:
  RetentionPolicy(RetentionPolicyOptions options, std::bitset<24> delete_hours)
      : options_(std::move(options)), delete_hours_(delete_hours) {}

  RetentionPolicyOptions options_;
  std::bitset<24> delete_hours_;
};

}  // namespace mqstore

#endif  // MQSTORE_RETENTION_RETENTION_POLICY_H_
