#include "broker.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "admin_processor.h"
#include "bounded_executor.h"
#include "client_manage_processor.h"
#include "client_registry.h"
#include "consumer_admin_processor.h"
#include "consumer_offset_manager.h"
#include "mqstore/store.h"
#include "mqstore/thread_name.h"
#include "nameserver_registrar.h"
#include "offset_processor.h"
#include "pull_hold_service.h"
#include "pull_processor.h"
#include "pull_stats.h"
#include "queue_lock_manager.h"
#include "remoting/codes.h"
#include "remoting/transport.h"
#include "remoting/unique_message_id.h"
#include "send_processor.h"
#include "server_common/logger.h"
#include "topic_manager.h"
#include "transaction_processor.h"

namespace mqbroker {

using mqremoting::RemotingCommand;
using mqstore::Result;
using mqstore::Status;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;

namespace {

constexpr std::string_view kLogComponent = "broker";
constexpr std::chrono::milliseconds kOffsetPersistInterval{1000};
constexpr std::chrono::milliseconds kHousekeepingInterval{10000};

// Routes each request to its processor on the executor for its kind, as RocketMQ's broker
// does with one thread pool per processor. A full executor, or a task that waited in its
// queue longer than its route allows, is answered SYSTEM_BUSY at once: clients see
// back-pressure instead of a growing queue and time-outs.
//
// Sends are the exception: they run on the transport thread that read them, because a put
// never blocks on the disk (Store::PutAsync), and a hand-off to another thread per message
// cost more than the put itself (docs/design/0009-send-path.md). Their back-pressure is the
// connection's in-flight limit and SendProcessor's bound on sends waiting for the disk.
// Single sends are held back until the end of the read that brought them, or until another
// kind of request of that read needs serving, and then put together (ProcessEach), so that
// a read's worth of sends takes the log's locks once.
class RequestDispatcher : public mqremoting::RequestHandler {
 public:
  struct Route {
    Processor* processor = nullptr;
    BoundedExecutor* executor = nullptr;  // null: on the transport thread
    // > 0: a task that waited longer than this in the queue is refused with SYSTEM_BUSY.
    std::chrono::milliseconds max_queue_wait{0};
    // On the transport thread, held back to the end of the read (ProcessEach).
    bool held_to_read_end = false;
  };

  void SetRoute(int32_t code, Route route) { routes_[code] = route; }
  void SetClosedHook(std::function<void(uint64_t)> hook) { on_closed_ = std::move(hook); }
  // Until Open(), every request is answered SERVICE_NOT_AVAILABLE (the store is opening).
  void Open() { open_.store(true, std::memory_order_release); }
  void Close() { open_.store(false, std::memory_order_release); }

  void OnRequest(const std::shared_ptr<mqremoting::Connection>& connection,
                 RemotingCommand request) override {
    if (!open_.load(std::memory_order_acquire)) {
      ReplyError(connection, request, response_code::kServiceNotAvailable,
                 "the broker is starting or shutting down");
      return;
    }
    auto it = routes_.find(request.code);
    if (it == routes_.end()) {
      ReplyError(connection, request, response_code::kRequestCodeNotSupported,
                 " request type " + std::to_string(request.code) + " not supported");
      return;
    }
    const Route route = it->second;
    if (route.held_to_read_end && route.executor == nullptr) {
      if (held_.processor != route.processor || held_.connection != connection) {
        ServeHeld();
      }
      held_.processor = route.processor;
      held_.connection = connection;
      held_.requests.push_back(std::move(request));
      return;
    }
    ServeHeld();  // what came before this request is served before it
    if (route.executor == nullptr) {
      route.processor->Process(connection, std::move(request));
      return;
    }
    auto queued_at = std::chrono::steady_clock::now();
    auto shared_request = std::make_shared<RemotingCommand>(std::move(request));
    bool accepted = route.executor->TrySubmit([route, connection, shared_request, queued_at] {
      if (route.max_queue_wait.count() > 0 &&
          std::chrono::steady_clock::now() - queued_at > route.max_queue_wait) {
        ReplyError(connection, *shared_request, response_code::kSystemBusy,
                   "[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while");
        return;
      }
      route.processor->Process(connection, std::move(*shared_request));
    });
    if (!accepted) {
      ReplyError(connection, *shared_request, response_code::kSystemBusy,
                 "[REJECTREQUEST]system busy, start flow control for a while");
    }
  }

  void OnReadProcessed(const std::shared_ptr<mqremoting::Connection>& /*connection*/) override {
    ServeHeld();
  }

  void OnClosed(const std::shared_ptr<mqremoting::Connection>& connection) override {
    if (on_closed_) on_closed_(connection->id());
  }

 private:
  // Requests held back on this transport thread; the transport calls OnReadProcessed before
  // the thread serves anything else, so they belong to one read of one connection.
  struct Held {
    Processor* processor = nullptr;
    std::shared_ptr<mqremoting::Connection> connection;
    std::vector<RemotingCommand> requests;
  };

  void ServeHeld() {
    if (held_.requests.empty()) return;
    // Taken out first: a processor that throws leaves nothing behind for the next read.
    std::vector<RemotingCommand> requests;
    requests.swap(held_.requests);
    std::shared_ptr<mqremoting::Connection> connection = std::move(held_.connection);
    held_.connection.reset();
    try {
      held_.processor->ProcessEach(connection, requests);
    } catch (...) {
      // Some of them may never be answered: the client must not wait for them.
      connection->Close();
      throw;
    }
    // The room stays for the next read's sends (this runs once per read).
    requests.clear();
    held_.requests.swap(requests);
  }

  static thread_local Held held_;
  std::map<int32_t, Route> routes_;  // filled before Open(), read-only after
  std::function<void(uint64_t)> on_closed_;
  std::atomic<bool> open_{false};
};

thread_local RequestDispatcher::Held RequestDispatcher::held_;

std::array<uint8_t, 4> Ipv4Bytes(const mqstore::SocketAddress& address) {
  return {address.ip[0], address.ip[1], address.ip[2], address.ip[3]};
}

}  // namespace

struct Broker::Impl {
  BrokerConfig config;
  mqstore::Env* store_env = nullptr;  // null: the file system
  BrokerContext context;
  std::shared_ptr<RequestDispatcher> dispatcher = std::make_shared<RequestDispatcher>();
  std::unique_ptr<mqremoting::RemotingServer> server;
  std::unique_ptr<mqstore::Store> store;
  std::unique_ptr<TopicManager> topics;
  std::unique_ptr<ConsumerOffsetManager> offsets;
  ClientRegistry clients;
  QueueLockManager locks;
  PullStats pull_stats;
  std::unique_ptr<PullHoldService> holds;
  std::unique_ptr<mqremoting::UniqueMessageIdMinter> message_ids;
  std::unique_ptr<mqremoting::RemotingClient> namesrv_client;
  std::unique_ptr<NameServerRegistrar> registrar;

  std::unique_ptr<BoundedExecutor> send_executor;
  std::unique_ptr<BoundedExecutor> pull_executor;
  std::unique_ptr<BoundedExecutor> client_executor;
  std::unique_ptr<BoundedExecutor> admin_executor;

  std::unique_ptr<SendProcessor> send_processor;
  std::unique_ptr<PullProcessor> pull_processor;
  std::unique_ptr<ClientManageProcessor> client_processor;
  std::unique_ptr<OffsetProcessor> offset_processor;
  std::unique_ptr<AdminProcessor> admin_processor;
  std::unique_ptr<ConsumerAdminProcessor> consumer_admin_processor;
  std::unique_ptr<TransactionProcessor> transaction_processor;
  std::unique_ptr<TransactionChecker> transaction_checker;

  std::mutex housekeeping_mu;
  std::condition_variable housekeeping_wake;
  bool stopping = false;
  std::thread housekeeping;

  bool shut_down = false;
  Status close_status;

  Status Init();
  void Housekeeping();
  Status Stop(std::chrono::milliseconds drain);
};

Status Broker::Impl::Init() {
  mqserver::Logger& log = mqserver::DefaultLogger();
  MQ_RETURN_IF_ERROR(ValidateBrokerConfig(config));

  // Bind first: with listenPort 0 the store must know the real port for STOREHOST.
  mqremoting::ServerOptions server_options;
  server_options.bind_address = config.bindAddress;
  server_options.port = static_cast<uint16_t>(config.listenPort);
  MQ_ASSIGN_OR_RETURN(server, mqremoting::RemotingServer::Start(server_options, dispatcher));

  context.config = &config;
  context.identity.cluster_name = config.brokerClusterName;
  context.identity.broker_name = config.brokerName;
  context.identity.broker_id = config.brokerId;
  std::string ip = config.brokerIP1.empty() ? DefaultBrokerIp() : config.brokerIP1;
  context.identity.broker_addr = ip + ":" + std::to_string(server->port());
  std::optional<mqstore::SocketAddress> host =
      mqstore::SocketAddress::Parse(context.identity.broker_addr);
  if (!host) {
    return Status::InvalidArgument("brokerIP1 '" + ip + "' is not an IPv4 address");
  }
  context.identity.store_host = *host;

  mqstore::StoreOptions store_options = ToStoreOptions(config);
  store_options.store_host = *host;
  if (store_env != nullptr) store_options.env = store_env;
  // The send replies one sync completes go out together, a system call per connection,
  // written by the sync thread itself rather than handed to the I/O threads one by one.
  store_options.put_completion_group = [](const std::function<void()>& run_callbacks) {
    mqremoting::WriteBatch batch;
    run_callbacks();
  };
  MQ_ASSIGN_OR_RETURN(store, mqstore::Store::Open(store_options, config.storePathRootDir));
  context.store = store.get();
  log.Info(kLogComponent, "store opened",
           {{"dir", config.storePathRootDir},
            {"flushDiskType", FlushDiskTypeName(config.flushDiskType)},
            {"recoveredFromCrash", store->Stats().recovered_from_crash}});

  TopicManagerOptions topic_options;
  topic_options.cluster_name = config.brokerClusterName;
  topic_options.broker_name = config.brokerName;
  topic_options.auto_create_topic_enable = config.autoCreateTopicEnable;
  topic_options.default_topic_queue_nums = config.defaultTopicQueueNums;
  MQ_ASSIGN_OR_RETURN(topics, TopicManager::Open(store->metadata(), topic_options));
  context.topics = topics.get();
  offsets = std::make_unique<ConsumerOffsetManager>(store->metadata(), kOffsetPersistInterval);
  context.offsets = offsets.get();
  context.clients = &clients;
  context.locks = &locks;
  context.pull_stats = &pull_stats;
  message_ids = std::make_unique<mqremoting::UniqueMessageIdMinter>(Ipv4Bytes(*host));
  context.message_ids = message_ids.get();

  mqstore::Store* raw_store = store.get();
  holds = std::make_unique<PullHoldService>([raw_store](std::string_view topic, int32_t queue) {
    auto bounds = raw_store->GetQueueBounds(topic, queue);
    return bounds.ok() ? bounds->max_offset : int64_t{0};
  });
  context.holds = holds.get();
  PullHoldService* raw_holds = holds.get();
  store->SetArrivalListener([raw_holds](std::string_view topic, int32_t queue, int64_t next) {
    raw_holds->OnArrival(topic, queue, next);
  });

  namesrv_client = mqremoting::RemotingClient::Create({});
  registrar = std::make_unique<NameServerRegistrar>(
      namesrv_client.get(), NamesrvAddresses(config), context.identity,
      ip + ":" + std::to_string(HaListenPort(config)), topics.get(),
      std::chrono::milliseconds(config.registerNameServerPeriod));
  context.registrar = registrar.get();

  send_executor = std::make_unique<BoundedExecutor>("send", config.sendMessageThreadPoolNums,
                                                    config.sendThreadPoolQueueCapacity);
  pull_executor = std::make_unique<BoundedExecutor>("pull", config.pullMessageThreadPoolNums,
                                                    config.pullThreadPoolQueueCapacity);
  client_executor = std::make_unique<BoundedExecutor>("client", 2, 50000);
  admin_executor = std::make_unique<BoundedExecutor>("admin", 2, 10000);

  send_processor = std::make_unique<SendProcessor>(&context);
  PullSettings pull_settings;
  pull_settings.long_polling_enable = config.longPollingEnable;
  pull_settings.short_polling_time = std::chrono::milliseconds(config.shortPollingTimeMills);
  pull_settings.auto_create_subscription_group = config.autoCreateSubscriptionGroup;
  pull_processor = std::make_unique<PullProcessor>(&context, pull_settings, pull_executor.get());
  client_processor = std::make_unique<ClientManageProcessor>(&context);
  offset_processor = std::make_unique<OffsetProcessor>(&context);
  admin_processor = std::make_unique<AdminProcessor>(&context);
  consumer_admin_processor = std::make_unique<ConsumerAdminProcessor>(&context);
  transaction_processor = std::make_unique<TransactionProcessor>(&context);
  transaction_checker = std::make_unique<TransactionChecker>(
      &context, std::chrono::milliseconds(config.transactionCheckInterval));

  for (int32_t code : {request_code::kSendMessage, request_code::kSendMessageV2,
                       request_code::kSendBatchMessage}) {
    dispatcher->SetRoute(code, {send_processor.get(), nullptr, std::chrono::milliseconds(0),
                                /*held_to_read_end=*/code != request_code::kSendBatchMessage});
  }
  // A send-back reads the consumed record and waits for its copy's put: an executor's job.
  dispatcher->SetRoute(request_code::kConsumerSendMsgBack,
                       {send_processor.get(), send_executor.get(),
                        std::chrono::milliseconds(config.waitTimeMillsInSendQueue)});
  for (int32_t code : {request_code::kPullMessage, request_code::kLitePullMessage}) {
    dispatcher->SetRoute(code, {pull_processor.get(), pull_executor.get()});
  }
  for (int32_t code : {request_code::kHeartBeat, request_code::kUnregisterClient,
                       request_code::kGetConsumerListByGroup, request_code::kLockBatchMq,
                       request_code::kUnlockBatchMq}) {
    dispatcher->SetRoute(code, {client_processor.get(), client_executor.get()});
  }
  for (int32_t code : {request_code::kQueryConsumerOffset, request_code::kUpdateConsumerOffset,
                       request_code::kSearchOffsetByTimestamp, request_code::kGetMaxOffset,
                       request_code::kGetMinOffset, request_code::kGetEarliestMsgStoreTime}) {
    dispatcher->SetRoute(code, {offset_processor.get(), client_executor.get()});
  }
  for (int32_t code : {request_code::kUpdateAndCreateTopic, request_code::kDeleteTopicInBroker,
                       request_code::kGetAllTopicConfig, request_code::kGetBrokerRuntimeInfo,
                       request_code::kQueryMessage, request_code::kViewMessageById}) {
    dispatcher->SetRoute(code, {admin_processor.get(), admin_executor.get()});
  }
  for (int32_t code :
       {request_code::kUpdateAndCreateSubscriptionGroup,
        request_code::kGetAllSubscriptionGroupConfig, request_code::kDeleteSubscriptionGroup,
        request_code::kGetConsumerConnectionList, request_code::kGetConsumeStats,
        request_code::kQueryTopicConsumeByWho, request_code::kInvokeBrokerToResetOffset}) {
    dispatcher->SetRoute(code, {consumer_admin_processor.get(), admin_executor.get()});
  }
  dispatcher->SetRoute(request_code::kEndTransaction,
                       {transaction_processor.get(), send_executor.get()});
  BrokerContext* ctx = &context;
  dispatcher->SetClosedHook([ctx](uint64_t connection_id) {
    NotifyConsumerIdsChanged(*ctx, ctx->clients->OnConnectionClosed(connection_id));
  });
  dispatcher->Open();

  // Registered before Start returns, as RocketMQ's broker does: a client that finds the
  // broker up also finds its routes. A name server that is down is not fatal; the
  // registrar's thread keeps trying every period.
  if (Status registered = registrar->RegisterNow(); !registered.ok()) {
    log.Warn(kLogComponent, "first registration with the name servers failed; retrying",
             {{"status", registered}});
  }
  registrar->Start();
  transaction_checker->Start();
  housekeeping = std::thread([this] {
    mqstore::NameThisThread("mq-housekeep");
    Housekeeping();
  });
  log.Info(kLogComponent, "broker started",
           {{"broker", config.brokerName},
            {"cluster", config.brokerClusterName},
            {"addr", context.identity.broker_addr},
            {"namesrvAddr", config.namesrvAddr}});
  return Status::OK();
}

void Broker::Impl::Housekeeping() {
  std::unique_lock<std::mutex> lock(housekeeping_mu);
  while (!stopping) {
    housekeeping_wake.wait_for(lock, kHousekeepingInterval, [this] { return stopping; });
    if (stopping) break;
    lock.unlock();
    int64_t now = WallClockMs();
    ExpiryOutcome expired = clients.ExpireIdle(now);
    for (const auto& connection : expired.idle_connections) {
      mqserver::DefaultLogger().Info(kLogComponent, "closing idle client connection",
                                     {{"remote", connection->remote_address()}});
      connection->Close();
    }
    NotifyConsumerIdsChanged(context, expired.changed_consumer_groups);
    locks.RemoveExpired(now);
    lock.lock();
  }
}

Status Broker::Impl::Stop(std::chrono::milliseconds drain) {
  if (shut_down) return close_status;
  shut_down = true;
  mqserver::Logger& log = mqserver::DefaultLogger();
  log.Info(kLogComponent, "shutting down");
  if (server) server->StopAccepting();
  {
    std::lock_guard<std::mutex> lock(housekeeping_mu);
    stopping = true;
  }
  housekeeping_wake.notify_all();
  if (housekeeping.joinable()) housekeeping.join();
  if (transaction_checker) transaction_checker->Stop();
  // Held pulls answer now (on the pull executor), then in-flight requests drain.
  if (holds) holds->Stop();
  if (server && !server->AwaitIdle(drain)) {
    log.Warn(kLogComponent, "requests still in flight after the drain period",
             {{"drainMs", static_cast<int64_t>(drain.count())}});
  }
  if (dispatcher) dispatcher->Close();
  for (auto* executor :
       {send_executor.get(), pull_executor.get(), client_executor.get(), admin_executor.get()}) {
    if (executor) executor->Shutdown();
  }
  if (registrar) registrar->Stop();
  if (server) server->Stop();
  if (namesrv_client) namesrv_client->Shutdown();
  if (offsets) {
    Status persisted = offsets->Close();
    if (!persisted.ok())
      log.Error(kLogComponent, "persisting consumer offsets failed", {{"status", persisted}});
  }
  if (store) {
    store->SetArrivalListener(nullptr);
    close_status = store->Close();
    log.Info(kLogComponent, "store closed", {{"status", close_status}});
  }
  return close_status;
}

Broker::Broker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Broker::~Broker() { Shutdown().IgnoreError(); }

Result<std::unique_ptr<Broker>> Broker::Start(const BrokerConfig& config, mqstore::Env* store_env) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->store_env = store_env;
  Status started = impl->Init();
  if (!started.ok()) {
    impl->Stop(std::chrono::milliseconds(0)).IgnoreError();
    return started;
  }
  return std::unique_ptr<Broker>(new Broker(std::move(impl)));
}

uint16_t Broker::port() const { return impl_->server->port(); }
const BrokerIdentity& Broker::identity() const { return impl_->context.identity; }
mqstore::Store* Broker::store() const { return impl_->store.get(); }

Status Broker::Shutdown(std::chrono::milliseconds drain) { return impl_->Stop(drain); }

}  // namespace mqbroker
