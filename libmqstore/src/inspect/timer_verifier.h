// Verify, part 5: the timer log in timer/log/ (docs/format/timer.md), read-only
// (timer_reader.h), against the committed progress in meta/ and the commit log.
//
//   files    ─► equal-sized segments (a multiple of 48 bytes, two entries at least), named
//               at multiples of that size, contiguous; each header decodes (magic, version,
//               entry size, CRC), names its own base and the precision of the others.
//               Anything wrong makes the scheduler's open discard the log and rebuild it.
//   entries  ─► below the log end (the first entry of the last segment that is not valid)
//               every entry valid (CRC, type 1 or 2); after it only zeros. The slot agrees
//               with the delivery time and precision (deliver: ⌈time / precision⌉; roll: an
//               earlier slot); PREV is −1 or the newest earlier entry of the same slot (one
//               in a removed segment when the log holds none); reserved bytes are zero.
//   records  ─► each entry's record starts at its commit-log offset, has its size, is in
//               the timer topic and asks for its delivery time. A timer not yet delivered
//               whose record is past the end of the log is lost (corruption).
//   progress ─► the committed end E ("timer-log") is an entry boundary within the log; the
//               next open cuts the log at E, so damage at or past E is a note (a crash's
//               leftovers), and damage below it corruption. Without readable progress
//               (meta/ not read), the log end stands in for E.
#ifndef MQSTORE_INSPECT_TIMER_VERIFIER_H_
#define MQSTORE_INSPECT_TIMER_VERIFIER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "inspect/log_verifier.h"
#include "inspect/mapped_store_file.h"
#include "inspect/meta_verifier.h"
#include "inspect/problem_sink.h"
#include "inspect/timer_reader.h"
#include "mqstore/inspect.h"

namespace mqstore {

struct TimerFacts {
  size_t segments = 0;
  uint64_t entries = 0;  // valid entries below the log end
  uint64_t pending = 0;  // of which not yet delivered (all when the progress is unknown)
};

class TimerVerifier {
 public:
  // `meta`: what the metadata check read (the timer's progress is among its schedule
  // entries when meta.checked).
  TimerVerifier(const StoreLayout& layout, FileCache* cache, const LogFacts& log,
                const MetaFacts& meta, ProblemSink* sink)
      : layout_(layout), cache_(cache), log_(log), meta_(meta), sink_(sink) {}

  // Errors: kIOError. Damage is reported.
  Result<TimerFacts> Run();

 private:
  // The state of one slot's chain during the walk.
  struct SlotChain {
    int64_t newest = kNoTimerEntry;  // newest entry position seen
    uint64_t entries = 0;
  };

  // Names, sizes, contiguity and headers.
  void CheckSegments(const TimerLogReader& reader);
  Status CheckEntries(const TimerLogReader& reader, TimerFacts* facts);
  Status CheckEntry(const TimerLogReader& reader, FileProblemReporter& report, int64_t pos,
                    uint64_t file_offset, std::string_view bytes, const TimerEntry& e,
                    TimerFacts* facts);
  void CheckPrev(const TimerLogReader& reader, FileProblemReporter& report, int64_t pos,
                 uint64_t file_offset, const TimerEntry& e);
  // The record an entry points at (read from the commit log).
  Status CheckRecord(FileProblemReporter& report, int64_t pos, uint64_t file_offset,
                     const TimerEntry& e, bool pending);
  void CheckProgress(const TimerLogReader& reader);
  // `severity`, or a note when the next open cuts `pos` away (at or past the committed end).
  Severity At(int64_t pos, Severity severity) const {
    return pos >= cut_from_ ? Severity::kNote : severity;
  }
  // Whether an entry of `slot` (the `index`th of its slot in log order) is still to fire.
  bool Pending(int64_t slot, uint64_t index) const;

  const StoreLayout& layout_;
  FileCache* const cache_;
  const LogFacts& log_;
  const MetaFacts& meta_;
  ProblemSink* const sink_;

  std::optional<TimerProgress> progress_;  // when meta/ was read
  int64_t cut_from_ = 0;                   // the next open keeps the log below this
  int64_t precision_ms_ = 0;
  std::optional<int64_t> read_slot_;  // R, when known
  std::unordered_map<int64_t, SlotChain> slots_;
};

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_TIMER_VERIFIER_H_
