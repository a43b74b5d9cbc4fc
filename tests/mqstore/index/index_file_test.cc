#include "index/index_file.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mqstore/coding.h"
#include "mqstore/mem_env.h"
#include "support/fault_injection_env.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

constexpr char kPath[] = "/idx/f";
constexpr IndexGeometry kTiny{4, 16};  // 4 slots: hashes h and h + 4 share a slot
constexpr int64_t kT0 = 1'700'000'000'000;
constexpr int64_t kAll = INT64_MAX;

std::vector<int64_t> FindAll(const IndexFile& f, uint32_t hash, int64_t begin = INT64_MIN,
                             int64_t end = INT64_MAX, int64_t limit = kAll, size_t max = 100) {
  std::vector<int64_t> out;
  f.Find(hash, begin, end, limit, max, &out);
  return out;
}

// Writes `bytes` at `offset` of `path` and syncs them: durable damage.
void Overwrite(Env* env, const std::string& path, uint64_t offset, std::string_view bytes) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<File> file, env->OpenFile(path, OpenMode::kReadWrite));
  ASSERT_OK(file->Write(offset, bytes));
  ASSERT_OK(file->Sync());
}

// Record i: offset 1000 + 100 i, size 100, stored at kT0 + 10 i.
void AppendRecord(IndexFile* f, int i, std::vector<uint32_t> hashes) {
  ASSERT_TRUE(f->CanTake(hashes.size(), kT0 + 10 * i));
  f->Append(hashes, 1000 + 100 * i, 1100 + 100 * i, kT0 + 10 * i);
}

class IndexFileTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(env_->CreateDir("/idx")); }

  std::unique_ptr<IndexFile> NewFile(Env* env = nullptr) {
    auto f = IndexFile::Create(env ? env : env_.get(), kPath, kTiny, 1000);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? std::move(f).value() : nullptr;
  }
  // The file as Load finds it on `env` after a crash: newest header, heads restored.
  std::unique_ptr<IndexFile> Reopen(Env* env) {
    auto f = IndexFile::Open(env, kPath);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    if (!f.ok()) return nullptr;
    EXPECT_TRUE((*f)->RestoreSlotHeads().ok());
    return std::move(f).value();
  }

  std::unique_ptr<MemEnv> env_ = NewMemEnv();
};

TEST_F(IndexFileTest, EntryIsTwentyBigEndianBytes) {
  IndexEntry e{0x01020304, 0x0102030405060708, 0x0A0B0C0D, 7};
  char buf[kIndexEntrySize];
  EncodeIndexEntry(e, buf);
  EXPECT_EQ(std::string(buf, 4), std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(std::string(buf + 4, 8), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(std::string(buf + 12, 4), std::string("\x0A\x0B\x0C\x0D", 4));
  EXPECT_EQ(std::string(buf + 16, 4), std::string("\0\0\0\x07", 4));
  EXPECT_EQ(DecodeIndexEntry(buf), e);
}

TEST_F(IndexFileTest, HeaderRoundTripsAndRejectsDamage) {
  IndexHeader h;
  h.sequence = 5;
  h.geometry = kTiny;
  h.used_slots = 2;
  h.entry_count = 3;
  h.begin_timestamp_ms = kT0;
  h.end_timestamp_ms = kT0 + 20;
  h.begin_offset = 1000;
  h.end_offset = 1300;
  char buf[kIndexHeaderCopySize];
  EncodeIndexHeader(h, buf);
  IndexHeader back;
  ASSERT_OK(DecodeIndexHeader(std::string_view(buf, sizeof(buf)), &back));
  EXPECT_EQ(back, h);

  for (size_t i = 0; i < sizeof(buf); ++i) {
    std::string damaged(buf, sizeof(buf));
    damaged[i] ^= 0x10;
    EXPECT_TRUE(DecodeIndexHeader(damaged, &back).IsCorruption()) << "byte " << i;
  }
  EXPECT_TRUE(DecodeIndexHeader(std::string_view(buf, 40), &back).IsCorruption());
  EXPECT_TRUE(DecodeIndexHeader(std::string(kIndexHeaderCopySize, '\0'), &back).IsCorruption());

  h.entry_count = 0;  // more slots in use than entries
  EncodeIndexHeader(h, buf);
  EXPECT_TRUE(DecodeIndexHeader(std::string_view(buf, sizeof(buf)), &back).IsCorruption());
}

TEST_F(IndexFileTest, FindWalksTheSlotChainNewestFirstAndComparesHashes) {
  auto f = NewFile();
  AppendRecord(f.get(), 0, {1});
  AppendRecord(f.get(), 1, {5});     // same slot as 1, other hash
  AppendRecord(f.get(), 2, {1, 2});  // two keys of one record
  AppendRecord(f.get(), 3, {1});
  EXPECT_EQ(f->entry_count(), 5u);
  EXPECT_EQ(f->end_offset(), 1400);
  EXPECT_EQ(FindAll(*f, 1), (std::vector<int64_t>{1300, 1200, 1000}));
  EXPECT_EQ(FindAll(*f, 5), (std::vector<int64_t>{1100}));
  EXPECT_EQ(FindAll(*f, 2), (std::vector<int64_t>{1200}));
  EXPECT_TRUE(FindAll(*f, 3).empty());
  EXPECT_TRUE(FindAll(*f, 9).empty());  // slot 1's chain, no hash matches
  // Slot 1 heads entry 5 -> 3 -> 2 -> 1.
  EXPECT_EQ(f->SlotHead(1), 5u);
  EXPECT_EQ(f->EntryAt(5).prev, 3u);
  EXPECT_EQ(f->EntryAt(3).prev, 2u);
  EXPECT_EQ(f->EntryAt(2).prev, 1u);
  EXPECT_EQ(f->EntryAt(1).prev, 0u);
  EXPECT_EQ(f->EntryAt(4).time_diff_ms, 20u);
}

TEST_F(IndexFileTest, FindFiltersByTimeVisibilityAndCount) {
  auto f = NewFile();
  for (int i = 0; i < 8; ++i) AppendRecord(f.get(), i, {7});
  // Stored at kT0 + 10 i; offsets 1000 + 100 i.
  EXPECT_EQ(FindAll(*f, 7, kT0 + 20, kT0 + 40), (std::vector<int64_t>{1400, 1300, 1200}));
  EXPECT_EQ(FindAll(*f, 7, kT0 + 21, kT0 + 39), (std::vector<int64_t>{1300}));
  EXPECT_TRUE(FindAll(*f, 7, kT0 + 71, kT0 + 100).empty());
  EXPECT_EQ(FindAll(*f, 7, INT64_MIN, INT64_MAX, /*limit=*/1300),
            (std::vector<int64_t>{1200, 1100, 1000}));
  EXPECT_EQ(FindAll(*f, 7, INT64_MIN, INT64_MAX, kAll, /*max=*/2),
            (std::vector<int64_t>{1700, 1600}));
  // Appends to what is there, skipping a repeat of the last offset.
  std::vector<int64_t> out{1700};
  f->Find(7, INT64_MIN, INT64_MAX, kAll, 3, &out);
  EXPECT_EQ(out, (std::vector<int64_t>{1700, 1600, 1500}));
}

TEST_F(IndexFileTest, CanTakeChecksRoomAndTheTimeDiff) {
  auto f = NewFile();
  EXPECT_TRUE(f->CanTake(16, kT0));
  EXPECT_FALSE(f->CanTake(17, kT0));
  f->Append(std::vector<uint32_t>{1}, 1000, 1100, kT0);
  EXPECT_FALSE(f->CanTake(16, kT0));
  EXPECT_TRUE(f->CanTake(15, kT0 + 0xFFFFFFFFLL));
  EXPECT_FALSE(f->CanTake(1, kT0 + 0x100000000LL));
  EXPECT_TRUE(f->CanTake(0, kT0 + 0x100000000LL));  // no entries, no time diff
}

TEST_F(IndexFileTest, SyncAlternatesHeaderCopiesAndOpenTakesTheNewest) {
  auto f = NewFile();
  ASSERT_OK(f->Sync());  // header 1: empty file
  AppendRecord(f.get(), 0, {1, 2});
  ASSERT_OK(f->Sync());  // header 2
  AppendRecord(f.get(), 1, {3});
  ASSERT_OK(f->Sync());  // header 3
  ASSERT_OK(f->Sync());  // nothing new: no header 4
  EXPECT_EQ(f->durable_header().sequence, 3u);
  EXPECT_EQ(f->durable_header().entry_count, 3u);
  EXPECT_EQ(f->durable_header().end_offset, 1200);

  auto image = env_->CrashCopy({CrashMode::kDropUnsynced, 0});
  auto reopened = Reopen(image.get());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->durable_header(), f->durable_header());
  EXPECT_EQ(reopened->geometry(), kTiny);
  EXPECT_EQ(FindAll(*reopened, 3), (std::vector<int64_t>{1100}));
  EXPECT_EQ(reopened->begin_timestamp_ms(), kT0);
  EXPECT_EQ(reopened->end_timestamp_ms(), kT0 + 10);

  // A damaged newest copy (3 lives in copy 1): the file opens at header 2.
  Overwrite(image.get(), kPath, kIndexHeaderCopySize + 30, "\xFF");
  reopened = Reopen(image.get());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->durable_header().sequence, 2u);
  EXPECT_EQ(reopened->entry_count(), 2u);
  EXPECT_EQ(reopened->end_offset(), 1100);
  // Header 2 counts two entries; slot 3's head (entry 3) lies past them and is undone.
  EXPECT_EQ(reopened->SlotHead(3), 0u);
  EXPECT_TRUE(FindAll(*reopened, 3).empty());
  EXPECT_EQ(FindAll(*reopened, 1), (std::vector<int64_t>{1000}));
}

// Sequences wrap: a header numbered 2^64 - 1 (damage could write one with a valid CRC) is
// followed by 0 in the other copy, and that write wins at the next open. Before, the next
// sequence was 0, which the decoder rejected, so every later header write was lost (found
// by index_fuzzer: fuzz/corpus/index/regression-*-invalid-header).
TEST_F(IndexFileTest, HeaderSequencesWrapAndTheWriteAfterTheLargestStillWins) {
  auto f = NewFile();
  AppendRecord(f.get(), 0, {1});
  ASSERT_OK(f->Sync());  // header 1, in copy 1
  // Renumber it to the largest sequence (odd, so it stays in copy 1).
  IndexHeader largest = f->durable_header();
  largest.sequence = UINT64_MAX;
  char buf[kIndexHeaderCopySize];
  EncodeIndexHeader(largest, buf);
  f.reset();
  Overwrite(env_.get(), kPath, kIndexHeaderCopySize, std::string_view(buf, sizeof(buf)));

  auto reopened = Reopen(env_.get());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->durable_header().sequence, UINT64_MAX);
  AppendRecord(reopened.get(), 1, {2});
  ASSERT_OK(reopened->Sync());  // header 0, in copy 0
  EXPECT_EQ(reopened->durable_header().sequence, 0u);
  AppendRecord(reopened.get(), 2, {3});
  ASSERT_OK(reopened->Sync());  // header 1, in copy 1
  reopened.reset();

  auto again = Reopen(env_.get());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->durable_header().sequence, 1u);
  EXPECT_EQ(again->entry_count(), 3u);
  EXPECT_EQ(FindAll(*again, 3), (std::vector<int64_t>{1200}));
}

// Regression test (found by CrashRecoveryTest: mqdump verify warned of a damaged header copy
// after recovery and a clean close): a copy torn by a crash stayed damaged for good in a file
// that took no more records, because only a Sync with something new writes a header.
TEST_F(IndexFileTest, RepairHeaderCopiesRewritesADamagedCopyAndLeavesABlankOne) {
  auto header_copies_valid = [&](Env* env) {
    char bytes[kIndexHeaderSize];
    size_t n = 0;
    auto file = env->OpenFile(kPath, OpenMode::kReadOnly);
    EXPECT_TRUE(file.ok() && (*file)->Read(0, sizeof(bytes), bytes, &n).ok());
    EXPECT_EQ(n, sizeof(bytes));
    std::vector<bool> valid;
    for (size_t copy = 0; copy < 2; ++copy) {
      IndexHeader h;
      valid.push_back(
          DecodeIndexHeaderAt(
              std::string_view(bytes + copy * kIndexHeaderCopySize, kIndexHeaderCopySize), copy, &h)
              .ok());
    }
    return valid;
  };
  auto f = NewFile();
  AppendRecord(f.get(), 0, {1});
  ASSERT_OK(f->Sync());  // header 1, in copy 1; copy 0 is blank
  f.reset();
  {
    auto reopened = Reopen(env_.get());
    ASSERT_NE(reopened, nullptr);
    ASSERT_OK(reopened->RepairHeaderCopies());
    EXPECT_EQ(reopened->durable_header().sequence, 1u) << "a blank copy is not damage";
  }
  EXPECT_EQ(header_copies_valid(env_.get()), (std::vector<bool>{false, true}));

  // A torn header write left garbage in copy 0.
  Overwrite(env_.get(), kPath, 10, "\x5A\x5A");
  auto reopened = Reopen(env_.get());
  ASSERT_NE(reopened, nullptr);
  const IndexHeader before = reopened->durable_header();
  ASSERT_OK(reopened->RepairHeaderCopies());
  IndexHeader after = reopened->durable_header();
  EXPECT_EQ(after.sequence, 2u);
  after.sequence = before.sequence;
  EXPECT_EQ(after, before) << "the repair writes the same state";
  EXPECT_EQ(header_copies_valid(env_.get()), (std::vector<bool>{true, true}));
  ASSERT_OK(reopened->RepairHeaderCopies());  // nothing left to repair
  EXPECT_EQ(reopened->durable_header().sequence, 2u);

  // Durable: a power cut right after keeps both copies.
  auto image = env_->CrashCopy({CrashMode::kDropUnsynced, 0});
  EXPECT_EQ(header_copies_valid(image.get()), (std::vector<bool>{true, true}));
  auto again = Reopen(image.get());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->durable_header().sequence, 2u);
  EXPECT_EQ(FindAll(*again, 1), (std::vector<int64_t>{1000}));
}

TEST_F(IndexFileTest, OpenRejectsAFileThatNeverGotAHeader) {
  auto f = NewFile();
  AppendRecord(f.get(), 0, {1});
  auto image = env_->CrashCopy({CrashMode::kDropUnsynced, 0});
  EXPECT_TRUE(IndexFile::Open(image.get(), kPath).status().IsCorruption());
  EXPECT_TRUE(IndexFile::Open(env_.get(), kPath).status().IsCorruption());  // not synced yet
}

TEST_F(IndexFileTest, OpenRejectsAFileOfTheWrongSize) {
  ASSERT_OK(NewFile()->Sync());
  ASSERT_OK_AND_ASSIGN(auto raw, env_->OpenFile(kPath, OpenMode::kReadWrite));
  ASSERT_OK(raw->Truncate(kTiny.file_bytes() - 1));
  EXPECT_TRUE(IndexFile::Open(env_.get(), kPath).status().IsCorruption());
}

// A head written back to disk after the last Sync points at an entry the header does not
// count: RestoreSlotHeads finds the slot's newest counted entry instead.
TEST_F(IndexFileTest, RestoreSlotHeadsUndoesHeadsPastTheCount) {
  {
    auto f = NewFile();
    AppendRecord(f.get(), 0, {1});
    AppendRecord(f.get(), 1, {5, 2});
    AppendRecord(f.get(), 2, {6});
    ASSERT_OK(f->Sync());  // 4 entries; slot 1: 2 -> 1, slot 2: 4 -> 3
  }
  char word[4];
  EncodeBig32(word, 9);  // slot 1 -> entry 9
  Overwrite(env_.get(), kPath, kIndexHeaderSize + 4, std::string(word, 4));
  EncodeBig32(word, 7);  // slot 3 (empty) -> entry 7
  Overwrite(env_.get(), kPath, kIndexHeaderSize + 12, std::string(word, 4));
  auto f = Reopen(env_.get());
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->SlotHead(1), 2u);
  EXPECT_EQ(f->SlotHead(2), 4u);
  EXPECT_EQ(f->SlotHead(3), 0u);
  EXPECT_EQ(FindAll(*f, 1), (std::vector<int64_t>{1000}));
  EXPECT_EQ(FindAll(*f, 5), (std::vector<int64_t>{1100}));
  // New entries link behind the restored heads.
  AppendRecord(f.get(), 3, {1});
  EXPECT_EQ(FindAll(*f, 1), (std::vector<int64_t>{1300, 1000}));
}

// Regression test (found by CrashRecoveryTest with CrashMode::kCorruptUnsynced): a slot
// page written after the last Sync and garbled by the crash left heads *within* the count,
// pointing at another slot's entry or at an older entry of their own. RestoreSlotHeads
// trusted them and lookups by key missed records; after a crash every head is recomputed.
TEST_F(IndexFileTest, RebuildSlotHeadsRepairsGarbledHeadsWithinTheCount) {
  {
    auto f = NewFile();
    AppendRecord(f.get(), 0, {1});
    AppendRecord(f.get(), 1, {5, 2});
    AppendRecord(f.get(), 2, {6});
    ASSERT_OK(f->Sync());  // 4 entries; slot 1: 2 -> 1, slot 2: 4 -> 3
  }
  char word[4];
  EncodeBig32(word, 3);  // slot 1 -> entry 3, which belongs to slot 2
  Overwrite(env_.get(), kPath, kIndexHeaderSize + 4, std::string(word, 4));
  EncodeBig32(word, 3);  // slot 2 -> entry 3, older than its head 4
  Overwrite(env_.get(), kPath, kIndexHeaderSize + 8, std::string(word, 4));
  EncodeBig32(word, 9);  // slot 3 (empty) -> past the count
  Overwrite(env_.get(), kPath, kIndexHeaderSize + 12, std::string(word, 4));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<IndexFile> f, IndexFile::Open(env_.get(), kPath));
  ASSERT_OK(f->RebuildSlotHeads());
  EXPECT_EQ(f->SlotHead(0), 0u);
  EXPECT_EQ(f->SlotHead(1), 2u);
  EXPECT_EQ(f->SlotHead(2), 4u);
  EXPECT_EQ(f->SlotHead(3), 0u);
  EXPECT_EQ(FindAll(*f, 1), (std::vector<int64_t>{1000}));
  EXPECT_EQ(FindAll(*f, 5), (std::vector<int64_t>{1100}));
  EXPECT_EQ(FindAll(*f, 6), (std::vector<int64_t>{1200}));
  EXPECT_EQ(FindAll(*f, 2), (std::vector<int64_t>{1100}));
}

// Regression test (found by index_fuzzer): with slot heads damaged inside the count, two
// slots pointing at one entry, TruncateFrom counted more used slots than entries and wrote a
// header its own decoder rejects; such heads are now recomputed from the entries kept.
TEST_F(IndexFileTest, TruncateFromRecomputesHeadsThatCannotBeRight) {
  {
    auto f = NewFile();
    AppendRecord(f.get(), 0, {1});
    AppendRecord(f.get(), 1, {2});
    AppendRecord(f.get(), 2, {3});
    ASSERT_OK(f->Sync());  // entries 1..3 in slots 1..3
  }
  char word[4];
  EncodeBig32(word, 1);  // slots 0 and 2 -> entry 1 (which belongs to slot 1)
  Overwrite(env_.get(), kPath, kIndexHeaderSize + 0, std::string(word, 4));
  Overwrite(env_.get(), kPath, kIndexHeaderSize + 8, std::string(word, 4));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<IndexFile> f, IndexFile::Open(env_.get(), kPath));
  ASSERT_OK(f->TruncateFrom(1100));  // keeps entry 1 only
  EXPECT_EQ(f->entry_count(), 1u);
  EXPECT_EQ(f->SlotHead(0), 0u);
  EXPECT_EQ(f->SlotHead(1), 1u);
  EXPECT_EQ(f->SlotHead(2), 0u);
  EXPECT_EQ(FindAll(*f, 1), (std::vector<int64_t>{1000}));
  f.reset();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<IndexFile> reopened, IndexFile::Open(env_.get(), kPath));
  EXPECT_EQ(reopened->entry_count(), 1u);
}

// Regression test (found by index_fuzzer): Append counts a slot as newly used only when its
// head is 0, so a damaged head made the count drift, and Sync wrote used_slots 0 with one
// entry, a header its own decoder rejects. The header writer now keeps it in range.
TEST_F(IndexFileTest, AnAppendBehindADamagedHeadStillWritesAValidHeader) {
  {
    auto f = NewFile();
    ASSERT_OK(f->Sync());  // no entries
  }
  char word[4];
  EncodeBig32(word, 5);  // slot 1 -> entry 5, past the count
  Overwrite(env_.get(), kPath, kIndexHeaderSize + 4, std::string(word, 4));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<IndexFile> f, IndexFile::Open(env_.get(), kPath));
  AppendRecord(f.get(), 0, {1});
  ASSERT_OK(f->Sync());
  f.reset();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<IndexFile> reopened, IndexFile::Open(env_.get(), kPath));
  EXPECT_EQ(reopened->entry_count(), 1u);
  EXPECT_EQ(reopened->durable_header().used_slots, 1u);
}

TEST_F(IndexFileTest, TruncateFromDropsTheSuffixAndRelinksSlots) {
  auto f = NewFile();
  AppendRecord(f.get(), 0, {1, 2});
  AppendRecord(f.get(), 1, {5});
  AppendRecord(f.get(), 2, {1, 3});
  AppendRecord(f.get(), 3, {2});
  ASSERT_EQ(f->entry_count(), 6u);
  EXPECT_EQ(f->EntriesBelow(1200), 3u);
  EXPECT_EQ(f->EntriesBelow(0), 0u);
  EXPECT_EQ(f->EntriesBelow(99999), 6u);

  ASSERT_OK(f->TruncateFrom(1200));  // drops records 2 and 3
  EXPECT_EQ(f->entry_count(), 3u);
  EXPECT_EQ(f->end_offset(), 1200);
  EXPECT_EQ(f->end_timestamp_ms(), kT0 + 10);
  EXPECT_EQ(FindAll(*f, 1), (std::vector<int64_t>{1000}));
  EXPECT_EQ(FindAll(*f, 2), (std::vector<int64_t>{1000}));
  EXPECT_EQ(FindAll(*f, 5), (std::vector<int64_t>{1100}));
  EXPECT_TRUE(FindAll(*f, 3).empty());
  EXPECT_EQ(f->SlotHead(3), 0u);
  IndexHeader h = f->durable_header();
  EXPECT_EQ(h.entry_count, 3u);
  EXPECT_EQ(h.used_slots, 2u);  // slots 1 and 2
  EXPECT_EQ(h.end_offset, 1200);

  // Durable: a crash copy holds the same.
  auto image = env_->CrashCopy({CrashMode::kDropUnsynced, 0});
  auto reopened = Reopen(image.get());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->durable_header(), h);
  EXPECT_EQ(FindAll(*reopened, 1), (std::vector<int64_t>{1000}));
  EXPECT_TRUE(FindAll(*reopened, 3).empty());

  // Truncating at or past the end changes nothing; truncating everything empties the file.
  ASSERT_OK(f->TruncateFrom(5000));
  EXPECT_EQ(f->durable_header().sequence, h.sequence);
  ASSERT_OK(f->TruncateFrom(1000));
  EXPECT_EQ(f->entry_count(), 0u);
  EXPECT_EQ(f->end_offset(), 1000);
  EXPECT_EQ(f->durable_header().used_slots, 0u);
  EXPECT_EQ(f->durable_header().begin_timestamp_ms, 0);
  EXPECT_TRUE(FindAll(*f, 1).empty());
  AppendRecord(f.get(), 0, {1});
  EXPECT_EQ(FindAll(*f, 1), (std::vector<int64_t>{1000}));
}

// What a file must answer for hash h when it holds records [0, n) of Workload().
std::vector<int64_t> Expected(const std::vector<std::vector<uint32_t>>& records, uint32_t h,
                              size_t n) {
  std::vector<int64_t> out;
  for (size_t i = n; i-- > 0;) {
    for (uint32_t x : records[i]) {
      if (x == h) {
        out.push_back(1000 + 100 * static_cast<int64_t>(i));
        break;
      }
    }
  }
  return out;
}

std::vector<std::vector<uint32_t>> Workload() {
  std::vector<std::vector<uint32_t>> records;
  for (uint32_t i = 0; i < 12; ++i) records.push_back({i % 7, 7 + (i * 5) % 3});
  return records;  // two entries each over hashes 0..9; 8 records fill kTiny
}

// A crash before every file operation of a Sync and of a TruncateFrom, in every crash mode:
// the reopened file always holds a consistent prefix, and nothing past a truncation point
// once that truncation's header is durable.
TEST_F(IndexFileTest, CrashAtAnyPointOfSyncOrTruncateLeavesAConsistentFile) {
  const auto records = Workload();
  const CrashMode kModes[] = {CrashMode::kDropUnsynced, CrashMode::kTornPrefix,
                              CrashMode::kRandomPages};
  for (CrashMode mode : kModes) {
    for (uint64_t target = 0; target < 6; ++target) {
      for (uint64_t seed = 0; seed < 4; ++seed) {
        SCOPED_TRACE(testing::Message() << "mode " << static_cast<int>(mode) << " target " << target
                                        << " seed " << seed);
        auto base = NewMemEnv();
        ASSERT_OK(base->CreateDir("/idx"));
        test::FaultInjectionEnv env(base.get());
        auto f = NewFile(&env);
        ASSERT_NE(f, nullptr);
        for (int i = 0; i < 3; ++i) AppendRecord(f.get(), i, records[i]);
        ASSERT_OK(f->Sync());  // 3 records durable
        for (int i = 3; i < 8; ++i) AppendRecord(f.get(), i, records[i]);
        env.Arm(target, {mode, seed});
        ASSERT_OK(f->Sync());              // 8 records
        ASSERT_OK(f->TruncateFrom(1500));  // 5 records
        env.Disarm();
        std::unique_ptr<MemEnv> image = env.TakeImage();
        if (!image) continue;  // fewer operations than target
        auto g = Reopen(image.get());
        ASSERT_NE(g, nullptr);
        // Two entries per record; the durable state is one of 3, 8 or 5 records.
        ASSERT_EQ(g->entry_count() % 2, 0u);
        size_t n = g->entry_count() / 2;
        ASSERT_TRUE(n == 3 || n == 8 || n == 5) << n;
        EXPECT_EQ(g->end_offset(), 1000 + 100 * static_cast<int64_t>(n));
        for (uint32_t h = 0; h < 10; ++h) {
          EXPECT_EQ(FindAll(*g, h), Expected(records, h, n)) << "hash " << h << " n " << n;
        }
        // The file keeps working: truncate as the store would, then append.
        ASSERT_OK(g->TruncateFrom(1500));
        size_t kept = std::min<size_t>(n, 5);
        for (uint32_t h = 0; h < 10; ++h) EXPECT_EQ(FindAll(*g, h), Expected(records, h, kept));
        AppendRecord(g.get(), static_cast<int>(kept), records[kept]);
        for (uint32_t h = 0; h < 10; ++h) {
          EXPECT_EQ(FindAll(*g, h), Expected(records, h, kept + 1));
        }
      }
    }
  }
}

}  // namespace
}  // namespace mqstore
