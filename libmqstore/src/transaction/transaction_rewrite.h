// The message transformations of transactions, as pure functions:
//
//   put time:    RewriteForHalf     Orders/3 PREPARED {TRAN_MSG=true, UNIQ_KEY=U}
//                                     ->  RMQ_SYS_TRANS_HALF_TOPIC/0 NOT_TYPE {TRAN_MSG=true,
//                                         UNIQ_KEY=U, REAL_TOPIC=Orders, REAL_QID=3,
//                                         __transactionId__=U}
//   commit:      RestoreForCommit   the half record  ->  Orders/3 COMMIT, prepared offset = the
//                                     half's physical offset, without TRAN_MSG, REAL_*,
//                                     TRANSACTION_CHECK_TIMES, TRAN_PREPARED_QUEUE_OFFSET
//   check:       CopyForCheck       the half record  ->  a copy in the half queue with
//                                     TRANSACTION_CHECK_TIMES = n and TRAN_PREPARED_QUEUE_OFFSET
//   give up:     CopyForParking     the half record  ->  TRANS_CHECK_MAX_TIME_TOPIC/0, as is
//
// The store's put path calls RewriteForHalf and stores the result instead of the message:
// the half record is an ordinary, dispatched message of the half topic, so it has a queue
// offset there and the real topic never sees it. Body, flag, born time/host, reconsume times
// and the compression bits are never touched, and properties keep their original order.
//
// A transaction is named by its *transaction offset*: the half queue offset of the half
// record first stored. Copies made by the check scan carry it in TRAN_PREPARED_QUEUE_OFFSET,
// so that an op record naming it ends the transaction whichever copy the producer ends.
// Op record bodies (RocketMQ's format) are transaction offsets as decimal text, each
// followed by ','. docs/format/transactions.md has the details.
//
// Thread safety: stateless functions.
#ifndef MQSTORE_TRANSACTION_TRANSACTION_REWRITE_H_
#define MQSTORE_TRANSACTION_TRANSACTION_REWRITE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/message.h"
#include "mqstore/status.h"

namespace mqstore {

// How a prepared message is stored: in the half topic, queue 0, with these properties and
// the transaction bits of its sys flag cleared.
struct HalfRewrite {
  std::string properties;  // encoded

  // The message to store. The result points into both `original`'s buffers and this object.
  MessageView Apply(const MessageView& original) const;
};

// Decides whether `message` is a prepared transactional message, to be stored as a half:
// its transaction bits are PREPARED, or they are NOT_TYPE and TRAN_MSG is "true". Messages
// of the transaction system topics (including the check scan's own copies) and committed or
// rolled-back messages are not rewritten (nullopt).
// The half keeps every property but __CRC32#, and gets TRAN_MSG=true, REAL_TOPIC, REAL_QID
// and __transactionId__ = UNIQ_KEY (when the message has one); a TRANSACTION_CHECK_TIMES or
// TRAN_PREPARED_QUEUE_OFFSET sent by the producer is dropped (check state is the store's).
// Errors (kInvalidArgument): the real topic or queue id is not valid (it could never be
// committed), or the message also asks for scheduled delivery (DELAY, TIMER_DELIVER_MS,
// TIMER_DELAY_SEC, TIMER_DELAY_MS, __STARTDELIVERTIME): RocketMQ clients clear DELAY on
// transactional messages, and a half carrying it would be parked by the schedule rewrite.
Result<std::optional<HalfRewrite>> RewriteForHalf(const MessageView& message);

// Where a half message really goes (REAL_TOPIC, REAL_QID); views into the record.
struct RealDestination {
  std::string_view topic;
  int32_t queue_id = 0;
};
// kCorruption when REAL_TOPIC is missing or REAL_QID is not a queue id.
Result<RealDestination> FindRealDestination(const ParsedRecord& half);

// Builds the committed message from a half record: topic and queue from REAL_TOPIC and
// REAL_QID, transaction type COMMIT, prepared_transaction_offset = the half's physical offset,
// properties without TRAN_MSG, REAL_TOPIC, REAL_QID, TRANSACTION_CHECK_TIMES,
// TRAN_PREPARED_QUEUE_OFFSET and __CRC32#. `out` points into `half`'s buffers and into
// `*properties`, which receives the encoded properties.
// Errors: FindRealDestination's.
Status RestoreForCommit(const ParsedRecord& half, std::string* properties, MessageView* out);

// The copy the check scan re-appends to the half queue: the same message with
// TRANSACTION_CHECK_TIMES = `check_times` and TRAN_PREPARED_QUEUE_OFFSET =
// `transaction_offset` (both replaced if present). `out` points into `half` and `*properties`.
void CopyForCheck(const ParsedRecord& half, int64_t transaction_offset, int check_times,
                  std::string* properties, MessageView* out);

// The copy of a given-up half in TRANS_CHECK_MAX_TIME_TOPIC queue 0, properties unchanged
// but for __CRC32#. `out` points into `half` and `*properties`.
void CopyForParking(const ParsedRecord& half, std::string* properties, MessageView* out);

// The transaction offset of a half record: TRAN_PREPARED_QUEUE_OFFSET when it is a copy,
// otherwise its own queue offset.
int64_t TransactionOffsetOf(const ParsedRecord& half);

// TRANSACTION_CHECK_TIMES; 0 when absent or malformed.
int CheckTimesOf(std::string_view encoded_properties);

// An op record body: each offset as decimal text followed by ','.
std::string EncodeOpBody(std::span<const int64_t> transaction_offsets);
// The offsets of an op record body. Lenient like RocketMQ's reader: tokens that are not a
// non-negative decimal integer are skipped.
std::vector<int64_t> ParseOpBody(std::string_view body);

}  // namespace mqstore

#endif  // MQSTORE_TRANSACTION_TRANSACTION_REWRITE_H_
