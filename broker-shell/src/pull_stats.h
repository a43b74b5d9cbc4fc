// PullStats: what the broker learns from the pulls it answers, for GET_CONSUME_STATS — how
// many messages each consumer group took from each topic in the last minute (consumeTps,
// Java's GROUP_GET_NUMS per minute) and where each group's last pull of a queue left off
// (pullOffset, Java's pull offset table). Both live in memory only: a restarted broker
// starts them afresh, as Java's does. A group's topic that has not been pulled for
// kForgetAfterMs is forgotten (swept at most once a minute, by RecordPull), so groups that
// come and go (tools, tests) do not pile up.
//
// Time is passed in (now_ms) so that tests are deterministic. Thread-safe: one mutex.
#ifndef MQBROKER_PULL_STATS_H_
#define MQBROKER_PULL_STATS_H_

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace mqbroker {

class PullStats {
 public:
  // The window consumeTps is averaged over.
  static constexpr int kWindowSeconds = 60;
  static constexpr int64_t kForgetAfterMs = 10 * 60 * 1000;

  // A pull of `group` answered `messages` messages of topic/queue_id and told the consumer to
  // go on at `next_offset`.
  void RecordPull(std::string_view group, std::string_view topic, int32_t queue_id,
                  int64_t next_offset, int64_t messages, int64_t now_ms);

  // Messages per second that `group` pulled from `topic` over the last kWindowSeconds
  // (0 when it pulled none).
  double ConsumeTps(std::string_view group, std::string_view topic, int64_t now_ms) const;

  // Where the group's last answered pull of the queue left off; none before its first.
  std::optional<int64_t> PullOffset(std::string_view group, std::string_view topic,
                                    int32_t queue_id) const;

  // Forgets everything about the group (its subscription group was deleted).
  void ForgetGroup(std::string_view group);

 private:
  struct TopicStats {
    // Messages per whole second of wall time, in a ring indexed by second % kWindowSeconds.
    std::array<int64_t, kWindowSeconds> counts{};
    std::array<int64_t, kWindowSeconds> seconds{};  // which second each slot counts
    std::map<int32_t, int64_t> pull_offsets;        // by queue id
    int64_t last_pull_ms = 0;
  };
  using Topics = std::map<std::string, TopicStats, std::less<>>;

  const TopicStats* Find(std::string_view group, std::string_view topic) const;
  // Drops what was last pulled before now_ms - kForgetAfterMs. REQUIRES: mu_ held.
  void SweepLocked(int64_t now_ms);

  mutable std::mutex mu_;
  std::map<std::string, Topics, std::less<>> groups_;
  int64_t last_sweep_ms_ = 0;
};

}  // namespace mqbroker

#endif  // MQBROKER_PULL_STATS_H_
