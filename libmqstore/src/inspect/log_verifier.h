// Verify, part 1: the commit log.
//
//   segments ─► contiguous, equal-sized, named by their base offset
//   walk     ─► every position a valid record (both CRCs, PHYSICALOFFSET == position) or the
//               blank closing its segment; queue offsets contiguous per queue
//   end P    ─► P >= checkpoint's log_durable_offset and only zeros / torn bytes after it:
//               a torn tail recovery drops (note); otherwise lost durable data (corruption)
//
// What the walk learns about each queue feeds the consume-queue checks (queue_verifier.h).
#ifndef MQSTORE_INSPECT_LOG_VERIFIER_H_
#define MQSTORE_INSPECT_LOG_VERIFIER_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "inspect/mapped_store_file.h"
#include "inspect/problem_sink.h"
#include "mqstore/inspect.h"

namespace mqstore {

// One queue as seen in the valid part of the log.
struct QueueLogSpan {
  int64_t first_queue_offset = -1;
  int64_t next_queue_offset = 0;  // one past the last queue offset seen
  // One past the last queue offset of a record below the restart point: the queue must
  // hold entries up to here, because recovery re-dispatches only from the restart point.
  int64_t next_below_restart = 0;
  uint64_t records = 0;
};

struct LogFacts {
  int64_t log_start = 0;
  int64_t valid_end = 0;  // where recovery would end the log
  // min(dispatch_durable_offset, log_durable_offset) of the checkpoint, clamped to the
  // segments: recovery drops queue entries from here on and re-dispatches (the log start
  // when there is no checkpoint).
  int64_t restart = 0;
  uint64_t records = 0;
  uint64_t blanks = 0;
  std::map<std::pair<std::string, int32_t>, QueueLogSpan> queues;
};

class LogVerifier {
 public:
  // `checkpoint` is the newest valid slot, or null.
  LogVerifier(const StoreLayout& layout, FileCache* cache, const CheckpointFields* checkpoint,
              ProblemSink* sink)
      : layout_(layout), cache_(cache), checkpoint_(checkpoint), sink_(sink) {}

  Result<LogFacts> Run();

 private:
  // Checks names and sizes; returns the segments recovery would walk, in order: the run
  // from the first segment up to a gap, without a last segment that recovery removes.
  std::vector<const SegmentFile*> CheckSegmentFiles();
  // Walks `run`; on return facts->valid_end is where it stopped, `*stop_segment` the index
  // in `run` of the segment holding it (run.size() when the walk reached the end) and
  // `*why` the reason.
  Status Walk(const std::vector<const SegmentFile*>& run, LogFacts* facts, size_t* stop_segment,
              std::string* why);
  void OnRecord(const SegmentFile& segment, int64_t offset, const ParsedRecord& record,
                LogFacts* facts);
  // Decides whether the end of the valid log is a torn tail or lost data.
  Status ClassifyEnd(const std::vector<const SegmentFile*>& run, size_t stop_segment,
                     const std::string& why, const LogFacts& facts);

  // After a damaged record whose size still parses, the records that follow it: recovery
  // drops them all, but the count (and further damage below the durable offset) tells a
  // flipped bit from a torn write.
  struct ChainAfterEnd {
    uint64_t intact = 0;
    uint64_t damaged = 0;
    int64_t reach = 0;  // end of the last record followed
    // Damaged records below the durable offset, each its own corruption (the first few).
    std::vector<Problem> damaged_durable;
    uint64_t damaged_durable_unlisted = 0;
  };
  Result<ChainAfterEnd> FollowChain(const std::vector<const SegmentFile*>& run, size_t stop_segment,
                                    int64_t end);

  int64_t durable_floor() const { return checkpoint_ ? checkpoint_->log_durable_offset : 0; }

  const StoreLayout& layout_;
  FileCache* const cache_;
  const CheckpointFields* const checkpoint_;
  ProblemSink* const sink_;
};

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_LOG_VERIFIER_H_
