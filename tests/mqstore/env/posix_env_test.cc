// Env::Default(): the POSIX environment, exercised on a fresh temporary directory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mqstore/env.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::TempDir;

class PosixEnvTest : public ::testing::Test {
 protected:
  std::unique_ptr<File> Create(const std::string& name) {
    auto f = env_->OpenFile(dir_.Sub(name), OpenMode::kCreate);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? std::move(f).value() : nullptr;
  }
  static std::string ReadAll(File* f) {
    auto size = f->Size();
    EXPECT_TRUE(size.ok());
    std::string buf(*size, '\0');
    size_t n = 0;
    EXPECT_OK(f->Read(0, buf.size(), buf.data(), &n));
    buf.resize(n);
    return buf;
  }
  static std::vector<std::string> Sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  }

  Env* env_ = Env::Default();
  TempDir dir_;
};

TEST_F(PosixEnvTest, OpenMissingFileFailsUnlessCreating) {
  EXPECT_TRUE(env_->OpenFile(dir_.Sub("f"), OpenMode::kReadOnly).status().IsNotFound());
  EXPECT_TRUE(env_->OpenFile(dir_.Sub("f"), OpenMode::kReadWrite).status().IsNotFound());
  EXPECT_FALSE(env_->FileExists(dir_.Sub("f")));
  auto f = Create("f");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path(), dir_.Sub("f"));
  EXPECT_TRUE(env_->FileExists(dir_.Sub("f")));
  ASSERT_OK_AND_ASSIGN(uint64_t size, f->Size());
  EXPECT_EQ(size, 0u);
}

TEST_F(PosixEnvTest, CreateKeepsExistingContents) {
  ASSERT_OK(Create("f")->Write(0, "abc"));
  auto again = Create("f");
  EXPECT_EQ(ReadAll(again.get()), "abc");
}

TEST_F(PosixEnvTest, WriteThenReadAtOffsets) {
  auto f = Create("f");
  ASSERT_OK(f->Write(0, "hello world"));
  ASSERT_OK(f->Write(6, "WORLD"));
  char buf[16];
  size_t n = 0;
  ASSERT_OK(f->Read(6, 5, buf, &n));
  EXPECT_EQ(std::string(buf, n), "WORLD");
  EXPECT_EQ(ReadAll(f.get()), "hello WORLD");
}

TEST_F(PosixEnvTest, ReadIsShortOnlyAtEndOfFile) {
  auto f = Create("f");
  ASSERT_OK(f->Write(0, "0123456789"));
  char buf[32];
  size_t n = 99;
  ASSERT_OK(f->Read(7, sizeof(buf), buf, &n));
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(std::string(buf, n), "789");
  ASSERT_OK(f->Read(10, 4, buf, &n));
  EXPECT_EQ(n, 0u);
  ASSERT_OK(f->Read(1000, 4, buf, &n));
  EXPECT_EQ(n, 0u);
}

TEST_F(PosixEnvTest, WritePastTheEndLeavesAHoleOfZeros) {
  auto f = Create("f");
  ASSERT_OK(f->Write(100, "x"));
  ASSERT_OK_AND_ASSIGN(uint64_t size, f->Size());
  EXPECT_EQ(size, 101u);
  std::string all = ReadAll(f.get());
  EXPECT_EQ(all, std::string(100, '\0') + "x");
}

TEST_F(PosixEnvTest, AllocateGrowsButNeverShrinks) {
  auto f = Create("f");
  ASSERT_OK(f->Write(0, "data"));
  ASSERT_OK(f->Allocate(8192));
  ASSERT_OK_AND_ASSIGN(uint64_t size, f->Size());
  EXPECT_EQ(size, 8192u);
  std::string all = ReadAll(f.get());
  EXPECT_EQ(all.substr(0, 4), "data");
  EXPECT_EQ(all.substr(4), std::string(8192 - 4, '\0'));
  ASSERT_OK(f->Allocate(100));
  ASSERT_OK_AND_ASSIGN(size, f->Size());
  EXPECT_EQ(size, 8192u);
}

TEST_F(PosixEnvTest, TruncateShrinksAndGrows) {
  auto f = Create("f");
  ASSERT_OK(f->Write(0, "abcdefgh"));
  ASSERT_OK(f->Truncate(3));
  EXPECT_EQ(ReadAll(f.get()), "abc");
  ASSERT_OK(f->Truncate(6));
  EXPECT_EQ(ReadAll(f.get()), std::string("abc\0\0\0", 6));
  ASSERT_OK_AND_ASSIGN(uint64_t size, env_->GetFileSize(dir_.Sub("f")));
  EXPECT_EQ(size, 6u);
}

TEST_F(PosixEnvTest, ZeroRangeKeepsTheSize) {
  auto f = Create("f");
  std::string data(3 * 4096, 'x');
  ASSERT_OK(f->Write(0, data));
  ASSERT_OK(f->ZeroRange(100, 5000));
  std::string all = ReadAll(f.get());
  ASSERT_EQ(all.size(), data.size());
  EXPECT_EQ(all.substr(0, 100), std::string(100, 'x'));
  EXPECT_EQ(all.substr(100, 5000), std::string(5000, '\0'));
  EXPECT_EQ(all.substr(5100), std::string(data.size() - 5100, 'x'));
  ASSERT_OK(f->ZeroRange(0, 0));
  EXPECT_EQ(ReadAll(f.get()).substr(0, 1), "x");
}

TEST_F(PosixEnvTest, WriteGatherWritesBothPiecesInOrder) {
  auto f = Create("f");
  ASSERT_OK(f->WriteGather(3, "abc", "de"));
  EXPECT_EQ(ReadAll(f.get()), std::string(3, '\0') + "abcde");
}

// O_DIRECT: aligned writes reach the file (and what a cached reader sees); an unaligned
// one fails. Skipped where the file system refuses O_DIRECT.
TEST_F(PosixEnvTest, DirectWritesReachTheFileAndMustBeAligned) {
  auto f = Create("f");
  ASSERT_OK(f->Allocate(4 * kDirectIoAlignment));
  auto direct = env_->OpenFile(dir_.Sub("f"), OpenMode::kReadWriteDirect);
  if (direct.status().code() == Status::Code::kNotSupported) GTEST_SKIP() << direct.status().ToString();
  ASSERT_OK(direct.status());
  auto* page = static_cast<char*>(std::aligned_alloc(kDirectIoAlignment, kDirectIoAlignment));
  std::memset(page, 'z', kDirectIoAlignment);
  EXPECT_OK((*direct)->Write(kDirectIoAlignment, std::string_view(page, kDirectIoAlignment)));
  EXPECT_FALSE((*direct)->Write(1, std::string_view(page, kDirectIoAlignment)).ok());
  std::free(page);
  const std::string contents = ReadAll(f.get());
  ASSERT_EQ(contents.size(), 4 * kDirectIoAlignment);
  EXPECT_EQ(contents.substr(kDirectIoAlignment, kDirectIoAlignment),
            std::string(kDirectIoAlignment, 'z'));
  EXPECT_EQ(contents.substr(0, kDirectIoAlignment), std::string(kDirectIoAlignment, '\0'));
  EXPECT_TRUE(
      env_->OpenFile(dir_.Sub("missing"), OpenMode::kReadWriteDirect).status().IsNotFound());
}

TEST_F(PosixEnvTest, SyncSucceeds) {
  auto f = Create("f");
  ASSERT_OK(f->Write(0, "durable"));
  EXPECT_OK(f->Sync());
  EXPECT_OK(env_->SyncDir(dir_.path()));
}

TEST_F(PosixEnvTest, WritesThroughAMappingAreReadByFileRead) {
  auto f = Create("f");
  ASSERT_OK(f->Allocate(8192));
  ASSERT_OK_AND_ASSIGN(auto region, f->Map(8192, true));
  ASSERT_EQ(region->size(), 8192u);
  std::memcpy(region->data() + 4000, "across a page", 13);
  ASSERT_OK(region->Sync(4000, 13));  // unaligned start
  char buf[13];
  size_t n = 0;
  ASSERT_OK(f->Read(4000, 13, buf, &n));
  EXPECT_EQ(std::string(buf, n), "across a page");
  // And file writes are seen through the mapping.
  ASSERT_OK(f->Write(10, "pwrite"));
  EXPECT_EQ(std::string(region->data() + 10, 6), "pwrite");
  region->Prefault(0, 8192);
  region->Release(0, 8192);  // drops page-table entries only; contents stay
  EXPECT_EQ(std::string(region->data() + 4000, 13), "across a page");
}

// Prefault maps every page its range touches, also the partly covered ones at each end:
// prefaulting a log in steps that do not end on a page boundary leaves no page out.
TEST_F(PosixEnvTest, PrefaultMapsEveryPageTheRangeTouches) {
  auto f = Create("f");
  ASSERT_OK(f->Allocate(4 * 4096));
  ASSERT_OK_AND_ASSIGN(auto region, f->Map(4 * 4096, true));
  if (test::PagesMappedIn(region->data(), 4 * 4096) < 0) {
    GTEST_SKIP() << "/proc/self/pagemap cannot be read";
  }
  ASSERT_EQ(test::PagesMappedIn(region->data(), 4 * 4096), 0);
  region->Prefault(4096 + 100, 4096);  // the second page from byte 100, into the third
  EXPECT_EQ(test::PagesMappedIn(region->data(), 4096), 0);
  EXPECT_EQ(test::PagesMappedIn(region->data() + 4096, 2 * 4096), 2);
  EXPECT_EQ(test::PagesMappedIn(region->data() + 3 * 4096, 4096), 0);
}

// SetReadAhead is madvise RANDOM / NORMAL on the whole pages of the range: the kernel splits
// the mapping where the advice changes ("rr" in its flags) and joins it again.
TEST_F(PosixEnvTest, SetReadAheadAdvisesTheWholePagesOfTheRange) {
  auto f = Create("f");
  ASSERT_OK(f->Allocate(4 * 4096));
  ASSERT_OK_AND_ASSIGN(auto region, f->Map(4 * 4096, true));
  const char* base = region->data();
  const std::string before = test::MappingFlagsAt(base);
  if (before.empty()) GTEST_SKIP() << "/proc/self/smaps cannot be read";
  EXPECT_EQ(before.find(" rr"), std::string::npos) << "a new mapping reads ahead: " << before;
  region->SetReadAhead(100, 3 * 4096, false);  // whole pages: the 2nd and 3rd
  EXPECT_EQ(test::MappingFlagsAt(base).find(" rr"), std::string::npos);
  EXPECT_NE(test::MappingFlagsAt(base + 4096).find(" rr"), std::string::npos);
  EXPECT_NE(test::MappingFlagsAt(base + 2 * 4096).find(" rr"), std::string::npos);
  EXPECT_EQ(test::MappingFlagsAt(base + 3 * 4096).find(" rr"), std::string::npos);
  std::memcpy(region->data() + 4096, "written", 7);
  region->SetReadAhead(0, 4 * 4096, true);
  EXPECT_EQ(test::MappingFlagsAt(base + 4096).find(" rr"), std::string::npos);
  EXPECT_EQ(std::string(region->data() + 4096, 7), "written");
}

TEST_F(PosixEnvTest, MapRulesForReadOnlyFilesAndZeroLength) {
  ASSERT_OK(Create("f")->Write(0, std::string(4096, 'r')));
  ASSERT_OK_AND_ASSIGN(auto ro, env_->OpenFile(dir_.Sub("f"), OpenMode::kReadOnly));
  EXPECT_TRUE(ro->Map(4096, true).status().IsFailedPrecondition());
  ASSERT_OK_AND_ASSIGN(auto region, ro->Map(4096, false));
  EXPECT_EQ(region->data()[4095], 'r');
  EXPECT_TRUE(ro->Map(0, false).status().IsInvalidArgument());
  EXPECT_FALSE(ro->Write(0, "no").ok());
}

TEST_F(PosixEnvTest, ConcurrentWritesToDisjointRanges) {
  auto f = Create("f");
  constexpr int kThreads = 4, kChunk = 4096;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&f, t] {
      EXPECT_OK(f->Write(static_cast<uint64_t>(t) * kChunk,
                         std::string(kChunk, static_cast<char>('a' + t))));
    });
  }
  for (auto& t : threads) t.join();
  std::string all = ReadAll(f.get());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kChunk));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(all.substr(t * kChunk, kChunk), std::string(kChunk, static_cast<char>('a' + t)));
  }
}

TEST_F(PosixEnvTest, GetChildrenListsNamesOnly) {
  Create("a");
  Create("b");
  ASSERT_OK(env_->CreateDir(dir_.Sub("sub")));
  ASSERT_OK_AND_ASSIGN(auto names, env_->GetChildren(dir_.path()));
  EXPECT_EQ(Sorted(names), (std::vector<std::string>{"a", "b", "sub"}));
  ASSERT_OK_AND_ASSIGN(auto empty, env_->GetChildren(dir_.Sub("sub")));
  EXPECT_TRUE(empty.empty());
  EXPECT_TRUE(env_->GetChildren(dir_.Sub("missing")).status().IsNotFound());
}

TEST_F(PosixEnvTest, CreateDirMakesMissingParentsAndIsIdempotent) {
  std::string deep = dir_.Sub("a/b/c");
  ASSERT_OK(env_->CreateDir(deep));
  EXPECT_TRUE(env_->FileExists(dir_.Sub("a")));
  EXPECT_TRUE(env_->FileExists(dir_.Sub("a/b")));
  EXPECT_TRUE(env_->FileExists(deep));
  EXPECT_OK(env_->CreateDir(deep));
  EXPECT_OK(env_->CreateDir(deep + "/"));
  ASSERT_OK(env_->OpenFile(deep + "/f", OpenMode::kCreate).status());
  ASSERT_OK_AND_ASSIGN(auto names, env_->GetChildren(deep));
  EXPECT_EQ(names, std::vector<std::string>{"f"});
}

TEST_F(PosixEnvTest, CreateDirThroughAFileFails) {
  Create("file");
  EXPECT_FALSE(env_->CreateDir(dir_.Sub("file/sub")).ok());
}

TEST_F(PosixEnvTest, RenameFileMovesAndReplaces) {
  ASSERT_OK(Create("from")->Write(0, "new"));
  ASSERT_OK(Create("to")->Write(0, "old contents"));
  ASSERT_OK(env_->RenameFile(dir_.Sub("from"), dir_.Sub("to")));
  EXPECT_FALSE(env_->FileExists(dir_.Sub("from")));
  ASSERT_OK_AND_ASSIGN(auto f, env_->OpenFile(dir_.Sub("to"), OpenMode::kReadOnly));
  EXPECT_EQ(ReadAll(f.get()), "new");
  EXPECT_TRUE(env_->RenameFile(dir_.Sub("from"), dir_.Sub("x")).IsNotFound());
}

TEST_F(PosixEnvTest, RemoveFileAndDir) {
  Create("f");
  ASSERT_OK(env_->RemoveFile(dir_.Sub("f")));
  EXPECT_FALSE(env_->FileExists(dir_.Sub("f")));
  EXPECT_TRUE(env_->RemoveFile(dir_.Sub("f")).IsNotFound());

  ASSERT_OK(env_->CreateDir(dir_.Sub("d")));
  ASSERT_OK(env_->OpenFile(dir_.Sub("d/f"), OpenMode::kCreate).status());
  EXPECT_FALSE(env_->RemoveDir(dir_.Sub("d")).ok()) << "removed a non-empty directory";
  EXPECT_TRUE(env_->FileExists(dir_.Sub("d/f")));
  ASSERT_OK(env_->RemoveFile(dir_.Sub("d/f")));
  ASSERT_OK(env_->RemoveDir(dir_.Sub("d")));
  EXPECT_FALSE(env_->FileExists(dir_.Sub("d")));
  EXPECT_TRUE(env_->RemoveDir(dir_.Sub("d")).IsNotFound());
}

TEST_F(PosixEnvTest, SyncDirOfMissingDirectoryFails) {
  EXPECT_TRUE(env_->SyncDir(dir_.Sub("missing")).IsNotFound());
}

TEST_F(PosixEnvTest, GetFileSize) {
  ASSERT_OK(Create("f")->Write(0, std::string(1234, 'z')));
  ASSERT_OK_AND_ASSIGN(uint64_t size, env_->GetFileSize(dir_.Sub("f")));
  EXPECT_EQ(size, 1234u);
  EXPECT_TRUE(env_->GetFileSize(dir_.Sub("missing")).status().IsNotFound());
}

TEST_F(PosixEnvTest, LockFileIsExclusiveWithinTheProcess) {
  std::string path = dir_.Sub("LOCK");
  ASSERT_OK_AND_ASSIGN(auto lock, env_->LockFile(path));
  EXPECT_TRUE(env_->FileExists(path));
  auto second = env_->LockFile(path);
  EXPECT_TRUE(second.status().IsFailedPrecondition()) << second.status().ToString();
  lock.reset();
  ASSERT_OK_AND_ASSIGN(auto again, env_->LockFile(path));
  // A different path is an independent lock.
  EXPECT_OK(env_->LockFile(dir_.Sub("OTHER")).status());
}

TEST_F(PosixEnvTest, FailedLockAttemptDoesNotLeaveThePathLocked) {
  std::string path = dir_.Sub("nodir/LOCK");
  EXPECT_FALSE(env_->LockFile(path).ok());
  ASSERT_OK(env_->CreateDir(dir_.Sub("nodir")));
  EXPECT_OK(env_->LockFile(path).status());
}

TEST_F(PosixEnvTest, GetDiskSpaceIsSane) {
  ASSERT_OK_AND_ASSIGN(DiskSpace space, env_->GetDiskSpace(dir_.path()));
  EXPECT_GT(space.total_bytes, 0u);
  EXPECT_LE(space.available_bytes, space.total_bytes);
  EXPECT_FALSE(env_->GetDiskSpace(dir_.Sub("missing")).ok());
}

TEST(SystemClockTest, ReturnsMillisecondsSinceTheEpoch) {
  int64_t now = Clock::System()->NowMillis();
  EXPECT_GT(now, int64_t{1'600'000'000'000});  // after September 2020
  EXPECT_LT(now, int64_t{4'100'000'000'000});  // before 2100
  EXPECT_EQ(Clock::System(), Clock::System());
}

}  // namespace
}  // namespace mqstore
