#include "mqclient/transaction_producer.h"

#include <exception>
#include <set>
#include <string>
#include <utility>

#include "mqstore/message.h"
#include "remoting/codes.h"
#include "remoting/transport.h"
#include "task_executor.h"

namespace mqclient {

using mqremoting::RemotingCommand;
namespace request_code = mqremoting::request_code;
namespace response_code = mqremoting::response_code;

namespace {

// The properties that make a send a half message (RocketMQ's MessageConst).
constexpr std::string_view kTransactionPreparedProperty = "TRAN_MSG";
constexpr std::string_view kProducerGroupProperty = "PGROUP";

// END_TRANSACTION's commitOrRollback values (MessageSysFlag).
int32_t CommitOrRollback(LocalTransactionState state) {
  switch (state) {
    case LocalTransactionState::kCommit:
      return mqstore::sysflag::kTransactionCommit;
    case LocalTransactionState::kRollback:
      return mqstore::sysflag::kTransactionRollback;
    case LocalTransactionState::kUnknown:
      break;
  }
  return 0;
}

}  // namespace

// Shared by the producer's request handler (transport threads) and the checker thread.
class TransactionProducer::Impl : public mqremoting::RequestHandler {
 public:
  Impl(std::string group, TransactionChecker checker)
      : group_(std::move(group)), checker_(std::move(checker)), checks_(1) {}

  // CHECK_TRANSACTION_STATE arrives oneway on a transport thread: the check runs on the
  // checker thread and its answer goes back oneway on the same connection.
  void OnRequest(const std::shared_ptr<mqremoting::Connection>& connection,
                 RemotingCommand request) override {
    if (request.code != request_code::kCheckTransactionState) {
      if (!request.is_oneway()) {
        connection->Send(RemotingCommand::ResponseTo(
            request, response_code::kRequestCodeNotSupported,
            "request code " + std::to_string(request.code) + " is not supported by a producer"));
      }
      return;
    }
    auto shared = std::make_shared<RemotingCommand>(std::move(request));
    checks_.Submit([this, connection, shared] { Check(connection, *shared); });
  }

  void Stop() { checks_.Stop(); }

  // END_TRANSACTION for the half message `half`; oneway (as Java's), so the send returns once
  // it is handed to the transport.
  static RemotingCommand EndRequest(const std::string& group, int64_t queue_offset,
                                    int64_t commit_log_offset, LocalTransactionState state,
                                    bool from_check, const std::string& unique_id,
                                    const std::string& transaction_id) {
    RemotingCommand request = RemotingCommand::Request(request_code::kEndTransaction);
    request.SetExt("producerGroup", group);
    request.SetExt("tranStateTableOffset", queue_offset);
    request.SetExt("commitLogOffset", commit_log_offset);
    request.SetExt("commitOrRollback", CommitOrRollback(state));
    request.SetExt("fromTransactionCheck", from_check);
    request.SetExt("msgId", unique_id);
    request.SetExt("transactionId", transaction_id);
    return request;
  }

 private:
  void Check(const std::shared_ptr<mqremoting::Connection>& connection,
             const RemotingCommand& request) {
    mqremoting::ExtFieldReader fields(request);
    const int64_t queue_offset = fields.Long("tranStateTableOffset");
    const int64_t commit_log_offset = fields.Long("commitLogOffset");
    const std::string unique_id = fields.OptString("msgId").value_or("");
    const std::string transaction_id = fields.OptString("transactionId").value_or(unique_id);
    if (!fields.status().ok()) return;  // nothing to answer with; the broker asks again
    Result<std::vector<ReceivedMessage>> halves = DecodeMessages(request.BodyBytes());
    if (!halves.ok() || halves->size() != 1) return;
    ReceivedMessage& half = halves->front();
    LocalTransactionState state;
    try {
      state = checker_(half);
    } catch (...) {
      state = LocalTransactionState::kUnknown;
    }
    if (state == LocalTransactionState::kUnknown) return;  // asked again at the next check
    connection->SendOneway(EndRequest(group_, queue_offset, commit_log_offset, state,
                                      /*from_check=*/true, unique_id, transaction_id));
  }

  const std::string group_;
  const TransactionChecker checker_;
  TaskExecutor checks_;
};

TransactionProducer::TransactionProducer(ProducerOptions options, TransactionChecker checker)
    : impl_(std::make_shared<Impl>(options.group, std::move(checker))) {
  producer_ = std::make_unique<Producer>(std::move(options));
  producer_->SetRequestHandler(impl_);
}

TransactionProducer::~TransactionProducer() { Shutdown(); }

Status TransactionProducer::Start() { return producer_->Start(); }

void TransactionProducer::Shutdown() {
  producer_->Shutdown();  // no check requests after this
  impl_->Stop();
}

Result<TransactionSendResult> TransactionProducer::SendMessageInTransaction(
    const Message& message, const LocalTransaction& local_transaction) {
  if (!local_transaction) return Status::InvalidArgument("no local transaction given");
  if (message.delay_level > 0) {
    return Status::InvalidArgument("a transactional message cannot have a delay level");
  }
  std::string properties;
  mqstore::AppendProperty(kTransactionPreparedProperty, "true", &properties);
  mqstore::AppendProperty(kProducerGroupProperty, producer_->options_.group, &properties);
  MQ_ASSIGN_OR_RETURN(SendResult half, producer_->SendHalf(message, properties));
  // The broker asks a producer of the group about unresolved halves over a connection that
  // sent a heartbeat: make sure this broker has had one, before anything can be left
  // unresolved (once per broker; the periodic heartbeat keeps it registered).
  (void)producer_->SendHeartbeatToNewBrokers();

  TransactionSendResult result;
  result.half = half;
  if (half.status != SendStatus::kSendOk) {
    // Not safely stored (e.g. FLUSH_DISK_TIMEOUT): Java rolls back without running it.
    result.local_state = LocalTransactionState::kRollback;
  } else {
    try {
      result.local_state = local_transaction(message, half);
    } catch (...) {
      result.local_state = LocalTransactionState::kUnknown;
    }
  }
  std::optional<std::pair<mqstore::SocketAddress, int64_t>> offset =
      mqstore::DecodeOffsetMessageId(half.msg_id);
  Result<std::string> address = Status::NotFound("");
  if (offset) {
    // The broker that stored the half: the master of its queue's broker.
    Result<std::shared_ptr<const mqremoting::TopicRouteData>> route =
        producer_->name_server()->GetSharedRoute(message.topic);
    if (route.ok()) {
      std::string master = MasterAddress(**route, half.queue.broker_name);
      if (!master.empty()) address = master;
    }
  }
  if (offset && address.ok()) {
    (void)producer_->remoting_->InvokeOneway(
        *address,
        Impl::EndRequest(producer_->options_.group, half.queue_offset, offset->second,
                         result.local_state, /*from_check=*/false, half.unique_id, half.unique_id));
  }
  return result;
}

}  // namespace mqclient
