// The timer (libmqstore/src/schedule/timer_scheduler) firing one crowded second, on a real
// store (POSIX env, scratch directory, ASYNC_FLUSH, otherwise default options: the hash index
// indexes every put's UNIQ_KEY, progress goes to the LMDB metadata store) and a manual clock.
//
//   BM_TimerFireOneSecond   `timers` messages with `body`-byte bodies all ask for delivery at
//                           the same second T. Before timing: they are put (rewritten to
//                           rmq_sys_wheel_timer as the store façade will) and the scheduler
//                           enqueues them into its timer log and wheel at T - 1 s. Timed: the
//                           clock is set to T and RunOnce(T) delivers every one of them to
//                           its real queue (PutBatch), committing progress (with
//                           Store::Flush) every 65,536 timers, as by default.
//
// Counters: deliver_s = wall seconds from the due time until the last message was put back
// (the target is 1,000,000 timers within 2 s; RocketMQ 5 manages ~20k/s); enqueue_s = wall
// seconds to take them from the timer topic into the timer log; items/s = timers delivered
// per second. One iteration: the setup (putting a million messages) dominates the run.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bench_support.h"
#include "mqstore/env.h"
#include "mqstore/store.h"
#include "schedule/metadata_progress_store.h"
#include "schedule/schedule_progress.h"
#include "schedule/schedule_rewrite.h"
#include "schedule/timer_scheduler.h"

namespace mqbench {
namespace {

constexpr int64_t kDueMs = 1'700'000'100'000;  // T, a whole second
constexpr int kRealQueues = 8;
constexpr size_t kPutBatch = 1024;

class BenchClock : public mqstore::Clock {
 public:
  int64_t NowMillis() override { return now_.load(); }
  void Set(int64_t ms) { now_.store(ms); }

 private:
  std::atomic<int64_t> now_{kDueMs - 60'000};
};

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Puts `count` timer messages due at kDueMs, rewritten as the façade would.
mqstore::Status PutTimers(mqstore::Store& store, BenchClock& clock, int64_t count,
                          size_t body_size) {
  BodyPool bodies(body_size);
  mqstore::ScheduleRewriteOptions rewrite_options;
  std::vector<mqstore::Message> originals(kPutBatch);
  std::vector<std::string> original_props(kPutBatch);
  std::vector<mqstore::ScheduleRewrite> rewrites(kPutBatch);
  std::vector<mqstore::MessageView> views(kPutBatch);
  char key[40];
  for (int64_t done = 0; done < count;) {
    size_t n = static_cast<size_t>(std::min<int64_t>(kPutBatch, count - done));
    for (size_t i = 0; i < n; ++i) {
      int64_t seq = done + static_cast<int64_t>(i);
      mqstore::Message& m = originals[i];
      m.topic = "orders";
      m.queue_id = static_cast<int32_t>(seq % kRealQueues);
      m.body = std::string(bodies.Body(static_cast<uint64_t>(seq)));
      m.properties.clear();
      std::snprintf(key, sizeof(key), "7F00000100002A9F%016llX",
                    static_cast<unsigned long long>(seq));
      m.SetProperty("UNIQ_KEY", key);
      m.SetProperty("TAGS", "TagA");
      // Spread over the second: every timer lands in the slot of T.
      m.SetProperty("TIMER_DELIVER_MS", std::to_string(kDueMs - 999 + seq % 1000));
      mqstore::MessageView view = m.View(&original_props[i]);
      auto rewrite = mqstore::RewriteForSchedule(view, rewrite_options, clock.NowMillis());
      if (!rewrite.ok()) return rewrite.status();
      if (!rewrite->has_value()) return mqstore::Status::Corruption("timer not rewritten");
      rewrites[i] = std::move(**rewrite);
      views[i] = rewrites[i].Apply(view);
    }
    auto put = store.PutBatch(std::span<const mqstore::MessageView>(views.data(), n));
    if (!put.ok()) return put.status();
    done += static_cast<int64_t>(n);
  }
  return store.AwaitDispatched(store.Stats().appended_offset, 600'000);
}

void BM_TimerFireOneSecond(benchmark::State& state) {
  const int64_t timers = state.range(0);
  const auto body_size = static_cast<size_t>(state.range(1));
  for (auto _ : state) {
    ScratchDir dir("mqstore-timer-bench");
    if (dir.path().empty()) {
      state.SkipWithError("cannot create a scratch directory");
      break;
    }
    BenchClock clock;
    mqstore::StoreOptions options;
    options.flush_mode = mqstore::FlushMode::kAsync;
    options.clock = &clock;
    options.enable_schedule = false;  // the benchmark drives its own TimerScheduler
    auto opened = mqstore::Store::Open(options, dir.StorePath());
    if (!opened.ok()) {
      state.SkipWithError(("Store::Open: " + opened.status().ToString()).c_str());
      break;
    }
    std::unique_ptr<mqstore::Store> store = std::move(opened).value();
    if (mqstore::Status s = PutTimers(*store, clock, timers, body_size); !s.ok()) {
      state.SkipWithError(("putting timers: " + s.ToString()).c_str());
      break;
    }
    mqstore::InMemoryScheduleProgressStore progress;
    auto timer =
        mqstore::TimerScheduler::Open(mqstore::Env::Default(), dir.StorePath(), *store, progress);
    if (!timer.ok()) {
      state.SkipWithError(("TimerScheduler::Open: " + timer.status().ToString()).c_str());
      break;
    }
    clock.Set(kDueMs - 1000);
    auto start = std::chrono::steady_clock::now();
    auto enqueued = (*timer)->RunOnce(kDueMs - 1000);
    const double enqueue_s = SecondsSince(start);
    if (!enqueued.ok() || (*timer)->stats().pending != static_cast<uint64_t>(timers)) {
      state.SkipWithError(("enqueue: " + enqueued.status().ToString()).c_str());
      break;
    }

    clock.Set(kDueMs);
    start = std::chrono::steady_clock::now();
    auto fired = (*timer)->RunOnce(kDueMs);
    const double deliver_s = SecondsSince(start);
    state.SetIterationTime(deliver_s);
    if (!fired.ok() || fired->delivered != static_cast<uint64_t>(timers)) {
      state.SkipWithError(("delivery: " + fired.status().ToString()).c_str());
      break;
    }
    int64_t real = 0;
    if (store->AwaitDispatched(store->Stats().appended_offset, 600'000).ok()) {
      for (int q = 0; q < kRealQueues; ++q) {
        auto bounds = store->GetQueueBounds("orders", q);
        if (bounds.ok()) real += bounds->max_offset;
      }
    }
    if (real != timers) {
      state.SkipWithError("not every timer reached its real queue");
      break;
    }
    state.counters["deliver_s"] = deliver_s;
    state.counters["enqueue_s"] = enqueue_s;
    state.counters["within_2s"] = deliver_s <= 2.0 ? 1 : 0;
    state.SetItemsProcessed(timers);
    timer->reset();
    if (mqstore::Status s = store->Close(); !s.ok()) {
      std::fprintf(stderr, "Store::Close: %s\n", s.ToString().c_str());
    }
  }
}

BENCHMARK(BM_TimerFireOneSecond)
    ->ArgNames({"timers", "body"})
    ->Args({1'000'000, 128})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mqbench
