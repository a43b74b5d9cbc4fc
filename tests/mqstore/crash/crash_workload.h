// A seeded put workload for crash tests, and the check of what a store recovered against
// what was put.
//
// The check (VerifyRecovered): let E be the recovered end of the log. The recovered log must
// be a prefix of what was written, so
//   - every put ending at or before E is readable through its queue at its queue offset and
//     through ReadRecord(physical_offset), byte for byte what was put;
//   - no put starting at or after E is visible; no put straddles E;
//   - every put that had to survive (acknowledged durable, or flushed afterwards) ends at or
//     before E;
//   - every queue is contiguous and holds nothing else: from 0, or (when retention removed
//     segments) from its first put at or after the log's first byte;
//   - every surviving put is found by its message id and by its key.
//
// And after a clean close (VerifyFilesAfterCleanClose), mqdump verify finds the files clean:
// no queue or index entry points past the log's end, nothing is left for the next open.
#ifndef MQSTORE_TESTS_MQSTORE_CRASH_CRASH_WORKLOAD_H_
#define MQSTORE_TESTS_MQSTORE_CRASH_CRASH_WORKLOAD_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "mqstore/inspect.h"
#include "mqstore/store.h"
#include "mqstore/store/store_test_util.h"
#include "mqstore/transaction.h"
#include "transaction/transaction_rewrite.h"

namespace mqstore::test {

// One put as the writer saw it acknowledged.
struct AckedPut {
  std::string topic;
  int32_t queue_id = 0;
  std::string body;
  std::string properties;  // encoded, as put
  int32_t flag = 0;
  PutResult result;
  bool must_survive = false;  // acknowledged durable, or a Flush() returned after it

  int64_t end() const { return result.physical_offset + result.record_size; }
};

struct WorkloadOptions {
  int threads = 1;
  int ops_per_thread = 40;
  int topics = 3;
  int queues_per_topic = 3;
  size_t max_body = 1500;
  double batch_probability = 0.2;
  double no_wait_probability = 0.3;  // property WAIT=false (SYNC_FLUSH: not durable)
  double flush_probability = 0.03;
  // A single put of a prepared transaction message (stored as a half message).
  double prepared_probability = 0.03;
  // The last this many operations of every thread do not wait (a non-durable tail).
  int no_wait_tail_ops = 0;
  // True once the power went out (a crash point of FaultInjectionEnv fired while the
  // workload runs): what is acknowledged after that promises nothing about the crash image.
  std::function<bool()> crashed;
};

// Runs the workload on `store` with `options.threads` threads and returns every put, in no
// particular order. Writer threads are joined before it returns. `writer_base` keeps the
// bodies of separate runs distinct.
inline Result<std::vector<AckedPut>> RunWorkload(Store* store, const WorkloadOptions& options,
                                                 uint64_t seed, int writer_base = 0) {
  std::mutex mu;
  std::vector<AckedPut> all;
  Status first_error;
  std::vector<std::thread> threads;
  for (int t = 0; t < options.threads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed * 1000 + static_cast<uint64_t>(t));
      auto chance = [&](double p) { return std::uniform_real_distribution<>(0, 1)(rng) < p; };
      int writer = writer_base + t;
      std::vector<AckedPut> mine;
      int64_t seq = 0;
      Status error;
      for (int op = 0; op < options.ops_per_thread && error.ok(); ++op) {
        auto before_crash = [&] { return !options.crashed || !options.crashed(); };
        if (chance(options.flush_probability)) {
          error = store->Flush();
          if (error.ok() && before_crash()) {
            for (AckedPut& p : mine) p.must_survive = true;
          }
          continue;
        }
        int n = chance(options.batch_probability) ? 1 + static_cast<int>(rng() % 4) : 1;
        bool prepared = n == 1 && chance(options.prepared_probability);
        bool no_wait = chance(options.no_wait_probability) ||
                       op >= options.ops_per_thread - options.no_wait_tail_ops;
        std::vector<Message> messages;
        for (int i = 0; i < n; ++i) {
          Message m;
          m.topic = "Topic" + std::string(1, static_cast<char>('A' + rng() % options.topics));
          m.queue_id = static_cast<int32_t>(rng() % options.queues_per_topic);
          size_t size = rng() % 8 == 0 ? options.max_body - rng() % 64 : rng() % 400;
          m.body = BodyFor(writer, seq++, size);
          m.flag = static_cast<int32_t>(rng() % 3);
          m.born_timestamp_ms = 1'700'000'000'000 + static_cast<int64_t>(seq);
          m.born_host = SocketAddress::V4(10, 0, 0, static_cast<uint8_t>(writer), 4000);
          if (rng() % 2) m.SetTags("tag" + std::to_string(rng() % 5));
          if (rng() % 4 == 0) m.SetKeys("key-" + std::to_string(seq));
          if (no_wait) m.SetProperty(std::string(property::kWaitStoreMsgOk), "false");
          if (prepared) m.sys_flag = sysflag::kTransactionPrepared;
          messages.push_back(std::move(m));
        }
        std::vector<PutResult> results;
        bool acked_before_crash = true;
        if (n == 1) {
          auto r = PutMessage(store, messages[0]);
          if (!r.ok()) {
            error = r.status();
            break;
          }
          results.push_back(*r);
        } else {
          auto r = PutMessages(store, messages);
          if (!r.ok()) {
            error = r.status();
            break;
          }
          results = r->items;
        }
        acked_before_crash = before_crash();
        for (int i = 0; i < n; ++i) {
          AckedPut p;
          p.topic = messages[i].topic;
          p.queue_id = messages[i].queue_id;
          p.body = messages[i].body;
          p.properties = EncodeProperties(messages[i].properties);
          p.flag = messages[i].flag;
          if (prepared) {
            // Stored as a half message, an ordinary message of the half topic.
            std::string props;
            auto half = RewriteForHalf(messages[i].View(&props));
            if (!half.ok() || !*half) {
              error = Status::Corruption("a prepared message is not a half message");
              break;
            }
            p.topic = std::string(transaction::kHalfTopic);
            p.queue_id = 0;
            p.properties = (*half)->properties;
          }
          p.result = results[i];
          p.must_survive = results[i].durable && acked_before_crash;
          if (results[i].status != PutStatus::kOk) {
            error = Status::TimedOut("put returned FLUSH_DISK_TIMEOUT");
          }
          mine.push_back(std::move(p));
        }
      }
      std::lock_guard<std::mutex> l(mu);
      if (first_error.ok() && !error.ok()) first_error = error;
      for (AckedPut& p : mine) all.push_back(std::move(p));
    });
  }
  for (auto& th : threads) th.join();
  if (!first_error.ok()) return first_error;
  return all;
}

// Waits until the dispatcher caught up with what it may dispatch, so that it is idle (no
// store thread writes mapped memory) when a test takes a CrashCopy.
inline Status QuiesceForCrashCopy(Store* store, FlushMode mode) {
  StoreStats s = store->Stats();
  int64_t limit = mode == FlushMode::kSync ? s.durable_offset : s.appended_offset;
  return store->AwaitDispatched(limit, 30'000);
}

// What a recovered store shows, per queue: the bodies in queue order (for comparing two
// recoveries of the same image).
using QueueContents = std::map<std::pair<std::string, int32_t>, std::vector<std::string>>;

inline Result<QueueContents> SnapshotQueues(Store* store) {
  QueueContents out;
  for (const QueueId& q : store->ListQueues()) {
    MQ_ASSIGN_OR_RETURN(QueueBounds bounds, store->GetQueueBounds(q.topic, q.queue_id));
    MQ_ASSIGN_OR_RETURN(std::vector<ReadBack> records,
                        ReadQueue(store, q.topic, q.queue_id, bounds.min_offset));
    auto& bodies = out[{q.topic, q.queue_id}];
    for (const ReadBack& rb : records) bodies.push_back(rb.bytes);
  }
  return out;
}

inline std::string Describe(const AckedPut& p) {
  return p.topic + "/" + std::to_string(p.queue_id) +
         "@" + std::to_string(p.result.queue_offset) + " physical " +
         std::to_string(p.result.physical_offset) + ".." + std::to_string(p.end()) +
         (p.must_survive ? " (must survive)" : "");
}

// A surviving put is found by its message id and by its key (the index agrees with
// the log after recovery).
inline Status VerifyLookups(Store* store, const AckedPut& p) {
  const int64_t start = p.result.physical_offset;
  auto by_id = store->ReadByMessageId(p.topic, p.result.offset_message_id());
  if (!by_id.ok() || by_id->physical_offset != start) {
    return Status::Corruption("message id " + p.result.offset_message_id() + " does not find " +
                              Describe(p) +
                              (by_id.ok() ? "" : " (" + by_id.status().ToString() + ")"));
  }
  // (The workload gives a message at most one key.)
  auto key = FindProperty(p.properties, property::kKeys);
  if (!key) return Status::OK();
  MQ_ASSIGN_OR_RETURN(std::vector<RecordView> found,
                      store->QueryByKey(p.topic, *key, 0, INT64_MAX, 1000));
  bool hit = std::any_of(found.begin(), found.end(),
                         [&](const RecordView& r) { return r.physical_offset == start; });
  if (!hit) {
    return Status::Corruption("key '" + std::string(*key) + "' does not find " + Describe(p) +
                              " (" + std::to_string(found.size()) + " other records)");
  }
  return Status::OK();
}

// Checks `store` (opened on a crash image) against `puts` (see the file comment). OK or
// kCorruption naming the first violation.
inline Status VerifyRecovered(Store* store, const std::vector<AckedPut>& puts) {
  StoreStats stats = store->Stats();
  const int64_t end = stats.appended_offset;
  if (stats.durable_offset != end) {
    return Status::Corruption("recovered store: durable " + std::to_string(stats.durable_offset) +
                              " != appended " + std::to_string(end));
  }
  // The index catches up with the recovered log in the background (Open returns first).
  MQ_RETURN_IF_ERROR(store->AwaitDispatched(end, 30'000).WithContext("index catch-up"));
  // Retention may have removed segments: puts below the log's first byte are gone, and
  // their queues start after them.
  const int64_t log_min = stats.min_physical_offset;
  std::map<std::pair<std::string, int32_t>, int64_t> expected_count;
  std::map<std::pair<std::string, int32_t>, int64_t> expected_min;
  for (const AckedPut& p : puts) {
    const int64_t start = p.result.physical_offset;
    if (start < end && p.end() > end) {
      return Status::Corruption("recovered end " + std::to_string(end) + " cuts " + Describe(p));
    }
    if (p.end() > end) {
      if (p.must_survive) {
        return Status::Corruption("lost at recovered end " + std::to_string(end) + ": " +
                                  Describe(p));
      }
      auto r = store->ReadRecord(start);
      if (r.ok()) return Status::Corruption("ReadRecord shows a put past the end: " + Describe(p));
      continue;
    }
    int64_t& count = expected_count[{p.topic, p.queue_id}];
    count = std::max(count, p.result.queue_offset + 1);
    if (start < log_min) {
      int64_t& min = expected_min[{p.topic, p.queue_id}];
      min = std::max(min, p.result.queue_offset + 1);
      if (store->ReadRecord(start).ok()) {
        return Status::Corruption("a put below the log's first byte " + std::to_string(log_min) +
                                  " is still readable: " + Describe(p));
      }
      continue;
    }
    MQ_ASSIGN_OR_RETURN(ReadResult read,
                        store->Read(p.topic, p.queue_id, p.result.queue_offset, 1, 1));
    if (read.status != ReadStatus::kFound || read.messages.size() != 1) {
      return Status::Corruption(std::string("not readable (") + ReadStatusName(read.status) +
                                "): " + Describe(p));
    }
    const StoredMessage& m = read.messages[0];
    ParsedRecord rec;
    Status parsed = ParseRecord(m.record, true, &rec);
    if (!parsed.ok()) return parsed.WithContext(Describe(p));
    std::string expected_props = p.properties;
    if (m.physical_offset != start || rec.physical_offset != start ||
        rec.queue_offset != p.result.queue_offset || rec.topic != p.topic ||
        rec.queue_id != p.queue_id || rec.body != p.body || rec.flag != p.flag ||
        rec.total_size != p.result.record_size ||
        rec.properties.substr(0, expected_props.size()) != expected_props ||
        rec.properties.size() != expected_props.size() + 20) {
      return Status::Corruption("different record read back for " + Describe(p));
    }
    MQ_ASSIGN_OR_RETURN(RecordView view, store->ReadRecord(start));
    if (view.bytes != m.record) {
      return Status::Corruption("ReadRecord and Read disagree for " + Describe(p));
    }
    MQ_RETURN_IF_ERROR(VerifyLookups(store, p));
  }
  // Queues hold exactly the surviving puts: nothing from elsewhere, no holes.
  for (const QueueId& q : store->ListQueues()) {
    MQ_ASSIGN_OR_RETURN(QueueBounds b, store->GetQueueBounds(q.topic, q.queue_id));
    auto it = expected_count.find({q.topic, q.queue_id});
    int64_t want = it == expected_count.end() ? 0 : it->second;
    auto min_it = expected_min.find({q.topic, q.queue_id});
    int64_t want_min = min_it == expected_min.end() ? 0 : min_it->second;
    if (b.min_offset != want_min || b.max_offset != want) {
      return Status::Corruption("queue " + q.topic + "/" + std::to_string(q.queue_id) +
                                " has offsets [" + std::to_string(b.min_offset) + ", " +
                                std::to_string(b.max_offset) + "), expected [" +
                                std::to_string(want_min) + ", " + std::to_string(want) + ")");
    }
    auto all = ReadQueue(store, q.topic, q.queue_id, want_min);
    if (!all.ok()) return all.status().WithContext(q.topic + "/" + std::to_string(q.queue_id));
    if (static_cast<int64_t>(all->size()) != want - want_min) {
      return Status::Corruption("queue " + q.topic + " reads " + std::to_string(all->size()) +
                                " records, expected " + std::to_string(want));
    }
  }
  for (const auto& [key, want] : expected_count) {
    auto b = store->GetQueueBounds(key.first, key.second);
    if (!b.ok() || b->max_offset != want) {
      return Status::Corruption("queue " + key.first + "/" + std::to_string(key.second) +
                                " is missing or short");
    }
  }
  return Status::OK();
}

// The puts of `puts` that a store recovered to `end` still holds.
inline std::vector<AckedPut> SurvivorsUpTo(const std::vector<AckedPut>& puts, int64_t end) {
  std::vector<AckedPut> out;
  for (const AckedPut& p : puts) {
    if (p.end() <= end) out.push_back(p);
  }
  return out;
}

// What mqdump verify says of the store at `root` in `env`, closed cleanly: no warning or
// error, and no note of work left for the next open (queue or index entries at or past the
// log's end, a torn tail, stale index slot heads): recovery and a clean close leave none.
// Notes that stay true of a healthy store (entries below a log start that retention moved,
// metadata that MemEnv cannot hold) are fine.
inline Status VerifyFilesAfterCleanClose(Env* env, const std::string& root) {
  InspectOptions inspect;
  inspect.env = env;
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<StoreInspector> inspector,
                      StoreInspector::Open(root, inspect));
  std::string first;
  VerifyOptions verify;
  verify.report = [&](const Problem& p) {
    bool left_for_next_open = p.message.find("next open") != std::string::npos ||
                              p.message.find("recovery") != std::string::npos;
    if (first.empty() && (p.severity != Severity::kNote || left_for_next_open)) {
      first = std::string(SeverityName(p.severity)) + " " + p.path + ": " + p.message;
    }
  };
  MQ_ASSIGN_OR_RETURN(VerifySummary summary, inspector->Verify(verify));
  if (!first.empty()) return Status::Corruption("mqdump verify after a clean close: " + first);
  if (!summary.clean()) return Status::Corruption("mqdump verify after a clean close: not clean");
  return Status::OK();
}

}  // namespace mqstore::test

#endif  // MQSTORE_TESTS_MQSTORE_CRASH_CRASH_WORKLOAD_H_
