// The names the transaction component reads and writes besides its topics (which are public,
// in mqstore/transaction.h): message properties and the progress entries of the check scan.
//
// The property strings are RocketMQ's (MessageConst), so half messages look the same as a
// RocketMQ broker's. REAL_TOPIC / REAL_QID are shared with scheduled delivery
// (schedule/schedule_names.h).
#ifndef MQSTORE_TRANSACTION_TRANSACTION_NAMES_H_
#define MQSTORE_TRANSACTION_TRANSACTION_NAMES_H_

#include <cstdint>
#include <string_view>

#include "mqstore/transaction.h"

namespace mqstore::transaction {

inline constexpr int32_t kHalfQueueId = 0;
inline constexpr int32_t kOpQueueId = 0;
inline constexpr int32_t kCheckMaxQueueId = 0;

// The tag of every op record ("d": RocketMQ's REMOVETAG, the half is done).
inline constexpr std::string_view kOpTag = "d";

// ScheduleProgressStore entries of the check scan (offset = a queue offset; see
// TransactionService).
inline constexpr std::string_view kHalfProgress = "transaction-half";
inline constexpr std::string_view kOpProgress = "transaction-op";

namespace prop {
// "true" on a prepared message and on its half records; removed on commit.
inline constexpr std::string_view kTransactionPrepared = "TRAN_MSG";
// The producer group, which the broker asks about an unresolved half.
inline constexpr std::string_view kProducerGroup = "PGROUP";
// The transaction id: set to UNIQ_KEY when the half is stored.
inline constexpr std::string_view kTransactionId = "__transactionId__";
// Checks made so far; set on each copy the check scan re-appends.
inline constexpr std::string_view kCheckTimes = "TRANSACTION_CHECK_TIMES";
// On a copy: the half queue offset of the half message first stored, which names the
// transaction in op records whichever copy is ended.
inline constexpr std::string_view kPreparedQueueOffset = "TRAN_PREPARED_QUEUE_OFFSET";
}  // namespace prop

}  // namespace mqstore::transaction

#endif  // MQSTORE_TRANSACTION_TRANSACTION_NAMES_H_
