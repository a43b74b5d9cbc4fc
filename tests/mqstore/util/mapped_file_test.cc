#include "util/mapped_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "mqstore/mem_env.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::TempDir;

constexpr uint64_t kSize = 16384;

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\0'; });
}

// Runs every test against the POSIX Env on a temporary directory and against a MemEnv.
enum class EnvKind { kPosix, kMem };

class MappedFileTest : public ::testing::TestWithParam<EnvKind> {
 protected:
  void SetUp() override {
    if (GetParam() == EnvKind::kPosix) {
      env_ = Env::Default();
      root_ = tmp_.path();
    } else {
      mem_ = NewMemEnv();
      env_ = mem_.get();
      root_ = "/store";
      ASSERT_OK(env_->CreateDir(root_));
    }
  }

  std::string Path(const std::string& name) const { return root_ + "/" + name; }

  // Reads the whole file through the Env (not through the mapping).
  std::string ReadFile(const std::string& path) {
    auto file = env_->OpenFile(path, OpenMode::kReadOnly);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    if (!file.ok()) return {};
    std::string buf(kSize * 2, '\0');
    size_t n = 0;
    EXPECT_OK((*file)->Read(0, buf.size(), buf.data(), &n));
    buf.resize(n);
    return buf;
  }

  TempDir tmp_;
  std::unique_ptr<MemEnv> mem_;
  Env* env_ = nullptr;
  std::string root_;
};

TEST_P(MappedFileTest, CreateAllocatesExactSizeOfZeros) {
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env_, Path("seg"), 8192, kSize));
  EXPECT_EQ(mf->size(), kSize);
  EXPECT_EQ(mf->base(), 8192);
  EXPECT_EQ(mf->end(), 8192 + static_cast<int64_t>(kSize));
  EXPECT_EQ(mf->path(), Path("seg"));
  ASSERT_OK_AND_ASSIGN(uint64_t on_disk, env_->GetFileSize(Path("seg")));
  EXPECT_EQ(on_disk, kSize);
  EXPECT_TRUE(AllZero(mf->View(0, kSize)));
  EXPECT_EQ(mf->View(0, kSize).size(), kSize);
}

// Regression test (fixed bug): mapped_file.h promises that Create makes `path` "exactly `size`
// bytes (zeros)", but MappedFile::Create (mapped_file.cc:13-14) opens an existing file with kCreate
// and only Allocate()s it: old bytes stay, and a larger file keeps its size (so a later Open with
// `size` fails with kCorruption). CommitLog::NextSegment removes a leftover file first;
// CommitLog::AllocatorLoop and ConsumeQueue::Append rely on the path not existing.
TEST_P(MappedFileTest, CreateOverAnExistingFileStartsFromZeros) {
  {
    ASSERT_OK_AND_ASSIGN(auto f, env_->OpenFile(Path("old"), OpenMode::kCreate));
    ASSERT_OK(f->Write(0, std::string(100, 'x')));
    ASSERT_OK_AND_ASSIGN(auto g, env_->OpenFile(Path("big"), OpenMode::kCreate));
    ASSERT_OK(g->Write(0, std::string(2 * kSize, 'y')));
  }
  ASSERT_OK_AND_ASSIGN(auto old, MappedFile::Create(env_, Path("old"), 0, kSize));
  EXPECT_TRUE(AllZero(old->View(0, kSize)));
  ASSERT_OK_AND_ASSIGN(auto big, MappedFile::Create(env_, Path("big"), 0, kSize));
  ASSERT_OK_AND_ASSIGN(uint64_t size, env_->GetFileSize(Path("big")));
  EXPECT_EQ(size, kSize);
  EXPECT_TRUE(AllZero(big->View(0, kSize)));
}

TEST_P(MappedFileTest, WritesThroughTheMappingReachTheFile) {
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env_, Path("seg"), 0, kSize));
  std::memcpy(mf->data() + 100, "hello", 5);
  std::memcpy(mf->data() + kSize - 3, "end", 3);
  ASSERT_OK(mf->Sync(0, kSize));
  std::string contents = ReadFile(Path("seg"));
  ASSERT_EQ(contents.size(), kSize);
  EXPECT_EQ(contents.substr(100, 5), "hello");
  EXPECT_EQ(contents.substr(kSize - 3), "end");
  EXPECT_TRUE(AllZero(std::string_view(contents).substr(0, 100)));
}

// Writes through the mapping reach the file although their pages leave the page tables
// before the sync; only the page holding the end of the range (still being written) stays.
TEST_P(MappedFileTest, SyncReleasingPagesKeepsWhatWasWrittenAndUnmapsTheWholePages) {
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env_, Path("seg"), 0, kSize));
  std::string bytes(kSize - 100, 'w');
  std::memcpy(mf->data(), bytes.data(), bytes.size());
  const uint64_t end = kSize - 100;  // inside the last page
  ASSERT_OK(mf->SyncReleasingPages(10, end));
  if (GetParam() == EnvKind::kPosix) {
    const int64_t mapped = test::PagesMappedIn(mf->data(), kSize);
    if (mapped >= 0) {
      EXPECT_EQ(mapped, 1) << "only the page holding the end stays mapped";
    }
  }
  std::string contents = ReadFile(Path("seg"));
  ASSERT_EQ(contents.size(), kSize);
  EXPECT_EQ(contents.substr(0, end), bytes);
  // Through the mapping, after the release: the page cache still has the bytes.
  EXPECT_EQ(mf->View(0, end), bytes);
  EXPECT_TRUE(AllZero(mf->View(end, kSize - end)));
}

// A created file's pages are filled by writes, one page per fault: its mapping does not read
// ahead (MADV_RANDOM, "rr" in the kernel's flags). Dropping a range from the cache turns
// readahead back on there, for the readers that will read it from the disk.
TEST_P(MappedFileTest, CreatedMappingReadsAheadOnlyWhereTheCacheWasDropped) {
  if (GetParam() != EnvKind::kPosix) GTEST_SKIP() << "a hint to the kernel";
  constexpr uint64_t kBig = 64 * 4096;
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env_, Path("seg"), 0, kBig));
  const std::string created = test::MappingFlagsAt(mf->data());
  if (created.empty()) GTEST_SKIP() << "/proc/self/smaps cannot be read";
  EXPECT_NE(created.find(" rr"), std::string::npos) << created;
  std::memcpy(mf->data(), "record", 6);
  mf->DropCache(0, kBig / 2);
  EXPECT_EQ(test::MappingFlagsAt(mf->data()).find(" rr"), std::string::npos)
      << test::MappingFlagsAt(mf->data());
  EXPECT_NE(test::MappingFlagsAt(mf->data() + kBig / 2).find(" rr"), std::string::npos)
      << test::MappingFlagsAt(mf->data() + kBig / 2);
  EXPECT_EQ(mf->View(0, 6), "record");
  // A file opened again is read, so it reads ahead.
  ASSERT_OK_AND_ASSIGN(auto opened, MappedFile::Open(env_, Path("seg"), 0, kBig, true));
  EXPECT_EQ(test::MappingFlagsAt(opened->data() + kBig / 2).find(" rr"), std::string::npos)
      << test::MappingFlagsAt(opened->data() + kBig / 2);
}

TEST_P(MappedFileTest, WriteBypassesTheMappingButShowsThroughIt) {
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env_, Path("seg"), 0, kSize));
  ASSERT_OK(mf->Write(4000, "across a page"));  // straddles the first page boundary
  EXPECT_EQ(mf->View(4000, 13), "across a page");
  ASSERT_OK(mf->SyncFile());
  EXPECT_EQ(ReadFile(Path("seg")).substr(4000, 13), "across a page");
  // The descriptor is reopened after CloseWriter.
  mf->CloseWriter();
  ASSERT_OK(mf->Write(kSize - 2, "ok"));
  EXPECT_EQ(mf->View(kSize - 2, 2), "ok");
}

TEST_P(MappedFileTest, WritePastTheEndIsRejected) {
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env_, Path("seg"), 0, kSize));
  EXPECT_TRUE(mf->Write(kSize - 1, "xy").IsInvalidArgument());
  EXPECT_OK(mf->Write(kSize - 2, "xy"));
}

TEST_P(MappedFileTest, OpenSeesWhatWasWritten) {
  {
    ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env_, Path("seg"), 0, kSize));
    std::memcpy(mf->data() + 4096, "persisted", 9);
    ASSERT_OK(mf->Sync(4096, 4096 + 9));
  }
  ASSERT_OK_AND_ASSIGN(auto ro, MappedFile::Open(env_, Path("seg"), 0, kSize, false));
  EXPECT_EQ(ro->View(4096, 9), "persisted");
  ASSERT_OK_AND_ASSIGN(auto rw, MappedFile::Open(env_, Path("seg"), 0, kSize, true));
  std::memcpy(rw->data(), "rw", 2);
  EXPECT_EQ(ro->View(0, 2), "rw");  // both map the same file
}

TEST_P(MappedFileTest, OpenRejectsWrongSizeWithCorruption) {
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env_, Path("seg"), 0, kSize));
  mf.reset();
  auto smaller = MappedFile::Open(env_, Path("seg"), 0, kSize / 2, true);
  EXPECT_TRUE(smaller.status().IsCorruption()) << smaller.status().ToString();
  auto larger = MappedFile::Open(env_, Path("seg"), 0, kSize * 2, false);
  EXPECT_TRUE(larger.status().IsCorruption()) << larger.status().ToString();
}

TEST_P(MappedFileTest, OpenMissingFileFails) {
  auto r = MappedFile::Open(env_, Path("missing"), 0, kSize, false);
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
}

TEST_P(MappedFileTest, ZeroFromAndSyncZerosTheTailOnly) {
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env_, Path("seg"), 0, kSize));
  std::memset(mf->data(), 'x', kSize);
  ASSERT_OK(mf->ZeroFromAndSync(1000));
  std::string_view head = mf->View(0, 1000);
  EXPECT_TRUE(std::all_of(head.begin(), head.end(), [](char c) { return c == 'x'; }));
  EXPECT_TRUE(AllZero(mf->View(1000, kSize)));
  std::string contents = ReadFile(Path("seg"));
  ASSERT_EQ(contents.size(), kSize);  // size unchanged
  EXPECT_EQ(contents[999], 'x');
  EXPECT_TRUE(AllZero(std::string_view(contents).substr(1000)));
}

TEST_P(MappedFileTest, ZeroFromAndSyncAtOrPastTheEndIsANoOp) {
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env_, Path("seg"), 0, kSize));
  std::memset(mf->data(), 'y', kSize);
  ASSERT_OK(mf->ZeroFromAndSync(kSize));
  ASSERT_OK(mf->ZeroFromAndSync(kSize + 100));
  EXPECT_EQ(mf->View(kSize - 1, 1), "y");
}

TEST_P(MappedFileTest, ViewClipsToTheFile) {
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env_, Path("seg"), 0, kSize));
  EXPECT_EQ(mf->View(0, 10).size(), 10u);
  EXPECT_EQ(mf->View(kSize - 10, 100).size(), 10u);
  EXPECT_EQ(mf->View(kSize - 10, 100).data(), mf->data() + kSize - 10);
  EXPECT_TRUE(mf->View(kSize, 1).empty());
  EXPECT_TRUE(mf->View(kSize + 4096, 1).empty());
  EXPECT_TRUE(mf->View(5, 0).empty());
  EXPECT_EQ(mf->View(0, UINT64_MAX).size(), kSize);
}

TEST_P(MappedFileTest, EmptySyncRangeIsOk) {
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env_, Path("seg"), 0, kSize));
  EXPECT_OK(mf->Sync(100, 100));
  EXPECT_OK(mf->Sync(200, 100));
  mf->Prefault(0, kSize);  // hints: must not disturb the contents
  std::memcpy(mf->data(), "abc", 3);
  mf->Release(0, kSize);
  EXPECT_EQ(mf->View(0, 3), "abc");
}

TEST_P(MappedFileTest, MappingOutlivesRemovalOfTheFile) {
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env_, Path("seg"), 0, kSize));
  std::memcpy(mf->data() + 10, "still here", 10);
  ASSERT_OK(env_->RemoveFile(Path("seg")));
  EXPECT_FALSE(env_->FileExists(Path("seg")));
  EXPECT_EQ(mf->View(10, 10), "still here");
}

INSTANTIATE_TEST_SUITE_P(Envs, MappedFileTest, ::testing::Values(EnvKind::kPosix, EnvKind::kMem),
                         [](const ::testing::TestParamInfo<EnvKind>& p) {
                           return p.param == EnvKind::kPosix ? "Posix" : "Mem";
                         });

// MemEnv-only: what Create and ZeroFromAndSync promise about durability.

TEST(MappedFileDurabilityTest, WrittenBytesAreDurableOnlyAfterSyncFile) {
  auto env = NewMemEnv();
  ASSERT_OK(env->CreateDir("/s"));
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env.get(), "/s/seg", 0, kSize));
  ASSERT_OK(mf->Write(0, "synced"));
  ASSERT_OK(mf->SyncFile());
  ASSERT_OK(mf->Write(100, "not synced"));
  auto crashed = env->CrashCopy({});
  ASSERT_OK_AND_ASSIGN(auto after, MappedFile::Open(crashed.get(), "/s/seg", 0, kSize, false));
  EXPECT_EQ(after->View(0, 6), "synced");
  EXPECT_TRUE(AllZero(after->View(100, 10)));
}

TEST(MappedFileDurabilityTest, CreatedFileSurvivesACrashAtFullSize) {
  auto env = NewMemEnv();
  ASSERT_OK(env->CreateDir("/s"));
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env.get(), "/s/seg", 0, kSize));
  auto crashed = env->CrashCopy({});
  ASSERT_OK_AND_ASSIGN(uint64_t size, crashed->GetFileSize("/s/seg"));
  EXPECT_EQ(size, kSize);
  EXPECT_OK(MappedFile::Open(crashed.get(), "/s/seg", 0, kSize, false).status());
}

TEST(MappedFileDurabilityTest, ZeroedTailIsDurable) {
  auto env = NewMemEnv();
  ASSERT_OK(env->CreateDir("/s"));
  ASSERT_OK_AND_ASSIGN(auto mf, MappedFile::Create(env.get(), "/s/seg", 0, kSize));
  std::memset(mf->data(), 'x', kSize);
  ASSERT_OK(mf->Sync(0, kSize));
  ASSERT_OK(mf->ZeroFromAndSync(500));
  auto crashed = env->CrashCopy({});
  ASSERT_OK_AND_ASSIGN(auto copy, MappedFile::Open(crashed.get(), "/s/seg", 0, kSize, false));
  EXPECT_EQ(copy->View(499, 1), "x");
  EXPECT_TRUE(AllZero(copy->View(500, kSize)));
}

TEST(MappedFileDurabilityTest, CreateOnAFullDiskFailsAndLeavesNoFile) {
  auto env = NewMemEnv();
  ASSERT_OK(env->CreateDir("/s"));
  env->SetCapacity(kSize - 1);
  auto r = MappedFile::Create(env.get(), "/s/seg", 0, kSize);
  EXPECT_TRUE(r.status().IsResourceExhausted()) << r.status().ToString();
  EXPECT_FALSE(env->FileExists("/s/seg"));
}

TEST(DirNameTest, StripsTheLastComponent) {
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("/root/commitlog/00000000000000000000"), "/root/commitlog");
  EXPECT_EQ(DirName("/file"), "/");
  EXPECT_EQ(DirName("file"), ".");
}

}  // namespace
}  // namespace mqstore
