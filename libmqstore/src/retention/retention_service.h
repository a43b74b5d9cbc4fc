// RetentionService: carries out retention against the store's files. Each round measures the
// disk, asks RetentionPolicy what to do, then removes in this order:
//
//   1. commit-log segments, oldest first, one at a time, while the policy says so (at most
//      max_segments_per_round; never the active segment, never one ending past `limit`);
//   2. consume-queue files whose entries all point below the log's new min offset, after
//      moving each queue's min_offset() up (readers below it get "offset too small");
//   3. index files whose records all end below it.
//
// Log first: a queue or index file is removed only once nothing it points at exists, and a
// crash between the steps leaves files that ApplyLogMinOffset (called at open) cleans up.
//
// While the disk is over disk_refuse_writes_percent, writes_allowed() is false; the store
// refuses puts then. Each round measures again, so writes resume by themselves once usage
// drops (because this round freed space, or anything else did).
//
// Time is passed in (RunOnce's now_ms, and the local-hour function), so tests never sleep.
//
// Thread safety: RunOnce and ApplyLogMinOffset from one thread at a time (the store's
// maintenance thread); they run concurrently with appends, dispatch and reads.
// writes_allowed() from any thread.
#ifndef MQSTORE_RETENTION_RETENTION_SERVICE_H_
#define MQSTORE_RETENTION_RETENTION_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "index/index_service.h"
#include "log/commit_log.h"
#include "mqstore/env.h"
#include "queue/consume_queue_set.h"
#include "retention/retention_policy.h"

namespace mqstore {

// What one round saw and did.
struct RetentionReport {
  double disk_used_percent = 0;  // at the start of the round
  int local_hour = 0;
  RetentionDecision decision;    // at the start of the round
  size_t segments_removed = 0;
  int64_t log_min_offset = 0;    // after the round
  size_t queue_files_removed = 0;
  size_t index_files_removed = 0;
  bool writes_allowed = true;    // after the round
};

// The local hour (0..23) of `ms` since the epoch, by localtime_r.
int LocalHourOf(int64_t ms);

class RetentionService {
 public:
  using LocalHourFn = std::function<int(int64_t now_ms)>;

  // `root` is the store directory; usage is measured on the file systems of its commitlog/
  // and consumequeue/ (the fuller one counts). `index` may be null (no index). `local_hour`
  // defaults to LocalHourOf. The components must outlive the service.
  RetentionService(Env* env, std::string root, CommitLog* log, ConsumeQueueSet* queues,
                   IndexService* index, RetentionPolicy policy, LocalHourFn local_hour = nullptr);

  RetentionService(const RetentionService&) = delete;
  RetentionService& operator=(const RetentionService&) = delete;

  // One retention round at time `now_ms`. Commit-log bytes at or past `limit` are never
  // removed. The store passes min(the dispatch offset its last checkpoint covers, the log's
  // durable offset): nothing unsynced goes, and every removed record's queue entry is
  // durable, which recovery needs to continue the queues after a crash
  // (docs/design/0003-retention.md). Errors: those of Env::GetDiskSpace (nothing
  // is removed then) and of file removal (the round stops; the next one goes on from there).
  Result<RetentionReport> RunOnce(int64_t now_ms, int64_t limit);

  // Brings the queues and the index in line with the log's min offset (step 2 and 3 above)
  // without removing any segment. The store calls it at open, after recovery and after the
  // index is loaded: a crash during a round can leave queue and index files the log no
  // longer backs, and their min offsets must not point below the log.
  Status ApplyLogMinOffset();

  // False while the disk is over disk_refuse_writes_percent (as of the last round).
  bool writes_allowed() const { return writes_allowed_.load(std::memory_order_acquire); }

  const RetentionPolicy& policy() const { return policy_; }

 private:
  // Usage in percent of the fuller of the file systems holding the log and the queues.
  Result<double> DiskUsedPercent() const;
  // Steps 2 and 3 for `log_min_offset`; adds to `report`.
  Status ApplyToQueuesAndIndex(int64_t log_min_offset, RetentionReport* report);

  Env* const env_;
  const std::string root_;
  CommitLog* const log_;
  ConsumeQueueSet* const queues_;
  IndexService* const index_;
  const RetentionPolicy policy_;
  const LocalHourFn local_hour_;

  std::atomic<bool> writes_allowed_{true};
  // The log min offset the queues and the index were last brought in line with: they are
  // visited again only when the log's start moved (they can hold many files).
  int64_t applied_log_min_ = -1;  // RunOnce / ApplyLogMinOffset caller only
};

}  // namespace mqstore

#endif  // MQSTORE_RETENTION_RETENTION_SERVICE_H_
