#include "queue/consume_queue.h"

#include <algorithm>

#include "mqstore/coding.h"
#include "util/filename.h"

namespace mqstore {

void EncodeQueueEntry(const QueueEntry& e, char* dst) {
  EncodeBig64(dst, static_cast<uint64_t>(e.physical_offset));
  EncodeBig32(dst + 8, static_cast<uint32_t>(e.size));
  EncodeBig64(dst + 12, static_cast<uint64_t>(e.tags_code));
}

QueueEntry DecodeQueueEntry(const char* src) {
  QueueEntry e;
  e.physical_offset = static_cast<int64_t>(DecodeBig64(src));
  e.size = static_cast<int32_t>(DecodeBig32(src + 8));
  e.tags_code = static_cast<int64_t>(DecodeBig64(src + 12));
  return e;
}

ConsumeQueue::ConsumeQueue(Env* env, std::string root, std::string topic, int32_t queue_id,
                           uint32_t entries_per_file)
    : env_(env),
      root_(std::move(root)),
      topic_(std::move(topic)),
      queue_id_(queue_id),
      entries_per_file_(entries_per_file) {}

std::string ConsumeQueue::dir() const {
  return filename::ConsumeQueueDir(root_, topic_, queue_id_);
}

Status ConsumeQueue::Load() {
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->GetChildren(dir()));
  std::vector<int64_t> bases;
  for (const auto& n : names) {
    if (auto b = filename::ParseOffsetName(n)) bases.push_back(*b);
  }
  std::sort(bases.begin(), bases.end());
  std::vector<std::shared_ptr<MappedFile>> files;
  for (int64_t base : bases) {
    std::string path = filename::ConsumeQueueFile(root_, topic_, queue_id_, base);
    if (base % static_cast<int64_t>(file_bytes()) != 0 ||
        (!files.empty() && files.back()->end() != base)) {
      return Status::Corruption(path + ": consume queue files are not contiguous");
    }
    auto file = MappedFile::Open(env_, path, base, file_bytes(), true);
    if (!file.ok() && file.status().IsCorruption() && base == bases.back()) {
      // A last file of the wrong size was being created when the process died.
      MQ_RETURN_IF_ERROR(env_->RemoveFile(path));
      break;
    }
    if (!file.ok()) return file.status();
    files.push_back(std::move(file).value());
  }
  // Find the end: the durable prefix of a queue file is a run of non-empty entries with
  // increasing physical offsets; whatever follows (zeros, torn bytes) is not the queue.
  int64_t end_byte = files.empty() ? 0 : files.front()->base();
  int64_t prev_end = -1;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    uint64_t pos = 0;
    for (; pos + kQueueEntrySize <= f->size(); pos += kQueueEntrySize) {
      QueueEntry e = DecodeQueueEntry(f->data() + pos);
      if (!EntryCanFollow(e.physical_offset, e.size, prev_end)) break;
      prev_end = e.physical_offset + e.size;
    }
    end_byte = f->base() + static_cast<int64_t>(pos);
    if (pos < f->size()) {
      // What follows the end in this file (entries a crash kept past a lost one) must not
      // reappear behind new entries: zero it. Files after a partial one hold nothing durable.
      std::string_view rest = f->View(pos, f->size() - pos);
      if (rest.find_first_not_of('\0') != std::string_view::npos) {
        MQ_RETURN_IF_ERROR(f->ZeroFromAndSync(pos));
      }
      bool removed = false;
      for (size_t j = files.size(); j > i + 1; --j) {
        std::string path = files[j - 1]->path();
        files.pop_back();
        MQ_RETURN_IF_ERROR(env_->RemoveFile(path));
        removed = true;
      }
      if (removed) MQ_RETURN_IF_ERROR(env_->SyncDir(dir()));
      break;
    }
  }
  {
    std::unique_lock<std::shared_mutex> l(files_mu_);
    files_ = std::move(files);
    tail_.reset();
  }
  int64_t first = files_.empty() ? 0 : files_.front()->base() / kQueueEntrySize;
  min_offset_.store(first, std::memory_order_release);
  max_offset_.store(end_byte / kQueueEntrySize, std::memory_order_release);
  last_record_end_ = std::max<int64_t>(prev_end, 0);
  synced_offset_ = end_byte / kQueueEntrySize;
  return Status::OK();
}

QueueEntry ConsumeQueue::EntryAt(int64_t queue_offset) const {
  int64_t byte = queue_offset * kQueueEntrySize;
  size_t index =
      static_cast<size_t>((byte - files_.front()->base()) / static_cast<int64_t>(file_bytes()));
  const auto& f = files_[index];
  return DecodeQueueEntry(f->data() + (byte - f->base()));
}

int64_t ConsumeQueue::FirstOffsetAtOrAfterLocked(int64_t physical_offset,
                                                 const QueueEntryCheck& trusted) const {
  // Entries are sorted by physical offset (Load ends a queue at the first that is not):
  // binary search.
  const int64_t min = min_offset();
  int64_t lo = min, hi = max_offset();
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (EntryAt(mid).physical_offset >= physical_offset) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  if (trusted) {
    while (lo > min && !trusted(*this, lo - 1, EntryAt(lo - 1))) --lo;
  }
  return lo;
}

int64_t ConsumeQueue::FirstOffsetAtOrAfter(int64_t physical_offset,
                                           const QueueEntryCheck& trusted) const {
  std::shared_lock<std::shared_mutex> l(files_mu_);
  return FirstOffsetAtOrAfterLocked(physical_offset, trusted);
}

Status ConsumeQueue::TruncateFrom(int64_t physical_offset, const QueueEntryCheck& trusted) {
  std::unique_lock<std::shared_mutex> l(files_mu_);
  tail_.reset();
  int64_t max = max_offset();
  int64_t min = min_offset();
  int64_t lo = FirstOffsetAtOrAfterLocked(physical_offset, trusted);
  if (lo == max) return Status::OK();
  int64_t cut_byte = lo * kQueueEntrySize;
  while (!files_.empty() && files_.back()->base() > cut_byte) {
    std::string path = files_.back()->path();
    files_.pop_back();
    MQ_RETURN_IF_ERROR(env_->RemoveFile(path));
  }
  if (!files_.empty()) {
    auto& f = files_.back();
    MQ_RETURN_IF_ERROR(f->ZeroFromAndSync(static_cast<uint64_t>(cut_byte - f->base())));
  }
  MQ_RETURN_IF_ERROR(env_->SyncDir(dir()));
  max_offset_.store(lo, std::memory_order_release);
  if (files_.empty()) min_offset_.store(lo, std::memory_order_release);
  last_record_end_ = 0;
  if (lo > min) {
    QueueEntry e = EntryAt(lo - 1);
    last_record_end_ = e.physical_offset + e.size;
  }
  synced_offset_ = std::min(synced_offset_, lo);
  released_end_ = std::min(released_end_, files_.empty() ? int64_t{0} : files_.back()->base());
  return Status::OK();
}

Status ConsumeQueue::Append(int64_t queue_offset, const QueueEntry& entry) {
  int64_t max = max_offset();
  if (queue_offset < max) return Status::OK();  // replayed during recovery
  if (queue_offset > max) {
    return Status::Corruption("consume queue " + topic_ + "/" + std::to_string(queue_id_) +
                              " expected offset " + std::to_string(max) + " but got " +
                              std::to_string(queue_offset));
  }
  int64_t byte = queue_offset * kQueueEntrySize;
  if (tail_ && byte >= tail_->base() && byte < tail_->end()) {
    EncodeQueueEntry(entry, tail_->data() + (byte - tail_->base()));
    last_record_end_ = entry.physical_offset + entry.size;
    max_offset_.store(queue_offset + 1, std::memory_order_release);
    return Status::OK();
  }
  std::shared_ptr<MappedFile> file;
  bool first = false;
  {
    std::shared_lock<std::shared_mutex> l(files_mu_);
    first = files_.empty();
    if (!first && byte < files_.back()->end() && byte >= files_.back()->base()) {
      file = files_.back();
    }
  }
  if (!file) {
    int64_t base = byte - byte % static_cast<int64_t>(file_bytes());
    if (first) {
      MQ_RETURN_IF_ERROR(env_->CreateDir(dir()));
      // New directories must be durable before the file entry in them can be.
      MQ_RETURN_IF_ERROR(env_->SyncDir(filename::ConsumeQueueRoot(root_)));
      MQ_RETURN_IF_ERROR(env_->SyncDir(filename::ConsumeQueueRoot(root_) + "/" + topic_));
    }
    MQ_ASSIGN_OR_RETURN(
        file, MappedFile::Create(env_, filename::ConsumeQueueFile(root_, topic_, queue_id_, base),
                                 base, file_bytes()));
    std::unique_lock<std::shared_mutex> l(files_mu_);
    files_.push_back(file);
  }
  tail_ = std::move(file);
  return Append(queue_offset, entry);
}

size_t ConsumeQueue::ReadEntries(int64_t queue_offset, size_t n,
                                 std::vector<QueueEntry>* out) const {
  int64_t max = max_offset();
  std::shared_lock<std::shared_mutex> l(files_mu_);
  size_t count = 0;
  if (files_.empty()) return 0;
  for (int64_t q = queue_offset; q < max && count < n; ++q, ++count) {
    int64_t byte = q * kQueueEntrySize;
    if (byte < files_.front()->base()) break;
    size_t index =
        static_cast<size_t>((byte - files_.front()->base()) / static_cast<int64_t>(file_bytes()));
    if (index >= files_.size()) break;
    const auto& f = files_[index];
    out->push_back(DecodeQueueEntry(f->data() + (byte - f->base())));
  }
  return count;
}

Status ConsumeQueue::Sync() {
  int64_t max = max_offset();
  if (synced_offset_ >= max) return Status::OK();
  std::vector<std::shared_ptr<MappedFile>> files;
  {
    std::shared_lock<std::shared_mutex> l(files_mu_);
    files = files_;
  }
  int64_t from = synced_offset_ * kQueueEntrySize, to = max * kQueueEntrySize;
  for (const auto& f : files) {
    int64_t a = std::max(from, f->base()), b = std::min(to, f->end());
    if (a < b) {
      // Entries below the max are complete: the dispatcher writes only at the end (the page
      // holding it stays mapped). Without the release, the checkpoint's msync of a queue
      // written at 1.6M entries/s made ~6 TLB flushes per 1,000 entries.
      MQ_RETURN_IF_ERROR(f->SyncReleasingPages(static_cast<uint64_t>(a - f->base()),
                                               static_cast<uint64_t>(b - f->base())));
    }
  }
  synced_offset_ = max;
  // Files before the last are complete and synced: drop their pages from this process's page
  // tables so that resident memory does not grow with the queue (readers fault them back).
  for (size_t i = 0; i + 1 < files.size(); ++i) {
    if (files[i]->base() < released_end_) continue;
    files[i]->Release(0, files[i]->size());
    released_end_ = files[i]->end();
  }
  return Status::OK();
}

Result<size_t> ConsumeQueue::ApplyLogMinOffset(int64_t log_min_offset) {
  std::lock_guard<std::mutex> retention(retention_mu_);
  int64_t new_min = 0;
  {
    std::shared_lock<std::shared_mutex> l(files_mu_);
    if (files_.empty()) return size_t{0};
    new_min = FirstOffsetAtOrAfterLocked(log_min_offset, nullptr);
  }
  // Readers check min_offset() before reading entries: from here on a read below it is told
  // "offset too small" instead of finding entries whose records are gone.
  if (new_min > min_offset()) min_offset_.store(new_min, std::memory_order_release);

  std::vector<std::shared_ptr<MappedFile>> removed;
  {
    std::unique_lock<std::shared_mutex> l(files_mu_);
    const int64_t min_byte = min_offset() * kQueueEntrySize;
    size_t n = 0;
    while (n + 1 < files_.size() && files_[n]->end() <= min_byte) ++n;
    removed.assign(files_.begin(), files_.begin() + static_cast<ptrdiff_t>(n));
    files_.erase(files_.begin(), files_.begin() + static_cast<ptrdiff_t>(n));
  }
  for (const auto& f : removed) {
    Status s = env_->RemoveFile(f->path());
    if (s.IsNotFound()) s = Status::OK();
    // Synced one by one: a crash must not keep a later removal and lose an earlier one, which
    // would leave a gap that Load rejects.
    if (s.ok()) s = env_->SyncDir(dir());
    if (!s.ok()) return s.WithContext("removing consume-queue file " + f->path());
  }
  return removed.size();
}

}  // namespace mqstore
