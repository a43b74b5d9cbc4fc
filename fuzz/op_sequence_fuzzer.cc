// op_sequence_fuzzer: sequences of store operations, power cuts and recoveries on MemEnv,
// checked against a model of what the store acknowledged.
//
// The input drives a FuzzedDataProvider: the flush mode, then up to kMaxSteps steps, each one
// of: put, put batch, flush, large put (rolls a segment), crash (MemEnv::CrashCopy with a
// CrashMode and seed from the input, then Store::Open on the copy), clean close and reopen,
// expire (the clock jumps past file_reserved_ms and RunRetention removes old segments).
//
// The model keeps every acknowledged put; a put must survive once it was acknowledged
// durable (PutResult::durable) or a Flush or clean Close returned after it. After every
// recovery the store must hold a prefix of the log that contains every put that must
// survive, byte for byte at its queue offset and physical offset, no put may straddle the
// recovered end, every queue must be contiguous and end where the model says, and a key of a
// surviving put must be found. After retention, queues must still read contiguously from
// their new minimum. Any violation aborts with a description.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_store.h"
#include "mqstore/mem_env.h"
#include "mqstore/store.h"

namespace mqstore::fuzz {
namespace {

constexpr int kMaxSteps = 40;
constexpr int kAwaitMs = 10'000;
const char* const kTopics[] = {"TopicA", "TopicB"};

struct AckedPut {
  FuzzMessage message;
  std::string key;  // its KEYS value; empty when none
  PutResult result;
  bool must_survive = false;
  int64_t end() const { return result.physical_offset + result.record_size; }
};

using QueueKey = std::pair<std::string, int32_t>;

class OpSequence {
 public:
  explicit OpSequence(FuzzedDataProvider* in) : in_(*in), clock_(kStartMs) {}

  void Run() {
    mode_ = in_.ConsumeBool() ? FlushMode::kSync : FlushMode::kAsync;
    env_ = NewMemEnv();
    Open();
    for (int step = 0; step < kMaxSteps && in_.remaining_bytes() > 0; ++step) {
      switch (in_.ConsumeIntegralInRange(0, 9)) {
        case 0:
        case 1:
        case 2:
        case 3:
          PutOne(in_.ConsumeIntegralInRange<size_t>(0, 300));
          break;
        case 4:
          PutBatch();
          break;
        case 5:
          Flush();
          break;
        case 6:
          PutOne(in_.ConsumeIntegralInRange<size_t>(1500, kMaxBodyBytes));
          break;
        case 7:
          Crash();
          break;
        case 8:
          CloseAndReopen();
          break;
        case 9:
          Expire();
          break;
      }
    }
    FUZZ_CHECK(store_->Close().ok(), "final close");
  }

 private:
  void Open() {
    auto opened = Store::Open(TinyStoreOptions(env_.get(), &clock_, mode_), kStoreDir);
    FUZZ_CHECK(opened.ok(), "open: " + opened.status().ToString());
    store_ = std::move(opened).value();
  }

  FuzzMessage NextMessage(size_t body_bytes, std::string* key) {
    FuzzMessage m;
    m.topic = kTopics[in_.ConsumeIntegralInRange(0, 1)];
    m.queue_id = in_.ConsumeIntegralInRange(0, 1);
    const int64_t seq = seq_++;
    // A few input bytes, padded to the size asked for: large bodies cost no input.
    m.body = "#" + std::to_string(seq) + ":" +
             in_.ConsumeBytesAsString(std::min<size_t>(body_bytes, 64));
    if (m.body.size() < body_bytes) m.body.resize(body_bytes, 'x');
    if (m.body.size() > kMaxBodyBytes) m.body.resize(kMaxBodyBytes);
    m.flag = in_.ConsumeIntegralInRange(0, 3);
    if (in_.ConsumeBool())
      AppendProperty(property::kTags, "tag" + std::to_string(seq % 3), &m.properties);
    if (in_.ConsumeBool()) {
      *key = "key-" + std::to_string(seq);
      AppendProperty(property::kKeys, *key, &m.properties);
    }
    if (mode_ == FlushMode::kSync && in_.ConsumeIntegralInRange(0, 3) == 0) {
      AppendProperty(property::kWaitStoreMsgOk, "false", &m.properties);  // not durable
    }
    return m;
  }

  void Record(const FuzzMessage& m, const std::string& key, const PutResult& r) {
    FUZZ_CHECK(r.status == PutStatus::kOk || !r.durable, "a timed-out put says durable");
    QueueKey q{m.topic, m.queue_id};
    FUZZ_CHECK(r.queue_offset == next_offset_[q],
               m.topic + "/" + std::to_string(m.queue_id) + " gave queue offset " +
                   std::to_string(r.queue_offset) + ", the model expects " +
                   std::to_string(next_offset_[q]));
    FUZZ_CHECK(puts_.empty() || r.physical_offset >= puts_.back().end(), "puts overlap");
    next_offset_[q] = r.queue_offset + 1;
    puts_.push_back(AckedPut{m, key, r, r.durable});
  }

  void PutOne(size_t body_bytes) {
    std::string key;
    FuzzMessage m = NextMessage(body_bytes, &key);
    auto put = store_->Put(m.View());
    FUZZ_CHECK(put.ok(), "put: " + put.status().ToString());
    Record(m, key, *put);
  }

  void PutBatch() {
    const int n = in_.ConsumeIntegralInRange(2, 4);
    std::vector<FuzzMessage> messages;
    std::vector<std::string> keys(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
      messages.push_back(
          NextMessage(in_.ConsumeIntegralInRange<size_t>(0, 200), &keys[static_cast<size_t>(i)]));
    std::vector<MessageView> views;
    for (const FuzzMessage& m : messages) views.push_back(m.View());
    auto put = store_->PutBatch(views);
    FUZZ_CHECK(put.ok(), "batch put: " + put.status().ToString());
    FUZZ_CHECK(put->items.size() == messages.size(), "batch result count");
    for (size_t i = 0; i < messages.size(); ++i) Record(messages[i], keys[i], put->items[i]);
  }

  void Flush() {
    FUZZ_CHECK(store_->Flush().ok(), "flush");
    for (AckedPut& p : puts_) p.must_survive = true;
  }

  void Crash() {
    static constexpr CrashMode kModes[] = {CrashMode::kDropUnsynced, CrashMode::kTornPrefix,
                                           CrashMode::kRandomPages};
    CrashOptions crash{kModes[in_.ConsumeIntegralInRange(0, 2)], in_.ConsumeIntegral<uint32_t>()};
    // No store thread may write mapped memory while the image is taken (a real power cut
    // is instantaneous; a copy is not).
    StoreStats s = store_->Stats();
    int64_t limit = mode_ == FlushMode::kSync ? s.durable_offset : s.appended_offset;
    FUZZ_CHECK(store_->AwaitDispatched(limit, kAwaitMs).ok(), "dispatch before the crash");
    std::unique_ptr<MemEnv> image = env_->CrashCopy(crash);
    store_.reset();  // closes on the old env, which is then dropped
    env_ = std::move(image);
    if (in_.ConsumeBool()) mode_ = mode_ == FlushMode::kSync ? FlushMode::kAsync : FlushMode::kSync;
    Open();
    CheckRecovered(/*clean=*/false);
  }

  void CloseAndReopen() {
    Status closed = store_->Close();
    FUZZ_CHECK(closed.ok(), "close: " + closed.ToString());
    for (AckedPut& p : puts_) p.must_survive = true;  // a clean close flushes
    store_.reset();
    Open();
    CheckRecovered(/*clean=*/true);
  }

  void Expire() {
    clock_.Advance(kFileReservedMs + 1);
    Status s = store_->RunRetention();
    FUZZ_CHECK(s.ok(), "retention: " + s.ToString());
    for (AckedPut& p : puts_) p.must_survive = true;  // a retention round makes the log durable
    const int64_t log_min = store_->Stats().min_physical_offset;
    std::erase_if(puts_, [&](const AckedPut& p) { return p.result.physical_offset < log_min; });
    CheckQueues();
  }

  // After a recovery: a prefix of the log survived, holding every put that had to.
  void CheckRecovered(bool clean) {
    StoreStats stats = store_->Stats();
    const int64_t end = stats.appended_offset;
    FUZZ_CHECK(stats.durable_offset == end, "a recovered store is not durable to its end");
    std::vector<AckedPut> kept;
    for (const AckedPut& p : puts_) {
      const std::string what = Describe(p) + (clean ? " after a clean close" : " after a crash");
      FUZZ_CHECK(!(p.result.physical_offset < end && p.end() > end),
                 "the recovered end " + std::to_string(end) + " cuts " + what);
      if (p.end() > end) {
        FUZZ_CHECK(!p.must_survive,
                   "lost " + what + " (recovered end " + std::to_string(end) + ")");
        FUZZ_CHECK(!store_->ReadRecord(p.result.physical_offset).ok(),
                   "a put past the recovered end is readable: " + what);
        continue;
      }
      kept.push_back(p);
    }
    puts_ = std::move(kept);
    // Queue ends as the survivors say; retention's removals stay (they were durable).
    for (auto& [q, next] : next_offset_) next = floor_[q];
    for (const AckedPut& p : puts_) {
      QueueKey q{p.message.topic, p.message.queue_id};
      next_offset_[q] = std::max(next_offset_[q], p.result.queue_offset + 1);
    }
    FUZZ_CHECK(store_->AwaitDispatched(end, kAwaitMs).ok(), "dispatch after recovery");
    CheckQueues();
    for (const AckedPut& p : puts_) {
      if (p.key.empty()) continue;
      auto found = store_->QueryByKey(p.message.topic, p.key, 0, INT64_MAX, 4);
      FUZZ_CHECK(found.ok() && found->size() == 1 &&
                     (*found)[0].physical_offset == p.result.physical_offset,
                 "key " + p.key + " of " + Describe(p) + " is not found after recovery");
    }
  }

  // Every queue ends where the model says and reads, from the first put the model still
  // has, exactly those puts.
  void CheckQueues() {
    for (const QueueId& q : store_->ListQueues()) {
      auto bounds = store_->GetQueueBounds(q.topic, q.queue_id);
      FUZZ_CHECK(bounds.ok(), "bounds of a listed queue");
      auto it = next_offset_.find({q.topic, q.queue_id});
      const int64_t want = it == next_offset_.end() ? 0 : it->second;
      FUZZ_CHECK(bounds->max_offset == want, q.topic + "/" + std::to_string(q.queue_id) +
                                                 " ends at " + std::to_string(bounds->max_offset) +
                                                 ", the model says " + std::to_string(want));
      FUZZ_CHECK(0 <= bounds->min_offset && bounds->min_offset <= bounds->max_offset, "bounds");
    }
    std::map<QueueKey, int64_t> first_kept;
    for (const AckedPut& p : puts_) {
      QueueKey q{p.message.topic, p.message.queue_id};
      auto [at, inserted] = first_kept.emplace(q, p.result.queue_offset);
      (void)at;
      (void)inserted;
      auto read = store_->Read(q.first, q.second, p.result.queue_offset, 1, 1 << 16);
      FUZZ_CHECK(read.ok() && read->status == ReadStatus::kFound && read->messages.size() == 1,
                 "not readable: " + Describe(p) +
                     (read.ok() ? std::string(" (") + ReadStatusName(read->status) + ")" : ""));
      const StoredMessage& m = read->messages[0];
      ParsedRecord rec;
      Status parsed = ParseRecord(m.record, /*verify_checksums=*/true, &rec);
      FUZZ_CHECK(parsed.ok(), Describe(p) + ": " + parsed.ToString());
      FUZZ_CHECK(m.physical_offset == p.result.physical_offset &&
                     rec.physical_offset == p.result.physical_offset &&
                     rec.queue_offset == p.result.queue_offset && rec.topic == p.message.topic &&
                     rec.queue_id == p.message.queue_id && rec.body == p.message.body &&
                     rec.flag == p.message.flag &&
                     rec.properties.substr(0, p.message.properties.size()) == p.message.properties,
                 "a different record reads back for " + Describe(p));
      auto view = store_->ReadRecord(p.result.physical_offset);
      FUZZ_CHECK(view.ok() && view->bytes == m.record,
                 "ReadRecord and Read disagree: " + Describe(p));
    }
    // The model's own puts of a queue are contiguous up to its end.
    std::map<QueueKey, int64_t> expect;
    for (const AckedPut& p : puts_) {
      QueueKey q{p.message.topic, p.message.queue_id};
      auto it = expect.find(q);
      if (it != expect.end()) {
        FUZZ_CHECK(p.result.queue_offset == it->second, "a hole in " + Describe(p));
      }
      expect[q] = p.result.queue_offset + 1;
    }
    for (const auto& [q, next] : expect) {
      FUZZ_CHECK(next == next_offset_[q], "the model lost the end of a queue");
      floor_[q] = std::max(floor_[q], first_kept[q]);
    }
    for (auto& [q, next] : next_offset_) {
      if (!expect.count(q)) floor_[q] = next;  // every put of the queue is gone by retention
    }
  }

  static std::string Describe(const AckedPut& p) {
    return p.message.topic + "/" + std::to_string(p.message.queue_id) + "@" +
           std::to_string(p.result.queue_offset) + " physical " +
           std::to_string(p.result.physical_offset) + ".." + std::to_string(p.end()) +
           (p.must_survive ? " (must survive)" : "");
  }

  FuzzedDataProvider& in_;
  ManualClock clock_;
  FlushMode mode_ = FlushMode::kAsync;
  std::unique_ptr<MemEnv> env_;
  std::unique_ptr<Store> store_;
  std::vector<AckedPut> puts_;  // in log order
  std::map<QueueKey, int64_t> next_offset_;
  // Queue offsets below this are gone by retention; never above what the queue reached.
  std::map<QueueKey, int64_t> floor_;
  int64_t seq_ = 0;
};

}  // namespace
}  // namespace mqstore::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  mqstore::fuzz::OpSequence(&in).Run();
  return 0;
}
