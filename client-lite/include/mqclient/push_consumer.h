// PushConsumer: RocketMQ's DefaultMQPushConsumer with a concurrent or an orderly listener,
// in clustering (the default) or broadcasting mode. Members of a consumer group share the
// queues of the topics they subscribe to (rebalance); each member long-polls its queues,
// hands what arrives to the listener on a pool of threads, and commits the group's offsets
// to the brokers. A message the listener answers kReconsumeLater is sent back to the broker
// and redelivered through the group's retry topic (%RETRY%<group>) after a growing delay;
// after max_reconsume_times it goes to the dead-letter topic (%DLQ%<group>). Delivery is at
// least once: after a crash or a rebalance a member may see messages whose consumption was
// not yet committed. When an admin resets the group's offsets (the broker then sends
// RESET_CONSUMER_CLIENT_OFFSET), the queues a member holds restart from the new offsets.
//
//   PushConsumerOptions options;
//   options.namesrv_addr = "127.0.0.1:9876";
//   options.group = "CID_ORDERS";
//   PushConsumer consumer(options);
//   consumer.Subscribe("Orders", "TagA || TagB");
//   consumer.RegisterListener([](const std::vector<ReceivedMessage>& messages) {
//     ...;
//     return ConsumeStatus::kSuccess;
//   });
//   consumer.Start();
//
// Defaults are the Java client's (docs/design/0011-push-consumer.md).
#ifndef MQCLIENT_PUSH_CONSUMER_H_
#define MQCLIENT_PUSH_CONSUMER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mqclient/allocate_strategy.h"
#include "mqclient/message.h"
#include "mqstore/status.h"
#include "remoting/transport.h"

namespace mqclient {

// Where a member starts on a queue its group has no committed offset for.
enum class ConsumeFromWhere {
  kLastOffset,   // the queue's end: only messages sent from now on (the retry topic: from 0)
  kFirstOffset,  // the queue's first stored message
  kTimestamp,    // the first message stored at or after consume_timestamp_ms
};

// Clustering: the group's members share the queues, offsets live on the brokers.
// Broadcasting: every member consumes every message; each keeps its offsets in a local file,
// and a failed message is not retried (as in Java).
enum class MessageModel { kClustering, kBroadcasting };

enum class ConsumeStatus { kSuccess, kReconsumeLater };

// Called on a consume thread with 1..consume_batch_max_size messages of one queue.
// Exceptions it throws count as kReconsumeLater.
using MessageListener = std::function<ConsumeStatus(const std::vector<ReceivedMessage>&)>;

enum class OrderlyConsumeStatus { kSuccess, kSuspendCurrentQueueAMoment };

// Orderly: called with 1..consume_batch_max_size messages of one queue in queue order; never
// twice at once for one queue, and in clustering only while this member holds the queue's
// broker lock (LOCK_BATCH_MQ), so no other member consumes the queue meanwhile. On
// kSuspendCurrentQueueAMoment (or an exception) the queue pauses for suspend_time and the
// same messages come again (reconsume_times + 1) before anything after them.
using OrderlyMessageListener =
    std::function<OrderlyConsumeStatus(const std::vector<ReceivedMessage>&)>;

struct PushConsumerOptions {
  std::string namesrv_addr;  // "host:port;host:port"
  std::string group = "CID_MQCLIENT";
  MessageModel message_model = MessageModel::kClustering;
  // Broadcasting only: the offset file (docs/format/client-offsets.md). Empty means
  // $HOME/.mqclient_offsets/<group>/offsets.json. Members of one group on one host need
  // their own files.
  std::string local_offset_path;
  ConsumeFromWhere consume_from_where = ConsumeFromWhere::kLastOffset;
  // For kTimestamp; 0 means half an hour before Start, as Java's consumeTimestamp.
  int64_t consume_timestamp_ms = 0;
  // Which queues this member takes; null means AllocateAveragely(), Java's default.
  std::shared_ptr<const AllocateStrategy> allocate_strategy;

  int consume_threads = 20;                               // consumeThreadMin
  int consume_batch_max_size = 1;                         // consumeMessageBatchMaxSize
  int pull_batch_size = 32;                               // pullBatchSize
  int pull_threshold_for_queue = 1000;                    // messages held per queue
  uint64_t pull_threshold_size_for_queue = 100ull << 20;  // body bytes held per queue
  int consume_concurrently_max_span = 2000;               // highest - lowest offset held
  // Deliveries before a message goes to %DLQ%<group>; -1 means 16 for a concurrent listener
  // and no limit for an orderly one, as in Java.
  int max_reconsume_times = -1;
  // Orderly: how long a queue pauses after kSuspendCurrentQueueAMoment.
  std::chrono::milliseconds suspend_time{1000};
  // Orderly clustering: the broker locks of the queues held are renewed this often, and a
  // lock not renewed for lock_max_age is treated as lost (the broker's expires at 60 s).
  std::chrono::milliseconds lock_interval{20000};
  std::chrono::milliseconds lock_max_age{30000};

  std::chrono::milliseconds rebalance_interval{20000};
  std::chrono::milliseconds heartbeat_interval{30000};
  std::chrono::milliseconds persist_offset_interval{5000};
  std::chrono::milliseconds route_refresh_interval{30000};
  // How long the broker holds a pull with nothing to return; the call times out after
  // that plus long_poll_timeout_margin.
  std::chrono::milliseconds broker_suspend_max{15000};
  std::chrono::milliseconds long_poll_timeout_margin{15000};
  std::chrono::milliseconds call_timeout{3000};
  std::chrono::milliseconds pull_delay_on_error{3000};
  std::chrono::milliseconds pull_delay_on_flow_control{50};
  // A message whose send-back failed is consumed again locally after this.
  std::chrono::milliseconds consume_again_delay{5000};
  // Concurrent: a message whose listener call started more than consume_timeout ago and has
  // not returned is sent back for retry (delay level 3) and leaves the process queue, so the
  // committed offset moves past it; the call's result, when it comes, is ignored for it
  // (Java's consumeTimeout, 15 min). Broadcasting: it is dropped instead. Checked every
  // min(consume_timeout, consume_timeout_check_interval) (Java: every consume_timeout), the
  // interval 0 meaning consume_timeout; consume_timeout 0 turns it off. Orderly listeners
  // are not timed (as in Java).
  std::chrono::milliseconds consume_timeout{std::chrono::minutes(15)};
  std::chrono::milliseconds consume_timeout_check_interval{60000};

  // Transport threads shared with other clients of this process (null: its own thread).
  std::shared_ptr<mqremoting::TransportThreads> transport_threads;
};

// What a member is doing, for monitoring and tests.
struct PushConsumerStats {
  std::vector<MessageQueue> assigned_queues;  // sorted
  uint64_t messages_held = 0;                 // pulled, not yet consumed
  uint64_t rebalances = 0;                    // rebalances that changed the assignment
};

class PushConsumer {
 public:
  explicit PushConsumer(PushConsumerOptions options);
  ~PushConsumer();  // Shutdown()
  PushConsumer(const PushConsumer&) = delete;
  PushConsumer& operator=(const PushConsumer&) = delete;

  // Before Start. `expression` is a tag expression: "*" (or empty) for every message, or
  // tags joined by "||". kInvalidArgument for an empty topic or an expression without tags,
  // kNotSupported for SQL92.
  Status Subscribe(const std::string& topic, const std::string& expression = "*");
  // Before Start; one of the two.
  void RegisterListener(MessageListener listener);
  void RegisterOrderlyListener(OrderlyMessageListener listener);

  // Needs a listener and at least one subscription. Heartbeats to the brokers of the
  // subscribed topics, then rebalances and starts pulling; returns once the first
  // rebalance has run. A topic that does not exist yet is consumed once the periodic route
  // refresh finds it (route_refresh_interval), as in Java. Fails when no name server
  // answers; a consumer that failed to start cannot be started again.
  Status Start();
  // Stops pulling, lets running listener calls finish, commits the offsets of what was
  // consumed, and unregisters from the brokers so the other members take over its queues.
  // Messages pulled but not consumed are delivered again to whoever gets their queue.
  // Not from inside the listener (it waits for the listener threads).
  void Shutdown();

  // Rebalances now instead of at the next interval.
  void RebalanceNow();

  // "<ip>@<pid>#<n>": what GET_CONSUMER_LIST_BY_GROUP lists for this member.
  const std::string& client_id() const;
  PushConsumerStats Stats() const;

  // Tests only: handles `request` as if a broker had sent it over `connection` (an answer
  // goes to connection->Send), e.g. RESET_CONSUMER_CLIENT_OFFSET without a broker that sends
  // one.
  void HandleBrokerRequestForTesting(const std::shared_ptr<mqremoting::Connection>& connection,
                                     mqremoting::RemotingCommand request);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mqclient

#endif  // MQCLIENT_PUSH_CONSUMER_H_
