// Many threads on one store: writers keep per-queue order and contiguous offsets, batches
// stay contiguous, and in SYNC_FLUSH mode concurrent readers never see a non-durable record.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/fault_injection_env.h"
#include "mqstore/mem_env.h"
#include "mqstore/store.h"
#include "mqstore/store/store_test_util.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::BodyFor;
using test::EnvKind;
using test::MakeMessage;
using test::ParseBody;
using test::PutMessage;
using test::ReadBack;
using test::ReadQueue;

constexpr int kWaitMs = 10'000;
constexpr int kQueues = 3;

// (env, flush mode): POSIX runs ASYNC only to keep fsyncs out of a unit test's time.
using Param = std::tuple<EnvKind, FlushMode>;

std::string ParamName(const ::testing::TestParamInfo<Param>& info) {
  return std::string(std::get<0>(info.param) == EnvKind::kPosix ? "Posix" : "MemEnv") +
         (std::get<1>(info.param) == FlushMode::kSync ? "Sync" : "Async");
}

class StoreConcurrencyTest : public ::testing::TestWithParam<Param> {
 protected:
  StoreConcurrencyTest() : location_(std::get<0>(GetParam())) {}

  void SetUp() override {
    StoreOptions o;
    o.env = location_.env();
    o.commitlog_segment_bytes = 8192;
    o.consume_queue_entries_per_file = 16;
    o.max_message_bytes = 1024;
    o.flush_mode = std::get<1>(GetParam());
    o.flush_interval_ms = 5;
    o.checkpoint_interval_ms = 7;
    ASSERT_OK_AND_ASSIGN(store_, Store::Open(o, location_.dir()));
  }

  // Every queue read back; checks contiguity (ReadQueue) and checksums.
  std::map<int32_t, std::vector<ReadBack>> ReadAllQueues() {
    std::map<int32_t, std::vector<ReadBack>> out;
    for (int32_t q = 0; q < kQueues; ++q) {
      auto got = ReadQueue(store_.get(), "Conc", q, 0, 50);
      EXPECT_TRUE(got.ok()) << got.status().ToString();
      if (got.ok()) out[q] = std::move(got).value();
    }
    return out;
  }
  void AwaitAll() {
    ASSERT_OK(store_->Flush());
    ASSERT_OK(store_->AwaitDispatched(store_->Stats().appended_offset, kWaitMs));
  }

  test::StoreLocation location_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Modes, StoreConcurrencyTest,
                         ::testing::Values(Param{EnvKind::kMem, FlushMode::kSync},
                                           Param{EnvKind::kMem, FlushMode::kAsync},
                                           Param{EnvKind::kPosix, FlushMode::kAsync}),
                         ParamName);

TEST_P(StoreConcurrencyTest, WritersKeepPerQueueOrderAndContiguousOffsets) {
  constexpr int kWriters = 8, kPutsEach = 150;
  std::vector<std::vector<std::pair<int32_t, PutResult>>> results(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(w);
      for (int s = 0; s < kPutsEach; ++s) {
        int32_t q = static_cast<int32_t>(rng() % kQueues);
        auto r = PutMessage(store_.get(), MakeMessage("Conc", q, BodyFor(w, s, 40 + rng() % 300)));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        if (std::get<1>(GetParam()) == FlushMode::kSync) {
          ASSERT_TRUE(r->durable);
        }
        results[w].emplace_back(q, *r);
      }
    });
  }
  for (auto& t : threads) t.join();
  AwaitAll();

  std::map<int32_t, std::vector<ReadBack>> queues = ReadAllQueues();
  size_t total = 0;
  std::map<std::pair<int32_t, int64_t>, std::pair<int, int64_t>> by_offset;  // -> writer, seq
  for (auto& [q, records] : queues) {
    total += records.size();
    std::map<int, int64_t> last_seq;
    int64_t last_physical = -1;
    for (const ReadBack& rb : records) {
      ParsedRecord p;
      ASSERT_OK(rb.Parse(&p));
      int w;
      int64_t s;
      ASSERT_TRUE(ParseBody(p.body, &w, &s));
      auto it = last_seq.find(w);
      EXPECT_TRUE(it == last_seq.end() || it->second < s)
          << "queue " << q << ": writer " << w << " seq " << s << " after " << it->second;
      last_seq[w] = s;
      EXPECT_GT(rb.physical_offset, last_physical);
      last_physical = rb.physical_offset;
      EXPECT_EQ(p.queue_offset, rb.queue_offset);
      by_offset[{q, rb.queue_offset}] = {w, s};
    }
  }
  EXPECT_EQ(total, static_cast<size_t>(kWriters * kPutsEach));
  // Each put's acknowledged queue offset holds that very put.
  for (int w = 0; w < kWriters; ++w) {
    for (int s = 0; s < kPutsEach; ++s) {
      auto [q, r] = results[w][s];
      auto found = by_offset.find({q, r.queue_offset});
      ASSERT_NE(found, by_offset.end());
      EXPECT_EQ(found->second, (std::pair<int, int64_t>(w, s)));
    }
  }
}

TEST_P(StoreConcurrencyTest, BatchesStayContiguousAmongSinglePuts) {
  constexpr int kThreads = 6, kRounds = 60;
  std::vector<std::vector<BatchPutResult>> batches(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      for (int i = 0; i < kRounds; ++i) {
        if (t % 2 == 0) {
          ASSERT_OK(PutMessage(store_.get(), MakeMessage("Conc", t % kQueues, BodyFor(t, i, 60)))
                        .status());
          continue;
        }
        std::vector<Message> batch;
        int n = 1 + static_cast<int>(rng() % 5);
        for (int k = 0; k < n; ++k)
          batch.push_back(MakeMessage("Conc", t % kQueues, BodyFor(t, i * 10 + k, 80)));
        auto r = test::PutMessages(store_.get(), batch);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        batches[t].push_back(*r);
      }
    });
  }
  for (auto& t : threads) t.join();
  AwaitAll();
  for (const auto& per_thread : batches) {
    for (const BatchPutResult& b : per_thread) {
      for (size_t i = 1; i < b.items.size(); ++i) {
        EXPECT_EQ(b.items[i].physical_offset,
                  b.items[i - 1].physical_offset + b.items[i - 1].record_size);
        EXPECT_EQ(b.items[i].queue_offset, b.items[i - 1].queue_offset + 1);
      }
    }
  }
  std::map<int32_t, std::vector<ReadBack>> queues = ReadAllQueues();
  size_t total = 0;
  for (auto& [q, records] : queues) total += records.size();
  size_t expected = (kThreads / 2) * kRounds;
  for (const auto& per_thread : batches) {
    for (const BatchPutResult& b : per_thread) expected += b.items.size();
  }
  EXPECT_EQ(total, expected);
}

TEST_P(StoreConcurrencyTest, ReadersOnlySeeWhatTheFlushModeAllows) {
  constexpr int kWriters = 4, kPutsEach = 120;
  const bool sync = std::get<1>(GetParam()) == FlushMode::kSync;
  const int64_t total_puts = kWriters * kPutsEach;
  std::atomic<int64_t> seen{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int s = 0; s < kPutsEach; ++s) {
        Message m = MakeMessage("Conc", w % kQueues, BodyFor(w, s, 100));
        // Every third put does not wait: in SYNC_FLUSH mode it is appended, not durable.
        if (s % 3 == 0) m.SetProperty(std::string(property::kWaitStoreMsgOk), "false");
        ASSERT_OK(PutMessage(store_.get(), m).status());
      }
    });
  }
  std::thread reader([&] {
    // Follows the queues until it saw every put (bounded: the writers end and flush).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::vector<int64_t> next(kQueues, 0);
    while (seen.load() < total_puts) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "saw only " << seen.load();
      for (int32_t q = 0; q < kQueues; ++q) {
        auto r = store_->Read("Conc", q, next[q], 16, 1 << 20);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        // Read after the messages were returned: the durable offset only grows.
        StoreStats stats = store_->Stats();
        for (const StoredMessage& m : r->messages) {
          ParsedRecord p;
          ASSERT_OK(ParseRecord(m.record, true, &p));
          ASSERT_EQ(p.queue_offset, next[q]);
          int64_t end = m.physical_offset + static_cast<int64_t>(m.record.size());
          ASSERT_LE(end, sync ? stats.durable_offset : stats.appended_offset);
          ++next[q];
          ++seen;
        }
      }
    }
  });
  for (auto& t : threads) t.join();
  AwaitAll();
  reader.join();
  EXPECT_EQ(seen.load(), total_puts);
  std::map<int32_t, std::vector<ReadBack>> queues = ReadAllQueues();
  size_t total = 0;
  for (auto& [q, records] : queues) total += records.size();
  EXPECT_EQ(total, static_cast<size_t>(kWriters * kPutsEach));
}

// Writers that put until the store is closed (or `stop` is set); `accepted` counts their
// successful puts, `results` keeps them per writer.
struct WritersUntilClosed {
  static constexpr int kWriters = 4;
  std::atomic<int64_t> accepted{0};
  std::atomic<bool> stop{false};
  std::vector<std::vector<std::pair<int32_t, PutResult>>> results{kWriters};
  std::vector<std::thread> threads;

  void Start(Store* store, int max_puts_each) {
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([this, store, w, max_puts_each] {
        for (int s = 0; s < max_puts_each && !stop.load(); ++s) {
          int32_t q = static_cast<int32_t>((w + s) % kQueues);
          auto r = PutMessage(store, MakeMessage("Conc", q, BodyFor(w, s, 120)));
          if (!r.ok()) {
            EXPECT_TRUE(r.status().IsFailedPrecondition()) << r.status().ToString();
            return;  // closed: this put wrote nothing
          }
          results[w].emplace_back(q, *r);
          ++accepted;
        }
      });
    }
  }
  // Bounded wait until the writers are well under way.
  void AwaitAccepted(int64_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (accepted.load() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_GE(accepted.load(), n);
  }
  void Join() {
    for (auto& t : threads) t.join();
    threads.clear();
  }
};

TEST_P(StoreConcurrencyTest, CloseDuringPutsKeepsExactlyTheAcceptedPuts) {
  WritersUntilClosed writers;
  writers.Start(store_.get(), /*max_puts_each=*/300);
  writers.AwaitAccepted(200);
  ASSERT_OK(store_->Close());
  writers.Join();

  StoreOptions o;
  o.env = location_.env();
  o.commitlog_segment_bytes = 8192;
  o.consume_queue_entries_per_file = 16;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> reopened, Store::Open(o, location_.dir()));
  EXPECT_FALSE(reopened->Stats().recovered_from_crash);
  std::map<std::pair<int32_t, int64_t>, std::string> read;
  for (int32_t q = 0; q < kQueues; ++q) {
    ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(reopened.get(), "Conc", q));
    for (const ReadBack& rb : got) {
      ParsedRecord p;
      ASSERT_OK(rb.Parse(&p));
      read[{q, rb.queue_offset}] = std::string(p.body);
    }
  }
  size_t expected = 0;
  for (int w = 0; w < WritersUntilClosed::kWriters; ++w) {
    for (size_t s = 0; s < writers.results[w].size(); ++s) {
      auto [q, r] = writers.results[w][s];
      auto it = read.find({q, r.queue_offset});
      ASSERT_NE(it, read.end()) << "accepted put of writer " << w << " is gone";
      EXPECT_EQ(it->second, BodyFor(w, static_cast<int64_t>(s), 120));
      ++expected;
    }
  }
  EXPECT_EQ(read.size(), expected) << "records that no put was told about";
}

// Regression test (fixed bug): Close() can be starved for as long as puts keep coming. Puts hold lifecycle_mu_ (a
// std::shared_mutex) shared and Close takes it exclusively (store_impl.cc); glibc's rwlock
// prefers readers, so with a few threads putting back to back the exclusive lock is never
// granted: here Close waited 317 s (SYNC) and did not return in 5 minutes (ASYNC) while four
// writers kept putting. A broker shutting down under load hangs.
TEST_P(StoreConcurrencyTest, CloseIsNotStarvedByAStreamOfPuts) {
  WritersUntilClosed writers;
  writers.Start(store_.get(), /*max_puts_each=*/1 << 30);
  writers.AwaitAccepted(200);
  std::promise<Status> closed;
  std::future<Status> close_result = closed.get_future();
  std::thread closer([&] { closed.set_value(store_->Close()); });
  bool in_time = close_result.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  writers.stop.store(true);  // lets a starved Close through, so that the test can end
  closer.join();
  writers.Join();
  EXPECT_TRUE(in_time) << "Close did not return within 10 s while puts kept coming";
  EXPECT_OK(close_result.get());
}

// Regression (fixed in d890e2b; first seen as a MemEnv deadlock in the crash tests): when
// the appender needed segment N before the allocator thread picked it up, it created N
// itself but left the allocator's request for N in place, so both created the same file and
// NextSegment removed the one the allocator was still allocating. Every put below rolls a
// 4 KiB segment; a running store never needs to remove a segment.
TEST(StoreSegmentRollTest, TheAppenderAndTheAllocatorNeverCreateTheSameSegment) {
  std::unique_ptr<MemEnv> mem = NewMemEnv();
  test::FaultInjectionEnv env(mem.get());
  StoreOptions o;
  o.env = &env;
  o.commitlog_segment_bytes = 4096;
  o.max_message_bytes = 2048;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store, Store::Open(o, "/store"));
  env.WatchSegmentRemovals();
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&store, w] {
      for (int i = 0; i < 1000; ++i) {
        ASSERT_OK(PutMessage(store.get(), MakeMessage("Roll", w, BodyFor(w, i, 1900))).status());
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(env.segment_removals(), 0) << "segments created twice while rolling";
  ASSERT_OK(store->Close());
}

}  // namespace
}  // namespace mqstore
