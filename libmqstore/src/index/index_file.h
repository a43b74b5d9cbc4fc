// IndexFile: one file of the hash index, mapping a key hash to the commit-log offsets of the
// records indexed under that key, newest first (docs/format/hash_index.md).
//
//   +------------------+---------------------------+-----------------------------------+
//   | header, 2 copies | slot table                | entries 1 .. max_entries          |
//   | 2 x 68 bytes     | slot_count x 4            | max_entries x 20                  |
//   +------------------+---------------------------+-----------------------------------+
//   slot s  : number of the newest entry whose key hash % slot_count == s (0: none)
//   entry n : key hash 4 | physical offset 8 | time diff (ms) 4 | previous entry number 4
//
// Every slot heads a chain through the entries' previous-entry numbers, newest first. Entries
// are appended in commit-log order, so the entry array is sorted by physical offset and every
// chain is too (descending). Different keys can share a slot (the stored hash tells them
// apart) and, rarely, a 32-bit hash: results are candidates that the caller checks against
// the record.
//
// Durability: the header is not a live counter. It is written only by Sync (and
// TruncateFrom), after the entries and slots it covers are synced, so a header copy on disk
// always describes a durable prefix of the entry array. After a crash, entries past the header
// count and slot heads pointing past it are leftovers; RestoreSlotHeads repairs the heads.
//
// Thread safety: one writer (Append), any number of readers (Find and the accessors), and one
// Sync caller, all at once. Publication: Append writes the entry, then stores the slot head
// with release semantics, then publishes the count (release). A reader that loads a head
// (acquire) sees every entry its chain reaches, complete; the count only decides whether a
// file has entries at all and bounds its time range. RestoreSlotHeads and TruncateFrom
// require that nothing else uses the file.
#ifndef MQSTORE_INDEX_INDEX_FILE_H_
#define MQSTORE_INDEX_INDEX_FILE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/env.h"
#include "util/mapped_file.h"
#include "util/sequence.h"

namespace mqstore {

inline constexpr uint32_t kIndexMagic = 0x4D514958;  // "MQIX"
inline constexpr uint32_t kIndexVersion = 1;
inline constexpr size_t kIndexHeaderCopySize = 68;  // 64 bytes of fields, then their CRC-32
inline constexpr size_t kIndexHeaderSize = 2 * kIndexHeaderCopySize;
inline constexpr size_t kIndexSlotSize = 4;
inline constexpr size_t kIndexEntrySize = 20;

// How a file is divided; recorded in its header, so options apply to new files only.
struct IndexGeometry {
  uint32_t slot_count = 5'000'000;
  uint32_t max_entries = 20'000'000;

  uint64_t file_bytes() const {
    return kIndexHeaderSize + uint64_t{slot_count} * kIndexSlotSize +
           uint64_t{max_entries} * kIndexEntrySize;
  }
  bool operator==(const IndexGeometry&) const = default;
};

// The fields of one header copy.
struct IndexHeader {
  uint64_t sequence = 0;  // which copy is newer (util/sequence.h); write N goes to copy N % 2
  IndexGeometry geometry;
  uint32_t used_slots = 0;
  uint32_t entry_count = 0;
  // Store timestamps of the first and last entry (0 and 0 while there is none).
  int64_t begin_timestamp_ms = 0;
  int64_t end_timestamp_ms = 0;
  // The file covers the records in [begin_offset, end_offset): every record there has been
  // indexed (into this file or, for a file's records that have no keys, nowhere).
  int64_t begin_offset = 0;
  int64_t end_offset = 0;
  bool operator==(const IndexHeader&) const = default;
};

// Writes kIndexHeaderCopySize bytes.
void EncodeIndexHeader(const IndexHeader& header, char* dst);
// kCorruption when `src` is not a valid header copy (short, bad CRC or magic, inconsistent
// fields); kNotSupported for another version.
Status DecodeIndexHeader(std::string_view src, IndexHeader* out);
// DecodeIndexHeader of header copy `copy`, which must also be the copy its sequence goes to
// (write N goes to copy N % 2): a valid copy for IndexFile::Open and the inspector.
Status DecodeIndexHeaderAt(std::string_view src, size_t copy, IndexHeader* out);

struct IndexEntry {
  uint32_t key_hash = 0;
  int64_t physical_offset = 0;
  uint32_t time_diff_ms = 0;  // store timestamp - the file's begin timestamp
  uint32_t prev = 0;          // entry number of the next older entry in the slot; 0: none
  bool operator==(const IndexEntry&) const = default;
};

// Writes kIndexEntrySize bytes.
void EncodeIndexEntry(const IndexEntry& entry, char* dst);
IndexEntry DecodeIndexEntry(const char* src);

class IndexFile {
 public:
  // Creates `path` at full size, zero-filled, with its directory entry durable. It has no
  // header on disk until the first Sync: a crash before that leaves a file Open rejects.
  static Result<std::unique_ptr<IndexFile>> Create(Env* env, const std::string& path,
                                                   IndexGeometry geometry, int64_t begin_offset);
  // Opens an existing file at the state of its newest valid header copy. kCorruption when no
  // copy is valid or the file size does not match the geometry in the header.
  static Result<std::unique_ptr<IndexFile>> Open(Env* env, const std::string& path);

  IndexFile(const IndexFile&) = delete;
  IndexFile& operator=(const IndexFile&) = delete;

  const std::string& path() const { return file_->path(); }
  const IndexGeometry& geometry() const { return geometry_; }
  int64_t begin_offset() const { return begin_offset_; }

  // Writer side. Whether Append can take a record with `keys` keys stored at `timestamp_ms`:
  // the entries fit and the time diff fits in 32 bits. A record without keys always fits.
  bool CanTake(size_t keys, int64_t timestamp_ms) const;
  // Appends one entry per hash for the record at [physical_offset, physical_end) and moves
  // the file's end to physical_end. REQUIRES: CanTake(key_hashes.size(), timestamp_ms);
  // timestamps and offsets not below those of earlier calls.
  void Append(std::span<const uint32_t> key_hashes, int64_t physical_offset, int64_t physical_end,
              int64_t timestamp_ms);
  // Asks the CPU to fetch the slots of these hashes ahead of an Append (a hint; no effect on
  // what the file holds).
  void PrefetchSlots(std::span<const uint32_t> key_hashes) const;
  // The writer's view of the file end (the physical end of the last record appended).
  int64_t end_offset() const;

  // Reader side. Appends to `out` the offsets of entries with hash `key_hash`, stored in
  // [begin_ms, end_ms] and below `visible_limit`, newest first, until `out` holds
  // `max_results`. An offset equal to out->back() is not appended again.
  void Find(uint32_t key_hash, int64_t begin_ms, int64_t end_ms, int64_t visible_limit,
            size_t max_results, std::vector<int64_t>* out) const;
  uint32_t entry_count() const { return published_count_.load(std::memory_order_acquire); }
  // Meaningful only when entry_count() > 0; load entry_count() first.
  int64_t begin_timestamp_ms() const { return begin_ts_.load(std::memory_order_relaxed); }
  int64_t end_timestamp_ms() const { return end_ts_.load(std::memory_order_relaxed); }

  // Makes everything appended so far durable: entries, then slots, then a header copy.
  // A no-op when nothing changed since the last Sync.
  Status Sync();
  // The header as last made durable.
  IndexHeader durable_header() const;
  // When Open found one header copy damaged (a header write torn by a crash), writes the
  // current header into it, durably, so both copies are valid again. Sync alone would do so
  // only when something new is appended, and a file that takes no more records (any but the
  // last) would keep the damage for good. A no-op otherwise.
  Status RepairHeaderCopies();

  // After an unclean stop: slot heads that point past the header's entry count (written
  // back after the last Sync, their entries possibly lost) are set to the newest entry of
  // their slot within the count, found by scanning the entry array backwards.
  Status RestoreSlotHeads();
  // After a crash: every slot head is recomputed from the entries within the header's
  // count (one pass over them). Heads written after the last Sync were not durable, and a
  // device that garbled unsynced pages may leave a head at any value, even one within the
  // count that belongs to another slot or to an older entry of its own.
  // Both sync the slot table: the file may never be written again (the next record may go to
  // a new file), and a later Load trusts the heads of every file but the last.
  Status RebuildSlotHeads();
  // Drops every entry pointing at or past `physical_end` and clips the end, durably: syncs
  // what is appended, writes the new header, then unlinks the dropped entries from their
  // slots (newest first, so each head falls back along its chain) and syncs the slots.
  // A crash at any point leaves a file that RestoreSlotHeads makes consistent.
  Status TruncateFrom(int64_t physical_end);

  // The number of entries pointing below `physical_end` (entries are sorted by offset).
  uint32_t EntriesBelow(int64_t physical_end) const;
  // Entry `n` as stored, 1 <= n <= max_entries (for tests and inspection).
  IndexEntry EntryAt(uint32_t n) const;
  uint32_t SlotHead(uint32_t slot) const;

 private:
  // What the writer has appended; the header's fields minus sequence and geometry.
  struct Progress {
    uint32_t used_slots = 0;
    uint32_t entry_count = 0;
    int64_t begin_timestamp_ms = 0;
    int64_t end_timestamp_ms = 0;
    int64_t end_offset = 0;
    bool operator==(const Progress&) const = default;
  };

  IndexFile(std::shared_ptr<MappedFile> file, IndexGeometry geometry, int64_t begin_offset);

  uint64_t SlotPos(uint32_t slot) const { return kIndexHeaderSize + uint64_t{slot} * 4; }
  uint64_t EntryPos(uint32_t n) const {
    return kIndexHeaderSize + uint64_t{geometry_.slot_count} * kIndexSlotSize +
           uint64_t{n - 1} * kIndexEntrySize;
  }
  uint32_t LoadHead(uint32_t slot, std::memory_order order) const;
  void StoreHead(uint32_t slot, uint32_t n, std::memory_order order);
  // Every slot's head as entries 1..`count` alone make it: each slot's newest entry, or 0.
  std::vector<uint32_t> HeadsOfEntries(uint32_t count) const;
  void Publish(const Progress& p);
  // The header that says `p`, numbered `sequence`.
  IndexHeader HeaderOf(const Progress& p, uint64_t sequence) const;
  // Writes `p` as the next header copy and syncs it. REQUIRES: what `p` counts is durable.
  Status WriteHeader(const Progress& p);

  const std::shared_ptr<MappedFile> file_;
  const IndexGeometry geometry_;
  const int64_t begin_offset_;

  mutable std::mutex progress_mu_;
  Progress progress_;  // written by the writer under progress_mu_; read by it without

  std::atomic<uint32_t> published_count_{0};
  std::atomic<int64_t> begin_ts_{0};
  std::atomic<int64_t> end_ts_{0};

  mutable std::mutex sync_mu_;    // one Sync at a time
  Progress synced_;               // GUARDED_BY(sync_mu_)
  uint64_t header_sequence_ = 0;  // GUARDED_BY(sync_mu_)
  bool header_written_ = false;   // GUARDED_BY(sync_mu_); whether a header is on disk
  bool damaged_copy_ = false;     // GUARDED_BY(sync_mu_); Open found a copy neither valid nor blank
};

}  // namespace mqstore

#endif  // MQSTORE_INDEX_INDEX_FILE_H_
