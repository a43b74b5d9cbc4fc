#include "pull_stats.h"

#include <iterator>

namespace mqbroker {

namespace {

int64_t SecondOf(int64_t now_ms) { return now_ms >= 0 ? now_ms / 1000 : 0; }

}  // namespace

const PullStats::TopicStats* PullStats::Find(std::string_view group, std::string_view topic) const {
  auto g = groups_.find(group);
  if (g == groups_.end()) return nullptr;
  auto t = g->second.find(topic);
  return t == g->second.end() ? nullptr : &t->second;
}

void PullStats::RecordPull(std::string_view group, std::string_view topic, int32_t queue_id,
                           int64_t next_offset, int64_t messages, int64_t now_ms) {
  const int64_t second = SecondOf(now_ms);
  const size_t slot = static_cast<size_t>(second % kWindowSeconds);
  std::lock_guard<std::mutex> lock(mu_);
  if (now_ms - last_sweep_ms_ >= kWindowSeconds * 1000) SweepLocked(now_ms);
  auto g = groups_.find(group);
  if (g == groups_.end()) g = groups_.emplace(std::string(group), Topics{}).first;
  auto t = g->second.find(topic);
  if (t == g->second.end()) t = g->second.emplace(std::string(topic), TopicStats{}).first;
  TopicStats& stats = t->second;
  if (stats.seconds[slot] != second) {  // the slot last counted a second that has left the window
    stats.seconds[slot] = second;
    stats.counts[slot] = 0;
  }
  stats.counts[slot] += messages;
  stats.pull_offsets[queue_id] = next_offset;
  stats.last_pull_ms = now_ms;
}

void PullStats::SweepLocked(int64_t now_ms) {
  last_sweep_ms_ = now_ms;
  for (auto g = groups_.begin(); g != groups_.end();) {
    std::erase_if(g->second, [&](const auto& topic) {
      return topic.second.last_pull_ms < now_ms - kForgetAfterMs;
    });
    g = g->second.empty() ? groups_.erase(g) : std::next(g);
  }
}

double PullStats::ConsumeTps(std::string_view group, std::string_view topic, int64_t now_ms) const {
  const int64_t second = SecondOf(now_ms);
  std::lock_guard<std::mutex> lock(mu_);
  const TopicStats* stats = Find(group, topic);
  if (stats == nullptr) return 0;
  int64_t total = 0;
  for (int i = 0; i < kWindowSeconds; ++i) {
    // Only seconds inside the window count, the current (partial) one included.
    if (stats->seconds[i] > second - kWindowSeconds && stats->seconds[i] <= second) {
      total += stats->counts[i];
    }
  }
  return static_cast<double>(total) / kWindowSeconds;
}

std::optional<int64_t> PullStats::PullOffset(std::string_view group, std::string_view topic,
                                             int32_t queue_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const TopicStats* stats = Find(group, topic);
  if (stats == nullptr) return std::nullopt;
  auto it = stats->pull_offsets.find(queue_id);
  if (it == stats->pull_offsets.end()) return std::nullopt;
  return it->second;
}

void PullStats::ForgetGroup(std::string_view group) {
  std::lock_guard<std::mutex> lock(mu_);
  auto g = groups_.find(group);
  if (g != groups_.end()) groups_.erase(g);
}

}  // namespace mqbroker
