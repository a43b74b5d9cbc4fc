// Sequential consumption of one queue through the public Store API.
//
//   BM_StoreSequentialRead  one Read(topic, 0, offset, batch, 4 MiB) per iteration, walking
//                           a pre-filled queue from offset 0 and wrapping at its end
//
// The pre-filled store (msgs x msg_size bytes in queue 0, written with PutBatch in async
// mode, then flushed, dispatched and read once to warm the page cache and the mappings;
// resident_log_window_bytes = 1 GiB so that the mapping stays warm, and no page-cache window
// so that the kernel keeps the backlog cached) is
// built once per (msg_size, msgs) and kept across runs and batch sizes; main() removes it
// through ReleaseReadFixtures().
//
// Read returns views into the mapped log (zero copy, as RocketMQ hands a consumer a mapped
// buffer). With copy=0 the benchmark only touches the first byte of every record, so it
// measures the lookup cost and its bytes/s are bytes made available, not bytes moved. With
// copy=1 it copies every record into one reused 4 MiB buffer, as a consumer building a
// response would.
//
// items/s counts messages, bytes_per_second counts body bytes, record_bytes_per_second
// the record bytes returned (ReadResult::total_bytes).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bench_support.h"
#include "micro_fixtures.h"
#include "mqstore/store.h"

namespace mqbench {
namespace {

constexpr std::string_view kTopic = "bench";
constexpr uint64_t kMaxReadBytes = uint64_t{4} << 20;
constexpr size_t kFillBatch = 256;

struct ReadFixture {
  size_t size = 0;
  int64_t count = 0;
  std::unique_ptr<ScratchDir> dir;
  std::unique_ptr<mqstore::Store> store;
  std::string error;  // why the fill failed
};
std::unique_ptr<ReadFixture> g_fixture;

void ReleaseFixture() {
  if (!g_fixture) return;
  if (g_fixture->store) {
    if (mqstore::Status s = g_fixture->store->Close(); !s.ok()) {
      std::fprintf(stderr, "Store::Close: %s\n", s.ToString().c_str());
    }
  }
  g_fixture.reset();  // removes the scratch directory
}

mqstore::Status Fill(mqstore::Store* store, size_t size, int64_t count) {
  BodyPool bodies(size);
  std::vector<mqstore::MessageView> batch(kFillBatch);
  for (auto& m : batch) m.topic = kTopic;
  int64_t end = 0;
  for (int64_t done = 0; done < count;) {
    size_t k = static_cast<size_t>(std::min<int64_t>(kFillBatch, count - done));
    for (size_t j = 0; j < k; ++j) batch[j].body = bodies.Body(static_cast<uint64_t>(done) + j);
    auto put = store->PutBatch(std::span(batch.data(), k));
    if (!put.ok()) return put.status().WithContext("PutBatch");
    const mqstore::PutResult& last = put->items.back();
    end = last.physical_offset + last.record_size;
    done += static_cast<int64_t>(k);
  }
  MQ_RETURN_IF_ERROR(store->Flush());
  MQ_RETURN_IF_ERROR(store->AwaitDispatched(end, 120'000));
  // Warm: one full pass, touching every record.
  for (int64_t offset = 0; offset < count;) {
    auto read = store->Read(kTopic, 0, offset, 256, kMaxReadBytes);
    if (!read.ok()) return read.status().WithContext("warm-up Read");
    if (read->status != mqstore::ReadStatus::kFound) {
      return mqstore::Status::Corruption(std::string("warm-up Read: ") +
                                         mqstore::ReadStatusName(read->status));
    }
    for (const auto& m : read->messages) benchmark::DoNotOptimize(m.record[0]);
    offset = read->next_offset;
  }
  return mqstore::Status::OK();
}

// The filled store for (size, count), building it (outside the timing) when needed.
ReadFixture& FixtureFor(size_t size, int64_t count) {
  if (g_fixture && g_fixture->size == size && g_fixture->count == count) return *g_fixture;
  ReleaseFixture();
  g_fixture = std::make_unique<ReadFixture>();
  ReadFixture& f = *g_fixture;
  f.size = size;
  f.count = count;
  f.dir = std::make_unique<ScratchDir>("mqstore-bench-read");
  if (f.dir->path().empty()) {
    f.error = "cannot create a scratch directory under $TMPDIR or /tmp";
    return f;
  }
  mqstore::StoreOptions options;
  // Keep the whole backlog mapped. With the default 64 MiB window the maintenance thread
  // drops older log pages from the page tables once, at its first tick after the fill, and
  // whichever run comes next pays the re-faults; this benchmark measures the warm state.
  options.resident_log_window_bytes = uint64_t{1} << 30;
  options.cached_log_window_bytes = 0;  // a warm backlog, not one read back from disk
  auto opened = mqstore::Store::Open(options, f.dir->StorePath());
  if (!opened.ok()) {
    f.error = "Store::Open: " + opened.status().ToString();
    return f;
  }
  f.store = std::move(opened).value();
  if (mqstore::Status s = Fill(f.store.get(), size, count); !s.ok()) f.error = s.ToString();
  return f;
}

void BM_StoreSequentialRead(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  const int64_t count = state.range(1);
  const auto batch = static_cast<int32_t>(state.range(2));
  const bool copy = state.range(3) != 0;
  std::vector<char> response(copy ? kMaxReadBytes : 0);
  ReadFixture& f = FixtureFor(size, count);
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  int64_t offset = 0;
  int64_t messages = 0;
  uint64_t record_bytes = 0;
  for (auto _ : state) {
    auto read = f.store->Read(kTopic, 0, offset, batch, kMaxReadBytes);
    if (!read.ok()) {
      state.SkipWithError(("Read: " + read.status().ToString()).c_str());
      break;
    }
    if (read->status != mqstore::ReadStatus::kFound) {
      state.SkipWithError(
          (std::string("Read: unexpected ") + mqstore::ReadStatusName(read->status)).c_str());
      break;
    }
    if (copy) {
      if (read->total_bytes > response.size()) response.resize(read->total_bytes);
      char* out = response.data();
      for (const auto& m : read->messages) {
        std::memcpy(out, m.record.data(), m.record.size());
        out += m.record.size();
      }
      benchmark::DoNotOptimize(response.data());
      benchmark::ClobberMemory();
    } else {
      for (const auto& m : read->messages) benchmark::DoNotOptimize(m.record[0]);
    }
    messages += static_cast<int64_t>(read->messages.size());
    record_bytes += read->total_bytes;
    offset = read->next_offset < count ? read->next_offset : 0;
  }
  state.SetItemsProcessed(messages);
  state.SetBytesProcessed(messages * static_cast<int64_t>(size));
  state.counters["record_bytes_per_second"] = benchmark::Counter(
      static_cast<double>(record_bytes), benchmark::Counter::kIsRate, benchmark::Counter::kIs1024);
}

BENCHMARK(BM_StoreSequentialRead)
    ->ArgNames({"msg_size", "msgs", "batch", "copy"})
    ->ArgsProduct({{100}, {1'000'000}, {32, 256}, {0, 1}})
    ->ArgsProduct({{1024}, {200'000}, {32, 256}, {0, 1}});

}  // namespace

void ReleaseReadFixtures() { ReleaseFixture(); }

}  // namespace mqbench
