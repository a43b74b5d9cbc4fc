#include "workloads.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <latch>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "mqstore/store.h"

namespace mqbench {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

float MicrosSince(SteadyClock::time_point t0) {
  return std::chrono::duration<float, std::micro>(SteadyClock::now() - t0).count();
}

// The first error any worker hit; the others stop at their next call.
class FirstError {
 public:
  void Set(std::string message) {
    std::lock_guard<std::mutex> l(mu_);
    if (!failed_.load(std::memory_order_relaxed)) message_ = std::move(message);
    failed_.store(true, std::memory_order_release);
  }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  const std::string& message() const { return message_; }  // after the workers joined

 private:
  std::mutex mu_;
  std::atomic<bool> failed_{false};
  std::string message_;
};

// Lets the worker threads of RunOnThreads start together, after their untimed setup.
class StartGate {
 public:
  explicit StartGate(std::latch* latch) : latch_(latch) {}
  // Call exactly once, after the thread's setup: blocks until every thread is ready.
  void Wait() {
    passed_ = true;
    latch_->arrive_and_wait();
  }
  bool passed() const { return passed_; }

 private:
  std::latch* latch_;
  bool passed_ = false;
};

// Runs body(t, gate) on n threads (t = 0..n-1) and returns the wall time from their common
// start (all passed gate.Wait()) until the last one returned. A thread that cannot be
// started, or a body that throws, is reported through `error`; the others see
// error.failed() and should stop.
template <typename Body>
double RunOnThreads(int n, FirstError& error, Body body) {
  std::latch start(n + 1);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n));
  try {
    for (int t = 0; t < n; ++t) {
      threads.emplace_back([&, t] {
        StartGate gate(&start);
        try {
          body(static_cast<size_t>(t), gate);
        } catch (const std::exception& e) {
          error.Set(std::string("worker ") + std::to_string(t) + ": " + e.what());
          if (!gate.passed()) start.count_down();
        }
      });
    }
  } catch (const std::system_error& e) {
    error.Set(std::string("cannot start thread ") + std::to_string(threads.size()) + ": " +
              e.what());
    start.count_down(n - static_cast<std::ptrdiff_t>(threads.size()));
  }
  auto t0 = SteadyClock::now();
  start.arrive_and_wait();
  for (auto& th : threads) th.join();
  return SecondsSince(t0);
}

// What a workload measured, over all its threads.
struct Totals {
  uint64_t messages = 0;
  uint64_t payload_bytes = 0;
  double secs = 0;
  std::vector<float> latency_us;  // one sample per store call
};

std::vector<float> Merge(std::vector<std::vector<float>>& parts) {
  size_t n = 0;
  for (const auto& p : parts) n += p.size();
  std::vector<float> all;
  all.reserve(n);
  for (auto& p : parts) {
    all.insert(all.end(), p.begin(), p.end());
    std::vector<float>().swap(p);
  }
  std::sort(all.begin(), all.end());
  return all;
}

double Rate(double amount, double secs) { return secs > 0 ? amount / secs : 0; }

// Human lines, then the memory line, then the machine-readable line (always last).
void PrintReport(const char* call, const Totals& t, int64_t rss_peak, int64_t rss) {
  const auto& lat = t.latency_us;
  double msgs_s = Rate(static_cast<double>(t.messages), t.secs);
  double mb_s = Rate(static_cast<double>(t.payload_bytes), t.secs) / 1e6;
  std::printf("  %llu msgs in %.3f s: %.0f msgs/s, %.1f MB/s (10^6 B of payload)\n",
              static_cast<unsigned long long>(t.messages), t.secs, msgs_s, mb_s);
  std::printf("  %s latency over %zu calls (us): p50 %.1f  p99 %.1f  p999 %.1f  max %.1f\n", call,
              lat.size(), Percentile(lat, 50), Percentile(lat, 99), Percentile(lat, 99.9),
              lat.empty() ? 0.0 : static_cast<double>(lat.back()));
  std::printf("rss_peak_mb=%.1f rss_mb=%.1f\n", static_cast<double>(rss_peak) / 1e6,
              static_cast<double>(rss) / 1e6);
  std::printf("msgs_s=%.0f mb_s=%.1f p50_us=%.1f p99_us=%.1f p999_us=%.1f\n", msgs_s, mb_s,
              Percentile(lat, 50), Percentile(lat, 99), Percentile(lat, 99.9));
}

mqstore::Result<std::unique_ptr<mqstore::Store>> OpenStore(const std::string& dir, bool sync,
                                                           bool create,
                                                           int64_t cache_window_mb = -1,
                                                           int64_t zero_ahead_mb = -1,
                                                           int64_t resident_window_mb = -1) {
  mqstore::StoreOptions options;
  if (resident_window_mb >= 0) {
    options.resident_log_window_bytes = static_cast<uint64_t>(resident_window_mb) << 20;
  }
  if (cache_window_mb >= 0) {
    options.cached_log_window_bytes = static_cast<uint64_t>(cache_window_mb) << 20;
  }
  if (zero_ahead_mb >= 0) options.log_zero_ahead_bytes = static_cast<uint64_t>(zero_ahead_mb) << 20;
  options.flush_mode = sync ? mqstore::FlushMode::kSync : mqstore::FlushMode::kAsync;
  options.create_if_missing = create;
  return mqstore::Store::Open(options, dir);
}

// One store call: Put when !as_batch (then `messages` has one element), else PutBatch.
// *timed_out is set when the call returned PutStatus::kFlushDiskTimeout.
mqstore::Status AppendOnce(mqstore::Store* store, std::span<const mqstore::MessageView> messages,
                           bool as_batch, bool* timed_out) {
  mqstore::PutStatus status;
  if (as_batch) {
    auto put = store->PutBatch(messages);
    if (!put.ok()) return put.status().WithContext("PutBatch");
    status = put->status;
  } else {
    auto put = store->Put(messages.front());
    if (!put.ok()) return put.status().WithContext("Put");
    status = put->status;
  }
  *timed_out = status == mqstore::PutStatus::kFlushDiskTimeout;
  return mqstore::Status::OK();
}

// Up to `limit` store calls of one writer thread in flight (--in-flight). A full window is
// refilled once half of it has completed: one sync completes many calls on the store's sync
// thread, and waking the issuer for each of them would cost a wake-up per call there.
class InFlightWindow {
 public:
  InFlightWindow(int limit, std::vector<float>* latency)
      : limit_(limit), refill_at_(limit / 2), latency_(latency) {}
  // Called by the issuing thread only (so the count can only fall while it waits).
  void Acquire() {
    int n = outstanding_.load(std::memory_order_acquire);
    if (n >= limit_) {
      for (; n > refill_at_; n = outstanding_.load(std::memory_order_acquire)) {
        outstanding_.wait(n, std::memory_order_acquire);
      }
    }
    outstanding_.fetch_add(1, std::memory_order_relaxed);
  }
  void Complete(SteadyClock::time_point t0) {
    float us = MicrosSince(t0);
    {
      std::lock_guard<std::mutex> l(mu_);
      latency_->push_back(us);
    }
    int left = outstanding_.fetch_sub(1, std::memory_order_acq_rel) - 1;
    if (left == refill_at_ || left == 0) outstanding_.notify_one();
  }
  // Waits for every call issued to complete. (Callbacks hold the window by shared_ptr:
  // the last one still touches it after its decrement lets Drain return.)
  void Drain() {
    for (int n = outstanding_.load(std::memory_order_acquire); n > 0;
         n = outstanding_.load(std::memory_order_acquire)) {
      outstanding_.wait(n, std::memory_order_acquire);
    }
    std::lock_guard<std::mutex> l(mu_);  // the last Complete has left the latency vector
  }

 private:
  const int limit_;
  const int refill_at_;
  std::vector<float>* const latency_;
  std::mutex mu_;
  std::atomic<int> outstanding_{0};
};

// One asynchronous store call (PutAsync, or PutBatchAsync when as_batch) in `window`.
// Failures and flush-disk timeouts are reported through `error` and `timeouts`.
void AppendAsync(mqstore::Store* store, std::span<const mqstore::MessageView> messages,
                 bool as_batch, const std::shared_ptr<InFlightWindow>& window, FirstError* error,
                 std::atomic<uint64_t>* timeouts) {
  window->Acquire();
  auto t0 = SteadyClock::now();
  auto finish = [=](const mqstore::Status& status, mqstore::PutStatus put_status,
                    const char* call) {
    if (!status.ok()) error->Set(status.WithContext(call).ToString());
    if (put_status == mqstore::PutStatus::kFlushDiskTimeout) {
      timeouts->fetch_add(1, std::memory_order_relaxed);
    }
    window->Complete(t0);
  };
  if (as_batch) {
    store->PutBatchAsync(messages, [finish](mqstore::Result<mqstore::BatchPutResult> put) {
      finish(put.status(), put.ok() ? put->status : mqstore::PutStatus::kOk, "PutBatchAsync");
    });
  } else {
    store->PutAsync(messages.front(), [finish](mqstore::Result<mqstore::PutResult> put) {
      finish(put.status(), put.ok() ? put->status : mqstore::PutStatus::kOk, "PutAsync");
    });
  }
}

// Closes the store and reports how long the final flush and checkpoint took.
int CloseStore(const char* tool, std::unique_ptr<mqstore::Store> store, bool quiet) {
  auto t0 = SteadyClock::now();
  mqstore::Status s = store->Close();
  if (!s.ok()) {
    std::fprintf(stderr, "mqbench %s: Store::Close: %s\n", tool, s.ToString().c_str());
    return 1;
  }
  if (!quiet) std::printf("  close (final flush and checkpoint): %.3f s\n", SecondsSince(t0));
  return 0;
}

}  // namespace

int RunAppend(const AppendConfig& c) {
  auto opened = OpenStore(c.store, c.sync, /*create=*/true, c.cache_window_mb, c.zero_ahead_mb,
                          c.resident_window_mb);
  if (!opened.ok()) {
    std::fprintf(stderr, "mqbench append: cannot open %s: %s\n", c.store.c_str(),
                 opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<mqstore::Store> store = std::move(opened).value();
  std::printf(
      "mqbench append: %s, topic %s, %d queue(s), %llu x %zu B, %d thread(s), batch %d, "
      "in flight %d, flush %s\n",
      c.store.c_str(), c.topic.c_str(), c.queues, static_cast<unsigned long long>(c.count), c.size,
      c.threads, c.batch, c.in_flight, c.sync ? "sync" : "async");
  const BodyPool bodies(c.size);
  const int64_t log_before = store->Stats().appended_offset;
  const auto batch = static_cast<uint64_t>(c.batch);
  const uint64_t calls = (c.count + batch - 1) / batch;

  std::atomic<uint64_t> next{0};  // index of the next message to claim
  std::atomic<uint64_t> timeouts{0};
  FirstError error;
  std::vector<std::vector<float>> latency(static_cast<size_t>(c.threads));
  auto writer = [&](size_t t, StartGate& gate) {
    std::vector<mqstore::MessageView> messages(c.batch);
    for (auto& m : messages) m.topic = c.topic;
    std::vector<float>& lat = latency[t];
    // Threads do not share the calls exactly evenly; leave some room.
    uint64_t share = calls / static_cast<uint64_t>(c.threads) + 1;
    lat.reserve(share + share / 4);
    uint64_t my_timeouts = 0;
    auto window = std::make_shared<InFlightWindow>(c.in_flight, &lat);
    gate.Wait();
    while (!error.failed()) {
      uint64_t first = next.fetch_add(batch, std::memory_order_relaxed);
      if (first >= c.count) break;
      size_t k = static_cast<size_t>(std::min(batch, c.count - first));
      auto queue = static_cast<int32_t>((first / batch) % static_cast<uint64_t>(c.queues));
      for (size_t j = 0; j < k; ++j) {
        messages[j].queue_id = queue;
        messages[j].body = bodies.Body(first + j);
      }
      if (c.in_flight > 0) {
        AppendAsync(store.get(), std::span(messages.data(), k), c.batch > 1, window, &error,
                    &timeouts);
        continue;
      }
      bool timed_out = false;
      auto t0 = SteadyClock::now();
      mqstore::Status s =
          AppendOnce(store.get(), std::span(messages.data(), k), c.batch > 1, &timed_out);
      lat.push_back(MicrosSince(t0));
      if (!s.ok()) {
        error.Set(s.ToString());
        break;
      }
      if (timed_out) ++my_timeouts;
    }
    window->Drain();
    timeouts.fetch_add(my_timeouts, std::memory_order_relaxed);
  };

  Totals totals;
  totals.secs = RunOnThreads(c.threads, error, writer);
  if (error.failed()) {
    std::fprintf(stderr, "mqbench append: %s\n", error.message().c_str());
    CloseStore("append", std::move(store), /*quiet=*/true);
    return 1;
  }
  totals.messages = c.count;
  totals.payload_bytes = c.count * c.size;
  totals.latency_us = Merge(latency);

  const mqstore::StoreStats stats = store->Stats();
  const auto log_bytes = static_cast<double>(stats.appended_offset - log_before);
  const int64_t rss_peak = ProcStatusBytes("VmHWM");
  const int64_t rss = ProcStatusBytes("VmRSS");
  std::printf(
      "  commit log: %.1f MB appended (%.0f B per record), %llu segment(s); "
      "flush_disk_timeouts=%llu\n",
      log_bytes / 1e6, log_bytes / static_cast<double>(c.count),
      static_cast<unsigned long long>(stats.segment_count),
      static_cast<unsigned long long>(timeouts.load()));
  if (CloseStore("append", std::move(store), /*quiet=*/false) != 0) return 1;
  PrintReport(c.batch > 1 ? "PutBatch" : "Put", totals, rss_peak, rss);
  return 0;
}

int RunRead(const ReadConfig& c) {
  auto opened = OpenStore(c.store, /*sync=*/false, /*create=*/false);
  if (!opened.ok()) {
    std::fprintf(stderr, "mqbench read: cannot open %s: %s\n", c.store.c_str(),
                 opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<mqstore::Store> store = std::move(opened).value();

  struct QueueRange {
    int32_t queue_id;
    int64_t from;
    int64_t to;
  };
  std::vector<QueueRange> ranges;
  int64_t expected = 0;
  for (int32_t q = 0; q < c.queues; ++q) {
    auto bounds = store->GetQueueBounds(c.topic, q);
    if (!bounds.ok()) {
      std::fprintf(stderr, "mqbench read: queue %s/%d: %s\n", c.topic.c_str(), q,
                   bounds.status().ToString().c_str());
      CloseStore("read", std::move(store), /*quiet=*/true);
      return 1;
    }
    ranges.push_back({q, bounds->min_offset, bounds->max_offset});
    expected += bounds->max_offset - bounds->min_offset;
  }
  std::printf(
      "mqbench read: %s, topic %s, %d queue(s), %lld msgs, batch %d, max %llu B per "
      "read, %d thread(s)%s\n",
      c.store.c_str(), c.topic.c_str(), c.queues, static_cast<long long>(expected), c.batch,
      static_cast<unsigned long long>(c.max_bytes), c.threads, c.verify ? ", verifying CRCs" : "");

  std::atomic<size_t> next_queue{0};
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> payload{0};
  FirstError error;
  std::vector<std::vector<float>> latency(static_cast<size_t>(c.threads));
  auto reader = [&](size_t t, StartGate& gate) {
    uint64_t my_messages = 0;
    uint64_t my_payload = 0;
    std::vector<float>& lat = latency[t];
    gate.Wait();
    while (!error.failed()) {
      size_t i = next_queue.fetch_add(1);
      if (i >= ranges.size()) break;
      const QueueRange& range = ranges[i];
      lat.reserve(lat.size() + static_cast<size_t>((range.to - range.from) / c.batch + 1));
      for (int64_t offset = range.from; offset < range.to && !error.failed();) {
        auto t0 = SteadyClock::now();
        auto read = store->Read(c.topic, range.queue_id, offset, c.batch, c.max_bytes);
        lat.push_back(MicrosSince(t0));
        auto where = [&] {
          return "Read " + c.topic + "/" + std::to_string(range.queue_id) + " at offset " +
                 std::to_string(offset) + ": ";
        };
        if (!read.ok()) {
          error.Set(where() + read.status().ToString());
          break;
        }
        if (read->status == mqstore::ReadStatus::kOffsetTooSmall) {
          offset = read->next_offset;  // retention removed the head meanwhile
          continue;
        }
        if (read->status != mqstore::ReadStatus::kFound) {
          error.Set(where() + mqstore::ReadStatusName(read->status));
          break;
        }
        for (const mqstore::StoredMessage& m : read->messages) {
          mqstore::ParsedRecord record;
          mqstore::Status s = mqstore::ParseRecord(m.record, c.verify, &record);
          if (!s.ok()) {
            error.Set("record " + c.topic + "/" + std::to_string(range.queue_id) + "@" +
                      std::to_string(m.queue_offset) + ": " + s.ToString());
            break;
          }
          my_payload += record.body.size();
        }
        my_messages += read->messages.size();
        offset = read->next_offset;
      }
    }
    messages.fetch_add(my_messages);
    payload.fetch_add(my_payload);
  };

  Totals totals;
  totals.secs = RunOnThreads(c.threads, error, reader);
  if (error.failed()) {
    std::fprintf(stderr, "mqbench read: %s\n", error.message().c_str());
    CloseStore("read", std::move(store), /*quiet=*/true);
    return 1;
  }
  totals.messages = messages.load();
  totals.payload_bytes = payload.load();
  totals.latency_us = Merge(latency);
  const int64_t rss_peak = ProcStatusBytes("VmHWM");
  const int64_t rss = ProcStatusBytes("VmRSS");
  if (CloseStore("read", std::move(store), /*quiet=*/true) != 0) return 1;
  PrintReport("Read", totals, rss_peak, rss);
  return 0;
}

int RunEmbedded(const EmbeddedConfig& c) {
  auto opened = OpenStore(c.dir, c.sync, /*create=*/true);
  if (!opened.ok()) {
    std::fprintf(stderr, "mqbench embedded: cannot open %s: %s\n", c.dir.c_str(),
                 opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<mqstore::Store> store = std::move(opened).value();
  const BodyPool bodies(c.size);
  const auto batch = static_cast<uint64_t>(c.batch);
  std::vector<mqstore::MessageView> messages(c.batch);
  for (auto& m : messages) m.topic = "bench";  // queue 0
  std::vector<float> lat;
  lat.reserve(c.n / batch + 1);
  uint64_t done = 0;
  uint64_t timeouts = 0;
  auto t0 = SteadyClock::now();
  while (done < c.n) {
    size_t k = static_cast<size_t>(std::min(batch, c.n - done));
    for (size_t j = 0; j < k; ++j) messages[j].body = bodies.Body(done + j);
    bool timed_out = false;
    auto s0 = SteadyClock::now();
    mqstore::Status s =
        AppendOnce(store.get(), std::span(messages.data(), k), c.batch > 1, &timed_out);
    lat.push_back(MicrosSince(s0));
    if (!s.ok()) {
      std::fprintf(stderr, "mqbench embedded: %s\n", s.ToString().c_str());
      CloseStore("embedded", std::move(store), /*quiet=*/true);
      return 1;
    }
    if (timed_out) ++timeouts;
    done += k;
    // Check the clock every ~4096 messages, as the peer programs do.
    if ((done & 0xfff) < batch && SecondsSince(t0) > c.max_secs) break;
  }
  const double secs = SecondsSince(t0);
  // Like the peers (RocksDB's time excludes its close), the final close is not timed.
  if (CloseStore("embedded", std::move(store), /*quiet=*/true) != 0) return 1;
  if (timeouts > 0) {
    std::fprintf(stderr, "mqbench embedded: %llu call(s) returned FLUSH_DISK_TIMEOUT\n",
                 static_cast<unsigned long long>(timeouts));
  }
  std::sort(lat.begin(), lat.end());
  std::printf("msgs=%llu secs=%.3f msgs_s=%.0f mb_s=%.1f p50_us=%.1f p99_us=%.1f\n",
              static_cast<unsigned long long>(done), secs, Rate(static_cast<double>(done), secs),
              Rate(static_cast<double>(done * c.size), secs) / 1e6, Percentile(lat, 50),
              Percentile(lat, 99));
  return 0;
}

}  // namespace mqbench
