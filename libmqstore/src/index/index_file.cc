#include "index/index_file.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <vector>

#include "mqstore/coding.h"
#include "util/crc32.h"

namespace mqstore {

namespace {

constexpr size_t kHeaderFieldBytes = kIndexHeaderCopySize - 4;  // covered by the CRC

}  // namespace

void EncodeIndexHeader(const IndexHeader& h, char* dst) {
  EncodeBig32(dst, kIndexMagic);
  EncodeBig32(dst + 4, kIndexVersion);
  EncodeBig64(dst + 8, h.sequence);
  EncodeBig32(dst + 16, h.geometry.slot_count);
  EncodeBig32(dst + 20, h.geometry.max_entries);
  EncodeBig32(dst + 24, h.used_slots);
  EncodeBig32(dst + 28, h.entry_count);
  EncodeBig64(dst + 32, static_cast<uint64_t>(h.begin_timestamp_ms));
  EncodeBig64(dst + 40, static_cast<uint64_t>(h.end_timestamp_ms));
  EncodeBig64(dst + 48, static_cast<uint64_t>(h.begin_offset));
  EncodeBig64(dst + 56, static_cast<uint64_t>(h.end_offset));
  EncodeBig32(dst + kHeaderFieldBytes, crc32::Value(dst, kHeaderFieldBytes));
}

Status DecodeIndexHeader(std::string_view src, IndexHeader* out) {
  if (src.size() < kIndexHeaderCopySize) return Status::Corruption("index header is short");
  const char* p = src.data();
  if (crc32::Value(p, kHeaderFieldBytes) != DecodeBig32(p + kHeaderFieldBytes)) {
    return Status::Corruption("index header CRC mismatch");
  }
  if (DecodeBig32(p) != kIndexMagic) return Status::Corruption("index header has a bad magic");
  if (uint32_t version = DecodeBig32(p + 4); version != kIndexVersion) {
    return Status::NotSupported("index file version " + std::to_string(version));
  }
  IndexHeader h;
  h.sequence = DecodeBig64(p + 8);
  h.geometry.slot_count = DecodeBig32(p + 16);
  h.geometry.max_entries = DecodeBig32(p + 20);
  h.used_slots = DecodeBig32(p + 24);
  h.entry_count = DecodeBig32(p + 28);
  h.begin_timestamp_ms = static_cast<int64_t>(DecodeBig64(p + 32));
  h.end_timestamp_ms = static_cast<int64_t>(DecodeBig64(p + 40));
  h.begin_offset = static_cast<int64_t>(DecodeBig64(p + 48));
  h.end_offset = static_cast<int64_t>(DecodeBig64(p + 56));
  if (h.geometry.slot_count == 0 || h.geometry.max_entries == 0 ||
      h.entry_count > h.geometry.max_entries || h.used_slots > h.geometry.slot_count ||
      h.used_slots > h.entry_count || (h.entry_count > 0 && h.used_slots == 0) ||
      h.begin_offset < 0 || h.end_offset < h.begin_offset ||
      h.end_timestamp_ms < h.begin_timestamp_ms ||
      // (Unsigned: exact after the end >= begin check, where int64 subtraction could overflow.)
      static_cast<uint64_t>(h.end_timestamp_ms) - static_cast<uint64_t>(h.begin_timestamp_ms) >
          std::numeric_limits<uint32_t>::max()) {
    return Status::Corruption("index header fields are inconsistent");
  }
  *out = h;
  return Status::OK();
}

Status DecodeIndexHeaderAt(std::string_view src, size_t copy, IndexHeader* out) {
  MQ_RETURN_IF_ERROR(DecodeIndexHeader(src, out));
  if (CopyOfSequence(out->sequence) != copy) {
    return Status::Corruption("index header copy " + std::to_string(copy) + " holds sequence " +
                              std::to_string(out->sequence) + ", which belongs in copy " +
                              std::to_string(CopyOfSequence(out->sequence)));
  }
  return Status::OK();
}

void EncodeIndexEntry(const IndexEntry& e, char* dst) {
  EncodeBig32(dst, e.key_hash);
  EncodeBig64(dst + 4, static_cast<uint64_t>(e.physical_offset));
  EncodeBig32(dst + 12, e.time_diff_ms);
  EncodeBig32(dst + 16, e.prev);
}

IndexEntry DecodeIndexEntry(const char* src) {
  IndexEntry e;
  e.key_hash = DecodeBig32(src);
  e.physical_offset = static_cast<int64_t>(DecodeBig64(src + 4));
  e.time_diff_ms = DecodeBig32(src + 12);
  e.prev = DecodeBig32(src + 16);
  return e;
}

IndexFile::IndexFile(std::shared_ptr<MappedFile> file, IndexGeometry geometry, int64_t begin_offset)
    : file_(std::move(file)), geometry_(geometry), begin_offset_(begin_offset) {}

Result<std::unique_ptr<IndexFile>> IndexFile::Create(Env* env, const std::string& path,
                                                     IndexGeometry geometry, int64_t begin_offset) {
  if (geometry.slot_count == 0 || geometry.max_entries == 0) {
    return Status::InvalidArgument("index geometry needs at least one slot and one entry");
  }
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> mapped,
                      MappedFile::Create(env, path, 0, geometry.file_bytes()));
  std::unique_ptr<IndexFile> file(new IndexFile(std::move(mapped), geometry, begin_offset));
  file->progress_.end_offset = begin_offset;
  file->synced_ = file->progress_;
  return file;
}

Result<std::unique_ptr<IndexFile>> IndexFile::Open(Env* env, const std::string& path) {
  // The geometry is in the header: read it before mapping.
  IndexHeader newest;
  bool found = false;
  bool a_copy_is_damaged = false;  // neither valid nor blank (never written)
  {
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> raw, env->OpenFile(path, OpenMode::kReadOnly));
    char buf[kIndexHeaderSize];
    size_t n = 0;
    MQ_RETURN_IF_ERROR(raw->Read(0, sizeof(buf), buf, &n));
    for (size_t copy = 0; copy < 2; ++copy) {
      if (n < (copy + 1) * kIndexHeaderCopySize) break;
      IndexHeader h;
      Status s = DecodeIndexHeaderAt(
          std::string_view(buf + copy * kIndexHeaderCopySize, kIndexHeaderCopySize), copy, &h);
      if (s.ok() && (!found || SequenceNewer(h.sequence, newest.sequence))) {
        newest = h;
        found = true;
      } else if (!s.ok() && !s.IsCorruption()) {
        return s.WithContext(path);
      } else if (!s.ok() &&
                 std::string_view(buf + copy * kIndexHeaderCopySize, kIndexHeaderCopySize)
                         .find_first_not_of('\0') != std::string_view::npos) {
        a_copy_is_damaged = true;
      }
    }
  }
  if (!found) return Status::Corruption(path + ": no valid index header");
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> mapped,
                      MappedFile::Open(env, path, 0, newest.geometry.file_bytes(), true));
  std::unique_ptr<IndexFile> file(
      new IndexFile(std::move(mapped), newest.geometry, newest.begin_offset));
  Progress p;
  p.used_slots = newest.used_slots;
  p.entry_count = newest.entry_count;
  p.begin_timestamp_ms = newest.begin_timestamp_ms;
  p.end_timestamp_ms = newest.end_timestamp_ms;
  p.end_offset = newest.end_offset;
  file->progress_ = p;
  file->synced_ = p;
  file->header_sequence_ = newest.sequence;
  file->header_written_ = true;
  file->damaged_copy_ = a_copy_is_damaged;
  file->Publish(p);
  return file;
}

uint32_t IndexFile::LoadHead(uint32_t slot, std::memory_order order) const {
  // Slots are 4-byte aligned in a page-aligned mapping. The raw word holds big-endian bytes;
  // coding.h turns them into the value.
  auto* word = reinterpret_cast<uint32_t*>(file_->data() + SlotPos(slot));
  uint32_t raw = std::atomic_ref<uint32_t>(*word).load(order);
  char bytes[4];
  std::memcpy(bytes, &raw, 4);
  return DecodeBig32(bytes);
}

void IndexFile::StoreHead(uint32_t slot, uint32_t n, std::memory_order order) {
  char bytes[4];
  EncodeBig32(bytes, n);
  uint32_t raw;
  std::memcpy(&raw, bytes, 4);
  auto* word = reinterpret_cast<uint32_t*>(file_->data() + SlotPos(slot));
  std::atomic_ref<uint32_t>(*word).store(raw, order);
}

uint32_t IndexFile::SlotHead(uint32_t slot) const {
  return LoadHead(slot, std::memory_order_acquire);
}

IndexEntry IndexFile::EntryAt(uint32_t n) const {
  return DecodeIndexEntry(file_->data() + EntryPos(n));
}

void IndexFile::Publish(const Progress& p) {
  begin_ts_.store(p.begin_timestamp_ms, std::memory_order_relaxed);
  end_ts_.store(p.end_timestamp_ms, std::memory_order_relaxed);
  published_count_.store(p.entry_count, std::memory_order_release);
}

bool IndexFile::CanTake(size_t keys, int64_t timestamp_ms) const {
  if (keys == 0) return true;
  const Progress& p = progress_;  // the writer reads its own state without the lock
  if (keys > geometry_.max_entries - p.entry_count) return false;
  return p.entry_count == 0 ||
         timestamp_ms - p.begin_timestamp_ms <= int64_t{std::numeric_limits<uint32_t>::max()};
}

void IndexFile::Append(std::span<const uint32_t> key_hashes, int64_t physical_offset,
                       int64_t physical_end, int64_t timestamp_ms) {
  Progress p = progress_;
  for (uint32_t hash : key_hashes) {
    if (p.entry_count == 0) {
      p.begin_timestamp_ms = timestamp_ms;
      begin_ts_.store(timestamp_ms, std::memory_order_relaxed);
    }
    uint32_t n = p.entry_count + 1;
    uint32_t slot = hash % geometry_.slot_count;
    uint32_t head = LoadHead(slot, std::memory_order_relaxed);
    IndexEntry e{hash, physical_offset, static_cast<uint32_t>(timestamp_ms - p.begin_timestamp_ms),
                 head};
    EncodeIndexEntry(e, file_->data() + EntryPos(n));
    StoreHead(slot, n, std::memory_order_release);  // the entry is complete before it is linked
    if (head == 0) ++p.used_slots;
    p.entry_count = n;
  }
  if (!key_hashes.empty()) p.end_timestamp_ms = timestamp_ms;
  p.end_offset = physical_end;
  {
    std::lock_guard<std::mutex> l(progress_mu_);
    progress_ = p;
  }
  Publish(p);
}

void IndexFile::PrefetchSlots(std::span<const uint32_t> key_hashes) const {
  const char* base = file_->data();
  for (uint32_t hash : key_hashes) {
    __builtin_prefetch(base + SlotPos(hash % geometry_.slot_count), /*rw=*/1, /*locality=*/3);
  }
}

int64_t IndexFile::end_offset() const { return progress_.end_offset; }

void IndexFile::Find(uint32_t key_hash, int64_t begin_ms, int64_t end_ms, int64_t visible_limit,
                     size_t max_results, std::vector<int64_t>* out) const {
  if (entry_count() == 0 || out->size() >= max_results) return;
  const int64_t base = begin_timestamp_ms();
  uint32_t n = LoadHead(key_hash % geometry_.slot_count, std::memory_order_acquire);
  while (n != 0 && n <= geometry_.max_entries) {
    IndexEntry e = EntryAt(n);
    int64_t ts = base + e.time_diff_ms;
    if (ts < begin_ms) break;  // times fall along a chain: the rest is older still
    if (e.key_hash == key_hash && ts <= end_ms && e.physical_offset < visible_limit &&
        (out->empty() || out->back() != e.physical_offset)) {
      out->push_back(e.physical_offset);
      if (out->size() >= max_results) return;
    }
    if (e.prev >= n) break;  // a chain only goes to older entries; anything else is damage
    n = e.prev;
  }
}

IndexHeader IndexFile::HeaderOf(const Progress& p, uint64_t sequence) const {
  IndexHeader h;
  h.sequence = sequence;
  h.geometry = geometry_;
  // A statistic kept by Append; heads damaged within the count (a slot pointing into another
  // slot's chain) make it drift. Never write a value the decoder would reject (found by
  // index_fuzzer: an append after such damage wrote used_slots 0 with one entry).
  h.used_slots = std::clamp(p.used_slots, p.entry_count > 0 ? 1u : 0u,
                            std::min(p.entry_count, geometry_.slot_count));
  h.entry_count = p.entry_count;
  h.begin_timestamp_ms = p.begin_timestamp_ms;
  h.end_timestamp_ms = p.end_timestamp_ms;
  h.begin_offset = begin_offset_;
  h.end_offset = p.end_offset;
  return h;
}

Status IndexFile::WriteHeader(const Progress& p) {
  IndexHeader h = HeaderOf(p, header_sequence_ + 1);
  // The other copy still holds the previous header: a torn write here loses only this one.
  uint64_t pos = CopyOfSequence(h.sequence) * kIndexHeaderCopySize;
  EncodeIndexHeader(h, file_->data() + pos);
  MQ_RETURN_IF_ERROR(file_->Sync(pos, pos + kIndexHeaderCopySize));
  header_sequence_ = h.sequence;
  header_written_ = true;
  return Status::OK();
}

Status IndexFile::Sync() {
  std::lock_guard<std::mutex> sync_lock(sync_mu_);
  Progress p;
  {
    std::lock_guard<std::mutex> l(progress_mu_);
    p = progress_;
  }
  if (header_written_ && p == synced_) return Status::OK();
  if (p.entry_count != synced_.entry_count) {
    uint32_t from = std::min(p.entry_count, synced_.entry_count);
    // Entries are appended in order, so the pages below the last counted one are complete
    // (slots are written anywhere and stay mapped).
    MQ_RETURN_IF_ERROR(file_->SyncReleasingPages(EntryPos(from + 1), EntryPos(p.entry_count + 1)));
    // Heads may already point at entries appended after `p` was taken; the header below
    // does not count those, and RestoreSlotHeads would undo such heads after a crash.
    MQ_RETURN_IF_ERROR(file_->Sync(SlotPos(0), SlotPos(geometry_.slot_count)));
  }
  MQ_RETURN_IF_ERROR(WriteHeader(p));
  synced_ = p;
  return Status::OK();
}

Status IndexFile::RepairHeaderCopies() {
  std::lock_guard<std::mutex> sync_lock(sync_mu_);
  if (!damaged_copy_) return Status::OK();
  // The damaged copy is the one the next sequence goes to; the valid one stays as it is
  // until this write is durable, so a crash here leaves the file as Open found it.
  MQ_RETURN_IF_ERROR(WriteHeader(synced_));
  damaged_copy_ = false;
  return Status::OK();
}

IndexHeader IndexFile::durable_header() const {
  std::lock_guard<std::mutex> l(sync_mu_);
  return HeaderOf(synced_, header_sequence_);
}

Status IndexFile::RestoreSlotHeads() {
  const uint32_t count = progress_.entry_count;
  constexpr uint32_t kUnresolved = std::numeric_limits<uint32_t>::max();
  std::unordered_map<uint32_t, uint32_t> stale;  // slot -> newest entry <= count
  for (uint32_t s = 0; s < geometry_.slot_count; ++s) {
    if (LoadHead(s, std::memory_order_relaxed) > count) stale.emplace(s, kUnresolved);
  }
  size_t unresolved = stale.size();
  for (uint32_t n = count; n >= 1 && unresolved > 0; --n) {
    auto it = stale.find(EntryAt(n).key_hash % geometry_.slot_count);
    if (it != stale.end() && it->second == kUnresolved) {
      it->second = n;
      --unresolved;
    }
  }
  for (const auto& [slot, head] : stale) {
    StoreHead(slot, head == kUnresolved ? 0 : head, std::memory_order_relaxed);
  }
  if (stale.empty()) return Status::OK();
  return file_->Sync(SlotPos(0), SlotPos(geometry_.slot_count));
}

std::vector<uint32_t> IndexFile::HeadsOfEntries(uint32_t count) const {
  std::vector<uint32_t> heads(geometry_.slot_count, 0);
  // Oldest first, so each slot ends at its newest entry.
  for (uint32_t n = 1; n <= count; ++n) heads[EntryAt(n).key_hash % geometry_.slot_count] = n;
  return heads;
}

Status IndexFile::RebuildSlotHeads() {
  // Entries within the count were synced before the header that counts them.
  std::vector<uint32_t> heads = HeadsOfEntries(progress_.entry_count);
  for (uint32_t s = 0; s < geometry_.slot_count; ++s) {
    StoreHead(s, heads[s], std::memory_order_relaxed);
  }
  return file_->Sync(SlotPos(0), SlotPos(geometry_.slot_count));
}

uint32_t IndexFile::EntriesBelow(int64_t physical_end) const {
  uint32_t lo = 0, hi = progress_.entry_count;  // answer in [lo, hi]
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo + 1) / 2;  // is entry `mid` below the end?
    if (EntryAt(mid).physical_offset < physical_end) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

Status IndexFile::TruncateFrom(int64_t physical_end) {
  MQ_RETURN_IF_ERROR(Sync());
  std::lock_guard<std::mutex> sync_lock(sync_mu_);
  const Progress old = progress_;
  if (old.end_offset <= physical_end) return Status::OK();
  const uint32_t keep = EntriesBelow(physical_end);
  // Unlink the dropped entries newest first: each one is the head of its slot when reached.
  std::unordered_map<uint32_t, uint32_t> new_heads;
  for (uint32_t n = old.entry_count; n > keep; --n) {
    IndexEntry e = EntryAt(n);
    uint32_t slot = e.key_hash % geometry_.slot_count;
    auto it = new_heads.find(slot);
    uint32_t head = it != new_heads.end() ? it->second : LoadHead(slot, std::memory_order_relaxed);
    if (head == n) new_heads[slot] = e.prev;
  }
  Progress p = old;
  p.entry_count = keep;
  // Recount the used slots from the table rather than adjusting the old count: a head that
  // did not match the entries (damage) would leave a count the header decoder rejects.
  // Any head still past `keep` belonged to such a chain and is cleared.
  p.used_slots = 0;
  for (uint32_t s = 0; s < geometry_.slot_count; ++s) {
    auto it = new_heads.find(s);
    uint32_t head = it != new_heads.end() ? it->second : LoadHead(s, std::memory_order_relaxed);
    if (head > keep) new_heads[s] = head = 0;
    if (head != 0) ++p.used_slots;
  }
  if (p.used_slots > keep || (keep > 0 && p.used_slots == 0)) {
    // Heads that cannot be right (more used slots than entries, or entries but no head):
    // damage within the count. Recompute every head from the entries kept.
    std::vector<uint32_t> heads = HeadsOfEntries(keep);
    p.used_slots = 0;
    for (uint32_t s = 0; s < geometry_.slot_count; ++s) {
      new_heads[s] = heads[s];
      if (heads[s] != 0) ++p.used_slots;
    }
  }
  if (keep == 0) {
    p.begin_timestamp_ms = 0;
    p.end_timestamp_ms = 0;
  } else {
    p.end_timestamp_ms = old.begin_timestamp_ms + EntryAt(keep).time_diff_ms;
  }
  p.end_offset = std::max(begin_offset_, physical_end);
  // The header first: from here on the dropped entries are past the durable count, and the
  // heads still pointing at them are what RestoreSlotHeads repairs after a crash.
  MQ_RETURN_IF_ERROR(WriteHeader(p));
  for (const auto& [slot, head] : new_heads) StoreHead(slot, head, std::memory_order_relaxed);
  MQ_RETURN_IF_ERROR(file_->Sync(SlotPos(0), SlotPos(geometry_.slot_count)));
  {
    std::lock_guard<std::mutex> l(progress_mu_);
    progress_ = p;
  }
  synced_ = p;
  Publish(p);
  return Status::OK();
}

}  // namespace mqstore
