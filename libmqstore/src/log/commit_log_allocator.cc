// CommitLog's work off the append path: the allocator thread (segments made ahead, the pages
// ahead prepared, the cached pages behind dropped and written back), and the guard that keeps
// the zeros it writes ahead off what the appends write. The rest of the class is in
// commit_log.cc.
#include <algorithm>
#include <thread>

#include "log/commit_log.h"
#include "mqstore/thread_name.h"
#include "util/filename.h"

namespace mqstore {

void CommitLog::StartAllocator() {
  prepared_to_ = appended();
  written_behind_ = appended();  // write-behind follows what this process appends
  // What is older than the window at open is left to the kernel: it may not be cached at all.
  dropped_below_ =
      std::max(min_offset(), appended() - static_cast<int64_t>(options_.cache_window_bytes));
  allocator_ = std::thread([this] {
    NameThisThread("mq-log-prepare");
    AllocatorLoop();
  });
  RequestMaintenance(appended() + static_cast<int64_t>(options_.prepare_ahead_bytes), 0);
}

void CommitLog::RequestMaintenance(int64_t prepare_to, int64_t drop_below,
                                   int64_t write_behind_to) {
  std::lock_guard<std::mutex> l(alloc_mu_);
  bool more = false;
  if (write_behind_to > write_behind_target_) {
    write_behind_target_ = write_behind_to;
    more = true;
  }
  if (options_.prepare_ahead_bytes > 0 && prepare_to > prepare_target_) {
    prepare_target_ = prepare_to;
    more = true;
  }
  if (drop_below > drop_target_) {
    drop_target_ = drop_below;
    more = true;
  }
  if (more) alloc_cv_.notify_all();
}

void CommitLog::DropCacheTo(int64_t target, std::unique_lock<std::mutex>& l) {
  l.unlock();
  ReleaseBelow(target);  // the kernel keeps pages that are still mapped
  ForEachSegmentPart(dropped_below_, target, [](MappedFile& seg, uint64_t begin, uint64_t end) {
    seg.DropCache(begin, end);
  });
  l.lock();
  dropped_below_ = std::max(dropped_below_, target);
}

void CommitLog::WriteBehindTo(int64_t target, std::unique_lock<std::mutex>& l) {
  // Not from the durable offset: a sync that overtook the write-behind left nothing dirty
  // there, but a segment end it covered must still close that segment's descriptor.
  const int64_t from = written_behind_;
  l.unlock();
  ForEachSegmentPart(from, target, [](MappedFile& seg, uint64_t begin, uint64_t end) {
    seg.StartWriteBack(begin, end);
    // Started to its end: no write-back starts there again, and a log of many segments must
    // not keep a descriptor open for each.
    if (end == seg.size()) seg.CloseWriter();
  });
  l.lock();
  written_behind_ = std::max(written_behind_, target);
}

void CommitLog::PrepareTo(std::unique_lock<std::mutex>& l) {
  // Zero-ahead syncs after each step; a prefault step is short, so that the lead below is
  // checked often.
  const int64_t step = buffer_ ? (4 << 20) : (256 << 10);
  // Appends that catch up with the prefault would otherwise wait for the page it is filling,
  // then for the next, in lockstep (0018): it skips this far ahead of them instead, and they
  // fault the pages in between in themselves, in parallel with it.
  constexpr int64_t kLead = 128 << 10;
  prepared_to_ = std::max(prepared_to_, appended());
  // The target is read at every step: a request made while a step runs raises it.
  while (prepared_to_ < prepare_target_ && !alloc_stop_) {
    if (!buffer_) prepared_to_ = std::max(prepared_to_, appended() + kLead);
    if (prepared_to_ >= prepare_target_) break;
    std::shared_ptr<MappedFile> seg = SegmentFor(prepared_to_);
    if (!seg && spare_ && spare_->base() <= prepared_to_ && prepared_to_ < spare_->end()) {
      seg = spare_;
    }
    if (!seg) {
      // The next segment does not exist yet: the rest waits for the next request.
      prepare_target_ = prepared_to_;
      break;
    }
    int64_t stop = std::min({prepare_target_, seg->end(), prepared_to_ + step});
    int64_t from = prepared_to_;
    l.unlock();
    if (buffer_) {
      ZeroAhead(*seg, from, stop);
    } else {
      ZeroThenPrefault(*seg, from, stop);
    }
    l.lock();
    prepared_to_ = stop;
  }
}

void CommitLog::ZeroThenPrefault(MappedFile& seg, int64_t from, int64_t to) {
  const auto begin = static_cast<uint64_t>(from - seg.base());
  const auto end = static_cast<uint64_t>(to - seg.base());
  zeroing_from_.store(from, std::memory_order_seq_cst);
  if (appending_to_.load(std::memory_order_seq_cst) <= from) {
    // A hint, like the prefault: the bytes hold zeros already, and a failing disk shows in
    // the syncs.
    seg.WriteThenZeros(begin, {}, static_cast<size_t>(end - begin)).IgnoreError();
  }
  zeroing_from_.store(kNotZeroing, std::memory_order_release);
  seg.Prefault(begin, end);
}

void CommitLog::AwaitZerosBelow(int64_t end) {
  appending_to_.store(end, std::memory_order_seq_cst);
  if (end <= zeroing_from_.load(std::memory_order_seq_cst)) return;
  // The allocator thread went ahead with a write where this append is about to write: it
  // started 128 KiB ahead of the appends (PrepareTo's lead), and takes a few tens of
  // microseconds for at most 256 KiB.
  appends_waited_for_zeros_.fetch_add(1, std::memory_order_relaxed);
  while (end > zeroing_from_.load(std::memory_order_acquire)) std::this_thread::yield();
}

void CommitLog::ZeroAhead(MappedFile& seg, int64_t from, int64_t to) {
  // A hint; the flusher's own writes and syncs see a failing disk.
  if (!zeroer_.Open(seg.path()).ok()) return;
  const auto page_down = [&](int64_t at) {
    return seg.base() + (at - seg.base()) / kPageBytes * kPageBytes;
  };
  const auto page_up = [&](int64_t at) { return page_down(at + kPageBytes - 1); };
  if (zeroer_.direct()) {
    // Whole pages only. Rounded down: a step that ended inside a page left it to this one.
    from = page_down(from);
    to = page_down(to);
  }
  bool wrote = false;
  while (from < to) {
    const int64_t stop = std::min(to, from + static_cast<int64_t>(zeroer_.piece_bytes()));
    int64_t start = stop;
    {
      // With write_mu_ held no write-out runs, and a later one writes everything appended
      // meanwhile over these zeros; so zeros never land where a write-out has written, or
      // after one that is to write there. Past the cache, not the page that holds the append
      // position either: a write-out fills that one, with zeros to its end, through the cache.
      std::lock_guard<std::mutex> wl(write_mu_);
      if (!write_error_.ok()) return;
      const int64_t appended = appended_.load(std::memory_order_acquire);
      start = std::max(from, zeroer_.direct() ? page_up(appended) : appended);
      if (start < stop) {
        Status s = zeroer_.Write(static_cast<uint64_t>(start - seg.base()),
                                 static_cast<uint64_t>(stop - seg.base()));
        if (s.code() == Status::Code::kNotSupported && zeroer_.direct()) {
          // Opened for direct writes, which the file system then refused: through the page
          // cache from here on, this piece included.
          if (!zeroer_.Open(seg.path()).ok()) return;
          continue;
        }
        if (!s.ok()) {
          // Through the cache a hint, as above; past it the disk itself failed.
          if (zeroer_.direct()) FailWritesLocked(s, "commit log direct write (zero-ahead) failed");
          return;
        }
        wrote = true;
      }
    }
    // Through the cache each piece goes to the disk now, outside write_mu_: an fdatasync of
    // the flusher waits for every page of the file under writeback, so it then meets at most
    // one piece in flight instead of the whole step's (halves the SYNC_FLUSH p99, see 0014).
    // Records written over the zeros meanwhile are written back early, which is harmless.
    // An error reaches the flusher's descriptor too, but a disk that fails is not written to
    // further: the log fails now.
    if (!zeroer_.direct() && start < stop) {
      Status s = zeroer_.WriteBack(static_cast<uint64_t>(start - seg.base()),
                                   static_cast<uint64_t>(stop - seg.base()));
      if (!s.ok()) {
        std::lock_guard<std::mutex> wl(write_mu_);
        FailWritesLocked(s, "commit log write-back (zero-ahead) failed");
        return;
      }
    }
    from = stop;
  }
  if (!wrote) return;
  Status s = zeroer_.Sync();
  if (!s.ok()) {
    std::lock_guard<std::mutex> wl(write_mu_);
    FailWritesLocked(s, "commit log sync (zero-ahead) failed");
  }
}

void CommitLog::AllocatorLoop() {
  std::unique_lock<std::mutex> l(alloc_mu_);
  while (!alloc_stop_) {
    alloc_cv_.wait(l, [&] {
      return alloc_stop_ || alloc_wanted_base_ >= 0 || prepare_target_ > prepared_to_ ||
             drop_target_ > dropped_below_ || write_behind_target_ > written_behind_;
    });
    if (alloc_stop_) break;
    if (alloc_wanted_base_ >= 0) {
      int64_t base = alloc_wanted_base_;
      alloc_wanted_base_ = -1;
      if (!(spare_ && spare_->base() == base)) {
        alloc_busy_base_ = base;
        l.unlock();
        auto seg = MappedFile::Create(env_, filename::CommitLogSegment(root_, base), base,
                                      options_.segment_bytes);
        l.lock();
        // On failure the appender creates the segment itself and reports the error.
        if (seg.ok()) spare_ = std::move(seg).value();
        alloc_busy_base_ = -1;
        alloc_cv_.notify_all();
      }
    }
    if (prepare_target_ > prepared_to_) PrepareTo(l);
    if (drop_target_ > dropped_below_ && !alloc_stop_) DropCacheTo(drop_target_, l);
    if (write_behind_target_ > written_behind_ && !alloc_stop_) {
      WriteBehindTo(write_behind_target_, l);
    }
  }
}

}  // namespace mqstore
