// Retention against a running writer (libmqstore/src/retention), on the POSIX env in a
// scratch directory under $TMPDIR.
//
//   BM_RetentionAppendLatency/deleting:0  one writer thread appends 512-byte messages to a
//                                         CommitLog of 1 MiB segments (mapped mode, as in
//                                         ASYNC_FLUSH) that already holds 100 synced segments
//   BM_RetentionAppendLatency/deleting:1  the same, while RetentionService removes those 100
//                                         segments (forced: every one is expired, 100 per
//                                         round) on the benchmark's thread
//
// Each run is one pass (Iterations(1)); the log is built with timing paused. The writer
// makes one append every 4 us (spinning in between), 100k appends or until the deletion is
// over, whichever is later. Counters, in microseconds per append: p50_us / p99_us / max_us over the appends that ran while the
// deletion did (deleting:1) or over all appends (deleting:0), and all_p99_us over every
// append of the run. delete_ms is how long the removal of the 100 segments took.
// Deletion must not stall appends: removal happens outside the append lock, so p99 should
// stay close to the baseline; what remains is unlink and munmap work competing for the CPU
// and the file system.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "log/commit_log.h"
#include "log/queue_offset_table.h"
#include "log/record_codec.h"
#include "queue/consume_queue_set.h"
#include "retention/retention_service.h"

namespace mqbench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kSegmentBytes = 1 << 20;
constexpr int kSegmentsToDelete = 100;
constexpr size_t kBodyBytes = 512;
constexpr int kAppends = 100'000;
// The writer is paced (one append per interval, spinning in between) so that it is still
// appending when a slow deletion ends; it stops after kAppends and the deletion, or kMaxAppends.
constexpr std::chrono::microseconds kAppendInterval{4};
constexpr int kMaxAppends = 1'000'000;

struct Sample {
  Clock::time_point at;
  float micros;
};

class AppendLoop {
 public:
  AppendLoop(mqstore::CommitLog* log, const BodyPool* bodies) : log_(log), bodies_(bodies) {}

  // Appends one message; false (with error()) on failure.
  bool AppendOne(uint64_t i) {
    mqstore::Message m;
    m.topic = "bench";
    m.queue_id = static_cast<int32_t>(i % 8);
    m.body = std::string(bodies_->Body(i));
    std::string props;
    mqstore::MessageView view = m.View(&props);
    mqstore::PreparedRecord prepared;
    mqstore::Status s = mqstore::PrepareRecord(view, mqstore::SocketAddress::V4(127, 0, 0, 1, 10911),
                                               4 << 20, &prepared);
    mqstore::AppendedRecord out;
    int64_t ts = 0;
    if (s.ok()) s = log_->Append({&prepared, 1}, &offsets_, {&out, 1}, &ts);
    if (!s.ok()) error_ = s.ToString();
    return s.ok();
  }
  const std::string& error() const { return error_; }

 private:
  mqstore::CommitLog* log_;
  const BodyPool* bodies_;
  mqstore::QueueOffsetTable offsets_;
  std::string error_;
};

void Report(benchmark::State& state, std::vector<float> window, std::vector<float> all) {
  std::sort(window.begin(), window.end());
  std::sort(all.begin(), all.end());
  state.counters["p50_us"] = Percentile(window, 50);
  state.counters["p99_us"] = Percentile(window, 99);
  state.counters["max_us"] = window.empty() ? 0 : window.back();
  state.counters["all_p99_us"] = Percentile(all, 99);
  state.counters["window_appends"] = static_cast<double>(window.size());
}

void BM_RetentionAppendLatency(benchmark::State& state) {
  const bool deleting = state.range(0) != 0;
  for (auto _ : state) {
    state.PauseTiming();
    ScratchDir dir("mq-retention-bench");
    if (dir.path().empty()) {
      state.SkipWithError("cannot create a scratch directory");
      return;
    }
    mqstore::Env* env = mqstore::Env::Default();
    mqstore::CommitLog::Options options;
    options.segment_bytes = kSegmentBytes;
    options.store_host = mqstore::SocketAddress::V4(127, 0, 0, 1, 10911);
    options.clock = mqstore::Clock::System();
    options.resident_window_bytes = 8 << 20;
    mqstore::CommitLog log(env, dir.path(), options);
    mqstore::ConsumeQueueSet queues(env, dir.path(), 1024);
    mqstore::Status s = log.Load();
    if (s.ok()) s = log.TruncateTo(0, false);
    if (s.ok()) s = queues.Load();
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
    log.StartAllocator();
    BodyPool bodies(kBodyBytes);
    AppendLoop loop(&log, &bodies);
    uint64_t n = 0;
    const int64_t deletable_end = int64_t{kSegmentsToDelete} * static_cast<int64_t>(kSegmentBytes);
    while (log.appended() <= deletable_end) {
      if (!loop.AppendOne(n++)) {
        state.SkipWithError(loop.error().c_str());
        return;
      }
    }
    // On disk, like segments a day old: removing them frees blocks, not just page cache.
    s = log.Sync(0, log.appended());
    auto policy = mqstore::RetentionPolicy::Create(mqstore::RetentionPolicyOptions{
        .file_reserved_ms = 1, .max_segments_per_round = kSegmentsToDelete});
    if (!s.ok() || !policy.ok()) {
      state.SkipWithError((s.ok() ? policy.status() : s).ToString().c_str());
      return;
    }
    mqstore::RetentionService retention(env, dir.path(), &log, &queues, nullptr,
                                        std::move(policy).value(), [](int64_t) { return 4; });
    state.ResumeTiming();

    std::vector<Sample> samples;
    samples.reserve(kMaxAppends);
    std::atomic<bool> writer_failed{false};
    std::atomic<bool> deletion_done{!deleting};
    std::thread writer([&] {
      Clock::time_point next = Clock::now();
      for (int i = 0; i < kMaxAppends && (i < kAppends || !deletion_done.load()); ++i) {
        next += kAppendInterval;
        while (Clock::now() < next) {
        }
        Clock::time_point start = Clock::now();
        if (!loop.AppendOne(n++)) {
          writer_failed = true;
          return;
        }
        Clock::time_point stop = Clock::now();
        samples.push_back(
            {start, std::chrono::duration<float, std::micro>(stop - start).count()});
      }
    });
    Clock::time_point delete_start{}, delete_stop{};
    size_t removed = 0;
    std::string delete_error;
    if (deleting) {
      // Let the writer get going, then remove the 100 old segments in one round.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      delete_start = Clock::now();
      auto report = retention.RunOnce(mqstore::Clock::System()->NowMillis() + 60'000, deletable_end);
      delete_stop = Clock::now();
      deletion_done = true;
      if (report.ok()) {
        removed = report->segments_removed;
      } else {
        delete_error = report.status().ToString();
      }
    }
    writer.join();
    if (writer_failed) {
      state.SkipWithError(loop.error().c_str());
      return;
    }
    if (!delete_error.empty() || (deleting && removed != kSegmentsToDelete)) {
      state.SkipWithError(("retention removed " + std::to_string(removed) + " segments " +
                           delete_error).c_str());
      return;
    }
    state.PauseTiming();
    std::vector<float> window, all;
    for (const Sample& sample : samples) {
      all.push_back(sample.micros);
      if (!deleting || (sample.at >= delete_start && sample.at <= delete_stop)) {
        window.push_back(sample.micros);
      }
    }
    Report(state, std::move(window), std::move(all));
    if (deleting) {
      state.counters["delete_ms"] =
          std::chrono::duration<double, std::milli>(delete_stop - delete_start).count();
    }
    state.ResumeTiming();
  }
}
BENCHMARK(BM_RetentionAppendLatency)
    ->ArgName("deleting")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace mqbench
