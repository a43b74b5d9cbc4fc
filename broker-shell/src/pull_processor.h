// PullProcessor: PULL_MESSAGE (11) and LITE_PULL_MESSAGE (361).
//
// Reads up to maxMsgNums messages of one queue from the store, keeps those the
// subscription's tags match, and answers with the stored records as the body — slices of the
// mapped commit log, written to the socket without a copy. A pull that finds nothing new
// and may be suspended is held (PullHoldService) until a message arrives or the client's
// suspend timeout passes. Every response carries nextBeginOffset, minOffset, maxOffset and
// suggestWhichBrokerId, whatever its code (clients need all four). A commit offset
// piggy-backed on the pull is recorded first.
#ifndef MQBROKER_PULL_PROCESSOR_H_
#define MQBROKER_PULL_PROCESSOR_H_

#include <chrono>
#include <memory>

#include "bounded_executor.h"
#include "broker_context.h"
#include "processor.h"

namespace mqbroker {

struct PullSettings {
  bool long_polling_enable = true;
  // Hold time when long polling is off (RocketMQ's shortPollingTimeMills).
  std::chrono::milliseconds short_polling_time{1000};
  // Longest hold whatever the client asks (its RPC timeout is 30 s, suspend 15 s).
  std::chrono::milliseconds max_suspend{60000};
  // Bytes of messages in one response at most (at least one message is always sent).
  uint64_t max_transfer_bytes = 4u << 20;
  bool auto_create_subscription_group = true;
};

class PullProcessor : public Processor {
 public:
  // `executor` runs pulls woken from a hold. The processor must outlive the context's
  // PullHoldService (whose wakes call back into it).
  PullProcessor(const BrokerContext* context, PullSettings settings, BoundedExecutor* executor)
      : context_(context), settings_(settings), executor_(executor) {}

  void Process(const std::shared_ptr<mqremoting::Connection>& connection,
               mqremoting::RemotingCommand request) override;

 private:
  void Pull(const std::shared_ptr<mqremoting::Connection>& connection,
            const std::shared_ptr<const mqremoting::RemotingCommand>& request, bool may_suspend);

  const BrokerContext* const context_;
  const PullSettings settings_;
  BoundedExecutor* const executor_;
};

}  // namespace mqbroker

#endif  // MQBROKER_PULL_PROCESSOR_H_
