// FileProgressStore: the schedule progress table of stores without LMDB metadata. Commits
// replace the whole table atomically; a crash leaves the old or the new table; damage is
// reported, never silently read as an empty table.
#include "schedule/file_progress_store.h"

#include <gtest/gtest.h>

#include <vector>

#include "mqstore/mem_env.h"

namespace mqstore {
namespace {

constexpr const char* kPath = "/store/schedule_progress";

class FileProgressStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_->CreateDir("/store").ok()); }

  std::unique_ptr<FileProgressStore> Open(Env* env) {
    auto opened = FileProgressStore::Open(env, kPath);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }
  static std::optional<ScheduleProgressEntry> Get(FileProgressStore& store, std::string_view name) {
    auto loaded = store.Load(name);
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    return loaded.ok() ? *loaded : std::nullopt;
  }

  std::unique_ptr<MemEnv> env_ = NewMemEnv();
};

TEST_F(FileProgressStoreTest, MissingFileIsAnEmptyTable) {
  auto store = Open(env_.get());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Get(*store, "delay-level-1"), std::nullopt);
  EXPECT_FALSE(env_->FileExists(kPath));
}

TEST_F(FileProgressStoreTest, CommitsAreReadBackAfterReopenAndLaterEntriesWin) {
  auto store = Open(env_.get());
  std::vector<ScheduleProgressEntry> first = {{"delay-level-1", 10, 1000}, {"timer-log", 96, 0}};
  ASSERT_TRUE(store->Commit(first).ok());
  std::vector<ScheduleProgressEntry> second = {{"delay-level-1", 11, 2000},
                                               {"delay-level-1", 12, 3000}};
  ASSERT_TRUE(store->Commit(second).ok());
  EXPECT_EQ(Get(*store, "delay-level-1"), (ScheduleProgressEntry{"delay-level-1", 12, 3000}));

  auto reopened = Open(env_.get());
  EXPECT_EQ(Get(*reopened, "delay-level-1"), (ScheduleProgressEntry{"delay-level-1", 12, 3000}));
  EXPECT_EQ(Get(*reopened, "timer-log"), (ScheduleProgressEntry{"timer-log", 96, 0}));
}

TEST_F(FileProgressStoreTest, ACommitSurvivesACrashOnceItReturned) {
  auto store = Open(env_.get());
  ASSERT_TRUE(store->Commit(std::vector<ScheduleProgressEntry>{{"a", 1, 1}}).ok());
  ASSERT_TRUE(store->Commit(std::vector<ScheduleProgressEntry>{{"a", 2, 2}, {"b", 3, 3}}).ok());
  for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kTornPrefix, CrashMode::kRandomPages}) {
    std::unique_ptr<MemEnv> crashed = env_->CrashCopy({mode, 7});
    auto reopened = Open(crashed.get());
    ASSERT_NE(reopened, nullptr);
    EXPECT_EQ(Get(*reopened, "a"), (ScheduleProgressEntry{"a", 2, 2}));
    EXPECT_EQ(Get(*reopened, "b"), (ScheduleProgressEntry{"b", 3, 3}));
  }
}

TEST_F(FileProgressStoreTest, InvalidEntriesAreRejectedAndNothingChanges) {
  auto store = Open(env_.get());
  ASSERT_TRUE(store->Commit(std::vector<ScheduleProgressEntry>{{"a", 1, 1}}).ok());
  std::vector<ScheduleProgressEntry> bad = {{"a", 5, 5}, {"b", -1, 0}};
  EXPECT_TRUE(store->Commit(bad).IsInvalidArgument());
  std::vector<ScheduleProgressEntry> unnamed = {{"", 1, 1}};
  EXPECT_TRUE(store->Commit(unnamed).IsInvalidArgument());
  EXPECT_EQ(Get(*store, "a"), (ScheduleProgressEntry{"a", 1, 1}));
  EXPECT_EQ(Get(*Open(env_.get()), "a"), (ScheduleProgressEntry{"a", 1, 1}));
}

TEST_F(FileProgressStoreTest, EveryDamagedByteIsReportedAsCorruption) {
  std::map<std::string, ScheduleProgressEntry, std::less<>> table = {
      {"delay-level-3", {"delay-level-3", 77, 123456}}, {"timer-log", {"timer-log", 4800, 9}}};
  std::string encoded = FileProgressStore::Encode(table);
  std::map<std::string, ScheduleProgressEntry, std::less<>> decoded;
  ASSERT_TRUE(FileProgressStore::Decode(encoded, &decoded).ok());
  EXPECT_EQ(decoded, table);
  for (size_t i = 0; i < encoded.size(); ++i) {
    std::string damaged = encoded;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x40);
    EXPECT_TRUE(FileProgressStore::Decode(damaged, &decoded).IsCorruption()) << "byte " << i;
  }
  for (size_t n = 0; n < encoded.size(); ++n) {
    EXPECT_TRUE(FileProgressStore::Decode(encoded.substr(0, n), &decoded).IsCorruption())
        << "truncated to " << n;
  }
}

TEST_F(FileProgressStoreTest, ADamagedFileFailsOpen) {
  {
    auto file = env_->OpenFile(kPath, OpenMode::kCreate);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Write(0, "not a progress table").ok());
  }
  auto opened = FileProgressStore::Open(env_.get(), kPath);
  EXPECT_TRUE(opened.status().IsCorruption()) << opened.status().ToString();
  EXPECT_NE(opened.status().ToString().find(kPath), std::string::npos);
}

TEST_F(FileProgressStoreTest, ALeftoverTemporaryFileIsIgnored) {
  auto store = Open(env_.get());
  ASSERT_TRUE(store->Commit(std::vector<ScheduleProgressEntry>{{"a", 1, 1}}).ok());
  {
    auto file = env_->OpenFile(std::string(kPath) + ".tmp", OpenMode::kCreate);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Write(0, "half-written").ok());
  }
  auto reopened = Open(env_.get());
  EXPECT_EQ(Get(*reopened, "a"), (ScheduleProgressEntry{"a", 1, 1}));
  ASSERT_TRUE(reopened->Commit(std::vector<ScheduleProgressEntry>{{"a", 2, 2}}).ok());
  EXPECT_EQ(Get(*Open(env_.get()), "a"), (ScheduleProgressEntry{"a", 2, 2}));
}

}  // namespace
}  // namespace mqstore
