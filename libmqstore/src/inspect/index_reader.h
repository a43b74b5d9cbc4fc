// Read-only access to one file of the hash index (docs/format/hash_index.md) for the
// inspector. IndexFile (index/index_file.h) cannot be used: opening one maps it writable, and
// loading the index repairs slot heads and removes files. Here the file is mapped read-only
// through the FileCache, its header copies are decoded with the index's own codec and chosen
// as IndexFile::Open chooses, and chains are walked as IndexFile::Find walks them. Nothing is
// repaired: a slot head that a crash left past the entry count is resolved in memory, the
// way IndexService::Load would resolve it on disk.
//
//   file    := header_copy header_copy slot{SLOTCOUNT} entry{MAXENTRIES}
//   slot s  at byte 136 + 4s;  entry n (from 1) at byte 136 + 4 SLOTCOUNT + 20 (n - 1)
#ifndef MQSTORE_INSPECT_INDEX_READER_H_
#define MQSTORE_INSPECT_INDEX_READER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "index/index_file.h"
#include "inspect/mapped_store_file.h"
#include "mqstore/inspect.h"

namespace mqstore {

// One of the two header copies at the start of an index file.
struct IndexHeaderCopy {
  bool present = false;  // the file is long enough to hold it
  bool blank = false;    // all zeros: never written
  bool valid = false;
  std::string problem;  // why it is not valid (also set when blank)
  IndexHeader header;   // meaningful when valid
};

class IndexFileReader {
 public:
  // Maps `file` and decodes its header copies. Errors: I/O only; a damaged file is
  // described (usable() false), not an error.
  static Result<IndexFileReader> Open(FileCache* cache, const HashIndexFile& file);

  const HashIndexFile& file() const { return file_; }
  const std::array<IndexHeaderCopy, 2>& copies() const { return copies_; }
  // The valid copy with the higher sequence; -1 when neither is valid.
  int newest_copy() const { return newest_; }
  const IndexHeader* header() const {
    return newest_ < 0 ? nullptr : &copies_[static_cast<size_t>(newest_)].header;
  }
  // The file has a valid header and is the size that header's geometry makes: the store
  // would open it.
  bool usable() const { return header() != nullptr && size_matches_; }

  // REQUIRES: usable(). 1 <= n <= max_entries; slot < slot_count.
  IndexEntry EntryAt(uint32_t n) const;
  uint32_t SlotHead(uint32_t slot) const;
  uint64_t EntryPos(uint32_t n) const;
  uint64_t SlotPos(uint32_t slot) const {
    return kIndexHeaderSize + uint64_t{slot} * kIndexSlotSize;
  }

  // The newest entry of `slot` among 1..entry_count: the slot's head, or, when the head
  // points past the count (left over by a crash), what IndexFile::RestoreSlotHeads would
  // set it to. REQUIRES: usable().
  uint32_t ResolvedHead(uint32_t slot) const;

  // Calls `fn` with each entry of `key_hash` indexed in [begin_ms, end_ms], newest first,
  // until it returns false. Visits only entries 1..entry_count; a chain that does not go to
  // older entries ends. REQUIRES: usable().
  void ForEachMatch(uint32_t key_hash, int64_t begin_ms, int64_t end_ms,
                    const std::function<bool(const IndexEntry&)>& fn) const;

 private:
  IndexFileReader(HashIndexFile file, std::shared_ptr<const MappedStoreFile> mapped)
      : file_(std::move(file)), mapped_(std::move(mapped)) {}

  HashIndexFile file_;
  std::shared_ptr<const MappedStoreFile> mapped_;
  std::array<IndexHeaderCopy, 2> copies_;
  int newest_ = -1;
  bool size_matches_ = false;
};

// Opens every file of `layout.index_files`, oldest first.
Result<std::vector<IndexFileReader>> OpenIndexFiles(const StoreLayout& layout, FileCache* cache);


}  // namespace mqstore

#endif  // MQSTORE_INSPECT_INDEX_READER_H_
