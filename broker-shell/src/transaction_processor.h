// Transactions: END_TRANSACTION (37) from producers, and the broker's side of the check-back
// protocol — half messages left unresolved are found by the store's check scan and their
// producer group is asked with CHECK_TRANSACTION_STATE (39, oneway, on a connection of that
// group), which it answers with another END_TRANSACTION.
#ifndef MQBROKER_TRANSACTION_PROCESSOR_H_
#define MQBROKER_TRANSACTION_PROCESSOR_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "broker_context.h"
#include "mqstore/message.h"
#include "processor.h"

namespace mqbroker {

class TransactionProcessor : public Processor {
 public:
  explicit TransactionProcessor(const BrokerContext* context) : context_(context) {}

  void Process(const std::shared_ptr<mqremoting::Connection>& connection,
               mqremoting::RemotingCommand request) override;

 private:
  const BrokerContext* const context_;
};

// Runs the store's transaction check scan every `interval` and sends one
// CHECK_TRANSACTION_STATE per unresolved half message to a live producer of its group.
class TransactionChecker {
 public:
  TransactionChecker(const BrokerContext* context, std::chrono::milliseconds interval);
  ~TransactionChecker();  // Stop()

  void Start();
  // One scan now; returns how many checks were sent.
  size_t CheckOnce();
  void Stop();

 private:
  void Run();

  const BrokerContext* const context_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// The stored record `record` (parsed as `parsed`) with its topic and queue id replaced: a
// half message as its producer sent it, for the body of CHECK_TRANSACTION_STATE. Everything
// else, properties included, is kept; TOTALSIZE and the magic (V1 or V2 by topic length) are
// set for the new topic. The record checksums are not recomputed (clients do not check them).
std::string RecordWithTopic(std::string_view record, const mqstore::ParsedRecord& parsed,
                            std::string_view topic, int32_t queue_id);

}  // namespace mqbroker

#endif  // MQBROKER_TRANSACTION_PROCESSOR_H_
