#include "log/log_flusher.h"

#include <algorithm>
#include <chrono>

#include "mqstore/thread_name.h"

namespace mqstore {

LogFlusher::~LogFlusher() {
  stop_.store(true, std::memory_order_seq_cst);
  work_.Notify();
  std::thread thread;
  {
    std::lock_guard<std::mutex> l(mu_);  // (the loop takes mu_ itself: join outside it)
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

void LogFlusher::StartThread() {
  if (started_.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> l(mu_);
  if (!thread_.joinable() && !stop_.load()) {
    thread_ = std::thread([this] {
      NameThisThread("mq-log-flush");
      SyncLoop();
    });
  }
  started_.store(true, std::memory_order_release);
}

bool LogFlusher::Request(int64_t offset) {
  int64_t current = requested_.load(std::memory_order_acquire);
  while (current < offset &&
         !requested_.compare_exchange_weak(current, offset, std::memory_order_acq_rel)) {
  }
  return current < offset;
}

void LogFlusher::SyncLoop() {
  while (!stop_.load(std::memory_order_acquire)) {
    int64_t from = durable_.load(std::memory_order_acquire);
    if (failed_.load(std::memory_order_acquire) ||
        requested_.load(std::memory_order_acquire) <= from) {
      auto key = work_.PrepareWait();
      if (stop_.load() || (!failed_.load() && requested_.load() > from)) {
        work_.CancelWait();
        continue;
      }
      // The timeout is only a safety net: every request notifies.
      work_.Wait(key, std::chrono::milliseconds(100));
      continue;
    }
    // One sync covers every request made so far, and everything appended meanwhile.
    Status s = log_->WriteOut();  // buffered mode: into the files first
    int64_t to = log_->written();
    int parity = 0;
    if (s.ok() && to > from) {
      parity = static_cast<int>(++syncs_started_ & 1);
      syncing_.store((to << 1) | parity, std::memory_order_seq_cst);
      s = log_->Sync(from, to);
    }
    if (!s.ok()) {
      Status sticky = s.WithContext("commit log sync failed; the store refuses writes");
      {
        std::lock_guard<std::mutex> l(mu_);
        error_ = sticky;
      }
      failed_.store(true, std::memory_order_release);
      NotifyAllWaiters();
      callbacks_.Fail(sticky);
      continue;
    }
    if (to <= from) {
      // Requested past the appended end: lower the request to what exists; a waiter that
      // needs more re-requests once it is appended.
      int64_t requested = requested_.load();
      while (requested > from && !requested_.compare_exchange_weak(requested, from)) {
      }
      NotifyAllWaiters();
      continue;
    }
    durable_.store(to, std::memory_order_release);
    log_->NoteDurable(to);
    sync_count_.fetch_add(1, std::memory_order_relaxed);
    // Before the waiters go: by the time a put returns, the dispatcher has been told.
    if (on_durable_) on_durable_();
    done_[parity].Notify();
    callbacks_.Release(to);
  }
}

void LogFlusher::RequestDurable(int64_t offset) {
  if (durable() >= offset) return;
  StartThread();
  if (Request(offset)) work_.Notify();
}

void LogFlusher::NotifyWhenDurable(int64_t offset, DurableCallbacks::Clock::time_point deadline,
                                   DurableCallbacks::Callback done) {
  if (failed_.load(std::memory_order_acquire)) {
    done(error());
    return;
  }
  if (durable() >= offset) {
    done(Status::OK());
    return;
  }
  StartThread();
  // Registered before the request: the sync that covers `offset` then releases it (and if
  // one already did, Add sees the released offset and runs it at once).
  callbacks_.Add(offset, deadline, std::move(done));
  if (Request(offset)) work_.Notify();
}

Status LogFlusher::WaitDurable(int64_t offset, int timeout_ms) {
  if (durable() >= offset) return Status::OK();
  StartThread();
  using SteadyClock = std::chrono::steady_clock;
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
  while (true) {
    if (failed_.load(std::memory_order_acquire)) return error();
    if (durable_.load(std::memory_order_acquire) >= offset) return Status::OK();
    // (Re-)request: a request past the appended end may have been lowered meanwhile.
    if (Request(offset)) work_.Notify();
    auto wait = std::chrono::milliseconds(10);  // without a timeout: re-look now and then
    if (timeout_ms >= 0) {
      auto left =
          std::chrono::duration_cast<std::chrono::microseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0) {
        return Status::TimedOut("offset " + std::to_string(offset) + " not durable within " +
                                std::to_string(timeout_ms) + " ms");
      }
      wait = std::chrono::duration_cast<std::chrono::milliseconds>(left) +
             std::chrono::milliseconds(1);
    }
    EventCount& done = DoneEventFor(offset);
    auto key = done.PrepareWait();
    // The choice is checked again once armed: a sync published after this look notifies
    // `done` if it covers `offset`, and otherwise the one after it does. A choice made on
    // an older look could name a sync that already passed (this thread may have been
    // descheduled in between) and sleep through the one that covers it.
    if (failed_.load() || durable_.load() >= offset || &DoneEventFor(offset) != &done) {
      done.CancelWait();
      continue;
    }
    waiter_sleeps_.fetch_add(1, std::memory_order_relaxed);
    done.Wait(key, wait);
  }
}

EventCount& LogFlusher::DoneEventFor(int64_t offset) {
  const int64_t syncing = syncing_.load(std::memory_order_seq_cst);
  const auto parity = static_cast<size_t>(syncing & 1);
  // Not covered by the sync under way: wait for the next one (the other parity). If its
  // write-out began before `offset` was appended, it does not cover it either; its
  // notify then wakes the caller, which looks again and waits for the one after.
  return done_[offset <= (syncing >> 1) ? parity : 1 - parity];
}

}  // namespace mqstore
