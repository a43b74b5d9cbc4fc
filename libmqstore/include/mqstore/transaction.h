// Transactional (half) messages: what Store's transaction calls take and return.
//
//   producer ── Put(PREPARED) ──► RMQ_SYS_TRANS_HALF_TOPIC/0   (consumers of the real topic
//                                    │                            see nothing yet)
//   producer ── EndTransaction ─────►│ commit: the message is put to its real topic
//                                    │ both:   an op record in RMQ_SYS_TRANS_OP_HALF_TOPIC/0
//   broker   ── CheckTransactions ──► halves unresolved for transaction_timeout_ms, for the
//                                    broker to ask their producer group (CHECK_TRANSACTION_STATE)
//
// A half message checked transaction_check_max times is given up: it is moved to
// TRANS_CHECK_MAX_TIME_TOPIC ("parked"), where nothing reads it but an operator.
// docs/format/transactions.md has the topics, properties and op record format.
#ifndef MQSTORE_TRANSACTION_H_
#define MQSTORE_TRANSACTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/message.h"
#include "mqstore/store.h"

namespace mqstore {

// RocketMQ's system topics for transactions (TopicValidator). Each has one queue, 0.
namespace transaction {
// Half messages: prepared, not yet committed or rolled back.
inline constexpr std::string_view kHalfTopic = "RMQ_SYS_TRANS_HALF_TOPIC";
// Op records: which half messages have been ended.
inline constexpr std::string_view kOpTopic = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
// Half messages given up after transaction_check_max checks.
inline constexpr std::string_view kCheckMaxTopic = "TRANS_CHECK_MAX_TIME_TOPIC";
}  // namespace transaction

// How a producer ends a transaction (RocketMQ's END_TRANSACTION commit or rollback type).
// The underlying type is fixed so that store.h can declare it without this header.
enum class TransactionResolution : int { kCommit, kRollback };

// What EndTransaction did.
struct TransactionEndResult {
  // The half message had been ended before (by an earlier call, commit or rollback, or by a
  // call before a restart): nothing was written and the first resolution stands. Detected
  // while the check scan may still meet one of the transaction's half records (about
  // transaction_timeout_ms after the end, when checks run); a repeat after that is not
  // detected, and a repeated commit then puts the message again.
  bool already_ended = false;
  // kCommit: the message as put to its real topic (its queue offset, message id, durability).
  std::optional<PutResult> committed;
  // The op record (both resolutions), unless already_ended.
  std::optional<PutResult> op;
};

// One half message the broker must ask its producer group about. The check scan has already
// re-appended the half message to the half queue with its check count incremented; the
// fields describe that copy, which is what EndTransaction should be given.
struct TransactionCheck {
  int64_t physical_offset = 0;  // of the copy: pass to EndTransaction (commitLogOffset)
  int64_t queue_offset = 0;     // of the copy in the half queue (tranStateTableOffset)
  std::string real_topic;
  int32_t real_queue_id = 0;
  std::string transaction_id;   // __transactionId__, else UNIQ_KEY; may be empty
  std::string producer_group;   // PGROUP; may be empty
  int check_times = 0;          // checks so far, this one included (1 on the first)
  // The copy's bytes when readable at once, otherwise (SYNC_FLUSH with WAIT=false) the
  // bytes of the half record it was copied from, which differ only in the check count.
  RecordView record;
};

// What one CheckTransactions pass found.
struct TransactionCheckResult {
  std::vector<TransactionCheck> checks;
  uint64_t skipped = 0;  // half records walked past because their transaction had ended
  // Half messages given up: checked transaction_check_max times, or unable ever to commit
  // (no valid REAL_TOPIC/REAL_QID). Moved to TRANS_CHECK_MAX_TIME_TOPIC.
  uint64_t parked = 0;
  uint64_t dropped = 0;  // half queue entries that are not parseable records (skipped)
  // The pass stopped because it returned `max_checks` checks; call again for the rest.
  bool more = false;
  // When the next pass has work (epoch ms): when the oldest unresolved half not yet due
  // becomes due, or a timeout from now when the pass stopped at its own copies (the clock
  // went back). nullopt when the scan reached the end of the half queue or stopped at
  // `max_checks`.
  std::optional<int64_t> next_check_ms;
};

}  // namespace mqstore

#endif  // MQSTORE_TRANSACTION_H_
