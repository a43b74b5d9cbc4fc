#include "pull_hold_service.h"

#include <algorithm>

#include "mqstore/thread_name.h"

namespace mqbroker {

PullHoldService::PullHoldService(MaxOffsetProbe probe) : probe_(std::move(probe)) {
  thread_ = std::thread([this] {
    mqstore::NameThisThread("mq-pull-hold");
    Run();
  });
}

PullHoldService::~PullHoldService() { Stop(); }

void PullHoldService::Hold(std::string topic, int32_t queue_id, int64_t offset,
                           Clock::time_point deadline, Wake wake) {
  bool stopped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped = stopping_;
    if (!stopped) {
      held_[QueueKey{topic, queue_id}].push_back(Held{offset, deadline, std::move(wake)});
      held_count_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (stopped) {  // nothing will wake it later
    wake();
    return;
  }
  changed_.notify_one();
  // A message dispatched after the pull read the queue and before the hold was registered
  // has already called OnArrival and found nothing to wake.
  int64_t max_offset = probe_(topic, queue_id);
  if (max_offset > offset) OnArrival(topic, queue_id, max_offset);
}

void PullHoldService::OnArrival(std::string_view topic, int32_t queue_id,
                                int64_t next_queue_offset) {
  if (held_count_.load(std::memory_order_relaxed) == 0) return;
  bool woke = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = held_.find(std::make_pair(std::string(topic), queue_id));
    if (it == held_.end()) return;
    std::vector<Held>& pulls = it->second;
    auto waiting = std::partition(pulls.begin(), pulls.end(),
                                  [&](const Held& h) { return h.offset >= next_queue_offset; });
    for (auto w = waiting; w != pulls.end(); ++w) ready_.push_back(std::move(w->wake));
    size_t woken = static_cast<size_t>(pulls.end() - waiting);
    pulls.erase(waiting, pulls.end());
    if (pulls.empty()) held_.erase(it);
    held_count_.fetch_sub(woken, std::memory_order_relaxed);
    woke = woken > 0;
  }
  if (woke) changed_.notify_one();
}

void PullHoldService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  changed_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void PullHoldService::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    Clock::time_point now = Clock::now();
    Clock::time_point next_deadline = Clock::time_point::max();
    for (auto it = held_.begin(); it != held_.end();) {
      std::vector<Held>& pulls = it->second;
      auto live = std::partition(pulls.begin(), pulls.end(),
                                 [&](const Held& h) { return !stopping_ && h.deadline > now; });
      for (auto e = live; e != pulls.end(); ++e) ready_.push_back(std::move(e->wake));
      held_count_.fetch_sub(static_cast<size_t>(pulls.end() - live), std::memory_order_relaxed);
      pulls.erase(live, pulls.end());
      for (const Held& h : pulls) next_deadline = std::min(next_deadline, h.deadline);
      it = pulls.empty() ? held_.erase(it) : std::next(it);
    }
    if (!ready_.empty()) {
      std::vector<Wake> wakes;
      wakes.swap(ready_);
      lock.unlock();
      for (Wake& wake : wakes) wake();
      lock.lock();
      continue;
    }
    if (stopping_) return;
    if (next_deadline == Clock::time_point::max()) {
      changed_.wait(lock);
    } else {
      changed_.wait_until(lock, next_deadline);
    }
  }
}

}  // namespace mqbroker
