// index_fuzzer: one file of the hash index (docs/format/hash_index.md).
//
// Input: one flags byte, then the file's bytes. Flag bit 0 recomputes both header copies'
// CRCs, so that mutated header fields get past the CRC; bit 1 makes the reopened file look
// like one after an unclean stop (RestoreSlotHeads first); bit 2 like one after a crash
// (RebuildSlotHeads first).
//
// Exercised: the header codec, IndexFile::Open (geometry from the newest valid copy),
// RepairHeaderCopies, SlotHead, EntryAt, RestoreSlotHeads or RebuildSlotHeads, Find, EntriesBelow,
// TruncateFrom, Append and a reopen. Checked: headers re-encode to their bytes; repaired heads stay
// within the entry count; Find returns only offsets of entries with the hash it was asked for,
// below the visible limit, at most as many as asked; truncation keeps exactly the entries below the
// cut and survives a reopen; an appended entry is found.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_store.h"
#include "index/index_file.h"
#include "mqstore/coding.h"
#include "mqstore/mem_env.h"
#include "util/crc32.h"

namespace {

constexpr uint8_t kFixCrcs = 0x1;
constexpr uint8_t kRestoreHeads = 0x2;
constexpr uint8_t kRebuildHeads = 0x4;
constexpr uint32_t kMaxScan = 4096;  // slots and entries looked at, at most

// Whether the header the file last made durable is one its decoder accepts.
bool DurableHeaderValid(const mqstore::IndexFile& index) {
  mqstore::IndexHeader h = index.durable_header();
  char bytes[mqstore::kIndexHeaderCopySize];
  mqstore::EncodeIndexHeader(h, bytes);
  mqstore::IndexHeader decoded;
  return mqstore::DecodeIndexHeader(std::string_view(bytes, sizeof(bytes)), &decoded).ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mqstore;
  using namespace mqstore::fuzz;
  if (size == 0 || size > (256u << 10)) return 0;
  const uint8_t flags = data[0];
  std::string file(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (size_t copy = 0; copy < 2; ++copy) {
    const size_t at = copy * kIndexHeaderCopySize;
    if (file.size() < at + kIndexHeaderCopySize) break;
    if (flags & kFixCrcs) {
      EncodeBig32(file.data() + at + kIndexHeaderCopySize - 4,
                  crc32::Value(file.data() + at, kIndexHeaderCopySize - 4));
    }
    IndexHeader h;
    if (DecodeIndexHeader(std::string_view(file).substr(at, kIndexHeaderCopySize), &h).ok()) {
      char again[kIndexHeaderCopySize];
      EncodeIndexHeader(h, again);
      FUZZ_CHECK(std::string_view(again, kIndexHeaderCopySize) ==
                     std::string_view(file).substr(at, kIndexHeaderCopySize),
                 "an index header does not re-encode to its bytes");
    }
  }

  std::unique_ptr<MemEnv> env = NewMemEnv();
  const std::string path = std::string(kStoreDir) + "/index/20231114221320000";
  FUZZ_CHECK(env->CreateDir(std::string(kStoreDir) + "/index").ok(), "mkdir");
  {
    auto f = env->OpenFile(path, OpenMode::kCreate);
    FUZZ_CHECK(f.ok() && (*f)->Allocate(file.size()).ok() && (*f)->Write(0, file).ok() &&
                   (*f)->Sync().ok(),
               "write index file");
  }
  auto opened = IndexFile::Open(env.get(), path);
  if (!opened.ok()) return 0;
  std::unique_ptr<IndexFile> index = std::move(opened).value();
  const IndexGeometry g = index->geometry();
  FUZZ_CHECK(g.file_bytes() == file.size(), "opened an index file of the wrong size");
  FUZZ_CHECK(index->entry_count() <= g.max_entries, "entry count past the geometry");
  // A damaged other copy is written again with the same state (as Load does).
  const uint32_t opened_count = index->entry_count();
  Status repaired_copies = index->RepairHeaderCopies();
  FUZZ_CHECK(repaired_copies.ok(), "repairing header copies: " + repaired_copies.ToString());
  FUZZ_CHECK(DurableHeaderValid(*index), "the header repair wrote a header its decoder rejects");
  FUZZ_CHECK(index->entry_count() == opened_count, "the header repair changed the entry count");

  if (flags & (kRestoreHeads | kRebuildHeads)) {
    Status repaired = flags & kRebuildHeads ? index->RebuildSlotHeads() : index->RestoreSlotHeads();
    FUZZ_CHECK(repaired.ok(), "repairing slot heads: " + repaired.ToString());
    for (uint32_t s = 0; s < std::min(g.slot_count, kMaxScan); ++s) {
      FUZZ_CHECK(index->SlotHead(s) <= index->entry_count(),
                 "a repaired head points past the count");
    }
  }
  // Every entry the chains can reach (Find walks up to max_entries), by (hash, offset).
  std::set<std::pair<uint32_t, int64_t>> stored;
  const uint32_t scan = std::min(g.max_entries, kMaxScan);
  for (uint32_t n = 1; n <= scan; ++n) {
    IndexEntry e = index->EntryAt(n);
    stored.emplace(e.key_hash, e.physical_offset);
  }
  std::vector<uint32_t> hashes = {0, 1};
  for (uint32_t n = 1; n <= std::min<uint32_t>(scan, 8); ++n)
    hashes.push_back(index->EntryAt(n).key_hash);
  for (uint32_t s = 0; s < std::min<uint32_t>(g.slot_count, 8); ++s) {
    if (uint32_t head = index->SlotHead(s); head >= 1 && head <= scan) {
      hashes.push_back(index->EntryAt(head).key_hash);
    }
  }
  const int64_t visible = index->end_offset();
  for (uint32_t hash : hashes) {
    for (auto [begin, end] : {std::pair<int64_t, int64_t>{INT64_MIN, INT64_MAX},
                              std::pair<int64_t, int64_t>{kStartMs, kStartMs + 1000}}) {
      std::vector<int64_t> found;
      index->Find(hash, begin, end, visible, 16, &found);
      FUZZ_CHECK(found.size() <= 16, "Find returned more than asked");
      for (int64_t offset : found) {
        FUZZ_CHECK(offset < visible, "Find returned an offset past the visible limit");
        FUZZ_CHECK(g.max_entries > kMaxScan || stored.count({hash, offset}),
                   "Find returned an offset no entry with the hash has");
      }
    }
  }

  // Truncation keeps the entries below the cut, durably.
  int64_t cut = index->entry_count() == 0
                    ? index->begin_offset()
                    : index->EntryAt((index->entry_count() + 1) / 2).physical_offset;
  const uint32_t keep = index->EntriesBelow(cut);
  FUZZ_CHECK(keep <= index->entry_count(), "EntriesBelow past the count");
  const bool cuts = index->end_offset() > cut;
  Status truncated = index->TruncateFrom(cut);
  FUZZ_CHECK(truncated.ok(), truncated.ToString());
  if (cuts) {
    FUZZ_CHECK(index->entry_count() == keep, "TruncateFrom kept " +
                                                 std::to_string(index->entry_count()) +
                                                 " entries, not " + std::to_string(keep));
  }
  // Whatever the damage, the header written is one the decoder accepts (regression-truncate-*:
  // used slots out of range, and a sequence that wrapped to 0).
  FUZZ_CHECK(DurableHeaderValid(*index), "TruncateFrom wrote a header its decoder rejects");
  const uint32_t count = index->entry_count();
  const int64_t end_offset = index->end_offset();
  // One more entry, then reopen: the header counts what Sync made durable.
  const int64_t ts = index->entry_count() == 0 ? kStartMs : index->end_timestamp_ms();
  const uint32_t hash = 0x9E3779B9u;
  bool appended = false;
  if (index->CanTake(1, ts) && end_offset < INT64_MAX - 64) {
    const uint32_t extra[] = {hash};
    index->Append(extra, end_offset, end_offset + 64, ts);
    std::vector<int64_t> found;
    index->Find(hash, INT64_MIN, INT64_MAX, INT64_MAX, 1, &found);
    FUZZ_CHECK(found.size() == 1 && found[0] == end_offset, "an appended entry is not found");
    FUZZ_CHECK(index->Sync().ok(), "index sync");
    // The same after an append (regression-append-*).
    FUZZ_CHECK(DurableHeaderValid(*index),
               "an append made Sync write a header its decoder rejects");
    appended = true;
  }
  index.reset();
  auto reopened = IndexFile::Open(env.get(), path);
  FUZZ_CHECK(reopened.ok(), "reopening what was written: " + reopened.status().ToString());
  FUZZ_CHECK((*reopened)->entry_count() == count + (appended ? 1 : 0),
             "reopened with " + std::to_string((*reopened)->entry_count()) + " entries");
  return 0;
}
