// LatencyFaultTolerance: RocketMQ's MQFaultStrategy (ProducerOptions::send_latency_fault_enable,
// off by default as in Java). After each send the producer records how long it took; a broker
// that answered slowly is not picked again for a while, and one that failed for 10 minutes,
// so sends go to healthy brokers first instead of waiting on a sick one in the round robin.
//
//   send latency  >= 50ms  100ms  550ms  1s    2s     3s     15s (or a failure)
//   not picked for   0      0      30s   60s  120s   180s    600s
#ifndef MQCLIENT_LATENCY_FAULT_H_
#define MQCLIENT_LATENCY_FAULT_H_

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace mqclient {

class LatencyFaultTolerance {
 public:
  using Clock = std::chrono::steady_clock;

  // A send to `broker` took `latency`; a failed one counts as 30 s (Java's isolation).
  void Update(const std::string& broker, std::chrono::milliseconds latency, bool failed,
              Clock::time_point now = Clock::now());
  // Whether `broker` may be picked: never recorded, or its pause is over.
  bool IsAvailable(const std::string& broker, Clock::time_point now = Clock::now()) const;
  // Of the paused brokers, the one whose pause ends first (to use when all are paused).
  std::optional<std::string> LeastPaused() const;

  static std::chrono::milliseconds PauseAfter(std::chrono::milliseconds latency);

 private:
  mutable std::mutex mu_;
  std::map<std::string, Clock::time_point> available_at_;  // guarded by mu_
};

}  // namespace mqclient

#endif  // MQCLIENT_LATENCY_FAULT_H_
