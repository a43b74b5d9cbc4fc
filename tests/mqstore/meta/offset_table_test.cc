#include "meta/offset_table.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "meta/meta_codec.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::TempDir;

class MetaOffsetTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LmdbEnvOptions options;
    options.initial_map_bytes = 1 << 20;
    auto env = LmdbEnv::Open(dir_.Sub("meta"), options);
    ASSERT_OK(env.status());
    env_ = std::move(env).value();
    ASSERT_OK(env_->Write([&](LmdbWriteTxn& txn) {
      MQ_ASSIGN_OR_RETURN(offsets_db_, txn.OpenDb(kOffsetsDb, true));
      MQ_ASSIGN_OR_RETURN(index_db_, txn.OpenDb(kTopicGroupsDb, true));
      return Status::OK();
    }));
    table_ = std::make_unique<OffsetTable>(offsets_db_, index_db_);
  }

  void Put(std::string_view group, const ConsumerOffset& offset) {
    ASSERT_OK(env_->Write([&](LmdbWriteTxn& txn) { return table_->Put(txn, group, offset); }));
  }

  // The raw keys of a database, to check the index against the offsets.
  std::vector<std::string> Keys(const LmdbDb& db) {
    std::vector<std::string> keys;
    auto add = [&](std::string_view key, std::string_view) {
      keys.emplace_back(key);
      return Status::OK();
    };
    EXPECT_OK(env_->Read([&](LmdbReadTxn& txn) { return txn.ForEachWithPrefix(db, "", add); }));
    return keys;
  }

  // Every (topic, group) of the offsets, as topic_groups keys: must equal Keys(index_db_).
  std::vector<std::string> ExpectedIndex() {
    std::set<std::string> pairs;
    for (const std::string& key : Keys(offsets_db_)) {
      std::string_view group, topic;
      int32_t queue_id = 0;
      EXPECT_OK(DecodeOffsetKey(key, &group, &topic, &queue_id));
      pairs.insert(TopicGroupKey(topic, group));
    }
    return {pairs.begin(), pairs.end()};
  }

  TempDir dir_;
  std::unique_ptr<LmdbEnv> env_;
  LmdbDb offsets_db_, index_db_;
  std::unique_ptr<OffsetTable> table_;
};

TEST_F(MetaOffsetTableTest, PutGetAndOverwrite) {
  Put("G", {"T", 3, 10});
  Put("G", {"T", 3, 12});
  ASSERT_OK(env_->Read([&](LmdbReadTxn& txn) -> Status {
    MQ_ASSIGN_OR_RETURN(std::optional<int64_t> v, table_->Get(txn, "G", "T", 3));
    EXPECT_EQ(v, 12);
    MQ_ASSIGN_OR_RETURN(v, table_->Get(txn, "G", "T", 4));
    EXPECT_EQ(v, std::nullopt);
    return Status::OK();
  }));
  EXPECT_EQ(Keys(index_db_), ExpectedIndex());
}

TEST_F(MetaOffsetTableTest, ListsAGroupInTopicThenQueueOrder) {
  Put("G", {"T", 10, 1});
  Put("G", {"T", 2, 2});
  Put("G", {"A", 0, 3});
  Put("GG", {"T", 0, 4});  // a group whose name extends "G" is not part of it
  ASSERT_OK(env_->Read([&](LmdbReadTxn& txn) -> Status {
    MQ_ASSIGN_OR_RETURN(std::vector<ConsumerOffset> all, table_->ListGroup(txn, "G"));
    EXPECT_EQ(all, (std::vector<ConsumerOffset>{{"A", 0, 3}, {"T", 2, 2}, {"T", 10, 1}}));
    MQ_ASSIGN_OR_RETURN(std::vector<std::string> groups, table_->ListGroupsOfTopic(txn, "T"));
    EXPECT_EQ(groups, (std::vector<std::string>{"G", "GG"}));
    MQ_ASSIGN_OR_RETURN(groups, table_->ListGroupsOfTopic(txn, "A"));
    EXPECT_EQ(groups, (std::vector<std::string>{"G"}));
    return Status::OK();
  }));
}

TEST_F(MetaOffsetTableTest, DeleteGroupKeepsTheIndexInStep) {
  Put("G", {"T", 0, 1});
  Put("G", {"U", 1, 1});
  Put("H", {"T", 0, 1});
  uint64_t deleted = 0;
  ASSERT_OK(env_->Write([&](LmdbWriteTxn& txn) {
    MQ_ASSIGN_OR_RETURN(deleted, table_->DeleteGroup(txn, "G"));
    return Status::OK();
  }));
  EXPECT_EQ(deleted, 2u);
  EXPECT_EQ(Keys(index_db_), ExpectedIndex());
  EXPECT_EQ(Keys(index_db_), (std::vector<std::string>{TopicGroupKey("T", "H")}));
}

TEST_F(MetaOffsetTableTest, DeleteTopicRemovesEveryGroupsOffsetsForItOnly) {
  for (int q = 0; q < 50; ++q) {
    Put("G", {"T", q, q});
    Put("H", {"T", q, q});
    Put("H", {"TT", q, q});
  }
  uint64_t deleted = 0;
  ASSERT_OK(env_->Write([&](LmdbWriteTxn& txn) {
    MQ_ASSIGN_OR_RETURN(deleted, table_->DeleteTopic(txn, "T"));
    return Status::OK();
  }));
  EXPECT_EQ(deleted, 100u);
  EXPECT_EQ(Keys(offsets_db_).size(), 50u);
  EXPECT_EQ(Keys(index_db_), ExpectedIndex());
  EXPECT_EQ(Keys(index_db_), (std::vector<std::string>{TopicGroupKey("TT", "H")}));
}

}  // namespace
}  // namespace mqstore
