// Store::PutAsync / PutBatchAsync: the same results as Put / PutBatch, delivered through a
// callback; in SYNC_FLUSH only once the record is durable (so an acknowledgement survives a
// power cut), with one sync for everything that waited meanwhile, kFlushDiskTimeout when the
// disk is stuck and the sync error when it fails.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mqstore/mem_env.h"
#include "mqstore/store.h"
#include "mqstore/store/store_test_util.h"
#include "support/fault_injection_env.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::BodyFor;
using test::EnvKind;
using test::MakeMessage;
using test::ReadBack;
using test::ReadQueue;

constexpr int kWaitMs = 10'000;

StoreOptions BaseOptions(Env* env, FlushMode mode) { return test::SmallStoreOptions(env, mode); }

// Collects the callbacks of asynchronous puts; `durable_at_ack` is the store's durable offset
// seen inside each callback.
struct Acks {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Result<PutResult>> results;
  std::vector<int64_t> durable_at_ack;
  std::vector<bool> returned_before_ack;

  Store::PutCallback Callback(Store* store, const std::atomic<bool>* returned = nullptr) {
    return [this, store, returned](Result<PutResult> r) {
      int64_t durable = store->Stats().durable_offset;
      std::lock_guard<std::mutex> l(mu);
      results.push_back(std::move(r));
      durable_at_ack.push_back(durable);
      returned_before_ack.push_back(returned != nullptr && returned->load());
      cv.notify_all();
    };
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::milliseconds(kWaitMs), [&] { return results.size() >= n; });
  }
  size_t size() {
    std::lock_guard<std::mutex> l(mu);
    return results.size();
  }
};

void PutAsync(Store* store, const Message& m, Store::PutCallback done) {
  std::string props;
  MessageView view = m.View(&props);
  store->PutAsync(view, std::move(done));
}

// Store::PutEachAsync over `messages`; `done` sees each message's index in `messages`.
void PutEachAsync(Store* store, const std::vector<Message>& messages, Store::PutEachCallback done) {
  std::vector<std::string> props(messages.size());
  std::vector<MessageView> views;
  for (size_t i = 0; i < messages.size(); ++i) views.push_back(messages[i].View(&props[i]));
  store->PutEachAsync(views, std::move(done));
}

// What PutEachAsync's callback was told, by message index, and how often.
struct EachAcks {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<Result<PutResult>>> results;
  std::vector<int> calls;
  std::vector<int64_t> durable_at_ack;
  size_t answered = 0;

  explicit EachAcks(size_t n) : results(n), calls(n, 0), durable_at_ack(n, -1) {}
  Store::PutEachCallback Callback(Store* store) {
    return [this, store](size_t i, Result<PutResult> r) {
      int64_t durable = store->Stats().durable_offset;
      std::lock_guard<std::mutex> l(mu);
      results[i] = std::move(r);
      ++calls[i];
      durable_at_ack[i] = durable;
      ++answered;
      cv.notify_all();
    };
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::milliseconds(kWaitMs), [&] { return answered >= n; });
  }
  size_t count() {
    std::lock_guard<std::mutex> l(mu);
    return answered;
  }
};

class AsyncPutTest : public ::testing::TestWithParam<EnvKind> {
 protected:
  AsyncPutTest() : location_(GetParam()) {}
  std::unique_ptr<Store> Open(FlushMode mode) {
    auto opened = Store::Open(BaseOptions(location_.env(), mode), location_.dir());
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }
  test::StoreLocation location_;
};

INSTANTIATE_TEST_SUITE_P(Envs, AsyncPutTest, ::testing::Values(EnvKind::kPosix, EnvKind::kMem),
                         test::EnvKindName);

TEST_P(AsyncPutTest, SyncFlushAcknowledgesEachPutOnlyOnceItIsDurable) {
  auto store = Open(FlushMode::kSync);
  ASSERT_NE(store, nullptr);
  Acks acks;
  constexpr int kPuts = 200;
  for (int i = 0; i < kPuts; ++i) {
    PutAsync(store.get(), MakeMessage("S", i % 4, BodyFor(0, i, 300)), acks.Callback(store.get()));
  }
  ASSERT_TRUE(acks.WaitFor(kPuts));
  std::lock_guard<std::mutex> l(acks.mu);
  std::vector<int64_t> next_queue_offset(4, 0);
  for (size_t i = 0; i < acks.results.size(); ++i) {
    ASSERT_OK(acks.results[i].status());
    const PutResult& r = *acks.results[i];
    EXPECT_EQ(r.status, PutStatus::kOk);
    EXPECT_TRUE(r.durable);
    EXPECT_GE(acks.durable_at_ack[i], r.physical_offset + r.record_size)
        << "acknowledged before its bytes were durable";
  }
  StoreStats stats = store->Stats();
  EXPECT_EQ(stats.durable_offset, stats.appended_offset);
  for (int32_t q = 0; q < 4; ++q) {
    ASSERT_OK(store->AwaitDispatched(stats.appended_offset, kWaitMs));
    ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store.get(), "S", q));
    ASSERT_EQ(got.size(), static_cast<size_t>(kPuts / 4));
    for (size_t k = 0; k < got.size(); ++k) {
      ParsedRecord p;
      ASSERT_OK(got[k].Parse(&p));
      EXPECT_EQ(p.body, BodyFor(0, static_cast<int64_t>(4 * k) + q, 300));
    }
  }
}

TEST_P(AsyncPutTest, AsyncFlushAnswersBeforeTheCallReturns) {
  auto store = Open(FlushMode::kAsync);
  ASSERT_NE(store, nullptr);
  Acks acks;
  std::atomic<bool> returned{false};
  PutAsync(store.get(), MakeMessage("A", 0, "now"), acks.Callback(store.get(), &returned));
  returned = true;
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_FALSE(acks.returned_before_ack[0]);
  ASSERT_OK(acks.results[0].status());
  EXPECT_EQ(acks.results[0]->status, PutStatus::kOk);
  EXPECT_EQ(acks.results[0]->queue_offset, 0);
}

TEST_P(AsyncPutTest, ANoWaitPutInSyncFlushAnswersAtOnce) {
  auto store = Open(FlushMode::kSync);
  ASSERT_NE(store, nullptr);
  Acks acks;
  Message m = MakeMessage("Q", 0, "quiet");
  m.SetProperty(std::string(property::kWaitStoreMsgOk), "false");
  PutAsync(store.get(), m, acks.Callback(store.get()));
  ASSERT_EQ(acks.size(), 1u);
  ASSERT_OK(acks.results[0].status());
  const PutResult& r = *acks.results[0];
  // It still becomes durable (and visible) without another put.
  ASSERT_OK(store->AwaitDispatched(r.physical_offset + r.record_size, kWaitMs));
}

TEST_P(AsyncPutTest, RejectedPutsAnswerWithTheErrorAtOnce) {
  auto store = Open(FlushMode::kSync);
  ASSERT_NE(store, nullptr);
  Acks acks;
  PutAsync(store.get(), MakeMessage("S", 0, std::string(4096, 'x')), acks.Callback(store.get()));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_TRUE(acks.results[0].status().IsInvalidArgument()) << acks.results[0].status().ToString();
  ASSERT_OK(store->Close());
  PutAsync(store.get(), MakeMessage("S", 0, "late"), acks.Callback(store.get()));
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks.results[1].status().code(), Status::Code::kFailedPrecondition);
  bool batch_called = false;
  std::string props;
  Message m = MakeMessage("S", 0, "late");
  MessageView view = m.View(&props);
  store->PutBatchAsync({&view, 1}, [&](Result<BatchPutResult> r) {
    batch_called = true;
    EXPECT_EQ(r.status().code(), Status::Code::kFailedPrecondition);
  });
  EXPECT_TRUE(batch_called);
}

TEST_P(AsyncPutTest, ABatchIsAcknowledgedOnceDurableWithContiguousOffsets) {
  auto store = Open(FlushMode::kSync);
  ASSERT_NE(store, nullptr);
  std::vector<Message> messages;
  for (int i = 0; i < 5; ++i) messages.push_back(MakeMessage("B", 1, BodyFor(1, i, 100)));
  std::vector<std::string> props(messages.size());
  std::vector<MessageView> views;
  for (size_t i = 0; i < messages.size(); ++i) views.push_back(messages[i].View(&props[i]));
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<BatchPutResult>> got;
  int64_t durable_at_ack = -1;
  store->PutBatchAsync(views, [&](Result<BatchPutResult> r) {
    int64_t durable = store->Stats().durable_offset;
    std::lock_guard<std::mutex> l(mu);
    got = std::move(r);
    durable_at_ack = durable;
    cv.notify_all();
  });
  views.clear();  // the views need not outlive the call
  props.clear();
  std::unique_lock<std::mutex> l(mu);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::milliseconds(kWaitMs), [&] { return got.has_value(); }));
  ASSERT_OK(got->status());
  const BatchPutResult& batch = **got;
  EXPECT_EQ(batch.status, PutStatus::kOk);
  EXPECT_TRUE(batch.durable);
  ASSERT_EQ(batch.items.size(), 5u);
  for (size_t i = 0; i < batch.items.size(); ++i) {
    EXPECT_EQ(batch.items[i].queue_offset, static_cast<int64_t>(i));
    EXPECT_TRUE(batch.items[i].durable);
  }
  EXPECT_GE(durable_at_ack, batch.items.back().physical_offset + batch.items.back().record_size);
}

// A group of puts (one socket read's sends): each message is its own put, with its own
// result, its queue's next offset in group order, and an error of its own when invalid;
// the group spans several of the test's 8 KiB segments.
TEST_P(AsyncPutTest, EachMessageOfAGroupIsItsOwnPut) {
  auto store = Open(FlushMode::kSync);
  ASSERT_NE(store, nullptr);
  ASSERT_OK(test::PutMessage(store.get(), MakeMessage("E", 2, "before")).status());
  std::vector<Message> messages;
  std::vector<bool> valid;
  for (int i = 0; i < 60; ++i) {
    if (i % 13 == 5) {
      messages.push_back(MakeMessage("E", 0, std::string(4096, 'x')));  // too large
      valid.push_back(false);
    } else if (i % 17 == 9) {
      messages.push_back(MakeMessage("bad topic", 0, "x"));
      valid.push_back(false);
    } else {
      messages.push_back(MakeMessage("E", i % 4, BodyFor(3, i, 300)));
      valid.push_back(true);
    }
  }
  EachAcks acks(messages.size());
  PutEachAsync(store.get(), messages, acks.Callback(store.get()));
  ASSERT_TRUE(acks.WaitFor(messages.size()));
  std::lock_guard<std::mutex> l(acks.mu);
  std::vector<int64_t> next_offset = {0, 0, 1, 0};  // queue 2 had one message before
  std::vector<std::vector<std::string>> expected(4);
  int64_t last_end = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    SCOPED_TRACE("message " + std::to_string(i));
    EXPECT_EQ(acks.calls[i], 1);
    ASSERT_TRUE(acks.results[i].has_value());
    const Result<PutResult>& r = *acks.results[i];
    if (!valid[i]) {
      EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
      continue;
    }
    ASSERT_OK(r.status());
    EXPECT_EQ(r->status, PutStatus::kOk);
    EXPECT_TRUE(r->durable);
    EXPECT_GE(acks.durable_at_ack[i], r->physical_offset + r->record_size)
        << "acknowledged before its bytes were durable";
    EXPECT_GT(r->physical_offset, last_end - 1) << "out of log order";
    last_end = r->physical_offset + r->record_size;
    const size_t q = static_cast<size_t>(messages[i].queue_id);
    EXPECT_EQ(r->queue_offset, next_offset[q]++);
    expected[q].push_back(BodyFor(3, static_cast<int64_t>(i), 300));
  }
  ASSERT_OK(store->AwaitDispatched(store->Stats().appended_offset, kWaitMs));
  for (int32_t q = 0; q < 4; ++q) {
    ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store.get(), "E", q));
    const size_t skip = q == 2 ? 1 : 0;
    ASSERT_EQ(got.size(), expected[static_cast<size_t>(q)].size() + skip);
    for (size_t k = skip; k < got.size(); ++k) {
      ParsedRecord p;
      ASSERT_OK(got[k].Parse(&p));
      EXPECT_EQ(p.body, expected[static_cast<size_t>(q)][k - skip]);
    }
  }
}

TEST_P(AsyncPutTest, AGroupInAsyncFlushIsAnsweredBeforeTheCallReturns) {
  auto store = Open(FlushMode::kAsync);
  ASSERT_NE(store, nullptr);
  std::vector<Message> messages;
  for (int i = 0; i < 5; ++i) messages.push_back(MakeMessage("A", 0, BodyFor(4, i, 50)));
  EachAcks acks(messages.size());
  PutEachAsync(store.get(), messages, acks.Callback(store.get()));
  ASSERT_EQ(acks.count(), messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    ASSERT_OK(acks.results[i]->status());
    EXPECT_EQ((*acks.results[i])->queue_offset, static_cast<int64_t>(i));
  }
}

TEST_P(AsyncPutTest, AGroupPutIntoAClosedStoreFailsEachMessage) {
  auto store = Open(FlushMode::kSync);
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->Close());
  std::vector<Message> messages = {MakeMessage("S", 0, "a"), MakeMessage("S", 1, "b")};
  EachAcks acks(messages.size());
  PutEachAsync(store.get(), messages, acks.Callback(store.get()));
  ASSERT_EQ(acks.count(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(acks.calls[i], 1);
    EXPECT_EQ(acks.results[i]->status().code(), Status::Code::kFailedPrecondition);
  }
}

// SYNC_FLUSH over a disk whose syncs can be held (FaultInjectionEnv's sync gate) or failed.
class AsyncPutStuckSyncTest : public ::testing::Test {
 protected:
  void Open(int sync_flush_timeout_ms, StoreOptions o = {}) {
    StoreOptions base = BaseOptions(&env_, FlushMode::kSync);
    base.put_completion_group = std::move(o.put_completion_group);
    base.sync_flush_timeout_ms = sync_flush_timeout_ms;
    ASSERT_OK_AND_ASSIGN(store_, Store::Open(base, "/store"));
  }
  void TearDown() override {
    env_.OpenSyncGate();
    store_.reset();
  }
  std::unique_ptr<MemEnv> mem_ = NewMemEnv();
  test::FaultInjectionEnv env_{mem_.get()};
  std::unique_ptr<Store> store_;
};

TEST_F(AsyncPutStuckSyncTest, PutsWaitingBehindAStuckSyncShareTheNextSync) {
  Open(kWaitMs);
  Acks acks;
  env_.CloseSyncGate();
  PutAsync(store_.get(), MakeMessage("G", 0, "first"), acks.Callback(store_.get()));
  ASSERT_TRUE(env_.WaitForBlockedSync(std::chrono::seconds(10)));
  const uint64_t syncs_before = store_->Stats().sync_count;
  constexpr int kWaiting = 50;
  for (int i = 0; i < kWaiting; ++i) {
    PutAsync(store_.get(), MakeMessage("G", 0, BodyFor(0, i, 64)), acks.Callback(store_.get()));
  }
  EXPECT_EQ(acks.size(), 0u) << "acknowledged while the disk had not synced anything";
  env_.OpenSyncGate();
  ASSERT_TRUE(acks.WaitFor(kWaiting + 1));
  // The stuck sync, then one more for everything that arrived while it was stuck.
  EXPECT_LE(store_->Stats().sync_count - syncs_before, 2u);
  std::lock_guard<std::mutex> l(acks.mu);
  for (size_t i = 0; i < acks.results.size(); ++i) {
    ASSERT_OK(acks.results[i].status());
    EXPECT_TRUE(acks.results[i]->durable);
    EXPECT_GE(acks.durable_at_ack[i],
              acks.results[i]->physical_offset + acks.results[i]->record_size);
  }
}

TEST_F(AsyncPutStuckSyncTest, TheCallbacksOneSyncCompletesRunInsideOneCompletionGroup) {
  // What the group runner sees: how often it ran, and how many callbacks ran inside it.
  static thread_local bool in_group = false;
  std::atomic<int> groups{0};
  std::atomic<int> callbacks_in_group{0};
  std::atomic<int> callbacks_outside{0};
  StoreOptions o;
  o.put_completion_group = [&](const std::function<void()>& run_callbacks) {
    groups.fetch_add(1);
    in_group = true;
    run_callbacks();
    in_group = false;
  };
  Open(kWaitMs, o);
  Acks acks;
  auto counted = [&](Store::PutCallback inner) -> Store::PutCallback {
    return [&, inner = std::move(inner)](Result<PutResult> r) {
      (in_group ? callbacks_in_group : callbacks_outside).fetch_add(1);
      inner(std::move(r));
    };
  };
  env_.CloseSyncGate();
  PutAsync(store_.get(), MakeMessage("G", 0, "first"), counted(acks.Callback(store_.get())));
  ASSERT_TRUE(env_.WaitForBlockedSync(std::chrono::seconds(10)));
  constexpr int kWaiting = 50;
  for (int i = 0; i < kWaiting; ++i) {
    PutAsync(store_.get(), MakeMessage("G", 0, BodyFor(0, i, 64)),
             counted(acks.Callback(store_.get())));
  }
  EXPECT_EQ(groups.load(), 0) << "a group ran before any sync completed";
  env_.OpenSyncGate();
  ASSERT_TRUE(acks.WaitFor(kWaiting + 1));
  EXPECT_EQ(callbacks_in_group.load(), kWaiting + 1);
  EXPECT_EQ(callbacks_outside.load(), 0);
  // The stuck sync's put, then everything that waited behind it: one group per sync that
  // completed callbacks, and no group for a sync that completed none.
  EXPECT_GE(groups.load(), 1);
  EXPECT_LE(groups.load(), 2);
  for (const auto& r : acks.results) ASSERT_OK(r.status());
}

// In one group, the messages that do not wait for the disk (WAIT=false) are answered at
// once; the others only once a sync has them.
TEST_F(AsyncPutStuckSyncTest, AGroupAnswersItsNoWaitMessagesAtOnceAndTheRestOnceDurable) {
  Open(kWaitMs);
  Acks first;
  env_.CloseSyncGate();
  PutAsync(store_.get(), MakeMessage("G", 0, "first"), first.Callback(store_.get()));
  ASSERT_TRUE(env_.WaitForBlockedSync(std::chrono::seconds(10)));
  std::vector<Message> messages;
  for (int i = 0; i < 6; ++i) {
    messages.push_back(MakeMessage("G", 1, BodyFor(5, i, 64)));
    if (i % 2 == 1) messages.back().SetProperty(std::string(property::kWaitStoreMsgOk), "false");
  }
  EachAcks acks(messages.size());
  PutEachAsync(store_.get(), messages, acks.Callback(store_.get()));
  {
    std::lock_guard<std::mutex> l(acks.mu);
    for (size_t i = 0; i < messages.size(); ++i) {
      EXPECT_EQ(acks.calls[i], i % 2 == 1 ? 1 : 0) << i;
    }
  }
  env_.OpenSyncGate();
  ASSERT_TRUE(acks.WaitFor(messages.size()));
  std::lock_guard<std::mutex> l(acks.mu);
  for (size_t i = 0; i < messages.size(); ++i) {
    SCOPED_TRACE("message " + std::to_string(i));
    EXPECT_EQ(acks.calls[i], 1);
    ASSERT_OK(acks.results[i]->status());
    const PutResult& r = **acks.results[i];
    EXPECT_EQ(r.queue_offset, static_cast<int64_t>(i));
    if (i % 2 == 0) {
      EXPECT_TRUE(r.durable);
      EXPECT_GE(acks.durable_at_ack[i], r.physical_offset + r.record_size);
    }
  }
}

TEST_F(AsyncPutStuckSyncTest, APutBehindAStuckSyncTimesOutAndStaysInTheLog) {
  Open(50);
  Acks acks;
  env_.CloseSyncGate();
  PutAsync(store_.get(), MakeMessage("T", 0, "stuck"), acks.Callback(store_.get()));
  ASSERT_TRUE(env_.WaitForBlockedSync(std::chrono::seconds(10)));
  ASSERT_TRUE(acks.WaitFor(1)) << "no answer although the sync is stuck past the timeout";
  {
    std::lock_guard<std::mutex> l(acks.mu);
    ASSERT_OK(acks.results[0].status());
    EXPECT_EQ(acks.results[0]->status, PutStatus::kFlushDiskTimeout);
    EXPECT_FALSE(acks.results[0]->durable);
  }
  env_.OpenSyncGate();
  ASSERT_OK(store_->Flush());
  ASSERT_OK(store_->AwaitDispatched(store_->Stats().appended_offset, kWaitMs));
  ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(store_.get(), "T", 0));
  EXPECT_EQ(got.size(), 1u);
}

TEST_F(AsyncPutStuckSyncTest, AFailedSyncFailsTheWaitingPutsAndEveryLaterOne) {
  Open(kWaitMs);
  Acks acks;
  env_.FailSegmentSyncs(true);
  PutAsync(store_.get(), MakeMessage("E", 0, "failed"), acks.Callback(store_.get()));
  ASSERT_TRUE(acks.WaitFor(1));
  EXPECT_TRUE(acks.results[0].status().IsIOError()) << acks.results[0].status().ToString();
  env_.FailSegmentSyncs(false);
  const int64_t appended = store_->Stats().appended_offset;
  PutAsync(store_.get(), MakeMessage("E", 0, "refused"), acks.Callback(store_.get()));
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_TRUE(acks.results[1].status().IsIOError());
  EXPECT_EQ(store_->Stats().appended_offset, appended);
}

// Power cuts at random points while asynchronous SYNC_FLUSH puts run, one at a time
// (PutAsync) or in groups (PutEachAsync): every put whose callback said OK before the cut is
// in the recovered store with identical bytes.
class AsyncPutCrashTest : public ::testing::TestWithParam<bool> {};

INSTANTIATE_TEST_SUITE_P(Grouping, AsyncPutCrashTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& grouping) {
                           return grouping.param ? "Grouped" : "OneByOne";
                         });

TEST_P(AsyncPutCrashTest, AcknowledgedPutsSurviveAPowerCutAtAnyPoint) {
  const bool grouped = GetParam();
  for (uint32_t round = 0; round < 12; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto mem = NewMemEnv();
    test::FaultInjectionEnv env(mem.get());
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(BaseOptions(&env, FlushMode::kSync), "/store"));
    std::mutex mu;
    std::vector<int> acked;  // message numbers acknowledged before the crash image
    std::atomic<int> answered{0};
    int issued = 0;
    // How many operations a put makes depends on how the puts happen to group into syncs,
    // so puts go on in rounds until the crash point is reached (within a generous bound).
    constexpr int kPutsPerRound = 120;
    constexpr int kMaxPuts = 20 * kPutsPerRound;
    env.Arm(3 + round * 8, {CrashMode::kDropUnsynced, round}, /*any_thread=*/true);
    while (!env.crashed() && issued < kMaxPuts) {
      auto answer = [&](int i, const Result<PutResult>& r) {
        if (r.ok() && r->status == PutStatus::kOk && !env.crashed()) {
          std::lock_guard<std::mutex> l(mu);
          acked.push_back(i);
        }
        answered++;
      };
      constexpr int kGroup = 7;
      for (int n = 0; n < kPutsPerRound;) {
        const int first = issued;
        if (grouped) {
          std::vector<Message> group;
          for (int k = 0; k < kGroup && n < kPutsPerRound; ++k, ++n, ++issued) {
            group.push_back(MakeMessage("C", issued % 3, BodyFor(2, issued, 200)));
          }
          PutEachAsync(store.get(), group, [&answer, first](size_t k, Result<PutResult> r) {
            answer(first + static_cast<int>(k), r);
          });
        } else {
          PutAsync(store.get(), MakeMessage("C", first % 3, BodyFor(2, first, 200)),
                   [&answer, first](Result<PutResult> r) { answer(first, r); });
          ++n;
          ++issued;
        }
      }
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (answered.load() < issued && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      ASSERT_EQ(answered.load(), issued);
    }
    env.Disarm();
    std::unique_ptr<MemEnv> image = env.TakeImage();
    ASSERT_NE(image, nullptr) << "the crash point was never reached";
    store.reset();
    ASSERT_OK_AND_ASSIGN(auto after,
                         Store::Open(BaseOptions(image.get(), FlushMode::kSync), "/store"));
    std::vector<std::vector<std::string>> bodies(3);
    for (int32_t q = 0; q < 3; ++q) {
      ASSERT_OK_AND_ASSIGN(std::vector<ReadBack> got, ReadQueue(after.get(), "C", q));
      for (const ReadBack& rb : got) {
        ParsedRecord p;
        ASSERT_OK(rb.Parse(&p));
        bodies[static_cast<size_t>(q)].emplace_back(p.body);
      }
    }
    for (int i : acked) {
      const auto& queue = bodies[static_cast<size_t>(i % 3)];
      const size_t k = static_cast<size_t>(i / 3);
      ASSERT_LT(k, queue.size()) << "acknowledged message " << i << " was lost";
      EXPECT_EQ(queue[k], BodyFor(2, i, 200)) << "message " << i;
    }
  }
}

}  // namespace
}  // namespace mqstore
