#include "index/index_service.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "mqstore/message.h"
#include "util/mapped_file.h"

namespace mqstore {

namespace {

constexpr char kKeySeparator = ' ';
// The range of times a 17-digit name can show: 1970-01-01 .. 9999-12-31.
constexpr int64_t kLastNameableMs = 253'402'300'799'999;

uint32_t HashIndexKey(std::string_view topic, std::string_view key, std::string* scratch) {
  scratch->assign(topic);
  scratch->push_back('#');
  scratch->append(key);
  uint64_t h = XXH3_64bits(scratch->data(), scratch->size());
  return static_cast<uint32_t>(h ^ (h >> 32));
}

void CollectIndexKeys(const IndexRecord& record, std::vector<std::string_view>* keys) {
  keys->clear();
  auto add = [keys](std::string_view key) {
    if (key.empty() || key.size() > kMaxIndexKeyBytes) return;
    if (std::find(keys->begin(), keys->end(), key) != keys->end()) return;
    keys->push_back(key);
  };
  add(record.unique_key);
  std::string_view rest = record.keys;
  while (!rest.empty()) {
    size_t sep = rest.find(kKeySeparator);
    add(rest.substr(0, sep));
    if (sep == std::string_view::npos) break;
    rest.remove_prefix(sep + 1);
  }
}

}  // namespace

std::vector<std::string_view> IndexKeysOf(const IndexRecord& record) {
  std::vector<std::string_view> keys;
  CollectIndexKeys(record, &keys);
  return keys;
}

IndexRecord IndexRecordOf(std::string_view topic, std::string_view properties) {
  IndexRecord record;
  record.topic = topic;
  record.keys = FindProperty(properties, property::kKeys).value_or(std::string_view());
  record.unique_key = FindProperty(properties, property::kUniqueKey).value_or(std::string_view());
  return record;
}

bool RecordHasIndexKey(std::string_view topic, std::string_view properties, std::string_view key) {
  std::vector<std::string_view> keys = IndexKeysOf(IndexRecordOf(topic, properties));
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

uint32_t IndexKeyHash(std::string_view topic, std::string_view key) {
  std::string scratch;
  return HashIndexKey(topic, key, &scratch);
}

std::string IndexFileName(int64_t ms) {
  using namespace std::chrono;
  ms = std::clamp<int64_t>(ms, 0, kLastNameableMs);
  sys_time<milliseconds> t{milliseconds(ms)};
  sys_days day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> tod{t - day};
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d%02u%02u%02d%02d%02d%03d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                static_cast<int>(tod.seconds().count()),
                static_cast<int>(tod.subseconds().count()));
  return buf;
}

std::optional<int64_t> ParseIndexFileName(std::string_view name) {
  using namespace std::chrono;
  if (name.size() != 17) return std::nullopt;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  auto field = [name](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (name[i] - '0');
    return v;
  };
  year_month_day ymd{year(field(0, 4)), month(static_cast<unsigned>(field(4, 2))),
                     day(static_cast<unsigned>(field(6, 2)))};
  int hh = field(8, 2), mm = field(10, 2), ss = field(12, 2), sss = field(14, 3);
  if (!ymd.ok() || hh > 23 || mm > 59 || ss > 59) return std::nullopt;
  sys_time<milliseconds> t =
      sys_days(ymd) + hours(hh) + minutes(mm) + seconds(ss) + milliseconds(sss);
  int64_t ms = t.time_since_epoch().count();
  if (ms < 0) return std::nullopt;
  return ms;
}

IndexService::IndexService(Env* env, std::string root, IndexOptions options)
    : env_(env), root_(std::move(root)), options_(options) {}

Status IndexService::Load(bool after_crash) {
  prefetched_offset_ = -1;
  if (options_.slot_count == 0 || options_.max_entries_per_file == 0) {
    return Status::InvalidArgument("index files need at least one slot and one entry");
  }
  std::vector<std::pair<std::string, int64_t>> names;  // name, its time
  if (env_->FileExists(dir())) {
    MQ_ASSIGN_OR_RETURN(std::vector<std::string> children, env_->GetChildren(dir()));
    for (auto& name : children) {
      if (auto ms = ParseIndexFileName(name)) names.emplace_back(std::move(name), *ms);
    }
  }
  std::sort(names.begin(), names.end());
  std::vector<std::shared_ptr<IndexFile>> files(names.size());
  // Newest first: files past the last one with a valid header were created and never
  // flushed, so they hold nothing durable; any file before it must open.
  bool removed = false;
  size_t count = names.size();
  for (size_t i = names.size(); i-- > 0;) {
    std::string path = dir() + "/" + names[i].first;
    auto file = IndexFile::Open(env_, path);
    if (file.ok()) {
      MQ_RETURN_IF_ERROR((*file)->RepairHeaderCopies());
      files[i] = std::move(file).value();
      continue;
    }
    if (i + 1 == count && file.status().IsCorruption()) {
      MQ_RETURN_IF_ERROR(env_->RemoveFile(path));
      removed = true;
      --count;
      continue;
    }
    return file.status();
  }
  files.resize(count);
  if (removed) MQ_RETURN_IF_ERROR(env_->SyncDir(dir()));
  for (size_t i = 1; i < files.size(); ++i) {
    if (files[i - 1]->end_offset() > files[i]->begin_offset()) {
      return Status::Corruption(files[i]->path() + " begins before the previous index file ends");
    }
  }
  if (!files.empty()) {
    MQ_RETURN_IF_ERROR(after_crash ? files.back()->RebuildSlotHeads()
                                   : files.back()->RestoreSlotHeads());
  }

  last_timestamp_ms_ = 0;
  for (const auto& f : files) {
    if (f->entry_count() > 0) last_timestamp_ms_ = f->end_timestamp_ms();
  }
  last_name_ms_ = count > 0 ? names[count - 1].second : -1;
  int64_t end = files.empty() ? 0 : files.back()->end_offset();
  {
    std::unique_lock<std::shared_mutex> l(files_mu_);
    files_ = std::move(files);
    active_ = files_.empty() ? nullptr : files_.back().get();
  }
  indexed_end_.store(end, std::memory_order_release);
  durable_end_.store(end, std::memory_order_release);
  return Status::OK();
}

Result<IndexFile*> IndexService::Roll(int64_t physical_offset, int64_t timestamp_ms) {
  int64_t name_ms =
      std::max(std::clamp<int64_t>(timestamp_ms, 0, kLastNameableMs), last_name_ms_ + 1);
  if (name_ms > kLastNameableMs) return Status::OutOfRange("no index file name left");
  if (active_ == nullptr) {
    MQ_RETURN_IF_ERROR(env_->CreateDir(dir()));
    // The directory must be durable before a file entry in it can be.
    MQ_RETURN_IF_ERROR(env_->SyncDir(root_));
  }
  int64_t begin = active_ == nullptr ? physical_offset : indexed_end();
  IndexGeometry geometry{options_.slot_count, options_.max_entries_per_file};
  MQ_ASSIGN_OR_RETURN(
      std::unique_ptr<IndexFile> created,
      IndexFile::Create(env_, dir() + "/" + IndexFileName(name_ms), geometry, begin));
  std::shared_ptr<IndexFile> file(std::move(created));
  {
    std::unique_lock<std::shared_mutex> l(files_mu_);
    files_.push_back(file);
    active_ = file.get();
  }
  last_name_ms_ = name_ms;
  return file.get();
}

Status IndexService::Add(const IndexRecord& record) {
  if (record.physical_offset < 0 || record.size <= 0) {
    return Status::InvalidArgument("index record at " + std::to_string(record.physical_offset) +
                                   " has size " + std::to_string(record.size));
  }
  if (record.physical_offset < indexed_end()) return Status::OK();  // indexed before
  if (record.physical_offset == prefetched_offset_) {
    hashes_.swap(prefetched_hashes_);
  } else {
    HashKeys(record, &hashes_);
  }
  prefetched_offset_ = -1;

  int64_t timestamp = std::max({record.store_timestamp_ms, last_timestamp_ms_, int64_t{0}});
  IndexFile* file = active_;
  if (file == nullptr || !file->CanTake(hashes_.size(), timestamp)) {
    MQ_ASSIGN_OR_RETURN(file, Roll(record.physical_offset, timestamp));
  }
  int64_t end = record.physical_offset + record.size;
  file->Append(hashes_, record.physical_offset, end, timestamp);
  if (!hashes_.empty()) last_timestamp_ms_ = timestamp;
  indexed_end_.store(end, std::memory_order_release);
  return Status::OK();
}

void IndexService::HashKeys(const IndexRecord& record, std::vector<uint32_t>* out) {
  CollectIndexKeys(record, &keys_);
  // A record's entries stay in one file; only a tiny test geometry can make that impossible.
  if (keys_.size() > options_.max_entries_per_file) keys_.resize(options_.max_entries_per_file);
  out->clear();
  for (std::string_view key : keys_) out->push_back(HashIndexKey(record.topic, key, &key_scratch_));
}

void IndexService::Prefetch(const IndexRecord& record) {
  if (active_ == nullptr || record.physical_offset < indexed_end()) return;
  HashKeys(record, &prefetched_hashes_);
  prefetched_offset_ = record.physical_offset;
  // If the record rolls to a new file instead, this fetched slots it will not use: harmless.
  active_->PrefetchSlots(prefetched_hashes_);
}

Result<std::vector<int64_t>> IndexService::Query(std::string_view topic, std::string_view key,
                                                 int64_t begin_ms, int64_t end_ms,
                                                 size_t max_results, int64_t visible_limit) const {
  if (key.empty() || key.size() > kMaxIndexKeyBytes) {
    return Status::InvalidArgument("index keys are 1 to " + std::to_string(kMaxIndexKeyBytes) +
                                   " bytes; got " + std::to_string(key.size()));
  }
  std::vector<int64_t> out;
  if (max_results == 0 || begin_ms > end_ms) return out;
  std::string scratch;
  const uint32_t hash = HashIndexKey(topic, key, &scratch);
  // A snapshot: a file rolled in meanwhile holds only records added after this call began.
  const std::vector<std::shared_ptr<IndexFile>> files = SnapshotFiles();
  for (auto it = files.rbegin(); it != files.rend() && out.size() < max_results; ++it) {
    const IndexFile& f = **it;
    if (f.entry_count() == 0 || f.begin_offset() >= visible_limit) continue;
    if (f.end_timestamp_ms() < begin_ms) break;  // files are in time order too
    if (f.begin_timestamp_ms() > end_ms) continue;
    f.Find(hash, begin_ms, end_ms, visible_limit, max_results, &out);
  }
  return out;
}

std::vector<std::shared_ptr<IndexFile>> IndexService::SnapshotFiles() const {
  std::shared_lock<std::shared_mutex> l(files_mu_);
  return files_;
}

Status IndexService::Flush() {
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  // Oldest first: a file's header is written only after every earlier file is final on disk,
  // so Load can trust the last file with a header and drop the ones after it.
  std::vector<std::shared_ptr<IndexFile>> files = SnapshotFiles();
  for (const auto& f : files) MQ_RETURN_IF_ERROR(f->Sync());
  if (!files.empty()) {
    durable_end_.store(files.back()->durable_header().end_offset, std::memory_order_release);
  }
  return Status::OK();
}

Status IndexService::TruncateFrom(int64_t physical_end) {
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  prefetched_offset_ = -1;  // the log past physical_end will hold other records
  std::unique_lock<std::shared_mutex> l(files_mu_);
  // Everything added becomes durable first, oldest file first as in Flush, so that the
  // headers written below describe durable entries and follow durable earlier files.
  for (const auto& f : files_) MQ_RETURN_IF_ERROR(f->Sync());
  bool removed = false;
  while (!files_.empty() && files_.back()->begin_offset() >= physical_end) {
    std::string path = files_.back()->path();
    files_.pop_back();
    MQ_RETURN_IF_ERROR(env_->RemoveFile(path));
    removed = true;
  }
  if (removed) MQ_RETURN_IF_ERROR(env_->SyncDir(dir()));
  int64_t end = 0;
  active_ = files_.empty() ? nullptr : files_.back().get();
  if (!files_.empty()) {
    // Earlier files end where the last one begins, at or before `physical_end`.
    MQ_RETURN_IF_ERROR(files_.back()->TruncateFrom(physical_end));
    end = files_.back()->durable_header().end_offset;
  }
  last_timestamp_ms_ = 0;
  for (const auto& f : files_) {
    if (f->entry_count() > 0) last_timestamp_ms_ = f->end_timestamp_ms();
  }
  indexed_end_.store(end, std::memory_order_release);
  durable_end_.store(end, std::memory_order_release);
  return Status::OK();
}

size_t IndexService::file_count() const {
  std::shared_lock<std::shared_mutex> l(files_mu_);
  return files_.size();
}

std::vector<std::string> IndexService::file_paths() const {
  std::vector<std::string> paths;
  for (const auto& f : SnapshotFiles()) paths.push_back(f->path());
  return paths;
}

Result<size_t> IndexService::ApplyLogMinOffset(int64_t log_min_offset) {
  std::lock_guard<std::mutex> flush_lock(flush_mu_);  // not while Flush walks the files
  std::vector<std::shared_ptr<IndexFile>> removed;
  {
    std::unique_lock<std::shared_mutex> l(files_mu_);
    // File i ends where file i + 1 begins (Roll starts a file at the end of the last record
    // added), a value fixed at creation: no need to read the writer's progress.
    size_t n = 0;
    while (n + 1 < files_.size() && files_[n + 1]->begin_offset() <= log_min_offset) ++n;
    removed.assign(files_.begin(), files_.begin() + static_cast<ptrdiff_t>(n));
    files_.erase(files_.begin(), files_.begin() + static_cast<ptrdiff_t>(n));
  }
  // Queries that took a snapshot keep their files mapped until they finish.
  for (const auto& f : removed) {
    Status s = env_->RemoveFile(f->path());
    if (!s.ok() && !s.IsNotFound()) {
      return s.WithContext("removing index file " + f->path());
    }
  }
  // One directory sync is enough here: Load accepts gaps between index files.
  if (!removed.empty()) MQ_RETURN_IF_ERROR(env_->SyncDir(dir()));
  return removed.size();
}

}  // namespace mqstore
