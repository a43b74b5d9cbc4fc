// Search of a consume queue by store time, for rewinding consumption ("reset offset to time
// T", RocketMQ's searchOffset) and for a queue's earliest message time.
//
// Queue entries hold no time; the store timestamp is read from each probed record in the
// commit log. The log assigns non-decreasing store timestamps in append order
// (CommitLog::Append), so within one queue they are sorted and a binary search needs about
// log2(queue length) record reads.
#ifndef MQSTORE_QUEUE_QUEUE_TIME_SEARCH_H_
#define MQSTORE_QUEUE_QUEUE_TIME_SEARCH_H_

#include <cstdint>
#include <functional>
#include <optional>

#include "queue/consume_queue.h"

namespace mqstore {

// The store timestamp of the record at a physical offset, or nullopt when it cannot be read
// (removed by retention, or not readable yet).
using StoreTimeAt = std::function<std::optional<int64_t>(int64_t physical_offset)>;

// The first queue offset in [min, max) whose record was stored at or after `timestamp_ms`;
// max_offset() when every readable record is older, min_offset() when none is.
// Entries whose record cannot be read are treated as older (they are below the log's
// minimum, which only moves up).
int64_t FindQueueOffsetByTime(const ConsumeQueue& queue, const StoreTimeAt& store_time_at,
                              int64_t timestamp_ms);

// The store timestamp of the queue's first readable record; nullopt for an empty queue.
std::optional<int64_t> EarliestStoreTime(const ConsumeQueue& queue,
                                         const StoreTimeAt& store_time_at);

}  // namespace mqstore

#endif  // MQSTORE_QUEUE_QUEUE_TIME_SEARCH_H_
