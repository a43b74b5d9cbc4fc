// StoreInspector::FindByKey and ReadByMessageId: records found through the hash index, read
// only, each candidate checked against its record (docs/format/hash_index.md).
#include "inspect/record_lookup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "index/index_service.h"
#include "mqstore/inspect.h"
#include "mqstore/inspect/keyed_store.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::KeyedPut;

class RecordLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    puts_ = test::CopyKeyedStore(dir_.path());
    ASSERT_EQ(puts_.size(), 40u);
    ASSERT_OK_AND_ASSIGN(inspector_, StoreInspector::Open(dir_.path()));
  }

  KeyQueryResult Find(const std::string& topic, const std::string& key, size_t max = 32) {
    KeyQuery q;
    q.topic = topic;
    q.key = key;
    q.max_results = max;
    auto r = inspector_->FindByKey(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : KeyQueryResult();
  }

  static std::vector<int64_t> Offsets(const KeyQueryResult& r) {
    std::vector<int64_t> out;
    for (const auto& e : r.records) out.push_back(e.offset);
    return out;
  }

  test::TempDir dir_;
  std::vector<KeyedPut> puts_;
  std::unique_ptr<StoreInspector> inspector_;
};

TEST_F(RecordLookupTest, FindsEveryRecordOfAKeyNewestFirstAcrossIndexFiles) {
  ASSERT_EQ(inspector_->layout().index_files.size(), 2u);
  // buyer-2 is on records 2, 12, 22, 32 (TopicA): in both index files.
  KeyQueryResult r = Find("TopicA", "buyer-2");
  EXPECT_TRUE(r.used_index);
  EXPECT_EQ(r.index_files, 2u);
  EXPECT_EQ(Offsets(r), (std::vector<int64_t>{
                            puts_[32].result.physical_offset, puts_[22].result.physical_offset,
                            puts_[12].result.physical_offset, puts_[2].result.physical_offset}));
  EXPECT_EQ(r.collisions, 0u);
  EXPECT_EQ(r.records[0].record.topic, "TopicA");

  // --limit, and a unique key.
  EXPECT_EQ(Offsets(Find("TopicA", "buyer-2", 1)),
            (std::vector<int64_t>{puts_[32].result.physical_offset}));
  EXPECT_EQ(Offsets(Find("TopicB", test::UniqueKeyOf(7))),
            (std::vector<int64_t>{puts_[7].result.physical_offset}));
}

TEST_F(RecordLookupTest, KeysOfAnotherTopicOrUnknownKeysFindNothing) {
  EXPECT_TRUE(Find("TopicB", "order-2").records.empty());  // order-2 is TopicA's
  KeyQueryResult none = Find("TopicA", "no-such-key");
  EXPECT_TRUE(none.records.empty());
  EXPECT_EQ(none.index_files, 2u);
  KeyQuery bad;
  bad.topic = "TopicA";
  EXPECT_TRUE(inspector_->FindByKey(bad).status().IsInvalidArgument());
}

TEST_F(RecordLookupTest, TimeRangeUsesIndexedTimes) {
  KeyQuery q;
  q.topic = "TopicA";
  q.key = "buyer-2";
  q.begin_ms = test::kKeyedStartMs + 12'000;  // records 12 and 22 only
  q.end_ms = test::kKeyedStartMs + 22'000;
  ASSERT_OK_AND_ASSIGN(KeyQueryResult r, inspector_->FindByKey(q));
  EXPECT_EQ(Offsets(r), (std::vector<int64_t>{puts_[22].result.physical_offset,
                                              puts_[12].result.physical_offset}));
}

TEST_F(RecordLookupTest, WithoutATopicTheLogIsScanned) {
  KeyQueryResult r = Find("", "buyer-3");  // records 3, 8, 13, ...: both topics
  EXPECT_FALSE(r.used_index);
  EXPECT_EQ(r.records_scanned, 40u);
  ASSERT_EQ(r.records.size(), 8u);
  EXPECT_EQ(r.records.front().offset, puts_[38].result.physical_offset);
  EXPECT_EQ(r.records.back().offset, puts_[3].result.physical_offset);
  EXPECT_EQ(Find("", "buyer-3", 2).records.size(), 2u);
}

TEST_F(RecordLookupTest, MessageIdIsAnOffsetIdOrElseAUniqueIdInTheTopic) {
  const KeyedPut& p = puts_[9];
  std::string offset_id = MakeOffsetMessageId(p.result.store_host, p.result.physical_offset);
  ASSERT_OK_AND_ASSIGN(MessageIdLookup by_offset, inspector_->ReadByMessageId(offset_id, ""));
  EXPECT_TRUE(by_offset.by_offset_id);
  EXPECT_EQ(by_offset.entry.offset, p.result.physical_offset);

  // The unique id decodes as an offset id of another host: the index decides.
  ASSERT_OK_AND_ASSIGN(MessageIdLookup by_unique,
                       inspector_->ReadByMessageId(p.unique_key, "TopicB"));
  EXPECT_FALSE(by_unique.by_offset_id);
  EXPECT_EQ(by_unique.entry.offset, p.result.physical_offset);

  EXPECT_TRUE(inspector_->ReadByMessageId(p.unique_key, "").status().IsNotFound());
  EXPECT_TRUE(inspector_->ReadByMessageId(p.unique_key, "TopicA").status().IsNotFound());
  // An offset id of this store's host at an offset where no record starts.
  std::string nowhere = MakeOffsetMessageId(p.result.store_host, p.result.physical_offset + 1);
  EXPECT_TRUE(inspector_->ReadByMessageId(nowhere, "TopicB").status().IsNotFound());
}

TEST(RecordLookupCollisionTest, CandidatesOfAnotherKeyWithTheSameHashAreCountedNotReturned) {
  // Two keys whose `TopicA#key` hashes are equal (a birthday search over fixed names).
  std::unordered_map<uint32_t, std::string> seen;
  std::string k1, k2;
  for (int i = 0; i < 2'000'000 && k2.empty(); ++i) {
    std::string key = "c-" + std::to_string(i);
    auto [it, inserted] = seen.emplace(IndexKeyHash("TopicA", key), key);
    if (!inserted) {
      k1 = it->second;
      k2 = key;
    }
  }
  ASSERT_FALSE(k2.empty());
  test::TempDir dir;
  {
    StoreOptions options;
    options.index_slots_per_file = 1;  // every key in one chain
    options.index_entries_per_file = 16;
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(options, dir.path()));
    for (const std::string& keys : {k1, std::string("other")}) {
      Message m = test::MakeMessage("TopicA", 0, "body", "", keys);
      std::string props;
      ASSERT_OK(store->Put(m.View(&props)).status());
    }
    ASSERT_OK(store->Close());
  }
  ASSERT_OK_AND_ASSIGN(auto inspector, StoreInspector::Open(dir.path()));
  KeyQuery q;
  q.topic = "TopicA";
  q.key = k2;
  ASSERT_OK_AND_ASSIGN(KeyQueryResult r, inspector->FindByKey(q));
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(r.candidates, 1u);
  EXPECT_EQ(r.collisions, 1u);
  q.key = k1;
  ASSERT_OK_AND_ASSIGN(r, inspector->FindByKey(q));
  EXPECT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.collisions, 0u);
}

TEST_F(RecordLookupTest, LookupsAndVerifyChangeNoFile) {
  std::map<std::string, std::string> before;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir_.path())) {
    if (f.is_regular_file()) before[f.path().string()] = test::ReadFile(f.path().string());
  }
  Find("TopicA", "buyer-2");
  Find("", "buyer-2");
  ASSERT_OK(inspector_->ReadByMessageId(puts_[3].unique_key, "TopicB").status());
  ASSERT_OK(inspector_->ReadMetadata().status());
  ASSERT_OK(inspector_->Verify({}).status());
  inspector_.reset();
  std::map<std::string, std::string> after;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir_.path())) {
    if (f.is_regular_file()) after[f.path().string()] = test::ReadFile(f.path().string());
  }
  ASSERT_EQ(before.size(), after.size());
  for (const auto& [path, bytes] : before) {
    // lock.mdb is LMDB's reader table (shared memory), rebuilt by every first opener.
    if (path.ends_with("/lock.mdb")) continue;
    EXPECT_TRUE(after[path] == bytes) << path << " changed";
  }
}

}  // namespace
}  // namespace mqstore
