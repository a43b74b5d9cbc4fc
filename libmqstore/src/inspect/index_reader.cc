#include "inspect/index_reader.h"

#include <utility>

#include "index/index_service.h"
#include "inspect/log_position.h"
#include "mqstore/coding.h"
#include "util/sequence.h"

namespace mqstore {

Result<IndexFileReader> IndexFileReader::Open(FileCache* cache, const HashIndexFile& file) {
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<const MappedStoreFile> mapped, cache->Get(file.path));
  IndexFileReader reader(file, mapped);
  std::string_view data = mapped->data();
  for (size_t c = 0; c < reader.copies_.size(); ++c) {
    IndexHeaderCopy& copy = reader.copies_[c];
    if (data.size() < (c + 1) * kIndexHeaderCopySize) {
      copy.problem = "missing: the file is only " + std::to_string(data.size()) + " bytes";
      continue;
    }
    copy.present = true;
    std::string_view bytes = data.substr(c * kIndexHeaderCopySize, kIndexHeaderCopySize);
    copy.blank = AllZero(bytes);
    if (copy.blank) {
      copy.problem = "never written (all zeros)";
      continue;
    }
    Status s = DecodeIndexHeaderAt(bytes, c, &copy.header);
    if (!s.ok()) {
      copy.problem = std::string(s.message());
      continue;
    }
    copy.valid = true;
    if (reader.newest_ < 0 || SequenceNewer(copy.header.sequence, reader.header()->sequence)) {
      reader.newest_ = static_cast<int>(c);
    }
  }
  if (const IndexHeader* h = reader.header()) {
    reader.size_matches_ = data.size() == h->geometry.file_bytes();
  }
  return reader;
}

uint64_t IndexFileReader::EntryPos(uint32_t n) const {
  return kIndexHeaderSize + uint64_t{header()->geometry.slot_count} * kIndexSlotSize +
         uint64_t{n - 1} * kIndexEntrySize;
}

IndexEntry IndexFileReader::EntryAt(uint32_t n) const {
  return DecodeIndexEntry(mapped_->data().data() + EntryPos(n));
}

uint32_t IndexFileReader::SlotHead(uint32_t slot) const {
  return DecodeBig32(mapped_->data().data() + SlotPos(slot));  // ENTRYNUMBER
}

uint32_t IndexFileReader::ResolvedHead(uint32_t slot) const {
  const IndexHeader& h = *header();
  uint32_t head = SlotHead(slot);
  if (head <= h.entry_count) return head;
  for (uint32_t n = h.entry_count; n >= 1; --n) {
    if (EntryAt(n).key_hash % h.geometry.slot_count == slot) return n;
  }
  return 0;
}

void IndexFileReader::ForEachMatch(uint32_t key_hash, int64_t begin_ms, int64_t end_ms,
                                   const std::function<bool(const IndexEntry&)>& fn) const {
  const IndexHeader& h = *header();
  if (h.entry_count == 0) return;
  uint32_t n = ResolvedHead(key_hash % h.geometry.slot_count);
  while (n != 0) {
    IndexEntry e = EntryAt(n);
    int64_t ts = h.begin_timestamp_ms + e.time_diff_ms;
    if (ts < begin_ms) break;  // times fall along a chain: the rest is older still
    if (e.key_hash == key_hash && ts <= end_ms && !fn(e)) return;
    if (e.prev >= n) break;  // a chain only goes to older entries; anything else is damage
    n = e.prev;
  }
}

Result<std::vector<IndexFileReader>> OpenIndexFiles(const StoreLayout& layout, FileCache* cache) {
  std::vector<IndexFileReader> readers;
  readers.reserve(layout.index_files.size());
  for (const HashIndexFile& f : layout.index_files) {
    MQ_ASSIGN_OR_RETURN(IndexFileReader reader, IndexFileReader::Open(cache, f));
    readers.push_back(std::move(reader));
  }
  return readers;
}

}  // namespace mqstore
