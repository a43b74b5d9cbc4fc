// Many threads using one MetadataStore: commits are serialised, reads run alongside, and no
// reader ever sees half of a batch.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "mqstore/metadata.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::TempDir;

constexpr int kWriters = 6;
constexpr int kCommitsPerWriter = 40;
constexpr int kQueues = 8;

TEST(MetadataStoreConcurrencyTest, ConcurrentCommitsAreAtomicAndAllLand) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetadataStore> meta, OpenMetadataStore(tmp.Sub("meta"), {}));
  TopicConfig topic;
  topic.name = "T";
  topic.read_queue_nums = topic.write_queue_nums = kQueues;
  ASSERT_OK(meta->PutTopic(topic));

  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, read_errors{0}, reads{0};
  // Each writer owns a group and commits the same value to every queue of the topic, so a
  // reader that sees two different values in one group has seen half a batch.
  auto reader = [&] {
    while (!stop.load()) {
      for (int w = 0; w < kWriters; ++w) {
        auto offsets = meta->GetGroupOffsets("G" + std::to_string(w));
        if (!offsets.ok()) {
          read_errors.fetch_add(1);
          continue;
        }
        for (const ConsumerOffset& o : *offsets) {
          if (o.offset != offsets->front().offset) torn.fetch_add(1);
        }
        if (!offsets->empty() && offsets->size() != kQueues) torn.fetch_add(1);
        reads.fetch_add(1);
      }
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) readers.emplace_back(reader);

  std::atomic<int> write_errors{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::string group = "G" + std::to_string(w);
      for (int i = 1; i <= kCommitsPerWriter; ++i) {
        std::vector<ConsumerOffset> batch;
        for (int q = 0; q < kQueues; ++q) batch.push_back({"T", q, i});
        if (!meta->CommitOffsets(group, batch).ok()) write_errors.fetch_add(1);
      }
    });
  }
  // Topic churn alongside: registering and deleting another topic must not disturb "T".
  std::thread churn([&] {
    TopicConfig other;
    other.name = "Other";
    for (int i = 0; i < 20; ++i) {
      if (!meta->PutTopic(other).ok()) write_errors.fetch_add(1);
      if (!meta->DeleteTopic("Other").ok()) write_errors.fetch_add(1);
    }
  });
  for (auto& t : writers) t.join();
  churn.join();
  stop = true;
  for (auto& t : readers) t.join();

  EXPECT_EQ(write_errors.load(), 0);
  EXPECT_EQ(read_errors.load(), 0);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(reads.load(), 0);
  for (int w = 0; w < kWriters; ++w) {
    ASSERT_OK_AND_ASSIGN(std::vector<ConsumerOffset> offsets,
                         meta->GetGroupOffsets("G" + std::to_string(w)));
    ASSERT_EQ(offsets.size(), static_cast<size_t>(kQueues));
    for (const ConsumerOffset& o : offsets) EXPECT_EQ(o.offset, kCommitsPerWriter);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> groups, meta->GetGroupsOfTopic("T"));
  EXPECT_EQ(groups.size(), static_cast<size_t>(kWriters));
}

}  // namespace
}  // namespace mqstore
