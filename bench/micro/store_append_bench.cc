// Append throughput of the public Store API.
//
//   BM_StoreAppend       one Put per iteration, from `threads` writer threads at once
//   BM_StoreAppendBatch  one PutBatch of `batch` messages per iteration, one writer
//
// Every run (Google Benchmark may do several per benchmark while it sizes the iteration
// count) gets a fresh store in a scratch directory with the default options (1 GiB
// segments) and the flush mode of the `sync` argument; Setup/Teardown open and remove it
// outside the timing. Bodies are incompressible bytes from a pool generated before timing.
//
// Times are wall-clock (UseRealTime): with sync=1 the writers mostly wait for fdatasync, so
// CPU time would overstate the rate. items/s counts messages, bytes_per_second counts body
// bytes (the payload), log_bytes_per_second counts commit-log bytes (records with headers).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bench_support.h"
#include "mqstore/store.h"

namespace mqbench {
namespace {

constexpr std::string_view kTopic = "bench";

// The state of the current run, shared by its threads. Written only by Setup/Teardown,
// which Google Benchmark runs while no benchmark thread is running.
struct AppendRun {
  std::unique_ptr<BodyPool> bodies;  // kept across runs of the same body size
  std::unique_ptr<ScratchDir> dir;
  std::unique_ptr<mqstore::Store> store;
  int64_t start_offset = 0;
  std::string error;  // why Setup failed; reported through SkipWithError
};
AppendRun g_run;

// range(0) = message size, range(1) = sync (0/1), for both append benchmarks.
void SetupRun(const benchmark::State& state) {
  g_run.error.clear();
  auto size = static_cast<size_t>(state.range(0));
  if (!g_run.bodies || g_run.bodies->body_size() != size) {
    g_run.bodies = std::make_unique<BodyPool>(size);
  }
  g_run.dir = std::make_unique<ScratchDir>("mqstore-bench");
  if (g_run.dir->path().empty()) {
    g_run.error = "cannot create a scratch directory under $TMPDIR or /tmp";
    return;
  }
  mqstore::StoreOptions options;
  options.flush_mode = state.range(1) != 0 ? mqstore::FlushMode::kSync : mqstore::FlushMode::kAsync;
  auto opened = mqstore::Store::Open(options, g_run.dir->StorePath());
  if (!opened.ok()) {
    g_run.error = "Store::Open: " + opened.status().ToString();
    return;
  }
  g_run.store = std::move(opened).value();
  g_run.start_offset = g_run.store->Stats().appended_offset;
}

void TeardownRun(const benchmark::State& /*state*/) {
  if (g_run.store) {
    // Teardown cannot fail the benchmark; an error here is still worth seeing.
    if (mqstore::Status s = g_run.store->Close(); !s.ok()) {
      std::fprintf(stderr, "Store::Close: %s\n", s.ToString().c_str());
    }
    g_run.store.reset();
  }
  g_run.dir.reset();
}

// Called by thread 0 after the loop, when every thread has left it.
void ReportLogBytes(benchmark::State& state) {
  if (state.thread_index() != 0 || !g_run.store) return;
  auto log_bytes = static_cast<double>(g_run.store->Stats().appended_offset - g_run.start_offset);
  state.counters["log_bytes_per_second"] =
      benchmark::Counter(log_bytes, benchmark::Counter::kIsRate, benchmark::Counter::kIs1024);
}

void BM_StoreAppend(benchmark::State& state) {
  const auto size = static_cast<int64_t>(state.range(0));
  mqstore::MessageView message;
  message.topic = kTopic;
  message.queue_id = state.thread_index();
  // Threads start at different places in the pool so they do not write identical bodies.
  uint64_t i = static_cast<uint64_t>(state.thread_index()) * 1'000'003;
  for (auto _ : state) {
    if (!g_run.error.empty()) {
      state.SkipWithError(g_run.error.c_str());
      break;
    }
    message.body = g_run.bodies->Body(i++);
    auto put = g_run.store->Put(message);
    if (!put.ok()) {
      state.SkipWithError(("Put: " + put.status().ToString()).c_str());
      break;
    }
    if (put->status != mqstore::PutStatus::kOk) {
      state.SkipWithError("Put: flush disk timeout (not durable within sync_flush_timeout_ms)");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * size);
  ReportLogBytes(state);
}

void BM_StoreAppendBatch(benchmark::State& state) {
  const auto size = static_cast<int64_t>(state.range(0));
  const auto batch = static_cast<size_t>(state.range(2));
  std::vector<mqstore::MessageView> messages(batch);
  for (auto& m : messages) m.topic = kTopic;
  uint64_t i = 0;
  for (auto _ : state) {
    if (!g_run.error.empty()) {
      state.SkipWithError(g_run.error.c_str());
      break;
    }
    for (auto& m : messages) m.body = g_run.bodies->Body(i++);
    auto put = g_run.store->PutBatch(messages);
    if (!put.ok()) {
      state.SkipWithError(("PutBatch: " + put.status().ToString()).c_str());
      break;
    }
    if (put->status != mqstore::PutStatus::kOk) {
      state.SkipWithError(
          "PutBatch: flush disk timeout (not durable within sync_flush_timeout_ms)");
      break;
    }
  }
  const auto messages_done = state.iterations() * static_cast<int64_t>(batch);
  state.SetItemsProcessed(messages_done);
  state.SetBytesProcessed(messages_done * size);
  ReportLogBytes(state);
}

// sync: 0 = FlushMode::kAsync, 1 = FlushMode::kSync (group commit).
BENCHMARK(BM_StoreAppend)
    ->ArgNames({"msg_size", "sync"})
    ->ArgsProduct({{100, 1024}, {0, 1}})
    ->Threads(1)
    ->Threads(4)
    ->UseRealTime()
    ->Setup(SetupRun)
    ->Teardown(TeardownRun);

// Many concurrent writers in sync mode: how far group commit amortizes one fdatasync.
BENCHMARK(BM_StoreAppend)
    ->ArgNames({"msg_size", "sync"})
    ->ArgsProduct({{100, 1024}, {1}})
    ->Threads(64)
    ->UseRealTime()
    ->Setup(SetupRun)
    ->Teardown(TeardownRun);

// The batch shape of the embedded peers (b64:s0, b64:s1 in peers/embedded/embedded.sh).
BENCHMARK(BM_StoreAppendBatch)
    ->ArgNames({"msg_size", "sync", "batch"})
    ->ArgsProduct({{100, 1024}, {0, 1}, {64}})
    ->UseRealTime()
    ->Setup(SetupRun)
    ->Teardown(TeardownRun);

}  // namespace
}  // namespace mqbench
