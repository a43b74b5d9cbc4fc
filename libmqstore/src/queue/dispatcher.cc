#include "queue/dispatcher.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "mqstore/thread_name.h"

namespace mqstore {

Dispatcher::Dispatcher(CommitLog* log, ConsumeQueueSet* queues, IndexService* index,
                       std::function<int64_t()> limit, EventCount* wake,
                       std::chrono::microseconds batch_wait)
    : log_(log),
      queues_(queues),
      index_(index),
      limit_(std::move(limit)),
      wake_(wake),
      batch_wait_(batch_wait) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start(int64_t from, int64_t queues_from) {
  queues_from_ = std::max(from, queues_from);
  dispatched_.store(from, std::memory_order_release);
  stop_.store(false);
  thread_ = std::thread([this] {
    NameThisThread("mq-dispatch");
    Loop();
  });
}

void Dispatcher::Stop() {
  stop_.store(true);
  wake_->Notify();  // the loop re-checks stop_ after PrepareWait, so this cannot be missed
  CutBatchWait();
  if (thread_.joinable()) thread_.join();
  progress_.Notify();
}

Status Dispatcher::AwaitDispatched(int64_t offset, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  // An attempt under way when this call began may fail on a disk that has room by now; the
  // one after it began later.
  const uint64_t attempts_at_start = failed_attempts_.load(std::memory_order_acquire);
  if (dispatched() < offset) CutBatchWait();  // somebody waits: look now
  while (dispatched() < offset) {
    const uint64_t attempts = failed_attempts_.load(std::memory_order_acquire);
    Status e = error();
    if (!e.ok()) {
      if (!e.IsResourceExhausted() || attempts >= attempts_at_start + 2) return e;
      retry_.store(true, std::memory_order_release);
      wake_->Notify();
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return Status::TimedOut("offset " + std::to_string(offset) + " not dispatched within " +
                              std::to_string(timeout_ms) + " ms");
    }
    auto key = progress_.PrepareWait();
    if (dispatched() >= offset) {
      progress_.CancelWait();
      break;
    }
    if (failed_attempts_.load() != attempts) {
      progress_.CancelWait();
      continue;
    }
    progress_.Wait(key, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                            std::chrono::milliseconds(1));
  }
  return Status::OK();
}

void Dispatcher::SetListener(ArrivalListener listener) {
  std::lock_guard<std::mutex> l(mu_);
  listener_ = std::move(listener);
  has_listener_.store(static_cast<bool>(listener_));
}

void Dispatcher::SetTopicHook(std::vector<std::string> topics,
                              std::function<void(std::string_view)> hook) {
  hooked_topics_ = std::move(topics);
  topic_hook_ = std::move(hook);
}

Status Dispatcher::error() const {
  std::lock_guard<std::mutex> l(mu_);
  return error_;
}

void Dispatcher::CutBatchWait() {
  if (batch_wait_.count() == 0) return;
  std::lock_guard<std::mutex> l(batch_mu_);
  cut_batch_wait_ = true;
  batch_cut_.notify_all();
}

void Dispatcher::WaitForBatch() {
  std::unique_lock<std::mutex> l(batch_mu_);
  batch_cut_.wait_for(l, batch_wait_, [this] { return cut_batch_wait_; });
  cut_batch_wait_ = false;
}

void Dispatcher::Loop() {
  int64_t pos = dispatched();
  bool dispatched_since_wait = false;  // records came since the last sleep or batch wait
  while (!stop_.load(std::memory_order_acquire)) {
    int64_t limit = limit_();
    if (pos >= limit) {
      if (batch_wait_.count() > 0 && dispatched_since_wait) {
        // Records are coming: give the next ones time to gather (no wake-up asked for).
        dispatched_since_wait = false;
        WaitForBatch();
        continue;
      }
      dispatched_since_wait = false;
      auto key = wake_->PrepareWait();
      if (stop_.load() || limit_() > pos) {
        wake_->CancelWait();
        continue;
      }
      // The timeout is only a safety net; every append and durable advance notifies.
      wake_->Wait(key, std::chrono::milliseconds(100));
      continue;
    }
    int64_t next = DispatchSome(pos, limit);
    if (next == pos) {
      if (!error().IsResourceExhausted()) return;  // error recorded; stop dispatching
      // A full disk: try the record again when asked, at the next wake-up or after a while
      // (space may come back at any time: retention, an operator).
      blocked_.store(true, std::memory_order_release);
      failed_attempts_.fetch_add(1, std::memory_order_acq_rel);
      progress_.Notify();
      auto key = wake_->PrepareWait();
      if (stop_.load() || retry_.exchange(false)) {
        wake_->CancelWait();
        continue;
      }
      wake_->Wait(key, std::chrono::milliseconds(100));
      retry_.store(false);
      continue;
    }
    if (blocked_.load(std::memory_order_relaxed)) {
      std::lock_guard<std::mutex> l(mu_);
      if (error_.IsResourceExhausted()) error_ = Status::OK();
      blocked_.store(false, std::memory_order_release);
    }
    pos = next;
    dispatched_since_wait = true;
    dispatched_.store(pos, std::memory_order_release);
    progress_.Notify();
  }
}

namespace {

// RocketMQ indexes every record but a transaction rollback marker.
bool Indexed(const RecordSummary& r) {
  return (r.sys_flag & sysflag::kTransactionMask) != sysflag::kTransactionRollback;
}

IndexRecord IndexEntryOf(const RecordSummary& r) {
  IndexRecord entry = IndexRecordOf(r.topic, r.properties);
  entry.physical_offset = r.physical_offset;
  entry.size = r.total_size;
  entry.store_timestamp_ms = r.store_timestamp_ms;
  return entry;
}

}  // namespace

int64_t Dispatcher::DispatchSome(int64_t pos, int64_t limit) {
  auto seg = log_->SegmentFor(pos);
  auto fail = [&](Status s) {
    std::lock_guard<std::mutex> l(mu_);
    error_ = s;
    return pos;
  };
  if (!seg) return fail(Status::Corruption("no segment holds offset " + std::to_string(pos)));
  // Bounded so that progress is published regularly while a backlog is dispatched.
  constexpr int64_t kMaxBytesPerStep = 4 << 20;
  int64_t stop = std::min({limit, seg->end(), pos + kMaxBytesPerStep});
  bool listen = has_listener_.load(std::memory_order_relaxed);
  // The record at `at`, when it is a whole one (not blank, not torn).
  auto read_record = [&](int64_t at, RecordSummary* r, std::string* problem) {
    uint64_t in_seg = static_cast<uint64_t>(at - seg->base());
    return CheckRecord(seg->View(in_seg, seg->size() - in_seg), false, r, problem);
  };
  RecordSummary r;
  RecordSummary ahead;  // the record after r, when it was read ahead for the index
  bool have_ahead = false;
  std::optional<IndexRecord> ahead_entry;  // ahead's index entry, when it is indexed
  while (pos < stop) {
    std::optional<IndexRecord> entry;  // r's, once known
    if (have_ahead) {
      r = ahead;
      entry = std::move(ahead_entry);
      have_ahead = false;
    } else {
      std::string problem;
      RecordCheck check = read_record(pos, &r, &problem);
      if (check == RecordCheck::kBlank) return seg->end();
      if (check == RecordCheck::kEnd || r.physical_offset != pos) {
        return fail(Status::Corruption(
            "dispatch stopped at offset " + std::to_string(pos) + ": " +
            (check == RecordCheck::kEnd ? problem : "physical offset mismatch")));
      }
    }
    bool queued = pos >= queues_from_;
    if (queued) {
      Status s = queues_->Apply(r, pos);
      if (!s.ok()) return fail(s);
    }
    if (index_ && Indexed(r)) {
      if (!entry) entry = IndexEntryOf(r);
      if (!entry->keys.empty() || !entry->unique_key.empty()) {
        // Each Add stalls on its hash slot (a cache and TLB miss in a 20 MB table). Reading
        // the next record now lets its slot arrive while this one is added.
        const int64_t next = pos + r.total_size;
        std::string ignored;
        if (next < stop && read_record(next, &ahead, &ignored) == RecordCheck::kRecord &&
            ahead.physical_offset == next) {
          have_ahead = true;
          ahead_entry.reset();
          if (Indexed(ahead)) {
            ahead_entry = IndexEntryOf(ahead);
            index_->Prefetch(*ahead_entry);
          }
        }
        Status s = index_->Add(*entry);
        if (!s.ok()) return fail(s.WithContext("indexing the record at " + std::to_string(pos)));
      }
    }
    pos += r.total_size;
    if (queued && GetsQueueOffset(r.sys_flag)) {
      for (const std::string& topic : hooked_topics_) {
        if (r.topic == topic) topic_hook_(r.topic);
      }
      if (listen) {
        std::lock_guard<std::mutex> l(mu_);
        if (listener_) listener_(r.topic, r.queue_id, r.queue_offset + 1);
      }
    }
  }
  return pos;
}

}  // namespace mqstore
