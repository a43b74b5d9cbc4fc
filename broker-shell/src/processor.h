// Processor: handles the requests of some request codes. The dispatcher (Broker) runs
// Process on the executor chosen for the code; a processor answers with connection->Send,
// now or later (a held pull answers when a message arrives), and never answers a oneway
// request (Reply checks).
#ifndef MQBROKER_PROCESSOR_H_
#define MQBROKER_PROCESSOR_H_

#include <memory>
#include <span>
#include <string_view>

#include "mqstore/status.h"
#include "remoting/command.h"
#include "remoting/transport.h"

namespace mqbroker {

class Processor {
 public:
  virtual ~Processor() = default;
  virtual void Process(const std::shared_ptr<mqremoting::Connection>& connection,
                       mqremoting::RemotingCommand request) = 0;
  // Requests of one connection that arrived together (one read's worth), in order: a
  // processor may serve them at a lower cost than one at a time. The default does that.
  virtual void ProcessEach(const std::shared_ptr<mqremoting::Connection>& connection,
                           std::span<mqremoting::RemotingCommand> requests) {
    for (mqremoting::RemotingCommand& request : requests) Process(connection, std::move(request));
  }
};

// Sends `response` unless `request` was oneway.
inline void Reply(const std::shared_ptr<mqremoting::Connection>& connection,
                  const mqremoting::RemotingCommand& request,
                  mqremoting::RemotingCommand response) {
  if (!request.is_oneway()) connection->Send(std::move(response));
}

// Replies with just a code and a remark.
inline void ReplyError(const std::shared_ptr<mqremoting::Connection>& connection,
                       const mqremoting::RemotingCommand& request, int32_t code,
                       std::string_view remark) {
  Reply(connection, request, mqremoting::RemotingCommand::ResponseTo(request, code, remark));
}

// The response code a Java broker gives for a store error: kInvalidArgument -> MESSAGE_ILLEGAL,
// kResourceExhausted (disk full) -> SERVICE_NOT_AVAILABLE, kBusy -> SYSTEM_BUSY,
// kNotFound -> SYSTEM_ERROR ... (the remark carries the store's message).
int32_t ResponseCodeOf(const mqstore::Status& status);

}  // namespace mqbroker

#endif  // MQBROKER_PROCESSOR_H_
