// StoreInspector::ReadMetadata and Verify on meta/: what the store committed is listed, and
// damaged or inconsistent entries are reported by database and key (docs/format/meta.md).
#include "inspect/meta_verifier.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "meta/lmdb_env.h"
#include "meta/meta_codec.h"
#include "mqstore/inspect/keyed_store.h"
#include "mqstore/metadata.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::RunVerify;
using test::VerifyResult;

class MetaVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(test::CopyKeyedStore(dir_.path()).size(), 40u); }

  std::string MetaDir() const { return dir_.Sub("meta"); }
  std::string DataPath() const { return dir_.Sub("meta/data.mdb"); }

  // Writes `key` = `value` into database `db` of meta/, behind the metadata store's back.
  void PutRaw(std::string_view db_name, const std::string& key, const std::string& value) {
    LmdbEnvOptions options;
    options.create_if_missing = false;
    ASSERT_OK_AND_ASSIGN(auto env, LmdbEnv::Open(MetaDir(), options));
    ASSERT_OK(env->Write([&](LmdbWriteTxn& txn) -> Status {
      MQ_ASSIGN_OR_RETURN(LmdbDb db, txn.OpenDb(db_name, /*create=*/false));
      return txn.Put(db, key, value);
    }));
  }

  test::TempDir dir_;
};

TEST_F(MetaVerifierTest, ReadMetadataListsWhatTheStoreCommitted) {
  ASSERT_OK_AND_ASSIGN(auto inspector, StoreInspector::Open(dir_.path()));
  ASSERT_OK_AND_ASSIGN(MetadataSnapshot m, inspector->ReadMetadata());
  EXPECT_EQ(m.dir, MetaDir());
  ASSERT_EQ(m.topics.size(), 2u);
  EXPECT_EQ(m.topics[0].name, "TopicA");
  EXPECT_EQ(m.topics[1].read_queue_nums, 2);
  ASSERT_EQ(m.groups.size(), 1u);
  EXPECT_EQ(m.groups[0].group_name, "Billing");
  ASSERT_EQ(m.offsets.size(), 2u);
  EXPECT_EQ(m.offsets[1].group, "Billing");
  EXPECT_EQ(m.offsets[1].offset, (ConsumerOffset{"TopicA", 1, 2}));
  ASSERT_EQ(m.schedule.size(), 1u);
  EXPECT_EQ(m.schedule[0], (ScheduleProgress{"delay-level-3", 17, test::kKeyedStartMs}));
}

TEST_F(MetaVerifierTest, AValueThatDoesNotDecodeIsCorruptionNamingItsKey) {
  PutRaw(kTopicsDb, "TopicA", std::string("\x01\x00", 2));
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_FALSE(v.summary.clean());
  EXPECT_TRUE(v.Has(Severity::kCorruption, DataPath(), -1, "topics['TopicA']")) << v.Dump();
  ASSERT_OK_AND_ASSIGN(auto inspector, StoreInspector::Open(dir_.path()));
  EXPECT_TRUE(inspector->ReadMetadata().status().IsCorruption());
}

TEST_F(MetaVerifierTest, OffsetsAreCheckedAgainstTopicsQueuesAndTheirIndex) {
  PutRaw(kOffsetsDb, OffsetKey("Billing", "Ghost", 0), EncodeOffsetValue(5));    // no topic
  PutRaw(kOffsetsDb, OffsetKey("Billing", "TopicB", 7), EncodeOffsetValue(1));   // queue 7 of 2
  PutRaw(kOffsetsDb, OffsetKey("Billing", "TopicB", 0), EncodeOffsetValue(99));  // past the end
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.summary.clean()) << v.Dump();
  EXPECT_TRUE(v.Has(Severity::kWarning, DataPath(), -1, "'Ghost' is not registered")) << v.Dump();
  EXPECT_TRUE(v.Has(Severity::kNote, DataPath(), -1, "queue id 7 is not one of the topic's 2"))
      << v.Dump();
  EXPECT_TRUE(v.Has(Severity::kNote, DataPath(), -1, "offset 99 is past the queue's last"))
      << v.Dump();
  EXPECT_TRUE(v.Has(Severity::kWarning, DataPath(), -1, "missing from topic_groups")) << v.Dump();
}

TEST_F(MetaVerifierTest, AnEnvironmentThatIsNotLmdbIsCorruption) {
  std::filesystem::remove(dir_.Sub("meta/lock.mdb"));
  { std::ofstream(DataPath(), std::ios::trunc) << std::string(8192, 'x'); }
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_FALSE(v.summary.clean());
  EXPECT_FALSE(v.summary.metadata_checked);
  EXPECT_TRUE(v.Has(Severity::kCorruption, DataPath(), -1, "cannot be read")) << v.Dump();
}

TEST_F(MetaVerifierTest, MetadataOpenInThisProcessIsANoteNotAFailure) {
  StoreOptions options;
  options.commitlog_segment_bytes = 64 * 1024;  // as the store was made
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(options, dir_.path()));
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.summary.clean()) << v.Dump();
  EXPECT_FALSE(v.summary.metadata_checked);
  EXPECT_TRUE(v.Has(Severity::kNote, MetaDir(), -1, "already open in this process")) << v.Dump();
  ASSERT_OK(store->Close());
}

TEST_F(MetaVerifierTest, AStoreWithoutMetaHasNothingToRead) {
  std::filesystem::remove_all(MetaDir());
  ASSERT_OK_AND_ASSIGN(auto inspector, StoreInspector::Open(dir_.path()));
  EXPECT_TRUE(inspector->ReadMetadata().status().IsNotFound());
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.summary.clean()) << v.Dump();
  EXPECT_FALSE(v.summary.metadata_checked);
}

}  // namespace
}  // namespace mqstore
