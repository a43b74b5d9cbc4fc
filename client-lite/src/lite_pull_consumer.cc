#include "mqclient/lite_pull_consumer.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "consumer_requests.h"
#include "local_offset_store.h"
#include "mqclient/name_server_client.h"
#include "mqstore/env.h"
#include "rebalance_util.h"
#include "remoting/codes.h"
#include "remoting/heartbeat_data.h"
#include "remoting/tag_filter.h"
#include "task_executor.h"

namespace mqclient {

using mqremoting::RemotingCommand;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;
using Millis = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

class LitePullConsumer::Impl {
 public:
  explicit Impl(LitePullConsumerOptions options) : options_(std::move(options)) {
    if (!options_.allocate_strategy) options_.allocate_strategy = AllocateAveragely();
    client_id_ = NewConsumerClientId("lite");
  }
  ~Impl() { Shutdown(); }

  Status Subscribe(const std::string& topic, const std::string& expression);
  Status Unsubscribe(const std::string& topic);
  Status Assign(std::vector<MessageQueue> queues);
  Status SetSubExpressionForAssign(const std::string& topic, const std::string& expression);
  Status Start();
  void Shutdown();
  Result<std::vector<ReceivedMessage>> Poll(Millis timeout);
  Status Seek(const MessageQueue& queue, int64_t offset);
  Status SeekToBegin(const MessageQueue& queue);
  Status SeekToEnd(const MessageQueue& queue);
  Result<int64_t> OffsetForTimestamp(const MessageQueue& queue, int64_t timestamp_ms);
  void Pause(const std::vector<MessageQueue>& queues);
  void Resume(const std::vector<MessageQueue>& queues);
  std::vector<MessageQueue> Assignment() const;
  Result<std::vector<MessageQueue>> FetchMessageQueues(const std::string& topic);
  Result<int64_t> Committed(const MessageQueue& queue);
  Status CommitSync();
  Status Commit(const MessageQueue& queue, int64_t offset);
  const std::string& client_id() const { return client_id_; }
  const LitePullConsumerOptions& options() const { return options_; }

  // Rebalances soon (NOTIFY_CONSUMER_IDS_CHANGED); subscribe mode only.
  void RebalanceNow();

 private:
  enum class Mode { kNone, kSubscribe, kAssign };
  enum class Phase { kCreated, kRunning, kStopped };

  using Subscription = ConsumerSubscription;
  // Subscriptions are never changed in place: a change makes a new list and swaps the
  // pointer, so a reader (a pull on a transport thread, say) keeps a consistent list for as
  // long as it holds its copy of the pointer.
  using SubscriptionList = std::shared_ptr<const std::vector<Subscription>>;

  // One queue held. Its generation changes whenever the queue is (re)added or seeked: pulls,
  // their answers and offset look-ups carry the generation they were made for, and whatever
  // arrives for an older one is dropped. Invariant (under mu_): every offset in
  // [consumed(), pull_offset) is either in `buffer` or was filtered out, and every message
  // below consumed() was handed out by Poll (or skipped by a seek).
  struct QueueState {
    uint64_t generation = 0;
    bool offset_ready = false;  // pull_offset known (committed offset, start point, seek)
    int64_t pull_offset = 0;    // the next offset to pull
    // A pull loop of this generation runs: a pull in flight or a pull step scheduled. False
    // while paused (the loop parks) or before the offset is known.
    bool pull_active = false;
    std::deque<ReceivedMessage> buffer;  // pulled, not polled; queue order
    uint64_t buffered_bytes = 0;         // bodies in `buffer`

    // The next offset to consume: what a commit records.
    int64_t consumed() const { return buffer.empty() ? pull_offset : buffer.front().queue_offset; }
  };
  using OffsetList = std::vector<std::pair<MessageQueue, int64_t>>;

  class BrokerRequestHandler;

  bool running() const { return phase_.load(std::memory_order_acquire) == Phase::kRunning; }
  bool broadcasting() const { return options_.message_model == MessageModel::kBroadcasting; }
  Status NotRunning() const;
  void ShutdownLocked();  // lifecycle_mu_ held
  // Runs `work` on the scheduler thread and waits for it. Rebalances, heartbeats and route
  // refreshes all run there, so a membership change made this way never interleaves with
  // one of them (which could take a topic's queues again from an older subscription list).
  void RunOnScheduler(const std::function<void()>& work);

  // Membership (subscribe mode).
  SubscriptionList Subscriptions() const {
    std::lock_guard<std::mutex> lock(subscriptions_mu_);
    return subscriptions_;
  }
  void SetSubscriptions(SubscriptionList subscriptions) {
    std::lock_guard<std::mutex> lock(subscriptions_mu_);
    subscriptions_ = std::move(subscriptions);
  }
  // The subscription of `topic` (assign mode: its SetSubExpressionForAssign filter), or
  // null. It shares ownership of the list it belongs to, so it stays valid whatever
  // Subscribe and Unsubscribe do meanwhile.
  std::shared_ptr<const Subscription> FindSubscription(const std::string& topic) const {
    SubscriptionList list = mode_.load() == Mode::kSubscribe ? Subscriptions() : assign_filters_;
    const Subscription* found = mqclient::FindSubscription(*list, topic);
    if (found == nullptr) return nullptr;
    return std::shared_ptr<const Subscription>(std::move(list), found);
  }
  Status RefreshRoutes(int* appeared = nullptr);
  Status SendHeartbeat();
  void Rebalance();  // scheduler thread
  // Subscribe and Unsubscribe after Start, on the scheduler thread: make `subscriptions` the
  // subscription list and act on the change of `topic`.
  void ApplySubscribe(const std::string& topic, SubscriptionList subscriptions);
  void ApplyUnsubscribe(const std::string& topic, SubscriptionList subscriptions);

  // Makes the queues held (of `topic`, or of every topic when null) exactly `wanted`
  // (sorted): queues left out are dropped (their consumed offsets committed with
  // auto_commit), new ones start at their group's offsets.
  void SetQueues(const std::string* topic, const std::vector<MessageQueue>& wanted);
  // Finds the queue's start offset and starts pulling it; retried later on failure.
  void InitQueue(const MessageQueue& queue, uint64_t generation);

  // The pull loop of one queue generation. PullStep checks pause and flow control and sends
  // one PULL_MESSAGE; its answer (OnPulled, on a transport thread) buffers what came and
  // runs the next step.
  void PullStep(const MessageQueue& queue, uint64_t generation);
  void PullLater(const MessageQueue& queue, uint64_t generation, Millis delay);
  void OnPulled(const MessageQueue& queue, uint64_t generation, int64_t offset,
                Result<RemotingCommand> response);

  // mu_ held.
  QueueState* FindLocked(const MessageQueue& queue, uint64_t generation);
  bool HasDeliverableLocked() const;
  void TakeLocked(std::vector<ReceivedMessage>* out);
  OffsetList ConsumedOffsetsLocked() const;
  void DropBufferLocked(QueueState* state);
  // Gives `state` a new generation that pulls from `offset` (which becomes its consumed
  // offset), its buffer dropped; true when the caller is to start its pull loop (PullStep,
  // after releasing mu_), false when the queue is paused (Resume starts it).
  bool RestartLocked(const MessageQueue& queue, QueueState* state, int64_t offset);

  // OK when running and `queue` is held; else kFailedPrecondition.
  Status CheckHeld(const MessageQueue& queue) const;
  // Seek without the range check.
  Status SeekTo(const MessageQueue& queue, int64_t offset);
  // Commits `offsets` (oneway: the automatic commits, which skip queues no longer held), to
  // the brokers or, in broadcasting, to the offset file.
  Status CommitOffsets(const OffsetList& offsets, bool oneway);
  // Where a queue just taken starts: its committed offset (the broker's, or the offset
  // file's in broadcasting), else per consume_from_where.
  Result<int64_t> StartOffset(const MessageQueue& queue);

  LitePullConsumerOptions options_;
  std::string client_id_;

  // Start, Shutdown, Subscribe, Unsubscribe and Assign one at a time.
  std::mutex lifecycle_mu_;
  std::atomic<Mode> mode_{Mode::kNone};
  // Subscribe mode: replaced (never changed in place) by Subscribe and Unsubscribe, under
  // lifecycle_mu_ and, after Start, on the scheduler thread; read through Subscriptions()
  // from any thread (pulls on transport threads, the scheduler, Shutdown).
  mutable std::mutex subscriptions_mu_;
  SubscriptionList subscriptions_ = std::make_shared<const std::vector<Subscription>>();
  std::vector<MessageQueue> assigned_;  // assign mode: what was asked for, sorted
  // Assign mode: the tag filters of SetSubExpressionForAssign; replaced under lifecycle_mu_
  // before Start only, so read without a lock from Start on. Kept apart from
  // subscriptions_, which make a member of the group (heartbeats, rebalance).
  SubscriptionList assign_filters_ = std::make_shared<const std::vector<Subscription>>();

  // Broadcasting: the offsets saved in the group's file (opened by Start). Poll's automatic
  // commits (on the scheduler) and CommitSync (on the application's thread) both save there.
  std::unique_ptr<LocalOffsetTable> local_offsets_;

  // Created by Start before phase_ becomes kRunning; never replaced.
  std::unique_ptr<TaskExecutor> scheduler_;  // rebalance, heartbeats, delayed pulls, commits
  std::unique_ptr<mqremoting::RemotingClient> remoting_;
  std::unique_ptr<NameServerClient> name_server_;
  std::unique_ptr<ConsumerGroupCalls> calls_;

  mutable std::mutex mu_;
  std::condition_variable cv_;                                     // Poll waits for messages
  std::atomic<Phase> phase_{Phase::kCreated};                      // changed under mu_
  std::map<MessageQueue, QueueState> queues_;                      // held; guarded by mu_
  std::set<MessageQueue> paused_;                                  // guarded by mu_
  std::map<std::string, std::vector<MessageQueue>> topic_queues_;  // routes; guarded by mu_
  uint64_t next_generation_ = 1;                                   // guarded by mu_
  size_t total_buffered_ = 0;                 // messages in all buffers; guarded by mu_
  std::optional<MessageQueue> poll_cursor_;   // last queue Poll took from; guarded by mu_
  SteadyClock::time_point next_auto_commit_;  // guarded by mu_
};

class LitePullConsumer::Impl::BrokerRequestHandler : public mqremoting::RequestHandler {
 public:
  explicit BrokerRequestHandler(Impl* impl) : impl_(impl) {}
  void OnRequest(const std::shared_ptr<mqremoting::Connection>& connection,
                 RemotingCommand request) override {
    if (request.code == request_code::kNotifyConsumerIdsChanged) {
      impl_->RebalanceNow();
      if (!request.is_oneway()) {
        connection->Send(RemotingCommand::ResponseTo(request, response_code::kSuccess));
      }
      return;
    }
    if (request.is_oneway()) return;
    connection->Send(RemotingCommand::ResponseTo(
        request, response_code::kRequestCodeNotSupported,
        "request code " + std::to_string(request.code) + " is not supported by this client"));
  }

 private:
  Impl* const impl_;  // outlives the transport: Shutdown stops it first
};

// ---- Lifecycle ----

Status LitePullConsumer::Impl::NotRunning() const {
  return phase_.load(std::memory_order_acquire) == Phase::kCreated
             ? Status::FailedPrecondition("the consumer is not started")
             : Status::FailedPrecondition("the consumer is shut down");
}

Status LitePullConsumer::Impl::Subscribe(const std::string& topic, const std::string& expression) {
  std::lock_guard<std::mutex> life(lifecycle_mu_);
  if (phase_.load() == Phase::kStopped) return NotRunning();
  if (mode_.load() == Mode::kAssign || !assign_filters_->empty()) {
    return Status::FailedPrecondition(
        "the consumer was given queues or their expressions for Assign: Subscribe and Assign "
        "cannot be mixed");
  }
  auto subscriptions = std::make_shared<std::vector<Subscription>>(*Subscriptions());
  MQ_RETURN_IF_ERROR(AddSubscription(subscriptions.get(), topic, expression));
  mode_.store(Mode::kSubscribe);
  if (!running()) {
    SetSubscriptions(std::move(subscriptions));  // Start versions them
    return Status::OK();
  }
  // A new version, so that the brokers take this expression over the one they have.
  subscriptions->back().data.sub_version = WallClockMs();
  RunOnScheduler([&] { ApplySubscribe(topic, std::move(subscriptions)); });
  return Status::OK();
}

Status LitePullConsumer::Impl::Unsubscribe(const std::string& topic) {
  std::lock_guard<std::mutex> life(lifecycle_mu_);
  if (phase_.load() == Phase::kStopped) return NotRunning();
  if (mode_.load() == Mode::kAssign || !assign_filters_->empty()) {
    return Status::FailedPrecondition(
        "the consumer was given queues or their expressions for Assign: it subscribes to "
        "nothing");
  }
  const SubscriptionList current = Subscriptions();
  if (mqclient::FindSubscription(*current, topic) == nullptr) {
    return Status::NotFound("topic " + topic + " is not subscribed");
  }
  auto rest = std::make_shared<std::vector<Subscription>>(*current);
  std::erase_if(*rest, [&](const Subscription& s) { return s.data.topic == topic; });
  // Stays in subscribe mode even with nothing left: Subscribe may come again, Assign not
  // (Java's subscription type does not go back either).
  if (!running()) {
    SetSubscriptions(std::move(rest));
    return Status::OK();
  }
  RunOnScheduler([&] { ApplyUnsubscribe(topic, std::move(rest)); });
  return Status::OK();
}

Status LitePullConsumer::Impl::Assign(std::vector<MessageQueue> queues) {
  std::lock_guard<std::mutex> life(lifecycle_mu_);
  if (mode_.load() == Mode::kSubscribe) {
    return Status::FailedPrecondition(
        "the consumer subscribed to topics: Subscribe and Assign cannot be mixed");
  }
  if (phase_.load() == Phase::kStopped) return NotRunning();
  if (queues.empty()) return Status::InvalidArgument("no queue to assign");
  for (const MessageQueue& queue : queues) {
    if (queue.topic.empty() || queue.broker_name.empty() || queue.queue_id < 0) {
      return Status::InvalidArgument("bad queue to assign: " + queue.ToString());
    }
  }
  std::sort(queues.begin(), queues.end());
  queues.erase(std::unique(queues.begin(), queues.end()), queues.end());
  mode_.store(Mode::kAssign);
  assigned_ = std::move(queues);
  if (running()) SetQueues(nullptr, assigned_);
  return Status::OK();
}

Status LitePullConsumer::Impl::SetSubExpressionForAssign(const std::string& topic,
                                                         const std::string& expression) {
  std::lock_guard<std::mutex> life(lifecycle_mu_);
  if (phase_.load() != Phase::kCreated) {
    return Status::FailedPrecondition("set the expression for assigned queues before Start");
  }
  if (mode_.load() == Mode::kSubscribe) {
    return Status::FailedPrecondition(
        "the consumer subscribed to topics: their expressions are given to Subscribe");
  }
  auto filters = std::make_shared<std::vector<Subscription>>(*assign_filters_);
  MQ_RETURN_IF_ERROR(AddSubscription(filters.get(), topic, expression));
  assign_filters_ = std::move(filters);
  return Status::OK();
}

Status LitePullConsumer::Impl::Start() {
  std::lock_guard<std::mutex> life(lifecycle_mu_);
  if (phase_.load() == Phase::kRunning) {
    return Status::FailedPrecondition("the consumer is already started");
  }
  if (phase_.load() == Phase::kStopped) {
    return Status::FailedPrecondition("the consumer was shut down (or failed to start)");
  }
  std::vector<std::string> addresses = SplitAddressList(options_.namesrv_addr);
  if (addresses.empty()) return Status::InvalidArgument("no name server address given");
  if (options_.group.empty()) return Status::InvalidArgument("the consumer group is empty");
  if (options_.pull_batch_size < 1 || options_.pull_threshold_for_queue < 1 ||
      options_.pull_threshold_for_all < 1 || options_.pull_threshold_size_for_queue < 1 ||
      options_.consume_max_span < 1) {
    return Status::InvalidArgument(
        "pull_batch_size, the pull thresholds and consume_max_span must be at least 1");
  }
  if (options_.auto_commit_interval.count() < 0 || options_.poll_timeout.count() < 0) {
    return Status::InvalidArgument("auto_commit_interval and poll_timeout cannot be negative");
  }
  if (broadcasting()) {
    // Before anything starts: a file that is not this group's is reported, not overwritten,
    // and the consumer may be started again once it is fixed.
    MQ_ASSIGN_OR_RETURN(local_offsets_,
                        LocalOffsetTable::Open(mqstore::Env::Default(),
                                               options_.local_offset_path.empty()
                                                   ? DefaultLocalOffsetPath(options_.group)
                                                   : options_.local_offset_path,
                                               options_.group));
  }
  if (options_.consume_timestamp_ms == 0) {
    options_.consume_timestamp_ms = WallClockMs() - kDefaultConsumeTimestampAgoMs;
  }
  const int64_t sub_version = WallClockMs();
  auto subscriptions = std::make_shared<std::vector<Subscription>>(*Subscriptions());
  for (Subscription& subscription : *subscriptions) subscription.data.sub_version = sub_version;
  SetSubscriptions(std::move(subscriptions));
  auto filters = std::make_shared<std::vector<Subscription>>(*assign_filters_);
  for (Subscription& filter : *filters) filter.data.sub_version = sub_version;
  assign_filters_ = std::move(filters);

  scheduler_ = std::make_unique<TaskExecutor>(1);
  mqremoting::ClientOptions transport;
  transport.shared_threads = options_.transport_threads;
  transport.connect_timeout = options_.call_timeout;
  remoting_ =
      mqremoting::RemotingClient::Create(transport, std::make_shared<BrokerRequestHandler>(this));
  name_server_ = std::make_unique<NameServerClient>(std::move(addresses), remoting_.get(),
                                                    options_.call_timeout);
  calls_ = std::make_unique<ConsumerGroupCalls>(remoting_.get(), name_server_.get(), options_.group,
                                                options_.call_timeout);
  {
    std::lock_guard<std::mutex> lock(mu_);
    next_auto_commit_ = SteadyClock::now() + options_.auto_commit_interval;
    phase_.store(Phase::kRunning, std::memory_order_release);
  }

  if (mode_.load() == Mode::kSubscribe) {
    // Routes first (to know the brokers), then the heartbeat, then the first rebalance. A
    // topic nobody created yet is fine (the route refresh finds it later, as in Java); no
    // name server answering is not.
    Status routes = RefreshRoutes();
    if (!routes.ok() && !routes.IsNotFound()) {
      ShutdownLocked();
      return routes;
    }
    (void)SendHeartbeat();
    RunOnScheduler([this] { Rebalance(); });
  }
  if (mode_.load() != Mode::kAssign) {
    // Also with nothing subscribed yet: Subscribe after Start relies on these. Each is a
    // no-op unless the consumer is in subscribe mode.
    SchedulePeriodic(scheduler_.get(), options_.rebalance_interval, [this] { Rebalance(); });
    SchedulePeriodic(scheduler_.get(), options_.heartbeat_interval,
                     [this] { (void)SendHeartbeat(); });
    SchedulePeriodic(scheduler_.get(), options_.route_refresh_interval, [this] {
      int appeared = 0;
      (void)RefreshRoutes(&appeared);
      // A topic created after Start: join the group on its brokers and take a share now.
      if (appeared > 0) {
        (void)SendHeartbeat();
        Rebalance();
      }
    });
  }
  if (mode_.load() == Mode::kSubscribe) return Status::OK();

  // Assign mode (or no queues yet): the routes of the assigned topics tell whether a name
  // server answers; a topic it does not know yet is retried by the pulls.
  std::set<std::string> topics;
  for (const MessageQueue& queue : assigned_) topics.insert(queue.topic);
  for (const std::string& topic : topics) {
    auto route = name_server_->GetSharedRoute(topic, /*refresh=*/true);
    if (!route.ok() && !route.status().IsNotFound()) {
      ShutdownLocked();
      return route.status();
    }
  }
  if (!assigned_.empty()) SetQueues(nullptr, assigned_);
  return Status::OK();
}

void LitePullConsumer::Impl::Shutdown() {
  std::lock_guard<std::mutex> life(lifecycle_mu_);
  ShutdownLocked();
}

void LitePullConsumer::Impl::RunOnScheduler(const std::function<void()>& work) {
  std::promise<void> done;
  // Refused only once stopped, which needs lifecycle_mu_, which the callers hold.
  if (!scheduler_->Submit([&] {
        work();
        done.set_value();
      })) {
    return;
  }
  done.get_future().wait();
}

void LitePullConsumer::Impl::ShutdownLocked() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (phase_.load() != Phase::kRunning) return;
    // Under mu_: a Poll either took its messages before (and they count as consumed below)
    // or sees the consumer stopped.
    phase_.store(Phase::kStopped, std::memory_order_release);
  }
  cv_.notify_all();
  // No more rebalances, delayed pulls or background commits; pull answers still arriving
  // see the phase and are dropped.
  scheduler_->Stop();
  if (options_.auto_commit) {
    OffsetList offsets;
    {
      std::lock_guard<std::mutex> lock(mu_);
      offsets = ConsumedOffsetsLocked();
    }
    (void)CommitOffsets(offsets, /*oneway=*/false);
  }
  // Committed first: the members that take over start where this one stopped.
  if (mode_.load() == Mode::kSubscribe) {
    calls_->Unregister(calls_->MasterAddresses(SubscribedTopics(*Subscriptions())), client_id_);
  }
  // Aborts the pulls the brokers still hold.
  remoting_->Shutdown();
  std::lock_guard<std::mutex> lock(mu_);
  queues_.clear();
  total_buffered_ = 0;
}

// ---- Poll ----

Result<std::vector<ReceivedMessage>> LitePullConsumer::Impl::Poll(Millis timeout) {
  if (timeout.count() < 0) return Status::InvalidArgument("the poll timeout is negative");
  std::vector<ReceivedMessage> messages;
  OffsetList to_commit;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!running()) return NotRunning();
    const auto now = SteadyClock::now();
    // Java's maybeAutoCommit: what earlier Polls returned, so the application had the
    // chance to process it (it came back for more).
    if (options_.auto_commit && now >= next_auto_commit_) {
      to_commit = ConsumedOffsetsLocked();
      next_auto_commit_ = now + options_.auto_commit_interval;
    }
    // Capped so that now + timeout cannot overflow (a year is "for ever" here).
    const Millis wait = std::min<Millis>(timeout, std::chrono::hours(24 * 365));
    cv_.wait_until(lock, now + wait, [&] { return !running() || HasDeliverableLocked(); });
    if (!running()) return NotRunning();
    TakeLocked(&messages);
  }
  if (!to_commit.empty()) {
    scheduler_->Submit(
        [this, to_commit = std::move(to_commit)] { (void)CommitOffsets(to_commit, true); });
  }
  return messages;
}

bool LitePullConsumer::Impl::HasDeliverableLocked() const {
  for (const auto& [queue, state] : queues_) {
    if (!state.buffer.empty() && paused_.count(queue) == 0) return true;
  }
  return false;
}

void LitePullConsumer::Impl::TakeLocked(std::vector<ReceivedMessage>* out) {
  const size_t max = static_cast<size_t>(options_.pull_batch_size);
  if (queues_.empty()) return;
  // Round robin over the queues, starting after the one served last, so that a queue with
  // much buffered cannot starve the others.
  auto it = poll_cursor_ ? queues_.upper_bound(*poll_cursor_) : queues_.begin();
  for (size_t visited = 0; visited < queues_.size() && out->size() < max; ++visited, ++it) {
    if (it == queues_.end()) it = queues_.begin();
    QueueState& state = it->second;
    if (state.buffer.empty() || paused_.count(it->first) != 0) continue;
    while (!state.buffer.empty() && out->size() < max) {
      state.buffered_bytes -= state.buffer.front().body.size();
      out->push_back(std::move(state.buffer.front()));
      state.buffer.pop_front();
      --total_buffered_;
    }
    poll_cursor_ = it->first;
  }
}

LitePullConsumer::Impl::OffsetList LitePullConsumer::Impl::ConsumedOffsetsLocked() const {
  OffsetList offsets;
  for (const auto& [queue, state] : queues_) {
    if (state.offset_ready) offsets.emplace_back(queue, state.consumed());
  }
  return offsets;
}

void LitePullConsumer::Impl::DropBufferLocked(QueueState* state) {
  total_buffered_ -= state->buffer.size();
  state->buffer.clear();
  state->buffered_bytes = 0;
}

// ---- Membership and rebalance (subscribe mode) ----

Status LitePullConsumer::Impl::RefreshRoutes(int* appeared) {
  std::map<std::string, std::vector<MessageQueue>> fresh;
  Status status = FetchTopicQueues(name_server_.get(), SubscribedTopics(*Subscriptions()), &fresh);
  std::lock_guard<std::mutex> lock(mu_);
  const int added = MergeTopicQueues(std::move(fresh), &topic_queues_);
  if (appeared != nullptr) *appeared += added;
  return status;
}

Status LitePullConsumer::Impl::SendHeartbeat() {
  if (mode_.load() != Mode::kSubscribe) return Status::OK();  // not a member of the group
  return calls_->SendHeartbeat(client_id_, mqremoting::kConsumeActively,
                               broadcasting() ? mqremoting::kBroadcasting : mqremoting::kClustering,
                               options_.consume_from_where, *Subscriptions());
}

void LitePullConsumer::Impl::RebalanceNow() {
  if (!running() || mode_.load() != Mode::kSubscribe) return;
  scheduler_->Submit([this] { Rebalance(); });
}

void LitePullConsumer::Impl::Rebalance() {
  if (!running() || mode_.load() != Mode::kSubscribe) return;
  std::map<std::string, std::vector<MessageQueue>> topic_queues;
  {
    std::lock_guard<std::mutex> lock(mu_);
    topic_queues = topic_queues_;
  }
  const SubscriptionList subscriptions = Subscriptions();
  for (const Subscription& subscription : *subscriptions) {
    const std::string& topic = subscription.data.topic;
    auto it = topic_queues.find(topic);
    if (it == topic_queues.end()) continue;  // no route yet
    if (broadcasting()) {
      SetQueues(&topic, it->second);  // every member reads every queue
      continue;
    }
    Result<std::vector<std::string>> ids = calls_->FetchConsumerIds(topic);
    // Without the member list this member keeps what it has (Java does the same).
    if (!ids.ok() || ids->empty()) continue;
    SetQueues(&topic, AllocateForMember(*options_.allocate_strategy, options_.group, client_id_,
                                        it->second, *ids));
  }
}

void LitePullConsumer::Impl::ApplySubscribe(const std::string& topic,
                                            SubscriptionList subscriptions) {
  const std::shared_ptr<const Subscription> before = FindSubscription(topic);
  const bool new_expression =
      before != nullptr &&
      before->data.sub_string != mqclient::FindSubscription(*subscriptions, topic)->data.sub_string;
  SetSubscriptions(std::move(subscriptions));
  // A new expression for a topic already held: what its queues buffered, and what their
  // pulls in flight bring, was filtered by the old one. Each restarts at its consumed
  // offset under a new generation (as a seek there), so the new expression applies to
  // everything not yet polled. A queue whose start offset is still being looked up pulls
  // with the new expression anyway.
  std::vector<std::pair<MessageQueue, uint64_t>> restart;
  if (new_expression) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [queue, state] : queues_) {
      if (queue.topic != topic || !state.offset_ready) continue;
      const int64_t consumed = state.consumed();
      if (RestartLocked(queue, &state, consumed)) restart.emplace_back(queue, state.generation);
    }
  }
  for (const auto& [queue, generation] : restart) PullStep(queue, generation);
  // A new topic: its route, then the heartbeat that makes the brokers list this member
  // for it, then its share of the queues, as Start does. Without a route yet, the periodic
  // route refresh takes it up when it appears.
  (void)RefreshRoutes();
  (void)SendHeartbeat();
  Rebalance();
}

void LitePullConsumer::Impl::ApplyUnsubscribe(const std::string& topic,
                                              SubscriptionList subscriptions) {
  // The queues first, while the topic is still subscribed: their pull loops end with their
  // generation (an answer still on its way finds it gone and is dropped), the buffers go,
  // and with auto_commit what Polls took of them is committed, as for a queue a rebalance
  // moves away. No rebalance or route refresh can run in between: they run on this thread.
  const std::vector<MessageQueue> none;
  SetQueues(&topic, none);
  {
    std::lock_guard<std::mutex> lock(mu_);
    topic_queues_.erase(topic);  // a later Subscribe finds it anew
  }
  SetSubscriptions(subscriptions);
  // At once rather than at the next interval: the brokers drop the topic from the group's
  // subscriptions (a heartbeat replaces them all).
  (void)SendHeartbeat();
  // A broker that serves none of the topics left gets no more heartbeats from this member:
  // leave the group there now, rather than when the broker expires the channel, so that
  // the members still reading the topic there rebalance without this one.
  std::set<std::string> left = calls_->MasterAddresses({topic});
  for (const std::string& address : calls_->MasterAddresses(SubscribedTopics(*subscriptions))) {
    left.erase(address);
  }
  calls_->Unregister(left, client_id_);
}

void LitePullConsumer::Impl::SetQueues(const std::string* topic,
                                       const std::vector<MessageQueue>& wanted) {
  OffsetList released;
  std::vector<std::pair<MessageQueue, uint64_t>> added;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running()) return;
    for (auto it = queues_.begin(); it != queues_.end();) {
      const bool ours = topic == nullptr || it->first.topic == *topic;
      if (ours && !std::binary_search(wanted.begin(), wanted.end(), it->first)) {
        if (it->second.offset_ready) released.emplace_back(it->first, it->second.consumed());
        DropBufferLocked(&it->second);
        it = queues_.erase(it);
      } else {
        ++it;
      }
    }
    for (const MessageQueue& queue : wanted) {
      auto [it, inserted] = queues_.try_emplace(queue);
      if (!inserted) continue;
      it->second.generation = next_generation_++;
      added.emplace_back(queue, it->second.generation);
    }
  }
  // Committed synchronously, so the next owner (which reads it when it takes the queue)
  // starts after what this member polled.
  if (options_.auto_commit) (void)CommitOffsets(released, /*oneway=*/false);
  for (const auto& [queue, generation] : added) InitQueue(queue, generation);
}

void LitePullConsumer::Impl::InitQueue(const MessageQueue& queue, uint64_t generation) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    QueueState* state = FindLocked(queue, generation);
    if (!running() || state == nullptr || state->offset_ready) return;
  }
  Result<int64_t> offset = StartOffset(queue);
  bool start = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    QueueState* state = FindLocked(queue, generation);
    // Dropped, or seeked meanwhile (a new generation with its own offset).
    if (!running() || state == nullptr || state->offset_ready) return;
    if (offset.ok()) {
      state->pull_offset = *offset;
      state->offset_ready = true;
      start = paused_.count(queue) == 0;
      state->pull_active = start;
    }
  }
  if (!offset.ok()) {
    scheduler_->SubmitAfter(options_.pull_delay_on_error,
                            [this, queue, generation] { InitQueue(queue, generation); });
    return;
  }
  if (start) PullStep(queue, generation);
}

// ---- Pull loop ----

LitePullConsumer::Impl::QueueState* LitePullConsumer::Impl::FindLocked(const MessageQueue& queue,
                                                                       uint64_t generation) {
  auto it = queues_.find(queue);
  if (it == queues_.end() || it->second.generation != generation) return nullptr;
  return &it->second;
}

void LitePullConsumer::Impl::PullLater(const MessageQueue& queue, uint64_t generation,
                                       Millis delay) {
  if (!running()) return;
  scheduler_->SubmitAfter(delay, [this, queue, generation] { PullStep(queue, generation); });
}

void LitePullConsumer::Impl::PullStep(const MessageQueue& queue, uint64_t generation) {
  int64_t offset = 0;
  bool flow_control = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    QueueState* state = FindLocked(queue, generation);
    if (!running() || state == nullptr) return;  // stopped, dropped or seeked: loop ends
    if (paused_.count(queue) != 0) {
      state->pull_active = false;  // Resume starts it again
      return;
    }
    const int64_t span = state->buffer.empty() ? 0
                                               : state->buffer.back().queue_offset -
                                                     state->buffer.front().queue_offset;
    flow_control = state->buffer.size() > static_cast<size_t>(options_.pull_threshold_for_queue) ||
                   state->buffered_bytes > options_.pull_threshold_size_for_queue ||
                   total_buffered_ > static_cast<size_t>(options_.pull_threshold_for_all) ||
                   span > options_.consume_max_span;
    offset = state->pull_offset;
  }
  if (flow_control) {
    // Checked again shortly: Poll takes messages out meanwhile.
    PullLater(queue, generation, options_.pull_delay_on_flow_control);
    return;
  }
  Result<std::string> address = calls_->MasterOf(queue.topic, queue.broker_name);
  if (!address.ok()) {
    PullLater(queue, generation, options_.pull_delay_on_error);
    return;
  }
  PullRequestFields fields;
  fields.group = options_.group;
  fields.queue = queue;
  fields.offset = offset;
  fields.max_messages = options_.pull_batch_size;
  if (std::shared_ptr<const Subscription> subscription = FindSubscription(queue.topic)) {
    fields.subscription = subscription->data.sub_string;
    fields.sub_version = subscription->data.sub_version;
  }
  fields.suspend = options_.broker_suspend_max;
  // No commit offset piggy-backed: commits follow Poll, not pulls (as Java's lite consumer).
  const Millis timeout = options_.broker_suspend_max + options_.long_poll_timeout_margin;
  remoting_->InvokeAsync(*address, MakePullRequest(fields), timeout,
                         [this, queue, generation, offset](Result<RemotingCommand> response) {
                           OnPulled(queue, generation, offset, std::move(response));
                         });
}

void LitePullConsumer::Impl::OnPulled(const MessageQueue& queue, uint64_t generation,
                                      int64_t offset, Result<RemotingCommand> response) {
  if (!running()) return;
  if (!response.ok()) {
    name_server_->Invalidate(queue.topic);
    PullLater(queue, generation, options_.pull_delay_on_error);
    return;
  }
  Result<PullResult> pulled = ReadPullResponse(*response, queue, offset);
  if (!pulled.ok()) {
    PullLater(queue, generation, options_.pull_delay_on_error);
    return;
  }
  std::vector<ReceivedMessage> messages;
  if (pulled->status == PullStatus::kFound) {
    const std::shared_ptr<const Subscription> subscription = FindSubscription(queue.topic);
    messages.reserve(pulled->messages.size());
    for (ReceivedMessage& message : pulled->messages) {
      // The broker filters by tag hash; the exact tag is checked here, as Java clients do.
      if (subscription != nullptr && !subscription->filter.MatchesTag(message.tags)) continue;
      if (message.queue_offset < offset) continue;  // never what lies before the pull
      messages.push_back(std::move(message));
    }
  }
  // OFFSET_ILLEGAL: go on from where the broker says (Java's lite consumer does the same).
  {
    std::lock_guard<std::mutex> lock(mu_);
    QueueState* state = FindLocked(queue, generation);
    // A seek, a rebalance or Shutdown came first: this answer belongs to no one.
    if (!running() || state == nullptr || state->pull_offset != offset) return;
    state->pull_offset = pulled->next_begin_offset;
    for (ReceivedMessage& message : messages) {
      state->buffered_bytes += message.body.size();
      state->buffer.push_back(std::move(message));
      ++total_buffered_;
    }
  }
  if (!messages.empty()) cv_.notify_all();
  PullStep(queue, generation);
}

// ---- Seek, pause, offsets ----

Status LitePullConsumer::Impl::CheckHeld(const MessageQueue& queue) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!running()) return NotRunning();
  if (queues_.count(queue) == 0) {
    return Status::FailedPrecondition("queue " + queue.ToString() +
                                      " is not assigned to this consumer");
  }
  return Status::OK();
}

Status LitePullConsumer::Impl::Seek(const MessageQueue& queue, int64_t offset) {
  MQ_RETURN_IF_ERROR(CheckHeld(queue));
  MQ_ASSIGN_OR_RETURN(int64_t min, calls_->QueryQueueOffset(queue, request_code::kGetMinOffset));
  MQ_ASSIGN_OR_RETURN(int64_t max, calls_->QueryQueueOffset(queue, request_code::kGetMaxOffset));
  if (offset < min || offset > max) {
    return Status::InvalidArgument("seek offset " + std::to_string(offset) + " is outside [" +
                                   std::to_string(min) + ", " + std::to_string(max) + "] of " +
                                   queue.ToString());
  }
  return SeekTo(queue, offset);
}

Status LitePullConsumer::Impl::SeekToBegin(const MessageQueue& queue) {
  MQ_RETURN_IF_ERROR(CheckHeld(queue));
  MQ_ASSIGN_OR_RETURN(int64_t min, calls_->QueryQueueOffset(queue, request_code::kGetMinOffset));
  return SeekTo(queue, min);
}

Status LitePullConsumer::Impl::SeekToEnd(const MessageQueue& queue) {
  MQ_RETURN_IF_ERROR(CheckHeld(queue));
  MQ_ASSIGN_OR_RETURN(int64_t max, calls_->QueryQueueOffset(queue, request_code::kGetMaxOffset));
  return SeekTo(queue, max);
}

Status LitePullConsumer::Impl::SeekTo(const MessageQueue& queue, int64_t offset) {
  uint64_t generation = 0;
  bool start = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running()) return NotRunning();
    auto it = queues_.find(queue);
    if (it == queues_.end()) {
      return Status::FailedPrecondition("queue " + queue.ToString() +
                                        " is not assigned to this consumer");
    }
    start = RestartLocked(queue, &it->second, offset);
    generation = it->second.generation;
  }
  if (start) PullStep(queue, generation);
  return Status::OK();
}

bool LitePullConsumer::Impl::RestartLocked(const MessageQueue& queue, QueueState* state,
                                           int64_t offset) {
  // A new generation: the pull in flight, a pending offset look-up and a pull step
  // scheduled for the old one all end without effect.
  state->generation = next_generation_++;
  DropBufferLocked(state);
  state->pull_offset = offset;
  state->offset_ready = true;
  state->pull_active = paused_.count(queue) == 0;
  return state->pull_active;
}

Result<int64_t> LitePullConsumer::Impl::OffsetForTimestamp(const MessageQueue& queue,
                                                           int64_t timestamp_ms) {
  if (!running()) return NotRunning();
  return calls_->QueryQueueOffset(queue, request_code::kSearchOffsetByTimestamp, timestamp_ms);
}

void LitePullConsumer::Impl::Pause(const std::vector<MessageQueue>& queues) {
  std::lock_guard<std::mutex> lock(mu_);
  // The pull loops park at their next step; Poll skips the buffers from now on.
  paused_.insert(queues.begin(), queues.end());
}

void LitePullConsumer::Impl::Resume(const std::vector<MessageQueue>& queues) {
  std::vector<std::pair<MessageQueue, uint64_t>> restart;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const MessageQueue& queue : queues) {
      paused_.erase(queue);
      auto it = queues_.find(queue);
      if (!running() || it == queues_.end()) continue;
      QueueState& state = it->second;
      if (state.offset_ready && !state.pull_active) {
        state.pull_active = true;
        restart.emplace_back(queue, state.generation);
      }
    }
  }
  cv_.notify_all();  // what they buffered is deliverable again
  for (const auto& [queue, generation] : restart) PullStep(queue, generation);
}

std::vector<MessageQueue> LitePullConsumer::Impl::Assignment() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<MessageQueue> queues;
  queues.reserve(queues_.size());
  for (const auto& entry : queues_) queues.push_back(entry.first);
  return queues;
}

Result<std::vector<MessageQueue>> LitePullConsumer::Impl::FetchMessageQueues(
    const std::string& topic) {
  if (!running()) return NotRunning();
  if (topic.empty()) return Status::InvalidArgument("the topic is empty");
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<const mqremoting::TopicRouteData> route,
                      name_server_->GetSharedRoute(topic, /*refresh=*/true));
  std::vector<MessageQueue> queues = ReadableQueues(*route, topic);
  std::sort(queues.begin(), queues.end());
  return queues;
}

Result<int64_t> LitePullConsumer::Impl::Committed(const MessageQueue& queue) {
  if (!running()) return NotRunning();
  if (!broadcasting()) return calls_->QueryCommittedOffset(queue);
  std::optional<int64_t> saved = local_offsets_->Find(queue);
  if (!saved) {
    return Status::NotFound("no offset of " + queue.ToString() + " in " + local_offsets_->path());
  }
  return *saved;
}

Result<int64_t> LitePullConsumer::Impl::StartOffset(const MessageQueue& queue) {
  return calls_->StartOffset(queue, options_.consume_from_where, options_.consume_timestamp_ms,
                             local_offsets_.get());
}

Status LitePullConsumer::Impl::CommitOffsets(const OffsetList& offsets, bool oneway) {
  OffsetList to_commit;
  if (oneway) {
    // Background commits (made for a Poll) skip a queue given away since: its new owner
    // commits it now (broadcasting: it was committed when it was dropped, maybe further).
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& entry : offsets) {
      if (queues_.count(entry.first) != 0) to_commit.push_back(entry);
    }
  } else {
    to_commit = offsets;
  }
  if (broadcasting()) return to_commit.empty() ? Status::OK() : local_offsets_->Merge(to_commit);
  Status first_error;
  for (const auto& [queue, offset] : to_commit) {
    Status status = calls_->CommitOffset(queue, offset, oneway);
    if (!status.ok() && first_error.ok()) first_error = status;
  }
  return first_error;
}

Status LitePullConsumer::Impl::CommitSync() {
  OffsetList offsets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running()) return NotRunning();
    offsets = ConsumedOffsetsLocked();
  }
  return CommitOffsets(offsets, /*oneway=*/false);
}

Status LitePullConsumer::Impl::Commit(const MessageQueue& queue, int64_t offset) {
  if (offset < 0) return Status::InvalidArgument("negative offset to commit");
  MQ_RETURN_IF_ERROR(CheckHeld(queue));
  return CommitOffsets({{queue, offset}}, /*oneway=*/false);
}

// ---- LitePullConsumer ----

LitePullConsumer::LitePullConsumer(LitePullConsumerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

LitePullConsumer::~LitePullConsumer() = default;

Status LitePullConsumer::Subscribe(const std::string& topic, const std::string& expression) {
  return impl_->Subscribe(topic, expression);
}
Status LitePullConsumer::Unsubscribe(const std::string& topic) { return impl_->Unsubscribe(topic); }
Status LitePullConsumer::Assign(std::vector<MessageQueue> queues) {
  return impl_->Assign(std::move(queues));
}
Status LitePullConsumer::SetSubExpressionForAssign(const std::string& topic,
                                                   const std::string& expression) {
  return impl_->SetSubExpressionForAssign(topic, expression);
}
Status LitePullConsumer::Start() { return impl_->Start(); }
void LitePullConsumer::Shutdown() { impl_->Shutdown(); }
Result<std::vector<ReceivedMessage>> LitePullConsumer::Poll(std::chrono::milliseconds timeout) {
  return impl_->Poll(timeout);
}
Result<std::vector<ReceivedMessage>> LitePullConsumer::Poll() {
  return impl_->Poll(impl_->options().poll_timeout);
}
Status LitePullConsumer::Seek(const MessageQueue& queue, int64_t offset) {
  return impl_->Seek(queue, offset);
}
Status LitePullConsumer::SeekToBegin(const MessageQueue& queue) {
  return impl_->SeekToBegin(queue);
}
Status LitePullConsumer::SeekToEnd(const MessageQueue& queue) { return impl_->SeekToEnd(queue); }
Result<int64_t> LitePullConsumer::OffsetForTimestamp(const MessageQueue& queue,
                                                     int64_t timestamp_ms) {
  return impl_->OffsetForTimestamp(queue, timestamp_ms);
}
void LitePullConsumer::Pause(const std::vector<MessageQueue>& queues) { impl_->Pause(queues); }
void LitePullConsumer::Resume(const std::vector<MessageQueue>& queues) { impl_->Resume(queues); }
std::vector<MessageQueue> LitePullConsumer::Assignment() const { return impl_->Assignment(); }
Result<std::vector<MessageQueue>> LitePullConsumer::FetchMessageQueues(const std::string& topic) {
  return impl_->FetchMessageQueues(topic);
}
Result<int64_t> LitePullConsumer::Committed(const MessageQueue& queue) {
  return impl_->Committed(queue);
}
Status LitePullConsumer::CommitSync() { return impl_->CommitSync(); }
Status LitePullConsumer::Commit(const MessageQueue& queue, int64_t offset) {
  return impl_->Commit(queue, offset);
}
const std::string& LitePullConsumer::client_id() const { return impl_->client_id(); }

}  // namespace mqclient
