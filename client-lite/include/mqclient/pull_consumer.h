// PullConsumer: the caller picks queues and offsets; the consumer pulls (optionally long
// polling), decodes the records, and commits / fetches group offsets on the broker. It
// heartbeats as a CONSUME_ACTIVELY consumer of the topics it was told about.
#ifndef MQCLIENT_PULL_CONSUMER_H_
#define MQCLIENT_PULL_CONSUMER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "mqclient/message.h"
#include "mqclient/name_server_client.h"
#include "mqstore/status.h"
#include "remoting/transport.h"

namespace mqclient {

struct PullConsumerOptions {
  std::string namesrv_addr;
  std::string group = "CID_MQCLIENT";
  std::string subscription = "*";  // tag expression sent with every pull
  std::chrono::milliseconds call_timeout{3000};
  // Transport threads shared with other clients of this process (null: its own thread).
  std::shared_ptr<mqremoting::TransportThreads> transport_threads;
};

enum class PullStatus { kFound, kNoNewMessage, kNoMatchedMessage, kOffsetIllegal };
std::string_view PullStatusName(PullStatus status);

struct PullResult {
  PullStatus status = PullStatus::kNoNewMessage;
  int64_t next_begin_offset = 0;
  int64_t min_offset = 0;
  int64_t max_offset = 0;
  std::vector<ReceivedMessage> messages;
};

class PullConsumer {
 public:
  explicit PullConsumer(PullConsumerOptions options);
  ~PullConsumer();
  PullConsumer(const PullConsumer&) = delete;
  PullConsumer& operator=(const PullConsumer&) = delete;

  Status Start();
  void Shutdown();

  // Every readable queue of `topic` (refreshing its route), and remembers the topic for
  // heartbeats.
  Result<std::vector<MessageQueue>> FetchQueues(const std::string& topic);

  // Pulls up to `max_messages` from `offset`. With `long_poll` > 0 the broker holds the
  // request up to that long when nothing is there yet.
  Result<PullResult> Pull(const MessageQueue& queue, int64_t offset, int32_t max_messages,
                          std::chrono::milliseconds long_poll = std::chrono::milliseconds(0));

  Status CommitOffset(const MessageQueue& queue, int64_t offset);
  // The group's committed offset; kNotFound when it has none.
  Result<int64_t> FetchCommittedOffset(const MessageQueue& queue);
  // The queue's max offset (the offset the next message will get).
  Result<int64_t> FetchMaxOffset(const MessageQueue& queue);

  // HEART_BEAT to every master of the topics seen so far.
  Status SendHeartbeat();

 private:
  Result<std::string> BrokerAddress(const MessageQueue& queue);
  Result<mqremoting::RemotingCommand> CallBroker(const MessageQueue& queue,
                                                 mqremoting::RemotingCommand request,
                                                 std::chrono::milliseconds timeout);

  const PullConsumerOptions options_;
  std::unique_ptr<mqremoting::RemotingClient> remoting_;
  std::unique_ptr<NameServerClient> name_server_;
  std::string client_id_;
  std::mutex mu_;
  std::set<std::string> topics_;  // guarded by mu_
};

}  // namespace mqclient

#endif  // MQCLIENT_PULL_CONSUMER_H_
