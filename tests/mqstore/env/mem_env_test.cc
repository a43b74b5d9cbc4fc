// MemEnv: the in-memory Env, its file-system behaviour and its model of what a crash keeps.
#include "mqstore/mem_env.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/test_util.h"

namespace mqstore {
namespace {

constexpr size_t kPage = 4096;

class MemEnvTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(env_->CreateDir("/d")); }

  std::unique_ptr<File> Open(Env* env, const std::string& path, OpenMode mode) {
    auto f = env->OpenFile(path, mode);
    EXPECT_TRUE(f.ok()) << path << ": " << f.status().ToString();
    return f.ok() ? std::move(f).value() : nullptr;
  }
  std::unique_ptr<File> Create(const std::string& path) {
    return Open(env_.get(), path, OpenMode::kCreate);
  }
  // The contents of `path` in `env`, or "<missing>".
  static std::string Contents(Env* env, const std::string& path) {
    auto f = env->OpenFile(path, OpenMode::kReadOnly);
    if (!f.ok()) return "<missing>";
    auto size = (*f)->Size();
    std::string buf(size.ok() ? *size : 0, '\0');
    size_t n = 0;
    if (!(*f)->Read(0, buf.size(), buf.data(), &n).ok()) return "<unreadable>";
    buf.resize(n);
    return buf;
  }
  std::unique_ptr<MemEnv> Crash(CrashMode mode = CrashMode::kDropUnsynced, uint64_t seed = 0) {
    return env_->CrashCopy(CrashOptions{mode, seed});
  }

  std::unique_ptr<MemEnv> env_ = NewMemEnv();
};

// ---- File-system behaviour -----------------------------------------------------------

TEST_F(MemEnvTest, OpenRequiresTheFileOrItsDirectory) {
  EXPECT_TRUE(env_->OpenFile("/d/f", OpenMode::kReadOnly).status().IsNotFound());
  EXPECT_TRUE(env_->OpenFile("/d/f", OpenMode::kReadWrite).status().IsNotFound());
  EXPECT_TRUE(env_->OpenFile("/nodir/f", OpenMode::kCreate).status().IsNotFound());
  ASSERT_NE(Create("/d/f"), nullptr);
  EXPECT_TRUE(env_->FileExists("/d/f"));
  EXPECT_TRUE(env_->FileExists("/d"));
  EXPECT_TRUE(env_->FileExists("/d/"));
}

TEST_F(MemEnvTest, WriteReadAndShortReadAtEnd) {
  auto f = Create("/d/f");
  ASSERT_OK(f->Write(0, "0123456789"));
  ASSERT_OK(f->Write(2, "AB"));
  char buf[32];
  size_t n = 0;
  ASSERT_OK(f->Read(0, 4, buf, &n));
  EXPECT_EQ(std::string(buf, n), "01AB");
  ASSERT_OK(f->Read(8, sizeof(buf), buf, &n));
  EXPECT_EQ(std::string(buf, n), "89");
  ASSERT_OK(f->Read(10, 1, buf, &n));
  EXPECT_EQ(n, 0u);
  ASSERT_OK(f->Read(500, 1, buf, &n));
  EXPECT_EQ(n, 0u);
  ASSERT_OK(f->Write(20, "z"));  // leaves a hole of zeros
  EXPECT_EQ(Contents(env_.get(), "/d/f"), std::string("01AB456789") + std::string(10, '\0') + "z");
}

TEST_F(MemEnvTest, WriteGatherWritesBothPiecesInOrder) {
  auto f = Create("/d/f");
  ASSERT_OK(f->WriteGather(3, "abc", "de"));
  EXPECT_EQ(Contents(env_.get(), "/d/f"), std::string(3, '\0') + "abcde");
}

// As O_DIRECT does (EINVAL), so that a test of a direct writer sees an unaligned write.
TEST_F(MemEnvTest, DirectWritesMustBeAligned) {
  ASSERT_OK(Create("/d/f")->Allocate(4 * kDirectIoAlignment));
  auto direct = Open(env_.get(), "/d/f", OpenMode::kReadWriteDirect);
  ASSERT_NE(direct, nullptr);
  auto* page = static_cast<char*>(std::aligned_alloc(kDirectIoAlignment, 2 * kDirectIoAlignment));
  std::memset(page, 'z', 2 * kDirectIoAlignment);
  EXPECT_OK(direct->Write(kDirectIoAlignment, std::string_view(page, kDirectIoAlignment)));
  EXPECT_TRUE(direct->Write(1, std::string_view(page, kDirectIoAlignment)).IsInvalidArgument());
  EXPECT_TRUE(direct->Write(0, std::string_view(page, 100)).IsInvalidArgument());
  EXPECT_TRUE(direct->Write(0, std::string_view(page + 1, kDirectIoAlignment)).IsInvalidArgument());
  std::free(page);
  const std::string contents = Contents(env_.get(), "/d/f");
  EXPECT_EQ(contents.substr(kDirectIoAlignment, kDirectIoAlignment),
            std::string(kDirectIoAlignment, 'z'));
  EXPECT_EQ(contents.substr(0, kDirectIoAlignment), std::string(kDirectIoAlignment, '\0'));
}

TEST_F(MemEnvTest, AllocateTruncateZeroRange) {
  auto f = Create("/d/f");
  ASSERT_OK(f->Write(0, std::string(100, 'x')));
  ASSERT_OK(f->Allocate(8192));
  ASSERT_OK_AND_ASSIGN(uint64_t size, f->Size());
  EXPECT_EQ(size, 8192u);
  ASSERT_OK(f->Allocate(10));  // never shrinks
  ASSERT_OK_AND_ASSIGN(size, env_->GetFileSize("/d/f"));
  EXPECT_EQ(size, 8192u);
  ASSERT_OK(f->ZeroRange(10, 20));
  std::string all = Contents(env_.get(), "/d/f");
  ASSERT_EQ(all.size(), 8192u);
  EXPECT_EQ(all.substr(0, 10), std::string(10, 'x'));
  EXPECT_EQ(all.substr(10, 20), std::string(20, '\0'));
  EXPECT_EQ(all.substr(30, 70), std::string(70, 'x'));
  ASSERT_OK(f->Truncate(50));
  ASSERT_OK(f->Truncate(60));  // regrown bytes read as zeros, not the old 'x'
  EXPECT_EQ(Contents(env_.get(), "/d/f"), std::string(10, 'x') + std::string(20, '\0') +
                                              std::string(20, 'x') + std::string(10, '\0'));
}

TEST_F(MemEnvTest, MappedWritesAreSeenByFileRead) {
  auto f = Create("/d/f");
  ASSERT_OK(f->Allocate(2 * kPage));
  ASSERT_OK_AND_ASSIGN(auto region, f->Map(2 * kPage, true));
  std::memcpy(region->data() + kPage - 2, "span", 4);
  char buf[4];
  size_t n = 0;
  ASSERT_OK(f->Read(kPage - 2, 4, buf, &n));
  EXPECT_EQ(std::string(buf, n), "span");
  ASSERT_OK(f->Write(0, "via file"));
  EXPECT_EQ(std::string(region->data(), 8), "via file");
}

TEST_F(MemEnvTest, MapRules) {
  auto f = Create("/d/f");
  ASSERT_OK(f->Allocate(kPage));
  EXPECT_TRUE(f->Map(0, true).status().IsInvalidArgument());
  EXPECT_TRUE(f->Map(kPage + 1, true).status().IsInvalidArgument());
  auto ro = Open(env_.get(), "/d/f", OpenMode::kReadOnly);
  EXPECT_TRUE(ro->Map(kPage, true).status().IsFailedPrecondition());
  EXPECT_OK(ro->Map(kPage, false).status());
  EXPECT_TRUE(ro->Write(0, "x").IsFailedPrecondition());
  EXPECT_TRUE(ro->Truncate(0).IsFailedPrecondition());
  EXPECT_TRUE(ro->Allocate(2 * kPage).IsFailedPrecondition());
}

TEST_F(MemEnvTest, DirectoriesAndChildren) {
  ASSERT_OK(env_->CreateDir("/d/a/b/c"));
  EXPECT_TRUE(env_->FileExists("/d/a"));
  EXPECT_TRUE(env_->FileExists("/d/a/b"));
  EXPECT_OK(env_->CreateDir("/d/a/b/c"));  // idempotent
  Create("/d/f1");
  Create("/d/f2");
  ASSERT_OK_AND_ASSIGN(auto names, env_->GetChildren("/d"));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "f1", "f2"}));
  ASSERT_OK_AND_ASSIGN(auto deep, env_->GetChildren("/d/a/b/"));
  EXPECT_EQ(deep, std::vector<std::string>{"c"});
  EXPECT_TRUE(env_->GetChildren("/missing").status().IsNotFound());
  EXPECT_FALSE(env_->CreateDir("/d/f1/sub").ok());
}

TEST_F(MemEnvTest, RemoveAndRename) {
  ASSERT_OK(Create("/d/a")->Write(0, "A"));
  ASSERT_OK(Create("/d/b")->Write(0, "B"));
  ASSERT_OK(env_->RenameFile("/d/a", "/d/b"));
  EXPECT_FALSE(env_->FileExists("/d/a"));
  EXPECT_EQ(Contents(env_.get(), "/d/b"), "A");
  EXPECT_TRUE(env_->RenameFile("/d/a", "/d/c").IsNotFound());
  ASSERT_OK(env_->RemoveFile("/d/b"));
  EXPECT_TRUE(env_->RemoveFile("/d/b").IsNotFound());

  ASSERT_OK(env_->CreateDir("/d/sub/inner"));
  EXPECT_FALSE(env_->RemoveDir("/d/sub").ok()) << "removed a directory holding a directory";
  ASSERT_OK(env_->RemoveDir("/d/sub/inner"));
  Create("/d/sub/f");
  EXPECT_FALSE(env_->RemoveDir("/d/sub").ok()) << "removed a directory holding a file";
  ASSERT_OK(env_->RemoveFile("/d/sub/f"));
  ASSERT_OK(env_->RemoveDir("/d/sub"));
  EXPECT_FALSE(env_->FileExists("/d/sub"));
  EXPECT_TRUE(env_->RemoveDir("/d/sub").IsNotFound());
}

TEST_F(MemEnvTest, OpenHandleOutlivesRemoval) {
  auto f = Create("/d/f");
  ASSERT_OK(f->Write(0, "kept"));
  ASSERT_OK(env_->RemoveFile("/d/f"));
  char buf[4];
  size_t n = 0;
  ASSERT_OK(f->Read(0, 4, buf, &n));
  EXPECT_EQ(std::string(buf, n), "kept");
}

TEST_F(MemEnvTest, LockFileIsExclusiveUntilReleased) {
  ASSERT_OK_AND_ASSIGN(auto lock, env_->LockFile("/d/LOCK"));
  EXPECT_TRUE(env_->FileExists("/d/LOCK"));
  EXPECT_TRUE(env_->LockFile("/d/LOCK").status().IsFailedPrecondition());
  lock.reset();
  EXPECT_OK(env_->LockFile("/d/LOCK").status());
  EXPECT_FALSE(env_->LockFile("/nodir/LOCK").ok());
  ASSERT_OK(env_->CreateDir("/nodir"));
  EXPECT_OK(env_->LockFile("/nodir/LOCK").status());  // the failed attempt released it
}

TEST_F(MemEnvTest, FileCountCountsFilesAndDirectories) {
  size_t before = env_->FileCount();
  Create("/d/f");
  ASSERT_OK(env_->CreateDir("/d/sub"));
  EXPECT_EQ(env_->FileCount(), before + 2);
}

// ---- Capacity ------------------------------------------------------------------------

TEST_F(MemEnvTest, DefaultCapacityIsOneTebibyte) {
  ASSERT_OK_AND_ASSIGN(DiskSpace space, env_->GetDiskSpace("/d"));
  EXPECT_EQ(space.total_bytes, 1ull << 40);
  EXPECT_EQ(space.available_bytes, 1ull << 40);
}

TEST_F(MemEnvTest, CapacityLimitsAllocateAndWrite) {
  env_->SetCapacity(3 * kPage);
  auto f = Create("/d/f");
  ASSERT_OK(f->Allocate(2 * kPage));
  ASSERT_OK_AND_ASSIGN(DiskSpace space, env_->GetDiskSpace("/d"));
  EXPECT_EQ(space.total_bytes, 3 * kPage);
  EXPECT_EQ(space.available_bytes, kPage);
  auto g = Create("/d/g");
  EXPECT_TRUE(g->Allocate(kPage + 1).IsResourceExhausted());
  EXPECT_TRUE(g->Write(kPage, "x").IsResourceExhausted());
  EXPECT_TRUE(f->Write(3 * kPage, "x").IsResourceExhausted());
  EXPECT_OK(f->Write(0, std::string(2 * kPage, 'o')));  // overwrite needs no new space
  EXPECT_OK(g->Allocate(kPage));                        // exactly what is left
  ASSERT_OK(env_->RemoveFile("/d/f"));
  ASSERT_OK_AND_ASSIGN(space, env_->GetDiskSpace("/d"));
  EXPECT_EQ(space.available_bytes, 2 * kPage);
  EXPECT_OK(g->Allocate(3 * kPage));
}

// Regression test (fixed bug): MemFile::Truncate (mem_env.cc:107-116) shrinks state_->size without
// returning the bytes to MemEnvImpl::used_, so truncated space is never freed.
TEST_F(MemEnvTest, TruncateReturnsSpace) {
  env_->SetCapacity(2 * kPage);
  auto f = Create("/d/f");
  ASSERT_OK(f->Write(0, std::string(2 * kPage, 'x')));
  ASSERT_OK(f->Truncate(0));
  ASSERT_OK_AND_ASSIGN(DiskSpace space, env_->GetDiskSpace("/d"));
  EXPECT_EQ(space.available_bytes, 2 * kPage);
  EXPECT_OK(f->Write(0, std::string(2 * kPage, 'y')));
}

// Regression test (fixed bug): MemFile::Truncate growing a file (mem_env.cc:114) calls
// FileState::Grow without MemEnvImpl::Reserve, but RemoveFile/RenameFile later subtract the full
// size from used_. used_ (uint64_t) wraps around, and from then on every Allocate/Write that grows
// a file fails with kResourceExhausted and GetDiskSpace reports 0 bytes available.
TEST_F(MemEnvTest, RemovingATruncateGrownFileKeepsAccountingSane) {
  ASSERT_OK(Create("/d/f")->Truncate(1 << 20));
  ASSERT_OK(env_->RemoveFile("/d/f"));
  ASSERT_OK_AND_ASSIGN(DiskSpace space, env_->GetDiskSpace("/d"));
  EXPECT_EQ(space.available_bytes, space.total_bytes);
  EXPECT_OK(Create("/d/g")->Write(0, "one byte"));
}

// ---- Durability model ----------------------------------------------------------------

TEST_F(MemEnvTest, UnsyncedWritesVanishSyncedOnesSurvive) {
  auto f = Create("/d/f");
  ASSERT_OK(env_->SyncDir("/d"));
  ASSERT_OK(f->Write(0, "unsynced"));
  EXPECT_EQ(Contents(Crash().get(), "/d/f"), "");
  ASSERT_OK(f->Sync());
  ASSERT_OK(f->Write(8, " tail"));
  ASSERT_OK(f->Write(0, "UN"));
  auto crashed = Crash();
  EXPECT_EQ(Contents(crashed.get(), "/d/f"), "unsynced");
  EXPECT_EQ(Contents(env_.get(), "/d/f"), "UNsynced tail") << "CrashCopy changed the source";
}

TEST_F(MemEnvTest, MappedWritesSurviveOnlyWhenTheirRangeIsSynced) {
  auto f = Create("/d/f");
  ASSERT_OK(f->Allocate(3 * kPage));
  ASSERT_OK(f->Sync());
  ASSERT_OK(env_->SyncDir("/d"));
  ASSERT_OK_AND_ASSIGN(auto region, f->Map(3 * kPage, true));
  std::memcpy(region->data() + 100, "synced", 6);
  std::memcpy(region->data() + 2 * kPage, "not synced", 10);
  ASSERT_OK(region->Sync(100, 6));
  std::string after = Contents(Crash().get(), "/d/f");
  ASSERT_EQ(after.size(), 3 * kPage);
  EXPECT_EQ(after.substr(100, 6), "synced");
  EXPECT_EQ(after.substr(2 * kPage, 10), std::string(10, '\0'));
  ASSERT_OK(region->Sync(2 * kPage, 10));
  EXPECT_EQ(Contents(Crash().get(), "/d/f").substr(2 * kPage, 10), "not synced");
}

TEST_F(MemEnvTest, CreatedFileNeedsSyncDirOfItsParent) {
  ASSERT_OK(env_->CreateDir("/d/sub"));
  auto f = Create("/d/sub/f");
  ASSERT_OK(f->Write(0, "content"));
  ASSERT_OK(f->Sync());
  EXPECT_FALSE(Crash()->FileExists("/d/sub/f"));
  ASSERT_OK(env_->SyncDir("/d"));  // the grandparent does not count
  EXPECT_FALSE(Crash()->FileExists("/d/sub/f"));
  ASSERT_OK(env_->SyncDir("/d/sub"));
  EXPECT_EQ(Contents(Crash().get(), "/d/sub/f"), "content");
}

TEST_F(MemEnvTest, RemovalNeedsSyncDirToStick) {
  auto f = Create("/d/f");
  ASSERT_OK(f->Write(0, "old"));
  ASSERT_OK(f->Sync());
  ASSERT_OK(env_->SyncDir("/d"));
  ASSERT_OK(env_->RemoveFile("/d/f"));
  EXPECT_EQ(Contents(Crash().get(), "/d/f"), "old");
  ASSERT_OK(env_->SyncDir("/d"));
  EXPECT_FALSE(Crash()->FileExists("/d/f"));
}

TEST_F(MemEnvTest, RenameNeedsSyncDirToStick) {
  auto f = Create("/d/tmp");
  ASSERT_OK(f->Write(0, "v2"));
  ASSERT_OK(f->Sync());
  ASSERT_OK(env_->SyncDir("/d"));
  ASSERT_OK(env_->RenameFile("/d/tmp", "/d/final"));
  auto before = Crash();
  EXPECT_TRUE(before->FileExists("/d/tmp"));
  EXPECT_FALSE(before->FileExists("/d/final"));
  ASSERT_OK(env_->SyncDir("/d"));
  auto after = Crash();
  EXPECT_FALSE(after->FileExists("/d/tmp"));
  EXPECT_EQ(Contents(after.get(), "/d/final"), "v2");
}

TEST_F(MemEnvTest, CrashCopyIsIndependentAndCanCrashAgain) {
  auto f = Create("/d/f");
  ASSERT_OK(f->Write(0, "base"));
  ASSERT_OK(f->Sync());
  ASSERT_OK(env_->SyncDir("/d"));
  auto copy = Crash();
  auto g = Open(copy.get(), "/d/f", OpenMode::kReadWrite);
  ASSERT_OK(g->Write(0, "COPY"));
  EXPECT_EQ(Contents(env_.get(), "/d/f"), "base");
  ASSERT_OK(f->Write(0, "ORIG"));
  EXPECT_EQ(Contents(copy.get(), "/d/f"), "COPY");
  // The copy's files start fully durable, so a second crash keeps them, minus new writes.
  EXPECT_EQ(Contents(copy->CrashCopy({}).get(), "/d/f"), "base");
  EXPECT_TRUE(copy->LockFile("/d/LOCK").ok());
}

// A crash copy is one instant even while another thread syncs: a writer that makes /d/a
// durable before /d/b never yields a copy where b is ahead of a (CrashCopy reads a before b,
// so a copy taken file by file would show it; found as a headerless index file followed by
// a valid one in the disk-full sweep). Large files make each file's copy slow.
TEST_F(MemEnvTest, CrashCopyIsOneInstantWhileAnotherThreadSyncs) {
  constexpr size_t kFileBytes = 1 << 20;
  auto a = Create("/d/a");
  auto b = Create("/d/b");
  ASSERT_OK(a->Allocate(kFileBytes));
  ASSERT_OK(b->Allocate(kFileBytes));
  auto b_map = b->Map(kFileBytes, true);
  ASSERT_TRUE(b_map.ok());
  ASSERT_OK(a->Sync());
  ASSERT_OK(b->Sync());
  ASSERT_OK(env_->SyncDir("/d"));
  auto value_of = [](Env* env, const std::string& path) {
    auto f = env->OpenFile(path, OpenMode::kReadOnly);
    uint64_t v = 0;
    size_t n = 0;
    if (f.ok()) (*f)->Read(0, sizeof(v), reinterpret_cast<char*>(&v), &n).IgnoreError();
    return n == sizeof(v) ? v : UINT64_MAX;
  };
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (uint64_t i = 1; !stop.load(); ++i) {
      std::string v(reinterpret_cast<const char*>(&i), sizeof(i));
      a->Write(0, v).IgnoreError();
      a->Sync().IgnoreError();  // a through File::Sync,
      std::memcpy((*b_map)->data(), v.data(), v.size());
      (*b_map)->Sync(0, v.size()).IgnoreError();  // b through a mapped range
    }
  });
  int b_ahead = 0;
  for (int copy = 0; copy < 200; ++copy) {
    auto image = Crash();
    uint64_t in_a = value_of(image.get(), "/d/a"), in_b = value_of(image.get(), "/d/b");
    EXPECT_NE(in_a, UINT64_MAX);
    EXPECT_NE(in_b, UINT64_MAX);
    if (in_b > in_a) ++b_ahead;
    EXPECT_LE(in_a, in_b + 1) << "a is synced at most one step ahead of b";
  }
  stop.store(true);
  writer.join();
  EXPECT_EQ(b_ahead, 0) << "copies where b was made durable after a yet is ahead of it";
}

// Checks `got` == current[0, k) followed by durable[k, ...) for some k, with the length
// the torn-prefix model gives: max(|durable|, min(k, |current|)). Returns the k found, or -1.
long TornPrefixLength(const std::string& durable, const std::string& current,
                      const std::string& got) {
  auto at = [](const std::string& s, size_t i) { return i < s.size() ? s[i] : '\0'; };
  size_t span = std::max(durable.size(), current.size());
  for (size_t k = 0; k <= span; ++k) {
    size_t want = std::max(durable.size(), std::min(k, current.size()));
    if (got.size() != want) continue;
    bool match = true;
    for (size_t i = 0; i < got.size() && match; ++i) {
      match = got[i] == (i < k ? at(current, i) : at(durable, i));
    }
    if (match) return static_cast<long>(k);
  }
  return -1;
}

TEST_F(MemEnvTest, TornPrefixKeepsADurableImagePlusAPrefixOfNewBytes) {
  auto f = Create("/d/f");
  ASSERT_OK(env_->SyncDir("/d"));
  std::string durable = "0123456789abcdefghij";
  ASSERT_OK(f->Write(0, durable));
  ASSERT_OK(f->Sync());
  ASSERT_OK(f->Write(5, "XYZ"));  // overwrite inside the durable range
  std::string appended;
  for (int i = 0; i < 40; ++i) appended += static_cast<char>('A' + i % 26);
  ASSERT_OK(f->Write(durable.size(), appended));
  std::string current = Contents(env_.get(), "/d/f");

  std::set<std::string> outcomes;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    std::string got = Contents(Crash(CrashMode::kTornPrefix, seed).get(), "/d/f");
    EXPECT_GE(TornPrefixLength(durable, current, got), 0) << "seed " << seed << ": " << got;
    outcomes.insert(got);
  }
  EXPECT_GT(outcomes.size(), 10u) << "the tear point does not depend on the seed";
  EXPECT_EQ(Contents(Crash(CrashMode::kTornPrefix, 7).get(), "/d/f"),
            Contents(Crash(CrashMode::kTornPrefix, 7).get(), "/d/f"))
      << "same seed, different outcome";
}

TEST_F(MemEnvTest, TornPrefixOfAFullySyncedFileIsTheFile) {
  auto f = Create("/d/f");
  ASSERT_OK(f->Write(0, "all synced"));
  ASSERT_OK(f->Sync());
  ASSERT_OK(env_->SyncDir("/d"));
  for (uint64_t seed = 0; seed < 20; ++seed) {
    EXPECT_EQ(Contents(Crash(CrashMode::kTornPrefix, seed).get(), "/d/f"), "all synced");
  }
}

TEST_F(MemEnvTest, RandomPagesKeepsWholePagesOnly) {
  constexpr size_t kPages = 6;
  auto f = Create("/d/f");
  ASSERT_OK(env_->SyncDir("/d"));
  ASSERT_OK(f->Write(0, std::string(2 * kPage, 'd')));
  ASSERT_OK(f->Sync());
  std::string durable = Contents(env_.get(), "/d/f");
  // Unsynced: rewrite page 1 and append pages 2..5, each page with its own letter.
  for (size_t p = 1; p < kPages; ++p) {
    ASSERT_OK(f->Write(p * kPage, std::string(kPage, static_cast<char>('a' + p))));
  }
  std::string current = Contents(env_.get(), "/d/f");

  auto page = [](const std::string& s, size_t p) {
    std::string out(kPage, '\0');
    if (p * kPage < s.size()) s.copy(out.data(), kPage, p * kPage);
    return out;
  };
  std::vector<int> kept(kPages, 0), dropped(kPages, 0);
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::string got = Contents(Crash(CrashMode::kRandomPages, seed).get(), "/d/f");
    ASSERT_EQ(got.size() % kPage, 0u) << "seed " << seed;
    ASSERT_GE(got.size(), durable.size()) << "seed " << seed;
    for (size_t p = 0; p < kPages; ++p) {
      std::string g = page(got, p);
      bool is_new = g == page(current, p);
      bool is_old = g == page(durable, p);
      ASSERT_TRUE(is_new || is_old) << "seed " << seed << " page " << p << " is mixed";
      if (is_new && !is_old) ++kept[p];
      if (is_old && !is_new) ++dropped[p];
    }
  }
  for (size_t p = 1; p < kPages; ++p) {
    EXPECT_GT(kept[p], 0) << "page " << p << " never survived";
    EXPECT_GT(dropped[p], 0) << "page " << p << " always survived";
  }
}

TEST_F(MemEnvTest, CorruptUnsyncedFlipsBitsOnlyInUnsyncedBytesOfSurvivingPages) {
  auto f = Create("/d/f");
  ASSERT_OK(env_->SyncDir("/d"));
  // Page 0 fully synced; page 1 half synced; pages 1 (second half) to 3 unsynced.
  ASSERT_OK(f->Write(0, std::string(kPage + kPage / 2, 'd')));
  ASSERT_OK(f->Sync());
  ASSERT_OK(f->Write(kPage + kPage / 2, std::string(2 * kPage + kPage / 2, 'n')));
  const std::string durable = Contents(env_.get(), "/d/f").substr(0, kPage + kPage / 2);
  int corrupted = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::string got = Contents(Crash(CrashMode::kCorruptUnsynced, seed).get(), "/d/f");
    ASSERT_GE(got.size(), durable.size()) << "seed " << seed;
    ASSERT_EQ(got.substr(0, durable.size()), durable)
        << "seed " << seed << ": synced bytes changed";
    bool flipped = false;
    for (size_t i = durable.size(); i < got.size(); ++i) {
      // An unsynced byte is the new byte, zero (its page was dropped, a later one kept), or
      // the new byte with 1-3 bits flipped.
      if (got[i] != 'n' && got[i] != '\0') {
        flipped = true;
        int bits = __builtin_popcount(static_cast<unsigned char>(got[i] ^ 'n'));
        ASSERT_LE(bits, 3) << "seed " << seed << " byte " << i;
      }
    }
    corrupted += flipped;
  }
  EXPECT_GT(corrupted, 20) << "bits were hardly ever flipped";
  EXPECT_LT(corrupted, 200)
      << "every crash corrupted (a surviving page set should be empty sometimes)";
}

// Regression test (fixed bug): MemFile::ZeroRange (mem_env.cc:117) does not check writable_, so a
// file opened kReadOnly can be modified; every other mutator returns kFailedPrecondition, and POSIX
// fails with EBADF.
TEST_F(MemEnvTest, ZeroRangeOnReadOnlyFileFails) {
  ASSERT_OK(Create("/d/f")->Write(0, "data"));
  auto ro = Open(env_.get(), "/d/f", OpenMode::kReadOnly);
  EXPECT_FALSE(ro->ZeroRange(0, 4).ok());
  EXPECT_EQ(Contents(env_.get(), "/d/f"), "data");
}

}  // namespace
}  // namespace mqstore
