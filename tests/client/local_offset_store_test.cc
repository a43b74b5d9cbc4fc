// LocalOffsetStore: the broadcasting consumer's offset file round-trips, is replaced whole,
// and refuses files that are not its own.
#include "local_offset_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mqstore/mem_env.h"

namespace mqclient {
namespace {

const OffsetTable kTable = {{{"Orders", "broker-a", 0}, 12},
                            {{"Orders", "broker-a", 1}, 0},
                            {{"Orders", "broker-b", 0}, 1234567890123}};

TEST(LocalOffsetStoreTest, EncodesTheDocumentedJson) {
  // docs/format/client-offsets.md shows this file.
  const std::string json = LocalOffsetStore::Encode("CID_B", {{{"Orders", "broker-a", 0}, 12}});
  EXPECT_EQ(json,
            "{\n"
            " \"consumerGroup\": \"CID_B\",\n"
            " \"offsetTable\": [\n"
            "  {\n"
            "   \"brokerName\": \"broker-a\",\n"
            "   \"offset\": 12,\n"
            "   \"queueId\": 0,\n"
            "   \"topic\": \"Orders\"\n"
            "  }\n"
            " ]\n"
            "}\n");
}

TEST(LocalOffsetStoreTest, SavedTablesLoadBackAndReplaceEachOther) {
  std::unique_ptr<mqstore::MemEnv> env = mqstore::NewMemEnv();
  LocalOffsetStore store(env.get(), "/home/u/.mqclient_offsets/CID_B/offsets.json", "CID_B");
  Result<OffsetTable> none = store.Load();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());

  ASSERT_TRUE(store.Save(kTable).ok());
  Result<OffsetTable> loaded = store.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, kTable);

  OffsetTable smaller = {{{"Orders", "broker-a", 0}, 13}};
  ASSERT_TRUE(store.Save(smaller).ok());
  EXPECT_EQ(*store.Load(), smaller);
  EXPECT_FALSE(env->FileExists(store.path() + ".tmp"));
}

TEST(LocalOffsetStoreTest, FilesThatAreNotThisGroupsTableAreRefused) {
  const std::string other = LocalOffsetStore::Encode("CID_OTHER", kTable);
  Result<OffsetTable> decoded = LocalOffsetStore::Decode("CID_B", other);
  ASSERT_TRUE(decoded.status().IsCorruption());
  EXPECT_NE(decoded.status().message().find("CID_OTHER"), std::string::npos);
  for (const char* bad : {
           "",
           "[]",
           "{\"consumerGroup\":\"CID_B\"}",
           "{\"consumerGroup\":\"CID_B\",\"offsetTable\":{}}",
           "{\"consumerGroup\":\"CID_B\",\"offsetTable\":[{\"topic\":\"T\",\"brokerName\":\"b\","
           "\"queueId\":0}]}",
           "{\"consumerGroup\":\"CID_B\",\"offsetTable\":[{\"topic\":\"T\",\"brokerName\":\"b\","
           "\"queueId\":0,\"offset\":-1}]}",
           "{\"consumerGroup\":\"CID_B\",\"offsetTable\":[{\"topic\":\"T\",\"brokerName\":\"b\","
           "\"queueId\":4294967296,\"offset\":1}]}",
           "{\"consumerGroup\":\"CID_B\",\"offsetTable\":[{\"topic\":\"\",\"brokerName\":\"b\","
           "\"queueId\":0,\"offset\":1}]}",
           "{\"consumerGroup\":\"CID_B\",\"offsetTable\":[{\"topic\":\"T\",\"brokerName\":\"b\","
           "\"queueId\":\"0\",\"offset\":1}]}",
       }) {
    EXPECT_TRUE(LocalOffsetStore::Decode("CID_B", bad).status().IsCorruption()) << bad;
  }
}

TEST(LocalOffsetStoreTest, ADamagedFileFailsTheLoadNamingIt) {
  std::unique_ptr<mqstore::MemEnv> env = mqstore::NewMemEnv();
  const std::string path = "/offsets/CID_B/offsets.json";
  ASSERT_TRUE(env->CreateDir("/offsets/CID_B").ok());
  {
    auto file = env->OpenFile(path, mqstore::OpenMode::kCreate);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Write(0, "{\"consumerGroup\":\"CID_B\",\"offsetTa").ok());
  }
  LocalOffsetStore store(env.get(), path, "CID_B");
  Result<OffsetTable> loaded = store.Load();
  ASSERT_TRUE(loaded.status().IsCorruption());
  EXPECT_NE(loaded.status().ToString().find(path), std::string::npos);
}

TEST(LocalOffsetTableTest, MergesIntoWhatWasSavedAndFindsIt) {
  std::unique_ptr<mqstore::MemEnv> env = mqstore::NewMemEnv();
  const std::string path = "/offsets/CID_B/offsets.json";
  const MessageQueue q0{"Orders", "broker-a", 0};
  const MessageQueue q1{"Orders", "broker-a", 1};
  {
    auto table = LocalOffsetTable::Open(env.get(), path, "CID_B");
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    EXPECT_EQ((*table)->Find(q0), std::nullopt);
    ASSERT_TRUE((*table)->Merge(OffsetTable{{q0, 5}}).ok());
    EXPECT_EQ((*table)->Find(q0), 5);
    // A queue not named keeps its offset.
    ASSERT_TRUE((*table)->Merge(std::vector<std::pair<MessageQueue, int64_t>>{{q1, 7}}).ok());
    EXPECT_EQ((*table)->Find(q0), 5);
    EXPECT_EQ((*table)->Find(q1), 7);
    EXPECT_EQ((*table)->path(), path);
  }
  EXPECT_EQ(*LocalOffsetStore(env.get(), path, "CID_B").Load(), (OffsetTable{{q0, 5}, {q1, 7}}));
  auto reopened = LocalOffsetTable::Open(env.get(), path, "CID_B");
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->Find(q1), 7);
  // Another group's file is not opened.
  EXPECT_TRUE(LocalOffsetTable::Open(env.get(), path, "CID_OTHER").status().IsCorruption());
}

TEST(LocalOffsetTableTest, AFailedSaveLeavesTheTableAsSavedAndGoesWithTheNext) {
  std::unique_ptr<mqstore::MemEnv> env = mqstore::NewMemEnv();
  // The offset file's directory is a file: no save can succeed.
  {
    auto blocker = env->OpenFile("/blocked", mqstore::OpenMode::kCreate);
    ASSERT_TRUE(blocker.ok()) << blocker.status().ToString();
  }
  auto table = LocalOffsetTable::Open(env.get(), "/blocked/offsets.json", "CID_B");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const MessageQueue q0{"Orders", "broker-a", 0};
  const MessageQueue q1{"Orders", "broker-a", 1};
  EXPECT_FALSE((*table)->Merge(OffsetTable{{q0, 5}}).ok());
  EXPECT_EQ((*table)->Find(q0), std::nullopt);
  // Once saves work again, the failed merge's offsets go with the next one.
  ASSERT_TRUE(env->RemoveFile("/blocked").ok());
  ASSERT_TRUE((*table)->Merge(OffsetTable{{q1, 7}}).ok());
  EXPECT_EQ((*table)->Find(q0), 5);
  EXPECT_EQ(*LocalOffsetStore(env.get(), "/blocked/offsets.json", "CID_B").Load(),
            (OffsetTable{{q0, 5}, {q1, 7}}));
}

}  // namespace
}  // namespace mqclient
