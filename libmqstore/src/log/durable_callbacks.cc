#include "log/durable_callbacks.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "mqstore/thread_name.h"

namespace mqstore {

DurableCallbacks::~DurableCallbacks() {
  std::multimap<int64_t, Entry> left;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    left.swap(waiting_);
  }
  timer_wake_.notify_all();
  if (timer_.joinable()) timer_.join();
  for (auto& [offset, entry] : left) {
    entry.done(Status::Aborted("the commit log closed before offset " + std::to_string(offset) +
                               " was durable"));
  }
}

void DurableCallbacks::Add(int64_t offset, Clock::time_point deadline, Callback done) {
  std::optional<Status> now;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (failed_) {
      now = *failed_;
    } else if (offset <= released_) {
      now = Status::OK();
    } else {
      waiting_.emplace(offset, Entry{deadline, std::move(done)});
      if (deadline < timer_due_) {
        timer_due_ = deadline;
        if (!timer_.joinable()) {
          timer_ = std::thread([this] {
            NameThisThread("mq-sync-timer");
            TimerLoop();
          });
        } else {
          timer_wake_.notify_one();
        }
      }
    }
  }
  if (now) done(std::move(*now));
}

void DurableCallbacks::Release(int64_t durable) {
  std::vector<Callback> covered;
  {
    std::lock_guard<std::mutex> l(mu_);
    released_ = std::max(released_, durable);
    auto end = waiting_.upper_bound(durable);
    for (auto it = waiting_.begin(); it != end; ++it) covered.push_back(std::move(it->second.done));
    waiting_.erase(waiting_.begin(), end);
  }
  if (covered.empty()) return;
  auto run = [&covered] {
    for (Callback& done : covered) done(Status::OK());
  };
  if (group_) {
    group_(run);
  } else {
    run();
  }
}

void DurableCallbacks::Fail(const Status& error) {
  std::multimap<int64_t, Entry> failed;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!failed_) failed_ = error;
    failed.swap(waiting_);
  }
  for (auto& [offset, entry] : failed) entry.done(error);
}

size_t DurableCallbacks::waiting() const {
  std::lock_guard<std::mutex> l(mu_);
  return waiting_.size();
}

void DurableCallbacks::TimerLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    if (timer_due_ == Clock::time_point::max()) {
      timer_wake_.wait(l);
      continue;
    }
    if (Clock::now() < timer_due_) {
      timer_wake_.wait_until(l, timer_due_);
      continue;
    }
    // Due: take every expired callback and look for the next deadline (deadlines are not in
    // offset order, so this walks the map; it only runs when something expires).
    const Clock::time_point now = Clock::now();
    std::vector<std::pair<int64_t, Callback>> expired;
    Clock::time_point next = Clock::time_point::max();
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (it->second.deadline <= now) {
        expired.emplace_back(it->first, std::move(it->second.done));
        it = waiting_.erase(it);
      } else {
        next = std::min(next, it->second.deadline);
        ++it;
      }
    }
    timer_due_ = next;
    l.unlock();
    for (auto& [offset, done] : expired) {
      done(Status::TimedOut("offset " + std::to_string(offset) + " not durable in time"));
    }
    l.lock();
  }
}

}  // namespace mqstore
