// DelayLevels: the table that turns a message's DELAY level into a delay.
//
// RocketMQ's classic delayed messages name a level, not a time: level n (1-based) waits as
// long as the n-th token of the configured list (messageDelayLevel, default
// "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"). Each level has its own
// queue in SCHEDULE_TOPIC_XXXX, so every queue holds messages of one delay and is ordered by
// delivery time.
//
// Immutable after Parse; safe to share between threads.
#ifndef MQSTORE_SCHEDULE_DELAY_LEVELS_H_
#define MQSTORE_SCHEDULE_DELAY_LEVELS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/status.h"

namespace mqstore {

class DelayLevels {
 public:
  // RocketMQ's default list.
  static constexpr std::string_view kDefaultSpec =
      "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";
  // More levels than this is surely a typo: each level is a queue and a scheduler.
  static constexpr int kMaxLevels = 1024;

  // Parses a whitespace-separated list of delays, each a positive decimal number directly
  // followed by a unit: s (seconds), m (minutes), h (hours) or d (days), e.g. "1s 30m 2h".
  // kInvalidArgument names the first bad token and its level number.
  static Result<DelayLevels> Parse(std::string_view spec);
  // The parsed kDefaultSpec.
  static DelayLevels Default();

  // Number of levels; levels are 1..max_level().
  int max_level() const { return static_cast<int>(delays_ms_.size()); }
  // `level` moved into 1..max_level() (RocketMQ clamps a level above the maximum to the
  // maximum). REQUIRES: level >= 1.
  int Clamp(int level) const { return level > max_level() ? max_level() : level; }
  // The delay of `level`, in milliseconds. REQUIRES: 1 <= level <= max_level().
  int64_t DelayMs(int level) const { return delays_ms_[static_cast<size_t>(level - 1)]; }
  // The queue of SCHEDULE_TOPIC_XXXX that holds `level`.
  static int32_t QueueIdOf(int level) { return level - 1; }

  // The list back in canonical form ("1s 5s ..."), each delay in the largest unit that
  // divides it.
  std::string ToString() const;

 private:
  explicit DelayLevels(std::vector<int64_t> delays_ms) : delays_ms_(std::move(delays_ms)) {}

  std::vector<int64_t> delays_ms_;
};

}  // namespace mqstore

#endif  // MQSTORE_SCHEDULE_DELAY_LEVELS_H_
