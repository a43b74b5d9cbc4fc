// consume_queue_fuzzer: consume-queue files (docs/format/consume_queue.md).
//
// Input: byte 0 chooses the entries per file (1 + b0 % 8); byte 1 the number of files
// (1 + b1 % 4) and the first file's base (b1 / 4 % 4 files in, as after retention); the rest
// is the files' bytes, one after the other, each file_bytes long but the last, which gets what
// remains (a last file of the wrong size is what a crash during its creation leaves).
//
// Exercised: the entry codec, the inspector's queue iterator (read-only) and ConsumeQueue:
// Load, ReadEntries, FirstOffsetAtOrAfter, TruncateFrom, Append, ApplyLogMinOffset and a
// second Load. Checked: entries re-encode to their bytes; Load ends the queue where the
// format says (the first entry that is empty or not after its predecessor) and the inspector
// agrees; offset searches and truncation agree with the entries; an append after recovery is
// readable; a reload finds what the first load left.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_store.h"
#include "mqstore/inspect.h"
#include "mqstore/mem_env.h"
#include "queue/consume_queue.h"
#include "util/filename.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mqstore;
  using namespace mqstore::fuzz;
  if (size < 2 || size > 4096) return 0;
  const uint32_t entries_per_file = 1 + data[0] % 8;
  const size_t file_count = 1 + data[1] % 4;
  const uint64_t file_bytes = uint64_t{entries_per_file} * kQueueEntrySize;
  const int64_t first_base = static_cast<int64_t>(data[1] / 4 % 4 * file_bytes);
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);

  // The codec: every whole entry re-encodes to its bytes.
  for (size_t pos = 0; pos + kQueueEntrySize <= rest.size(); pos += kQueueEntrySize) {
    char again[kQueueEntrySize];
    EncodeQueueEntry(DecodeQueueEntry(rest.data() + pos), again);
    FUZZ_CHECK(std::string_view(again, kQueueEntrySize) == rest.substr(pos, kQueueEntrySize),
               "a queue entry does not re-encode to its bytes");
  }

  std::unique_ptr<MemEnv> env = NewMemEnv();
  const std::string root = kStoreDir;
  const std::string topic = "TopicA";
  FUZZ_CHECK(env->CreateDir(filename::CommitLogDir(root)).ok(), "mkdir");
  FUZZ_CHECK(env->CreateDir(filename::ConsumeQueueDir(root, topic, 0)).ok(), "mkdir");
  std::vector<std::string> files;
  for (size_t i = 0; i < file_count && !rest.empty(); ++i) {
    std::string_view bytes = i + 1 == file_count ? rest : rest.substr(0, file_bytes);
    rest.remove_prefix(bytes.size());
    int64_t base = first_base + static_cast<int64_t>(i * file_bytes);
    files.push_back(std::string(bytes));
    auto f = env->OpenFile(filename::ConsumeQueueFile(root, topic, 0, base), OpenMode::kCreate);
    FUZZ_CHECK(f.ok() && (*f)->Allocate(bytes.size()).ok() && (*f)->Write(0, bytes).ok() &&
                   (*f)->Sync().ok(),
               "write queue file");
  }

  // Where the format says the queue ends: the first entry that is empty or not after its
  // predecessor, in the files of the right size that follow each other.
  int64_t expected_end = first_base / kQueueEntrySize;
  int64_t prev_end = -1;
  bool ended = false;
  for (size_t i = 0; i < files.size() && !ended; ++i) {
    if (files[i].size() != file_bytes) break;  // removed by Load (the last) or an error
    for (size_t pos = 0; pos < file_bytes; pos += kQueueEntrySize) {
      QueueEntry e = DecodeQueueEntry(files[i].data() + pos);
      // (The last test: a record that would end past INT64_MAX ends the queue. Fixed bug:
      // Load and the inspector once computed that end and overflowed.)
      if (e.size <= 0 || e.physical_offset < 0 || e.physical_offset < prev_end ||
          e.physical_offset > INT64_MAX - e.size) {
        ended = true;
        break;
      }
      prev_end = e.physical_offset + e.size;
      ++expected_end;
    }
  }

  // The inspector, read-only, before Load repairs anything.
  int64_t inspected = -1;
  {
    InspectOptions options;
    options.env = env.get();
    auto inspector = StoreInspector::Open(root, options);
    FUZZ_CHECK(inspector.ok(), inspector.status().ToString());
    auto it = (*inspector)->NewQueueIterator(topic, 0, 0);
    if (it.ok()) {
      inspected = 0;
      for (; (*it)->Valid() && inspected < 64; (*it)->Next()) {
        const QueueEntryInfo& e = (*it)->entry();
        FUZZ_CHECK(e.size > 0 && e.physical_offset >= 0, "the inspector returned an empty entry");
        ++inspected;
      }
    }
  }

  ConsumeQueue queue(env.get(), root, topic, 0, entries_per_file);
  Status loaded = queue.Load();
  if (!loaded.ok()) return 0;  // e.g. files not contiguous: the store reports corruption
  const int64_t min = queue.min_offset(), max = queue.max_offset();
  FUZZ_CHECK(0 <= min && min <= max, "bounds");
  FUZZ_CHECK(files.empty() || files[0].size() != file_bytes || max == expected_end,
             "Load ended the queue at " + std::to_string(max) + ", the format says " +
                 std::to_string(expected_end));
  // The inspector takes the first file's size for the configured one (it does not know the
  // store's options), so it agrees with Load whenever that first file has its proper size,
  // also when a last file of another size is there for Load to remove (a fixed bug: it read
  // that file's entries).
  const bool first_size_right = !files.empty() && files[0].size() == file_bytes;
  if (first_size_right && inspected >= 0 && inspected < 64 &&
      min == first_base / kQueueEntrySize) {
    FUZZ_CHECK(inspected == max - min, "the inspector sees " + std::to_string(inspected) +
                                           " entries, Load " + std::to_string(max - min));
  }

  std::vector<QueueEntry> entries;
  size_t n = queue.ReadEntries(min, static_cast<size_t>(max - min), &entries);
  FUZZ_CHECK(n == static_cast<size_t>(max - min) && entries.size() == n, "ReadEntries count");
  for (size_t i = 0; i < n; ++i) {
    FUZZ_CHECK(entries[i].size > 0 && entries[i].physical_offset >= 0, "a loaded entry is empty");
    if (i > 0) {
      FUZZ_CHECK(entries[i].physical_offset >= entries[i - 1].physical_offset,
                 "loaded entries are not in log order");
    }
  }
  // Offset searches against the entries themselves.
  std::vector<int64_t> probes = {0, 1, INT64_MAX};
  for (const QueueEntry& e : entries) probes.push_back(e.physical_offset);
  if (probes.size() > 12) probes.resize(12);
  for (int64_t p : probes) {
    int64_t at = queue.FirstOffsetAtOrAfter(p);
    FUZZ_CHECK(min <= at && at <= max, "FirstOffsetAtOrAfter out of bounds");
    if (at < max) FUZZ_CHECK(entries[static_cast<size_t>(at - min)].physical_offset >= p, "search");
    if (at > min)
      FUZZ_CHECK(entries[static_cast<size_t>(at - min - 1)].physical_offset < p, "search");
  }

  // Recovery's moves: cut at an entry's record, append the next one, move the log start.
  int64_t cut = entries.empty() ? 0 : entries[entries.size() / 2].physical_offset;
  int64_t cut_at = queue.FirstOffsetAtOrAfter(cut);
  FUZZ_CHECK(queue.TruncateFrom(cut).ok(), "TruncateFrom");
  FUZZ_CHECK(queue.max_offset() == cut_at, "TruncateFrom left the wrong end");
  QueueEntry next{std::max<int64_t>(queue.last_record_end(), cut), 100, 7};
  if (next.physical_offset <= INT64_MAX - 100) {
    const int64_t at = queue.max_offset();
    FUZZ_CHECK(queue.Append(at, next).ok(), "Append after recovery");
    std::vector<QueueEntry> back;
    FUZZ_CHECK(
        queue.ReadEntries(at, 1, &back) == 1 && back[0].physical_offset == next.physical_offset,
        "the appended entry does not read back");
  }
  const int64_t end_before_reload = queue.max_offset();
  auto removed = queue.ApplyLogMinOffset(cut);
  FUZZ_CHECK(removed.ok(), removed.status().ToString());
  FUZZ_CHECK(queue.min_offset() <= queue.max_offset(), "ApplyLogMinOffset passed the end");

  ConsumeQueue reloaded(env.get(), root, topic, 0, entries_per_file);
  Status again = reloaded.Load();
  FUZZ_CHECK(again.ok(), "reloading what Load left: " + again.ToString());
  FUZZ_CHECK(reloaded.max_offset() == end_before_reload,
             "reload ends at " + std::to_string(reloaded.max_offset()) + ", not " +
                 std::to_string(end_before_reload));
  return 0;
}
