// SendProcessor: SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320) and
// CONSUMER_SEND_MSG_BACK (36): everything that puts a message into the store on a client's
// behalf.
//
// A send is checked as a Java broker checks it (topic name, system topic, topic existence or
// auto-creation, write permission, queue id, body and properties size), given a unique id
// (UNIQ_KEY) when the producer did not set one, stamped with the cluster name and the
// producer's address, diverted to the group's dead-letter topic when it is a retry past its
// limit, and put. The response carries the offset message id, queue id and queue offset;
// FLUSH_DISK_TIMEOUT when a SYNC_FLUSH put was not durable in time.
#ifndef MQBROKER_SEND_PROCESSOR_H_
#define MQBROKER_SEND_PROCESSOR_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "broker_context.h"
#include "processor.h"

namespace mqbroker {

class SendProcessor : public Processor {
 public:
  explicit SendProcessor(const BrokerContext* context) : context_(context) {}

  void Process(const std::shared_ptr<mqremoting::Connection>& connection,
               mqremoting::RemotingCommand request) override;

 private:
  void SendOne(const std::shared_ptr<mqremoting::Connection>& connection,
               const mqremoting::RemotingCommand& request);
  void SendBatch(const std::shared_ptr<mqremoting::Connection>& connection,
                 const mqremoting::RemotingCommand& request);
  void SendBack(const std::shared_ptr<mqremoting::Connection>& connection,
                const mqremoting::RemotingCommand& request);

  const BrokerContext* const context_;
  std::atomic<uint32_t> next_queue_{0};  // for sends that leave the queue to the broker
};

}  // namespace mqbroker

#endif  // MQBROKER_SEND_PROCESSOR_H_
