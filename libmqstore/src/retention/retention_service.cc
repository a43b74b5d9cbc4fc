#include "retention/retention_service.h"

#include <time.h>

#include <algorithm>

#include "util/filename.h"

namespace mqstore {

int LocalHourOf(int64_t ms) {
  time_t seconds = static_cast<time_t>(ms / 1000);
  struct tm local {};
  if (localtime_r(&seconds, &local) == nullptr) return -1;  // no hour: deleteWhen never matches
  return local.tm_hour;
}

RetentionService::RetentionService(Env* env, std::string root, CommitLog* log,
                                   ConsumeQueueSet* queues, IndexService* index,
                                   RetentionPolicy policy, LocalHourFn local_hour)
    : env_(env),
      root_(std::move(root)),
      log_(log),
      queues_(queues),
      index_(index),
      policy_(std::move(policy)),
      local_hour_(local_hour ? std::move(local_hour) : LocalHourFn(LocalHourOf)) {}

Result<double> RetentionService::DiskUsedPercent() const {
  double worst = 0;
  for (const std::string& path :
       {filename::CommitLogDir(root_), filename::ConsumeQueueRoot(root_)}) {
    if (!env_->FileExists(path)) continue;
    MQ_ASSIGN_OR_RETURN(DiskSpace space, env_->GetDiskSpace(path));
    if (space.total_bytes == 0) continue;
    uint64_t used = space.total_bytes - std::min(space.available_bytes, space.total_bytes);
    worst = std::max(worst, 100.0 * static_cast<double>(used) /
                                static_cast<double>(space.total_bytes));
  }
  return worst;
}

Result<RetentionReport> RetentionService::RunOnce(int64_t now_ms, int64_t limit) {
  RetentionReport report;
  MQ_ASSIGN_OR_RETURN(report.disk_used_percent, DiskUsedPercent());
  report.local_hour = local_hour_(now_ms);
  report.decision = policy_.Decide(report.local_hour, report.disk_used_percent);
  writes_allowed_.store(!report.decision.refuse_writes, std::memory_order_release);

  RetentionDecision decision = report.decision;
  if (decision.delete_expired) {
    for (const SegmentAge& segment :
         log_->OldestSegments(limit, policy_.max_segments_per_round())) {
      // Oldest first and never past a segment that stays: the log has no holes.
      if (!policy_.ShouldDelete(decision, segment, now_ms)) break;
      MQ_ASSIGN_OR_RETURN(size_t removed, log_->RemoveSegmentsBefore(segment.end));
      report.segments_removed += removed;
      if (decision.delete_unexpired) {
        // Deleting data that has not expired is the price of a full disk: stop paying it as
        // soon as the disk is below the threshold again (expired segments may still go).
        MQ_ASSIGN_OR_RETURN(double used, DiskUsedPercent());
        decision = policy_.Decide(report.local_hour, used);
        writes_allowed_.store(!decision.refuse_writes, std::memory_order_release);
      }
    }
  }
  MQ_RETURN_IF_ERROR(ApplyToQueuesAndIndex(log_->min_offset(), &report));
  if (report.segments_removed > 0) {
    // Freed space may let writes resume now rather than at the next round.
    MQ_ASSIGN_OR_RETURN(double used, DiskUsedPercent());
    writes_allowed_.store(!policy_.Decide(report.local_hour, used).refuse_writes,
                          std::memory_order_release);
  }
  report.log_min_offset = log_->min_offset();
  report.writes_allowed = writes_allowed();
  return report;
}

Status RetentionService::ApplyLogMinOffset() {
  RetentionReport ignored;
  applied_log_min_ = -1;  // visit everything, whatever an earlier round did
  return ApplyToQueuesAndIndex(log_->min_offset(), &ignored);
}

Status RetentionService::ApplyToQueuesAndIndex(int64_t log_min_offset, RetentionReport* report) {
  if (log_min_offset <= applied_log_min_) return Status::OK();
  MQ_ASSIGN_OR_RETURN(report->queue_files_removed, queues_->ApplyLogMinOffset(log_min_offset));
  if (index_ != nullptr) {
    MQ_ASSIGN_OR_RETURN(report->index_files_removed, index_->ApplyLogMinOffset(log_min_offset));
  }
  // Only once both succeeded: after an error the next round visits them again.
  applied_log_min_ = log_min_offset;
  return Status::OK();
}

}  // namespace mqstore
