// TransactionProducer: RocketMQ's TransactionMQProducer. A message is first stored as a half
// message, invisible to consumers; the application's local transaction runs; then the
// producer ends the transaction on the broker: commit makes the message visible, rollback
// discards it. When the outcome is unknown (the local transaction said so, threw, or the
// producer died before ending it), the broker later asks a producer of the group
// (CHECK_TRANSACTION_STATE) and the checker answers for it.
//
//   TransactionProducer producer(options, [&](const ReceivedMessage& half) {
//     return orders.Exists(half.keys) ? LocalTransactionState::kCommit
//                                     : LocalTransactionState::kRollback;
//   });
//   producer.Start();
//   producer.SendMessageInTransaction(message, [&](const Message& m, const SendResult&) {
//     return orders.Insert(m.keys) ? LocalTransactionState::kCommit
//                                  : LocalTransactionState::kRollback;
//   });
//
// Broker side: docs/format/transactions.md.
#ifndef MQCLIENT_TRANSACTION_PRODUCER_H_
#define MQCLIENT_TRANSACTION_PRODUCER_H_

#include <functional>
#include <memory>

#include "mqclient/message.h"
#include "mqclient/producer.h"
#include "mqstore/status.h"

namespace mqclient {

enum class LocalTransactionState { kCommit, kRollback, kUnknown };

// Runs the local transaction of a half message just stored (`half`: where it went).
using LocalTransaction =
    std::function<LocalTransactionState(const Message& message, const SendResult& half)>;
// Answers the broker's question about a half message nobody ended. Runs on the producer's own
// thread, one check at a time; kUnknown leaves it to the next check (the broker gives up after
// transactionCheckMax checks).
using TransactionChecker = std::function<LocalTransactionState(const ReceivedMessage& half)>;

struct TransactionSendResult {
  SendResult half;  // the half message as stored
  LocalTransactionState local_state = LocalTransactionState::kUnknown;
};

class TransactionProducer {
 public:
  TransactionProducer(ProducerOptions options, TransactionChecker checker);
  ~TransactionProducer();  // Shutdown()
  TransactionProducer(const TransactionProducer&) = delete;
  TransactionProducer& operator=(const TransactionProducer&) = delete;

  // kInvalidArgument without a checker or a name server address.
  Status Start();
  void Shutdown();

  // Sends `message` as a half message (retried as Producer::Send), runs `local_transaction`
  // (an exception counts as kUnknown), and ends the transaction with its answer. An END that
  // does not reach the broker is not an error: the check-back resolves the transaction.
  // kInvalidArgument for a message with a delay level (as Java refuses) or without a local
  // transaction; a half message that could not be stored is the send's error.
  Result<TransactionSendResult> SendMessageInTransaction(const Message& message,
                                                         const LocalTransaction& local_transaction);

  Producer& producer() { return *producer_; }

  class Impl;

 private:
  std::unique_ptr<Producer> producer_;
  std::shared_ptr<Impl> impl_;
};

}  // namespace mqclient

#endif  // MQCLIENT_TRANSACTION_PRODUCER_H_
