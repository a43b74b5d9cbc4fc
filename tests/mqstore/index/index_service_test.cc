#include "index/index_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mqstore/mem_env.h"
#include "support/fault_injection_env.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;  // 2023-11-14 22:13:20 UTC
constexpr int64_t kVisibleAll = INT64_MAX;
constexpr int64_t kRecordSize = 100;

// One record of a test log: record i sits at offset 100 i.
struct Rec {
  std::string topic = "TopicA";
  std::string keys;
  std::string uniq;
  int64_t offset = 0;
  int64_t ts = 0;

  IndexRecord View() const {
    return IndexRecord{topic, keys, uniq, offset, static_cast<int32_t>(kRecordSize), ts};
  }
  int64_t end() const { return offset + kRecordSize; }
};

Rec MakeRec(int64_t i, std::string keys, std::string uniq = "", int64_t ts = -1) {
  Rec r;
  r.keys = std::move(keys);
  r.uniq = std::move(uniq);
  r.offset = kRecordSize * i;
  r.ts = ts < 0 ? kT0 + i : ts;
  return r;
}

// What Query must return for (topic, key) when the index holds `records` below `end`.
std::vector<int64_t> Model(const std::vector<Rec>& records, std::string_view topic,
                           std::string_view key, int64_t end) {
  std::vector<int64_t> out;
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (it->offset >= end || it->topic != topic) continue;
    std::vector<std::string_view> keys = IndexKeysOf(it->View());
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) out.push_back(it->offset);
  }
  return out;
}

std::vector<int64_t> QueryAll(const IndexService& index, std::string_view key,
                              std::string_view topic = "TopicA", size_t max = 1'000'000,
                              int64_t limit = kVisibleAll) {
  auto r = index.Query(topic, key, INT64_MIN, INT64_MAX, max, limit);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<int64_t>{};
}

// Fixture over both envs: the POSIX one in a temp dir and MemEnv.
class IndexServiceTest : public ::testing::TestWithParam<bool> {
 protected:
  IndexServiceTest() {
    if (GetParam()) {
      env_ = Env::Default();
      root_ = tmp_.path();
    } else {
      mem_ = NewMemEnv();
      env_ = mem_.get();
      root_ = "/store";
      EXPECT_TRUE(env_->CreateDir(root_).ok());
    }
  }

  std::unique_ptr<IndexService> Open(IndexOptions options) {
    auto index = std::make_unique<IndexService>(env_, root_, options);
    Status s = index->Load();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return index;
  }
  void AddAll(IndexService* index, const std::vector<Rec>& records) {
    for (const Rec& r : records) ASSERT_OK(index->Add(r.View()));
  }

  test::TempDir tmp_;
  std::unique_ptr<MemEnv> mem_;
  Env* env_ = nullptr;
  std::string root_;
};

INSTANTIATE_TEST_SUITE_P(Envs, IndexServiceTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Posix" : "Mem";
                         });

TEST(IndexNamingTest, FilesAreNamedByUtcMilliseconds) {
  EXPECT_EQ(IndexFileName(kT0), "20231114221320000");
  EXPECT_EQ(IndexFileName(kT0 + 86'399'999), "20231115221319999");
  EXPECT_EQ(IndexFileName(0), "19700101000000000");
  EXPECT_EQ(ParseIndexFileName("20231114221320000"), kT0);
  EXPECT_EQ(ParseIndexFileName("20240229235959999"), 1'709'251'199'999);
  EXPECT_EQ(ParseIndexFileName(IndexFileName(1'709'251'199'999)), 1'709'251'199'999);
  EXPECT_FALSE(ParseIndexFileName("2023111422132000").has_value());  // 16 digits
  EXPECT_FALSE(ParseIndexFileName("2023111422132000x").has_value());
  EXPECT_FALSE(ParseIndexFileName("20231314221320000").has_value());  // month 13
  EXPECT_FALSE(ParseIndexFileName("20230229221320000").has_value());  // not a leap year
  EXPECT_FALSE(ParseIndexFileName("20231114241320000").has_value());  // hour 24
}

TEST(IndexKeysTest, KeysAreSplitOnSpacesWithoutEmptyRepeatedOrOverlongOnes) {
  std::string long_key(kMaxIndexKeyBytes + 1, 'x');
  std::string max_key(kMaxIndexKeyBytes, 'y');
  std::string keys = "a  b a " + long_key + " " + max_key + " u";
  IndexRecord r{"T", keys, "u", 0, 1, 0};
  EXPECT_EQ(IndexKeysOf(r), (std::vector<std::string_view>{"u", "a", "b", max_key}));
  EXPECT_TRUE(IndexKeysOf(IndexRecord{"T", "", "", 0, 1, 0}).empty());
  EXPECT_TRUE(IndexKeysOf(IndexRecord{"T", "   ", "", 0, 1, 0}).empty());
  // The hash covers topic#key: the topic matters, and so does where the '#' falls.
  EXPECT_NE(IndexKeyHash("TopicA", "k"), IndexKeyHash("TopicB", "k"));
  // Both are "a#b#c"; topic names cannot hold '#', so a store never meets this.
  EXPECT_EQ(IndexKeyHash("a#b", "c"), IndexKeyHash("a", "b#c"));
}

TEST_P(IndexServiceTest, FindsRecordsByKeyAndByUniqueKey) {
  auto index = Open({8, 64});
  std::vector<Rec> records = {MakeRec(0, "order-1 buyer-7", "UNIQ0"),
                              MakeRec(1, "order-2", "UNIQ1"), MakeRec(2, "", "UNIQ2"),
                              MakeRec(3, "order-1", "UNIQ3"), MakeRec(4, "buyer-7 order-3")};
  records.push_back(MakeRec(5, "order-1", "UNIQ5"));
  records.back().topic = "TopicB";
  AddAll(index.get(), records);
  EXPECT_EQ(index->indexed_end(), 600);
  EXPECT_EQ(QueryAll(*index, "order-1"), (std::vector<int64_t>{300, 0}));
  EXPECT_EQ(QueryAll(*index, "order-1", "TopicB"), (std::vector<int64_t>{500}));
  EXPECT_EQ(QueryAll(*index, "buyer-7"), (std::vector<int64_t>{400, 0}));
  EXPECT_EQ(QueryAll(*index, "order-3"), (std::vector<int64_t>{400}));
  EXPECT_TRUE(QueryAll(*index, "order-9").empty());
  ASSERT_OK_AND_ASSIGN(auto by_id, index->QueryUniqueKey("TopicA", "UNIQ2", 32, kVisibleAll));
  EXPECT_EQ(by_id, (std::vector<int64_t>{200}));
  ASSERT_OK_AND_ASSIGN(by_id, index->QueryUniqueKey("TopicB", "UNIQ2", 32, kVisibleAll));
  EXPECT_TRUE(by_id.empty());
  // The visible limit hides what the store may not show yet.
  EXPECT_EQ(QueryAll(*index, "order-1", "TopicA", 100, 300), (std::vector<int64_t>{0}));
  EXPECT_EQ(index->file_count(), 1u);
  EXPECT_EQ(index->file_paths()[0], root_ + "/index/" + IndexFileName(kT0));
}

TEST_P(IndexServiceTest, PrefetchingTheNextRecordChangesNoResult) {
  std::vector<Rec> records;
  for (int i = 0; i < 30; ++i) {
    records.push_back(MakeRec(i, "k" + std::to_string(i % 4) + " all", "U" + std::to_string(i)));
  }
  auto index = Open({4, 16});  // rolls every 8 records: some prefetches go to the old file
  // As the dispatcher does: each Add after a Prefetch of the record that follows it.
  index->Prefetch(records[0].View());
  for (size_t i = 0; i < records.size(); ++i) {
    if (i + 1 < records.size()) index->Prefetch(records[i + 1].View());
    ASSERT_OK(index->Add(records[i].View()));
  }
  for (const char* key : {"k0", "k1", "k2", "k3", "all", "U7", "U29"}) {
    EXPECT_EQ(QueryAll(*index, key), Model(records, "TopicA", key, kVisibleAll)) << key;
  }
  // A prefetch of a record that is not the next one added is not used for another record.
  Rec skipped = MakeRec(30, "skipped", "USKIP");
  Rec added = MakeRec(31, "added", "UADD");
  index->Prefetch(skipped.View());
  ASSERT_OK(index->Add(added.View()));
  EXPECT_EQ(QueryAll(*index, "added"), (std::vector<int64_t>{added.offset}));
  EXPECT_TRUE(QueryAll(*index, "skipped").empty());
  // Nor after a truncation, where the log at that offset holds a different record.
  Rec before_cut = MakeRec(32, "before-cut");
  index->Prefetch(before_cut.View());
  ASSERT_OK(index->TruncateFrom(before_cut.offset));
  Rec after_cut = MakeRec(32, "after-cut");
  ASSERT_OK(index->Add(after_cut.View()));
  EXPECT_EQ(QueryAll(*index, "after-cut"), (std::vector<int64_t>{after_cut.offset}));
  EXPECT_TRUE(QueryAll(*index, "before-cut").empty());
}

TEST_P(IndexServiceTest, RejectsBadInput) {
  auto index = Open({8, 64});
  EXPECT_TRUE(index->Add(IndexRecord{"T", "k", "", 0, 0, kT0}).IsInvalidArgument());
  EXPECT_TRUE(index->Add(IndexRecord{"T", "k", "", -5, 10, kT0}).IsInvalidArgument());
  EXPECT_TRUE(index->Query("T", "", 0, kT0, 10, kVisibleAll).status().IsInvalidArgument());
  std::string long_key(kMaxIndexKeyBytes + 1, 'k');
  EXPECT_TRUE(index->Query("T", long_key, 0, kT0, 10, kVisibleAll).status().IsInvalidArgument());
  // An overlong key in a record is skipped; the record's other keys are indexed.
  ASSERT_OK(index->Add(MakeRec(0, long_key + " short").View()));
  EXPECT_EQ(QueryAll(*index, "short"), (std::vector<int64_t>{0}));
  EXPECT_TRUE(QueryAll(*index, "k").empty());
  EXPECT_TRUE(QueryAll(*index, "short", "TopicA", 0).empty());  // max_results 0
  ASSERT_OK_AND_ASSIGN(auto none, index->Query("TopicA", "short", kT0 + 5, kT0, 10, kVisibleAll));
  EXPECT_TRUE(none.empty());  // begin after end
  EXPECT_TRUE(IndexService(env_, root_, {0, 10}).Load().IsInvalidArgument());
}

// Three slots for 40 keys: every chain mixes keys, and only the stored hash tells them apart.
TEST_P(IndexServiceTest, ManyKeysSharingFewSlots) {
  auto index = Open({3, 4096});
  std::vector<Rec> records;
  for (int i = 0; i < 400; ++i) {
    records.push_back(MakeRec(
        i,
        "k" + std::to_string(i % 40) + " k" + std::to_string(i % 13) + " g" + std::to_string(i % 3),
        "id" + std::to_string(i)));
  }
  AddAll(index.get(), records);
  for (int k = 0; k < 40; ++k) {
    std::string key = "k" + std::to_string(k);
    EXPECT_EQ(QueryAll(*index, key), Model(records, "TopicA", key, kVisibleAll)) << key;
  }
  for (int i = 0; i < 400; i += 37) {
    std::string id = "id" + std::to_string(i);
    EXPECT_EQ(QueryAll(*index, id), (std::vector<int64_t>{kRecordSize * i}));
  }
  EXPECT_EQ(QueryAll(*index, "g1").size(), 133u);
}

// Two keys whose 32-bit hashes are equal (found by a birthday search): a query for either
// returns both records, which the store tells apart by reading them.
TEST_P(IndexServiceTest, HashCollisionsReturnEveryCandidate) {
  ASSERT_EQ(IndexKeyHash("TopicA", "key-96482"), IndexKeyHash("TopicA", "key-108440"));
  EXPECT_EQ(IndexKeyHash("TopicA", "key-96482"), 0x291173d5u);
  auto index = Open({1024, 64});
  AddAll(index.get(), {MakeRec(0, "key-96482"), MakeRec(1, "other"), MakeRec(2, "key-108440")});
  EXPECT_EQ(QueryAll(*index, "key-96482"), (std::vector<int64_t>{200, 0}));
  EXPECT_EQ(QueryAll(*index, "key-108440"), (std::vector<int64_t>{200, 0}));
}

TEST_P(IndexServiceTest, QueriesFilterByTimeAcrossFiles) {
  auto index = Open({4, 5});
  std::vector<Rec> records;
  for (int i = 0; i < 20; ++i) records.push_back(MakeRec(i, "k", "", kT0 + 1000 * i));
  AddAll(index.get(), records);
  EXPECT_EQ(index->file_count(), 4u);
  ASSERT_OK_AND_ASSIGN(auto hits,
                       index->Query("TopicA", "k", kT0 + 3500, kT0 + 7000, 100, kVisibleAll));
  EXPECT_EQ(hits, (std::vector<int64_t>{700, 600, 500, 400}));  // spans the first two files
  ASSERT_OK_AND_ASSIGN(hits, index->Query("TopicA", "k", kT0 + 19000, INT64_MAX, 100, kVisibleAll));
  EXPECT_EQ(hits, (std::vector<int64_t>{1900}));
  ASSERT_OK_AND_ASSIGN(hits, index->Query("TopicA", "k", 0, kT0, 100, kVisibleAll));
  EXPECT_EQ(hits, (std::vector<int64_t>{0}));
  ASSERT_OK_AND_ASSIGN(hits, index->Query("TopicA", "k", kT0 + 100, kT0 + 900, 100, kVisibleAll));
  EXPECT_TRUE(hits.empty());
}

TEST_P(IndexServiceTest, MaxResultsKeepsTheNewest) {
  auto index = Open({4, 3});
  std::vector<Rec> records;
  for (int i = 0; i < 10; ++i) records.push_back(MakeRec(i, "k"));
  AddAll(index.get(), records);
  EXPECT_EQ(QueryAll(*index, "k", "TopicA", 4), (std::vector<int64_t>{900, 800, 700, 600}));
  EXPECT_EQ(QueryAll(*index, "k", "TopicA", 1), (std::vector<int64_t>{900}));
  EXPECT_EQ(QueryAll(*index, "k", "TopicA", 2, 500), (std::vector<int64_t>{400, 300}));
}

TEST_P(IndexServiceTest, RollsWhenEntriesRunOutAndKeepsARecordInOneFile) {
  auto index = Open({2, 4});
  // 3 + 2 entries: the second record does not fit beside the first and starts file 2.
  AddAll(index.get(), {MakeRec(0, "a b c"), MakeRec(1, "a d"), MakeRec(2, "a"), MakeRec(3, "e"),
                       MakeRec(4, "a"), MakeRec(5, "")});
  std::vector<std::string> paths = index->file_paths();
  ASSERT_EQ(paths.size(), 3u);  // [rec 0], [rec 1, 2, 3], [rec 4, 5]
  EXPECT_TRUE(std::is_sorted(paths.begin(), paths.end()));
  EXPECT_EQ(paths[0], root_ + "/index/" + IndexFileName(kT0));
  EXPECT_EQ(paths[1], root_ + "/index/" + IndexFileName(kT0 + 1));
  EXPECT_EQ(QueryAll(*index, "a"), (std::vector<int64_t>{400, 200, 100, 0}));
  EXPECT_EQ(QueryAll(*index, "d"), (std::vector<int64_t>{100}));
  EXPECT_EQ(index->indexed_end(), 600);
  // More keys than a whole file holds: the record keeps the first four.
  ASSERT_OK(index->Add(MakeRec(6, "v w x y z").View()));
  EXPECT_EQ(QueryAll(*index, "y"), (std::vector<int64_t>{600}));
  EXPECT_TRUE(QueryAll(*index, "z").empty());
}

// A millisecond time diff is 32 bits: a record ~49.7 days after a file's first entry starts a
// new file even though there is room. Timestamps that go back are indexed as the last one.
TEST_P(IndexServiceTest, RollsBeforeTheTimeDiffOverflowsAndNeverGoesBackInTime) {
  auto index = Open({4, 100});
  constexpr int64_t kMaxDiff = 0xFFFFFFFFLL;
  AddAll(index.get(), {MakeRec(0, "k", "", kT0), MakeRec(1, "k", "", kT0 + kMaxDiff),
                       MakeRec(2, "k", "", kT0 + kMaxDiff + 1),
                       MakeRec(3, "k", "", kT0 + 5)});  // the clock went back
  EXPECT_EQ(index->file_count(), 2u);
  ASSERT_OK_AND_ASSIGN(auto hits,
                       index->Query("TopicA", "k", kT0 + kMaxDiff + 1, INT64_MAX, 10, kVisibleAll));
  EXPECT_EQ(hits, (std::vector<int64_t>{300, 200}));  // record 3 counts as kT0 + kMaxDiff + 1
  ASSERT_OK_AND_ASSIGN(hits, index->Query("TopicA", "k", kT0, kT0 + 10, 10, kVisibleAll));
  EXPECT_EQ(hits, (std::vector<int64_t>{0}));
}

TEST_P(IndexServiceTest, RecordsBelowTheIndexedEndAreIgnored) {
  auto index = Open({4, 16});
  AddAll(index.get(), {MakeRec(0, "k"), MakeRec(1, "k"), MakeRec(3, "k")});  // a gap at 200
  EXPECT_EQ(index->indexed_end(), 400);
  AddAll(index.get(), {MakeRec(1, "k"), MakeRec(2, "k"), MakeRec(3, "k")});
  EXPECT_EQ(QueryAll(*index, "k"), (std::vector<int64_t>{300, 100, 0}));
  EXPECT_EQ(index->indexed_end(), 400);
}

TEST_P(IndexServiceTest, ReopenAfterFlushFindsEverything) {
  std::vector<Rec> records;
  for (int i = 0; i < 50; ++i) {
    records.push_back(MakeRec(i, "k" + std::to_string(i % 7), "id" + std::to_string(i)));
  }
  records.push_back(MakeRec(50, ""));  // the end moves past records without keys too
  {
    auto index = Open({5, 16});
    AddAll(index.get(), records);
    EXPECT_EQ(index->durable_offset(), 0);
    ASSERT_OK(index->Flush());
    EXPECT_EQ(index->durable_offset(), 5100);
  }
  auto index = Open({5, 16});
  EXPECT_EQ(index->file_count(), 7u);  // 100 entries, 16 per file
  EXPECT_EQ(index->indexed_end(), 5100);
  EXPECT_EQ(index->durable_offset(), 5100);
  for (int k = 0; k < 7; ++k) {
    std::string key = "k" + std::to_string(k);
    EXPECT_EQ(QueryAll(*index, key), Model(records, "TopicA", key, kVisibleAll)) << key;
  }
  EXPECT_EQ(QueryAll(*index, "id17"), (std::vector<int64_t>{1700}));
  // The writer carries on after a reopen; a time behind the files' is indexed as their last.
  records.push_back(MakeRec(51, "k3", "", kT0));
  ASSERT_OK(index->Add(records.back().View()));
  EXPECT_EQ(QueryAll(*index, "k3"), Model(records, "TopicA", "k3", kVisibleAll));
  std::vector<std::string> paths = index->file_paths();
  EXPECT_TRUE(std::is_sorted(paths.begin(), paths.end()));
  ASSERT_OK_AND_ASSIGN(auto hits,
                       index->Query("TopicA", "k3", kT0 + 49, kT0 + 49, 10, kVisibleAll));
  EXPECT_EQ(hits, (std::vector<int64_t>{5100}));
}

TEST_P(IndexServiceTest, TruncateFromDropsEntriesAndWholeFiles) {
  std::vector<Rec> records;
  for (int i = 0; i < 40; ++i) records.push_back(MakeRec(i, "k" + std::to_string(i % 3) + " x"));
  auto index = Open({4, 16});  // 8 records per file
  AddAll(index.get(), records);
  ASSERT_EQ(index->file_count(), 5u);
  ASSERT_OK(index->TruncateFrom(1800));  // in the middle of file 3 (records 16..23)
  EXPECT_EQ(index->file_count(), 3u);
  EXPECT_EQ(index->indexed_end(), 1800);
  EXPECT_EQ(index->durable_offset(), 1800);
  EXPECT_EQ(QueryAll(*index, "x"), Model(records, "TopicA", "x", 1800));
  // Re-dispatch from the durable offset: records below it are ignored, the rest indexed.
  AddAll(index.get(), records);
  for (const char* key : {"k0", "k1", "k2", "x"}) {
    EXPECT_EQ(QueryAll(*index, key), Model(records, "TopicA", key, kVisibleAll)) << key;
  }
  ASSERT_OK(index->Flush());
  // Durable: a reopened index agrees.
  {
    auto reopened = Open({4, 16});
    EXPECT_EQ(reopened->indexed_end(), 4000);
    EXPECT_EQ(QueryAll(*reopened, "x"), Model(records, "TopicA", "x", kVisibleAll));
  }
  // Truncating below the first file removes every file.
  ASSERT_OK(index->TruncateFrom(0));
  EXPECT_EQ(index->file_count(), 0u);
  EXPECT_EQ(index->indexed_end(), 0);
  EXPECT_TRUE(QueryAll(*index, "x").empty());
  AddAll(index.get(), records);
  EXPECT_EQ(QueryAll(*index, "x"), Model(records, "TopicA", "x", kVisibleAll));
}

TEST(IndexServiceLoadTest, FilesCreatedButNeverFlushedAreRemoved) {
  auto env = NewMemEnv();
  ASSERT_OK(env->CreateDir("/store"));
  std::vector<Rec> records;
  for (int i = 0; i < 10; ++i) records.push_back(MakeRec(i, "k"));
  IndexService index(env.get(), "/store", {4, 4});
  ASSERT_OK(index.Load());
  for (int i = 0; i < 6; ++i) ASSERT_OK(index.Add(records[i].View()));
  ASSERT_OK(index.Flush());  // files 1 and 2 (records 0..5)
  for (int i = 6; i < 10; ++i) ASSERT_OK(index.Add(records[i].View()));  // file 3
  ASSERT_EQ(index.file_count(), 3u);
  auto image = env->CrashCopy({CrashMode::kDropUnsynced, 0});
  IndexService reopened(image.get(), "/store", {4, 4});
  ASSERT_OK(reopened.Load());
  EXPECT_EQ(reopened.file_count(), 2u);
  EXPECT_EQ(image->GetChildren("/store/index")->size(), 2u);
  EXPECT_EQ(reopened.durable_offset(), 600);
  EXPECT_EQ(QueryAll(reopened, "k"), Model(records, "TopicA", "k", 600));
}

// The store's recovery on a crash image: Load, TruncateFrom(recovered end), re-add from
// durable_offset(). Checks what the brief of the index promises at each step.
void RecoverAndCheck(Env* image, const IndexOptions& options, const std::vector<Rec>& records,
                     const std::vector<std::string>& keys, int64_t durable_before,
                     int64_t recovered_end) {
  IndexService index(image, "/store", options);
  ASSERT_OK(index.Load());
  ASSERT_GE(index.durable_offset(), durable_before);
  ASSERT_OK(index.TruncateFrom(recovered_end));
  const int64_t durable = index.durable_offset();
  ASSERT_GE(durable, std::min(durable_before, recovered_end));
  ASSERT_LE(durable, recovered_end);
  ASSERT_EQ(index.indexed_end(), durable);
  for (const std::string& key : keys) {
    // Everything below the durable offset is found, nothing at or past it is.
    ASSERT_EQ(QueryAll(index, key), Model(records, "TopicA", key, durable)) << key;
  }
  for (const Rec& r : records) {
    if (r.offset >= durable && r.offset < recovered_end) ASSERT_OK(index.Add(r.View()));
  }
  for (const std::string& key : keys) {
    ASSERT_EQ(QueryAll(index, key), Model(records, "TopicA", key, recovered_end)) << key;
  }
  ASSERT_OK(index.Flush());
  ASSERT_EQ(index.durable_offset(), recovered_end);
}

std::vector<std::string> CrashKeys(const std::vector<Rec>& records) {
  std::vector<std::string> keys = {"a", "b", "c", "d", "e"};
  for (const Rec& r : records) keys.push_back(r.uniq);
  return keys;
}

std::vector<Rec> CrashRecords(std::mt19937_64& rng, int n) {
  const char* kKeys[] = {"a", "b", "c", "d", "e", ""};
  std::vector<Rec> records;
  for (int i = 0; i < n; ++i) {
    std::string keys = std::string(kKeys[rng() % 6]) + " " + kKeys[rng() % 6];
    records.push_back(MakeRec(i, keys, "u" + std::to_string(i)));
  }
  return records;
}

// Power cuts at random points of a random workload, in every MemEnv crash mode: recovery
// never shows an offset at or past the recovered end, and finds every record below
// durable_offset().
TEST(IndexServiceCrashTest, PowerCutsAtRandomPoints) {
  const CrashMode kModes[] = {CrashMode::kDropUnsynced, CrashMode::kTornPrefix,
                              CrashMode::kRandomPages};
  const IndexOptions options{5, 12};
  for (uint64_t seed = 0; seed < 60; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    std::vector<Rec> records = CrashRecords(rng, 30 + static_cast<int>(rng() % 40));
    auto env = NewMemEnv();
    ASSERT_OK(env->CreateDir("/store"));
    IndexService index(env.get(), "/store", options);
    ASSERT_OK(index.Load());
    size_t crash_at = rng() % (records.size() + 1);
    int64_t durable_before = 0;
    for (size_t i = 0; i < crash_at; ++i) {
      ASSERT_OK(index.Add(records[i].View()));
      if (rng() % 8 == 0) {
        ASSERT_OK(index.Flush());
        durable_before = index.durable_offset();
      }
    }
    const int64_t indexed = index.indexed_end();
    ASSERT_EQ(durable_before, index.durable_offset());
    auto image = env->CrashCopy({kModes[seed % 3], seed});
    // The log recovered to a record boundary at or past what the store saw as durable.
    int64_t span = (indexed - durable_before) / kRecordSize;
    int64_t recovered_end =
        durable_before +
        kRecordSize * static_cast<int64_t>(rng() % static_cast<uint64_t>(span + 1));
    RecoverAndCheck(image.get(), options, records, CrashKeys(records), durable_before,
                    recovered_end);
    if (HasFatalFailure()) return;
    // And again on what that recovery left (its final Flush made everything durable).
    auto again = image->CrashCopy({CrashMode::kDropUnsynced, 0});
    RecoverAndCheck(again.get(), options, records, CrashKeys(records), recovered_end,
                    recovered_end);
    if (HasFatalFailure()) return;
  }
}

// A power cut before each file operation of a Flush (over several files, one of them new),
// of a TruncateFrom, and of the rolls in between.
TEST(IndexServiceCrashTest, PowerCutsInsideFlushTruncateAndRoll) {
  const CrashMode kModes[] = {CrashMode::kDropUnsynced, CrashMode::kTornPrefix,
                              CrashMode::kRandomPages};
  const IndexOptions options{5, 6};
  std::mt19937_64 rng(7);
  const std::vector<Rec> records = CrashRecords(rng, 40);
  const std::vector<std::string> keys = CrashKeys(records);
  for (uint64_t target = 0;; ++target) {
    bool reached = false;
    for (CrashMode mode : kModes) {
      SCOPED_TRACE(testing::Message() << "target " << target << " mode " << static_cast<int>(mode));
      auto base = NewMemEnv();
      ASSERT_OK(base->CreateDir("/store"));
      test::FaultInjectionEnv env(base.get());
      IndexService index(&env, "/store", options);
      ASSERT_OK(index.Load());
      for (size_t i = 0; i < 10; ++i) ASSERT_OK(index.Add(records[i].View()));
      ASSERT_OK(index.Flush());
      const int64_t durable_before = index.durable_offset();
      env.Arm(target, {mode, target});
      for (size_t i = 10; i < 30; ++i) ASSERT_OK(index.Add(records[i].View()));
      ASSERT_OK(index.Flush());
      ASSERT_OK(index.TruncateFrom(2200));
      for (size_t i = 22; i < 26; ++i) ASSERT_OK(index.Add(records[i].View()));
      env.Disarm();
      std::unique_ptr<MemEnv> image = env.TakeImage();
      if (!image) break;
      reached = true;
      // The store saw `durable_before` as durable; its log recovers to 2200.
      RecoverAndCheck(image.get(), options, records, keys, durable_before, 2200);
      if (HasFatalFailure()) return;
    }
    if (!reached) {
      EXPECT_GT(target, 10u);  // the sequence has more operations than that
      break;
    }
  }
}

// One writer, several readers: every answer is newest first, below the limit the reader
// saw, holds only records with that key, and misses none that was added before the query.
TEST(IndexServiceConcurrencyTest, ReadersNeverSeeTornOrMissingResults) {
  auto env = NewMemEnv();
  ASSERT_OK(env->CreateDir("/store"));
  IndexService index(env.get(), "/store", {64, 512});
  ASSERT_OK(index.Load());
  constexpr int kRecords = 20'000;
  constexpr int kKeys = 16;
  auto key_of = [](int64_t offset) { return static_cast<int>((offset / kRecordSize) % kKeys); };
  std::atomic<bool> done{false};
  std::atomic<int64_t> queries{0};
  std::atomic<int> failed{0};  // readers that stopped on a wrong answer
  std::vector<std::thread> readers;
  std::vector<std::string> failures(3);
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      while (!done.load(std::memory_order_acquire)) {
        int key = static_cast<int>(rng() % kKeys);
        int64_t limit = index.indexed_end();
        auto r =
            index.Query("TopicA", "k" + std::to_string(key), INT64_MIN, INT64_MAX, kRecords, limit);
        if (!r.ok()) {
          failures[t] = r.status().ToString();
          failed.fetch_add(1);
          return;
        }
        // Records of this key below `limit`: offsets 100 * (key + 16 j).
        std::vector<int64_t> expected;
        for (int64_t o = (limit / kRecordSize - 1) * kRecordSize; o >= 0; o -= kRecordSize) {
          if (key_of(o) == key) expected.push_back(o);
        }
        if (*r != expected) {
          failures[t] = "key " + std::to_string(key) + " limit " + std::to_string(limit) +
                        ": got " + std::to_string(r->size()) + " offsets, expected " +
                        std::to_string(expected.size());
          failed.fetch_add(1);
          return;
        }
        queries.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::thread flusher([&] {
    while (!done.load(std::memory_order_acquire)) {
      if (!index.Flush().ok()) return;
      std::this_thread::yield();
    }
  });
  for (int i = 0; i < kRecords; ++i) {
    Rec r = MakeRec(i, "k" + std::to_string(i % kKeys));
    ASSERT_OK(index.Add(r.View()));
    if (i % 500 == 0) {
      // Let the readers answer a few queries against this state before going on.
      int64_t seen = queries.load();
      while (queries.load() < seen + 3 && failed.load() == 0) std::this_thread::yield();
    }
  }
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  flusher.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");
  EXPECT_GE(queries.load(), 3 * (kRecords / 500));
  EXPECT_EQ(index.file_count(), static_cast<size_t>(kRecords / 512 + 1));
  ASSERT_OK(index.Flush());
  EXPECT_EQ(index.durable_offset(), kRecords * kRecordSize);
}

// ---- Retention: ApplyLogMinOffset ----

TEST_P(IndexServiceTest, ApplyLogMinOffsetRemovesFilesWhoseRecordsAreAllBelowIt) {
  std::vector<Rec> records;
  for (int i = 0; i < 40; ++i) records.push_back(MakeRec(i, "k" + std::to_string(i % 3) + " x"));
  auto index = Open({4, 16});  // 8 records per file: files begin at 0, 800, 1600, 2400, 3200
  AddAll(index.get(), records);
  ASSERT_EQ(index->file_count(), 5u);
  std::vector<std::string> paths = index->file_paths();
  ASSERT_OK_AND_ASSIGN(size_t removed, index->ApplyLogMinOffset(1700));
  EXPECT_EQ(removed, 2u);  // the file holding record 16 (at 1600) also holds live ones
  EXPECT_FALSE(env_->FileExists(paths[0]));
  EXPECT_FALSE(env_->FileExists(paths[1]));
  EXPECT_TRUE(env_->FileExists(paths[2]));
  std::vector<Rec> left(records.begin() + 16, records.end());
  EXPECT_EQ(QueryAll(*index, "x"), Model(left, "TopicA", "x", kVisibleAll));
  // A file ending exactly at the new start goes too; the last file never does.
  ASSERT_OK_AND_ASSIGN(removed, index->ApplyLogMinOffset(2400));
  EXPECT_EQ(removed, 1u);
  ASSERT_OK_AND_ASSIGN(removed, index->ApplyLogMinOffset(INT64_MAX));
  EXPECT_EQ(removed, 1u);
  EXPECT_EQ(index->file_count(), 1u);
  // The writer carries on, and a reopened index agrees.
  records.push_back(MakeRec(40, ""));  // no keys: fits in the full last file
  ASSERT_OK(index->Add(records.back().View()));
  ASSERT_OK(index->Flush());
  std::vector<Rec> last(records.begin() + 32, records.end());
  EXPECT_EQ(QueryAll(*index, "x"), Model(last, "TopicA", "x", kVisibleAll));
  auto reopened = Open({4, 16});
  EXPECT_EQ(reopened->file_count(), 1u);
  EXPECT_EQ(reopened->indexed_end(), 4100);
  EXPECT_EQ(QueryAll(*reopened, "x"), Model(last, "TopicA", "x", kVisibleAll));
}

TEST_P(IndexServiceTest, AddsAndQueriesRunWhileFilesAreRemoved) {
  constexpr int kRecords = 3000;
  IndexService index(env_, root_, IndexOptions{16, 32});
  ASSERT_OK(index.Load());
  std::atomic<bool> done{false};
  std::atomic<int> failed{0};
  std::thread writer([&] {
    for (int i = 0; i < kRecords; ++i) {
      if (!index.Add(MakeRec(i, "k" + std::to_string(i % 5)).View()).ok()) ++failed;
    }
    done = true;
  });
  std::thread reader([&] {
    while (!done.load()) {
      auto r = index.Query("TopicA", "k1", INT64_MIN, INT64_MAX, 50, kVisibleAll);
      if (!r.ok()) ++failed;
      // Newest first, and never a record without that key.
      for (size_t i = 0; r.ok() && i < r->size(); ++i) {
        if ((*r)[i] / kRecordSize % 5 != 1 || (i > 0 && (*r)[i] >= (*r)[i - 1])) ++failed;
      }
    }
  });
  size_t removed = 0;
  while (!done.load()) {
    auto r = index.ApplyLogMinOffset(index.indexed_end() / 2);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) removed += *r;
    EXPECT_OK(index.Flush());
  }
  writer.join();
  reader.join();
  // The writer may have finished before the first round (MemEnv is fast): one more.
  ASSERT_OK_AND_ASSIGN(size_t last_round, index.ApplyLogMinOffset(index.indexed_end() / 2));
  removed += last_round;
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(removed, 0u);
  EXPECT_EQ(index.indexed_end(), kRecords * kRecordSize);
  EXPECT_EQ(QueryAll(index, "k4", "TopicA", 1).front(), (kRecords - 1) * kRecordSize);
}

}  // namespace
}  // namespace mqstore
