// Verify, part 3: the hash index (docs/format/hash_index.md), read-only (index_reader.h).
//
//   files   ─► each header copy valid or blank; the file the size its header's geometry
//              makes. Trailing files without one are what the next open removes (note); an
//              unusable file before a usable one makes the open fail (corruption). Each
//              usable file begins at or after the previous one's end.
//   entries ─► 1..ENTRYCOUNT: offsets in [BEGINOFFSET, ENDOFFSET) and non-decreasing, times
//              non-decreasing and within the header's, PREVENTRY the previous entry of the
//              same slot. One inside the valid log points at a record of that hash's key,
//              stored no later than indexed; past the log end, the next open drops it (note).
//   slots   ─► every head is the newest entry of its slot; a head past the count (entries
//              written after the last header) only in the last file, which the next open
//              repairs (note).
//   header  ─► USEDSLOTS and ENDTIMESTAMP agree with the entries.
#ifndef MQSTORE_INSPECT_INDEX_VERIFIER_H_
#define MQSTORE_INSPECT_INDEX_VERIFIER_H_

#include <cstdint>
#include <string>

#include "inspect/index_reader.h"
#include "inspect/log_verifier.h"
#include "inspect/mapped_store_file.h"
#include "inspect/problem_sink.h"
#include "mqstore/inspect.h"

namespace mqstore {

struct IndexFacts {
  size_t files = 0;
  uint64_t entries = 0;  // entries counted by the usable files' headers
};

class IndexVerifier {
 public:
  IndexVerifier(const StoreLayout& layout, FileCache* cache, const LogFacts& facts,
                ProblemSink* sink)
      : layout_(layout), cache_(cache), facts_(facts), sink_(sink) {}

  Result<IndexFacts> Run();

 private:
  void CheckHeaderCopies(const IndexFileReader& file);
  // `last`: the last usable file, the only one a crash may leave slot heads past the count.
  Status CheckEntries(const IndexFileReader& file, bool last);

  const StoreLayout& layout_;
  FileCache* const cache_;
  const LogFacts& facts_;
  ProblemSink* const sink_;
};

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_INDEX_VERIFIER_H_
