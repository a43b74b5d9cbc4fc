// Producer: sends messages synchronously with SEND_MESSAGE_V2, picking writable queues of
// brokers that have a master round robin and retrying failed sends on another queue (another
// broker when there is one). Each message gets its UNIQ_KEY from the producer itself.
#ifndef MQCLIENT_PRODUCER_H_
#define MQCLIENT_PRODUCER_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mqclient/message.h"
#include "mqclient/name_server_client.h"
#include "mqstore/status.h"
#include "remoting/transport.h"
#include "remoting/unique_message_id.h"

namespace mqclient {

struct ProducerOptions {
  std::string namesrv_addr;  // "host:port;host:port"
  std::string group = "PID_MQCLIENT";
  std::chrono::milliseconds send_timeout{3000};
  int retry_times_when_send_failed = 2;  // extra attempts after the first
  // Topic whose route is used (and named as defaultTopic) when the topic has no route yet,
  // so the broker may create it.
  std::string create_topic_key = "TBW102";
  int32_t default_topic_queue_nums = 4;
  std::array<uint8_t, 4> host_ipv4 = {127, 0, 0, 1};  // first bytes of minted unique ids
};

enum class SendStatus { kSendOk, kFlushDiskTimeout, kFlushSlaveTimeout, kSlaveNotAvailable };
std::string_view SendStatusName(SendStatus status);

struct SendResult {
  SendStatus status = SendStatus::kSendOk;
  std::string msg_id;     // offset message id from the broker
  std::string unique_id;  // UNIQ_KEY minted by this producer
  MessageQueue queue;
  int64_t queue_offset = 0;
  int attempts = 1;  // sends tried, retries included
};

class Producer {
 public:
  explicit Producer(ProducerOptions options);
  ~Producer();  // Shutdown()
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // kInvalidArgument without a name server address.
  Status Start();
  void Shutdown();

  // Sends to a queue chosen round robin, retrying elsewhere on failure. Thread-safe.
  Result<SendResult> Send(const Message& message);
  // Sends to one queue (no retry on another queue).
  Result<SendResult> SendToQueue(const Message& message, const MessageQueue& queue);
  // Sends to the next queue round robin without waiting; `done` runs once, on a transport
  // thread (it must not block), with the result. No retry. For load generators.
  using SendCallback = std::function<void(Result<SendResult>)>;
  void SendAsync(const Message& message, SendCallback done);

  NameServerClient* name_server() { return name_server_.get(); }

 private:
  Result<std::vector<MessageQueue>> WritableQueues(const std::string& topic, bool refresh,
                                                   bool* via_default_topic);
  Result<SendResult> SendOnce(const Message& message, const MessageQueue& queue,
                              bool via_default_topic);
  // The broker address and request for one send; `result` gets the queue and unique id.
  Result<std::string> PrepareSend(const Message& message, const MessageQueue& queue,
                                  bool via_default_topic, mqremoting::RemotingCommand* request,
                                  SendResult* result);

  const ProducerOptions options_;
  std::unique_ptr<mqremoting::RemotingClient> remoting_;
  std::unique_ptr<NameServerClient> name_server_;
  mqremoting::UniqueMessageIdMinter minter_;
  std::atomic<uint32_t> next_queue_{0};
  std::atomic<bool> started_{false};
};

}  // namespace mqclient

#endif  // MQCLIENT_PRODUCER_H_
