// Recovery: brings the commit log and the consume queues back to one consistent state at
// open (docs/design/recovery.md).
//
//   checkpoint: dispatch_durable D, log_durable L
//   log:  [ durable, trusted ........ | D ..... L .... | validated tail ... | torn / zeros ]
//                                     ^ scan starts at min(D, L); records re-dispatched
//                                                                          ^ end: first
//                                                                            invalid record
//
// 1. Every queue drops entries at or after the scan start (they may be partial).
// 2. Records are validated forward (structure, body CRC, whole-record CRC, physical offset
//    equal to position, queue offset equal to the queue's next) and re-dispatched.
// 3. The log ends at the first invalid record. If that is below L, bytes the store once
//    synced are damaged: kCorruption, nothing is truncated (mqdump verify shows where).
// 4. The log is cut at the end: later segments removed, the rest of the last one zeroed so
//    that stale bytes can never be read as records after a later crash.
//
// Work is bounded by the log written since the last checkpoint, not by the store's size.
#ifndef MQSTORE_RECOVERY_RECOVERY_H_
#define MQSTORE_RECOVERY_RECOVERY_H_

#include <optional>

#include "log/commit_log.h"
#include "queue/consume_queue_set.h"
#include "recovery/checkpoint.h"

namespace mqstore {

struct RecoveryOutcome {
  int64_t start = 0;  // where validation started
  int64_t end = 0;    // the recovered end of the log
  uint64_t scanned_bytes = 0;
};

// `zero_tail`: zero what follows the end (needed after a crash; after a clean close the tail
// is known to be zeros).
Result<RecoveryOutcome> RecoverStore(CommitLog* log, ConsumeQueueSet* queues,
                                     const std::optional<CheckpointData>& checkpoint,
                                     bool zero_tail);

// Checks that [from, to) of the log is a run of well-formed records and blanks (structure
// and physical offsets; not the checksums). The store re-indexes the range from the index's
// durable point, which may lie below the recovery start: a damaged record there would stop
// the dispatcher after Open returned. kCorruption naming the first bad offset.
Status CheckLogRange(const CommitLog& log, int64_t from, int64_t to);

}  // namespace mqstore

#endif  // MQSTORE_RECOVERY_RECOVERY_H_
