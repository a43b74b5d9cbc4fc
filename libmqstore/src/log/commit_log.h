// CommitLog: the one append-only log all topics share, as a sequence of fixed-size segments.
//
//   commitlog/00000000000000000000  [rec][rec][rec]...[rec][blank........]
//   commitlog/00000000001073741824  [rec][rec]...            <- active segment
//                                              ^ appended()
//
// Appends are serialised by one lock; inside it the record bytes (prepared before the lock)
// are copied to where the log keeps them, in one of two write modes:
//
//   mapped    straight into the mapping of the active segment: the bytes are in the page
//             cache when Append returns (appended == written). ASYNC_FLUSH uses it.
//   buffered  into a write buffer (a ring mirroring log offsets); WriteOut() pwrites the
//             pending range [written, appended) to the segment files in one call per segment.
//             SYNC_FLUSH uses it: its flusher calls WriteOut then fdatasync, and that costs
//             about half of an msync of the same bytes written through a shared mapping
//             (docs/design/0002-sync-write-buffer.md).
//
// Either way readers use the mapping, below written() (they never see buffered bytes).
// When a batch does not fit in the active segment, an 8-byte blank header closes it and the
// batch goes to the next segment, which a background thread has normally created already.
//
// Retention removes whole segments from the front (RemoveSegmentsBefore), never the active
// one. A reader holding a segment (the shared_ptr SegmentFor returned) keeps its mapping valid
// after the file is unlinked; the unmap happens when the last holder lets go.
//
// Thread safety: Append is safe from many threads; readers (SegmentFor, appended, written),
// WriteOut, OldestSegments and RemoveSegmentsBefore may run concurrently with it. Load and
// TruncateTo run before the store accepts puts.
//
// The background thread's work (StartAllocator and what it runs) is in
// commit_log_allocator.cc; the rest in commit_log.cc.
#ifndef MQSTORE_LOG_COMMIT_LOG_H_
#define MQSTORE_LOG_COMMIT_LOG_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "log/queue_offset_table.h"
#include "log/record_codec.h"
#include "log/segment_zeroer.h"
#include "mqstore/env.h"
#include "util/event_count.h"
#include "util/mapped_file.h"
#include "util/mirrored_buffer.h"

namespace mqstore {

struct AppendedRecord {
  int64_t physical_offset = 0;
  int32_t size = 0;
  int64_t queue_offset = 0;
};

// A segment retention could remove, and how old its data is.
struct SegmentAge {
  int64_t base = 0;
  int64_t end = 0;
  // An upper bound of the store time of every record in the segment: the store timestamp of
  // the next segment's first record (timestamps are non-decreasing in log order, and every
  // record of this segment was stored before that one). nullopt while that record is not
  // written yet. File mtimes are not used: they are outside the Env seam and its clock.
  std::optional<int64_t> stored_before_ms;
};

class CommitLog {
 public:
  struct Options {
    uint64_t segment_bytes = 1ull << 30;
    SocketAddress store_host;
    Clock* clock = nullptr;
    // The allocator thread prepares this many bytes ahead of the append position. Mapped
    // mode: faults their pages in (allocated and zeroed by the kernel), so that the
    // appender's copies do not take page faults. Buffered mode: writes zeros to them and
    // syncs that, so that the file system has turned fallocate's unwritten blocks into
    // written ones before records reach them, and the fdatasync after a write-out has no
    // block map to write (docs/design/0014-zero-ahead.md). 0 disables it.
    uint64_t prepare_ahead_bytes = 64ull << 20;
    // Appends keep at most this much of the log mapped behind the append position; older
    // pages are dropped from the page tables as the log grows (0 = never).
    uint64_t resident_window_bytes = 0;
    // Durable log pages more than this far behind the append position are released from
    // the mapping and dropped from the page cache by the allocator thread, so that new
    // appends reuse their memory instead of growing the cache (0 = never).
    uint64_t cache_window_bytes = 0;
    // 0: mapped write mode. Otherwise buffered mode with a write buffer of this many bytes
    // (rounded up to a page); a batch larger than the buffer is rejected.
    uint64_t write_buffer_bytes = 0;
  };

  CommitLog(Env* env, std::string root, Options options);
  ~CommitLog();
  CommitLog(const CommitLog&) = delete;
  CommitLog& operator=(const CommitLog&) = delete;

  // Maps the existing segments and, in buffered mode, allocates the write buffer. kCorruption when
  // a segment other than the last has the wrong size or the segments are not contiguous; a
  // wrong-sized last segment (a crash while it was being created) is removed. kInvalidArgument when
  // the store uses another segment size.
  Status Load();

  // Makes `end` the end of the log: later segments are removed and, with `zero_tail`, the
  // rest of the segment holding `end` is zeroed durably. Sets appended() = end.
  Status TruncateTo(int64_t end, bool zero_tail);

  // Starts the thread that creates the next segment ahead of need.
  void StartAllocator();

  // Appends `records` contiguously; assigns queue offsets from `offsets`; fills `out`
  // (same length as records) and `*store_timestamp_ms`. Errors leave the log unchanged:
  // kInvalidArgument (a batch larger than a segment or than the write buffer),
  // kResourceExhausted (no disk for the next segment), kIOError. In buffered mode a full
  // buffer is written out by the appending thread itself; a failed write-out is sticky
  // (returned by every later Append and WriteOut).
  Status Append(std::span<const PreparedRecord> records, QueueOffsetTable* offsets,
                std::span<AppendedRecord> out, int64_t* store_timestamp_ms);

  // The most one Append may add: a batch must fit in a segment (with the blank that may
  // close the one before) and, in buffered mode, in the write buffer.
  uint64_t MaxAppendBytes() const;

  // End of the last appended record.
  int64_t appended() const { return appended_.load(std::memory_order_acquire); }
  // How long (ms by the store clock, at `now_ms`) the append under way has held the append
  // lock; 0 when none holds it. A long hold (a segment made in the foreground, a write-out
  // waiting for a stuck disk) means every other put waits behind it.
  int64_t AppendLockHeldMs(int64_t now_ms) const {
    const int64_t since = append_locked_since_ms_.load(std::memory_order_acquire);
    return since == 0 ? 0 : std::max<int64_t>(now_ms - since, 0);
  }
  // End of what is in the segment files (the page cache): complete and readable through the
  // mapping. Equal to appended() in mapped mode.
  int64_t written() const {
    return buffer_ ? written_.load(std::memory_order_acquire) : appended();
  }
  bool buffered() const { return buffer_ != nullptr; }
  // Buffered mode: writes [written, appended) to the segment files (pwrite) and advances
  // written(). A no-op in mapped mode. Serialised internally; safe with concurrent appends.
  Status WriteOut();
  // Start of the first segment (0 for an empty log).
  int64_t min_offset() const;

  // The oldest segments that RemoveSegmentsBefore(limit) could remove, oldest first, at most
  // `max_count`: every segment but the last that ends at or before `limit`.
  std::vector<SegmentAge> OldestSegments(int64_t limit, size_t max_count) const;
  // Removes the segments that end at or before `limit`, oldest first, but never the last
  // (active) one, and returns how many went. min_offset() moves up first, then each file is
  // unlinked and its directory synced, one at a time, so a crash leaves a contiguous log.
  // The unlinks happen outside every lock appends take; a reader's pinned segment stays
  // mapped. The caller passes a limit no higher than what is durable and dispatched with
  // durable queue entries (RetentionService::RunOnce). On an I/O error the segments already
  // taken out of the log stay out (a file left on disk is found again at the next Load,
  // still contiguous with the rest).
  Result<size_t> RemoveSegmentsBefore(int64_t limit);
  // Notified after every append.
  EventCount& append_event() { return append_event_; }

  // Appends that waited for the allocator thread to finish writing zeros where they were
  // about to write (mapped mode; see ZeroThenPrefault). For tests.
  uint64_t appends_waited_for_zeros() const {
    return appends_waited_for_zeros_.load(std::memory_order_relaxed);
  }

  // The segment holding `offset`, or null.
  std::shared_ptr<MappedFile> SegmentFor(int64_t offset) const;
  std::vector<std::shared_ptr<MappedFile>> Segments() const;
  uint64_t segment_bytes() const { return options_.segment_bytes; }

  // Makes log bytes [from, to) durable. REQUIRES: to <= written().
  Status Sync(int64_t from, int64_t to) const;
  // Drops mapped pages below `offset` from the page tables (bounded resident memory). The
  // data stays in the page cache; readers fault it back in. Safe for unsynced pages too.
  void ReleaseBelow(int64_t offset);
  // Told by the flusher after each sync: log bytes below `offset` are durable, so their
  // cached pages are clean and may be dropped (cache_window_bytes).
  void NoteDurable(int64_t offset) { durable_.store(offset, std::memory_order_release); }

 private:
  Result<std::shared_ptr<MappedFile>> NextSegment(int64_t base);  // REQUIRES: append_mu_
  void AllocatorLoop();
  // Buffered mode: where to copy `n` bytes of log starting at `pos` (== appended_) in the
  // write buffer, writing the buffer out first when it has no room. REQUIRES: append_mu_.
  Result<char*> ReserveBuffer(int64_t pos, uint64_t n);
  // Asks the allocator thread to prepare the log up to `prepare_to`, to drop cached pages
  // below `drop_below` and to start writing back the log below `write_behind_to` (any may
  // be 0: nothing asked).
  void RequestMaintenance(int64_t prepare_to, int64_t drop_below, int64_t write_behind_to = 0);
  // Prepares [prepared_to_, prepare_target_) in 4 MiB steps, unlocking `l` (alloc_mu_)
  // while it works; stops where the next segment does not exist yet.
  void PrepareTo(std::unique_lock<std::mutex>& l);
  // Buffered mode: writes zeros to the bytes of [from, to) (within `seg`) that no append
  // has reached, then syncs the file. Never writes where a write-out may have written.
  void ZeroAhead(MappedFile& seg, int64_t from, int64_t to);
  // Mapped mode: puts log bytes [from, to) (within `seg`, at most kAlignedZerosBytes) in the
  // page cache by writing zeros through the file, unless an append has reached `from`, then
  // maps them. A write puts a whole page in the cache without reading it, where a fault on a
  // page not cached yet reads it first (0018, "Zeros written, then mapped").
  void ZeroThenPrefault(MappedFile& seg, int64_t from, int64_t to);
  // Mapped mode: returns once no zeros are being written below `end` (ZeroThenPrefault), so
  // that this append's bytes below `end` cannot be overwritten. REQUIRES: append_mu_.
  void AwaitZerosBelow(int64_t end);
  // Releases and drops the cached pages of [dropped_below_, target), unlocking `l`.
  void DropCacheTo(int64_t target, std::unique_lock<std::mutex>& l);
  // Mapped mode: releases the pages of [written_behind_, target) and starts their write-back
  // (MappedFile::StartWriteBack), unlocking `l`.
  void WriteBehindTo(int64_t target, std::unique_lock<std::mutex>& l);
  // Calls `part(segment, begin, end)` with the segment-relative bounds of each segment's
  // share of log bytes [from, to), in order; stops at the first offset no segment holds
  // (segments removed by retention took their pages with them).
  void ForEachSegmentPart(int64_t from, int64_t to,
                          const std::function<void(MappedFile&, uint64_t, uint64_t)>& part) const;
  // Makes the first failure sticky in write_error_: every later append, write-out and sync
  // returns it. REQUIRES: write_mu_.
  void FailWritesLocked(const Status& cause, std::string_view what);

  Env* const env_;
  const std::string root_;
  const Options options_;

  std::mutex append_mu_;
  std::atomic<int64_t> append_locked_since_ms_{0};  // 0: append_mu_ not held by an append
  std::shared_ptr<MappedFile> active_;              // GUARDED_BY(append_mu_)
  int64_t last_timestamp_ms_ = 0;                   // GUARDED_BY(append_mu_)
  std::atomic<int64_t> appended_{0};
  std::atomic<int64_t> durable_{0};  // as far as the flusher told (NoteDurable)
  EventCount append_event_;
  // Mapped mode: the allocator thread writes zeros from zeroing_from_ on (kNotZeroing when
  // it does not), and an append writes below appending_to_. Each publishes its own, then
  // reads the other's (both seq_cst): so it never happens that both go ahead over the same
  // bytes. The append waits; the allocator thread skips its write.
  static constexpr int64_t kNotZeroing = INT64_MAX;
  // A page of the segment files: the unit of the page cache, and of direct writes.
  static constexpr int64_t kPageBytes = static_cast<int64_t>(kDirectIoAlignment);
  std::atomic<int64_t> zeroing_from_{kNotZeroing};
  std::atomic<int64_t> appending_to_{0};
  std::atomic<uint64_t> appends_waited_for_zeros_{0};

  // Buffered mode only.
  std::unique_ptr<MirroredBuffer> buffer_;
  std::atomic<int64_t> written_{0};
  std::mutex write_mu_;  // serialises WriteOut; taken after append_mu_, never before
  Status write_error_;   // GUARDED_BY(write_mu_): sticky
  std::atomic<bool> write_failed_{false};
  std::mutex rolls_mu_;
  // Offsets of the blank headers that closed segments not yet written out, in log order:
  // WriteOut writes a segment up to its blank header and skips the rest of it.
  std::deque<int64_t> rolls_;  // GUARDED_BY(rolls_mu_)

  mutable std::shared_mutex segments_mu_;
  std::vector<std::shared_ptr<MappedFile>> segments_;  // GUARDED_BY(segments_mu_)

  std::mutex release_mu_;
  int64_t released_below_ = 0;  // GUARDED_BY(release_mu_)

  std::mutex alloc_mu_;
  std::condition_variable alloc_cv_;
  int64_t alloc_wanted_base_ = -1;     // GUARDED_BY(alloc_mu_)
  int64_t alloc_busy_base_ = -1;       // GUARDED_BY(alloc_mu_): being created now
  std::shared_ptr<MappedFile> spare_;  // GUARDED_BY(alloc_mu_)
  bool alloc_stop_ = false;            // GUARDED_BY(alloc_mu_)
  int64_t prepare_target_ = 0;         // GUARDED_BY(alloc_mu_)
  int64_t prepared_to_ = 0;            // allocator thread only
  int64_t drop_target_ = 0;            // GUARDED_BY(alloc_mu_)
  int64_t dropped_below_ = 0;          // allocator thread only
  int64_t write_behind_target_ = 0;    // GUARDED_BY(alloc_mu_)
  int64_t written_behind_ = 0;         // allocator thread only
  SegmentZeroer zeroer_{env_};         // the allocator thread's (ZeroAhead)
  std::thread allocator_;
};

}  // namespace mqstore

#endif  // MQSTORE_LOG_COMMIT_LOG_H_
