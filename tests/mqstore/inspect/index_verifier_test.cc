// Verify on the hash index: a clean index passes, and damage to entries, slots and headers is
// reported with the file and byte offset, as a note, warning or corruption by what the next
// open would do with it (docs/format/hash_index.md, "Loading and crash rules").
#include "inspect/index_verifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "index/index_file.h"
#include "mqstore/inspect/keyed_store.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::FlipByteAt;
using test::IndexEntryPos;
using test::IndexSlotPos;
using test::RunVerify;
using test::VerifyResult;

class IndexVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    puts_ = test::CopyKeyedStore(dir_.path());
    ASSERT_EQ(puts_.size(), 40u);
    for (const auto& f : std::filesystem::directory_iterator(dir_.Sub("index"))) {
      files_.push_back(f.path().string());
    }
    std::sort(files_.begin(), files_.end());
    ASSERT_EQ(files_.size(), 2u);
  }

  // The header copies of `path` (copy 0, copy 1); sequence 0 when a copy is not valid.
  std::pair<IndexHeader, IndexHeader> Headers(const std::string& path) {
    std::string bytes = test::ReadFile(path);
    IndexHeader h[2];
    for (size_t c = 0; c < 2; ++c) {
      if (!DecodeIndexHeader(std::string_view(bytes).substr(c * 68, 68), &h[c]).ok()) {
        h[c] = IndexHeader();
      }
    }
    return {h[0], h[1]};
  }

  test::TempDir dir_;
  std::vector<test::KeyedPut> puts_;
  std::vector<std::string> files_;
};

TEST_F(IndexVerifierTest, ACleanIndexAndMetadataVerifyClean) {
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.problems.empty()) << v.Dump();
  EXPECT_TRUE(v.summary.clean());
  EXPECT_EQ(v.summary.index_files, 2u);
  EXPECT_EQ(v.summary.index_entries, 120u);  // UNIQ_KEY and two KEYS per record
  EXPECT_TRUE(v.summary.metadata_checked);
  EXPECT_EQ(v.summary.metadata_entries, 2u + 1u + 2u + 1u);
}

TEST_F(IndexVerifierTest, AnEntryPointingElsewhereIsCorruptionAtItsOffset) {
  // Entry 5's PHYSICALOFFSET (bytes 4..11 of the entry): its low byte.
  FlipByteAt(files_[0], IndexEntryPos(5) + 11);
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_FALSE(v.summary.clean());
  EXPECT_TRUE(v.Has(Severity::kCorruption, files_[0], IndexEntryPos(5), "entry 5")) << v.Dump();
}

TEST_F(IndexVerifierTest, AWrongKeyHashOrChainLinkIsCorruption) {
  FlipByteAt(files_[1], IndexEntryPos(7));        // KEYHASH of entry 7
  FlipByteAt(files_[0], IndexEntryPos(30) + 19);  // PREVENTRY of entry 30
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.Has(Severity::kCorruption, files_[1], IndexEntryPos(7), "none of the keys"))
      << v.Dump();
  EXPECT_TRUE(v.Has(Severity::kCorruption, files_[0], IndexEntryPos(30), "PREVENTRY")) << v.Dump();
}

TEST_F(IndexVerifierTest, ASlotHeadThatIsNotItsNewestEntryIsCorruption) {
  std::string bytes = test::ReadFile(files_[0]);
  uint32_t slot = 0;
  while (bytes[IndexSlotPos(slot) + 3] == 0) ++slot;  // a used slot (heads are < 256 here)
  FlipByteAt(files_[0], IndexSlotPos(slot) + 3);
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.Has(Severity::kCorruption, files_[0], IndexSlotPos(slot), "slot")) << v.Dump();
}

TEST_F(IndexVerifierTest, ADamagedHeaderCopyBesideAValidOneIsAWarning) {
  auto [h0, h1] = Headers(files_[0]);
  ASSERT_NE(h1.sequence, 0u);  // the first header write goes to copy 1
  // The older copy, or copy 0 when it was never written (a file flushed once).
  size_t older = h0.sequence < h1.sequence ? 0 : 1;
  FlipByteAt(files_[0], static_cast<int64_t>(older * 68 + 30));
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.summary.clean()) << v.Dump();
  EXPECT_TRUE(v.Has(Severity::kWarning, files_[0], static_cast<int64_t>(older * 68),
                    "header copy " + std::to_string(older) + " is damaged"))
      << v.Dump();
}

TEST_F(IndexVerifierTest, AnEarlierFileWithoutAHeaderIsCorruptionTheLastOneANote) {
  FlipByteAt(files_[1], 30);
  FlipByteAt(files_[1], 68 + 30);
  VerifyResult last = RunVerify(dir_.path());
  EXPECT_TRUE(last.summary.clean()) << last.Dump();
  EXPECT_TRUE(last.Has(Severity::kNote, files_[1], -1, "the next open removes it")) << last.Dump();
  EXPECT_EQ(last.summary.index_files, 1u);

  test::TempDir other;
  test::CopyKeyedStore(other.path());
  std::vector<std::string> files;
  for (const auto& f : std::filesystem::directory_iterator(other.Sub("index"))) {
    files.push_back(f.path().string());
  }
  std::sort(files.begin(), files.end());
  std::filesystem::resize_file(files[0], 1000);  // wrong size, before a usable file
  VerifyResult first = RunVerify(other.path());
  EXPECT_FALSE(first.summary.clean());
  EXPECT_TRUE(first.Has(Severity::kCorruption, files[0], 0, "the index cannot be loaded"))
      << first.Dump();
}

TEST_F(IndexVerifierTest, StrayNamesAreReportedAndAnEmptyTimerDirIsClean) {
  { std::ofstream(dir_.Sub("index/notes.txt")) << "x"; }
  std::filesystem::create_directories(dir_.Sub("timer/log"));  // timer/log/: timer_verifier_test
  VerifyResult v = RunVerify(dir_.path());
  EXPECT_TRUE(v.summary.clean()) << v.Dump();
  EXPECT_TRUE(v.Has(Severity::kWarning, dir_.Sub("index/notes.txt"), -1, "17-digit")) << v.Dump();
  EXPECT_EQ(v.summary.timer_segments, 0u);
}

}  // namespace
}  // namespace mqstore
