// Read-only inspection of a store directory, for mqdump and for tests.
//
//   StoreInspector::Open(dir)          lists the files; opens nothing for writing, takes no
//     │                                lock, runs no recovery: the directory is left as it is
//     ├─ ReadCheckpoint()              both checkpoint slots, which one is valid and newest
//     ├─ NewLogIterator(offset)        commit-log records, blanks and the end of the log
//     ├─ ReadRecordAt(offset)          one record
//     ├─ NewQueueIterator(topic, id)   the entries of one consume queue
//     ├─ Stats()                       segments, queues and their bounds, checkpoint, log end
//     ├─ FindByKey(query)              records by KEYS token or UNIQ_KEY, through the hash index
//     ├─ ReadByMessageId(id, topic)    a record by offset message id or unique id
//     ├─ ReadMetadata()                topics, groups, consumer offsets, schedule (meta/, LMDB)
//     ├─ ReadTimerLog()                the timer log's segments, entries and pending timers
//     └─ Verify(options)               every check recovery relies on, with a problem reporter
//
// Because nothing is recovered, an inspector sees exactly what a crash left: a torn tail,
// a spare segment full of zeros, queue entries past the end of the log. Verify tells which of
// those the next Store::Open repairs by itself (notes) and which mean lost data (corruption).
//
// Thread safety: a StoreInspector and its iterators are not thread-safe; use one per thread.
// Lifetime: iterators and the views in LogEntry/QueueEntryInfo must not outlive the
// inspector that made them. Inspecting a store that a process has open shows a moving
// picture; results are meaningful for a closed (or crashed) store.
//
// Files are mapped read-only through the Env. The metadata (meta/) is LMDB, which does its
// own I/O: it is opened read-only (MetadataOptions::read_only) through the POSIX file system,
// so only when the inspector uses Env::Default().
#ifndef MQSTORE_INSPECT_H_
#define MQSTORE_INSPECT_H_

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/env.h"
#include "mqstore/message.h"
#include "mqstore/metadata.h"
#include "mqstore/status.h"

namespace mqstore {

struct InspectOptions {
  // File system to read through. Default: Env::Default().
  Env* env = nullptr;
};

// ---- What is in the directory ----------------------------------------------------------

struct SegmentFile {
  std::string path;
  int64_t base_offset = 0;  // commit-log offset of its first byte (its name)
  uint64_t file_bytes = 0;
};

struct QueueFile {
  std::string path;
  int64_t base_byte_offset = 0;  // entry index * 20 of its first entry (its name)
  uint64_t file_bytes = 0;
};

struct QueueFiles {
  std::string topic;
  int32_t queue_id = 0;
  std::string dir;
  std::vector<QueueFile> files;  // sorted by base
};

// A file of the hash index, index/<yyyyMMddHHmmssSSS> (docs/format/hash_index.md).
struct HashIndexFile {
  std::string path;
  int64_t name_ms = 0;  // the time in its name, ms since the epoch (UTC)
  uint64_t file_bytes = 0;
};

// A segment of the timer log, timer/log/<20 digits> (docs/format/timer.md).
struct TimerLogFile {
  std::string path;
  int64_t base = 0;  // log position of its first byte (its name)
  uint64_t file_bytes = 0;
};

// An entry of the directory the store would not use (it ignores it).
struct StrayFile {
  std::string path;
  std::string why;
};

struct StoreLayout {
  std::string dir;
  // Size of a commit-log segment: the checkpoint's when it records one, else the size of the
  // first segment file; 0 when there is neither.
  uint64_t segment_bytes = 0;
  std::vector<SegmentFile> segments;       // sorted by base offset
  std::vector<QueueFiles> queues;          // sorted by (topic, queue id)
  std::vector<HashIndexFile> index_files;  // sorted by name (creation order)
  std::vector<StrayFile> stray;
  std::string meta_dir;                      // <dir>/meta
  bool has_meta = false;                     // meta/ exists
  bool has_timer = false;                    // timer/ exists
  std::string timer_log_dir;                 // <dir>/timer/log
  std::vector<TimerLogFile> timer_segments;  // sorted by base
  std::string checkpoint_path;
  bool has_checkpoint = false;
  bool has_abort_marker = false;  // present while open; at open it means the last run crashed
};

// ---- Checkpoint ------------------------------------------------------------------------

// The fields of one checkpoint slot (docs/format/checkpoint.md).
struct CheckpointFields {
  uint64_t sequence = 0;
  int64_t log_durable_offset = 0;       // every commit-log byte below is durable
  int64_t dispatch_durable_offset = 0;  // every record below has durable queue entries
  int64_t log_min_offset = 0;
  uint64_t segment_bytes = 0;
  int64_t written_at_ms = 0;
};

struct CheckpointSlot {
  bool present = false;  // the file is long enough to hold this slot
  bool blank = false;    // all zeros: never written
  bool valid = false;
  std::string problem;      // why it is not valid
  CheckpointFields fields;  // meaningful when valid
};

struct CheckpointState {
  std::string path;
  bool exists = false;
  uint64_t file_bytes = 0;
  std::array<CheckpointSlot, 2> slots;
  int newest_slot = -1;  // the valid slot with the higher sequence; -1 when none is valid

  const CheckpointFields* newest() const {
    return newest_slot < 0 ? nullptr : &slots[static_cast<size_t>(newest_slot)].fields;
  }
};

// ---- Commit log ------------------------------------------------------------------------

enum class LogEntryKind {
  kRecord,  // a record whose structure parses (see LogEntry::problem for its checksums)
  kBlank,   // the 8-byte blank that closes a segment; size covers the rest of the segment
  kEnd,     // the log ends here: zeros, a torn record or garbage. Always the last entry.
};

struct LogEntry {
  LogEntryKind kind = LogEntryKind::kEnd;
  int64_t offset = 0;  // commit-log offset
  int64_t size = 0;    // bytes the entry spans; 0 for kEnd
  std::string_view segment_path;
  uint64_t file_offset = 0;  // offset within the segment file
  // kRecord: the decoded fields and the whole record; views into mapped memory.
  ParsedRecord record;
  std::string_view bytes;
  // kRecord: why the record fails verification (body CRC, whole-record CRC, PHYSICALOFFSET
  // not equal to its position); empty when it passes. kEnd: why the log ends here.
  std::string problem;
  // kEnd: the rest of the segment is zeros (the ordinary end of a log).
  bool zeros_follow = false;
};

// Walks the commit log forward. A record that fails verification but whose structure parses
// is returned with `problem` set and the walk continues after it; anything else ends it.
class CommitLogIterator {
 public:
  virtual ~CommitLogIterator() = default;
  virtual bool Valid() const = 0;
  // REQUIRES: Valid(). Views stay valid until Next() or the iterator is destroyed.
  virtual const LogEntry& entry() const = 0;
  // REQUIRES: Valid().
  virtual void Next() = 0;
  // Non-OK when a file could not be read; Valid() is false then.
  virtual Status status() const = 0;
};

// ---- Consume queues --------------------------------------------------------------------

struct QueueEntryInfo {
  int64_t queue_offset = 0;  // the entry's index
  int64_t physical_offset = 0;
  int32_t size = 0;
  int64_t tags_code = 0;
  std::string_view file_path;
  uint64_t file_offset = 0;  // offset of the entry within its file
};

// Walks the entries of one queue in queue-offset order, up to the queue's end as the store
// finds it at open: the first empty entry, or one not after its predecessor.
class ConsumeQueueIterator {
 public:
  virtual ~ConsumeQueueIterator() = default;
  virtual bool Valid() const = 0;
  virtual const QueueEntryInfo& entry() const = 0;  // REQUIRES: Valid()
  virtual void Next() = 0;                          // REQUIRES: Valid()
  virtual Status status() const = 0;
};

// ---- Stats -----------------------------------------------------------------------------

struct QueueStats {
  std::string topic;
  int32_t queue_id = 0;
  int64_t min_offset = 0;  // first entry present
  int64_t max_offset = 0;  // one past the last entry, as the store's load rule finds it
  size_t file_count = 0;
  int64_t last_record_end = 0;  // end of the record of the last entry
};

struct InspectStats {
  uint64_t segment_bytes = 0;
  size_t segment_count = 0;
  int64_t log_min_offset = 0;  // base of the first segment
  int64_t log_files_end = 0;   // end of the last segment file
  // Where recovery would end the log: the first position (from the checkpoint's restart
  // point on) that is not a valid record.
  int64_t log_end = 0;
  std::optional<CheckpointFields> checkpoint;  // the newest valid slot
  bool abort_marker = false;
  uint64_t queue_entries = 0;
  std::vector<QueueStats> queues;
};

// ---- Lookups by key and by message id --------------------------------------------------

struct KeyQuery {
  // The topic whose records to search. The index hashes `topic#key`, so only a topic can be
  // looked up in it; empty means every topic, found by scanning the whole commit log.
  std::string topic;
  std::string key;  // a KEYS token or a UNIQ_KEY; 1..1024 bytes
  // Store times (ms) of the records to return: as indexed (hash_index.md: a record stored
  // before its predecessor is indexed at its predecessor's time), or, when scanning, the
  // records' own.
  int64_t begin_ms = std::numeric_limits<int64_t>::min();
  int64_t end_ms = std::numeric_limits<int64_t>::max();
  size_t max_results = 32;  // 0: all
};

struct KeyQueryResult {
  bool used_index = false;        // false: found by scanning the log
  std::vector<LogEntry> records;  // newest first; each is in the topic and carries the key
  size_t index_files = 0;         // usable index files searched
  uint64_t candidates = 0;        // distinct offsets whose index entry has the key's hash
  // Candidates whose record is of another topic or lacks the key: keys that share the 32-bit
  // hash of `topic#key`.
  uint64_t collisions = 0;
  // Candidates with no record (removed by retention, past the end of the log, damaged).
  uint64_t unreadable = 0;
  uint64_t records_scanned = 0;  // log records read when scanning
};

struct MessageIdLookup {
  LogEntry entry;
  // True: `id` is an offset message id (store host + offset) naming this record; false: it
  // was found as a UNIQ_KEY in the topic's index.
  bool by_offset_id = false;
};

// ---- Metadata --------------------------------------------------------------------------

// A consumer group's committed offset in one queue.
struct GroupOffset {
  std::string group;
  ConsumerOffset offset;
};

struct MetadataSnapshot {
  std::string dir;                              // <store>/meta
  std::vector<TopicConfig> topics;              // sorted by name
  std::vector<SubscriptionGroupConfig> groups;  // sorted by name
  std::vector<GroupOffset> offsets;             // sorted by (group, topic, queue id)
  std::vector<ScheduleProgress> schedule;       // sorted by name
};

// ---- Timer log -------------------------------------------------------------------------

// One segment of the timer log as ReadTimerLog finds it.
struct TimerSegmentInfo {
  std::string path;
  int64_t base = 0;
  uint64_t file_bytes = 0;
  std::string problem;   // why its header does not decode, or its size or base is wrong
  uint64_t entries = 0;  // valid entries (below the log end)
  uint64_t rolls = 0;    // of which roll entries
  int64_t min_slot = 0;  // of its entries; meaningful when entries > 0
  int64_t max_slot = 0;
};

// Pending timers (entries of slots that have not fired) in one range of due times.
struct TimerPendingRange {
  int64_t from_ms = 0;  // slot boundaries: from_ms < due time <= to_ms
  int64_t to_ms = 0;
  uint64_t entries = 0;
};

struct TimerLogSummary {
  std::string dir;             // <store>/timer/log
  int64_t precision_ms = 0;    // from the segment headers; 0 when none decodes
  uint64_t segment_bytes = 0;  // the first segment's size
  std::vector<TimerSegmentInfo> segments;
  int64_t log_start = 0;  // first entry position
  int64_t log_end = 0;    // after the last valid entry, as the scheduler's open finds it
  uint64_t entries = 0;
  // The timer's committed progress (meta/; docs/format/timer.md), when it could be read.
  bool progress_known = false;
  bool progress_committed = false;   // "timer-dequeue" exists (else the next open starts afresh)
  int64_t committed_log_end = 0;     // "timer-log"
  int64_t next_queue_offset = 0;     // "timer-enqueue": next timer-topic message to enqueue
  int64_t delivered_through_ms = 0;  // "timer-dequeue": timers due at or before it delivered
  // Entries not yet delivered (every entry when the progress is not known), and by due time
  // (ten ranges of whole slots, from the first pending slot to the last).
  uint64_t pending = 0;
  std::vector<TimerPendingRange> pending_by_time;
};

// ---- Verify ----------------------------------------------------------------------------

enum class Severity {
  kNote,        // expected after a crash; the next open repairs it
  kWarning,     // not as it should be, but nothing is lost and the store opens
  kCorruption,  // data the store once made durable is damaged or unreachable
};
const char* SeverityName(Severity severity);

struct Problem {
  Severity severity = Severity::kCorruption;
  std::string path;          // the file concerned
  int64_t file_offset = -1;  // byte offset within it; -1 when about the whole file
  std::string message;
};

struct VerifyProgress {
  uint64_t done_bytes = 0;
  uint64_t total_bytes = 0;  // all segment, queue, index and timer log file bytes
};

struct VerifyOptions {
  // Called for every problem, in the order found. May be empty.
  std::function<void(const Problem&)> report;
  // Called now and then (every few MiB) with the bytes checked so far. May be empty.
  std::function<void(const VerifyProgress&)> progress;
  // At most this many problems are reported per consume queue; the rest are only counted.
  // Default: 20.
  int max_problems_per_queue = 20;
};

struct VerifySummary {
  size_t segments = 0;
  uint64_t records = 0;
  uint64_t blanks = 0;
  size_t queues = 0;
  uint64_t queue_entries = 0;
  int64_t log_start = 0;
  int64_t log_end = 0;  // the end of the valid log
  size_t index_files = 0;
  uint64_t index_entries = 0;     // entries the index files' headers count
  bool metadata_checked = false;  // meta/ exists and was opened
  uint64_t metadata_entries = 0;  // topics, groups, offsets and schedule entries
  size_t timer_segments = 0;
  uint64_t timer_entries = 0;  // valid entries of the timer log
  uint64_t timer_pending = 0;  // of which not yet delivered (all, when progress is unknown)
  uint64_t notes = 0;
  uint64_t warnings = 0;
  uint64_t corruptions = 0;
  bool clean() const { return corruptions == 0; }
};

// ---- The inspector ---------------------------------------------------------------------

class StoreInspector {
 public:
  // Lists the store in `dir`. kNotFound when `dir` does not exist; kInvalidArgument when it
  // is not a store directory (neither commitlog/ nor a checkpoint); kIOError.
  static Result<std::unique_ptr<StoreInspector>> Open(const std::string& dir,
                                                      const InspectOptions& options = {});

  virtual ~StoreInspector() = default;

  virtual const StoreLayout& layout() const = 0;

  // Errors: kIOError only; a damaged checkpoint is described, not an error.
  virtual Result<CheckpointState> ReadCheckpoint() = 0;

  // Starts at the first record at or after `offset` (walking from the start of its segment).
  // An offset below the log starts at its first record; one past the last segment gives
  // only the kEnd entry. Entries' views stay valid while this inspector lives.
  virtual Result<std::unique_ptr<CommitLogIterator>> NewLogIterator(int64_t offset) = 0;

  // The record starting exactly at `offset` (checksums verified; see LogEntry::problem).
  // kNotFound when no record starts there.
  virtual Result<LogEntry> ReadRecordAt(int64_t offset) = 0;

  // Starts at entry `from` (clamped to the queue's first entry). kNotFound for an unknown
  // queue.
  virtual Result<std::unique_ptr<ConsumeQueueIterator>> NewQueueIterator(std::string_view topic,
                                                                         int32_t queue_id,
                                                                         int64_t from) = 0;

  virtual Result<InspectStats> Stats() = 0;

  // Records carrying `query.key` (docs/format/hash_index.md). With a topic, the index files
  // are searched newest first (read-only: a slot head left past a file's entry count by a
  // crash is resolved as the store's load would) and every candidate is read and checked
  // against the topic and the record's keys; without one, the whole log is scanned.
  // kInvalidArgument for an empty key or one longer than 1024 bytes. A store without index/
  // gives no records (index_files == 0).
  virtual Result<KeyQueryResult> FindByKey(const KeyQuery& query) = 0;

  // The record with message id `id`, as Store::ReadByMessageId finds it: an offset message
  // id (32 or 56 hex digits) naming a record that starts at its offset and was stored by its
  // host; otherwise (client unique ids are 32 hex digits too) a UNIQ_KEY looked up in
  // `topic`'s index, the newest record carrying it. kNotFound when neither finds one (with
  // an empty topic only offset ids are tried).
  virtual Result<MessageIdLookup> ReadByMessageId(std::string_view id, std::string_view topic) = 0;

  // Everything in meta/, opened read-only. kNotFound: no meta/ (or no data.mdb in it);
  // kNotSupported: the inspector does not use Env::Default(); kCorruption: the environment
  // or a value is damaged (the first such value is named; Verify lists them all);
  // kFailedPrecondition: this process has the metadata open (a Store open on the same
  // directory).
  virtual Result<MetadataSnapshot> ReadMetadata() = 0;

  // The timer log (timer/log/) summarised: segments, entries, pending timers by due time,
  // and the committed progress when meta/ can be read. A damaged segment is described, not
  // an error (Verify says what is wrong). kNotFound: no timer/log/ segments.
  virtual Result<TimerLogSummary> ReadTimerLog() = 0;

  // Checks the whole store (docs/format/*.md for the rules): the commit log, the consume
  // queues, the checkpoint, the hash index, the metadata and the timer log, and
  // reports every problem through `options.report`. Returns non-OK only when files could
  // not be read; damage is in the summary (corruptions > 0).
  virtual Result<VerifySummary> Verify(const VerifyOptions& options) = 0;

 protected:
  StoreInspector() = default;
};

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_H_
