#include "log/commit_log.h"

#include <algorithm>

#include "log/record_format.h"
#include "util/filename.h"

namespace mqstore {

CommitLog::CommitLog(Env* env, std::string root, Options options)
    : env_(env), root_(std::move(root)), options_(options) {}

CommitLog::~CommitLog() {
  {
    std::lock_guard<std::mutex> l(alloc_mu_);
    alloc_stop_ = true;
  }
  alloc_cv_.notify_all();
  if (allocator_.joinable()) allocator_.join();
  // A spare segment beyond the end holds no data; recovery removes it if it is still there.
}

Status CommitLog::Load() {
  if (options_.write_buffer_bytes > 0 && !buffer_) {
    MQ_ASSIGN_OR_RETURN(buffer_, MirroredBuffer::Create(options_.write_buffer_bytes));
  }
  std::string dir = filename::CommitLogDir(root_);
  MQ_RETURN_IF_ERROR(env_->CreateDir(dir));
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->GetChildren(dir));
  std::vector<int64_t> bases;
  for (const auto& name : names) {
    if (auto base = filename::ParseOffsetName(name)) bases.push_back(*base);
  }
  std::sort(bases.begin(), bases.end());
  std::vector<std::shared_ptr<MappedFile>> segments;
  for (size_t i = 0; i < bases.size(); ++i) {
    std::string path = filename::CommitLogSegment(root_, bases[i]);
    MQ_ASSIGN_OR_RETURN(uint64_t size, env_->GetFileSize(path));
    bool last = i + 1 == bases.size();
    if (size != options_.segment_bytes) {
      if (last && (i > 0 || size == 0)) {
        // Created by a process that crashed before the file was complete; never held data.
        MQ_RETURN_IF_ERROR(env_->RemoveFile(path));
        MQ_RETURN_IF_ERROR(env_->SyncDir(dir));
        break;
      }
      if (i == 0) {
        return Status::InvalidArgument(path + " is " + std::to_string(size) +
                                       " bytes but commitlog_segment_bytes is " +
                                       std::to_string(options_.segment_bytes) +
                                       " (the store was created with another segment size?)");
      }
      return Status::Corruption(path + " is " + std::to_string(size) + " bytes; every segment " +
                                "but a half-created last one must be " +
                                std::to_string(options_.segment_bytes));
    }
    if (bases[i] % static_cast<int64_t>(options_.segment_bytes) != 0) {
      return Status::Corruption(path + ": name is not a multiple of the segment size");
    }
    if (!segments.empty() && segments.back()->end() != bases[i]) {
      return Status::Corruption("commit log has a gap: " + path + " does not follow " +
                                segments.back()->path());
    }
    MQ_ASSIGN_OR_RETURN(auto seg, MappedFile::Open(env_, path, bases[i], size, true));
    segments.push_back(std::move(seg));
  }
  std::unique_lock<std::shared_mutex> l(segments_mu_);
  segments_ = std::move(segments);
  return Status::OK();
}

Status CommitLog::TruncateTo(int64_t end, bool zero_tail) {
  std::lock_guard<std::mutex> al(append_mu_);
  std::unique_lock<std::shared_mutex> l(segments_mu_);
  std::string dir = filename::CommitLogDir(root_);
  bool removed = false;
  while (!segments_.empty() && segments_.back()->base() > end) {
    std::string path = segments_.back()->path();
    segments_.pop_back();
    MQ_RETURN_IF_ERROR(env_->RemoveFile(path));
    removed = true;
  }
  // A segment starting exactly at `end` holds nothing: keep it as the active one.
  if (removed) MQ_RETURN_IF_ERROR(env_->SyncDir(dir));
  if (!segments_.empty() && zero_tail) {
    auto& last = segments_.back();
    MQ_RETURN_IF_ERROR(last->ZeroFromAndSync(static_cast<uint64_t>(end - last->base())));
  }
  // With `end` at the very end of the last segment, the next append starts a new segment.
  if (segments_.empty() || segments_.back()->end() == end) {
    active_.reset();
  } else {
    active_ = segments_.back();
    // What follows `end` is filled by appends, like a created segment's pages.
    active_->SetReadAhead(static_cast<uint64_t>(end - active_->base()), active_->size(), false);
  }
  appended_.store(end, std::memory_order_release);
  written_.store(end, std::memory_order_release);
  const int64_t released_below = segments_.empty() ? end : segments_.front()->base();
  // ReleaseBelow takes release_mu_ and then segments_mu_: never the other way round.
  l.unlock();
  {
    std::lock_guard<std::mutex> rolls(rolls_mu_);
    rolls_.clear();
  }
  {
    std::lock_guard<std::mutex> rl(release_mu_);
    released_below_ = released_below;
  }
  return Status::OK();
}

void CommitLog::FailWritesLocked(const Status& cause, std::string_view what) {
  if (!write_error_.ok()) return;  // the first failure is the one reported
  write_error_ = cause.WithContext(std::string(what) + "; the store refuses writes");
  write_failed_.store(true, std::memory_order_release);
}

Result<std::shared_ptr<MappedFile>> CommitLog::NextSegment(int64_t base) {
  std::shared_ptr<MappedFile> seg;
  {
    std::unique_lock<std::mutex> l(alloc_mu_);
    alloc_cv_.wait(l, [&] { return alloc_busy_base_ != base; });  // never create it twice
    // If the allocator has not started on `base` yet, it must not: this thread makes it now.
    if (alloc_wanted_base_ == base) alloc_wanted_base_ = -1;
    if (spare_ && spare_->base() == base) seg = std::move(spare_);
    spare_.reset();
  }
  if (!seg) {
    std::string path = filename::CommitLogSegment(root_, base);
    MQ_ASSIGN_OR_RETURN(seg, MappedFile::Create(env_, path, base, options_.segment_bytes));
  }
  {
    std::unique_lock<std::shared_mutex> l(segments_mu_);
    segments_.push_back(seg);
  }
  if (allocator_.joinable()) {
    std::lock_guard<std::mutex> l(alloc_mu_);
    alloc_wanted_base_ = seg->end();
    // The first segment of a log (or the first after a failed allocation) was not there to
    // be prepared when appends last asked: prepare its start now, not at the next request
    // 8 MiB on, so that appends do not fault its first pages in themselves.
    if (options_.prepare_ahead_bytes > 0) {
      prepare_target_ = std::max(prepare_target_,
                                 seg->base() + static_cast<int64_t>(options_.prepare_ahead_bytes));
    }
    alloc_cv_.notify_one();
  }
  return seg;
}

uint64_t CommitLog::MaxAppendBytes() const {
  const uint64_t in_segment = options_.segment_bytes - record::kBlankHeaderSize;
  return buffer_ ? std::min<uint64_t>(in_segment, buffer_->capacity()) : in_segment;
}

namespace {

// The bytes the next appends will write, asked into the cache now: as many as this record
// took, kWritePrefetchAhead past its end. Without it a record's stores missed the cache, and
// the record CRC, which reads the record back at once, waited for those lines (its loads
// were the hot spot of a one-writer profile). With it one writer appended 100 B 1.09x and
// 1 KiB 1.16x faster (docs/design/benchmarks.md). A prefetch never faults, but none goes
// past `limit`, the end of the memory the append may touch.
constexpr size_t kWritePrefetchAhead = 2048;
constexpr size_t kWritePrefetchMost = 4096;  // per record: a large one is streamed anyway

// Always inlined: as a call of its own it has no effect the compiler must keep (it is
// "const"), and GCC drops the call.
[[gnu::always_inline]] inline void PrefetchForWrite(const char* end, size_t bytes,
                                                    const char* limit) {
  // As integers: the lines may lie past the end of the memory (then nothing is fetched).
  const uintptr_t from = reinterpret_cast<uintptr_t>(end) + kWritePrefetchAhead;
  const uintptr_t to =
      std::min(from + std::min(bytes, kWritePrefetchMost), reinterpret_cast<uintptr_t>(limit));
  for (uintptr_t line = from; line < to; line += 64) {
    __builtin_prefetch(reinterpret_cast<const void*>(line), 1, 3);
  }
}

}  // namespace

Status CommitLog::Append(std::span<const PreparedRecord> records, QueueOffsetTable* offsets,
                         std::span<AppendedRecord> out, int64_t* store_timestamp_ms) {
  uint64_t total = 0;
  for (const auto& r : records) total += static_cast<uint64_t>(r.total_size);
  if (total + record::kBlankHeaderSize > options_.segment_bytes) {
    return Status::InvalidArgument("batch of " + std::to_string(total) +
                                   " bytes does not fit in a " +
                                   std::to_string(options_.segment_bytes) + "-byte segment");
  }
  if (buffer_ && total > buffer_->capacity()) {
    return Status::InvalidArgument("batch of " + std::to_string(total) +
                                   " bytes does not fit in the " +
                                   std::to_string(buffer_->capacity()) +
                                   "-byte write buffer (StoreOptions::write_buffer_bytes)");
  }
  std::unique_lock<std::mutex> l(append_mu_);
  // One clock read per append: it stamps the records too (RocketMQ's store timestamp is
  // likewise the time the put took the lock).
  const int64_t locked_at_ms = options_.clock->NowMillis();
  // The store clock's 0 would read as "not held": a clock at the epoch counts from 1 ms.
  append_locked_since_ms_.store(std::max<int64_t>(locked_at_ms, 1), std::memory_order_release);
  // Cleared before the lock goes: on early returns by this guard (destroyed before `l`),
  // on the normal path explicitly, after which the guard must not touch it again (the
  // next append may have set it by then).
  struct ClearOnEarlyReturn {
    std::atomic<int64_t>* since;
    ~ClearOnEarlyReturn() {
      if (since != nullptr) since->store(0, std::memory_order_release);
    }
  } clear_lock_clock{&append_locked_since_ms_};
  if (write_failed_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> wl(write_mu_);
    return write_error_;
  }
  int64_t pos = appended_.load(std::memory_order_relaxed);
  const int64_t before = pos;  // before a roll's blank too: the maintenance step sees it
  if (!active_) {
    MQ_ASSIGN_OR_RETURN(active_, NextSegment(pos));
  }
  uint64_t in_segment = static_cast<uint64_t>(pos - active_->base());
  const bool roll = in_segment + total + record::kBlankHeaderSize > active_->size();
  if (!buffer_) {
    AwaitZerosBelow(static_cast<int64_t>(total) + (roll ? active_->end() : pos));
  }
  if (roll) {
    // Get the next segment first so that a failure leaves the log as it was.
    MQ_ASSIGN_OR_RETURN(auto next, NextSegment(active_->end()));
    char* blank = active_->data() + in_segment;
    if (buffer_) {
      MQ_ASSIGN_OR_RETURN(blank, ReserveBuffer(pos, record::kBlankHeaderSize));
    }
    WriteBlankRecord(static_cast<int32_t>(active_->size() - in_segment), blank);
    if (buffer_) {
      std::lock_guard<std::mutex> rolls(rolls_mu_);
      rolls_.push_back(pos);
    }
    active_ = std::move(next);
    pos = active_->base();
    in_segment = 0;
    // The blank is part of the log: publish it so that flush and dispatch move past it.
    appended_.store(pos, std::memory_order_release);
  }
  int64_t ts = std::max(locked_at_ms, last_timestamp_ms_);  // non-decreasing in log order
  last_timestamp_ms_ = ts;
  char* dst = active_->data() + in_segment;
  // Where the bytes this append may touch end: the segment, or the run of the write buffer
  // that is contiguous from here.
  const char* dst_limit = active_->data() + active_->size();
  if (buffer_) {
    MQ_ASSIGN_OR_RETURN(dst, ReserveBuffer(pos, total));
    dst_limit = dst + buffer_->capacity();
  }
  for (size_t i = 0; i < records.size(); ++i) {
    const PreparedRecord& r = records[i];
    int64_t queue_offset = 0;
    if (r.gets_queue_offset) {
      int64_t* slot = offsets->Slot(r.message->topic, r.message->queue_id);
      queue_offset = (*slot)++;
    }
    WriteRecord(r, options_.store_host, queue_offset, pos, ts, dst);
    out[i] = AppendedRecord{pos, r.total_size, queue_offset};
    dst += r.total_size;
    pos += r.total_size;
    PrefetchForWrite(dst, r.total_size, dst_limit);
  }
  appended_.store(pos, std::memory_order_release);
  append_locked_since_ms_.store(0, std::memory_order_release);
  clear_lock_clock.since = nullptr;
  l.unlock();
  *store_timestamp_ms = ts;
  append_event_.Notify();
  // Every 8 MiB of log: drop the cached pages that fell out of the cache window behind (by
  // the allocator thread) and unmap what fell out of the resident window. The prefault ahead
  // is asked for every 512 KiB: asked for in 8 MiB steps, the allocator thread filled 2,048
  // pages at once, several milliseconds of one of the cores, and every message in flight
  // waited for them (0018, "Later"). Zero-ahead keeps the 8 MiB step: each of its steps
  // ends in a sync.
  constexpr int64_t kMaintenanceStep = 8 << 20;
  const int64_t prepare_step = buffer_ ? kMaintenanceStep : (512 << 10);
  const bool maintenance = pos / kMaintenanceStep != before / kMaintenanceStep;
  if (allocator_.joinable() && pos / prepare_step != before / prepare_step) {
    int64_t drop_below = 0;
    if (maintenance && options_.cache_window_bytes > 0) {
      drop_below = std::min(durable_.load(std::memory_order_acquire),
                            pos - static_cast<int64_t>(options_.cache_window_bytes));
    }
    // Mapped mode: what the appender left 1 MiB behind goes to the disk now, a little at a
    // time, instead of all at once at the next periodic sync.
    const int64_t write_behind_to = buffer_ ? 0 : pos - (1 << 20);
    RequestMaintenance(pos + static_cast<int64_t>(options_.prepare_ahead_bytes), drop_below,
                       write_behind_to);
  }
  if (maintenance && options_.resident_window_bytes > 0) {
    ReleaseBelow(pos - static_cast<int64_t>(options_.resident_window_bytes));
  }
  return Status::OK();
}

int64_t CommitLog::min_offset() const {
  std::shared_lock<std::shared_mutex> l(segments_mu_);
  return segments_.empty() ? appended() : segments_.front()->base();
}

std::vector<SegmentAge> CommitLog::OldestSegments(int64_t limit, size_t max_count) const {
  // The candidates, and the successor of the last one: its first record dates it.
  std::vector<std::shared_ptr<MappedFile>> segments;
  {
    std::shared_lock<std::shared_mutex> l(segments_mu_);
    size_t n = 0;
    while (n < max_count && n + 1 < segments_.size() && segments_[n]->end() <= limit) ++n;
    if (n > 0) {
      segments.assign(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(n + 1));
    }
  }
  std::vector<SegmentAge> out;
  const int64_t written_end = written();
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    SegmentAge age{segments[i]->base(), segments[i]->end(), std::nullopt};
    const MappedFile& next = *segments[i + 1];
    // Records are published whole, so one starting below written() is complete.
    if (next.base() < written_end) {
      RecordSummary first;
      if (CheckRecord(next.View(0, next.size()), /*verify_checksums=*/false, &first) ==
          RecordCheck::kRecord) {
        age.stored_before_ms = first.store_timestamp_ms;
      }
    }
    out.push_back(age);
  }
  return out;
}

Result<size_t> CommitLog::RemoveSegmentsBefore(int64_t limit) {
  std::vector<std::shared_ptr<MappedFile>> removed;
  {
    std::unique_lock<std::shared_mutex> l(segments_mu_);
    size_t n = 0;
    while (n + 1 < segments_.size() && segments_[n]->end() <= limit) ++n;
    if (n == 0) return size_t{0};
    removed.assign(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(n));
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(n));
  }
  // From here readers get no segment below the new min_offset(); those holding one keep it.
  const std::string dir = filename::CommitLogDir(root_);
  for (const auto& seg : removed) {
    Status s = env_->RemoveFile(seg->path());
    if (s.IsNotFound()) s = Status::OK();  // removed by an earlier, interrupted round
    // A directory sync per file: a crash must never keep a later removal and lose an
    // earlier one, which would leave a gap that Load rejects as corruption.
    if (s.ok()) s = env_->SyncDir(dir);
    if (!s.ok()) return s.WithContext("removing commit-log segment " + seg->path());
  }
  return removed.size();  // the mappings go when the last reader lets go of them
}

std::shared_ptr<MappedFile> CommitLog::SegmentFor(int64_t offset) const {
  std::shared_lock<std::shared_mutex> l(segments_mu_);
  if (segments_.empty() || offset < segments_.front()->base()) return nullptr;
  size_t index = static_cast<size_t>((offset - segments_.front()->base()) /
                                     static_cast<int64_t>(options_.segment_bytes));
  if (index >= segments_.size()) return nullptr;
  return segments_[index];
}

std::vector<std::shared_ptr<MappedFile>> CommitLog::Segments() const {
  std::shared_lock<std::shared_mutex> l(segments_mu_);
  return segments_;
}

Status CommitLog::Sync(int64_t from, int64_t to) const {
  while (from < to) {
    auto seg = SegmentFor(from);
    if (!seg) return Status::Aborted("segment for offset " + std::to_string(from) + " is gone");
    int64_t stop = std::min(to, seg->end());
    if (buffer_) {
      MQ_RETURN_IF_ERROR(seg->SyncFile());
      // Written out and durable to its end: nothing writes to it again.
      if (stop == seg->end()) seg->CloseWriter();
    } else {
      // The appender has moved past these bytes (but for the page holding `stop`).
      MQ_RETURN_IF_ERROR(seg->SyncReleasingPages(static_cast<uint64_t>(from - seg->base()),
                                                 static_cast<uint64_t>(stop - seg->base())));
    }
    from = stop;
  }
  return Status::OK();
}

Result<char*> CommitLog::ReserveBuffer(int64_t pos, uint64_t n) {
  if (static_cast<uint64_t>(pos - written_.load(std::memory_order_acquire)) + n >
      buffer_->capacity()) {
    // Appends outran the flusher: write out here. Afterwards written_ == pos, because
    // appended_ == pos and no other append can run (append_mu_ is held).
    MQ_RETURN_IF_ERROR(WriteOut());
  }
  return buffer_->At(pos);
}

Status CommitLog::WriteOut() {
  if (!buffer_) return Status::OK();
  std::lock_guard<std::mutex> l(write_mu_);
  if (!write_error_.ok()) return write_error_;
  int64_t from = written_.load(std::memory_order_relaxed);
  const int64_t to = appended_.load(std::memory_order_acquire);
  while (from < to) {
    std::shared_ptr<MappedFile> seg = SegmentFor(from);
    Status s;
    int64_t stop = to;  // end of the bytes to write in this segment
    int64_t next = to;  // where writing goes on
    if (!seg) {
      s = Status::Aborted("no commit-log segment holds offset " + std::to_string(from));
    } else if (to >= seg->end()) {
      // The segment was closed by a blank: write up to its header, skip the rest.
      std::lock_guard<std::mutex> rolls(rolls_mu_);
      if (rolls_.empty() || rolls_.front() < from || rolls_.front() >= seg->end()) {
        s = Status::Aborted("no blank record closes the segment at " + std::to_string(seg->base()));
      } else {
        stop = rolls_.front() + record::kBlankHeaderSize;
        next = seg->end();
        rolls_.pop_front();
      }
    }
    if (s.ok() && stop > from) {
      // To the end of the page, with zeros: the next write-out starts in this page, and finds
      // it whole in the page cache. A page that zero-ahead wrote past the cache (ZeroAhead)
      // and that a write fills only in part would be read from the disk first, in the
      // flusher's path. The zeros are what the file holds there anyway.
      const int64_t page_end =
          std::min(seg->base() + (stop - seg->base() + kPageBytes - 1) / kPageBytes * kPageBytes,
                   seg->end());
      s = seg->WriteThenZeros(static_cast<uint64_t>(from - seg->base()),
                              std::string_view(buffer_->At(from), static_cast<size_t>(stop - from)),
                              static_cast<size_t>(std::max(page_end, stop) - stop));
    }
    if (!s.ok()) {
      // The bytes may be half in the file: nothing after them can be trusted to follow.
      FailWritesLocked(s, "commit log write-out failed");
      return write_error_;
    }
    from = next;
    written_.store(from, std::memory_order_release);
  }
  return Status::OK();
}

void CommitLog::ReleaseBelow(int64_t offset) {
  std::lock_guard<std::mutex> l(release_mu_);
  ForEachSegmentPart(released_below_, offset, [](MappedFile& seg, uint64_t begin, uint64_t end) {
    seg.Release(begin, end);
  });
  released_below_ = std::max(released_below_, offset);
}

void CommitLog::ForEachSegmentPart(
    int64_t from, int64_t to,
    const std::function<void(MappedFile&, uint64_t, uint64_t)>& part) const {
  for (from = std::max(from, min_offset()); from < to;) {
    auto seg = SegmentFor(from);
    if (!seg) return;
    int64_t stop = std::min(to, seg->end());
    part(*seg, static_cast<uint64_t>(from - seg->base()),
         static_cast<uint64_t>(stop - seg->base()));
    from = stop;
  }
}

}  // namespace mqstore
