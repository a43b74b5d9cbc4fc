// IndexService: the hash index of a store, for looking messages up by key and by unique id
// (RocketMQ's "query message by key"). docs/format/hash_index.md has the file layout.
//
//   index/20240101120000000   entries for records [o0, o1)   (full, or rolled after ~49 days)
//   index/20240103093000125   entries for records [o1, o2)   <- Add appends here
//
// Every record is indexed under `topic#key` for each key of its KEYS property (keys separated
// by one space, RocketMQ's KEY_SEPARATOR) and for its UNIQ_KEY property, so a unique-id lookup
// is Query(topic, unique_key, ...). Keys are hashed with XXH3 folded to 32 bits; the hash is
// kept in each entry and compared before an offset is returned, but two keys can still share
// a hash: results are candidates, and the caller must read each record and check its topic
// and keys.
//
// Files are named by the store timestamp of the first record they took, as yyyyMMddHHmmssSSS
// in UTC (bumped by a millisecond when needed to stay unique and increasing). A new file
// starts when the current one has no room for a record's entries, or when the record's
// time would not fit the 32-bit millisecond time diff (about 49.7 days after the file's
// first entry). A record's entries never span two files.
//
// Store timestamps are indexed non-decreasing: one below its predecessor's (the clock went
// back) is indexed as its predecessor's, and a negative one as 0. That keeps every chain and the
// file list in time order, so a query stops at the first entry or file older than its range.
//
// Durability: Add changes only memory (the files are mapped); Flush makes everything added
// durable and moves durable_offset(). After a crash the store calls Load, then
// TruncateFrom(recovered log end), then re-adds the records from durable_offset(): Load keeps
// what the last Flush made durable, TruncateFrom drops what points past the log, and Add
// ignores records below indexed_end().
//
// Retention removes the oldest files once the commit log no longer holds their records
// (ApplyLogMinOffset); the newest file always stays.
//
// Thread safety: one thread calls Add (the dispatcher); Query may be called from any number
// of threads at the same time, and Flush and ApplyLogMinOffset from other threads (they
// serialise with each other). Load and TruncateFrom require that no other call runs. A record is
// visible to Query once Add returned (publication order in index_file.h); queries never return
// offsets at or past their `visible_limit`.
#ifndef MQSTORE_INDEX_INDEX_SERVICE_H_
#define MQSTORE_INDEX_INDEX_SERVICE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "index/index_file.h"
#include "mqstore/env.h"

namespace mqstore {

// A key (one KEYS token, or the UNIQ_KEY) longer than this is not indexed, and Query rejects
// it. RocketMQ's unique ids are 32 characters; business keys are order or trace ids.
inline constexpr size_t kMaxIndexKeyBytes = 1024;

struct IndexOptions {
  // Hash slots per new file. Default: 5,000,000 (RocketMQ's maxHashSlotNum).
  uint32_t slot_count = 5'000'000;
  // Entries per new file. Default: 20,000,000 (RocketMQ's maxIndexNum): 420 MB files.
  uint32_t max_entries_per_file = 20'000'000;
};

// What the index needs of one commit-log record; views into the caller's memory.
struct IndexRecord {
  std::string_view topic;
  std::string_view keys;        // the KEYS property: keys separated by ' '
  std::string_view unique_key;  // the UNIQ_KEY property; empty when absent
  int64_t physical_offset = 0;
  int32_t size = 0;  // the record's TOTALSIZE
  int64_t store_timestamp_ms = 0;
};

// The keys `record` is indexed under, in order: UNIQ_KEY, then each KEYS token. Empty tokens,
// repeats and keys longer than kMaxIndexKeyBytes are left out.
std::vector<std::string_view> IndexKeysOf(const IndexRecord& record);
// The index's view of a stored record: its topic and its KEYS and UNIQ_KEY properties
// (`properties` encoded as in the log). Offset, size and time are left for the caller.
IndexRecord IndexRecordOf(std::string_view topic, std::string_view properties);
// Whether a record is indexed under `key`, i.e. `key` is one of IndexKeysOf its properties:
// the check a caller makes on each candidate a query returns.
bool RecordHasIndexKey(std::string_view topic, std::string_view properties, std::string_view key);
// The 32-bit hash of `topic#key`: XXH3-64 of those bytes, high half XOR low half.
uint32_t IndexKeyHash(std::string_view topic, std::string_view key);

// "yyyyMMddHHmmssSSS" (UTC) of `ms` since the epoch, and back; nullopt for any other name.
std::string IndexFileName(int64_t ms);
std::optional<int64_t> ParseIndexFileName(std::string_view name);

class IndexService {
 public:
  // Files live in `<root>/index/`.
  IndexService(Env* env, std::string root, IndexOptions options);

  IndexService(const IndexService&) = delete;
  IndexService& operator=(const IndexService&) = delete;

  // Opens the existing files. Each is taken at its newest valid header; the last one's slot
  // heads are repaired (IndexFile::RestoreSlotHeads), or with `after_crash` recomputed
  // (IndexFile::RebuildSlotHeads); files after the last one with a valid header (created,
  // never flushed) are removed. kCorruption when an earlier file is unreadable;
  // kInvalidArgument for bad options. Must be called once, before anything else.
  Status Load(bool after_crash = false);

  // Indexes `record`. A record below indexed_end() was indexed before and is ignored (re-dispatch
  // after recovery); a gap above it is allowed (records that are not dispatched to the index).
  // kInvalidArgument for a negative offset or a size <= 0; I/O errors when a new file cannot
  // be created (the record is then not indexed, and Add may be retried).
  Status Add(const IndexRecord& record);

  // A hint that `record` is the next one Add will get: its keys are hashed now and their slots
  // fetched into the CPU cache, so that the Add finds them there instead of missing in a
  // 20 MB table. Changes nothing Add or Query observe; the writer thread calls it.
  void Prefetch(const IndexRecord& record);

  // Offsets of records indexed under `topic#key`, stored in [begin_ms, end_ms] and below
  // `visible_limit`, newest first, at most `max_results`. Candidates only (see above).
  // kInvalidArgument for an empty key or one longer than kMaxIndexKeyBytes.
  Result<std::vector<int64_t>> Query(std::string_view topic, std::string_view key, int64_t begin_ms,
                                     int64_t end_ms, size_t max_results,
                                     int64_t visible_limit) const;
  // Query over all time for the record(s) with this UNIQ_KEY (resent messages share one).
  // The topic is needed: the index holds only `topic#key` hashes.
  Result<std::vector<int64_t>> QueryUniqueKey(std::string_view topic, std::string_view unique_key,
                                              size_t max_results, int64_t visible_limit) const {
    return Query(topic, unique_key, std::numeric_limits<int64_t>::min(),
                 std::numeric_limits<int64_t>::max(), max_results, visible_limit);
  }

  // Makes every record added before the call durable, and durable_offset() its end.
  Status Flush();

  // After a crash: drops every entry pointing at or past `physical_end` (a record boundary,
  // the recovered end of the log), durably. Files that begin at or after it are removed.
  // Afterwards indexed_end() and durable_offset() are at most `physical_end`.
  Status TruncateFrom(int64_t physical_end);

  // The commit log now starts at `log_min_offset`: removes every file but the last whose
  // records all end at or before it, oldest first, and syncs the directory. Queries running
  // meanwhile keep their files mapped. Returns the number of files removed.
  Result<size_t> ApplyLogMinOffset(int64_t log_min_offset);

  // The physical end of the last record added (0 when none).
  int64_t indexed_end() const { return indexed_end_.load(std::memory_order_acquire); }
  // Every record below this offset is durably indexed (for the store checkpoint).
  int64_t durable_offset() const { return durable_end_.load(std::memory_order_acquire); }
  size_t file_count() const;
  std::vector<std::string> file_paths() const;

 private:
  std::string dir() const { return root_ + "/index"; }
  // Starts a new file for a record at `physical_offset` stored at `timestamp_ms`.
  Result<IndexFile*> Roll(int64_t physical_offset, int64_t timestamp_ms);
  // The hashes `record` is indexed under, into `out`.
  void HashKeys(const IndexRecord& record, std::vector<uint32_t>* out);
  std::vector<std::shared_ptr<IndexFile>> SnapshotFiles() const;

  Env* const env_;
  const std::string root_;
  const IndexOptions options_;

  mutable std::shared_mutex files_mu_;             // held briefly: readers copy the list
  std::vector<std::shared_ptr<IndexFile>> files_;  // GUARDED_BY(files_mu_), oldest first

  // Writer (Add) state.
  // files_.back(), for the writer to use without files_mu_ while retention erases the front
  // of files_. Set under files_mu_ by Load, Roll and TruncateFrom.
  IndexFile* active_ = nullptr;
  int64_t last_timestamp_ms_ = 0;
  int64_t last_name_ms_ = -1;
  std::vector<std::string_view> keys_;
  std::vector<uint32_t> hashes_;
  std::string key_scratch_;
  // What Prefetch hashed, for the Add of the record at prefetched_offset_ (-1: none).
  int64_t prefetched_offset_ = -1;
  std::vector<uint32_t> prefetched_hashes_;
  std::atomic<int64_t> indexed_end_{0};

  std::mutex flush_mu_;  // one Flush or TruncateFrom at a time
  std::atomic<int64_t> durable_end_{0};
};

}  // namespace mqstore

#endif  // MQSTORE_INDEX_INDEX_SERVICE_H_
