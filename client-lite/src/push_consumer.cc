#include "mqclient/push_consumer.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "consumer_requests.h"
#include "local_offset_store.h"
#include "mqclient/name_server_client.h"
#include "mqstore/send_back.h"
#include "process_queue.h"
#include "rebalance_util.h"
#include "remoting/codes.h"
#include "remoting/consumer_admin_bodies.h"
#include "remoting/heartbeat_data.h"
#include "remoting/lock_batch_body.h"
#include "remoting/log_sink.h"
#include "remoting/tag_filter.h"
#include "task_executor.h"

namespace mqclient {

using mqremoting::RemotingCommand;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;
using Millis = std::chrono::milliseconds;

namespace {

// Java's default for maxReconsumeTimes = -1 in concurrent mode.
constexpr int kDefaultMaxReconsumeTimes = 16;
// An OFFSET_ILLEGAL queue is dropped and re-created by a rebalance after this (Java: 10 s).
constexpr Millis kOffsetIllegalRecreateDelay{10000};
// Orderly: a consume task hands its turn on after this long (Java: 60 s), and asks again for
// a queue's lock it was refused after kRelockRetry.
constexpr Millis kMaxConsumeContinuously{60000};
constexpr Millis kRelockRetry{1000};
// Orderly: how long a rebalance waits for a running listener before handing a queue over.
constexpr Millis kHandOverWait{1000};
// Consume timeout: a timed-out message is sent back with this delay level, and at most this
// many per queue per check (Java's cleanExpiredMsg: level 3, 16).
constexpr int kConsumeTimeoutDelayLevel = 3;
constexpr size_t kMaxExpiredPerCheck = 16;

}  // namespace

class PushConsumer::Impl {
 public:
  explicit Impl(PushConsumerOptions options) : options_(std::move(options)) {
    if (!options_.allocate_strategy) options_.allocate_strategy = AllocateAveragely();
    client_id_ = NewConsumerClientId("");
  }
  ~Impl() { Shutdown(); }

  Status Subscribe(const std::string& topic, const std::string& expression);
  void RegisterListener(MessageListener listener) { listener_ = std::move(listener); }
  void RegisterOrderlyListener(OrderlyMessageListener listener) {
    orderly_listener_ = std::move(listener);
  }
  Status Start();
  void Shutdown();
  void RebalanceNow();
  const std::string& client_id() const { return client_id_; }
  PushConsumerStats Stats() const;
  // A request a broker sent this client (transport thread: must not block).
  void OnBrokerRequest(const std::shared_ptr<mqremoting::Connection>& connection,
                       RemotingCommand request);

 private:
  using Subscription = ConsumerSubscription;
  // One queue's pull loop: what to pull next. One pull per queue is in flight at a time.
  struct PullTask {
    MessageQueue queue;
    std::shared_ptr<ProcessQueue> process_queue;
    int64_t next_offset = 0;
  };
  // Passes the broker's requests to OnBrokerRequest.
  class BrokerRequestHandler;

  // Routes, heartbeats, membership.
  // Refreshes every subscribed topic's route. OK when a name server knew one of them,
  // kNotFound when it knew none, else the error of the first failed lookup. Topics whose
  // route appeared (unknown before) are counted in `*appeared`.
  Status RefreshRoutes(int* appeared = nullptr);
  Status SendHeartbeat();

  // Rebalance (scheduler thread only).
  void Rebalance();
  void RebalanceTopic(const std::string& topic);
  Result<int64_t> ComputePullOffset(const MessageQueue& queue);

  // Pull loop (any thread).
  void Pull(PullTask task);
  void PullLater(PullTask task, Millis delay);
  void OnPulled(PullTask task, Result<RemotingCommand> response);
  const Subscription* FindSubscription(const std::string& topic) const {
    return mqclient::FindSubscription(subscriptions_, topic);
  }

  // Consumption (consume threads).
  void SubmitConsume(const MessageQueue& queue, const std::shared_ptr<ProcessQueue>& pq,
                     std::vector<ReceivedMessage> messages);
  void Consume(const MessageQueue& queue, const std::shared_ptr<ProcessQueue>& pq,
               std::vector<ReceivedMessage> messages);
  // CONSUMER_SEND_MSG_BACK; delay level 0 lets the broker pick, -1 sends to the DLQ.
  bool SendBack(const MessageQueue& queue, const ReceivedMessage& message, int delay_level = 0);

  // Consume timeout (scheduler thread): messages whose listener call has run longer than
  // consume_timeout are sent back and leave their process queues.
  void ExpireStuckMessages();

  // RESET_CONSUMER_CLIENT_OFFSET (scheduler thread): each queue of `offsets` in `topic` that
  // this member holds restarts from its new offset with a fresh process queue.
  void ResetOffsets(const std::string& topic, const mqremoting::QueueOffsets& offsets);

  // Orderly consumption.
  bool orderly() const { return static_cast<bool>(orderly_listener_); }
  bool needs_locks() const { return orderly() && !broadcasting(); }
  void SubmitOrderly(const MessageQueue& queue, const std::shared_ptr<ProcessQueue>& pq);
  void ConsumeOrderly(const MessageQueue& queue, const std::shared_ptr<ProcessQueue>& pq);
  // LOCK_BATCH_MQ for `queues` (all of one broker); the ones granted.
  std::vector<MessageQueue> LockQueues(const std::string& broker_name,
                                       const std::vector<MessageQueue>& queues);
  void UnlockQueues(const std::string& broker_name, const std::vector<MessageQueue>& queues);
  // The LOCK_BATCH_MQ / UNLOCK_BATCH_MQ body for `queues`.
  std::string LockBody(const std::vector<MessageQueue>& queues) const;
  // Renews the locks of every queue held; a queue whose lock is refused stops consuming.
  void LockAll();

  bool broadcasting() const { return options_.message_model == MessageModel::kBroadcasting; }

  // Offsets. With an `owner`, nothing is recorded once an offset reset replaced it (a
  // listener call that ends after the reset must not move the offset back).
  void UpdateOffset(const MessageQueue& queue, int64_t offset, bool increase_only,
                    const ProcessQueue* owner = nullptr);
  void PersistOffsets(bool oneway);
  void PersistOffset(const MessageQueue& queue, bool oneway);
  // Broadcasting: the offsets of the queues held, merged into the file's table, saved.
  void PersistLocalOffsets();

  PushConsumerOptions options_;
  std::string client_id_;
  MessageListener listener_;
  OrderlyMessageListener orderly_listener_;
  std::vector<Subscription> subscriptions_;  // fixed from Start on
  int64_t sub_version_ = 0;

  std::unique_ptr<mqremoting::RemotingClient> remoting_;
  std::unique_ptr<NameServerClient> name_server_;
  std::unique_ptr<ConsumerGroupCalls> calls_;  // uses remoting_ and name_server_
  std::unique_ptr<TaskExecutor> scheduler_;    // rebalance, heartbeats, delayed pulls
  std::unique_ptr<TaskExecutor> consumers_;    // listener calls
  std::atomic<bool> running_{false};

  mutable std::mutex mu_;
  std::map<MessageQueue, std::shared_ptr<ProcessQueue>> process_queues_;  // guarded by mu_
  std::map<std::string, std::vector<MessageQueue>> topic_queues_;         // sorted; guarded by mu_
  std::map<MessageQueue, int64_t> offsets_;          // to commit; guarded by mu_
  std::unique_ptr<LocalOffsetTable> local_offsets_;  // broadcasting only
  uint64_t rebalances_ = 0;                          // guarded by mu_
};

class PushConsumer::Impl::BrokerRequestHandler : public mqremoting::RequestHandler {
 public:
  explicit BrokerRequestHandler(Impl* impl) : impl_(impl) {}
  void OnRequest(const std::shared_ptr<mqremoting::Connection>& connection,
                 RemotingCommand request) override {
    impl_->OnBrokerRequest(connection, std::move(request));
  }

 private:
  Impl* const impl_;  // outlives the transport: Shutdown stops it first
};

void PushConsumer::Impl::OnBrokerRequest(const std::shared_ptr<mqremoting::Connection>& connection,
                                         RemotingCommand request) {
  auto answer = [&](int32_t code, std::string remark) {
    if (request.is_oneway()) return;
    connection->Send(RemotingCommand::ResponseTo(request, code, std::move(remark)));
  };
  if (request.code == request_code::kNotifyConsumerIdsChanged) {
    RebalanceNow();
    answer(response_code::kSuccess, "");
    return;
  }
  if (request.code == request_code::kResetConsumerClientOffset) {
    mqremoting::ExtFieldReader fields(request);
    std::string topic = fields.String("topic");
    const std::string group = fields.String("group");
    Result<mqremoting::QueueOffsets> offsets =
        mqremoting::ParseResetOffsetBody(request.BodyBytes());
    if (!fields.status().ok() || !offsets.ok()) {
      answer(response_code::kSystemError,
             (fields.status().ok() ? offsets.status() : fields.status()).ToString());
      return;
    }
    // Another group's reset (clients of several groups may share a connection elsewhere) is
    // none of this member's business; the broker already committed the offsets.
    if (group == options_.group && running_.load(std::memory_order_acquire)) {
      // On the scheduler, where rebalances run: a reset never races with one.
      scheduler_->Submit([this, topic = std::move(topic), offsets = std::move(offsets).value()] {
        ResetOffsets(topic, offsets);
      });
    }
    answer(response_code::kSuccess, "");
    return;
  }
  answer(response_code::kRequestCodeNotSupported,
         "request code " + std::to_string(request.code) + " is not supported by this client");
}

Status PushConsumer::Impl::Subscribe(const std::string& topic, const std::string& expression) {
  if (remoting_) return Status::FailedPrecondition("subscribe before Start");
  return AddSubscription(&subscriptions_, topic, expression);
}

Status PushConsumer::Impl::Start() {
  if (remoting_) return Status::FailedPrecondition("the consumer is already started");
  std::vector<std::string> addresses = SplitAddressList(options_.namesrv_addr);
  if (addresses.empty()) return Status::InvalidArgument("no name server address given");
  if (options_.group.empty()) return Status::InvalidArgument("the consumer group is empty");
  if (!listener_ && !orderly_listener_) {
    return Status::InvalidArgument("no message listener registered");
  }
  if (listener_ && orderly_listener_) {
    return Status::InvalidArgument("register a concurrent or an orderly listener, not both");
  }
  if (subscriptions_.empty()) return Status::InvalidArgument("no topic subscribed");
  if (options_.consume_threads < 1 || options_.consume_batch_max_size < 1 ||
      options_.pull_batch_size < 1) {
    return Status::InvalidArgument(
        "consume_threads, consume_batch_max_size and pull_batch_size must be at least 1");
  }
  if (options_.consume_timestamp_ms == 0) {
    options_.consume_timestamp_ms = WallClockMs() - kDefaultConsumeTimestampAgoMs;
  }
  sub_version_ = WallClockMs();
  for (Subscription& subscription : subscriptions_) subscription.data.sub_version = sub_version_;
  if (broadcasting()) {
    const std::string path = options_.local_offset_path.empty()
                                 ? DefaultLocalOffsetPath(options_.group)
                                 : options_.local_offset_path;
    MQ_ASSIGN_OR_RETURN(local_offsets_,
                        LocalOffsetTable::Open(mqstore::Env::Default(), path, options_.group));
  } else {
    // Clustering members also consume their group's retry topic, everything in it.
    Subscription retry;
    retry.data.topic = mqstore::RetryTopic(options_.group);
    retry.data.sub_version = sub_version_;
    subscriptions_.push_back(std::move(retry));
  }

  mqremoting::ClientOptions transport;
  transport.shared_threads = options_.transport_threads;
  transport.connect_timeout = options_.call_timeout;
  remoting_ =
      mqremoting::RemotingClient::Create(transport, std::make_shared<BrokerRequestHandler>(this));
  name_server_ = std::make_unique<NameServerClient>(std::move(addresses), remoting_.get(),
                                                    options_.call_timeout);
  calls_ = std::make_unique<ConsumerGroupCalls>(remoting_.get(), name_server_.get(), options_.group,
                                                options_.call_timeout);
  scheduler_ = std::make_unique<TaskExecutor>(1);
  consumers_ = std::make_unique<TaskExecutor>(options_.consume_threads);
  running_.store(true, std::memory_order_release);

  // Routes first (to know the brokers), then the heartbeat, which makes the broker create
  // the retry topic, whose route the second refresh finds. A topic nobody created yet is
  // fine (the route refresh finds it later, as in Java); no name server answering is not.
  Status routes = RefreshRoutes();
  if (!routes.ok() && !routes.IsNotFound()) {
    Shutdown();
    return routes;
  }
  (void)SendHeartbeat();
  (void)RefreshRoutes();
  std::promise<void> first_rebalance;
  scheduler_->Submit([this, &first_rebalance] {
    Rebalance();
    first_rebalance.set_value();
  });
  first_rebalance.get_future().wait();

  SchedulePeriodic(scheduler_.get(), options_.rebalance_interval, [this] { Rebalance(); });
  SchedulePeriodic(scheduler_.get(), options_.heartbeat_interval,
                   [this] { (void)SendHeartbeat(); });
  SchedulePeriodic(scheduler_.get(), options_.persist_offset_interval,
                   [this] { PersistOffsets(/*oneway=*/true); });
  if (needs_locks()) {
    SchedulePeriodic(scheduler_.get(), options_.lock_interval, [this] { LockAll(); });
  }
  if (!orderly() && options_.consume_timeout > Millis(0)) {
    // Java checks every consume_timeout (15 min); bounded here so that a stuck message is
    // found soon after its time is up, not up to twice as late.
    Millis check = options_.consume_timeout;
    if (options_.consume_timeout_check_interval > Millis(0)) {
      check = std::min(check, options_.consume_timeout_check_interval);
    }
    SchedulePeriodic(scheduler_.get(), check, [this] { ExpireStuckMessages(); });
  }
  SchedulePeriodic(scheduler_.get(), options_.route_refresh_interval, [this] {
    int appeared = 0;
    (void)RefreshRoutes(&appeared);
    // A topic created after Start: join the group on its brokers and take a share now.
    if (appeared > 0) {
      (void)SendHeartbeat();
      (void)RefreshRoutes();
      Rebalance();
    }
  });
  return Status::OK();
}

void PushConsumer::Impl::Shutdown() {
  if (!remoting_ || !running_.exchange(false, std::memory_order_acq_rel)) return;
  // No more rebalances or delayed pulls; then no new listener calls, and the running ones
  // finish and record their offsets.
  scheduler_->Stop();
  consumers_->Stop();
  std::vector<MessageQueue> queues;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [queue, pq] : process_queues_) {
      pq->set_dropped();
      queues.push_back(queue);
    }
  }
  if (broadcasting()) {
    PersistLocalOffsets();
  } else {
    for (const MessageQueue& queue : queues) PersistOffset(queue, /*oneway=*/false);
  }
  if (needs_locks()) {
    // Committed first: the next owner locks only after this and starts where we stopped.
    std::map<std::string, std::vector<MessageQueue>> by_broker;
    for (const MessageQueue& queue : queues) by_broker[queue.broker_name].push_back(queue);
    for (const auto& [broker, held] : by_broker) UnlockQueues(broker, held);
  }
  // Best effort: a broker that misses it drops the client after its channel timeout.
  calls_->Unregister(calls_->MasterAddresses(SubscribedTopics(subscriptions_)), client_id_);
  // Aborts the pulls the brokers still hold; their callbacks see running_ false.
  remoting_->Shutdown();
  std::lock_guard<std::mutex> lock(mu_);
  process_queues_.clear();
}

void PushConsumer::Impl::RebalanceNow() {
  if (!running_.load(std::memory_order_acquire)) return;
  scheduler_->Submit([this] { Rebalance(); });
}

PushConsumerStats PushConsumer::Impl::Stats() const {
  PushConsumerStats stats;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [queue, pq] : process_queues_) {
    if (pq->dropped()) continue;
    stats.assigned_queues.push_back(queue);
    stats.messages_held += pq->count();
  }
  stats.rebalances = rebalances_;
  return stats;
}

// ---- Routes, heartbeats, membership ----

Status PushConsumer::Impl::RefreshRoutes(int* appeared) {
  // An unknown topic (or a retry topic before the first heartbeat) keeps what was known.
  std::map<std::string, std::vector<MessageQueue>> fresh;
  Status status = FetchTopicQueues(name_server_.get(), SubscribedTopics(subscriptions_), &fresh);
  std::lock_guard<std::mutex> lock(mu_);
  const int added = MergeTopicQueues(std::move(fresh), &topic_queues_);
  if (appeared != nullptr) *appeared += added;
  return status;
}

Status PushConsumer::Impl::SendHeartbeat() {
  return calls_->SendHeartbeat(client_id_, mqremoting::kConsumePassively,
                               broadcasting() ? mqremoting::kBroadcasting : mqremoting::kClustering,
                               options_.consume_from_where, subscriptions_);
}

// ---- Rebalance ----

void PushConsumer::Impl::Rebalance() {
  if (!running_.load(std::memory_order_acquire)) return;
  for (const Subscription& subscription : subscriptions_) RebalanceTopic(subscription.data.topic);
}

void PushConsumer::Impl::RebalanceTopic(const std::string& topic) {
  std::vector<MessageQueue> all_queues;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = topic_queues_.find(topic);
    if (it == topic_queues_.end()) return;  // no route yet
    all_queues = it->second;
  }
  std::vector<MessageQueue> mine;
  if (broadcasting()) {
    mine = all_queues;  // every member reads every queue
  } else {
    Result<std::vector<std::string>> ids = calls_->FetchConsumerIds(topic);
    // Without the member list this member keeps what it has (Java does the same).
    if (!ids.ok() || ids->empty()) return;
    mine = AllocateForMember(*options_.allocate_strategy, options_.group, client_id_,
                             std::move(all_queues), std::move(ids).value());
  }

  // Queues that went to another member: stop, and commit what was consumed.
  std::vector<std::pair<MessageQueue, std::shared_ptr<ProcessQueue>>> released;
  std::vector<MessageQueue> to_add;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = process_queues_.begin(); it != process_queues_.end();) {
      if (it->first.topic == topic && !std::binary_search(mine.begin(), mine.end(), it->first)) {
        it->second->set_dropped();
        released.emplace_back(it->first, it->second);
        it = process_queues_.erase(it);
      } else {
        ++it;
      }
    }
    for (const MessageQueue& queue : mine) {
      auto it = process_queues_.find(queue);
      if (it == process_queues_.end()) {
        to_add.push_back(queue);
      } else if (it->second->dropped()) {
        // Given away earlier but kept while a listener ran on it (orderly): it may be
        // replaced once that listener is done, never while it runs.
        std::unique_lock<std::mutex> turn(it->second->consume_mutex(), std::try_to_lock);
        if (turn.owns_lock()) to_add.push_back(queue);
      }
    }
  }
  size_t changes = 0;
  for (const auto& [queue, pq] : released) {
    if (needs_locks()) {
      // Hand the queue over only once no listener runs on it: dropped is set, so none starts.
      std::unique_lock<std::mutex> turn(pq->consume_mutex(), std::defer_lock);
      // Polled with try_lock rather than a timed lock (which ThreadSanitizer cannot follow).
      const auto give_up_at = std::chrono::steady_clock::now() + kHandOverWait;
      while (!turn.try_lock() && std::chrono::steady_clock::now() < give_up_at) {
        std::this_thread::sleep_for(Millis(5));
      }
      if (!turn.owns_lock()) {
        // A listener still runs: keep the (dropped) queue and its lock; the next rebalance
        // tries again.
        std::lock_guard<std::mutex> lock(mu_);
        process_queues_.emplace(queue, pq);
        continue;
      }
      PersistOffset(queue, /*oneway=*/false);
      UnlockQueues(queue.broker_name, {queue});
    } else {
      PersistOffset(queue, /*oneway=*/false);
    }
    ++changes;
    std::lock_guard<std::mutex> lock(mu_);
    offsets_.erase(queue);
  }
  std::vector<PullTask> pulls;
  for (const MessageQueue& queue : to_add) {
    auto pq = std::make_shared<ProcessQueue>();
    // Orderly clustering: only a queue this member holds the broker lock of. One still held
    // by its previous owner is tried again at the next rebalance.
    if (needs_locks()) {
      if (LockQueues(queue.broker_name, {queue}).empty()) continue;
      pq->set_locked(true);
    }
    Result<int64_t> offset = ComputePullOffset(queue);
    if (!offset.ok()) {
      if (needs_locks()) UnlockQueues(queue.broker_name, {queue});
      continue;  // tried again at the next rebalance
    }
    PullTask task{queue, std::move(pq), *offset};
    {
      std::lock_guard<std::mutex> lock(mu_);
      process_queues_[queue] = task.process_queue;
      offsets_[queue] = *offset;
    }
    pulls.push_back(std::move(task));
  }
  if (changes > 0 || !pulls.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++rebalances_;
  }
  for (PullTask& task : pulls) Pull(std::move(task));
}

Result<int64_t> PushConsumer::Impl::ComputePullOffset(const MessageQueue& queue) {
  return calls_->StartOffset(queue, options_.consume_from_where, options_.consume_timestamp_ms,
                             local_offsets_.get());
}

// ---- Pull loop ----

void PushConsumer::Impl::PullLater(PullTask task, Millis delay) {
  if (!running_.load(std::memory_order_acquire)) return;
  scheduler_->SubmitAfter(delay,
                          [this, task = std::move(task)]() mutable { Pull(std::move(task)); });
}

void PushConsumer::Impl::Pull(PullTask task) {
  if (!running_.load(std::memory_order_acquire) || task.process_queue->dropped()) return;
  const ProcessQueue& pq = *task.process_queue;
  // Orderly clustering: no pulling for a queue whose lock was lost.
  if (needs_locks() && !pq.LockedWithin(options_.lock_max_age)) {
    PullLater(std::move(task), options_.pull_delay_on_error);
    return;
  }
  // Flow control: let the listeners catch up before pulling more. The span does not apply to
  // orderly consumption, which never leaves a gap.
  if (pq.count() > static_cast<size_t>(options_.pull_threshold_for_queue) ||
      pq.bytes() > options_.pull_threshold_size_for_queue ||
      (!orderly() && pq.span() > options_.consume_concurrently_max_span)) {
    PullLater(std::move(task), options_.pull_delay_on_flow_control);
    return;
  }
  const Subscription* subscription = FindSubscription(task.queue.topic);
  Result<std::string> address = calls_->MasterOf(task.queue.topic, task.queue.broker_name);
  if (subscription == nullptr || !address.ok()) {
    PullLater(std::move(task), options_.pull_delay_on_error);
    return;
  }
  int64_t commit_offset = 0;
  if (!broadcasting()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = offsets_.find(task.queue);
    if (it != offsets_.end()) commit_offset = it->second;
  }
  PullRequestFields fields;
  fields.group = options_.group;
  fields.queue = task.queue;
  fields.offset = task.next_offset;
  fields.max_messages = options_.pull_batch_size;
  fields.subscription = subscription->data.sub_string;
  fields.sub_version = subscription->data.sub_version;
  fields.suspend = options_.broker_suspend_max;
  fields.commit_offset = commit_offset;
  const Millis timeout = options_.broker_suspend_max + options_.long_poll_timeout_margin;
  remoting_->InvokeAsync(*address, MakePullRequest(fields), timeout,
                         [this, task = std::move(task)](Result<RemotingCommand> response) mutable {
                           OnPulled(std::move(task), std::move(response));
                         });
}

void PushConsumer::Impl::OnPulled(PullTask task, Result<RemotingCommand> response) {
  if (!running_.load(std::memory_order_acquire) || task.process_queue->dropped()) return;
  if (!response.ok()) {
    name_server_->Invalidate(task.queue.topic);
    PullLater(std::move(task), options_.pull_delay_on_error);
    return;
  }
  Result<PullResult> pulled = ReadPullResponse(*response, task.queue, task.next_offset);
  if (!pulled.ok()) {
    PullLater(std::move(task), options_.pull_delay_on_error);
    return;
  }
  if (pulled->status == PullStatus::kOffsetIllegal) {
    // The offset is outside the queue: restart from where the broker says, through a fresh
    // process queue made by a later rebalance.
    const int64_t next = pulled->next_begin_offset;
    task.process_queue->set_dropped();
    scheduler_->SubmitAfter(kOffsetIllegalRecreateDelay,
                            [this, queue = task.queue, pq = task.process_queue, next] {
                              UpdateOffset(queue, next, /*increase_only=*/false);
                              PersistOffset(queue, /*oneway=*/false);
                              std::lock_guard<std::mutex> lock(mu_);
                              auto it = process_queues_.find(queue);
                              if (it != process_queues_.end() && it->second == pq) {
                                process_queues_.erase(it);
                              }
                            });
    return;
  }
  task.next_offset = pulled->next_begin_offset;
  const Subscription* subscription = FindSubscription(task.queue.topic);
  std::vector<ReceivedMessage> messages;
  messages.reserve(pulled->messages.size());
  for (ReceivedMessage& message : pulled->messages) {
    // The broker filters by tag hash; the exact tag is checked here, as Java clients do.
    if (subscription != nullptr && !subscription->filter.MatchesTag(message.tags)) continue;
    // A redelivery through the retry topic shows the topic it was first sent to.
    auto retry_topic = message.properties.find(std::string(mqstore::property::kRetryTopic));
    if (retry_topic != message.properties.end()) message.topic = retry_topic->second;
    messages.push_back(std::move(message));
  }
  if (!messages.empty() && orderly()) {
    task.process_queue->PutMessages(std::move(messages));
    SubmitOrderly(task.queue, task.process_queue);
  } else if (!messages.empty()) {
    std::vector<ProcessQueue::Entry> entries;
    entries.reserve(messages.size());
    for (const ReceivedMessage& message : messages) {
      entries.push_back({message.queue_offset, message.body.size()});
    }
    task.process_queue->Put(entries);
    SubmitConsume(task.queue, task.process_queue, std::move(messages));
  } else if (task.process_queue->count() == 0) {
    // Nothing held: what the broker skipped (no new messages, other tags) counts as consumed.
    UpdateOffset(task.queue, task.next_offset, /*increase_only=*/true, task.process_queue.get());
  }
  Pull(std::move(task));
}

// ---- Consumption ----

void PushConsumer::Impl::SubmitConsume(const MessageQueue& queue,
                                       const std::shared_ptr<ProcessQueue>& pq,
                                       std::vector<ReceivedMessage> messages) {
  const size_t batch = static_cast<size_t>(options_.consume_batch_max_size);
  for (size_t begin = 0; begin < messages.size(); begin += batch) {
    const size_t end = std::min(messages.size(), begin + batch);
    std::vector<ReceivedMessage> part(std::make_move_iterator(messages.begin() + begin),
                                      std::make_move_iterator(messages.begin() + end));
    consumers_->Submit([this, queue, pq, part = std::move(part)]() mutable {
      Consume(queue, pq, std::move(part));
    });
  }
}

void PushConsumer::Impl::Consume(const MessageQueue& queue, const std::shared_ptr<ProcessQueue>& pq,
                                 std::vector<ReceivedMessage> messages) {
  if (pq->dropped()) return;
  pq->BeginConsume(messages, ProcessQueue::Clock::now());
  ConsumeStatus status;
  try {
    status = listener_(messages);
  } catch (const std::exception&) {
    status = ConsumeStatus::kReconsumeLater;
  } catch (...) {
    status = ConsumeStatus::kReconsumeLater;
  }
  // Messages the consume timeout took meanwhile were sent back and removed already: this
  // result is not theirs to act on.
  std::vector<int64_t> offsets;
  offsets.reserve(messages.size());
  for (const ReceivedMessage& message : messages) offsets.push_back(message.queue_offset);
  std::vector<int64_t> own = pq->EndConsume(offsets);
  // A queue rebalanced away meanwhile: its new owner consumes from the committed offset.
  if (pq->dropped()) return;
  std::sort(own.begin(), own.end());
  std::vector<int64_t> done;
  std::vector<ReceivedMessage> again;
  for (ReceivedMessage& message : messages) {
    if (!std::binary_search(own.begin(), own.end(), message.queue_offset)) continue;
    // Broadcasting has no retry topic: a failed message is dropped, as in Java.
    if (status == ConsumeStatus::kSuccess || broadcasting() || SendBack(queue, message)) {
      done.push_back(message.queue_offset);
    } else {
      // Not handed back to the broker: keep it (its offset stays uncommitted) and try locally.
      ++message.reconsume_times;
      again.push_back(std::move(message));
    }
  }
  const int64_t offset = pq->Remove(done);
  if (offset >= 0 && !pq->dropped()) UpdateOffset(queue, offset, /*increase_only=*/true, pq.get());
  if (!again.empty() && running_.load(std::memory_order_acquire)) {
    scheduler_->SubmitAfter(options_.consume_again_delay,
                            [this, queue, pq, again = std::move(again)]() mutable {
                              SubmitConsume(queue, pq, std::move(again));
                            });
  }
}

bool PushConsumer::Impl::SendBack(const MessageQueue& queue, const ReceivedMessage& message,
                                  int delay_level) {
  Result<std::string> address = calls_->MasterOf(queue.topic, queue.broker_name);
  if (!address.ok()) return false;
  RemotingCommand request = RemotingCommand::Request(request_code::kConsumerSendMsgBack);
  request.SetExt("offset", message.commit_log_offset);
  request.SetExt("group", options_.group);
  request.SetExt("delayLevel", delay_level);
  request.SetExt("originMsgId", message.unique_id.empty() ? message.msg_id : message.unique_id);
  request.SetExt("originTopic", message.topic);
  request.SetExt("unitMode", false);
  request.SetExt("maxReconsumeTimes", options_.max_reconsume_times < 0
                                          ? kDefaultMaxReconsumeTimes
                                          : options_.max_reconsume_times);
  Result<RemotingCommand> response =
      remoting_->InvokeSync(*address, std::move(request), options_.call_timeout);
  return response.ok() && response->code == response_code::kSuccess;
}

// ---- Consume timeout ----

void PushConsumer::Impl::ExpireStuckMessages() {
  std::vector<std::pair<MessageQueue, std::shared_ptr<ProcessQueue>>> held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [queue, pq] : process_queues_) {
      if (!pq->dropped()) held.emplace_back(queue, pq);
    }
  }
  const ProcessQueue::Clock::time_point now = ProcessQueue::Clock::now();
  for (const auto& [queue, pq] : held) {
    std::vector<ReceivedMessage> expired =
        pq->TakeExpired(now, options_.consume_timeout, kMaxExpiredPerCheck);
    std::vector<int64_t> done;
    for (const ReceivedMessage& message : expired) {
      // Broadcasting has no retry topic: the message is dropped, as a failed one is. One whose
      // send-back fails stays held (and taken) and is sent back at the next check.
      if (broadcasting() || SendBack(queue, message, kConsumeTimeoutDelayLevel)) {
        done.push_back(message.queue_offset);
        mqremoting::Log(mqremoting::LogLevel::kWarn,
                        "consumer group " + options_.group + ": message at offset " +
                            std::to_string(message.queue_offset) + " of " + queue.ToString() +
                            " still in its listener after the consume timeout; " +
                            (broadcasting() ? "dropped" : "sent back for retry"));
      }
    }
    if (done.empty()) continue;
    const int64_t offset = pq->Remove(done);
    if (offset >= 0 && !pq->dropped()) {
      UpdateOffset(queue, offset, /*increase_only=*/true, pq.get());
    }
  }
}

// ---- Offset reset ----

void PushConsumer::Impl::ResetOffsets(const std::string& topic,
                                      const mqremoting::QueueOffsets& offsets) {
  if (!running_.load(std::memory_order_acquire)) return;
  std::vector<PullTask> pulls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [mq, offset] : offsets) {
      if (mq.topic != topic) continue;
      const MessageQueue queue{mq.topic, mq.broker_name, mq.queue_id};
      auto it = process_queues_.find(queue);
      // Not held (or being handed over): its next owner starts from the offset the broker
      // committed.
      if (it == process_queues_.end() || it->second->dropped()) continue;
      // The old process queue stops: no more pulls, no new listener calls on what it holds,
      // and the ones running record no offset (replaced is checked under mu_, held here
      // while the new offset is recorded).
      const std::shared_ptr<ProcessQueue> old = it->second;
      old->set_replaced();
      old->set_dropped();
      auto fresh = std::make_shared<ProcessQueue>();
      fresh->TakeOver(*old);
      it->second = fresh;
      offsets_[queue] = offset;
      pulls.push_back({queue, std::move(fresh), offset});
    }
  }
  if (pulls.empty()) return;
  if (broadcasting()) {
    PersistLocalOffsets();
  } else {
    // The broker committed these already; committing them again keeps it so if a commit of
    // ours raced with the reset.
    for (const PullTask& task : pulls) PersistOffset(task.queue, /*oneway=*/false);
  }
  mqremoting::Log(mqremoting::LogLevel::kInfo,
                  "consumer group " + options_.group + ": offsets of topic " + topic + " reset; " +
                      std::to_string(pulls.size()) + " queue(s) held restart");
  for (PullTask& task : pulls) Pull(std::move(task));
}

// ---- Orderly consumption ----

void PushConsumer::Impl::SubmitOrderly(const MessageQueue& queue,
                                       const std::shared_ptr<ProcessQueue>& pq) {
  if (!pq->TryStartConsuming()) return;  // a task has the turn and will see the messages
  consumers_->Submit([this, queue, pq] { ConsumeOrderly(queue, pq); });
}

void PushConsumer::Impl::ConsumeOrderly(const MessageQueue& queue,
                                        const std::shared_ptr<ProcessQueue>& pq) {
  // The task keeps the queue's consume turn until it finds nothing waiting; while it waits
  // (no lock yet, suspended) it keeps the turn and comes back through the scheduler.
  auto again_after = [this, queue, pq](Millis delay) {
    scheduler_->SubmitAfter(delay, [this, queue, pq] {
      consumers_->Submit([this, queue, pq] { ConsumeOrderly(queue, pq); });
    });
  };
  const auto deadline = std::chrono::steady_clock::now() + kMaxConsumeContinuously;
  const size_t batch = static_cast<size_t>(options_.consume_batch_max_size);
  while (true) {
    if (pq->dropped() || !running_.load(std::memory_order_acquire)) return;
    if (needs_locks() && !pq->LockedWithin(options_.lock_max_age)) {
      // The renewal was refused or is overdue: ask for this queue's lock alone.
      if (LockQueues(queue.broker_name, {queue}).empty()) {
        again_after(kRelockRetry);
        return;
      }
      pq->set_locked(true);
      continue;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      consumers_->Submit([this, queue, pq] { ConsumeOrderly(queue, pq); });  // let others run
      return;
    }
    std::vector<ReceivedMessage> messages = pq->TakeMessages(batch);
    if (messages.empty()) {
      if (pq->FinishConsumingIfIdle()) return;
      continue;  // more arrived meanwhile
    }
    OrderlyConsumeStatus status = OrderlyConsumeStatus::kSuspendCurrentQueueAMoment;
    {
      std::lock_guard<std::mutex> turn(pq->consume_mutex());
      // Checked under the mutex: once a rebalance holds it with the queue dropped, no
      // listener call can start for the queue any more.
      if (pq->dropped()) return;
      try {
        status = orderly_listener_(messages);
      } catch (...) {
        status = OrderlyConsumeStatus::kSuspendCurrentQueueAMoment;
      }
      // Recorded before the mutex is released: a rebalance handing the queue over commits
      // the offset once it holds the mutex, so the next owner starts right after these.
      if (status == OrderlyConsumeStatus::kSuccess) {
        UpdateOffset(queue, pq->CommitTaken(), /*increase_only=*/false, pq.get());
      }
    }
    if (pq->dropped()) return;
    if (status == OrderlyConsumeStatus::kSuccess) continue;
    // Suspended. Past max_reconsume_times (if set) the messages go to the dead-letter
    // queue and the queue moves on; otherwise they come again after suspend_time.
    const int max = options_.max_reconsume_times;
    bool exhausted = max >= 0;
    for (const ReceivedMessage& message : messages) {
      if (message.reconsume_times < max) exhausted = false;
    }
    if (exhausted) {
      bool all_sent = !broadcasting();
      for (const ReceivedMessage& message : messages) {
        if (all_sent && !SendBack(queue, message, /*delay_level=*/-1)) all_sent = false;
      }
      // Broadcasting has no dead-letter queue: the messages are dropped, as in Java.
      if (all_sent || broadcasting()) {
        UpdateOffset(queue, pq->CommitTaken(), /*increase_only=*/false, pq.get());
        continue;
      }
    }
    pq->ReturnTaken();
    again_after(options_.suspend_time);
    return;
  }
}

std::string PushConsumer::Impl::LockBody(const std::vector<MessageQueue>& queues) const {
  mqremoting::LockBatchRequestBody body;  // UNLOCK_BATCH_MQ has the same shape
  body.consumer_group = options_.group;
  body.client_id = client_id_;
  body.only_this_broker = true;
  for (const MessageQueue& queue : queues) {
    body.mq_set.push_back({queue.topic, queue.broker_name, queue.queue_id});
  }
  return mqremoting::EncodeLockBatchRequestBody(body);
}

std::vector<MessageQueue> PushConsumer::Impl::LockQueues(const std::string& broker_name,
                                                         const std::vector<MessageQueue>& queues) {
  if (queues.empty()) return {};
  Result<std::string> address = calls_->MasterOf(queues.front().topic, broker_name);
  if (!address.ok()) return {};
  RemotingCommand request = RemotingCommand::Request(request_code::kLockBatchMq);
  request.body = LockBody(queues);
  Result<RemotingCommand> response =
      remoting_->InvokeSync(*address, std::move(request), options_.call_timeout);
  if (!response.ok() || response->code != response_code::kSuccess) return {};
  Result<std::vector<mqremoting::MessageQueue>> locked =
      mqremoting::ParseLockBatchResponseBody(response->BodyBytes());
  if (!locked.ok()) return {};
  std::vector<MessageQueue> granted;
  for (const mqremoting::MessageQueue& queue : *locked) {
    granted.push_back({queue.topic, queue.broker_name, queue.queue_id});
  }
  return granted;
}

void PushConsumer::Impl::UnlockQueues(const std::string& broker_name,
                                      const std::vector<MessageQueue>& queues) {
  if (queues.empty()) return;
  Result<std::string> address = calls_->MasterOf(queues.front().topic, broker_name);
  if (!address.ok()) return;  // the broker's lock expires by itself
  RemotingCommand request = RemotingCommand::Request(request_code::kUnlockBatchMq);
  request.body = LockBody(queues);
  (void)remoting_->InvokeSync(*address, std::move(request), options_.call_timeout);
}

void PushConsumer::Impl::LockAll() {
  std::map<std::string, std::vector<std::pair<MessageQueue, std::shared_ptr<ProcessQueue>>>>
      by_broker;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [queue, pq] : process_queues_) {
      if (!pq->dropped()) by_broker[queue.broker_name].emplace_back(queue, pq);
    }
  }
  for (const auto& [broker, held] : by_broker) {
    std::vector<MessageQueue> queues;
    for (const auto& entry : held) queues.push_back(entry.first);
    std::vector<MessageQueue> granted = LockQueues(broker, queues);
    std::sort(granted.begin(), granted.end());
    for (const auto& [queue, pq] : held) {
      pq->set_locked(std::binary_search(granted.begin(), granted.end(), queue));
    }
  }
}

// ---- Offsets ----

void PushConsumer::Impl::UpdateOffset(const MessageQueue& queue, int64_t offset, bool increase_only,
                                      const ProcessQueue* owner) {
  std::lock_guard<std::mutex> lock(mu_);
  // Read under mu_, under which ResetOffsets sets it and records the new offset.
  if (owner != nullptr && owner->replaced()) return;
  auto [it, inserted] = offsets_.emplace(queue, offset);
  if (!inserted && (!increase_only || offset > it->second)) it->second = offset;
}

void PushConsumer::Impl::PersistLocalOffsets() {
  OffsetTable offsets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    offsets = offsets_;
  }
  // A failed save is tried again at the next interval (offsets_ still holds every offset);
  // the last good file stays.
  (void)local_offsets_->Merge(offsets);
}

void PushConsumer::Impl::PersistOffsets(bool oneway) {
  if (broadcasting()) {
    PersistLocalOffsets();
    return;
  }
  std::vector<MessageQueue> queues;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [queue, pq] : process_queues_) {
      if (!pq->dropped()) queues.push_back(queue);
    }
  }
  for (const MessageQueue& queue : queues) PersistOffset(queue, oneway);
}

void PushConsumer::Impl::PersistOffset(const MessageQueue& queue, bool oneway) {
  if (broadcasting()) {
    PersistLocalOffsets();
    return;
  }
  int64_t offset;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = offsets_.find(queue);
    if (it == offsets_.end()) return;
    offset = it->second;
  }
  (void)calls_->CommitOffset(queue, offset, oneway);
}

// ---- PushConsumer ----

PushConsumer::PushConsumer(PushConsumerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

PushConsumer::~PushConsumer() = default;

Status PushConsumer::Subscribe(const std::string& topic, const std::string& expression) {
  return impl_->Subscribe(topic, expression);
}

void PushConsumer::RegisterListener(MessageListener listener) {
  impl_->RegisterListener(std::move(listener));
}

void PushConsumer::RegisterOrderlyListener(OrderlyMessageListener listener) {
  impl_->RegisterOrderlyListener(std::move(listener));
}

Status PushConsumer::Start() { return impl_->Start(); }
void PushConsumer::Shutdown() { impl_->Shutdown(); }
void PushConsumer::RebalanceNow() { impl_->RebalanceNow(); }
const std::string& PushConsumer::client_id() const { return impl_->client_id(); }
PushConsumerStats PushConsumer::Stats() const { return impl_->Stats(); }
void PushConsumer::HandleBrokerRequestForTesting(
    const std::shared_ptr<mqremoting::Connection>& connection,
    mqremoting::RemotingCommand request) {
  impl_->OnBrokerRequest(connection, std::move(request));
}

}  // namespace mqclient
