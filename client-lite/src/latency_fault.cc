#include "latency_fault.h"

#include <array>
#include <utility>

namespace mqclient {

namespace {

using Millis = std::chrono::milliseconds;

// Java's MQFaultStrategy.latencyMax and notAvailableDuration.
constexpr std::array<std::pair<Millis, Millis>, 7> kPauses = {{
    {Millis(15000), Millis(600000)},
    {Millis(3000), Millis(180000)},
    {Millis(2000), Millis(120000)},
    {Millis(1000), Millis(60000)},
    {Millis(550), Millis(30000)},
    {Millis(100), Millis(0)},
    {Millis(50), Millis(0)},
}};
constexpr Millis kFailureLatency(30000);

}  // namespace

Millis LatencyFaultTolerance::PauseAfter(Millis latency) {
  for (const auto& [at_least, pause] : kPauses) {
    if (latency >= at_least) return pause;
  }
  return Millis(0);
}

void LatencyFaultTolerance::Update(const std::string& broker, Millis latency, bool failed,
                                   Clock::time_point now) {
  const Millis pause = PauseAfter(failed ? kFailureLatency : latency);
  std::lock_guard<std::mutex> lock(mu_);
  available_at_[broker] = now + pause;
}

bool LatencyFaultTolerance::IsAvailable(const std::string& broker, Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = available_at_.find(broker);
  return it == available_at_.end() || now >= it->second;
}

std::optional<std::string> LatencyFaultTolerance::LeastPaused() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<std::string> best;
  Clock::time_point best_at;
  for (const auto& [broker, at] : available_at_) {
    if (!best || at < best_at) {
      best = broker;
      best_at = at;
    }
  }
  return best;
}

}  // namespace mqclient
