// A small store whose records carry keys and unique ids, with a tiny hash index and a
// metadata store, for the inspector's index and metadata tests and the mqdump tests.
#ifndef MQSTORE_TESTS_MQSTORE_INSPECT_KEYED_STORE_H_
#define MQSTORE_TESTS_MQSTORE_INSPECT_KEYED_STORE_H_

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mqstore/inspect.h"
#include "mqstore/inspect/inspect_test_util.h"
#include "mqstore/store.h"
#include "support/test_util.h"

namespace mqstore::test {

inline constexpr int64_t kKeyedStartMs = 1'700'000'000'000;
inline constexpr uint32_t kKeyedSlots = 16;
inline constexpr uint32_t kKeyedEntries = 64;  // 21 records of 3 keys per file

struct KeyedPut {
  std::string topic;
  std::string unique_key;
  PutResult result;
};

// A client-style unique id: 32 hex digits that also decode as an offset message id, of a
// host (192.168.0.1:8080) that is not the store's.
inline std::string UniqueKeyOf(int i) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "C0A8000100001F90%016X", 1000 + i);
  return buf;
}

// Record i: topic TopicA (even i) or TopicB (odd), queue (i / 2) % 2, stored at
// kKeyedStartMs + 1000 i, KEYS "order-<i> buyer-<i % 5>", UNIQ_KEY UniqueKeyOf(i). With
// `metadata`: topics TopicA and TopicB (2 queues each), group Billing with offsets for both
// queues of TopicA, and one schedule entry.
inline std::vector<KeyedPut> BuildKeyedStore(const std::string& dir, int count,
                                             uint32_t slots = kKeyedSlots,
                                             uint32_t entries = kKeyedEntries) {
  ManualClock clock(kKeyedStartMs);
  StoreOptions options;
  options.clock = &clock;
  options.commitlog_segment_bytes = 64 * 1024;
  options.index_slots_per_file = slots;
  options.index_entries_per_file = entries;
  options.enable_schedule = false;  // its progress entries would change the metadata counted
  std::vector<KeyedPut> puts;
  auto store = Store::Open(options, dir);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return puts;
  for (int i = 0; i < count; ++i) {
    std::string topic = i % 2 == 0 ? "TopicA" : "TopicB";
    Message m = MakeMessage(topic, (i / 2) % 2, "body of message " + std::to_string(i), "tagA",
                            "order-" + std::to_string(i) + " buyer-" + std::to_string(i % 5));
    m.SetProperty(std::string(property::kUniqueKey), UniqueKeyOf(i));
    std::string props;
    auto put = (*store)->Put(m.View(&props));
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    if (put.ok()) puts.push_back({topic, UniqueKeyOf(i), *put});
    clock.Advance(1000);
  }
  if (MetadataStore* meta = (*store)->metadata()) {
    for (const char* name : {"TopicA", "TopicB"}) {
      TopicConfig topic;
      topic.name = name;
      topic.read_queue_nums = topic.write_queue_nums = 2;
      EXPECT_OK(meta->PutTopic(topic));
    }
    SubscriptionGroupConfig group;
    group.group_name = "Billing";
    EXPECT_OK(meta->PutSubscriptionGroup(group));
    ConsumerOffset offsets[] = {{"TopicA", 0, 3}, {"TopicA", 1, 2}};
    EXPECT_OK(meta->CommitOffsets("Billing", offsets));
    ScheduleProgress progress[] = {{"delay-level-3", 17, kKeyedStartMs}};
    EXPECT_OK(meta->CommitScheduleProgress(progress));
  } else {
    ADD_FAILURE() << "the store has no metadata";
  }
  EXPECT_OK((*store)->Close());
  return puts;
}

// BuildKeyedStore(.., 40) once per test binary, copied into `dir` for each test that wants
// one: building a store syncs files, copying it does not.
inline std::vector<KeyedPut> CopyKeyedStore(const std::string& dir) {
  static TempDir template_dir;
  static const std::vector<KeyedPut> puts = BuildKeyedStore(template_dir.Sub("store"), 40);
  std::filesystem::copy(template_dir.Sub("store"), dir, std::filesystem::copy_options::recursive);
  return puts;
}

// Byte position of entry `n` (from 1) and slot `s` in an index file of `slots` slots.
inline int64_t IndexEntryPos(uint32_t n, uint32_t slots = kKeyedSlots) {
  return 136 + 4 * int64_t{slots} + 20 * (int64_t{n} - 1);
}
inline int64_t IndexSlotPos(uint32_t s) { return 136 + 4 * int64_t{s}; }

}  // namespace mqstore::test

#endif  // MQSTORE_TESTS_MQSTORE_INSPECT_KEYED_STORE_H_
