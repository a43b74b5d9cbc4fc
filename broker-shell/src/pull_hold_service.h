// PullHoldService: long polling. A pull that finds nothing new is held here until a message
// for its queue arrives past its offset or its suspend timeout passes, then woken to run
// again (RocketMQ's PullRequestHoldService, driven by the store's arrival callback instead of
// a 5-second scan, so a held consumer sees a new message as soon as it is dispatched).
//
// Wake callbacks run on the service's own thread and must not block: they hand the pull back
// to the pull executor.
#ifndef MQBROKER_PULL_HOLD_SERVICE_H_
#define MQBROKER_PULL_HOLD_SERVICE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace mqbroker {

class PullHoldService {
 public:
  using Clock = std::chrono::steady_clock;
  using Wake = std::function<void()>;
  // The queue's current max offset (next offset to be assigned), for the check right after
  // a pull is held: a message may have arrived between the pull's read and the hold.
  using MaxOffsetProbe = std::function<int64_t(std::string_view topic, int32_t queue_id)>;

  explicit PullHoldService(MaxOffsetProbe probe);
  ~PullHoldService();  // Stop()

  // Holds a pull of (topic, queue_id) that wants offset `offset` and found nothing. `wake`
  // is called exactly once: when the queue's max offset passes `offset`, at `deadline`, or
  // at Stop().
  void Hold(std::string topic, int32_t queue_id, int64_t offset, Clock::time_point deadline,
            Wake wake);

  // The store's arrival callback: the queue's messages now end at `next_queue_offset`.
  // Cheap when nothing is held; never blocks for long.
  void OnArrival(std::string_view topic, int32_t queue_id, int64_t next_queue_offset);

  // Wakes every held pull (they answer "no new message") and joins the thread. Later Holds
  // wake at once. Idempotent.
  void Stop();

  size_t held() const { return held_count_.load(std::memory_order_relaxed); }

 private:
  struct Held {
    int64_t offset;
    Clock::time_point deadline;
    Wake wake;
  };
  using QueueKey = std::pair<std::string, int32_t>;

  void Run();

  const MaxOffsetProbe probe_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::map<QueueKey, std::vector<Held>, std::less<>> held_;
  std::vector<Wake> ready_;  // to be called by the thread
  std::atomic<size_t> held_count_{0};
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mqbroker

#endif  // MQBROKER_PULL_HOLD_SERVICE_H_
