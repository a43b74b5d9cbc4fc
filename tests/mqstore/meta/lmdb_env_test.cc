#include "meta/lmdb_env.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/test_util.h"

namespace mqstore {
namespace {

using test::TempDir;

LmdbEnvOptions SmallMap() {
  LmdbEnvOptions o;
  o.initial_map_bytes = 64 << 10;
  o.max_map_bytes = 64 << 20;
  return o;
}

// Opens `dir` and the database "t" in it.
struct Opened {
  std::unique_ptr<LmdbEnv> env;
  LmdbDb db;
};
Result<Opened> OpenWithTable(const std::string& dir, const LmdbEnvOptions& options) {
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<LmdbEnv> env, LmdbEnv::Open(dir, options));
  LmdbDb db;
  Status s = env->Write([&](LmdbWriteTxn& txn) {
    MQ_ASSIGN_OR_RETURN(db, txn.OpenDb("t", /*create=*/true));
    return Status::OK();
  });
  if (!s.ok()) return s;
  return Opened{std::move(env), db};
}

std::optional<std::string> ReadKey(const LmdbEnv& env, const LmdbDb& db, std::string_view key) {
  std::optional<std::string> out;
  Status s = env.Read([&](LmdbReadTxn& txn) {
    MQ_ASSIGN_OR_RETURN(std::optional<std::string_view> v, txn.Get(db, key));
    if (v) out = std::string(*v);
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::vector<std::string> KeysWithPrefix(const LmdbEnv& env, const LmdbDb& db,
                                        std::string_view prefix) {
  std::vector<std::string> keys;
  auto add = [&](std::string_view key, std::string_view) {
    keys.emplace_back(key);
    return Status::OK();
  };
  Status s = env.Read([&](LmdbReadTxn& txn) { return txn.ForEachWithPrefix(db, prefix, add); });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return keys;
}

TEST(MetaLmdbEnvTest, CreatesTheDirectoryAndRoundTripsAValue) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Opened o, OpenWithTable(dir.Sub("a/meta"), SmallMap()));
  ASSERT_OK(o.env->Write([&](LmdbWriteTxn& txn) { return txn.Put(o.db, "k", "v"); }));
  EXPECT_EQ(ReadKey(*o.env, o.db, "k"), "v");
  EXPECT_EQ(ReadKey(*o.env, o.db, "missing"), std::nullopt);
}

TEST(MetaLmdbEnvTest, AFailedWriteCommitsNothing) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Opened o, OpenWithTable(dir.Sub("meta"), SmallMap()));
  Status s = o.env->Write([&](LmdbWriteTxn& txn) {
    MQ_RETURN_IF_ERROR(txn.Put(o.db, "k1", "v"));
    MQ_RETURN_IF_ERROR(txn.Put(o.db, "k2", "v"));
    return Status::InvalidArgument("stop");
  });
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(ReadKey(*o.env, o.db, "k1"), std::nullopt);
  EXPECT_EQ(ReadKey(*o.env, o.db, "k2"), std::nullopt);
}

TEST(MetaLmdbEnvTest, ForEachWithPrefixVisitsOnlyThePrefixInKeyOrder) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Opened o, OpenWithTable(dir.Sub("meta"), SmallMap()));
  ASSERT_OK(o.env->Write([&](LmdbWriteTxn& txn) {
    for (const char* k : {"b", "a\x01", "a", "ab", "c"}) {
      MQ_RETURN_IF_ERROR(txn.Put(o.db, k, "v"));
    }
    return txn.Put(o.db, std::string_view("a\0z", 3), "v");
  }));
  EXPECT_EQ(KeysWithPrefix(*o.env, o.db, "a"),
            (std::vector<std::string>{"a", std::string("a\0z", 3), "a\x01", "ab"}));
  EXPECT_EQ(KeysWithPrefix(*o.env, o.db, std::string_view("a\0", 2)),
            (std::vector<std::string>{std::string("a\0z", 3)}));
  EXPECT_EQ(KeysWithPrefix(*o.env, o.db, "").size(), 6u);
  EXPECT_TRUE(KeysWithPrefix(*o.env, o.db, "d").empty());

  int visited = 0;
  Status s = o.env->Read([&](LmdbReadTxn& txn) {
    return txn.ForEachWithPrefix(o.db, "", [&](std::string_view, std::string_view) {
      return ++visited == 2 ? Status::Aborted("enough") : Status::OK();
    });
  });
  EXPECT_EQ(s.code(), Status::Code::kAborted);
  EXPECT_EQ(visited, 2);
}

TEST(MetaLmdbEnvTest, DeleteWithPrefixAcrossManyPagesLeavesTheNeighbours) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Opened o, OpenWithTable(dir.Sub("meta"), SmallMap()));
  const std::string value(40, 'x');
  ASSERT_OK(o.env->Write([&](LmdbWriteTxn& txn) {
    for (int i = 0; i < 3000; ++i) {
      MQ_RETURN_IF_ERROR(txn.Put(o.db, "a" + std::to_string(i), value));
      MQ_RETURN_IF_ERROR(txn.Put(o.db, "b" + std::to_string(i), value));
      MQ_RETURN_IF_ERROR(txn.Put(o.db, "c" + std::to_string(i), value));
    }
    return Status::OK();
  }));
  uint64_t deleted = 0;
  ASSERT_OK(o.env->Write([&](LmdbWriteTxn& txn) {
    MQ_ASSIGN_OR_RETURN(deleted, txn.DeleteWithPrefix(o.db, "b"));
    return Status::OK();
  }));
  EXPECT_EQ(deleted, 3000u);
  EXPECT_TRUE(KeysWithPrefix(*o.env, o.db, "b").empty());
  EXPECT_EQ(KeysWithPrefix(*o.env, o.db, "a").size(), 3000u);
  EXPECT_EQ(KeysWithPrefix(*o.env, o.db, "c").size(), 3000u);

  bool removed = true;
  ASSERT_OK(o.env->Write([&](LmdbWriteTxn& txn) {
    MQ_ASSIGN_OR_RETURN(removed, txn.Delete(o.db, "zzz"));
    return Status::OK();
  }));
  EXPECT_FALSE(removed);
}

TEST(MetaLmdbEnvTest, AWriteThatDoesNotFitGrowsTheMapAndRunsAgain) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Opened o, OpenWithTable(dir.Sub("meta"), SmallMap()));
  EXPECT_EQ(o.env->map_bytes(), 64u << 10);
  const std::string value(1000, 'v');
  int attempts = 0;
  ASSERT_OK(o.env->Write([&](LmdbWriteTxn& txn) {
    ++attempts;
    for (int i = 0; i < 2000; ++i) MQ_RETURN_IF_ERROR(txn.Put(o.db, std::to_string(i), value));
    return Status::OK();
  }));
  EXPECT_GT(attempts, 1);
  EXPECT_GE(o.env->map_bytes(), 2u << 20);
  EXPECT_EQ(ReadKey(*o.env, o.db, "1999"), value);
  uint64_t grown = o.env->map_bytes();

  // The grown size is persisted: a reopen with the small initial size keeps it.
  o.env.reset();
  ASSERT_OK_AND_ASSIGN(o, OpenWithTable(dir.Sub("meta"), SmallMap()));
  EXPECT_EQ(o.env->map_bytes(), grown);
  EXPECT_EQ(ReadKey(*o.env, o.db, "0"), value);
}

TEST(MetaLmdbEnvTest, AFullMapAtItsLimitIsResourceExhaustedAndKeepsEarlierData) {
  TempDir dir;
  LmdbEnvOptions options = SmallMap();
  options.max_map_bytes = 128 << 10;
  ASSERT_OK_AND_ASSIGN(Opened o, OpenWithTable(dir.Sub("meta"), options));
  ASSERT_OK(o.env->Write([&](LmdbWriteTxn& txn) { return txn.Put(o.db, "keep", "me"); }));
  const std::string value(1000, 'v');
  Status s = o.env->Write([&](LmdbWriteTxn& txn) {
    for (int i = 0; i < 1000; ++i) MQ_RETURN_IF_ERROR(txn.Put(o.db, std::to_string(i), value));
    return Status::OK();
  });
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_NE(s.message().find(dir.Sub("meta")), std::string::npos) << s.ToString();
  EXPECT_EQ(ReadKey(*o.env, o.db, "keep"), "me");
  EXPECT_EQ(ReadKey(*o.env, o.db, "0"), std::nullopt);
}

TEST(MetaLmdbEnvTest, ReadersKeepWorkingWhileTheMapGrows) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Opened o, OpenWithTable(dir.Sub("meta"), SmallMap()));
  ASSERT_OK(o.env->Write([&](LmdbWriteTxn& txn) { return txn.Put(o.db, "fixed", "1"); }));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        if (ReadKey(*o.env, o.db, "fixed") != "1") bad.fetch_add(1);
      }
    });
  }
  const std::string value(1000, 'v');
  for (int round = 0; round < 8; ++round) {
    ASSERT_OK(o.env->Write([&](LmdbWriteTxn& txn) {
      for (int i = 0; i < 300; ++i) {
        MQ_RETURN_IF_ERROR(txn.Put(o.db, std::to_string(round) + "/" + std::to_string(i), value));
      }
      return Status::OK();
    }));
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GE(o.env->map_bytes(), 2u << 20);
}

TEST(MetaLmdbEnvTest, OpeningOneEnvironmentTwiceInAProcessIsRefused) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LmdbEnv> first, LmdbEnv::Open(dir.Sub("meta"), SmallMap()));
  auto second = LmdbEnv::Open(dir.Sub("meta") + "/.", SmallMap());
  EXPECT_TRUE(second.status().IsFailedPrecondition()) << second.status().ToString();
  first.reset();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LmdbEnv> again, LmdbEnv::Open(dir.Sub("meta"), SmallMap()));
}

TEST(MetaLmdbEnvTest, AMissingEnvironmentWithoutCreateIsNotFound) {
  TempDir dir;
  LmdbEnvOptions options = SmallMap();
  options.create_if_missing = false;
  EXPECT_TRUE(LmdbEnv::Open(dir.Sub("meta"), options).status().IsNotFound());
  // An existing but empty directory holds no environment either.
  EXPECT_TRUE(LmdbEnv::Open(dir.path(), options).status().IsNotFound());
}

TEST(MetaLmdbEnvTest, GarbageInTheDataFileIsCorruptionNamingThePath) {
  TempDir dir;
  std::filesystem::create_directories(dir.Sub("meta"));
  {
    std::ofstream out(dir.Sub("meta/data.mdb"), std::ios::binary);
    for (int i = 0; i < 64 * 1024; ++i) out.put(static_cast<char>(i * 131 + 7));
  }
  auto env = LmdbEnv::Open(dir.Sub("meta"), SmallMap());
  EXPECT_TRUE(env.status().IsCorruption()) << env.status().ToString();
  EXPECT_NE(env.status().message().find(dir.Sub("meta")), std::string::npos);
}

TEST(MetaLmdbEnvTest, AFileInsteadOfADirectoryIsCorruption) {
  TempDir dir;
  { std::ofstream out(dir.Sub("meta")); }
  auto env = LmdbEnv::Open(dir.Sub("meta"), SmallMap());
  EXPECT_TRUE(env.status().IsCorruption()) << env.status().ToString();
}

TEST(MetaLmdbEnvTest, BadOptionsAreInvalidArgument) {
  TempDir dir;
  LmdbEnvOptions options = SmallMap();
  options.initial_map_bytes = 100000;  // not a multiple of 4096
  EXPECT_TRUE(LmdbEnv::Open(dir.Sub("m1"), options).status().IsInvalidArgument());
  options = SmallMap();
  options.max_map_bytes = options.initial_map_bytes - 4096;
  EXPECT_TRUE(LmdbEnv::Open(dir.Sub("m2"), options).status().IsInvalidArgument());
  options = SmallMap();
  options.max_readers = 0;
  EXPECT_TRUE(LmdbEnv::Open(dir.Sub("m3"), options).status().IsInvalidArgument());
}

}  // namespace
}  // namespace mqstore
