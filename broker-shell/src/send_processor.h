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
//
// Sends are put with Store::PutAsync: in SYNC_FLUSH the answer goes out from the store's sync
// thread once the record is durable, so no thread blocks per waiting send and one sync
// acknowledges every send that arrived meanwhile (docs/design/0009-send-path.md). At most
// sendThreadPoolQueueCapacity sends wait for the disk at a time; past that a send is
// answered SYSTEM_BUSY at once.
#ifndef MQBROKER_SEND_PROCESSOR_H_
#define MQBROKER_SEND_PROCESSOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "broker_context.h"
#include "processor.h"

namespace mqbroker {

class SendProcessor : public Processor {
 public:
  explicit SendProcessor(const BrokerContext* context) : context_(context) {}

  void Process(const std::shared_ptr<mqremoting::Connection>& connection,
               mqremoting::RemotingCommand request) override;
  // Single sends of one read are put together (Store::PutEachAsync): one acquisition of the
  // log's locks and, in SYNC_FLUSH, one wait for the disk for all of them.
  void ProcessEach(const std::shared_ptr<mqremoting::Connection>& connection,
                   std::span<mqremoting::RemotingCommand> requests) override;

 private:
  // Answers each of `requests` SYSTEM_BUSY, and returns true, while a put holds the log.
  bool RefuseWhileLogBusy(const std::shared_ptr<mqremoting::Connection>& connection,
                          std::span<const mqremoting::RemotingCommand> requests);
  void SendEach(const std::shared_ptr<mqremoting::Connection>& connection,
                std::span<const mqremoting::RemotingCommand> requests);
  void SendOne(const std::shared_ptr<mqremoting::Connection>& connection,
               const mqremoting::RemotingCommand& request);
  void SendBatch(const std::shared_ptr<mqremoting::Connection>& connection,
                 const mqremoting::RemotingCommand& request);
  void SendBack(const std::shared_ptr<mqremoting::Connection>& connection,
                const mqremoting::RemotingCommand& request);
  // Counts a send about to wait for the disk; false (and SYSTEM_BUSY answered) when too many
  // already do.
  bool AdmitDiskWait(const std::shared_ptr<mqremoting::Connection>& connection,
                     const mqremoting::RemotingCommand& request);

  const BrokerContext* const context_;
  std::atomic<uint32_t> next_queue_{0};  // for sends that leave the queue to the broker
  // Sends put but not answered yet. Shared with the put callbacks, which may outlive this.
  std::shared_ptr<std::atomic<int64_t>> awaiting_disk_ = std::make_shared<std::atomic<int64_t>>(0);
};

}  // namespace mqbroker

#endif  // MQBROKER_SEND_PROCESSOR_H_
