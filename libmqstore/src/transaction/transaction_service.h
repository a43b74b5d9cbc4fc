// TransactionService: ends transactions and finds the ones to check, over the public Store
// API. (The put-time half of transactions is RewriteForHalf, in transaction_rewrite.h.)
//
// EndTransaction(half, commit|rollback) reads the half record, and puts
//   commit:    the restored message to its real topic and an op record, in one PutBatch
//              (commit first: a crash between them leaves a committed message whose
//              transaction is checked again, never an op record without its message);
//   rollback:  an op record only.
// An op record is a message of RMQ_SYS_TRANS_OP_HALF_TOPIC/0 tagged "d" whose body is the
// transaction offset of the half (transaction_rewrite.h), "42,".
//
// Check(now_ms, max_checks) is RocketMQ's check pass. It reads the op records it has not
// read yet into the done set (EndedTransactions), then walks the half queue from its half
// progress:
//   - ended                            -> skipped;
//   - stored < transaction_timeout_ms ago -> stop: everything after it is younger (a copy
//                                         counts from when it was appended, so a
//                                         transaction is checked at most once per timeout;
//                                         a record stored "in the future", after the clock
//                                         went back, counts as due, and a pass never walks
//                                         the copies it made itself);
//   - checked transaction_check_max times, or without a valid REAL_TOPIC/REAL_QID (it
//     could never commit)             -> given up: a copy is put to TRANS_CHECK_MAX_TIME_TOPIC
//                                         ("parked", for an operator) and it is skipped;
//   - otherwise                       -> a copy is re-appended to the half queue with
//                                         TRANSACTION_CHECK_TIMES + 1, and returned as a
//                                         TransactionCheck for the broker to send
//                                         CHECK_TRANSACTION_STATE. The copy is what lets the
//                                         half progress move past the original.
// The pass stops early after `max_checks` checks (result.more).
//
// Progress: two ScheduleProgressStore entries, committed together (atomically) at the end
// of each pass that moved them and every commit_every_records half records walked:
//   "transaction-half": offset = the next half queue offset to walk;
//   "transaction-op":   offset = the first op record the done set still needs (see
//                       EndedTransactions: an op record is retired once the half progress
//                       has passed every half record of its transactions).
// With flush_before_commit the store is flushed first, so committed progress never covers a
// copy, parked copy or op record that a power cut could lose.
//
// Crash safety. Nothing unresolved is lost: an original is passed only after its copy (or
// parked copy) is appended, and progress covering it is committed only after that is
// durable. After a crash the walk resumes from the committed half progress and the done set
// is rebuilt from the committed op progress; halves walked since the last commit are
// walked again, so their checks (and copies) may be repeated: at-least-once, bounded by
// commit_every_records plus one read batch. Copies of an ended transaction are skipped.
//
// Idempotency. EndTransaction of a transaction already in the done set (ended before,
// through any of its copies, by either resolution, before or after a restart) writes
// nothing and reports already_ended: the first resolution wins. The done set forgets a
// transaction once the scan has passed all its half records (about transaction_timeout_ms
// after it ended, if Check runs); ending it again after that is not detected, and a second
// commit then puts the message again (at-least-once, like RocketMQ, which never checks).
// Ending a half that was parked is allowed: the producer's answer still counts.
//
// Thread safety: every method may be called from any thread; calls are serialised by one
// mutex, held across the store puts of a pass (a Check with many checks delays an
// EndTransaction meanwhile). The service calls back into the Store (Put, PutBatch, Read,
// ReadRecord, Flush), so a façade forwarding to it must not hold a lock those calls take.
// REQUIRES: one service per store; nothing else writes half copies or op records.
#ifndef MQSTORE_TRANSACTION_TRANSACTION_SERVICE_H_
#define MQSTORE_TRANSACTION_TRANSACTION_SERVICE_H_

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "mqstore/options.h"
#include "mqstore/status.h"
#include "mqstore/store.h"
#include "mqstore/transaction.h"
#include "schedule/schedule_progress.h"
#include "transaction/ended_transactions.h"

namespace mqstore {

struct TransactionServiceOptions {
  // A half unresolved for this long is checked. Default: 6000 ms (transactionTimeOut).
  int64_t timeout_ms = 6000;
  // Checks of one half before it is given up. Default: 15 (transactionCheckMax).
  int check_max = 15;
  // Half or op queue entries asked for per Store::Read (at least 1). Default: 256.
  int32_t read_batch = 256;
  // Progress is committed at least this often (in half records walked), which bounds the
  // checks repeated after a crash. Default: 1024.
  uint64_t commit_every_records = 1024;
  // Store::Flush before each progress commit (matters in ASYNC_FLUSH). Default: true.
  bool flush_before_commit = true;
  // How long the first call waits for the store's dispatch to catch up, so that the half
  // queue's bounds cover every copy a previous service made. Default: 10000 ms.
  int dispatch_wait_ms = 10'000;

  // timeout_ms and check_max from the store's transaction options, the rest defaults.
  static TransactionServiceOptions FromStoreOptions(const StoreOptions& options);
};

class TransactionService {
 public:
  // `store` and `progress` must outlive the service. Nothing is read until the first call.
  TransactionService(Store& store, ScheduleProgressStore& progress,
                     const TransactionServiceOptions& options = {});
  TransactionService(const TransactionService&) = delete;
  TransactionService& operator=(const TransactionService&) = delete;

  // Ends the transaction of the half record at `half_physical_offset` (the half as stored,
  // or any copy a check returned). Errors (nothing written): kNotFound when no record starts
  // there; kInvalidArgument when the record is not in the half topic; kCorruption for a
  // commit of a half without a valid REAL_TOPIC/REAL_QID (a rollback of it works); the
  // store's put errors. A put error may leave the commit without its op record (the
  // transaction is then checked again).
  Result<TransactionEndResult> EndTransaction(int64_t half_physical_offset,
                                              TransactionResolution resolution);

  // One check pass at time `now_ms` (epoch ms), returning at most `max_checks` checks.
  // Errors: the store's or the progress store's; what the pass did before is kept (its
  // copies are checked again after the timeout) and the next call resumes.
  Result<TransactionCheckResult> Check(int64_t now_ms, size_t max_checks);

  // For tests and stats: the next half queue offset to walk, the next op queue offset to
  // read, and the op records / transactions the done set holds.
  int64_t half_offset() const;
  int64_t op_read_offset() const;
  size_t ended_ops() const;
  size_t ended_transactions() const;

 private:
  enum class Visit { kNext, kStop };

  Status LoadLocked();
  Status ReadOpsLocked();
  Result<Visit> VisitLocked(const StoredMessage& m, int64_t now_ms, size_t max_checks,
                            TransactionCheckResult* result);
  Status CommitLocked(int64_t now_ms);
  // The watermark of an op record ending `transaction_offset` (EndedTransactions).
  int64_t WatermarkFor(int64_t transaction_offset) const;

  Store& store_;
  ScheduleProgressStore& progress_;
  TransactionServiceOptions options_;

  mutable std::mutex mu_;
  bool loaded_ = false;              // GUARDED_BY(mu_)
  int64_t half_offset_ = 0;          // GUARDED_BY(mu_)
  int64_t op_read_ = 0;              // GUARDED_BY(mu_)
  int64_t committed_half_ = -1;      // GUARDED_BY(mu_)
  int64_t committed_op_ = -1;        // GUARDED_BY(mu_)
  // Every copy made so far lies below this half queue offset.
  int64_t copy_watermark_ = 0;       // GUARDED_BY(mu_)
  uint64_t walked_since_commit_ = 0;  // GUARDED_BY(mu_)
  // Half queue offset of the first copy the current pass made (max: none yet).
  int64_t first_copy_ = 0;           // GUARDED_BY(mu_)
  EndedTransactions ended_;          // GUARDED_BY(mu_)
};

}  // namespace mqstore

#endif  // MQSTORE_TRANSACTION_TRANSACTION_SERVICE_H_
