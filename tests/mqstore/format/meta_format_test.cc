// Golden bytes for docs/format/meta.md.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "meta/lmdb_env.h"
#include "meta/meta_codec.h"
#include "mqstore/format/golden.h"
#include "mqstore/metadata.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::Hex;
using test::HexLines;
using test::ReadFormatDoc;
using test::TempDir;

TopicConfig ExampleTopic() {
  TopicConfig c;
  c.name = "Orders";
  c.read_queue_nums = 8;
  c.write_queue_nums = 8;
  c.attributes = {{"message.type", "NORMAL"}};
  return c;
}

SubscriptionGroupConfig ExampleGroup() {
  SubscriptionGroupConfig c;
  c.group_name = "Billing";
  return c;
}

const ScheduleProgress kExampleSchedule{"delay-level-3", 17, 1'700'000'000'000};

// Checks that docs/format/meta.md shows `bytes` as HexLines() prints them.
void ExpectInDoc(std::string_view bytes) {
  std::string doc = ReadFormatDoc("meta.md");
  ASSERT_FALSE(doc.empty()) << "docs/format/meta.md is missing";
  EXPECT_NE(doc.find(HexLines(bytes)), std::string::npos) << "meta.md must show:\n"
                                                          << HexLines(bytes);
}

TEST(MetaFormatTest, TopicValue) {
  std::string value = EncodeTopicValue(ExampleTopic());
  // clang-format off
  EXPECT_EQ(Hex(value),
            "01" "00000008" "00000008" "00000006"      // version, read, write, perm
            "00" "00" "00000000"                       // SINGLE_TAG, flags, sys flag
            "0001" "000c" "6d6573736167652e74797065"   // 1 attribute, "message.type"
            "0006" "4e4f524d414c");                    // "NORMAL"
  // clang-format on
  ExpectInDoc(value);
}

TEST(MetaFormatTest, GroupValueWithRocketMQDefaults) {
  std::string value = EncodeGroupValue(ExampleGroup());
  // clang-format off
  EXPECT_EQ(Hex(value),
            "01" "17" "00000001" "00000010"            // version, flags, retry queues, retries
            "0000000000000000" "0000000000000001"      // broker id, when slow
            "00000000" "0000000f" "0000");             // sys flag, timeout, 0 attributes
  // clang-format on
  ExpectInDoc(value);
}

TEST(MetaFormatTest, OffsetKeyValueAndIndexKey) {
  std::string key = OffsetKey("Billing", "Orders", 3);
  EXPECT_EQ(Hex(key),
            "42696c6c696e6700"
            "4f726465727300"
            "00000003");
  std::string value = EncodeOffsetValue(42);
  EXPECT_EQ(Hex(value),
            "01"
            "000000000000002a");
  std::string index = TopicGroupKey("Orders", "Billing");
  EXPECT_EQ(Hex(index),
            "4f726465727300"
            "42696c6c696e67");
  ExpectInDoc(key);
  ExpectInDoc(value);
  ExpectInDoc(index);
}

TEST(MetaFormatTest, ScheduleValue) {
  std::string value = EncodeScheduleValue(kExampleSchedule);
  EXPECT_EQ(Hex(value),
            "01"
            "0000000000000011"
            "0000018bcfe56800");
  ExpectInDoc(value);
}

TEST(MetaFormatTest, FormatVersionIsOneAndValuesStartWithVersionOne) {
  EXPECT_EQ(Hex(EncodeFormatVersion(kMetaFormatVersion)), "00000001");
  EXPECT_EQ(kMetaValueVersion, 1);
}

// Reads every (database, key, value) the store wrote, through LMDB directly.
std::vector<std::string> Dump(const std::string& dir) {
  std::vector<std::string> rows;
  auto env = LmdbEnv::Open(dir, {});
  EXPECT_OK(env.status());
  if (!env.ok()) return rows;
  std::vector<LmdbDb> dbs;
  EXPECT_OK((*env)->Write([&](LmdbWriteTxn& txn) {
    dbs.clear();
    for (std::string_view name :
         {kStoreInfoDb, kTopicsDb, kGroupsDb, kOffsetsDb, kTopicGroupsDb, kScheduleDb}) {
      MQ_ASSIGN_OR_RETURN(LmdbDb db, txn.OpenDb(name, false));
      dbs.push_back(db);
    }
    MQ_ASSIGN_OR_RETURN(LmdbDb main, txn.OpenMainDb());
    dbs.push_back(main);
    return Status::OK();
  }));
  for (const LmdbDb& db : dbs) {
    auto add = [&](std::string_view key, std::string_view value) {
      rows.push_back((db.name.empty() ? std::string("(main)") : db.name) + " " + Hex(key) +
                     (db.name.empty() ? "" : " " + Hex(value)));
      return Status::OK();
    };
    EXPECT_OK((*env)->Read([&](LmdbReadTxn& txn) { return txn.ForEachWithPrefix(db, "", add); }));
  }
  return rows;
}

TEST(MetaFormatTest, TheStoreWritesExactlyTheDocumentedEntries) {
  TempDir tmp;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetadataStore> meta,
                         OpenMetadataStore(tmp.Sub("meta"), {}));
    ASSERT_OK(meta->PutTopic(ExampleTopic()));
    ASSERT_OK(meta->PutSubscriptionGroup(ExampleGroup()));
    ASSERT_OK(meta->CommitOffsets("Billing", std::vector<ConsumerOffset>{{"Orders", 3, 42}}));
    ASSERT_OK(meta->CommitScheduleProgress(std::vector<ScheduleProgress>{kExampleSchedule}));
  }
  auto hex = [](std::string_view s) { return Hex(s); };
  std::vector<std::string> expected = {
      "store_info " + hex("format_version") + " 00000001",
      "topics " + hex("Orders") + " " + Hex(EncodeTopicValue(ExampleTopic())),
      "groups " + hex("Billing") + " " + Hex(EncodeGroupValue(ExampleGroup())),
      "offsets " + Hex(OffsetKey("Billing", "Orders", 3)) + " " + Hex(EncodeOffsetValue(42)),
      "topic_groups " + Hex(TopicGroupKey("Orders", "Billing")) + " ",
      "schedule " + hex("delay-level-3") + " " + Hex(EncodeScheduleValue(kExampleSchedule)),
  };
  // The unnamed database lists the named ones, sorted.
  for (std::string_view name :
       {"groups", "offsets", "schedule", "store_info", "topic_groups", "topics"}) {
    expected.push_back("(main) " + hex(name));
  }
  EXPECT_EQ(Dump(tmp.Sub("meta")), expected);
}

}  // namespace
}  // namespace mqstore
