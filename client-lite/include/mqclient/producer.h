// Producer: sends messages with SEND_MESSAGE_V2, picking writable queues of brokers that have
// a master round robin and retrying failed (synchronous) sends on another queue (another broker
// when there is one), or the queue a selector picks (ordered messages). Each message gets its
// UNIQ_KEY from the producer itself; large bodies are compressed.
//
// Per topic it keeps an immutable "publish info" (the writable queues and each one's master
// address) built once from the route, so a send costs no route copy and no lookup. It is
// rebuilt when the name-server client's routes change (a cheap version check on every send),
// when a failed Send retries (which refreshes the route), and by RefreshRoutes, which a
// background thread runs every `route_refresh_interval` as RocketMQ's clients do every 30 s.
#ifndef MQCLIENT_PRODUCER_H_
#define MQCLIENT_PRODUCER_H_

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "mqclient/client_instance.h"
#include "mqclient/message.h"
#include "mqclient/name_server_client.h"
#include "mqstore/compression.h"
#include "mqstore/status.h"
#include "remoting/transport.h"
#include "remoting/unique_message_id.h"

namespace mqclient {

class LatencyFaultTolerance;

struct ProducerOptions {
  std::string namesrv_addr;  // "host:port;host:port"
  std::string group = "PID_MQCLIENT";
  std::chrono::milliseconds send_timeout{3000};
  int retry_times_when_send_failed = 2;  // extra attempts after the first, on another broker
  // SendAsync: extra attempts after a transport failure or a retryable answer, on the same
  // queue (RocketMQ's retryTimesWhenSendAsyncFailed); with send_latency_fault_enable on a
  // queue picked as for a sync retry (another broker when one is available).
  int retry_times_when_send_async_failed = 2;
  // Send: an answer other than SEND_OK (FLUSH_DISK_TIMEOUT, ...) is retried on another broker
  // too, within retry_times_when_send_failed (RocketMQ's retryAnotherBrokerWhenNotStoreOK).
  bool retry_another_broker_when_not_store_ok = false;
  // Send and SendAsync: a broker that answered slowly is not picked for a while, one that
  // failed for 10 minutes, while another is available (RocketMQ's sendLatencyFaultEnable;
  // docs/design/0008-client-lite.md). SendOneway avoids the brokers the others paused.
  bool send_latency_fault_enable = false;
  // Topic whose route is used (and named as defaultTopic) when the topic has no route yet,
  // so the broker may create it.
  std::string create_topic_key = "TBW102";
  int32_t default_topic_queue_nums = 4;
  std::array<uint8_t, 4> host_ipv4 = {127, 0, 0, 1};  // first bytes of minted unique ids
  // How often the routes of the topics sent to are fetched again (RocketMQ's
  // pollNameServerInterval); 0 = only on demand (a retry, RefreshRoutes).
  std::chrono::milliseconds route_refresh_interval{30000};
  // Transport threads shared with other producers and consumers of this process (null: the
  // producer runs one of its own). See mqremoting::TransportThreads. Not used with
  // `client_instance`, which has its own.
  std::shared_ptr<mqremoting::TransportThreads> transport_threads;
  // The connections (one per broker) and client id shared with the other producers of the
  // instance, as the producers of a Java process share its MQClientInstance (null: the
  // producer opens connections of its own). See client_instance.h.
  std::shared_ptr<ClientInstance> client_instance;
  // Bodies of at least this many bytes are sent compressed when that makes them smaller
  // (RocketMQ's compressMsgBodyOverHowmuch, 4 KiB); 0 = never. Consumers inflate them.
  size_t compress_bodies_from_bytes = 4096;
  // zstd, marked with RocketMQ 5's compression-type bits. Consumers that know only zlib
  // (ali-ons, RocketMQ 4.x clients) need kZlib.
  mqstore::CompressionType compression_type = mqstore::CompressionType::kZstd;
  int compression_level = 5;  // RocketMQ's default; zlib 1..9, zstd 1..22
  // The header encoding of send requests. RocketMQ's binary layout costs both ends less than
  // JSON (no escaping of the properties' separators, no parsing); every RocketMQ broker and
  // ours read it. Ours, like a RocketMQ 4.x broker, answers in the same type; a 5.x broker
  // answers in JSON. The client reads either.
  mqremoting::SerializeType send_header_type = mqremoting::SerializeType::kRocketMq;
};

// Picks the queue of an ordered send: an index into `queues`, the topic's writable queues in
// RocketMQ's order (by broker name, then queue id), for the send's `arg` (e.g. an order id).
// As RocketMQ's MessageQueueSelector; messages with one arg then share a queue and keep
// their order.
using MessageQueueSelector = std::function<size_t(const std::vector<MessageQueue>& queues,
                                                  const Message& message, std::string_view arg)>;
// RocketMQ's SelectMessageQueueByHash for a String arg: Java's String.hashCode of the arg
// modulo the queue count, so that a Java producer and this one route a key alike.
MessageQueueSelector SelectQueueByHash();
// RocketMQ's SelectMessageQueueByRandom.
MessageQueueSelector SelectQueueByRandom();

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

  // Requests brokers send to this producer (CHECK_TRANSACTION_STATE) go to `handler`, called
  // on a transport thread. Before Start.
  void SetRequestHandler(std::shared_ptr<mqremoting::RequestHandler> handler);

  // kInvalidArgument without a name server address, or when the producer has a request
  // handler and another producer of its group on its client instance has one too. Starts the
  // background route refresh (and heartbeat).
  Status Start();
  // Stops the refresh; SendAsync and SendOneway fail from now on. Without a client instance it
  // closes the producer's connections, so sends in flight complete with an error; on a shared
  // instance, whose connections stay open for the other producers, it waits for them to
  // complete (each within send_timeout). No SendAsync callback runs after it returns. Not
  // from a SendAsync callback.
  void Shutdown();

  // Sends to a queue chosen round robin, retrying elsewhere on failure. Thread-safe.
  Result<SendResult> Send(const Message& message);
  // Sends to one queue (no retry on another queue).
  Result<SendResult> SendToQueue(const Message& message, const MessageQueue& queue);
  // Sends `messages` as one SEND_BATCH_MESSAGE to one queue, retried as Send: stored together
  // in order, with consecutive queue offsets. All to one topic, not a retry topic, none with
  // a delay level (kInvalidArgument), bodies not compressed (as RocketMQ's batches). The result has
  // the first queue offset, and `msg_id` / `unique_id` list every message's ids, comma-separated.
  Result<SendResult> Send(const std::vector<Message>& messages);
  // Sends to the next queue round robin without waiting; `done` runs once with the result,
  // on a transport thread (it must not block), or at once on this thread when the send cannot
  // start. A transport failure or retryable answer is retried on the same queue up to
  // retry_times_when_send_async_failed times (not after Shutdown); with latency-fault
  // avoidance each attempt's latency is recorded and a retry may go to another broker. `done` may
  // call SendAsync again (a closed-loop load generator does), as long as the topic was sent to
  // before from another thread: a transport thread cannot wait for a route, so a topic's first send
  // there fails.
  using SendCallback = std::function<void(Result<SendResult>)>;
  void SendAsync(const Message& message, SendCallback done);
  // Sends to the next queue round robin without asking for an answer (RocketMQ's
  // sendOneway): OK once handed to the transport; nothing says whether it was stored.
  Status SendOneway(const Message& message);
  // Sends to the queue `selector` picks for `arg` (ordered messages). No retry on another
  // queue, which would break the order; kInvalidArgument when the selector picks no queue.
  Result<SendResult> Send(const Message& message, const MessageQueueSelector& selector,
                          std::string_view arg);

  // HEART_BEAT with this producer's group to the master of every broker of the topics sent to
  // so far (the background refresh sends it every route_refresh_interval, as Java's every
  // 30 s); a broker then knows a connection of the group, to ask about transactions. The
  // first error, after trying every broker.
  Status SendHeartbeat();
  // SendHeartbeat when a broker of the topics sent to has not had one from this producer yet
  // (what a transactional send needs: the broker must know a connection of the group before
  // a half message can be left unresolved); OK at once otherwise.
  Status SendHeartbeatToNewBrokers();

  // Fetches the route of every topic sent to so far again and rebuilds the publish info of
  // those whose route changed (what the background refresh does). The first error, after
  // trying every topic; a topic whose route cannot be fetched keeps its last publish info.
  Status RefreshRoutes();
  // How many times a topic's publish info was built (for tests and diagnostics).
  int64_t publish_info_builds() const { return publish_info_builds_.load(); }

  NameServerClient* name_server() { return name_server_.get(); }

 private:
  struct PublishInfo;
  using PublishInfoPtr = std::shared_ptr<const PublishInfo>;
  using RoutePtr = std::shared_ptr<const mqremoting::TopicRouteData>;

  // The publish info of `topic`: the cached one while the routes have not changed, else one
  // built again (fetching the route when it is not cached). `refresh` fetches the route first.
  // When the build fails, a cached one is still returned, unless `refresh`.
  Result<PublishInfoPtr> GetPublishInfo(const std::string& topic, bool refresh);
  // Builds from the cached routes (fetching one that is not cached).
  Result<PublishInfoPtr> BuildPublishInfo(const std::string& topic);
  // The route of `topic`, or of the default topic when the name servers know no such topic
  // yet (its brokers may create it).
  Result<RoutePtr> ResolveRoute(const std::string& topic, bool fetch, bool* via_default_topic);
  Result<SendResult> SendOnce(const Message& message, const MessageQueue& queue,
                              const std::string& address);
  // One SendAsync: what a retry needs again.
  struct AsyncSend;
  void InvokeAsyncSend(std::shared_ptr<AsyncSend> send);
  // A SendAsync call ended (its callback returned, or it never started).
  void EndAsyncSend();
  // Sends a prepared request and reads the answer (a retryable failure drops the route).
  Result<SendResult> Exchange(mqremoting::RemotingCommand request, SendResult result,
                              const std::string& address);
  // One attempt on a queue; SendWithRetries picks the queues (round robin, another broker
  // after a failure) and gives up after retry_times_when_send_failed more attempts.
  using SendAttempt =
      std::function<Result<SendResult>(const MessageQueue& queue, const std::string& address)>;
  Result<SendResult> SendWithRetries(const std::string& topic, const SendAttempt& attempt);
  // The index of the queue of `info` to send to next: round robin, avoiding `failed_broker`
  // (may be empty) and, with latency-fault avoidance, paused brokers while another will do.
  size_t PickQueue(const PublishInfo& info, const std::string& failed_broker);
  // With latency-fault avoidance: an attempt on `broker` started at `started_at` ended with
  // `outcome`.
  void RecordLatency(const std::string& broker, std::chrono::steady_clock::time_point started_at,
                     const Status& outcome);
  // The header every send carries: SEND_MESSAGE_V2's fields a..m, encoded as
  // options_.send_header_type says.
  void AddSendHeader(const MessageQueue& queue, int32_t sys_flag, int32_t flag,
                     std::string properties, bool batch,
                     mqremoting::RemotingCommand* request) const;
  // The SEND_BATCH_MESSAGE request for `messages`.
  Status PrepareBatch(const std::vector<Message>& messages, const MessageQueue& queue,
                      mqremoting::RemotingCommand* request, SendResult* result);
  // The request for one send; `result` gets the queue and unique id. `extra_sys_flag` and
  // `extra_properties` (encoded) are added, for half messages.
  void PrepareSend(const Message& message, const MessageQueue& queue,
                   mqremoting::RemotingCommand* request, SendResult* result,
                   int32_t extra_sys_flag = 0, std::string_view extra_properties = {});
  // Send, as a transaction's half message (TransactionProducer).
  friend class TransactionProducer;
  Result<SendResult> SendHalf(const Message& message, std::string_view extra_properties);
  // The body as sent: compressed (and `*sys_flag` marked) when large and that shrinks it.
  std::string BodyToSend(const Message& message, int32_t* sys_flag) const;
  void RefreshLoop();

  const ProducerOptions options_;
  std::shared_ptr<mqremoting::RequestHandler> request_handler_;
  std::string client_id_;  // "<ip>@<pid>#p<n>" (the instance's when shared), in heartbeats
  std::unique_ptr<mqremoting::RemotingClient> own_remoting_;  // without a client instance
  mqremoting::RemotingClient* remoting_ = nullptr;            // own or the instance's
  std::unique_ptr<NameServerClient> name_server_;
  mqremoting::UniqueMessageIdMinter minter_;
  std::atomic<uint32_t> next_queue_{0};
  std::atomic<bool> started_{false};
  // SendAsync calls whose callback has not returned yet; Shutdown waits for none.
  std::atomic<int64_t> async_in_flight_{0};
  std::mutex async_mu_;
  std::condition_variable async_ended_;  // the last one ended after Shutdown began
  std::atomic<int64_t> publish_info_builds_{0};
  std::unique_ptr<LatencyFaultTolerance> faults_;  // with send_latency_fault_enable

  std::mutex publish_mu_;
  std::map<std::string, PublishInfoPtr, std::less<>> publish_;  // guarded by publish_mu_

  std::mutex heartbeat_mu_;
  std::set<std::string> heartbeat_sent_;  // brokers a heartbeat reached; guarded by heartbeat_mu_

  std::mutex refresh_mu_;
  std::condition_variable refresh_wake_;
  bool refresh_stop_ = false;  // guarded by refresh_mu_
  std::thread refresher_;
};

}  // namespace mqclient

#endif  // MQCLIENT_PRODUCER_H_
