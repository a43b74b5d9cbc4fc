// ConsumerAdminProcessor: what admin tools ask a broker about consumer groups —
//   UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200), GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201),
//   DELETE_SUBSCRIPTIONGROUP (207): the group settings kept in the metadata store;
//   GET_CONSUMER_CONNECTION_LIST (203): a group's live members and subscriptions;
//   GET_CONSUME_STATS (208): per queue, the broker's max offset against the group's;
//   QUERY_TOPIC_CONSUME_BY_WHO (300): the groups that subscribe to or have offsets in a topic;
//   INVOKE_BROKER_TO_RESET_OFFSET (222): move a group's offsets of a topic to a time, and
//   tell its running members (RESET_CONSUMER_CLIENT_OFFSET, 220).
// Bodies: remoting/consumer_admin_bodies.h; docs/format/broker-bodies.md.
#ifndef MQBROKER_CONSUMER_ADMIN_PROCESSOR_H_
#define MQBROKER_CONSUMER_ADMIN_PROCESSOR_H_

#include <memory>

#include "broker_context.h"
#include "processor.h"

namespace mqbroker {

class ConsumerAdminProcessor : public Processor {
 public:
  explicit ConsumerAdminProcessor(const BrokerContext* context) : context_(context) {}

  void Process(const std::shared_ptr<mqremoting::Connection>& connection,
               mqremoting::RemotingCommand request) override;

 private:
  void UpdateGroup(const std::shared_ptr<mqremoting::Connection>& connection,
                   const mqremoting::RemotingCommand& request);
  void AllGroups(const std::shared_ptr<mqremoting::Connection>& connection,
                 const mqremoting::RemotingCommand& request);
  void DeleteGroup(const std::shared_ptr<mqremoting::Connection>& connection,
                   const mqremoting::RemotingCommand& request);
  void ConnectionList(const std::shared_ptr<mqremoting::Connection>& connection,
                      const mqremoting::RemotingCommand& request);
  void ConsumeStats(const std::shared_ptr<mqremoting::Connection>& connection,
                    const mqremoting::RemotingCommand& request);
  void ConsumedByWho(const std::shared_ptr<mqremoting::Connection>& connection,
                     const mqremoting::RemotingCommand& request);
  void ResetOffset(const std::shared_ptr<mqremoting::Connection>& connection,
                   const mqremoting::RemotingCommand& request);

  const BrokerContext* const context_;
};

}  // namespace mqbroker

#endif  // MQBROKER_CONSUMER_ADMIN_PROCESSOR_H_
