// Helpers for the schedule tests: a real Store on a MemEnv with a manual clock, putting
// messages through the put-time rewrite the façade will apply, and reading a real queue
// back as parsed messages.
#ifndef MQSTORE_TESTS_MQSTORE_SCHEDULE_SCHEDULE_TEST_UTIL_H_
#define MQSTORE_TESTS_MQSTORE_SCHEDULE_SCHEDULE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/mem_env.h"
#include "mqstore/store.h"
#include "schedule/schedule_rewrite.h"
#include "support/test_util.h"

namespace mqstore::test {

inline constexpr int kAwaitMs = 10'000;

// One delivered (or parked) message, owning its bytes.
struct Delivered {
  std::string topic;
  int32_t queue_id = 0;
  std::string body;
  std::string properties;
  int64_t store_timestamp_ms = 0;
  int64_t queue_offset = 0;
  ParsedRecord parsed;  // views into `bytes`
  std::string bytes;
};

// A store on a MemEnv (or on a crash copy of one) with a manual clock.
class ScheduleStoreHarness {
 public:
  ScheduleStoreHarness() : env_(NewMemEnv()) {}

  StoreOptions Options(MemEnv* env) {
    StoreOptions o;
    o.env = env;
    o.clock = &clock;
    o.commitlog_segment_bytes = 256 << 10;
    o.consume_queue_entries_per_file = 1024;
    o.max_message_bytes = 64 << 10;
    o.write_buffer_bytes = 1 << 20;
    o.resident_log_window_bytes = 0;
    o.enable_index = built_in_schedule;  // the end-to-end tests check index answers too
    o.index_slots_per_file = 512;
    o.index_entries_per_file = 2048;
    o.enable_metadata = false;
    // The component tests drive the schedulers under test themselves; the façade tests
    // let the store run its own.
    o.enable_schedule = built_in_schedule;
    o.flush_mode = flush_mode;
    return o;
  }
  void Open() { OpenOn(env_.get()); }
  void OpenOn(MemEnv* env) {
    current_env_ = env;
    auto opened = Store::Open(Options(env), kDir);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store = std::move(opened).value();
  }
  // Drops the store and opens a new one on what a power cut would leave now.
  void CrashAndReopen(CrashOptions crash = {CrashMode::kDropUnsynced, 0}) {
    std::unique_ptr<MemEnv> copy = current_env_->CrashCopy(crash);
    store.reset();
    crashed_.push_back(std::move(copy));
    OpenOn(crashed_.back().get());
  }
  MemEnv* env() { return current_env_ ? current_env_ : env_.get(); }

  // Puts `m` as the store façade would: rewritten when it asks for a delay. Returns the
  // rewrite (nullopt: stored as given) and waits until it is dispatched.
  std::optional<ScheduleRewrite> Put(const Message& m, const ScheduleRewriteOptions& options = {}) {
    std::string props;
    MessageView view = m.View(&props);
    auto rewrite = RewriteForSchedule(view, options, clock.NowMillis());
    EXPECT_TRUE(rewrite.ok()) << rewrite.status().ToString();
    if (!rewrite.ok()) return std::nullopt;
    MessageView stored = *rewrite ? (*rewrite)->Apply(view) : view;
    auto put = store->Put(stored);
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    if (put.ok()) {
      Status s = store->AwaitDispatched(put->physical_offset + put->record_size, kAwaitMs);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    return *rewrite;
  }

  // Waits until everything appended so far is in the consume queues.
  void AwaitAll() {
    Status s = store->AwaitDispatched(store->Stats().appended_offset, kAwaitMs);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

  // Every message of topic/queue, from the start.
  std::vector<Delivered> ReadAll(std::string_view topic, int32_t queue_id) {
    AwaitAll();
    std::vector<Delivered> out;
    int64_t offset = 0;
    while (true) {
      auto r = store->Read(topic, queue_id, offset, 256, 1ull << 30);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok() || r->status != ReadStatus::kFound) break;
      for (const StoredMessage& m : r->messages) {
        Delivered d;
        d.bytes = std::string(m.record);
        Status s = ParseRecord(d.bytes, true, &d.parsed);
        EXPECT_TRUE(s.ok()) << s.ToString();
        d.topic = std::string(d.parsed.topic);
        d.queue_id = d.parsed.queue_id;
        d.body = std::string(d.parsed.body);
        d.properties = std::string(d.parsed.properties);
        d.store_timestamp_ms = d.parsed.store_timestamp_ms;
        d.queue_offset = m.queue_offset;
        out.push_back(std::move(d));
      }
      offset = r->next_offset;
    }
    return out;
  }
  std::vector<std::string> Bodies(std::string_view topic, int32_t queue_id) {
    std::vector<std::string> out;
    for (const Delivered& d : ReadAll(topic, queue_id)) out.push_back(d.body);
    return out;
  }

  static constexpr const char* kDir = "/store";

 private:
  // Declared before the store, so that they outlive it.
  std::unique_ptr<MemEnv> env_;
  MemEnv* current_env_ = nullptr;
  std::vector<std::unique_ptr<MemEnv>> crashed_;

 public:
  ManualClock clock;
  bool built_in_schedule = false;  // set before Open
  FlushMode flush_mode = FlushMode::kAsync;
  std::unique_ptr<Store> store;
};

// A message for `topic`/`queue_id` with body `body` and one extra property.
inline Message Scheduled(std::string topic, int32_t queue_id, std::string body,
                         std::string request_name, std::string request_value) {
  Message m = MakeMessage(std::move(topic), queue_id, std::move(body), "TagA", "key-1");
  m.SetProperty("custom", "value");
  m.SetProperty(std::move(request_name), std::move(request_value));
  return m;
}

}  // namespace mqstore::test

#endif  // MQSTORE_TESTS_MQSTORE_SCHEDULE_SCHEDULE_TEST_UTIL_H_
