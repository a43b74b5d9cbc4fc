// AdminProcessor: topic administration and message lookups — UPDATE_AND_CREATE_TOPIC (17),
// DELETE_TOPIC_IN_BROKER (215), GET_ALL_TOPIC_CONFIG (21), GET_BROKER_RUNTIME_INFO (28),
// QUERY_MESSAGE (12, by key or unique id through the store's index) and VIEW_MESSAGE_BY_ID
// (33, by commit-log offset). Topic changes are registered with the name servers before the
// answer, so a route exists as soon as the admin tool sees success.
#ifndef MQBROKER_ADMIN_PROCESSOR_H_
#define MQBROKER_ADMIN_PROCESSOR_H_

#include <atomic>

#include "broker_context.h"
#include "processor.h"

namespace mqbroker {

class AdminProcessor : public Processor {
 public:
  explicit AdminProcessor(const BrokerContext* context) : context_(context) {}

  void Process(const std::shared_ptr<mqremoting::Connection>& connection,
               mqremoting::RemotingCommand request) override;

 private:
  void CreateTopic(const std::shared_ptr<mqremoting::Connection>& connection,
                   const mqremoting::RemotingCommand& request);
  void DeleteTopic(const std::shared_ptr<mqremoting::Connection>& connection,
                   const mqremoting::RemotingCommand& request);
  void AllTopicConfig(const std::shared_ptr<mqremoting::Connection>& connection,
                      const mqremoting::RemotingCommand& request);
  void RuntimeInfo(const std::shared_ptr<mqremoting::Connection>& connection,
                   const mqremoting::RemotingCommand& request);
  void QueryMessage(const std::shared_ptr<mqremoting::Connection>& connection,
                    const mqremoting::RemotingCommand& request);
  void ViewMessage(const std::shared_ptr<mqremoting::Connection>& connection,
                   const mqremoting::RemotingCommand& request);

  const BrokerContext* const context_;
};

}  // namespace mqbroker

#endif  // MQBROKER_ADMIN_PROCESSOR_H_
