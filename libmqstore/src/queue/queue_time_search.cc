#include "queue/queue_time_search.h"

#include <vector>

namespace mqstore {
namespace {

std::optional<int64_t> TimeOfEntry(const ConsumeQueue& queue, const StoreTimeAt& store_time_at,
                                   int64_t queue_offset) {
  std::vector<QueueEntry> entry;
  if (queue.ReadEntries(queue_offset, 1, &entry) != 1) return std::nullopt;
  return store_time_at(entry[0].physical_offset);
}

}  // namespace

int64_t FindQueueOffsetByTime(const ConsumeQueue& queue, const StoreTimeAt& store_time_at,
                              int64_t timestamp_ms) {
  // Invariant: every offset below `low` is older than timestamp_ms (or unreadable); `high`
  // is at or after the answer.
  int64_t low = queue.min_offset();
  int64_t high = queue.max_offset();
  while (low < high) {
    int64_t mid = low + (high - low) / 2;
    std::optional<int64_t> t = TimeOfEntry(queue, store_time_at, mid);
    if (!t || *t < timestamp_ms) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return low;
}

std::optional<int64_t> EarliestStoreTime(const ConsumeQueue& queue,
                                         const StoreTimeAt& store_time_at) {
  // After retention the first entries may point below the log's minimum: the first readable
  // one is the first entry "at or after the beginning of time".
  int64_t first = FindQueueOffsetByTime(queue, store_time_at, INT64_MIN);
  if (first >= queue.max_offset()) return std::nullopt;
  return TimeOfEntry(queue, store_time_at, first);
}

}  // namespace mqstore
