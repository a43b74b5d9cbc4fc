// OffsetProcessor: consumer offsets and queue positions — QUERY_CONSUMER_OFFSET (14),
// UPDATE_CONSUMER_OFFSET (15), SEARCH_OFFSET_BY_TIMESTAMP (29), GET_MAX_OFFSET (30),
// GET_MIN_OFFSET (31), GET_EARLIEST_MSG_STORETIME (32).
//
// A group with no committed offset on a queue whose first message is still at offset 0 is
// told 0, so a brand-new group consumes a young queue from its beginning (RocketMQ's rule);
// otherwise QUERY_NOT_FOUND, and the client falls back to its consumeFromWhere.
#ifndef MQBROKER_OFFSET_PROCESSOR_H_
#define MQBROKER_OFFSET_PROCESSOR_H_

#include "broker_context.h"
#include "processor.h"

namespace mqbroker {

class OffsetProcessor : public Processor {
 public:
  explicit OffsetProcessor(const BrokerContext* context) : context_(context) {}

  void Process(const std::shared_ptr<mqremoting::Connection>& connection,
               mqremoting::RemotingCommand request) override;

 private:
  const BrokerContext* const context_;
};

}  // namespace mqbroker

#endif  // MQBROKER_OFFSET_PROCESSOR_H_
