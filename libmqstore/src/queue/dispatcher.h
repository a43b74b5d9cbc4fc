// Dispatcher: follows the commit log and adds an entry to the consume queue of every record,
// so that a record becomes readable through its queue, and indexes its keys (IndexService)
// when the store has an index.
//
// It runs on its own thread. When idle it sleeps on the commit log's EventCount, so the first
// record after a pause is dispatched microseconds after its append. When it catches up while
// records keep coming, it waits `batch_wait` before looking again instead of asking to be
// woken: a wake-up per append (a futex call by the appender and a context switch) cost the
// broker a third of its CPU per message with one send in flight per connection. A look that
// finds nothing new goes back to sleeping until woken. RocketMQ's reput service likewise
// sleeps 1 ms between rounds. AwaitDispatched cuts the wait short. It never passes the
// dispatch limit: the appended offset in kAsync mode, the durable offset in kSync mode (a
// consumer must not see a record a crash could take back).
//
// A full disk (kResourceExhausted from creating a queue or index file) does not stop it: it
// is blocked() and tries the record again after a while, at every wake-up, and when
// AwaitDispatched asks, so dispatch resumes by itself once there is room. Any other error
// stops it for good.
#ifndef MQSTORE_QUEUE_DISPATCHER_H_
#define MQSTORE_QUEUE_DISPATCHER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "index/index_service.h"
#include "log/commit_log.h"
#include "mqstore/store.h"
#include "queue/consume_queue_set.h"
#include "util/event_count.h"

namespace mqstore {

class Dispatcher {
 public:
  // `limit` returns the offset dispatch may reach; `wake` is notified when it may have moved.
  // `index` may be null (no index). `batch_wait`: see above; 0 = woken by every append.
  Dispatcher(CommitLog* log, ConsumeQueueSet* queues, IndexService* index,
             std::function<int64_t()> limit, EventCount* wake,
             std::chrono::microseconds batch_wait);
  ~Dispatcher();

  // Starts dispatching from `from` (a record boundary). Records below `queues_from` (>= from)
  // already have their queue entries (recovery re-dispatched them) and only go to the index:
  // the index catches up from its own durable point in the background.
  void Start(int64_t from, int64_t queues_from);
  // Stops the thread after it finished the record it is on.
  void Stop();

  int64_t dispatched() const { return dispatched_.load(std::memory_order_acquire); }
  // Returns once dispatched() >= `offset`; kTimedOut after `timeout_ms`; the dispatch error
  // if dispatch stopped on one. While blocked() it asks for another attempt and returns
  // kResourceExhausted only if one begun after the call failed too.
  Status AwaitDispatched(int64_t offset, int timeout_ms);
  // True while dispatch is held up by a full disk.
  bool blocked() const { return blocked_.load(std::memory_order_acquire); }
  void SetListener(ArrivalListener listener);
  // Calls `hook` (from the dispatcher thread, without locks) for every queued record of one
  // of `topics`: the store's own watchers (the schedulers) pay two string compares per
  // record instead of a locked std::function call. REQUIRES: before Start. The hook must
  // not block.
  void SetTopicHook(std::vector<std::string> topics, std::function<void(std::string_view)> hook);
  Status error() const;

 private:
  void Loop();
  // Sleeps `batch_wait_` unless Stop or AwaitDispatched cuts it short (CutBatchWait).
  void WaitForBatch();
  void CutBatchWait();
  // Dispatches records in [pos, limit) of one segment; returns the new position.
  int64_t DispatchSome(int64_t pos, int64_t limit);

  CommitLog* const log_;
  ConsumeQueueSet* const queues_;
  IndexService* const index_;
  int64_t queues_from_ = 0;
  const std::function<int64_t()> limit_;
  EventCount* const wake_;
  const std::chrono::microseconds batch_wait_;
  std::mutex batch_mu_;
  std::condition_variable batch_cut_;
  bool cut_batch_wait_ = false;  // GUARDED_BY(batch_mu_)

  std::atomic<int64_t> dispatched_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> blocked_{false};
  std::atomic<uint64_t> failed_attempts_{0};  // attempts that ended blocked by a full disk
  std::atomic<bool> retry_{false};            // a waiter wants another attempt now
  std::thread thread_;
  EventCount progress_;

  mutable std::mutex mu_;
  Status error_;                 // GUARDED_BY(mu_)
  ArrivalListener listener_;     // GUARDED_BY(mu_)
  std::atomic<bool> has_listener_{false};
  std::vector<std::string> hooked_topics_;  // set before Start, then read-only
  std::function<void(std::string_view)> topic_hook_;
};

}  // namespace mqstore

#endif  // MQSTORE_QUEUE_DISPATCHER_H_
