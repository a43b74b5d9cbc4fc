// ClientManageProcessor: the requests that tell the broker who its clients are —
// HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38) — and the queue
// locks of orderly consumers, LOCK_BATCH_MQ (41) / UNLOCK_BATCH_MQ (42).
//
// A consumer group's first heartbeat creates its subscription group and its retry topic
// %RETRY%<group>, and registers the topic with the name servers before answering (ali-ons
// asks for its route right after). When a group's membership changes, every member is sent
// NOTIFY_CONSUMER_IDS_CHANGED so that it rebalances at once.
#ifndef MQBROKER_CLIENT_MANAGE_PROCESSOR_H_
#define MQBROKER_CLIENT_MANAGE_PROCESSOR_H_

#include <string>
#include <vector>

#include "broker_context.h"
#include "processor.h"

namespace mqbroker {

class ClientManageProcessor : public Processor {
 public:
  explicit ClientManageProcessor(const BrokerContext* context) : context_(context) {}

  void Process(const std::shared_ptr<mqremoting::Connection>& connection,
               mqremoting::RemotingCommand request) override;

 private:
  void HeartBeat(const std::shared_ptr<mqremoting::Connection>& connection,
                 const mqremoting::RemotingCommand& request);
  void Unregister(const std::shared_ptr<mqremoting::Connection>& connection,
                  const mqremoting::RemotingCommand& request);
  void ConsumerList(const std::shared_ptr<mqremoting::Connection>& connection,
                    const mqremoting::RemotingCommand& request);
  void LockBatch(const std::shared_ptr<mqremoting::Connection>& connection,
                 const mqremoting::RemotingCommand& request);
  void UnlockBatch(const std::shared_ptr<mqremoting::Connection>& connection,
                   const mqremoting::RemotingCommand& request);

  const BrokerContext* const context_;
};

// Sends NOTIFY_CONSUMER_IDS_CHANGED (oneway) to every member of each group.
void NotifyConsumerIdsChanged(const BrokerContext& context, const std::vector<std::string>& groups);

// Milliseconds since the epoch (the registry's and lock manager's clock).
int64_t WallClockMs();

}  // namespace mqbroker

#endif  // MQBROKER_CLIENT_MANAGE_PROCESSOR_H_
