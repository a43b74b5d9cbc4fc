// LitePullConsumer: RocketMQ's DefaultLitePullConsumer. The application asks for messages
// (Poll) instead of registering a listener; the consumer pulls its queues in the background
// (long polling, one pull per queue at a time) into a bounded buffer, and Poll hands out what
// is there. Offsets advance when Poll returns messages and are committed to the brokers
// automatically (auto_commit) or by CommitSync / Commit. Seek moves a queue anywhere between
// its min and max offset.
//
// One of two modes per consumer:
//   Subscribe(topic, tags), before or after Start (Unsubscribe(topic) undoes it): the
//     group's members share the topic's queues (rebalance every rebalance_interval and at
//     once when the broker says the members changed), as a push consumer's group does; in
//     broadcasting (message_model) every member takes every queue instead.
//   Assign(queues): exactly those queues, no group membership and no rebalance.
// Offsets are committed to the brokers (clustering) or to a local file (broadcasting).
//
//   LitePullConsumerOptions options;
//   options.namesrv_addr = "127.0.0.1:9876";
//   options.group = "CID_ORDERS";
//   LitePullConsumer consumer(options);
//   consumer.Subscribe("Orders", "TagA || TagB");
//   consumer.Start();
//   while (running) {
//     Result<std::vector<ReceivedMessage>> messages = consumer.Poll(std::chrono::seconds(1));
//     if (!messages.ok()) break;  // shut down
//     for (const ReceivedMessage& m : *messages) Process(m);
//   }  // auto_commit: what earlier Polls returned is committed by the next Polls
//   consumer.Shutdown();
//
// Delivery is at least once: a member that crashes, or a queue moved to another member by a
// rebalance, may see again what was polled but not yet committed. With auto_commit the
// committed offset of a queue is, at most, what Polls before the latest one returned (Java's
// maybeAutoCommit), plus everything at Shutdown and when a rebalance moves the queue away.
//
// Threads: Poll is meant to be called from one thread at a time (several at once are safe,
// but then one queue's messages are split between callers, out of order). Everything else
// (Subscribe, Unsubscribe, Seek, Commit, Pause, Resume, Assignment, ...) may be called from
// any thread, also while another thread is in Poll. No call throws. Design:
// docs/design/0012-lite-pull-consumer.md.
#ifndef MQCLIENT_LITE_PULL_CONSUMER_H_
#define MQCLIENT_LITE_PULL_CONSUMER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mqclient/allocate_strategy.h"
#include "mqclient/message.h"
#include "mqclient/push_consumer.h"  // ConsumeFromWhere, MessageModel
#include "mqstore/status.h"
#include "remoting/transport.h"

namespace mqclient {

// Java's names (DefaultLitePullConsumer) in the comments.
struct LitePullConsumerOptions {
  std::string namesrv_addr;            // namesrvAddr: "host:port;host:port"
  std::string group = "CID_MQCLIENT";  // consumerGroup
  // messageModel. Clustering: the members of the group share the queues (subscribe mode) and
  // the offsets live on the brokers. Broadcasting: every member takes every queue of the
  // subscribed topics, and each keeps its offsets in local_offset_path (both modes), so the
  // brokers keep none for the group.
  MessageModel message_model = MessageModel::kClustering;
  // Broadcasting only: the offset file (docs/format/client-offsets.md), as PushConsumer's.
  // Empty means $HOME/.mqclient_offsets/<group>/offsets.json. Members of one group on one
  // host need their own files.
  std::string local_offset_path;
  // consumeFromWhere: where a queue starts when the group has no committed offset for it.
  ConsumeFromWhere consume_from_where = ConsumeFromWhere::kLastOffset;
  // consumeTimestamp, for kTimestamp; 0 means half an hour before Start.
  int64_t consume_timestamp_ms = 0;
  // allocateMessageQueueStrategy (subscribe mode); null means AllocateAveragely().
  std::shared_ptr<const AllocateStrategy> allocate_strategy;

  int pull_batch_size = 10;  // pullBatchSize: messages asked for per pull, at most per Poll
  // Flow control: a queue is not pulled while the buffer holds more than
  // pull_threshold_for_queue of its messages (pullThresholdForQueue), more than
  // pull_threshold_size_for_queue of its body bytes (pullThresholdSizeForQueue, 100 MiB), a
  // span (highest - lowest offset held) above consume_max_span (consumeMaxSpan), or more than
  // pull_threshold_for_all messages of all queues (pullThresholdForAll); it is checked again
  // after pull_delay_on_flow_control. So at most a threshold plus one pull batch is held.
  int pull_threshold_for_queue = 1000;
  uint64_t pull_threshold_size_for_queue = 100ull << 20;
  int pull_threshold_for_all = 10000;
  int consume_max_span = 2000;

  bool auto_commit = true;                               // autoCommit
  std::chrono::milliseconds auto_commit_interval{5000};  // autoCommitIntervalMillis
  std::chrono::milliseconds poll_timeout{5000};          // pollTimeoutMillis: Poll()

  std::chrono::milliseconds rebalance_interval{20000};      // the rebalance service's 20 s
  std::chrono::milliseconds heartbeat_interval{30000};      // heartbeatBrokerInterval
  std::chrono::milliseconds route_refresh_interval{30000};  // topicMetadataCheckIntervalMillis
  // brokerSuspendMaxTimeMillis: how long the broker holds a pull with nothing to return; the
  // pull times out after that plus long_poll_timeout_margin (consumerTimeoutMillisWhenSuspend
  // 30 s = 20 s + 10 s).
  std::chrono::milliseconds broker_suspend_max{20000};
  std::chrono::milliseconds long_poll_timeout_margin{10000};
  std::chrono::milliseconds call_timeout{3000};  // every other request
  // pullTimeDelayMillsWhenException; PULL_TIME_DELAY_MILLS_WHEN_FLOW_CONTROL.
  std::chrono::milliseconds pull_delay_on_error{1000};
  std::chrono::milliseconds pull_delay_on_flow_control{50};

  // Transport threads shared with other clients of this process (null: its own thread).
  std::shared_ptr<mqremoting::TransportThreads> transport_threads;
};

class LitePullConsumer {
 public:
  explicit LitePullConsumer(LitePullConsumerOptions options);
  ~LitePullConsumer();  // Shutdown()
  LitePullConsumer(const LitePullConsumer&) = delete;
  LitePullConsumer& operator=(const LitePullConsumer&) = delete;

  // Subscribe mode; several topics may be subscribed, a second call for a topic replaces the
  // first. `expression`: "*" (or empty) for every message, or tags joined by "||"; sent with
  // every pull and re-checked on each message received. After Start it takes effect before
  // returning (it runs on the consumer's background thread, so it waits for the work in
  // progress there: at worst a broker call's call_timeout): a new topic's route is fetched,
  // the brokers get a heartbeat and the topic's share of queues is taken (a topic that does
  // not exist yet is picked up by the route refresh, as at Start); a new expression for a
  // topic already held restarts its queues at their consumed offsets, so no message
  // buffered under the old expression is polled later. kInvalidArgument for an empty topic
  // or an expression without tags, kNotSupported for SQL92, kFailedPrecondition after Assign
  // or SetSubExpressionForAssign, or after Shutdown.
  Status Subscribe(const std::string& topic, const std::string& expression = "*");
  // Subscribe mode (Java's unsubscribe), before or after Start. After Start, before
  // returning: the topic's queues stop being pulled and their buffered messages are dropped
  // (with auto_commit, what Polls took of them is committed first, as when a rebalance moves
  // a queue away); the brokers get a heartbeat without the topic (a broker that serves none
  // of the topics left gets UNREGISTER_CLIENT instead); no later rebalance or route refresh
  // takes the topic again (waits as Subscribe after Start does). A Poll running at the same
  // time may still return messages of it.
  // As in Java, the members of a group should subscribe alike: another member that still
  // subscribes to the topic keeps allocating part of its queues to this one, which leaves
  // them unread. kNotFound for a topic that is not subscribed (Java ignores it; here a
  // misspelt topic should not pass for done), kFailedPrecondition after Assign or
  // SetSubExpressionForAssign, or after Shutdown.
  Status Unsubscribe(const std::string& topic);
  // Assign mode: consume exactly `queues` (every message of them), no rebalance. Before or
  // after Start; a later call replaces the assignment (queues left out stop being pulled,
  // and with auto_commit their consumed offsets are committed). kInvalidArgument for an empty
  // list or a queue without topic or broker name, kFailedPrecondition after Subscribe or
  // after Shutdown.
  Status Assign(std::vector<MessageQueue> queues);
  // Assign mode: pull only the messages of `topic` whose tag `expression` takes ("*" or
  // tags joined by "||", as Subscribe; Java's setSubExpressionForAssign). The broker filters
  // and each message is re-checked here; filtered-out messages count as consumed. Before
  // Start; a second call for a topic replaces the first. kInvalidArgument for an empty topic
  // or an expression without tags, kFailedPrecondition after Start or after Subscribe.
  Status SetSubExpressionForAssign(const std::string& topic, const std::string& expression);

  // Connects, and in subscribe mode joins the group (HEART_BEAT as CONSUME_ACTIVELY, with
  // the message model) and runs the first rebalance before returning; the queues held then
  // start at the committed offsets (the group's on the brokers, or the local file's in
  // broadcasting), or per consume_from_where without one, and are pulled in the background.
  // A subscribed topic that does not exist yet is picked up by the periodic route refresh.
  // kInvalidArgument for bad options and kCorruption for a broadcasting offset file that is
  // not this group's (both before anything starts: the consumer may be started again once
  // fixed); the transport error when no name server answers. Otherwise once only: a
  // consumer that was started (or failed to) cannot start again.
  Status Start();
  // Stops pulling, commits the consumed offsets (auto_commit), leaves the group so the
  // other members take over its queues at once, and wakes a Poll in progress (which then
  // answers kFailedPrecondition). Messages pulled but not polled are dropped; the next owner
  // of their queue gets them. Idempotent.
  void Shutdown();

  // Up to pull_batch_size buffered messages, of one or several queues, each queue's in queue
  // order; waits up to `timeout` for some and then answers an empty vector. Messages of a
  // paused queue stay buffered until it is resumed. With auto_commit, a Poll made at least
  // auto_commit_interval after the last commit first commits (oneway, in the background)
  // what earlier Polls returned. kFailedPrecondition before Start and after Shutdown,
  // kInvalidArgument for a negative timeout.
  Result<std::vector<ReceivedMessage>> Poll(std::chrono::milliseconds timeout);
  Result<std::vector<ReceivedMessage>> Poll();  // waits options.poll_timeout

  // Moves `queue` (one of Assignment()) to `offset`: its buffered messages are dropped, its
  // pulls restart there, and its consumed offset becomes `offset` (committed like any other).
  // Once Seek returns, no Poll returns a message of the queue pulled before the seek (a Poll
  // running at the same time may have taken them already). kInvalidArgument when `offset` is
  // outside [min offset, max offset] of the queue, kFailedPrecondition when the queue is not
  // assigned to this consumer or the consumer is not running; a broker error as it comes.
  Status Seek(const MessageQueue& queue, int64_t offset);
  Status SeekToBegin(const MessageQueue& queue);  // the queue's min offset
  Status SeekToEnd(const MessageQueue& queue);    // its max offset: only messages sent later
  // The offset of the first message of `queue` stored at or after `timestamp_ms` (the max
  // offset when there is none); a Seek target. Needs a running consumer, not an assigned queue.
  Result<int64_t> OffsetForTimestamp(const MessageQueue& queue, int64_t timestamp_ms);

  // Paused queues are not pulled and Poll returns none of their messages (what is buffered
  // stays) until resumed. The pause belongs to the queue, not to this assignment: a paused
  // queue a rebalance gives to this consumer later starts paused. Unknown queues are fine.
  void Pause(const std::vector<MessageQueue>& queues);
  void Resume(const std::vector<MessageQueue>& queues);

  // The queues this consumer holds now (assign mode: as assigned; subscribe mode: as the last
  // rebalance gave it), sorted.
  std::vector<MessageQueue> Assignment() const;
  // Every readable queue of `topic` (a fresh route), sorted. kNotFound for an unknown topic,
  // kFailedPrecondition when not running.
  Result<std::vector<MessageQueue>> FetchMessageQueues(const std::string& topic);

  // The committed offset of `queue`: the group's on its broker, or in broadcasting the one
  // this member saved in its offset file last; kNotFound when there is none.
  Result<int64_t> Committed(const MessageQueue& queue);
  // Commits the consumed offset of every queue held, synchronously (Java's commitSync):
  // OK, or the first failure after trying them all (broadcasting: the file's save error).
  // kFailedPrecondition when not running.
  Status CommitSync();
  // Commits `offset` (the next offset to consume) for `queue`, one of Assignment(),
  // synchronously. With auto_commit, a later automatic commit replaces it by the consumed
  // offset; meant for auto_commit = false. kInvalidArgument for a negative offset,
  // kFailedPrecondition when the queue is not assigned or the consumer is not running.
  Status Commit(const MessageQueue& queue, int64_t offset);

  // "<ip>@<pid>#lite<n>": what GET_CONSUMER_LIST_BY_GROUP lists for this member.
  const std::string& client_id() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mqclient

#endif  // MQCLIENT_LITE_PULL_CONSUMER_H_
