#include "queue/consume_queue_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mqstore/mem_env.h"
#include "mqstore/queue/log_harness.h"
#include "support/test_util.h"
#include "util/filename.h"

namespace mqstore {
namespace {

using test::AllEntries;
using test::kStoreRoot;

constexpr uint32_t kEntriesPerFile = 4;

// A record summary as the dispatcher hands it over: 100-byte records laid end to end.
struct FakeLog {
  int64_t next_physical = 0;
  std::map<std::pair<std::string, int32_t>, int64_t> next_queue_offset;

  std::pair<RecordSummary, int64_t> Next(const std::string& topic, int32_t queue_id,
                                         int32_t sys_flag = 0) {
    RecordSummary r;
    r.total_size = 100;
    r.topic = topics.emplace_back(std::make_unique<std::string>(topic))->c_str();
    r.queue_id = queue_id;
    r.sys_flag = sys_flag;
    r.tags_code = 42;
    r.physical_offset = next_physical;
    if (GetsQueueOffset(sys_flag)) r.queue_offset = next_queue_offset[{topic, queue_id}]++;
    next_physical += 100;
    return {r, r.physical_offset};
  }
  std::vector<std::unique_ptr<std::string>> topics;  // keeps RecordSummary::topic alive
};

class ConsumeQueueSetTest : public ::testing::Test {
 protected:
  std::unique_ptr<ConsumeQueueSet> LoadedSet(Env* env = nullptr) {
    auto set =
        std::make_unique<ConsumeQueueSet>(env ? env : env_.get(), kStoreRoot, kEntriesPerFile);
    Status s = set->Load();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return set;
  }
  // Applies `n` records round-robin over TopicA/0, TopicA/1 and TopicB/0.
  void ApplyRoundRobin(ConsumeQueueSet* set, int n) {
    static const std::pair<const char*, int32_t> kQueues[] = {
        {"TopicA", 0}, {"TopicA", 1}, {"TopicB", 0}};
    for (int i = 0; i < n; ++i) {
      auto [record, pos] = log_.Next(kQueues[i % 3].first, kQueues[i % 3].second);
      ASSERT_OK(set->Apply(record, pos));
    }
  }
  int64_t MaxOf(const ConsumeQueueSet& set, std::string_view topic, int32_t id) {
    auto q = set.Find(topic, id);
    return q ? q->max_offset() : -1;
  }

  std::unique_ptr<MemEnv> env_ = NewMemEnv();
  FakeLog log_;
};

TEST_F(ConsumeQueueSetTest, ApplyCreatesAQueueOnItsFirstRecord) {
  auto set = LoadedSet();
  EXPECT_EQ(set->size(), 0u);
  EXPECT_EQ(set->Find("TopicA", 0), nullptr);
  ApplyRoundRobin(set.get(), 10);
  EXPECT_EQ(set->size(), 3u);
  EXPECT_EQ(MaxOf(*set, "TopicA", 0), 4);
  EXPECT_EQ(MaxOf(*set, "TopicA", 1), 3);
  EXPECT_EQ(MaxOf(*set, "TopicB", 0), 3);
  EXPECT_EQ(set->Find("TopicB", 1), nullptr);
  EXPECT_EQ(set->Find("TopicC", 0), nullptr);
  // TopicA/0 got records 0, 3, 6, 9.
  std::vector<QueueEntry> entries = AllEntries(*set->Find("TopicA", 0));
  ASSERT_EQ(entries.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(entries[i].physical_offset, 300 * i);
    EXPECT_EQ(entries[i].size, 100);
    EXPECT_EQ(entries[i].tags_code, 42);
  }
}

// The dispatcher caches the queues of the topic it saw last; records of other topics, of a
// topic whose name extends that one, of ids in any order and of ids too large to cache must
// each still land in their own queue.
TEST_F(ConsumeQueueSetTest, EveryRecordLandsInItsOwnQueueWhateverTheOrderOfTopicsAndIds) {
  auto set = LoadedSet();
  const std::pair<const char*, int32_t> kOrder[] = {
      {"TopicA", 3},  {"TopicA", 0}, {"TopicA", 3},     {"TopicAB", 3},    {"TopicA", 3},
      {"TopicA", 70}, {"TopicB", 1}, {"TopicA", 70000}, {"TopicA", 70000}, {"TopicA", 1},
      {"TopicB", 1},  {"TopicA", 0}, {"Topic", 3},      {"TopicA", 3},     {"TopicAB", 3}};
  std::map<std::pair<std::string, int32_t>, std::vector<int64_t>> expected;
  for (const auto& [topic, id] : kOrder) {
    auto [record, pos] = log_.Next(topic, id);
    ASSERT_OK(set->Apply(record, pos));
    expected[{topic, id}].push_back(pos);
  }
  EXPECT_EQ(set->size(), expected.size());
  for (const auto& [key, positions] : expected) {
    auto q = set->Find(key.first, key.second);
    ASSERT_NE(q, nullptr) << key.first << "/" << key.second;
    std::vector<int64_t> got;
    for (const QueueEntry& e : AllEntries(*q)) got.push_back(e.physical_offset);
    EXPECT_EQ(got, positions) << key.first << "/" << key.second;
  }
}

// Load replaces every queue object: records applied after it go to the new ones, not to
// the replaced ones the dispatcher had cached.
TEST_F(ConsumeQueueSetTest, RecordsAppliedAfterAReloadGoToTheReloadedQueues) {
  auto set = LoadedSet();
  ApplyRoundRobin(set.get(), 6);  // the last record went to TopicB/0
  ASSERT_OK(set->Load());
  auto [record, pos] = log_.Next("TopicB", 0);
  ASSERT_OK(set->Apply(record, pos));
  EXPECT_EQ(MaxOf(*set, "TopicB", 0), 3);
  std::vector<QueueEntry> entries = AllEntries(*set->Find("TopicB", 0));
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[2].physical_offset, 600);
}

TEST_F(ConsumeQueueSetTest, RecordsWithoutAQueueOffsetGetNoEntry) {
  auto set = LoadedSet();
  auto [prepared, p1] = log_.Next("TopicA", 0, sysflag::kTransactionPrepared);
  ASSERT_OK(set->Apply(prepared, p1));
  auto [rollback, p2] = log_.Next("TopicA", 0, sysflag::kTransactionRollback);
  ASSERT_OK(set->Apply(rollback, p2));
  EXPECT_EQ(set->Find("TopicA", 0), nullptr);
  auto [commit, p3] = log_.Next("TopicA", 0, sysflag::kTransactionCommit);
  ASSERT_OK(set->Apply(commit, p3));
  ASSERT_NE(set->Find("TopicA", 0), nullptr);
  EXPECT_EQ(MaxOf(*set, "TopicA", 0), 1);
}

TEST_F(ConsumeQueueSetTest, ForEachVisitsEveryQueue) {
  auto set = LoadedSet();
  ApplyRoundRobin(set.get(), 6);
  std::vector<std::pair<std::string, int32_t>> seen;
  set->ForEach([&](ConsumeQueue& q) { seen.emplace_back(q.topic(), q.queue_id()); });
  std::sort(seen.begin(), seen.end());
  std::vector<std::pair<std::string, int32_t>> expected = {
      {"TopicA", 0}, {"TopicA", 1}, {"TopicB", 0}};
  EXPECT_EQ(seen, expected);
}

TEST_F(ConsumeQueueSetTest, LoadFindsEveryQueueAfterReopen) {
  {
    auto set = LoadedSet();
    ApplyRoundRobin(set.get(), 20);
  }
  auto set = LoadedSet();
  EXPECT_EQ(set->size(), 3u);
  EXPECT_EQ(MaxOf(*set, "TopicA", 0), 7);
  EXPECT_EQ(MaxOf(*set, "TopicA", 1), 7);
  EXPECT_EQ(MaxOf(*set, "TopicB", 0), 6);
  // The reloaded set keeps going where it stopped.
  ApplyRoundRobin(set.get(), 3);
  EXPECT_EQ(MaxOf(*set, "TopicA", 0), 8);
}

TEST_F(ConsumeQueueSetTest, LoadIgnoresDirectoriesAndFilesThatAreNotQueues) {
  {
    auto set = LoadedSet();
    ApplyRoundRobin(set.get(), 3);
  }
  std::string cq = filename::ConsumeQueueRoot(kStoreRoot);
  ASSERT_OK(env_->CreateDir(cq + "/not a topic/0"));
  ASSERT_OK(env_->CreateDir(cq + "/TopicC/notanumber"));
  ASSERT_OK(env_->CreateDir(cq + "/TopicC/-1"));
  ASSERT_OK(env_->OpenFile(cq + "/stray-file", OpenMode::kCreate).status());
  auto set = LoadedSet();
  EXPECT_EQ(set->size(), 3u);
  EXPECT_EQ(set->Find("TopicC", -1), nullptr);
}

TEST_F(ConsumeQueueSetTest, TruncateFromCutsEveryQueue) {
  auto set = LoadedSet();
  ApplyRoundRobin(set.get(), 12);          // physical offsets 0, 100, ..., 1100
  ASSERT_OK(set->TruncateFrom(500));       // keeps records 0..4
  EXPECT_EQ(MaxOf(*set, "TopicA", 0), 2);  // records 0, 3
  EXPECT_EQ(MaxOf(*set, "TopicA", 1), 2);  // records 1, 4
  EXPECT_EQ(MaxOf(*set, "TopicB", 0), 1);  // record 2
  auto reloaded = LoadedSet();
  EXPECT_EQ(MaxOf(*reloaded, "TopicA", 0), 2);
  EXPECT_EQ(MaxOf(*reloaded, "TopicB", 0), 1);
}

TEST_F(ConsumeQueueSetTest, RemoveAllEmptiesEveryQueue) {
  auto set = LoadedSet();
  ApplyRoundRobin(set.get(), 12);
  ASSERT_OK(set->RemoveAll());
  set->ForEach(
      [](ConsumeQueue& q) { EXPECT_EQ(q.max_offset(), 0) << q.topic() << "/" << q.queue_id(); });
  auto reloaded = LoadedSet();
  reloaded->ForEach([](ConsumeQueue& q) { EXPECT_EQ(q.max_offset(), 0) << q.topic(); });
}

TEST_F(ConsumeQueueSetTest, ApplyOfAGapIsCorruption) {
  auto set = LoadedSet();
  ApplyRoundRobin(set.get(), 3);
  auto [record, pos] = log_.Next("TopicA", 0);
  record.queue_offset += 5;
  EXPECT_TRUE(set->Apply(record, pos).IsCorruption());
  EXPECT_EQ(MaxOf(*set, "TopicA", 0), 1);
}

TEST_F(ConsumeQueueSetTest, SyncAllMakesEveryQueueSurviveACrash) {
  auto set = LoadedSet();
  ApplyRoundRobin(set.get(), 15);
  ASSERT_OK(set->SyncAll());
  ApplyRoundRobin(set.get(), 6);  // not synced
  std::unique_ptr<MemEnv> after = env_->CrashCopy({CrashMode::kDropUnsynced, 0});
  auto reloaded = LoadedSet(after.get());
  EXPECT_EQ(reloaded->size(), 3u);
  EXPECT_EQ(MaxOf(*reloaded, "TopicA", 0), 5);
  EXPECT_EQ(MaxOf(*reloaded, "TopicA", 1), 5);
  EXPECT_EQ(MaxOf(*reloaded, "TopicB", 0), 5);
}

TEST_F(ConsumeQueueSetTest, ApplyLogMinOffsetMovesEveryQueue) {
  auto set = LoadedSet();
  ApplyRoundRobin(set.get(), 30);  // records at 0, 100, ...: 10 per queue
  // The log now starts at 1500: record 15 onwards (queue offset 5 of each queue).
  ASSERT_OK_AND_ASSIGN(size_t removed, set->ApplyLogMinOffset(1500));
  EXPECT_EQ(removed, 3u);  // the first file (entries 0..3) of each queue
  set->ForEach([&](ConsumeQueue& q) {
    EXPECT_EQ(q.min_offset(), 5) << q.topic() << "/" << q.queue_id();
    EXPECT_EQ(q.max_offset(), 10);
    std::vector<QueueEntry> first;
    ASSERT_EQ(q.ReadEntries(q.min_offset(), 1, &first), 1u);
    EXPECT_GE(first[0].physical_offset, 1500);
  });
  // Applying it again, or an older offset, changes nothing.
  ASSERT_OK_AND_ASSIGN(removed, set->ApplyLogMinOffset(1500));
  EXPECT_EQ(removed, 0u);
  ASSERT_OK_AND_ASSIGN(removed, set->ApplyLogMinOffset(0));
  EXPECT_EQ(removed, 0u);
  EXPECT_EQ(set->Find("TopicB", 0)->min_offset(), 5);
}

}  // namespace
}  // namespace mqstore
