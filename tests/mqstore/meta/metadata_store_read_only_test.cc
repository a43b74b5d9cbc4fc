// MetadataOptions::read_only: an existing store opened with MDB_RDONLY reads everything,
// refuses every change with kFailedPrecondition, and leaves data.mdb as it was.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "meta/lmdb_env.h"
#include "meta/metadata_store_impl.h"
#include "mqstore/metadata.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

MetadataOptions ReadOnly() {
  MetadataOptions o;
  o.read_only = true;
  return o;
}

class MetadataReadOnlyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(auto meta, OpenMetadataStore(dir_, {}));
    TopicConfig topic;
    topic.name = "Orders";
    topic.read_queue_nums = topic.write_queue_nums = 4;
    ASSERT_OK(meta->PutTopic(topic));
    ConsumerOffset offsets[] = {{"Orders", 1, 42}};
    ASSERT_OK(meta->CommitOffsets("Billing", offsets));
    ScheduleProgress progress[] = {{"delay-level-1", 3, 4}};
    ASSERT_OK(meta->CommitScheduleProgress(progress));
  }

  test::TempDir tmp_;
  std::string dir_ = tmp_.Sub("meta");
};

TEST_F(MetadataReadOnlyTest, ReadsEverythingAndRefusesEveryChange) {
  const std::string data_before = ReadAll(dir_ + "/data.mdb");
  {
    ASSERT_OK_AND_ASSIGN(auto meta, OpenMetadataStore(dir_, ReadOnly()));
    ASSERT_OK_AND_ASSIGN(TopicConfig topic, meta->GetTopic("Orders"));
    EXPECT_EQ(topic.read_queue_nums, 4);
    ASSERT_OK_AND_ASSIGN(int64_t offset, meta->GetOffset("Billing", "Orders", 1));
    EXPECT_EQ(offset, 42);
    ASSERT_OK_AND_ASSIGN(auto groups, meta->GetGroupsOfTopic("Orders"));
    EXPECT_EQ(groups, std::vector<std::string>{"Billing"});
    ASSERT_OK_AND_ASSIGN(auto progress, meta->LoadScheduleProgress());
    EXPECT_EQ(progress.size(), 1u);

    TopicConfig other;
    other.name = "Other";
    EXPECT_EQ(meta->PutTopic(other).code(), Status::Code::kFailedPrecondition);
    EXPECT_EQ(meta->DeleteTopic("Orders").code(), Status::Code::kFailedPrecondition);
    ConsumerOffset offsets[] = {{"Orders", 1, 43}};
    EXPECT_EQ(meta->CommitOffsets("Billing", offsets).code(), Status::Code::kFailedPrecondition);
    EXPECT_EQ(meta->DeleteGroupOffsets("Billing").status().code(),
              Status::Code::kFailedPrecondition);
    ASSERT_OK_AND_ASSIGN(offset, meta->GetOffset("Billing", "Orders", 1));
    EXPECT_EQ(offset, 42);
  }
  EXPECT_TRUE(ReadAll(dir_ + "/data.mdb") == data_before);
}

TEST_F(MetadataReadOnlyTest, WithoutALockFileNothingIsCreated) {
  std::filesystem::remove(dir_ + "/lock.mdb");
  {
    ASSERT_OK_AND_ASSIGN(auto meta, OpenMetadataStore(dir_, ReadOnly()));
    ASSERT_OK_AND_ASSIGN(auto topics, meta->ListTopics());
    EXPECT_EQ(topics.size(), 1u);
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/lock.mdb"));
}

TEST_F(MetadataReadOnlyTest, AMissingStoreIsNotFoundAndNotCreated) {
  MetadataOptions options = ReadOnly();
  options.create_if_missing = true;  // ignored when read-only
  EXPECT_TRUE(OpenMetadataStore(tmp_.Sub("none"), options).status().IsNotFound());
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("none")));
}

TEST_F(MetadataReadOnlyTest, AnotherLmdbEnvironmentIsCorruption) {
  LmdbEnvOptions options;
  options.initial_map_bytes = 64 << 10;
  {
    ASSERT_OK_AND_ASSIGN(auto env, LmdbEnv::Open(tmp_.Sub("other"), options));
    ASSERT_OK(env->Write([](LmdbWriteTxn& txn) -> Status {
      MQ_ASSIGN_OR_RETURN(LmdbDb db, txn.OpenDb("t", /*create=*/true));
      return txn.Put(db, "k", "v");
    }));
  }
  EXPECT_TRUE(OpenMetadataStore(tmp_.Sub("other"), ReadOnly()).status().IsCorruption());
}

TEST_F(MetadataReadOnlyTest, DatabaseHandlesOpenedInAReadTransactionOutliveIt) {
  LmdbEnvOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto env, LmdbEnv::Open(dir_, options));
  LmdbDb topics;
  ASSERT_OK(env->Read([&](LmdbReadTxn& txn) -> Status {
    MQ_ASSIGN_OR_RETURN(topics, txn.OpenExistingDb("topics"));
    return Status::OK();
  }));
  std::optional<std::string> value;
  ASSERT_OK(env->Read([&](LmdbReadTxn& txn) -> Status {
    MQ_ASSIGN_OR_RETURN(auto v, txn.Get(topics, "Orders"));
    if (v) value = std::string(*v);
    return Status::OK();
  }));
  EXPECT_TRUE(value.has_value());
  EXPECT_EQ(env->Write([](LmdbWriteTxn&) { return Status::OK(); }).code(),
            Status::Code::kFailedPrecondition);
}

}  // namespace
}  // namespace mqstore
